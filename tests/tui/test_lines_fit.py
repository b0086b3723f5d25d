"""Lines that were cut at 80 columns (trial 13 item 10): Home's benchmark line dropped the word
"trainees", Pick's status line ended "→ m opens the". Each now wraps or fits: the words are on screen."""

from __future__ import annotations

import sqlite3

from textual.widgets import DataTable

from tests.tui.helpers import make_app, screen_text, settle


def flat(app) -> str:
    return " ".join(screen_text(app).split())


async def test_home_never_drops_the_trainees_unit_at_80_columns(tmp_path):
    app = make_app(tmp_path / "ws.db")
    # a longer title: the same overflow as "60/60 Complete · 306 trainees" with the demo's title
    with sqlite3.connect(tmp_path / "ws.db") as db:
        db.execute("UPDATE projects SET title = ? WHERE id = ?",
                   ("Benchmark Labels of the street scenes", app.demo_ids["benchmark"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        text = flat(app)  # wrapped: the progress bar sits between the two parts of the line
        assert "Benchmark Labels of the street scenes: 60/60" in text and "Complete · 3 trainees" in text


async def test_a_very_long_benchmark_title_is_shortened_not_the_counts(tmp_path):
    app = make_app(tmp_path / "ws.db")
    with sqlite3.connect(tmp_path / "ws.db") as db:
        db.execute("UPDATE projects SET title = ? WHERE id = ?", ("B" * 300, app.demo_ids["benchmark"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert ": 60/60 Complete · 3 trainees" in flat(app) and "B" * 100 not in screen_text(app).replace("\n", "")


async def test_picks_status_line_fits_or_wraps_at_80_columns(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("1")
        await settle(app, pilot)
        screen = app.screen
        integrations = screen.query_one("#integrations", DataTable)
        integrations.focus()
        await pilot.press("enter")  # the first integration, then a folder
        await pilot.pause()
        folders = screen.query_one("#folders", DataTable)
        folders.focus()
        await pilot.press("enter")
        await pilot.pause()
        sel = app.selection
        assert sel.integration is not None and sel.folder is not None
        text = flat(app)
        assert f"Folder: {sel.folder.path}" in text and "m opens the manifest" in text


async def test_registers_pick_line_wraps_rather_than_cut_its_hint_at_80_columns(tmp_path):
    """Trial (issue 13): Register's line ended "press 1 on Home (or" with nothing picked."""
    app = make_app(tmp_path / "ws.db", start_screen="register")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.selection.folder = app.selection.integration = None
        app.screen._show_selection()
        await pilot.pause()
        assert "press 1 on Home (or Ctrl+P, Pick) to choose" in flat(app)
