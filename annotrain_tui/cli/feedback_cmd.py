"""`annotrain feedback` (being built)."""

from __future__ import annotations

import argparse

from annotrain_tui.cli.common import add_command
from annotrain_tui.core.errors import UsageError


def _todo(args: argparse.Namespace) -> int:
    raise UsageError("not built yet")


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "feedback", "write a feedback pack per annotator (self-contained HTML and Markdown)", _todo)
