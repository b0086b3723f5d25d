"""`annotrain graduate / retake` (being built)."""

from __future__ import annotations

import argparse

from annotrain_tui.cli.common import add_command
from annotrain_tui.core.errors import UsageError


def _todo(args: argparse.Namespace) -> int:
    raise UsageError("not built yet")


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "graduate", "add the annotators decided 'graduate' to production projects (plan, then apply)", _todo)
    add_command(sub, "retake", "give the annotators decided 'retake' a new round (plan, then apply)", _todo)
