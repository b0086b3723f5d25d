"""`annotrain history / watch` (being built)."""

from __future__ import annotations

import argparse

from annotrain_tui.cli.common import add_command
from annotrain_tui.core.errors import UsageError


def _todo(args: argparse.Namespace) -> int:
    raise UsageError("not built yet")


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "history", "every evaluation snapshot of a programme: the trend per annotator and round", _todo)
    add_command(sub, "watch", "print one line per programme event until interrupted (for on-call)", _todo)
