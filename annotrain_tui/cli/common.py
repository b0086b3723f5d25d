"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from annotrain_tui.core.files import read_user_bytes
from annotrain_tui.core.text import json_text, shown


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
    # The untrusted-text policy for JSON: C1, bidi, format characters and lone surrogates as
    # \uXXXX escapes (the same strings to a reader, nothing raw for a terminal).
    text = json_text(json.dumps(document, ensure_ascii=False, indent=2, default=str))
    sys.stdout.write(text)
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
    # Untrusted text: the one policy (core/text.py); no escape sequence reaches the terminal.
    return shown(value)


def finite_float(text: str) -> float:
    """argparse type: a finite number (``nan``, ``inf`` and ``1e400`` are refused, exit 2), and one
    that reads as what was written (``1e-400``, not 0 but read as 0.0, is refused too)."""
    import math
    import re

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} is not a number") from None
    if not math.isfinite(value):
        if math.isinf(value) and re.search(r"[0-9]", text):
            raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} is too large to be a number (at most "
                                             f"{sys.float_info.max!r}".replace("e+", "e") + "): give a finite number")
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} is not a finite number")
    if value == 0.0 and re.search(r"[1-9]", re.split(r"[eE]", text, maxsplit=1)[0]):
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} is too small to be a number: it is not 0, "
                                         f"but it would be read as 0.0 (non-zero numbers go down to about "
                                         f"{5e-324!r}): give 0 or a larger value")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} must be greater than 0")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (no 4,300-digit literals: those are refused too)."""
    stripped = text.strip()
    if not stripped.isdigit() or len(stripped) > 9 or int(stripped) < 1:
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} is not a whole number >= 1")
    return int(stripped)


def path_arg(text: str) -> str:
    """argparse type for a file or directory the user names: an empty or blank name is a usage error
    (``--out ""`` would otherwise be taken as 'no output' and write nothing, silently)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the file name is empty (give a file name)")
    from annotrain_tui.core.secrets import looks_like_key_text

    if looks_like_key_text(text):  # never echoed: the message names no part of it
        raise argparse.ArgumentTypeError("this is the text of a key, not a file name: save the key to a file "
                                         "(chmod 600) and give the file's path")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("the file name contains a NUL character")
    return text


def add_force_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup, what: str = "output files") -> None:
    """``--force``: the one rule for every command that writes a file the user named."""
    parser.add_argument("--force", action="store_true", help=f"overwrite {what} that already exist")
