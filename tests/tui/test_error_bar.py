"""A failure that persists is shown on the screen (trial item 6: "Loading workspace… 0%" forever
behind a 5 s toast), and one failure is one toast (trial item 2: two identical toasts)."""

from __future__ import annotations

from textual import work
from textual.widgets import Header, Static
from textual.worker import Worker

from annotrain_tui.core.errors import AnnotrainError, PermissionDenied
from annotrain_tui.tui.screens.base import AppScreen, ErrorBar
from tests.tui.helpers import make_app, settle


async def test_a_failed_load_stays_on_screen_until_a_refresh_succeeds(tmp_path, monkeypatch):
    from annotrain_tui.tui.screens import home

    calls = []
    real = home.load_overview

    def failing(backend):
        calls.append(1)
        if len(calls) == 1:
            raise PermissionDenied("Encord refused the listing (403)")
        return real(backend)

    monkeypatch.setattr(home, "load_overview", failing)
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        bar = app.screen.query_one(ErrorBar)
        assert bar.display and 1 <= bar.region.height <= 3
        header = app.screen.query_one(Header)
        assert header.region.y == 0 and bar.region.y == header.region.bottom  # under the header, not on it
        assert "403" in str(bar.render()) and "403" in app.screen.error_text
        await pilot.press("r")
        await settle(app, pilot)
        assert not bar.display and app.screen.error_text == ""


class Failing(AppScreen):
    """A screen that, like the manifest editor, handles the worker event itself and calls super()."""

    def compose(self):
        yield Static("x")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)

    @work(thread=True, exit_on_error=False, group="save")
    def fail(self, ok: bool) -> None:
        if not ok:
            raise AnnotrainError("cannot write /nope/x.json: no such directory")


async def test_one_failed_worker_is_one_toast_and_the_bar_clears_when_its_group_succeeds(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = Failing()
        await app.push_screen(screen)
        before = len(app._notifications)
        screen.fail(False)
        await settle(app, pilot)
        toasts = [n for n in list(app._notifications)[before:] if "no such directory" in n.message]
        assert len(toasts) == 1
        assert "no such directory" in screen.error_text
        screen.fail(True)
        await settle(app, pilot)
        assert screen.error_text == "" and not screen.query_one(ErrorBar).display


async def test_a_long_error_is_never_cut_silently_and_f1_shows_it_whole(tmp_path):
    """Trial: Register's bar stopped mid-sentence at three lines with no sign that it went on."""
    from annotrain_tui.tui.screens.base import ERROR_BAR_LINES, ErrorBar
    from annotrain_tui.tui.screens.help import HelpScreen
    from tests.tui.helpers import make_app, screen_text, settle

    app = make_app(tmp_path / "ws.db", start_screen="register")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        long = " ".join(f"word{n}" for n in range(80)) + " THE-END"
        app.screen.show_error("test", long)
        await pilot.pause()
        bar = app.screen.query_one(ErrorBar)
        lines = [ln for ln in screen_text(app).splitlines() if ln.strip()][1:1 + ERROR_BAR_LINES]
        assert "(F1 shows it whole)" in lines[-1] and "THE-END" not in screen_text(app)
        assert bar.size.height == ERROR_BAR_LINES
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "THE-END" in " ".join(screen_text(app).split())
