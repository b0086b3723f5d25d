"""Every screen's actions are in the command palette, read from its bindings (trial items 7, 37:
the palette had only Go/Workspace/App and Textual's own entries)."""

from __future__ import annotations

from textual.widgets import TabbedContent

from annotrain_tui.tui.app import AnnotrainCommands, screen_commands
from annotrain_tui.tui.widgets.dialogs import FormDialog
from tests.tui.helpers import make_app, run_in_palette, settle


async def test_a_pick_action_runs_from_the_palette(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="pick")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await run_in_palette(app, pilot, "Pick: New folder")
        assert isinstance(app.screen, FormDialog)


async def test_a_home_action_runs_from_the_palette(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tabs = app.screen.query_one(TabbedContent)
        before = tabs.active
        await run_in_palette(app, pilot, "Home: Next tab")
        assert tabs.active != before


async def test_every_described_screen_binding_is_a_command_and_app_keys_are_not_repeated(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="doctor")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        names = [name for name, _, _ in AnnotrainCommands(app.screen)._commands()]
        assert "Doctor: Re-run" in names and "Doctor: Back" in names
        assert "Go: Home" in names and "App: Quit" in names
        assert not [n for n, _, _ in screen_commands(app.screen) if n.endswith(": Quit")]
        assert len(names) == len(set(names))
