"""The Register screen at 80x24 (trial items 22, 28, 36): a pending job ticks, nothing is cut off
for good, the follower's updates are named messages, and the last pick is back after a restart."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from textual.widgets import DataTable, Static

from annotrain_tui.core import registration as reg
from annotrain_tui.tui.screens.register import RegisterScreen
from tests.tui.helpers import make_app, settle

BASE = "https://street-scenes-training.s3.eu-west-1.amazonaws.com/w2/"


def _manifest(tmp_path) -> str:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"images": [{"objectUrl": BASE + "ok.jpg"}, {"objectUrl": BASE + "flaky.jpg"}]}))
    return str(path)


def _pick(app) -> None:
    raw = app.workspace.raw
    app.selection.integration = next(i for i in raw.list_integrations() if i.provider.value == "aws")
    app.selection.folder = next(f for f in raw.list_folders() if f.name == "Incoming")


async def _register(app, pilot) -> None:
    """x, then y once the confirmation is up (x validates the manifest first, in a worker, when it
    was not validated as it is now: the dialog names its warnings)."""
    from annotrain_tui.tui.widgets.dialogs import ConfirmDialog

    await pilot.press("x")
    await pilot.pause()
    if validating := [w for w in app.workers if w.group == "register-validate"]:
        await app.workers.wait_for_complete(validating)
    await pilot.pause()
    assert isinstance(app.screen, ConfirmDialog)
    await pilot.press("y")


def _status(screen: RegisterScreen, job_id: str) -> str:
    return str(screen.query_one("#jobs", DataTable).get_cell(job_id, "Status"))


async def test_a_pending_job_shows_its_age_and_ticks_only_while_pending(tmp_path, monkeypatch):
    """Trial item 36: a pending job showed no elapsed time or spinner."""
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "3600")
    app = make_app(tmp_path / "ws.db", start_screen="register", options={"manifest": _manifest(tmp_path)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RegisterScreen)
        try:
            await _pending_ticks(app, pilot, screen, monkeypatch)
        finally:
            screen.cancel.set()  # the follower's thread stops at its next poll (the job is pending for an hour)


async def _pending_ticks(app, pilot, screen, monkeypatch) -> None:
    """A job started and followed: its status counts the time since it started while it is pending."""
    _pick(app)
    assert not screen.tick._active.is_set()  # nothing pending: no timer running
    await _register(app, pilot)
    await pilot.pause()
    # the start worker only: the follower polls for the hour the job is pending
    # (wait_for_complete([]) would wait for every worker)
    if starting := [w for w in app.workers if w.group == "register-start"]:
        await app.workers.wait_for_complete(starting)
    await pilot.pause()
    job = next(iter(screen.records.values()))
    assert not job.finished and screen.tick._active.is_set()
    start = job.created_at
    monkeypatch.setattr(app, "now", lambda: start + timedelta(seconds=75))
    screen._tick()
    first = _status(screen, job.id)
    assert re.fullmatch(r"pending 1:15 .", first), first
    monkeypatch.setattr(app, "now", lambda: start + timedelta(seconds=76))
    screen._tick()
    second = _status(screen, job.id)
    assert second.startswith("pending 1:16 ") and second[-1] != first[-1]  # the spinner moved
    # once the job is finished, the timer stops
    screen.post_message(RegisterScreen.JobUpdated(job.replace(**{"status": reg.JobStatus.DONE}),
                                                  final=True))
    await pilot.pause()
    assert _status(screen, job.id) == "done" and not screen.tick._active.is_set()


async def test_started_fits_and_the_failed_reason_is_readable_at_80x24(tmp_path):
    """Trial item 22: Started was cut ('12-01 06:1'); the Reason showed only as 'Encor'."""
    app = make_app(tmp_path / "ws.db", start_screen="register", options={"manifest": _manifest(tmp_path)})
    seen: list = []
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await settle(app, pilot)
        screen = app.screen
        _pick(app)
        await _register(app, pilot)
        await settle(app, pilot)
        job = next(iter(screen.records.values()))
        assert job.finished and job.failed_urls == [BASE + "flaky.jpg"]
        finals = {id(m): m for m in seen if isinstance(m, RegisterScreen.JobUpdated) and m.final}
        assert [m.job.id for m in finals.values()] == [job.id]
        jobs = screen.query_one("#jobs", DataTable)
        started_at = sum(jobs.columns[k].get_render_width(jobs) for k in list(jobs.columns)[:4])
        started_end = started_at + jobs.columns[list(jobs.columns)[4]].get_render_width(jobs)
        assert list(jobs.columns)[4].value == "Started" and started_end <= jobs.scrollable_content_region.width
        cell = str(jobs.get_cell(job.id, "Started"))
        assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d", cell)
        # the detail line: the job whole (its folder), then the failed URL with its whole reason
        detail = screen.query_one("#reg-detail", Static)
        assert "/Incoming" in str(detail.render()) or "Incoming" in str(detail.render())
        failed = screen.query_one("#failed", DataTable)
        failed.focus()
        failed.move_cursor(row=0)
        await pilot.pause()
        reason = job.unit_errors[0].error
        text = " ".join(str(detail.render()).split())
        assert BASE + "flaky.jpg" in text and " ".join(reason.split()) in text
        assert detail.size.width <= 80


async def test_register_opened_directly_gets_the_last_pick_back(tmp_path):
    """Trial item 28: 'no integration picked' after a restart."""
    app = make_app(tmp_path / "ws.db", start_screen="register")
    raw = app.workspace.raw
    integration = next(i for i in raw.list_integrations() if i.provider.value == "aws")
    folder = next(f for f in raw.list_folders() if f.name == "Incoming")
    app.workspace.recent().set(integration=integration.id, folder=folder.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.selection.integration == integration and app.selection.folder == folder
        line = str(app.screen.query_one("#reg-selection", Static).render())
        assert integration.title in line and folder.path in line
