"""TUI exports and saves never destroy inputs: refused onto an input or a non-regular file, written
through a symlink, and an existing file is replaced only after the user says so. The IoU filter
refuses NaN, infinity and out-of-range numbers."""

from __future__ import annotations

import json
import os

from textual.widgets import Static

from annotrain_tui.core.roster import read_roster
from annotrain_tui.tui.screens.evaluation import EvaluationScreen
from annotrain_tui.tui.screens.provision import ProvisionScreen
from annotrain_tui.tui.widgets.dialogs import ChoiceDialog, ConfirmDialog, FormDialog, PathDialog
from tests.tui.helpers import make_app, settle


async def export_seed(app, pilot, path) -> None:
    """e → seed CSV → type ``path`` → Write."""
    await pilot.press("e")
    assert isinstance(app.screen, ChoiceDialog)
    await pilot.press("enter")
    assert isinstance(app.screen, PathDialog)
    app.screen.query_one("#field-path").value = str(path)
    await pilot.press("enter")
    await settle(app, pilot)


async def refused(app, pilot) -> str:
    """The export dialog kept open with its reason (what was typed kept too); then cancelled."""
    assert isinstance(app.screen, PathDialog), app.screen
    reason = str(app.screen.query_one("#form-error", Static).render())
    await pilot.press("escape")
    await settle(app, pilot)
    assert isinstance(app.screen, EvaluationScreen)
    return reason


def toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_export_asks_before_overwriting_and_writes_through_a_symlink(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    target = tmp_path / "mine.csv"
    target.write_text("precious\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, EvaluationScreen)
        await export_seed(app, pilot, target)
        assert isinstance(app.screen, ConfirmDialog)  # asked, nothing written yet
        assert target.read_text(encoding="utf-8") == "precious\n"
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, EvaluationScreen)
        assert target.read_text(encoding="utf-8") == "precious\n"
        await export_seed(app, pilot, target)
        await pilot.press("escape")
        await settle(app, pilot)
        assert target.read_text(encoding="utf-8") == "precious\n"
        await export_seed(app, pilot, link)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")  # Enter says yes to the question the user asked for
        await settle(app, pilot)
        assert link.is_symlink() and os.readlink(link) == str(target)
        assert target.read_text(encoding="utf-8").startswith("training_email,")
        assert any("Wrote" in m for m in toasts(app))
        # a new file is written without a question
        fresh = tmp_path / "fresh.csv"
        await export_seed(app, pilot, fresh)
        assert isinstance(app.screen, EvaluationScreen) and fresh.exists()


async def test_export_refuses_a_directory_a_device_and_a_missing_directory(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    (tmp_path / "adir").mkdir()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        for bad, why in [(tmp_path / "adir", "is a directory"), ("/dev/null", "not a regular file"),
                         (tmp_path / "nope" / "x.csv", "No directory")]:
            await export_seed(app, pilot, bad)
            reason = await refused(app, pilot)  # refused in the dialog, no question
            assert why in reason, (bad, reason)
        assert (tmp_path / "adir").is_dir() and not (tmp_path / "nope").exists()


async def test_an_offline_export_is_never_written_over_its_inputs(tmp_path):
    from tests.synth import make_programme

    prog = make_programme(seed=3, n_items=4)
    bm = tmp_path / "bm.json"
    bm.write_text(json.dumps(prog.benchmark))
    tr = tmp_path / "tr.json"
    tr.write_text(json.dumps(next(iter(prog.training.values()))))
    hard = tmp_path / "hard-link-to-bm.json"
    os.link(bm, hard)
    before = {p: p.read_bytes() for p in (bm, tr)}
    app = make_app(tmp_path / "ws.db", start_screen="evaluation",
                   options={"benchmark_labels": str(bm), "training_labels": [str(tr)]})
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        for target in (bm, tr, hard, tmp_path / "." / "tr.json"):
            await export_seed(app, pilot, target)
            reason = await refused(app, pilot)  # refused, never asked
            assert "inputs" in reason, (target, reason)
    assert {p: p.read_bytes() for p in (bm, tr)} == before


async def test_the_iou_filter_refuses_nan_infinity_and_out_of_range(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        before = screen.session.settings.iou_threshold
        for typed, why in [("nan", "finite"), ("inf", "finite"), ("-inf", "finite"), ("1e400", "finite"),
                           ("0", "(0, 1]"), ("-0.5", "(0, 1]"), ("1.0001", "(0, 1]"), ("abc", "not a number"),
                           ("", "not a number")]:
            await pilot.press("f")
            assert isinstance(app.screen, FormDialog)
            app.screen.query_one("#field-iou").value = typed
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, FormDialog), typed  # refused, with a message
            message = str(app.screen.query_one("#form-error", Static).render())
            assert why in message, (typed, message)
            await pilot.press("escape")
            await settle(app, pilot)
            assert screen.session.settings.iou_threshold == before
        await pilot.press("f")
        app.screen.query_one("#field-iou").value = "0.75"
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.session.settings.iou_threshold == 0.75


async def test_roster_save_asks_when_the_file_changed_on_disk_and_writes_through_a_symlink(tmp_path):
    real = tmp_path / "real-roster.csv"
    real.write_text("name,email\nAlex Kim,alex.kim@example.com\n", encoding="utf-8")
    link = tmp_path / "roster.csv"
    link.symlink_to(real)
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(link)})
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        from textual.widgets import DataTable

        screen.query_one("#roster-table", DataTable).focus()
        await pilot.press("a")
        await pilot.press(*"Zoe")
        await pilot.press("tab")
        await pilot.press(*"zoe@example.com")
        await pilot.press("enter")
        await pilot.pause()
        # saving the roster as it was opened: no question, through the link
        await pilot.press("s")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog) and not screen.dirty
        assert link.is_symlink() and "zoe@example.com" in real.read_text(encoding="utf-8")
        # someone else changes the file: the next save asks
        real.write_text("name,email\nSomeone Else,else@example.com\n", encoding="utf-8")
        await pilot.press("d", "y")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert "else@example.com" in real.read_text(encoding="utf-8") and screen.dirty
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert "else@example.com" not in real.read_text(encoding="utf-8") and not screen.dirty
        assert link.is_symlink()


