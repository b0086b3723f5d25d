"""Headless service layer. Nothing under this package may import Textual (tests enforce it)."""
