"""Pick a cloud integration and a storage folder (filterable; create a folder with metadata)."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Footer, Header, Input, Label, Static
from textual.worker import Worker

from annotrain_tui.core.choices import PickLists, pick_lists, restore_remembered
from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.metadata import parse_metadata  # noqa: F401 (also re-exported)
from annotrain_tui.core.models import Folder, Integration
from annotrain_tui.core.registration import create_folder_path, folder_path_names
from annotrain_tui.tui.app import AnnotrainApp
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.dialogs import FormDialog
from annotrain_tui.tui.widgets.inputs import SafeInput
from annotrain_tui.tui.widgets.tables import SafeDataTable


def remember_selection(app: AnnotrainApp, *, integration: Integration | None = None,
                       folder: Folder | None = None) -> None:
    """Keep the id of what was just picked for the next launch (core.recent); the other pick is kept."""
    values = {k: v.id for k, v in (("integration", integration), ("folder", folder)) if v is not None}
    if values:
        app.workspace.recent().set(**values)


class PickScreen(AppScreen):
    TITLE = "Pick integration and folder"
    SCREEN_HELP = (
        "Step 1 of the programme (1 on Home). Choose the cloud integration Encord reads your files through, "
        "and the storage folder the files are registered into. Type in the filter (/) to narrow both lists; "
        "Enter picks the row under the cursor; n creates a folder (inside the highlighted one) with a "
        "description and metadata; m opens the manifest editor. The choice is used by the manifest and "
        "registration screens, and remembered for the next launch."
    )
    WIDGET_HELP = {
        "filter": "Narrows both lists as you type; Enter moves to the integrations.",
        "integrations": "Cloud integrations. Enter picks the highlighted one and moves to the folders.",
        "folders": "Storage folders, nested. Enter picks; n creates a folder inside the highlighted one.",
    }
    BINDINGS = [
        # priority, like Tab: the focus moves before the next key of a burst is dispatched ("/Az"
        # typed fast left the filter empty); in a field it steps aside and "/" is typed
        Binding("slash", "focus_filter", "Filter", priority=True, id="pick.filter"),
        Binding("n", "new_folder", "New folder", id="pick.new_folder"),
        Binding("r", "refresh", "Refresh", id="pick.refresh"),
        Binding("m", "manifest", "Manifest", id="pick.manifest"),
        Binding("escape", "app.back", "Back", id="pick.back"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="form-row"):
            yield Label("Filter ")
            yield SafeInput(placeholder="type to filter integrations and folders (/)", id="filter")
        yield Static(Text(""), id="selection")
        yield SafeDataTable(id="integrations", cursor_type="row", zebra_stripes=True)
        yield SafeDataTable(id="folders", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.integrations: list[Integration] = []
        self.folders: list[Folder] = []
        self.load_failure: Text | None = None  # why the lists could not be read, until a load succeeds
        self.query_one("#integrations", DataTable).add_columns("Integration", "Provider")
        self.query_one("#folders", DataTable).add_columns("Folder", "Files", "Description")
        self._show_selection()
        self.query_one("#integrations", DataTable).focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="pick-load")
    def load(self) -> None:
        lists = pick_lists(self.app.workspace.backend)
        self.app.call_from_thread(self._loaded, lists)

    def _loaded(self, lists: PickLists) -> None:
        self.integrations, self.folders = lists.integrations, lists.folders
        self.load_failure = None
        if restore_remembered(self.app, self.integrations, self.folders):
            self._show_selection()
        self._render_lists()

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group == "pick-load":
            from annotrain_tui.tui.screens.home import failure_text

            self.load_failure = failure_text("Could not list the integrations and folders", error)
            self._render_lists()

    def _render_lists(self) -> None:
        needle = self.query_one("#filter", Input).value.strip().casefold()
        it = self.query_one("#integrations", DataTable)
        it.clear()
        shown = [i for i in self.integrations if needle in f"{i.title} {i.provider.label}".casefold()]
        for i in shown:
            it.add_row(lit(i.title), Text(i.provider.label), key=i.id)
        if self.load_failure is not None:
            it.add_row(self.load_failure, Text(""))
        elif not shown:
            it.add_row(Text("No integration matches the filter." if self.integrations else
                            "No cloud integrations: create one in Encord first.", style="dim italic"), Text(""))
        ft = self.query_one("#folders", DataTable)
        ft.clear()
        fshown = [f for f in self.folders if needle in f"{f.path} {f.description}".casefold()]
        for f in fshown:
            depth = f.path.count("/") - 1
            ft.add_row(lit("  " * depth + f.name), Text(str(f.item_count or 0)), lit(f.description), key=f.id)
        if self.load_failure is not None:
            ft.add_row(Text("Not loaded (see above).", style="dim italic"), Text(""), Text(""))
        elif not fshown:
            ft.add_row(Text("No folder matches the filter." if self.folders else "No folders yet: press n to create one.",
                            style="dim italic"), Text(""), Text(""))

    @on(Input.Changed, "#filter")
    def _filter(self) -> None:
        self._render_lists()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#integrations", DataTable).focus()

    def action_focus_filter(self) -> None:
        if isinstance(self.focused, Input):
            raise SkipAction()  # a field takes "/" as text
        self.set_focus(self.query_one("#filter", Input))  # now, not after a refresh as focus() does

    @on(DataTable.RowSelected, "#integrations")
    def _pick_integration(self, event: DataTable.RowSelected) -> None:
        match = next((i for i in self.integrations if i.id == event.row_key.value), None)
        if match:
            self.app.selection.integration = match
            remember_selection(self.app, integration=match)
            self._show_selection()
            self.query_one("#folders", DataTable).focus()

    @on(DataTable.RowSelected, "#folders")
    def _pick_folder(self, event: DataTable.RowSelected) -> None:
        match = next((f for f in self.folders if f.id == event.row_key.value), None)
        if match:
            self.app.selection.folder = match
            remember_selection(self.app, folder=match)
            self._show_selection()

    def _show_selection(self) -> None:
        sel = self.app.selection
        t = Text("Integration: ")
        t.append_text(lit(sel.integration.title, "bold") if sel.integration else Text("none", style="dim"))
        t.append("   Folder: ")
        t.append_text(lit(sel.folder.path, "bold") if sel.folder else Text("none", style="dim"))
        if sel.integration and sel.folder:
            t.append("   → m opens the manifest", style="green")
        self.query_one("#selection", Static).update(t)

    def _highlighted_folder(self) -> Folder | None:
        ft = self.query_one("#folders", DataTable)
        if ft.row_count == 0 or ft.cursor_row is None:
            return None
        try:
            key = ft.coordinate_to_cell_key(Coordinate(ft.cursor_row, 0)).row_key.value
        except Exception:  # noqa: BLE001
            return None
        return next((f for f in self.folders if f.id == key), None)

    def action_new_folder(self) -> None:
        parent = self._highlighted_folder() if self.focused is self.query_one("#folders", DataTable) else None
        fields = [("path", "Folder path (parents are created too)", (parent.path + "/") if parent else "/"),
                  ("description", "Description", ""),
                  ("metadata", "Metadata: JSON object or key=value, key2=value2", "")]

        def check(values):
            try:  # refused here, with what was typed kept, not after the form has closed
                folder_path_names(values["path"])
                parse_metadata(values["metadata"])
            except InvalidInput as err:
                return str(err)
            return None

        def done(values):
            if values:
                self.create_folder(values["path"], values["description"], parse_metadata(values["metadata"]))

        self.app.push_screen(FormDialog("New storage folder", fields, validate=check, submit="Create"), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pick-create")
    def create_folder(self, path: str, description: str, metadata: dict) -> None:
        folder = create_folder_path(self.app.workspace.backend, path, description=description, metadata=metadata)
        self.app.call_from_thread(self._created, folder)

    def _created(self, folder: Folder) -> None:
        self.app.selection.folder = folder
        remember_selection(self.app, folder=folder)
        self.notify(f"Folder {folder.path} ready", title="Storage", markup=False)
        self._show_selection()
        self.action_refresh()

    def action_manifest(self) -> None:
        self.app.open_flow("manifest")