async def test_roster_save_refuses_a_target_that_is_no_longer_a_regular_file(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nAlex Kim,alex.kim@example.com\n", encoding="utf-8")
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        roster.unlink()
        roster.mkdir()
        from textual.widgets import DataTable

        app.screen.query_one("#roster-table", DataTable).focus()
        await pilot.press("s")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog) and roster.is_dir()
        assert any("not a regular file" in m for m in toasts(app)), toasts(app)


async def test_a_roster_cell_with_a_carriage_return_round_trips_through_a_save(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes(b'name,email,notes\n"Line\rBreak",a@example.com,"two\r\nlines"\nBea,b@example.com,x\n')
    before = read_roster(roster).entries
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        from textual.widgets import DataTable

        screen = app.screen
        screen.query_one("#roster-table", DataTable).focus()
        await pilot.press("e")  # open the row's form and save it unchanged: the raw name is kept
        assert isinstance(app.screen, FormDialog)
        assert app.screen.query_one("#field-name").value == "Line\\x0dBreak"  # shown escaped
        await pilot.press("enter")
        await pilot.pause()
        assert screen.entries[0].name == "Line\rBreak"
        await pilot.press("s")
        await pilot.pause()
    after = read_roster(roster).entries
    assert [(e.name, e.email, e.notes) for e in after] == [(e.name, e.email, e.notes) for e in before]
    assert len(after) == 2


async def test_an_export_never_replaces_the_workspace_the_screen_reads(tmp_path):
    """Found by a trial: an online export onto the workspace file itself (after 'Overwrite? y')
    turned the workspace into CSV. The workspace the app opened is refused like any input."""
    ws = tmp_path / "ws.db"
    app = make_app(ws, start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        before = ws.read_bytes()
        await export_seed(app, pilot, ws)
        reason = await refused(app, pilot)  # refused outright: no overwrite question
        assert "writing it would destroy it" in reason, reason
        assert ws.read_bytes()[:16] == b"SQLite format 3\x00" and len(ws.read_bytes()) >= len(before) // 2
