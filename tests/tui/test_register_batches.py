"""Issue 17: the Register screen follows a batched registration (Pilot): overall progress, each
part's status, the failed URLs of every part, a retry of only those, and a batch stopped between
parts continued by registering the same manifest in batches again."""

from __future__ import annotations

import json

from textual.widgets import DataTable, Input, Static

from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.errors import Conflict
from annotrain_tui.tui.screens.register import RegisterScreen
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog

from .helpers import make_app, settle

S3 = "https://street-scenes-training.s3.eu-west-1.amazonaws.com/b17"
NAMES = ["a", "b", "flaky-c", "d", "missing-e", "f", "g"]


def manifest(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/{n}.jpg"} for n in NAMES],
                                "skip_duplicate_urls": True}))
    return path


def keys(table: DataTable) -> list[str]:
    return [r.key.value for r in table.ordered_rows]


def column(table: DataTable, col: int = 0) -> list[str]:
    return [str(table.get_row_at(i)[col]) for i in range(table.row_count)]


async def _start(app, pilot, screen, size: str = "2") -> None:
    screen.query_one("#batch-size", Input).value = size
    await pilot.press("b")
    assert isinstance(app.screen, ConfirmDialog)
    await pilot.press("y")
    await settle(app, pilot)


async def test_register_screen_follows_a_batch_and_retries_only_its_failed_urls(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="register", options={"manifest": str(manifest(tmp_path))})
    raw = app.workspace.raw
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RegisterScreen)
        app.selection.integration = next(i for i in raw.list_integrations() if i.provider.value == "aws")
        app.selection.folder = next(f for f in raw.list_folders() if f.name == "Incoming")
        await _start(app, pilot, screen)
        [batch] = screen.batches.values()
        assert batch.status == "done" and batch.parts == 4 and batch.items_created == 5
        jobs = screen.query_one("#jobs", DataTable)
        labels = column(jobs)
        assert labels[0] == batch.id and [lb.split()[0] for lb in labels[1:]] == ["1/4", "2/4", "3/4", "4/4"]
        assert str(jobs.get_row_at(0)[1]) == "done 4/4" and str(jobs.get_row_at(0)[2]) == "5/7"
        assert [str(jobs.get_row_at(i)[1]) for i in range(1, 5)] == ["done"] * 4
        jobs.move_cursor(row=0)
        await pilot.pause()
        line = str(screen.query_one("#reg-batch", Static).render())
        assert "4/4 part(s) finished, 5/7 file(s) registered, 2 URL(s) failed" in line
        failed = screen.query_one("#failed", DataTable)
        assert sorted(zip(column(failed), column(failed, 1))) == [
            (f"{S3}/flaky-c.jpg", "part 2: Encord could not access the file (check the URL and the integration's "
                                  "permissions)"),
            (f"{S3}/missing-e.jpg", "part 3: Encord could not access the file (check the URL and the integration's "
                                    "permissions)")]
        await pilot.press("t")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        after = screen.batches[batch.id]
        retries = [r for r in after.jobs if r.retry_of]
        assert sorted(r.urls for r in retries) == [1, 1] and all(r.finished for r in retries)
        assert after.failed_urls == [f"{S3}/missing-e.jpg"] and after.items_created == 6
        assert len(keys(jobs)) == 1 + 4 + 2  # the batch, its parts, the two retries under their parts
        jobs.move_cursor(row=keys(jobs).index(batch.id))
        await pilot.pause()
        assert column(failed) == [f"{S3}/missing-e.jpg"]
        folder = app.selection.folder
        assert len(raw.list_items(folder.id)) == 6


async def test_a_batch_stopped_between_parts_is_continued(tmp_path, monkeypatch):
    app = make_app(tmp_path / "ws.db", start_screen="register", options={"manifest": str(manifest(tmp_path))})
    raw = app.workspace.raw
    real = SandboxBackend.start_registration
    calls: list[int] = []

    def start_then_fail(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Conflict("the connection was lost between parts")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SandboxBackend, "start_registration", start_then_fail)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        app.selection.integration = next(i for i in raw.list_integrations() if i.provider.value == "aws")
        app.selection.folder = next(f for f in raw.list_folders() if f.name == "Incoming")
        await _start(app, pilot, screen)
        [batch] = screen.batches.values()
        assert batch.status == "incomplete" and batch.not_started == [3, 4]
        assert any("connection was lost" in n.message for n in app._notifications)
        jobs = screen.query_one("#jobs", DataTable)
        jobs.move_cursor(row=keys(jobs).index(batch.id))
        await pilot.pause()
        assert str(jobs.get_row_at(0)[1]) == "incomplete 2/4"
        assert "2 part(s) not started" in str(screen.query_one("#reg-batch", Static).render())
        monkeypatch.setattr(SandboxBackend, "start_registration", real)
        await _start(app, pilot, screen, size="")  # another size: the recorded one is used
        done = screen.batches[batch.id]
        assert len(screen.batches) == 1 and done.status == "done" and done.parts == 4
        assert any(f"Continuing batch {batch.id}: 2 of 4" in n.message for n in app._notifications)
        assert len(calls) == 3 and len(raw.list_items(app.selection.folder.id)) == 5
