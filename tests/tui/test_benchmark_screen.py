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
