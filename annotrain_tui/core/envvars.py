"""The ANNOTRAIN_* environment variables: one reader, one check.

Every variable annotrain reads is declared here with its range. :func:`check_all` runs at the start
of every command (CLI and TUI), so a bad value is one usage line before anything is created on a
server — never a job started and then lost because a later read of ``ANNOTRAIN_LOCK_TIMEOUT``
failed, never ``internal error: ValueError`` from a ``float()`` deep in a backend.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from annotrain_tui.core.errors import UsageError
from annotrain_tui.core.text import shown

__all__ = ["VARIABLES", "check_all", "number", "integer"]


@dataclass(frozen=True)
class _Number:
    name: str
    default: float
    low: float
    high: float
    what: str
    whole: bool = False


VARIABLES: dict[str, _Number] = {v.name: v for v in (
    _Number("ANNOTRAIN_LOCK_TIMEOUT", 600.0, 0.0, 86_400.0, "seconds a run waits for another one's lock"),
    _Number("ANNOTRAIN_SANDBOX_FAULTS", 0.0, 0.0, 0.99, "probability of an injected fault per call"),
    _Number("ANNOTRAIN_SANDBOX_LATENCY_MS", 0.0, 0.0, 60_000.0, "milliseconds added to every call"),
    _Number("ANNOTRAIN_SANDBOX_JOB_SECONDS", 1.0, 0.0, 86_400.0, "seconds a registration job stays pending"),
    _Number("ANNOTRAIN_SANDBOX_SEED", 0.0, 0.0, 2.0**63 - 1, "seed of the injected faults", whole=True),
)}


def _read(name: str) -> float | None:
    spec = VARIABLES[name]
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    shown_text = shown(text, limit=40)
    bounds = f"{spec.low:g} to {spec.high:g}"
    try:
        value = float(int(text)) if spec.whole else float(text)
    except (ValueError, OverflowError):
        kind = "a whole number" if spec.whole else "a number"
        raise UsageError(f"{name}={shown_text} is not {kind} ({spec.what}: {bounds})",
                         hint=f"fix or unset {name}") from None
    if not math.isfinite(value) or not spec.low <= value <= spec.high:
        raise UsageError(f"{name}={shown_text} is out of range ({spec.what}: {bounds})",
                         hint=f"fix or unset {name}")
    return value


def number(name: str) -> float:
    """The variable's value, or its default when unset (UsageError, exit 2, when it is bad)."""
    value = _read(name)
    return VARIABLES[name].default if value is None else value


def integer(name: str) -> int | None:
    """A whole-number variable, or None when unset."""
    value = _read(name)
    return None if value is None else int(value)


def check_all() -> None:
    """Every declared variable that is set, checked at once (the first bad one is reported)."""
    for name in VARIABLES:
        _read(name)
