"""Home's first frame comes before its tables (issue 14: the TUI's first paint).

The four tables are laid out after the first frame that reaches the terminal; scheduled with
``call_after_refresh`` from on_mount they ran inside Textual's start-up batch, before any frame
was drawn, and their layout was a fifth of the time to the first paint."""

from __future__ import annotations

from annotrain_tui.tui.screens.home import HomeScreen
from tests.tui.helpers import make_app, settle


async def test_the_tables_are_mounted_after_the_first_frame_is_drawn(tmp_path, monkeypatch):
    events: list[str] = []
    frame, mount_tabs = HomeScreen._compositor_refresh, HomeScreen._mount_tabs

    def logged_frame(self: HomeScreen) -> None:
        if self is self.app.screen and not self.app._batch_count:  # a frame Textual draws (App._display)
            events.append("frame")
        frame(self)

    async def logged_tabs(self: HomeScreen) -> None:
        events.append("tables")
        await mount_tabs(self)

    monkeypatch.setattr(HomeScreen, "_compositor_refresh", logged_frame)
    monkeypatch.setattr(HomeScreen, "_mount_tabs", logged_tabs)
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        home = app.screen
        assert isinstance(home, HomeScreen) and home.tabs_ready
        assert events.index("frame") < events.index("tables") and events.count("tables") == 1
        assert home.overview is not None and home.table("projects").row_count > 0


async def test_home_under_another_screen_from_the_start_still_loads(tmp_path):
    """``tui --screen manifest``: Home is covered before any frame of its own; its tables and its
    load (which brings back the last launch's picks) go on underneath, at once."""
    app = make_app(tmp_path / "ws.db", start_screen="manifest")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        home = next(s for s in app.screen_stack if isinstance(s, HomeScreen))
        assert app.screen is not home
        assert home.tabs_ready and home.overview is not None
