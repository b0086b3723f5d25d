"""The programme's history (issue 16 item 6, TUI): every evaluation kept as a snapshot, per annotator
and round the F1 trend (a sparkline), the status over time, and where the benchmark's version
changed (scores of two golds are never compared). Read from ``core.history``."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker

from annotrain_tui.core.errors import AnnotrainError
from annotrain_tui.core.history import CHANGED, TrendPoint, remember, snapshots, trend
from annotrain_tui.core.history import status_path as statuses
from annotrain_tui.core.history import trend_bars as bars
from annotrain_tui.core.programme import Programme
from annotrain_tui.tui.screens.base import AppScreen, failure_line
from annotrain_tui.tui.screens.programmes import NO_PROGRAMME, no_programme
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.tables import SafeDataTable

COLUMNS = ("Annotator", "Round", "Evals", "Trend", "F1 first → last", "Status now", "Status changes")
# bars (one per evaluation, ◆ where the gold changed) and statuses are core's (core.history), as the CLI's


def f1_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


class HistoryScreen(AppScreen):
    TITLE = "History"
    PALETTE_PREFIX = "History"
    SCREEN_HELP = (
        "Every evaluation of the programme kept as a snapshot: one row per annotator and round with its F1 "
        "trend (one bar per evaluation, oldest first, its height the F1 from 0 to 1; ◆ where the benchmark was edited in between: scores of "
        "two versions of the gold are not compared), the first and last F1, the status now and how it changed. "
        "The highlighted row's evaluations (the last five) are listed under the table. s scores the programme now and "
        "keeps the snapshot; r reads the history again.")
    WIDGET_HELP = {
        "trend": "One row per annotator and round; the lines below list the highlighted row's evaluations "
                 "(time, F1, status, benchmark version). i shows the row whole.",
    }
    DEFAULT_CSS = """
    HistoryScreen #history-summary { height: auto; padding: 0 1; }
    HistoryScreen #trend { height: 1fr; }
    HistoryScreen #history-detail { height: auto; max-height: 7; padding: 0 1; }
    """
    BINDINGS = [
        Binding("s", "snapshot", "Snapshot now", id="history.snapshot"),
        Binding("r", "refresh", "Reload", id="history.refresh"),
        Binding("escape", "app.pop_screen", "Back", id="history.back"),
    ]

    class Loaded(Message):
        def __init__(self, prog: Programme | None, snaps: list[dict[str, Any]], problem: str = "") -> None:
            super().__init__()
            self.prog, self.snaps, self.problem = prog, snaps, problem
            self.trend = trend(snaps)  # built in the worker that posts it

    def __init__(self, benchmark: str | None = None) -> None:
        super().__init__()
        self.benchmark_ref = benchmark
        self.prog: Programme | None = None
        self.rows: list[tuple[str, int, list[TrendPoint]]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Reading the history…", style="dim"), id="history-summary")
        yield SafeDataTable(id="trend", cursor_type="row", zebra_stripes=True)
        yield Static(Text(""), id="history-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#trend", DataTable)
        for col in COLUMNS:
            table.add_column(col, key=col, width={"Round": 5, "Evals": 5}.get(col))
        table.focus()
        self.load()

    @work(thread=True, exit_on_error=False, exclusive=True, group="history-load")
    def load(self) -> None:
        try:
            prog = self.app.workspace.programme(self.benchmark_ref)
        except AnnotrainError as err:
            self.post_message(self.Loaded(None, [], NO_PROGRAMME if no_programme(
                self.app.workspace.backend, self.benchmark_ref, err) else f"No programme: {failure_line(err, self)}"))
            return
        self.post_message(self.Loaded(prog, snapshots(prog.record)))

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False, exclusive=True, group="history-snapshot")
    def take_snapshot(self, prog: Programme) -> None:
        from annotrain_tui.core.decisions import session_of

        backend = self.app.workspace.backend
        session = session_of(backend, prog, keep_objects=True)
        # the gold's version from the rows compared against, as every other evaluation keeps it
        remember(prog, session.load(), backend, gold=session.bench_rows.values())
        self.app.call_from_thread(self.notify, "Scored the programme and kept the snapshot.", title="History")
        self.post_message(self.Loaded(prog, snapshots(prog.record)))

    def action_snapshot(self) -> None:
        if self.prog is None:
            self.notify("No programme to score.", severity="warning")
            return
        self.notify("Scoring the programme…", title="History")
        self.take_snapshot(self.prog)

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group == "history-load":
            self.query_one("#history-summary", Static).update(lit(f"✖ {failure_line(error, self)}", "red"))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.prog = event.prog
        summary = self.query_one("#history-summary", Static)
        table = self.query_one("#trend", DataTable)
        table.clear()
        self.rows = []
        if event.prog is None:
            summary.update(lit(event.problem, "yellow"))
            return
        self.sub_title = event.prog.title
        by_email = event.trend
        for email, rounds in by_email.items():
            for rnd, points in rounds.items():
                self.rows.append((email, rnd, points))
                table.add_row(lit(email), str(rnd), str(len(points)), bars(points),
                              f"{f1_text(points[0].f1)} → {f1_text(points[-1].f1)}", lit(points[-1].status),
                              lit(statuses(points)), key=f"{email}\x1f{rnd}")
        t = Text()
        t.append_text(lit(event.prog.title, "bold", limit=50))
        if not event.snaps:
            t.append(": no history yet. Every evaluation of the programme (Evaluate, 5 on Home) is kept as a "
                     "snapshot and shows here; s scores it now and keeps one.", style="yellow")
        else:
            versions = len({str(s.get("benchmark_version")) for s in event.snaps})
            t.append(f": {len(event.snaps)} snapshot(s), {len(by_email)} annotator(s)")
            if versions > 1:
                t.append(f"; the benchmark changed {versions - 1} time(s) ({CHANGED} in the trend)", style="yellow")
            t.append(".")
        summary.update(t)
        self._show_detail()

    @on(DataTable.RowHighlighted, "#trend")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        table = self.query_one("#trend", DataTable)
        detail = self.query_one("#history-detail", Static)
        row = table.cursor_row
        if not self.rows or not 0 <= row < len(self.rows):
            detail.update(Text(""))
            return
        email, rnd, points = self.rows[row]
        t = Text()
        t.append_text(lit(email, "bold"))
        t.append(f", round {rnd}: ")
        t.append(bars(points), style="bold")
        t.append(f" (F1 from 0 to 1, {len(points)} evaluation(s){', the last 5:' if len(points) > 5 else ''})")
        for n, p in enumerate(points[-5:], start=max(0, len(points) - 5)):
            changed = n > 0 and p.benchmark_version != points[n - 1].benchmark_version
            t.append("\n")
            t.append_text(lit(p.ts[:19].replace("T", " ")))
            t.append(f"  F1 {f1_text(p.f1)}  ")
            t.append_text(lit(p.status))
            if changed:
                t.append(f"  {CHANGED} benchmark edited: not compared with the point before", style="yellow")
        detail.update(t)
