"""Screens, one module each. ``SCREENS`` maps the names used by ``annotrain tui --screen NAME``."""
