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


def good_roster(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nAlex Kim,alex.kim@example.com\n", encoding="utf-8")
    return roster


async def add_row(app, pilot, name: str = "Zoe", email: str = "zoe@example.com") -> None:
    app.screen.query_one("#roster-table", DataTable).focus()
    await pilot.press("a")
    await pilot.press(*name, "tab", *email, "enter")
    await pilot.pause()
    assert isinstance(app.screen, ProvisionScreen) and app.screen.dirty


async def test_save_as_stays_open_on_a_path_the_save_refuses(tmp_path):
    from textual.widgets import Static

    from annotrain_tui.tui.widgets.dialogs import PathDialog
    from annotrain_tui.tui.widgets.inputs import SafeInput

    roster = good_roster(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await add_row(app, pilot)
        await pilot.press("w")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PathDialog)
        # the suggestion is next to the roster, as before
        assert dialog.query_one("#field-path", SafeInput).value == str(tmp_path / "roster-edited.csv")
        bad = str(tmp_path / "x" / "nope" / "r.csv")
        await pilot.press("ctrl+u", *bad, "enter")
        await pilot.pause()
        assert app.screen is dialog  # still open, what was typed kept, the reason inside
        assert dialog.query_one("#field-path", SafeInput).value == bad
        assert "No directory" in str(dialog.query_one("#form-error", Static).render())
        # a path that is not a regular file: the save's own refusal, in the dialog too
        fifo = tmp_path / "pipe.csv"
        import os

        os.mkfifo(fifo)
        await pilot.press("ctrl+u", *str(fifo), "enter")
        await pilot.pause()
        assert app.screen is dialog and str(dialog.query_one("#form-error", Static).render()).strip()
        good = tmp_path / "fixed.csv"
        await pilot.press("ctrl+u", *str(good), "enter")
        await pilot.pause()
        assert isinstance(app.screen, ProvisionScreen) and not app.screen.dirty
    assert "zoe@example.com" in good.read_text(encoding="utf-8")
    assert "zoe" not in roster.read_text(encoding="utf-8")


async def test_ctrl_q_with_unsaved_roster_edits_asks_and_can_save_then_quit(tmp_path):
    from annotrain_tui.tui.screens.manifest_dialogs import UnsavedDialog

    roster = good_roster(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await add_row(app, pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedDialog) and app.is_running
        await pilot.press("escape")  # cancel: nothing lost, still here
        await pilot.pause()
        assert isinstance(app.screen, ProvisionScreen) and app.screen.dirty and app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("s")  # save, then quit
        await pilot.pause()
    assert app.return_code == 0
    assert "zoe@example.com" in roster.read_text(encoding="utf-8")


async def test_a_failed_save_in_the_quit_question_does_not_quit(tmp_path):
    from annotrain_tui.tui.screens.manifest_dialogs import UnsavedDialog

    roster = good_roster(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await add_row(app, pilot)
        roster.unlink()
        roster.mkdir()  # the roster's path is now a directory: the save is refused
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedDialog)
        await pilot.press("s")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, ProvisionScreen) and app.screen.dirty
        assert any(n.title == "Cannot save the roster" for n in app._notifications)
        # Escape (leave) asks the same question; discard leaves
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedDialog)
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, (ProvisionScreen, UnsavedDialog))


async def test_a_dirty_provision_screen_under_another_screen_still_asks_on_ctrl_q(tmp_path):
    from annotrain_tui.tui.screens.manifest_dialogs import UnsavedDialog

    roster = good_roster(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await add_row(app, pilot)
        await pilot.press("g")  # the progress screen, pushed over the provision screen
        await settle(app, pilot)
        assert not isinstance(app.screen, ProvisionScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedDialog) and app.is_running
        await pilot.press("d")
        await pilot.pause()
    assert app.return_code == 0


async def test_the_finish_message_counts_this_run_apart_from_what_was_already_done(tmp_path):
    from textual.widgets import Static

    from annotrain_tui.tui.widgets.dialogs import ConfirmDialog

    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nAlex Kim,alex.kim@example.com\nNew One,one@example.com\n"
                      "New Two,two@example.com\n", encoding="utf-8")
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        asked = screen_text(app)
        assert "Create 2 training project(s)" in asked
        await pilot.press("y")
        await settle(app, pilot)
        said = str(app.screen.query_one("#problems", Static).render())
        assert ("Created 2 training project(s) and invited 2 annotator(s); 1 already provisioned; "
                "0 failed, 0 in conflict.") in said
        assert "3 provisioned" not in said


async def test_two_screens_with_unsaved_work_both_ask_before_quitting(tmp_path):
    """The quit went to the first screen that asked and exited on its answer: a dirty editor over
    a dirty roster lost the roster's edits once the editor's question was answered."""
    from annotrain_tui.tui.screens.manifest_dialogs import UnsavedDialog
    from annotrain_tui.tui.screens.manifest_editor import ManifestEditorScreen

    roster = good_roster(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await add_row(app, pilot)
        app.open_flow("manifest")
        await settle(app, pilot)
        editor = app.screen
        assert isinstance(editor, ManifestEditorScreen)
        editor.editor.focus()
        await pilot.press("x")
        await settle(app, pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedDialog) and app.is_running  # the editor asks first
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, UnsavedDialog) and app.is_running  # then the roster
        await pilot.press("escape")  # cancelled: nothing quits, the roster is still dirty
        await settle(app, pilot)
        assert app.is_running
        assert any(isinstance(s, ProvisionScreen) and s.dirty for s in app.screen_stack)


async def test_ctrl_q_while_provisioning_runs_asks_first(tmp_path):
    from annotrain_tui.tui.widgets.dialogs import ConfirmDialog

    roster = good_roster(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        screen.busy = True  # as while apply runs (its worker sets it)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and app.is_running
        await pilot.press("escape")  # keep running
        await pilot.pause()
        assert app.is_running and not screen.cancel_event.is_set()
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert screen.cancel_event.is_set() and app.return_code == 0
