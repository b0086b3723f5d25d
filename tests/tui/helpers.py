"""Building the real app on a sandbox workspace for Pilot tests."""

from __future__ import annotations

from pathlib import Path

from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.demo import seed_demo
from annotrain_tui.core.backends.sandbox.store import remove_files
from annotrain_tui.core.config import Paths, Settings
from annotrain_tui.core.workspace import open_workspace
from annotrain_tui.tui.app import AnnotrainApp


def demo_workspace(path: Path, **settings):
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_files(path)  # a fresh workspace: no -wal or -shm of an earlier one
    backend = SandboxBackend(path)
    ids = seed_demo(backend, deterministic_ids=True)
    backend.close()
    # The workspace path as --sandbox gives it (a strange but real file name is used and shown
    # escaped; only settings files refuse control characters in paths).
    ws = open_workspace(Paths.default(), Settings(retry_base_delay=0, **settings).replace(
        **{"sandbox_path": path}))
    return ws, ids


def make_app(path: Path, start_screen: str = "home", options: dict | None = None, **settings) -> AnnotrainApp:
    ws, ids = demo_workspace(path, **settings)
    app = AnnotrainApp(ws, start_screen=start_screen, screen_options=options)
    app.demo_ids = ids  # type: ignore[attr-defined]
    return app


async def settle(app, pilot) -> None:
    """Wait until workers are done and their results painted."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app) -> str:
    """What the terminal shows now, as plain text (one line per row), like a screenshot."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, color_system=None,
                      record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


async def run_in_palette(app, pilot, text: str) -> None:
    """Open the command palette, type ``text``, wait until the search is done and the first hit is
    the command named ``text``, then run it with Enter (no sleeping: the search is a worker)."""
    from textual.command import CommandList, CommandPalette

    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*text)
    await settle(app, pilot)
    palette = app.screen
    results = palette.query_one(CommandList)
    assert results.highlighted is not None, f"no hit for {text!r}"
    prompt = str(results.get_option_at_index(results.highlighted).prompt)
    assert text in prompt, f"first hit for {text!r} is {prompt!r}"
    await pilot.press("enter")
    await settle(app, pilot)
