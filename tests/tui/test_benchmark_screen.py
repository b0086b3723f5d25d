"""The benchmark flow with Pilot: dataset from a folder, ontology classes, benchmark project."""

from __future__ import annotations

from textual.widgets import Input, Select, Static

from annotrain_tui.tui.screens.benchmark import BenchmarkScreen
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog
from tests.tui.helpers import make_app, settle


async def test_create_dataset_then_benchmark(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="benchmark")
    raw = app.workspace.raw
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, BenchmarkScreen)
        classes = str(screen.query_one("#ontology-classes", Static).render())
        assert "Road sign" in classes and "polygon" in classes and "rotated box" in classes
        folder = next(f for f in raw.list_folders() if f.name == "Street Scenes")
        screen.query_one("#folder", Select).value = folder.id
        screen.query_one("#dataset-title", Input).value = "Second training set"
        await pilot.press("c")
        await settle(app, pilot)
        check = str(screen.query_one("#dataset-check", Static).render())
        assert "60 file(s) linked, 60 expected" in check and "matches" in check
        screen.query_one("#bench-title", Input).value = "Benchmark 2"
        await pilot.press("b")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        bench = next(p for p in raw.list_projects() if p.title == "Benchmark 2")
        ds = next(d for d in raw.list_datasets() if d.title == "Second training set")
        assert bench.dataset_ids == [ds.id]
        status = str(screen.query_one("#bench-status", Static).render())
        assert "Benchmark 2: 0/60 tasks Complete" in status and "finish the benchmark" in status


async def test_an_empty_folder_is_an_error_message_not_a_crash(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="benchmark")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        folder = next(f for f in app.workspace.raw.list_folders() if f.name == "Incoming")
        screen.query_one("#folder", Select).value = folder.id
        await pilot.press("c")
        await settle(app, pilot)
        assert app.is_running and isinstance(app.screen, BenchmarkScreen)
        assert any("has no files" in n.message for n in app._notifications)


async def test_keys_never_type_into_a_field_and_enter_submits(tmp_path):
    """Trial item 32: `c` while the title field had focus appended "c"; Enter in the field did nothing;
    the first focus was a VerticalScroll; the dialog named neither the ontology nor the dataset."""
    from textual.widgets import Select as _Select

    from annotrain_tui.tui.screens.help import HelpScreen

    app = make_app(tmp_path / "ws.db", start_screen="benchmark")
    raw = app.workspace.raw
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(app.focused, _Select) and app.focused.id == "folder"  # a control, not a text field
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "whose files become the training dataset" in text and "Tab and Shift+Tab" not in text
        await pilot.press("escape")
        folder = next(f for f in raw.list_folders() if f.name == "Street Scenes")
        screen.query_one("#folder", Select).value = folder.id
        title = screen.query_one("#dataset-title", Input)
        title.focus()
        title.value = ""
        await pilot.press(*"Cohort set", "enter")  # Enter in the title field creates the dataset
        await settle(app, pilot)
        assert title.value == "Cohort set"
        assert "Cohort set" in [d.title for d in raw.list_datasets()]
        bench_title = screen.query_one("#bench-title", Input)
        bench_title.focus()
        bench_title.value = "Cohort Benchmark"
        await pilot.press("enter")  # Enter in the benchmark title asks to create it, naming both
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        body = " ".join(str(w.render()) for w in app.screen.query(Static))
        onto = raw.list_ontologies()[0]
        assert "Cohort Benchmark" in body and onto.title in body and "Cohort set" in body
        await pilot.press("n")


async def test_a_failed_listing_replaces_the_status_line(tmp_path, monkeypatch):
    from annotrain_tui.core.errors import Transient
    from annotrain_tui.tui.screens import benchmark

    def unreachable(backend):
        raise Transient("cannot reach Encord", acted=False)

    monkeypatch.setattr(benchmark, "benchmark_choices", unreachable)
    app = make_app(tmp_path / "ws.db", start_screen="benchmark")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        status = str(app.screen.query_one("#bench-status", Static).render())
        assert "Could not read the workspace: cannot reach Encord" in status and "press r" in status
