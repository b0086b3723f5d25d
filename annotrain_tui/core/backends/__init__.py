"""Backends: the sandbox (embedded SQLite workspace) and Encord (the real SDK), one protocol."""
