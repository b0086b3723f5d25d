"""`annotrain` (no command) and `annotrain tui [--screen NAME]`: open the terminal app."""

from __future__ import annotations

import argparse
import sys

from annotrain_tui.cli.common import add_command, path_arg
from annotrain_tui.cli.context import workspace_from_args

SCREENS = ["home", "pick", "folders", "manifest", "benchmark", "provision", "progress", "evaluation", "doctor",
           "programmes", "act", "audit", "history"]
#: Other names of a screen (``--screen folders``: the integration and folder picker).
SCREEN_ALIASES = {"folders": "pick"}
NO_TTY = ("annotrain: the TUI needs a terminal (stdin/stdout is not a TTY); use a command, "
          "see 'annotrain --help'")


def _has_terminal() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):  # closed or replaced streams
        return False


def _run(args: argparse.Namespace) -> int:
    if not _has_terminal():  # without one, the app would draw escape sequences into a pipe forever
        sys.stderr.write(NO_TTY + "\n")
        return 2
    from annotrain_tui.tui.app import AnnotrainApp

    # One rule for the default workspace (core.workspace.open_sandbox): a fresh one gets the demo.
    ws = workspace_from_args(args)
    options = {k: v for k, v in vars(args).items()
               if k in ("benchmark", "training", "benchmark_labels", "training_labels", "manifest", "roster") and v}
    screen = getattr(args, "screen", "home") or "home"
    app = AnnotrainApp(ws, start_screen=SCREEN_ALIASES.get(screen, screen), screen_options=options)
    try:
        app.run()
    finally:
        ws.close()
    fatal = getattr(app, "fatal_line", None)
    if fatal:  # an error no handler caught: its one line, now that the terminal is restored
        sys.stderr.write(fatal + "\n")
    return app.return_code or 0


def run_default(args: argparse.Namespace) -> int:
    """`annotrain` with no command: the TUI on the configured backend (first run: demo sandbox)."""
    return _run(args)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "tui", "open the terminal app (the default without a command)", _run)
    p.add_argument("--screen", choices=SCREENS, default="home", help="open directly on this screen")
    p.add_argument("--programme", "--benchmark", dest="benchmark", metavar="BENCHMARK",
                   help="the programme to open (its benchmark's id or title; default: the current one)")
    p.add_argument("--training", nargs="+", action="extend", help="training projects (evaluation)")
    p.add_argument("--benchmark-labels", type=path_arg, help="offline benchmark label rows (evaluation)")
    p.add_argument("--training-labels", nargs="+", action="extend", type=path_arg, help="offline training label rows (evaluation)")
    p.add_argument("--manifest", type=path_arg, help="manifest file to open (manifest editor)")
    p.add_argument("--roster", type=path_arg, help="roster file to open (provisioning)")
