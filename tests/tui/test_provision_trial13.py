"""Provision screen, trial 13 items 7–10: save-as keeps the dialog on a bad path, quitting asks
(with Save), every roster problem is readable at 80×24, the finish message counts this run."""

from __future__ import annotations

from textual.widgets import DataTable

from annotrain_tui.tui.screens.provision import ProvisionScreen
from annotrain_tui.tui.widgets.pane import TextPane
from tests.tui.helpers import make_app, screen_text, settle


def bad_roster(tmp_path, n: int = 8):
    roster = tmp_path / "bad.csv"
    rows = "".join(f"Person {i},not-an-email-{i}\n" for i in range(n))
    roster.write_text("name,email\n" + rows, encoding="utf-8")
    return roster


async def test_every_roster_problem_is_reachable_at_80x24(tmp_path):
    roster = bad_roster(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        pane = screen.query_one("#problems-pane", TextPane)
        shown = screen_text(app)
        assert "8 problem(s)" in shown and "Tab to it" in shown
        # not everything fits at once (the old Static simply cut the rest) ...
        assert pane.overflowing
        # ... but the pane takes the focus and every problem comes into view
        seen: set[int] = set()
        while app.focused is not pane:
            await pilot.press("tab")
        await pilot.press("home")
        await pilot.pause()
        for _ in range(20):
            text = screen_text(app)
            seen |= {i for i in range(8) if f"bad.csv:{i + 2}:2: invalid email" in text}
            await pilot.press("down")
            await pilot.pause()
        assert seen == set(range(8))
        await pilot.press("home")
        await pilot.pause()
        assert pane.scroll_y == 0
        await pilot.press("end")
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y > 0 and "bad.csv:9:2: invalid email" in screen_text(app)
