"""Integration and folder pickers, and registration followed to the end, with Pilot."""

from __future__ import annotations

import json

from textual.widgets import DataTable, Input, Static

from annotrain_tui.tui.screens.pick import PickScreen, parse_metadata
from annotrain_tui.tui.screens.register import RegisterScreen
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog
from tests.tui.helpers import make_app, settle


def rows(table: DataTable) -> list[str]:
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_filter_pick_and_create_a_folder(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="pick")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, PickScreen)
        await pilot.press("slash", *"wasabi")
        assert rows(app.screen.query_one("#integrations", DataTable)) == ["Wasabi - archive"]
        await pilot.press("enter")  # filter → integrations table
        await pilot.press("enter")  # pick
        assert app.selection.integration.title == "Wasabi - archive"
        # new folder inside the highlighted one, with metadata
        await pilot.press("n")
        assert isinstance(app.screen, FormDialog)
        app.screen.query_one("#field-path", Input).value = "/Training Data/Wave 2"
        app.screen.query_one("#field-description", Input).value = "second wave"
        app.screen.query_one("#field-metadata", Input).value = "team=ops, wave=2"
        await pilot.press("enter")
        await settle(app, pilot)
        created = next(f for f in app.workspace.raw.list_folders() if f.path == "/Training Data/Wave 2")
        assert created.metadata == {"team": "ops", "wave": "2"} and created.description == "second wave"
        assert app.selection.folder.id == created.id
        assert "/Training Data/Wave 2" in str(app.screen.query_one("#selection", Static).render())


async def test_bad_metadata_is_refused_in_the_form(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="pick")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        app.screen.query_one("#field-path", Input).value = "/X"
        app.screen.query_one("#field-metadata", Input).value = '{"a": '
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert "not valid JSON" in str(app.screen.query_one("#form-error", Static).render())


def test_parse_metadata_forms():
    assert parse_metadata('{"a": 1}') == {"a": 1}
    assert parse_metadata("a=1, b = two") == {"a": "1", "b": "two"}
    assert parse_metadata("") == {}


async def test_register_follow_to_the_end_and_retry_failed_only(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "0")
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"images": [
        {"objectUrl": "https://street-scenes-training.s3.eu-west-1.amazonaws.com/w2/ok.jpg"},
        {"objectUrl": "https://street-scenes-training.s3.eu-west-1.amazonaws.com/w2/flaky.jpg"}]}))
    app = make_app(tmp_path / "ws.db", start_screen="register", options={"manifest": str(manifest)})
    raw = app.workspace.raw
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RegisterScreen)
        app.selection.integration = next(i for i in raw.list_integrations() if i.provider.value == "aws")
        app.selection.folder = next(f for f in raw.list_folders() if f.name == "Incoming")
        await pilot.press("v")
        await settle(app, pilot)
        assert "✓ valid: 2 item(s)" in str(screen.query_one("#reg-validation", Static).render())
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        job = next(iter(screen.records.values()))
        assert job.status.value == "done" and job.items_created == 1
        failed = screen.query_one("#failed", DataTable)
        assert rows(failed) == ["https://street-scenes-training.s3.eu-west-1.amazonaws.com/w2/flaky.jpg"]
        await pilot.press("c")
        assert any("Copied 1 URL" in n.message for n in app._notifications)
        await pilot.press("t", "y")
        await settle(app, pilot)
        retry = max(screen.records.values(), key=lambda r: r.created_at)
        assert retry.retry_of == job.id and retry.urls == 1 and retry.failed_urls == []
        folder = app.selection.folder
        assert sorted(i.name for i in raw.list_items(folder.id)) == ["flaky.jpg", "ok.jpg"]
        # Retrying the same job again starts nothing: the app says which retry exists and shows it.
        table = screen.query_one("#jobs", DataTable)
        table.move_cursor(row=[r.key.value for r in table.ordered_rows].index(job.id)
                          if job.id in [r.key.value for r in table.ordered_rows] else 1)
        await pilot.press("t", "y")
        await settle(app, pilot)
        assert len(screen.records) == 2
        assert any("already has a retry" in n.message and retry.id in n.message and n.severity == "warning"
                   for n in app._notifications)  # a warning, not the error funnel's toast


async def test_register_without_a_selection_says_what_to_do(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="register")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("x")
        assert any("Pick the integration and the folder" in n.message for n in app._notifications)
