"""`annotrain history` (every evaluation snapshot of a programme: the trend) and `annotrain watch`
(on-call: one line, or one JSON object, per programme event until interrupted).

``watch`` stops on Ctrl+C (SIGINT) and on SIGTERM, between two lines, never inside one: SIGINT
exits 130 (the CLI's code for Ctrl+C, cli/exit_codes.py), SIGTERM 0 (asked to stop, it stopped),
each after one line on stderr. A poll the backend fails is one warning on stderr and the watch goes
on; a workspace that went away (WorkspaceGone) ends it, exit 1.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from annotrain_tui.cli.common import add_command, add_json_flag, add_programme_option, emit_json, positive_float, table
from annotrain_tui.core.text import shown

_HISTORY = "every evaluation snapshot of a programme: the trend per annotator and round"
_WATCH = "print one line per programme event until interrupted (for on-call)"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "history", _HISTORY, run_history, epilog=(
        "A snapshot is kept each time the programme is evaluated. By default one row per annotator and "
        "round: how many evaluations, the F1 trend (one bar per evaluation, oldest first, its height the F1 "
        "from 0 to 1; ◆ where the benchmark was edited in between: scores of two golds are not compared), "
        "the first and last F1 and the status now. --all lists every evaluation instead, a '*' after the "
        "benchmark version marking a point scored against another version of the gold than the point before it."))
    add_programme_option(p)
    p.add_argument("--annotator", metavar="EMAIL", help="only this annotator's trend")
    p.add_argument("--all", action="store_true", help="every evaluation of each annotator, one row each")
    add_json_flag(p)

    w = add_command(sub, "watch", _WATCH, run_watch, epilog=(
        "Events: crossed (an annotator's status crossed the pass mark, either way), stalled (no work for "
        "--stalled-hours), benchmark-edited (the gold changed after training began), round-finished. "
        "Ctrl+C exits 130, SIGTERM 0; a workspace that went away exits 1."))
    add_programme_option(w)
    w.add_argument("--interval", type=positive_float, default=30.0, metavar="SECONDS",
                   help="seconds between two looks (default 30)")
    w.add_argument("--stalled-hours", type=positive_float, default=24.0, metavar="N",
                   help="a trainee with no work for this many hours has stalled (default 24)")
    w.add_argument("--json", action="store_true",
                   help="one JSON object per line per event on stdout (JSON lines); the banner goes to stderr")


# -- history ----------------------------------------------------------------------------------
def run_history(args: argparse.Namespace) -> int:
    from annotrain_tui.cli.common import programme_from_args
    from annotrain_tui.cli.context import workspace_from_args
    from annotrain_tui.core.history import CHANGED, history_json, snapshots

    ws = workspace_from_args(args)
    try:
        prog = programme_from_args(args, ws)
        if args.annotator:
            prog.trainee(args.annotator)  # not a trainee: one line saying so, as decide does (trial 16 #20)
        snaps = snapshots(prog.record)
    finally:
        ws.close()
    doc = history_json(snaps, annotator=args.annotator)
    if args.json:
        emit_json({"programme": {"benchmark_id": prog.id, "title": prog.title}, **doc})
        return 0
    print(f"Programme '{shown(prog.title, limit=100)}': {len(snaps)} evaluation snapshot(s)"
          + _span(snaps))
    rows = _history_rows(doc) if args.all else _trend_rows(doc)
    if not rows:
        who = f" of {shown(args.annotator, limit=120)}" if args.annotator else ""
        print(f"No evaluation{who} kept yet: each evaluation of the programme keeps one "
              "('annotrain evaluate' on the programme).")
        return 0
    if args.all:
        print(table(rows, ["ANNOTATOR", "ROUND", "WHEN", "F1", "STATUS", "BENCHMARK"]))
        if any(r[5].endswith("*") for r in rows):
            print("* scored against another version of the benchmark than the point before it: not comparable")
        return 0
    print(table(rows, ["ANNOTATOR", "ROUND", "EVALS", "TREND", "F1 FIRST → LAST", "STATUS NOW", "LAST EVALUATED"]))
    print(f"TREND: one bar per evaluation, oldest first (the last {_BARS_SHOWN} when there are more), its height "
          "the F1 from 0 to 1 (· no F1).")
    if any(CHANGED in r[3] for r in rows):
        print(f"{CHANGED} the benchmark was edited between two evaluations: the scores either side (and a first and "
              f"last F1 marked {CHANGED}) are against different golds, not compared.")
    print("Every evaluation: annotrain history --all (or --json).")
    return 0


#: the bars a summary row draws at most (the newest)
_BARS_SHOWN = 16


def _when(ts: Any) -> str:
    return ts[:16].replace("T", " ") if isinstance(ts, str) else ""


def _span(snaps: list[dict[str, Any]]) -> str:
    """", from 2026-12-01 18:39 to 18:52" (the date once when both are on the same day)."""
    times = sorted(t for s in snaps if isinstance(t := s.get("ts"), str) and t)
    if not times:
        return ""
    first, last = _when(times[0]), _when(times[-1])
    if first == last:
        return f", at {first}"
    return f", from {first} to {last[11:] if first[:10] == last[:10] else last}"


def _f1(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}"


def _trend_rows(doc: dict[str, Any]) -> list[list[str]]:
    """One row per annotator and round: the summary ``history_json`` gives each round."""
    from annotrain_tui.core.history import CHANGED, TrendPoint, trend_bars

    rows = []
    for a in doc["annotators"]:
        for r in a["rounds"]:
            s = r["summary"]
            points = [TrendPoint(p["ts"], p["f1"], p["status"], p["benchmark_version"]) for p in r["points"]]
            rows.append([a["annotator"], str(r["round"]), str(s["evaluations"]), trend_bars(points, limit=_BARS_SHOWN),
                         f"{_f1(s['f1_first'])} → {_f1(s['f1_last'])}" + (f" {CHANGED}" if s["version_changes"] else ""),
                         s["status_now"], _when(s["last_ts"])])
    return rows


def _history_rows(doc: dict[str, Any]) -> list[list[str]]:
    rows = []
    for a in doc["annotators"]:
        for r in a["rounds"]:
            for p in r["points"]:
                f1 = _f1(p["f1"])
                version = (p["benchmark_version"] or "?") + (" *" if p["version_changed"] else "")
                rows.append([a["annotator"], str(r["round"]), p["ts"][:19].replace("T", " "), f1, p["status"], version])
    return rows


# -- watch ------------------------------------------------------------------------------------
class _Stop(BaseException):
    """A stop signal arrived (raised by the handler outside a line being written)."""


class _Signals:
    """SIGINT and SIGTERM end the watch: raised at once while it polls or waits, held while a line
    is written (so no line is cut), restored on leaving."""

    def __init__(self) -> None:
        self.got: int | None = None
        self.holding = False
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:  # noqa: ARG002
        if self.got is None:
            self.got = signum
        if not self.holding:
            raise _Stop

    def __enter__(self) -> _Signals:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return self  # signals reach the main thread only: there, Ctrl+C is the caller's
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, previous in self._previous.items():
            signal.signal(sig, previous)

    def check(self) -> None:
        if self.got is not None:
            raise _Stop


def _write(lines: list[str], signals: _Signals) -> None:
    """Whole lines on stdout, flushed each: a stop signal meanwhile waits until they are out."""
    signals.holding = True
    try:
        for line in lines:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    finally:
        signals.holding = False
    signals.check()


def _warn(text: str) -> None:
    sys.stderr.write(f"annotrain: warning: {shown(' '.join(text.split()))}\n")
    sys.stderr.flush()


def run_watch(args: argparse.Namespace) -> int:
    import json
    import signal
    import threading

    from annotrain_tui.cli.common import error_line, programme_from_args
    from annotrain_tui.cli.context import workspace_from_args
    from annotrain_tui.cli.exit_codes import INTERRUPTED, OK
    from annotrain_tui.core.backends.base import WorkspaceGone
    from annotrain_tui.core.errors import AnnotrainError
    from annotrain_tui.core.evaluation.results import EvaluationSettings
    from annotrain_tui.core.text import json_text
    from annotrain_tui.core.watch import Watcher

    with _Signals() as signals:
        try:
            ws = workspace_from_args(args)
            try:
                prog = programme_from_args(args, ws)
                watcher = Watcher(ws.backend, prog, EvaluationSettings.from_config(ws.settings),
                                  stalled_hours=args.stalled_hours)  # with the record's exclusions
                still_there = getattr(getattr(ws.raw, "store", None), "check_still_there", None)
                _banner(prog, args, signals)
                pause = threading.Event()  # never set: the wait between two looks, cut short by a signal
                last_warning = None
                while True:
                    try:
                        if still_there is not None:
                            still_there()
                        events = watcher.poll()
                        last_warning = None
                    except WorkspaceGone:
                        raise
                    except (AnnotrainError, OSError) as err:  # a transient failure: said once, then watched on
                        text = error_line(err) if isinstance(err, AnnotrainError) else (
                            f"{err.strerror or type(err).__name__}")
                        if text != last_warning:
                            signals.holding = True
                            try:
                                _warn(f"this look failed, watching on: {text}")
                            finally:
                                signals.holding = False
                            signals.check()
                        last_warning = text
                        events = []
                    if args.json:
                        _write([json_text(json.dumps(e.to_json(), ensure_ascii=False)) for e in events], signals)
                    else:
                        _write([e.line() for e in events], signals)
                    pause.wait(args.interval)
            finally:
                ws.close()
        except _Stop:
            pass
    sig = signals.got
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:  # a second signal cannot cut the last line
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
    except (ValueError, OSError):  # not the main thread: no handler was set either
        previous = {}
    try:
        sys.stdout.flush()
        if sig == signal.SIGTERM:
            sys.stderr.write("annotrain: the watch stopped (terminated)\n")
            return OK
        sys.stderr.write("annotrain: interrupted: the watch stopped\n")
        return INTERRUPTED
    finally:
        sys.stderr.flush()
        for s, handler in previous.items():
            signal.signal(s, handler)


def _banner(prog: Any, args: argparse.Namespace, signals: _Signals) -> None:
    signals.holding = True
    try:
        sys.stderr.write(
            f"annotrain: watching the programme '{shown(prog.title, limit=100)}' ({len(prog.trainees)} trainee(s)): "
            f"a look every {args.interval:g} s, stalled after {args.stalled_hours:g} h; "
            f"events on stdout{' as JSON lines' if args.json else ''}; Ctrl+C stops\n")
        sys.stderr.flush()
    finally:
        signals.holding = False
    signals.check()
