"""Command line front: argument → core service → text or ``--json``.

Exit codes: 0 ok, 1 domain failure, 2 usage or unreadable input. Errors are one line on stderr.
Each command group lives in its own module exposing ``register(subparsers)``; handlers take the
parsed ``args`` and return an exit code (or raise a core ``AnnotrainError``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from annotrain_tui import __version__
from annotrain_tui.core.errors import AnnotrainError

# Command-group modules, in the order their commands appear in --help.
COMMAND_MODULES = (
    "annotrain_tui.cli.workspace",
    "annotrain_tui.cli.sandbox_cmd",
    "annotrain_tui.cli.config_cmd",
    "annotrain_tui.cli.manifest_cmd",
    "annotrain_tui.cli.register_cmd",
    "annotrain_tui.cli.provision_cmd",
    "annotrain_tui.cli.evaluate_cmd",
    "annotrain_tui.cli.tui_cmd",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        sys.stderr.write(f"annotrain: usage error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="annotrain",
        description="Run an annotator-training programme on Encord. Without a command, opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"annotrain {__version__}")
    add_backend_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a group not written yet
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command (also accepted after the subcommand)."""
    group = parser.add_argument_group("workspace")
    group.add_argument("--backend", choices=["sandbox", "encord"], default=argparse.SUPPRESS,
                       help="backend to use (default: from config, else sandbox)")
    group.add_argument("--sandbox", metavar="PATH", default=argparse.SUPPRESS,
                       help="sandbox workspace file (default: in the user data dir)")
    group.add_argument("--ssh-key", metavar="PATH", default=argparse.SUPPRESS,
                       help="Encord SSH private key file (stored as a path only)")
    group.add_argument("--domain", metavar="URL", default=argparse.SUPPRESS,
                       help="Encord API domain (US or private clouds)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "func", None)
    if handler is None:
        if getattr(args, "command", None):
            parser.parse_args([args.command, "--help"])
        from annotrain_tui.cli import tui_cmd

        handler = tui_cmd.run_default
    try:
        return int(handler(args) or 0)
    except AnnotrainError as err:
        sys.stderr.write(f"annotrain: error: {err}\n")
        return err.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("annotrain: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
