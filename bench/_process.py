"""What the bench scripts that time whole processes share: the annotrain command of this venv and
an environment of its own (private XDG dirs, no ANNOTRAIN_* settings, bytecode caching on as an
installed package runs)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def annotrain_command() -> list[str]:
    script = Path(sys.executable).parent / "annotrain"
    return [str(script)] if script.exists() else [sys.executable, "-m", "annotrain_tui"]


def bench_env(root: Path) -> dict[str, str]:
    """A private config/state (nothing of the user's read), bytecode caching on (as installed)."""
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(root / var.lower())
    for var in [v for v in env if v.startswith("ANNOTRAIN_")]:
        del env[var]
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env
