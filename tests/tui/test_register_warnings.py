"""Register at 80×24 (trial 13 item 9): every validation warning is readable, and x names the
warnings before registering."""

from __future__ import annotations

import json

from annotrain_tui.tui.screens.register import RegisterScreen
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog
from annotrain_tui.tui.widgets.pane import TextPane
from tests.tui.helpers import make_app, screen_text, settle

AWS = "https://street-scenes-training.s3.eu-west-1.amazonaws.com/w2/"


def warned_manifest(tmp_path) -> str:
    """Three warnings: a URL registered twice, and two URLs not of the AWS form."""
    path = tmp_path / "warned.json"
    path.write_text(json.dumps({"images": [
        {"objectUrl": AWS + "a.jpg"}, {"objectUrl": AWS + "a.jpg"},
        {"objectUrl": "https://storage.googleapis.com/bucket/b.jpg"},
        {"objectUrl": "https://storage.googleapis.com/bucket/c.jpg"}]}))
    return str(path)


def pick(app) -> None:
    raw = app.workspace.raw
    app.selection.integration = next(i for i in raw.list_integrations() if i.provider.value == "aws")
    app.selection.folder = next(f for f in raw.list_folders() if f.name == "Incoming")


async def test_every_warning_is_reachable_at_80x24_and_x_names_them(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "0")
    path = warned_manifest(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="register", options={"manifest": path})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RegisterScreen)
        pick(app)
        await pilot.press("v")
        await settle(app, pilot)
        result = screen._validated[2]
        warnings = [d.render("warned.json") for d in result.warnings]
        assert len(warnings) >= 3 and not result.errors
        pane = screen.query_one("#reg-validation-pane", TextPane)
        assert pane.overflowing  # they do not all fit at once...
        while app.focused is not pane:
            await pilot.press("tab")
        seen: set[int] = set()
        for _ in range(30):  # ...but each comes into view as the pane scrolls
            flat = " ".join(screen_text(app).split())
            seen |= {i for i, w in enumerate(warnings) if w[:60] in flat}
            await pilot.press("down")
            await pilot.pause()
        assert seen == set(range(len(warnings)))
        # x: the confirmation names how many warnings and the first two
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        asked = " ".join(screen_text(app).split())
        assert f"The manifest has {len(warnings)} warning(s)" in asked
        assert warnings[0][:40] in asked and warnings[1][:40] in asked
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, RegisterScreen) and not screen.records


async def test_x_without_validating_first_still_names_the_warnings(tmp_path):
    path = warned_manifest(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="register", options={"manifest": path})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        pick(app)
        await pilot.press("x")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "warning(s)" in " ".join(screen_text(app).split())


async def test_x_on_a_manifest_with_errors_is_refused_not_offered(tmp_path):
    """Trial: with 2 errors and 4 warnings, x asked "Register (y)" naming only the warnings; the
    refusal came after the yes. Errors are said before anything is asked, and nothing starts."""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"images": [{"objectUrl": "<bucket>/a.jpg"}, {"objectUrl": AWS + "b.jpg"},
                                           {"objectUrl": AWS + "b.jpg"}]}))
    app = make_app(tmp_path / "ws.db", start_screen="register", options={"manifest": str(path)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        pick(app)
        jobs_before = len(app.screen.records)
        await pilot.press("x")
        await settle(app, pilot)
        assert isinstance(app.screen, RegisterScreen)  # no question asked
        text = " ".join(screen_text(app).split())
        assert "Not registered: the manifest has 1 error(s)" in text and "manifest editor" in text
        assert len(app.screen.records) == jobs_before
