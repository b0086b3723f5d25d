"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from annotrain_tui.core.files import read_user_bytes


def add_command(sub: argparse._SubParsersAction, name: str, help: str, func, *, workspace: bool = True,
                **kwargs: Any) -> argparse.ArgumentParser:
    """Add a subcommand; ``workspace`` adds the --backend/--sandbox/... options after it too."""
    parser = sub.add_parser(name, help=help, description=help, **kwargs)
    if workspace:
        from annotrain_tui.cli import add_backend_options

        add_backend_options(parser)
    parser.set_defaults(func=func)
    return parser


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str))
    sys.stdout.write("\n")


def read_bytes(path: str | Path) -> bytes:
    """Read a user's file; every OS failure is one clear UnreadableInput (exit 2)."""
    return read_user_bytes(path)


def table(rows: list[list[str]], headers: list[str]) -> str:
    """A plain, aligned text table (no colour codes: the output may be piped)."""
    cells = [headers] + [[_one_line(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _one_line(value: Any) -> str:
    text = "" if value is None else str(value)
    # Untrusted text: no control characters (escape sequences) reach the terminal.
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
