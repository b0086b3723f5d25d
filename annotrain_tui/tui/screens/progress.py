"""Training progress: per annotator, tasks Complete / total and last activity; refreshes itself."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker

from annotrain_tui.core.benchmark import BenchmarkStatus
from annotrain_tui.core.choices import progress_view
from annotrain_tui.core.models import Project
from annotrain_tui.core.provisioning import TraineeProgress
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.screens.home import failure_text
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.tables import SafeDataTable

BAR = 20


def bar(done: int, total: int) -> Text:
    filled = round(BAR * done / total) if total else 0
    t = Text("█" * filled, style="green")
    t.append("░" * (BAR - filled), style="dim")
    return t


class ProgressScreen(AppScreen):
    TITLE = "Training progress"
    SCREEN_HELP = ("Per annotator: tasks in Complete out of all tasks of their training project, and when they "
                   "last worked. Only Complete tasks are evaluated. Refreshes on its own; r refreshes now. Without "
                   "a benchmark named (g on Provision, Enter on Home's projects), the benchmark last provisioned.")
    WIDGET_HELP = {"progress-table": "One row per annotator of the benchmark: Complete/total tasks, a bar, the "
                                     "last activity and the training project. i shows the row whole."}
    BINDINGS = [Binding("r", "refresh", "Refresh", id="progress.refresh"),
                Binding("escape", "app.back", "Back", id="progress.back")]

    def __init__(self, benchmark: str | None = None) -> None:
        super().__init__()
        self.benchmark = benchmark

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Loading…", style="dim"), id="progress-summary")
        yield SafeDataTable(id="progress-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for col in ("Annotator", "Complete", "Progress", "Last activity", "Project"):
            table.add_column(col, key=col)
        self.action_refresh()
        self.set_interval(self.app.workspace.settings.refresh_interval, self.action_refresh)

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False, exclusive=True, group="progress-load")
    def load(self) -> None:
        view = progress_view(self.app.workspace.backend, self.benchmark,
                             preferred=self.app.workspace.recent().get("benchmark"))
        if view.benchmark is None or view.status is None:
            self.app.call_from_thread(self._empty, "No benchmark project yet: set one up first (3 on Home).")
            return
        self.app.call_from_thread(self._show, view.benchmark, view.status, view.rows)

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group == "progress-load":
            self.query_one("#progress-summary", Static).update(
                failure_text("Could not read the training progress", error,
                             retry="it is tried again on its own; r tries now"))

    def _empty(self, message: str) -> None:
        self.query_one("#progress-summary", Static).update(Text(message, style="dim"))

    def _show(self, bench: Project, status: BenchmarkStatus, rows: list[TraineeProgress]) -> None:
        t = Text("Benchmark ")
        t.append_text(lit(bench.title, "bold"))
        t.append(f": {status.completeness.complete}/{status.completeness.total} Complete")
        for w in status.warnings:
            t.append("\n⚠ ", style="yellow")
            t.append_text(lit(w, "yellow"))
        if not rows:
            t.append("\nNo training projects yet: provision the roster first (4 on Home).", style="dim")
        for r in rows:
            if r.error:
                t.append("\n⚠ ", style="yellow")
                t.append_text(lit(f"{r.email}: {r.error}", "yellow"))
        self.query_one("#progress-summary", Static).update(t)
        table = self.query_one(DataTable)
        seen = set()
        with self.app.batch_update():
            for r in rows:
                cells = [lit(r.email), Text("?" if r.error else f"{r.complete}/{r.total}"), bar(r.complete, r.total),
                         Text("unreadable", style="yellow") if r.error else
                         Text(r.last_activity.strftime("%Y-%m-%d %H:%M") if r.last_activity else "never"),
                         lit(r.title)]
                seen.add(r.project_id)
                if r.project_id in table.rows:
                    for col, cell in zip(("Annotator", "Complete", "Progress", "Last activity", "Project"), cells):
                        table.update_cell(r.project_id, col, cell)
                else:
                    table.add_row(*cells, key=r.project_id)
            for key in [k for k in table.rows if k.value not in seen]:
                table.remove_row(key)
