"""The embedded sandbox: a SQLite model of an Encord workspace (the default backend)."""

from annotrain_tui.core.backends.sandbox.backend import SandboxBackend

__all__ = ["SandboxBackend"]
