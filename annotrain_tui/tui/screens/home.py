"""Home: the workspace at a glance and the ways into each flow."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, ProgressBar, Static
from textual.worker import Worker

from annotrain_tui.core.errors import AnnotrainError
from annotrain_tui.core.overview import Overview, load_overview
from annotrain_tui.core.secrets import redact
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.text import lit

if TYPE_CHECKING:  # imported with the tabs, after the first frame (_mount_tabs)
    from textual.widgets import DataTable, TabbedContent

FLOWS = [
    ("1", "pick", "Pick", "cloud integration and storage folder"),
    ("2", "manifest", "Manifests", "write, validate and register files"),
    ("3", "benchmark", "Benchmark", "training dataset and benchmark project"),
    ("4", "provision", "Provision", "one training project per annotator"),
    ("5", "evaluation", "Evaluate", "annotators against the benchmark"),
]
#: the programme's loop (their keys are bound below, with the help's longer titles): on the flows
#: line when the screen is wide enough, else on a line of their own
LOOP = [("6", "Act"), ("7", "Gold audit"), ("8", "History")]


class HomeScreen(AppScreen):
    TITLE = "Home"
    SCREEN_HELP = (
        "The workspace at a glance: the backend you are connected to, benchmark completeness, and "
        "every project, storage folder, cloud integration and dataset (one tab each; [ and ] switch). "
        "The numbered keys open the flows of a training programme in order: 1 pick storage, 2 write and "
        "register files, 3 set up the benchmark, 4 provision annotators, 5 evaluate them (and decide: "
        "g/t/h there), 6 act on the decisions (graduate, retake), 7 audit the gold, 8 the history; d runs "
        "the doctor. The benchmark line names the current programme (the one 4 and 5 open), the line under "
        "it its state and next step; P lists every programme with its state, trainees, decisions and next "
        "step, where Enter makes one current. "
        "Enter on a row: an integration or folder is picked (as on the Pick screen), a benchmark "
        "or training project opens its training progress, a dataset opens the Benchmark screen. The "
        "counts refresh when you come back here and every 30 seconds; r refreshes now. The programme's state "
        "(which reads every training project's tasks) is read again when you come back, on r, and every "
        "5 minutes."
    )
    WIDGET_HELP = {
        "table-projects": "The workspace's projects. Enter on a benchmark (or a training project) opens its "
                          "training progress; [ and ] switch tabs.",
        "table-folders": "Storage folders. Enter picks the folder for the manifest and registration screens; "
                         "[ and ] switch tabs.",
        "table-integrations": "Cloud integrations. Enter picks the integration files are registered through; "
                              "[ and ] switch tabs.",
        "table-datasets": "Datasets. Enter opens the Benchmark screen, where a dataset becomes the training "
                          "dataset; [ and ] switch tabs.",
    }
    #: seconds between refreshes while Home is shown (the listing is a few calls: cheap)
    AUTO_REFRESH = 30.0
    #: the programme's state (a listing of every training project's label rows: not cheap) is read
    #: again on every this-many automatic refreshes (and on r, and when Home is shown again)
    PROGRAMME_EVERY = 10
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="home.refresh"),
        *[Binding(key, f"flow('{fid}')", title, show=False, id=f"home.flow.{fid}") for key, fid, title, _ in FLOWS],
        Binding("d", "flow('doctor')", "Doctor", show=False, id="home.flow.doctor"),
        # step 6, the programme's loop: act on the decisions, audit the gold, its history
        Binding("6", "flow('act')", "Act on decisions", show=False, id="home.flow.act"),
        Binding("7", "flow('audit')", "Gold audit", show=False, id="home.flow.audit"),
        Binding("8", "flow('history')", "History", show=False, id="home.flow.history"),
        Binding("P", "flow('programmes')", "Switch programme", id="home.programmes"),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False, id="home.tab_prev"),
        Binding("right_square_bracket", "tab(1)", "Next tab", key_display="[ ]", id="home.tab_next"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="home-top"):
            yield Static(Text("Loading workspace…", style="dim"), id="summary")
            with Horizontal(id="bench-row"):
                yield Static(Text(""), id="bench-label")
                yield ProgressBar(total=1, show_eta=False, id="bench-progress")
            yield Static(Text(""), id="programme-line")
            yield Static(self._flows_text(self.app.size.width), id="flows")
        yield Footer()  # the tabs follow the first frame (_mount_tabs)

    def _tabs(self) -> TabbedContent:
        """One tab per kind of record, each a table with its columns (not yet mounted)."""
        from textual.widgets import TabbedContent, TabPane

        from annotrain_tui.tui.widgets.tables import SafeDataTable

        tabs = TabbedContent(id="tabs")
        for tab, columns in TABS.items():
            table = SafeDataTable(id=f"table-{tab}", cursor_type="row", zebra_stripes=True)
            for col in columns:
                table.add_column(col, key=col.lower())
            tabs.compose_add_child(TabPane(tab.capitalize(), table, id=f"tab-{tab}"))  # as `with` does in compose
        return tabs

    def _flows_text(self, width: int) -> Text:
        """The numbered keys: 1–5 then the loop's 6–8, on one line when ``width`` (the screen's) has
        room for all of them, else the loop on a second line (80 columns)."""
        def keys(pairs: list[tuple[str, str]]) -> Text:
            text = Text()
            for key, title in pairs:
                text.append(f" {key} ", style="reverse bold")
                text.append(f" {title}  ")
            return text

        first, loop = keys([(key, title) for key, _fid, title, _desc in FLOWS]), keys(LOOP)
        room = width - 2  # #home-top's padding
        if first.cell_len + loop.cell_len - 2 <= room:  # the last item's two trailing spaces may go
            return first + loop
        return first + Text("\n") + loop

    def on_resize(self) -> None:
        flows = self.query_one("#flows", Static)
        text = self._flows_text(self.size.width)
        old = flows.content
        if not isinstance(old, Text) or old.plain != text.plain:  # a new layout only when the lines change
            flows.update(text)

    def on_mount(self) -> None:
        self.sub_title = self.app.workspace.backend.describe()
        # The stylesheet lays out the first frame as it is: the benchmark line wraps rather than cut
        # its end, the flows take a second line at 80 columns (heights auto), the programme line
        # is hidden until the programme is read. (Set here, each was one more layout of the
        # screen before its first paint: issue 14.)
        self._ticks = 0
        self.overview: Overview | None = None
        self._restored = False
        self._shown_once = False
        self.tabs_ready = False
        self._tables_mounted = threading.Event()
        self._tabs_scheduled = False
        self.refresh_timer = self.set_interval(self.AUTO_REFRESH, self._refresh_tick)
        self.action_refresh()  # its thread waits for the tables (_mount_tabs) before it works

    def _compositor_refresh(self) -> None:
        """Textual's own: a frame of this screen goes to the terminal. After Home's first one, the
        tables are mounted (``call_after_refresh`` from on_mount ran before that frame: the four
        tables were laid out and drawn in it, a fifth of the time to Home's first paint, issue 14).
        A private method of Textual's Screen: textual is pinned below 8.3 for such hooks."""
        super()._compositor_refresh()
        # the first frame that reaches the terminal: the app's start-up batch holds back the first
        # refreshes (Textual's App._display draws nothing while _batch_count is set)
        if self is self.app.screen and not self.app._batch_count:
            self._schedule_tabs()

    def _schedule_tabs(self) -> None:
        """Mount the tabs, once: after the first frame, or when Home is covered before it has one.
        Their modules (Textual's tabs and tables) are imported by a thread first: imported on the UI
        thread while another screen's load runs (``tui --screen evaluation``), the two took turns
        with the interpreter and the screen froze for 140 ms (issue 14's heartbeat)."""
        if not self._tabs_scheduled:
            self._tabs_scheduled = True
            self._import_tabs()

    @work(thread=True, exit_on_error=False, group="home-tabs")
    def _import_tabs(self) -> None:
        import textual.widgets._tabbed_content  # noqa: F401

        import annotrain_tui.tui.widgets.tables  # noqa: F401

        self.app.call_from_thread(self.call_later, self._mount_tabs)

    @property
    def _loading(self) -> bool:
        return any(w.group == "home-load" and not w.is_finished for w in self.workers)

    async def _mount_tabs(self) -> None:
        """The tabs and their tables, once the first frame (header, summary, flows, keys) is drawn:
        laying out four tables would make that frame wait (issue 14: the TUI's first paint). The first
        load's thread waits for them, so it does not hold the interpreter (imports, the listing) while
        the frame is laid out, and every row it brings has its table."""
        from annotrain_tui.core import startup

        startup.release()  # the TUI's start-up is over (core.startup: collections held until now)
        await self.mount(self._tabs(), after="#home-top")
        self.table("projects").focus()
        self.tabs_ready = True
        self._tables_mounted.set()
        if not self._loading:
            self.load()  # the first load stopped waiting (Home was shown long after it opened)

    def on_unmount(self) -> None:
        self._tables_mounted.set()  # a load still waiting for the tables ends (the app is closing)

    @staticmethod
    def _preload_pick() -> None:
        from annotrain_tui.tui.screens import pick  # noqa: F401

    @work(thread=True, exit_on_error=False, group="home-preload")
    def _preload_pick_worker(self) -> None:
        self._preload_pick()

    def on_screen_resume(self) -> None:
        """Back on Home (after creating folders, datasets, projects elsewhere): the counts are re-read."""
        if self.tabs_ready and "annotrain_tui.tui.screens.pick" not in sys.modules:
            self._preload_pick_worker()  # covered since the start: the row picks' module, off the UI thread
        self.refresh_timer.resume()
        if self._shown_once:
            self.action_refresh()
        self._shown_once = True

    def on_screen_suspend(self) -> None:
        self.refresh_timer.pause()  # only while shown
        self._schedule_tabs()  # covered before its first frame (tui --screen X): no frame to wait for

    def _refresh_tick(self) -> None:
        if not self._loading:
            self._ticks += 1
            self.load(programme=self._ticks % self.PROGRAMME_EVERY == 0)

    def action_refresh(self) -> None:
        self.load()

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group != "home-load":
            return
        self.query_one("#summary", Static).update(failure_text("Could not load the workspace", error))
        self.query_one("#bench-progress", ProgressBar).display = False
        if self.overview is None:  # nothing was ever loaded: no row may say "no projects yet"
            for tab in TABS:
                self._fill(tab, [], "Not loaded: the workspace could not be read (see above).")

    @work(thread=True, exit_on_error=False, exclusive=True, group="home-load")
    def load(self, programme: bool = True) -> Overview | None:
        """The overview (shown at once), then, when ``programme``, the current programme's state and
        next step (it reads every training project's label rows: the automatic refresh asks for it
        only now and then, see PROGRAMME_EVERY)."""
        self._tables_mounted.wait(timeout=30)  # set once the first frame is drawn (_mount_tabs)
        if not self.tabs_ready:
            return None  # the screen closed first (or its first frame never came)
        # the Pick screen's module (its registration and manifest imports, pydantic) loads here, off
        # the UI thread and after the first paint, for the row picks; not while Home is covered (tui
        # --screen evaluation: 8 MiB for a screen that may never be shown; it loads when it is)
        if self.app.screen is self:  # (Textual's is_current is true under another screen too)
            self._preload_pick()

        ws = self.app.workspace
        overview = load_overview(ws.backend)
        self.app.call_from_thread(self.show, overview)
        if programme and overview.benchmarks:
            from annotrain_tui.tui.screens import programmes  # noqa: F401 - its state colours, off the UI thread

            try:
                prog = ws.programme(None)
            except AnnotrainError as err:
                self.app.call_from_thread(self.show_programme, None, redact(str(err)))
            else:
                self.app.call_from_thread(self.show_programme, prog.id, prog.state, prog.next_step)
        return overview

    def show_programme(self, benchmark_id: str | None, state: str, next_step: str = "") -> None:
        """The current programme's state and next step, under the benchmark line (``benchmark_id``
        None: it could not be read, ``state`` says why)."""
        from annotrain_tui.tui.screens.programmes import STATE_STYLE

        line = self.query_one("#programme-line", Static)
        ov = self.overview
        b = ov.current_benchmark(self.app.workspace.recent().get("benchmark")) if ov is not None else None
        if benchmark_id is None:
            line.update(lit(f"Programme state not read: {state} · r tries again", "dim"))
        elif b is None or b.project.id != benchmark_id:
            line.display = False  # another programme became current meanwhile: the next load says
            return
        else:
            t = Text("Programme: ")
            t.append(state, style=STATE_STYLE.get(state, "bold"))
            t.append(". Next: ")
            t.append_text(lit(next_step, limit=200))
            line.update(t)
        line.display = True

    def show(self, ov: Overview) -> None:
        self.overview = ov
        if not self._restored:  # the first load brings back the pick of the last launch
            self._restored = True
            from annotrain_tui.core.choices import restore_remembered

            restore_remembered(self.app, ov.integrations, ov.folders)
        summary = Text()
        summary.append(" · ".join(_count(n, word) for n, word in [
            (len(ov.integrations), "integration"), (len(ov.folders), "folder"), (len(ov.datasets), "dataset"),
            (len(ov.projects), "project")]))
        self.query_one("#summary", Static).update(summary)
        label = self.query_one("#bench-label", Static)
        bar = self.query_one("#bench-progress", ProgressBar)
        b = ov.current_benchmark(self.app.workspace.recent().get("benchmark"))
        if b is not None:  # the one Evaluate and Progress open (5, 4): the same rule as theirs
            t = Text("Benchmark ")
            t.append_text(lit(b.project.title, "bold", limit=BENCH_TITLE_LIMIT))
            t.append(f": {b.completeness.complete}/{b.completeness.total} Complete · "
                     f"{_count(len(b.training_projects), 'trainee')}")
            if not b.complete:
                t.append(" ⚠ finish it before training starts", style="bold yellow")
            if len(ov.benchmarks) > 1:  # the Programmes view lists them all (P)
                t.append(f" · 1 of {len(ov.benchmarks)} programmes: P switches", style="dim")
            label.update(t)
            bar.update(total=max(1, b.completeness.total), progress=b.completeness.complete)
            bar.display = True
        else:
            label.update(Text("No benchmark project yet: press 3 to set one up.", style="dim"))
            bar.display = False
            self.query_one("#programme-line", Static).display = False
        datasets = {d.id: d.title for d in ov.datasets}
        self._fill("projects", [(p.id, [lit(p.title),
                                        lit("—" if p.dataset_ids is None else
                                            ", ".join(datasets.get(d, d) for d in p.dataset_ids)),
                                        Text("—" if p.users is None else str(len(p.users))), lit(p.id)])
                                for p in ov.projects],
                   "No projects yet. Press 3 to create the benchmark project.")
        self._fill("folders", [(f.id, [lit(f.path), Text(str(f.item_count or 0)), lit(f.description)])
                               for f in ov.folders], "No storage folders. Press 1 to pick or create one.")
        self._fill("integrations", [(i.id, [lit(i.title), Text(i.provider.label), lit(i.id)])
                                    for i in ov.integrations],
                   "No cloud integrations. Create one in Encord first.")
        self._fill("datasets", [(d.id, [lit(d.title), lit(d.description), lit(d.id)]) for d in ov.datasets],
                   "No datasets yet.")

    def _fill(self, tab: str, rows: list[tuple[str, list[Text]]], empty: str) -> None:
        table = self.table(tab)
        table.clear()
        if not rows:
            table.add_row(*([Text(empty, style="dim italic")] + [Text("")] * (len(table.columns) - 1)),
                          key="__empty__")
            return
        for key, cells in rows:
            table.add_row(*cells, key=key)

    def action_tab(self, step: int) -> None:
        if not self.tabs_ready:
            return
        from textual.widgets import TabbedContent

        tabs = self.query_one(TabbedContent)
        ids = [f"tab-{t}" for t in TABS]
        current = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(current + step) % len(ids)]
        self.table(tabs.active.removeprefix("tab-")).focus()

    def action_flow(self, flow_id: str) -> None:
        self.app.open_flow(flow_id)

    def table(self, tab: str) -> DataTable:
        """The table of ``tab`` (one of TABS), once the tabs are mounted."""
        from textual.widgets import DataTable

        return self.query_one(f"#table-{tab}", DataTable)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row does what the row is for (see WIDGET_HELP)."""
        ov, key = self.overview, event.row_key.value
        if ov is None or key in (None, "__empty__"):
            return
        table = event.data_table.id
        from annotrain_tui.core.choices import benchmark_of_project  # (with provisioning: not at start-up)
        from annotrain_tui.tui.screens.pick import remember_selection

        if table == "table-integrations":
            integration = next((i for i in ov.integrations if i.id == key), None)
            if integration is not None:
                self.app.selection.integration = integration
                remember_selection(self.app, integration=integration)
                self.notify(f"Picked the integration {integration.title}", title="Pick", markup=False)
        elif table == "table-folders":
            folder = next((f for f in ov.folders if f.id == key), None)
            if folder is not None:
                self.app.selection.folder = folder
                remember_selection(self.app, folder=folder)
                self.notify(f"Picked the folder {folder.path}", title="Pick", markup=False)
        elif table == "table-projects":
            bench = benchmark_of_project(ov.projects, key)
            if bench is None:
                self.notify("Not a benchmark or a training project: nothing to open.", markup=False)
            else:
                self.app.open_flow("progress", benchmark=bench)
        elif table == "table-datasets":
            self.app.open_flow("benchmark")


def failure_text(what: str, error: BaseException | None, *, retry: str = "press r to try again") -> Text:
    """The line that replaces a "Loading…" placeholder when its worker failed: what could not be done,
    why (an AnnotrainError's one line, redacted; else only the error's type), and how to try again."""
    text = Text(what, style="bold red")
    if error is not None:
        text.append(": ")
        text.append_text(lit(redact(str(error)) if isinstance(error, AnnotrainError) else type(error).__name__))
    if retry:
        text.append(f" · {retry}", style="dim")
    return text


#: the benchmark's title on Home's benchmark line, at most (the line wraps; a long title would fill the screen)
BENCH_TITLE_LIMIT = 48


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


TABS = {
    "projects": ["Title", "Datasets", "Users", "ID"],
    "folders": ["Path", "Items", "Description"],
    "integrations": ["Title", "Provider", "ID"],
    "datasets": ["Title", "Description", "ID"],
}
