"""Programmes: every benchmark of the workspace as a training programme (its state, trainees,
decisions and next step), and the one to work on. Enter makes the highlighted one current: Home,
Evaluate, Progress and Provision then open it."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker

from annotrain_tui.core.backends.base import Backend
from annotrain_tui.core.errors import AnnotrainError, NotFound
from annotrain_tui.core.overview import benchmark_ids, preferred_of
from annotrain_tui.core.programme import BENCHMARK_INCOMPLETE, CLOSED, READY, SETTING_UP, TRAINING, Programme
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.screens.home import failure_text
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.tables import SafeDataTable

#: a programme's state, coloured the same in every view that shows it
STATE_STYLE = {SETTING_UP: "yellow", BENCHMARK_INCOMPLETE: "yellow", TRAINING: "cyan", READY: "bold green",
               CLOSED: "dim"}
#: the columns of the table (the next step is also under the table, whole)
COLUMNS = [("", "mark"), ("Benchmark", "title"), ("State", "state"), ("Trainees", "trainees"),
           ("Decided", "decided"), ("Complete", "complete"), ("Next step", "next")]
TITLE_LIMIT = 40
EMPTY = "No programme yet: press 3 to set up a benchmark."
#: the same, on a screen that opens one programme (3 is Home's key there)
NO_PROGRAMME = "No programme yet: set up a benchmark first (3 on Home)."


def no_programme(backend: Backend, ref: str | None, error: BaseException) -> bool:
    """(In a worker.) Whether loading the current programme (``ref`` None) failed because the
    workspace has no benchmark at all: then one clause says so (``NO_PROGRAMME``), not the error's
    three ("No programme: the workspace has no programme yet: no benchmark project (…)")."""
    if ref is not None or not isinstance(error, NotFound):
        return False
    try:
        return not benchmark_ids(backend.list_projects())
    except AnnotrainError:
        return False


def decided_count(prog: Programme) -> tuple[int, int]:
    """(trainees decided on their current round, trainees)."""
    return sum(1 for t in prog.trainees.values() if t.decided), len(prog.trainees)


class ProgrammesScreen(AppScreen):
    TITLE = "Programmes"
    PALETTE_PREFIX = "Programmes"
    SCREEN_HELP = (
        "Every training programme of the workspace: one per benchmark project, with its state (setting up, "
        "benchmark incomplete, training, ready for decisions, closed), its trainees, how many of them have a "
        "decision on their current round (Decided), how far the benchmark itself is (Complete: its tasks Complete of all) and "
        "the next step, said whole under the table for the highlighted programme. ● marks the current "
        "programme: the one Home names and Evaluate (5), Progress and Provision (4) open. Enter makes the "
        "highlighted programme current and goes back to Home; r reads them again; 3 sets up a new benchmark."
    )
    WIDGET_HELP = {
        "programmes-table": "One row per programme (● the current one). Enter makes it the current programme "
                            "(Home, Evaluate, Progress and Provision then work on it); i shows the row whole.",
    }
    BINDINGS = [
        Binding("enter", "switch", "Make current", priority=True, id="programmes.switch"),
        Binding("r", "refresh", "Refresh", id="programmes.refresh"),
        Binding("3", "benchmark", "Set up a benchmark", show=False, id="programmes.benchmark"),
        Binding("escape", "app.back", "Back", id="programmes.back"),
    ]

    class Loaded(Message):
        """A load finished: every programme, and the id of the current one (None: no programme)."""

        bubble = False

        def __init__(self, programmes: list[Programme], current: str | None) -> None:
            super().__init__()
            self.programmes, self.current = programmes, current

    def __init__(self) -> None:
        super().__init__()
        self.programmes: list[Programme] = []
        self.current: str | None = None
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Loading the programmes…", style="dim"), id="programmes-status")
        yield SafeDataTable(id="programmes-table", cursor_type="row", zebra_stripes=True)
        yield Static(Text(""), id="programmes-detail")
        yield Footer()

    @property
    def table(self) -> SafeDataTable:
        return self.query_one("#programmes-table", SafeDataTable)

    def on_mount(self) -> None:
        self.sub_title = self.app.workspace.backend.describe()
        for label, key in COLUMNS:
            self.table.add_column(label, key=key)
        self.table.focus()
        self.load()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False, exclusive=True, group="programmes-load")
    def load(self) -> None:
        progs = self.app.workspace.programmes()
        ids = [p.id for p in progs]
        current = preferred_of(ids, {p.id: p.title for p in progs}, self.app.workspace.recent().get("benchmark"))
        self.post_message(self.Loaded(progs, current))

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group != "programmes-load":
            return
        self.query_one("#programmes-status", Static).update(failure_text("Could not read the programmes", error))
        if not self.loaded:  # never "no programme yet" when they could not be read
            self.table.clear()
            self.table.add_row(Text("", style="dim"), Text("Not loaded (see above).", style="dim italic"),
                               *[Text("")] * (len(COLUMNS) - 2), key="__empty__")

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.loaded = True
        self.programmes, self.current = event.programmes, event.current
        table = self.table
        keep = self._highlighted_id()
        table.clear()
        status = self.query_one("#programmes-status", Static)
        if not self.programmes:
            status.update(Text(f"{EMPTY}", style="dim"))
            table.add_row(Text(""), Text(EMPTY, style="dim italic"), *[Text("")] * (len(COLUMNS) - 2),
                          key="__empty__")
            self._show_detail()
            return
        n = len(self.programmes)
        status.update(Text(f"{n} programme{'' if n == 1 else 's'} · ● the current one · Enter makes the "
                           f"highlighted one current", style="dim"))
        for prog in self.programmes:
            decided, trainees = decided_count(prog)
            c = prog.completeness
            table.add_row(
                Text("●", style="bold green") if prog.id == self.current else Text(""),
                lit(prog.title, "bold" if prog.id == self.current else "", limit=TITLE_LIMIT),
                Text(prog.state, style=STATE_STYLE.get(prog.state, "")),
                Text(str(trainees), justify="right"),
                Text(f"{decided}/{trainees}", justify="right"),
                Text(f"{c.complete}/{c.total}", justify="right",
                     style="" if prog.benchmark_complete else "yellow"),
                lit(prog.next_step, limit=80),
                key=prog.id)
        target = keep if keep in {p.id for p in self.programmes} else self.current
        if target is not None:
            table.move_cursor(row=table.get_row_index(target))
        self._show_detail()

    def _highlighted_id(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None
        return None if key in (None, "__empty__") else str(key)

    def highlighted(self) -> Programme | None:
        pid = self._highlighted_id()
        return next((p for p in self.programmes if p.id == pid), None)

    @on(DataTable.RowHighlighted, "#programmes-table")
    def _moved(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        prog = self.highlighted()
        t = Text()
        if prog is not None:
            t.append_text(lit(prog.title, "bold", limit=TITLE_LIMIT))
            t.append(" (current)" if prog.id == self.current else " (Enter makes it current)",
                     style="green" if prog.id == self.current else "dim")
            t.append(": ")
            t.append(prog.state, style=STATE_STYLE.get(prog.state, ""))
            t.append(". Next: ")
            t.append_text(lit(prog.next_step))
            for problem in prog.problems[1:]:  # the first is the next step
                t.append("\n⚠ ", style="yellow")
                t.append_text(lit(problem, "yellow"))
        self.query_one("#programmes-detail", Static).update(t)

    @on(DataTable.RowSelected, "#programmes-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        """A click on the highlighted row (Enter is the screen's own key: shown in the footer)."""
        event.stop()
        self.action_switch()

    def action_switch(self) -> None:
        """The highlighted programme becomes the current one (remembered for this workspace); back to Home."""
        prog = self.highlighted()
        if prog is None:
            if self.loaded and not self.programmes:
                self.notify(EMPTY, title="Programmes")
            return
        self.app.workspace.recent().set(benchmark=prog.id)
        self.current = prog.id
        self.notify(f"Current programme: {prog.title} (Evaluate, Progress and Provision open it)",
                    title="Programmes")
        self.app.open_flow("home")

    def action_benchmark(self) -> None:
        self.app.open_flow("benchmark")
