"""The screens a user meets tell the truth (issue 13, trial items 5, 6, 9, 21, 26, 28): Home is current
when shown again, a failed load never reads as an empty workspace, Enter on a Home row does something,
and the pick survives a restart."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static, TabbedContent

from annotrain_tui.core.config import Paths, Settings
from annotrain_tui.core.workspace import open_workspace
from annotrain_tui.tui.app import AnnotrainApp
from annotrain_tui.tui.screens.home import HomeScreen
from annotrain_tui.tui.screens.pick import PickScreen
from annotrain_tui.tui.screens.progress import ProgressScreen
from annotrain_tui.tui.widgets.dialogs import FormDialog
from tests.tui.helpers import make_app, settle


def _summary(app) -> str:
    return str(app.screen.query_one("#summary", Static).render())


def _reopen(app: AnnotrainApp) -> AnnotrainApp:
    """The same workspace launched again (a restart): a new app over the same sandbox file."""
    ws = open_workspace(Paths.default(), Settings(retry_base_delay=0).replace(
        **{"sandbox_path": app.workspace.settings.sandbox_path}))
    return AnnotrainApp(ws)


async def test_home_is_current_when_shown_again(tmp_path):
    """Trial item 5: after projects were made on other screens, Home still showed the old counts."""
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "4 projects" in _summary(app)
        await pilot.press("1")
        await settle(app, pilot)
        assert isinstance(app.screen, PickScreen)
        onto = app.workspace.raw.list_ontologies()[0]
        app.workspace.raw.create_project("Made elsewhere", description="", dataset_ids=[], ontology_id=onto.id)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "5 projects" in _summary(app)


async def test_home_refreshes_on_an_interval_only_while_shown(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        home = app.screen
        assert isinstance(home, HomeScreen) and home.AUTO_REFRESH == 30.0
        assert home.refresh_timer._active.is_set()  # running while shown
        await pilot.press("1")
        await settle(app, pilot)
        assert not home.refresh_timer._active.is_set()  # paused under another screen
        onto = app.workspace.raw.list_ontologies()[0]
        app.workspace.raw.create_project("Made by a colleague", description="", dataset_ids=[], ontology_id=onto.id)
        await pilot.press("escape")
        await settle(app, pilot)
        assert home.refresh_timer._active.is_set()
        app.workspace.raw.create_project("And another", description="", dataset_ids=[], ontology_id=onto.id)
        home._refresh_tick()  # what the timer calls every AUTO_REFRESH seconds
        await settle(app, pilot)
        assert "6 projects" in _summary(app)


async def test_a_failed_load_never_reads_as_an_empty_workspace(tmp_path, monkeypatch):
    """Trial item 6: with the backend unreachable nothing may say 'loading' for good, nor 'no projects yet'."""
    from annotrain_tui.core.errors import Transient
    from annotrain_tui.tui.screens import home

    def unreachable(backend):
        raise Transient("cannot reach Encord at https://api.encord.com", acted=False)

    monkeypatch.setattr(home, "load_overview", unreachable)
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        summary = _summary(app)
        assert "Loading" not in summary and "cannot reach Encord" in summary
        projects = app.screen.query_one("#table-projects", DataTable)
        row = " ".join(str(c) for c in projects.get_row_at(0))
        assert "Not loaded" in row and "No projects yet" not in row
        assert not app.screen.query_one("#bench-progress").display


async def test_home_help_matches_the_keys(tmp_path):
    """Trial item 21: the help promised an Ontologies tab and mis-numbered the steps."""
    from annotrain_tui.tui.screens.benchmark import BenchmarkScreen
    from annotrain_tui.tui.screens.home import FLOWS, TABS

    assert "ontology" not in HomeScreen.SCREEN_HELP
    for key, _fid, title, _desc in FLOWS:
        assert f"{key} " in HomeScreen.SCREEN_HELP, title
    assert set(TABS) == {"projects", "folders", "integrations", "datasets"}
    assert "Step 3" in BenchmarkScreen.SCREEN_HELP and "Step 2" not in BenchmarkScreen.SCREEN_HELP
    assert set(HomeScreen.WIDGET_HELP) == {f"table-{t}" for t in TABS}


async def test_enter_on_home_rows_picks_or_opens(tmp_path):
    """'⏎ Select' was listed on Home but did nothing: now a folder or integration is picked, a benchmark
    opens its progress."""
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")  # the first project is the benchmark
        await settle(app, pilot)
        assert isinstance(app.screen, ProgressScreen) and app.screen.benchmark == app.demo_ids["benchmark"]
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("right_square_bracket")  # folders
        assert app.screen.query_one(TabbedContent).active == "tab-folders"
        table = app.screen.query_one("#table-folders", DataTable)
        table.move_cursor(row=3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.selection.folder is not None and app.selection.folder.path == "/Training Data/Street Scenes"
        assert app.workspace.recent().get("folder") == app.selection.folder.id


async def test_the_pick_survives_a_restart_and_a_vanished_one_is_dropped(tmp_path):
    """Trial item 28: after a restart no integration was picked."""
    app = make_app(tmp_path / "ws.db", start_screen="pick")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"wasabi", "enter", "enter")  # filter, then pick the integration
        app.screen.query_one("#filter", Input).value = ""  # every folder again
        await pilot.pause()
        await pilot.press("enter")  # and the first folder (the folders have the focus now)
        await pilot.pause()
        picked = (app.selection.integration, app.selection.folder)
        assert picked[0] is not None and picked[0].title == "Wasabi - archive" and picked[1] is not None
    again = _reopen(app)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        assert again.selection.integration == picked[0] and again.selection.folder == picked[1]
    again.workspace.recent().set(folder="a-folder-deleted-since")
    third = _reopen(app)
    async with third.run_test(size=(80, 24)) as pilot:
        await settle(third, pilot)
        assert third.selection.integration == picked[0] and third.selection.folder is None
        assert third.workspace.recent().get("folder") is None  # quietly forgotten
        assert not [n for n in third._notifications if n.severity == "error"]


async def test_new_folder_appends_to_the_prefilled_parent(tmp_path):
    """Trial item 26: the prefilled parent was selected on focus, so typing replaced it."""
    app = make_app(tmp_path / "ws.db", start_screen="pick")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        folders = app.screen.query_one("#folders", DataTable)
        folders.focus()
        parent = next(n for n, f in enumerate(app.screen.folders) if f.path == "/Training Data")
        folders.move_cursor(row=parent)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press(*"Cohort 2026")
        assert app.screen.query_one("#field-path", Input).value == "/Training Data/Cohort 2026"


async def test_pick_and_progress_say_when_their_listing_failed(tmp_path, monkeypatch):
    """Trial item 6 on the other screens: an empty list or 'Loading…' must not stand for a failure."""
    from annotrain_tui.core.errors import Transient
    from annotrain_tui.tui.screens import pick, progress

    def unreachable(*args, **kwargs):
        raise Transient("cannot reach Encord at https://api.encord.com", acted=False)

    monkeypatch.setattr(pick, "pick_lists", unreachable)
    monkeypatch.setattr(progress, "progress_view", unreachable)
    app = make_app(tmp_path / "ws.db", start_screen="pick")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        first = " ".join(str(c) for c in app.screen.query_one("#integrations", DataTable).get_row_at(0))
        assert "Could not list the integrations and folders: cannot reach Encord" in first
        assert "No cloud integrations" not in first
        folders = " ".join(str(c) for c in app.screen.query_one("#folders", DataTable).get_row_at(0))
        assert "Not loaded" in folders and "No folders yet" not in folders
        app.open_flow("progress")
        await settle(app, pilot)
        assert isinstance(app.screen, ProgressScreen)
        summary = str(app.screen.query_one("#progress-summary", Static).render())
        assert "Loading" not in summary and "Could not read the training progress: cannot reach Encord" in summary


async def test_progress_opens_the_benchmark_last_provisioned(tmp_path):
    app = make_app(tmp_path / "ws.db")
    raw = app.workspace.raw
    onto = raw.list_ontologies()[0]
    second = raw.create_project("Cohort 2 Benchmark", description="", dataset_ids=[], ontology_id=onto.id)
    app.workspace.recent().set(benchmark=second.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.open_flow("progress")
        await settle(app, pilot)
        summary = str(app.screen.query_one("#progress-summary", Static).render())
        assert "Cohort 2 Benchmark" in summary and "Benchmark Labels" not in summary
