"""The manifest editor with Pilot: live diagnostics, navigation, quick fixes, saving, drafts."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.document._document import Document
from textual.document._wrapped_document import WrappedDocument
from textual.widgets import DataTable, Input, OptionList, Static

from annotrain_tui.core.manifest.drafts import draft_path_for, location_of, minimal_edit
from annotrain_tui.tui.keys import binding_ids
from annotrain_tui.tui.screens import manifest_editor as me
from annotrain_tui.tui.screens.home import HomeScreen
from annotrain_tui.tui.screens.manifest_dialogs import FixPicker, MessageDialog, TemplateDialog, UnsavedDialog
from annotrain_tui.tui.screens.manifest_editor import ManifestEditorScreen
from annotrain_tui.tui.screens.register import RegisterScreen
from annotrain_tui.tui.widgets import manifest_text_area as mta
from annotrain_tui.tui.widgets.detail import RowDetail
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog, PathDialog
from annotrain_tui.tui.widgets.manifest_text_area import ManifestTextArea
from annotrain_tui.tui.widgets.tables import SafeDataTable
from tests.tui.helpers import make_app
from tests.tui.helpers import settle as settle_once

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "manifests"
AWS = "https://encord-integration.s3.eu-west-2.amazonaws.com/images"

TRAILING_COMMA = (
    '{\n'
    '  "images": [\n'
    f'    {{"objectUrl": "{AWS}/a.jpg"}},\n'
    f'    {{"objectUrl": "{AWS}/b.jpg",}}\n'
    '  ]\n'
    '}\n'
)


def valid_text(n: int = 2) -> str:
    return json.dumps({"images": [{"objectUrl": f"{AWS}/{i}.jpg"} for i in range(n)]}, indent=2) + "\n"


def editor_app(tmp_path: Path, path: Path | None, **kwargs):
    options = {"manifest": str(path)} if path is not None else {}
    return make_app(tmp_path / "ws.db", start_screen="manifest", options=options, **kwargs)


async def settle(app, pilot) -> None:
    """Until nothing runs: a worker's result can start the next worker (a fix, then validation)."""
    for _ in range(100):
        await settle_once(app, pilot)
        screen = app.screen
        waiting = getattr(screen, "validating", False) and not getattr(screen, "debounce_pending", False)
        busy = waiting or any(w.is_running for w in app.workers)
        if not busy:
            return
    raise AssertionError("the app did not settle")


def rows(table: DataTable) -> list[list[str]]:
    return [[cell.plain if hasattr(cell, "plain") else str(cell) for cell in table.get_row_at(i)]
            for i in range(table.row_count)]


def summary(screen: ManifestEditorScreen) -> str:
    return str(screen.query_one("#me-summary", Static).render())


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


# -- live diagnostics ----------------------------------------------------------------------------

def validated(seen: list[ManifestEditorScreen.Validated]):
    """A message hook keeping every ``Validated`` message the editor's worker posts (once: the hook
    sees a message at each pump it is dispatched by)."""
    def hook(message) -> None:  # type: ignore[no-untyped-def]
        if isinstance(message, ManifestEditorScreen.Validated) and not any(m is message for m in seen):
            seen.append(message)
    return hook


async def test_errors_are_listed_with_positions_and_typing_a_fix_makes_it_valid(tmp_path, monkeypatch):
    monkeypatch.setattr(ManifestEditorScreen, "DEBOUNCE", 600.0)  # no timer fires during this test
    path = tmp_path / "m.json"
    path.write_text(TRAILING_COMMA)
    app = editor_app(tmp_path, path)
    seen: list[ManifestEditorScreen.Validated] = []
    async with app.run_test(size=(80, 24), message_hook=validated(seen)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ManifestEditorScreen)
        comma = TRAILING_COMMA.splitlines()[3].index(",}") + 1  # 1-based column of the comma
        assert rows(screen.table) == [["err", f"4:{comma}", "json-syntax",
                                       screen.diagnostics[0].message]]
        assert "trailing comma" in screen.diagnostics[0].message
        assert "✗ invalid" in summary(screen) and "1 error" in summary(screen)
        # F8 puts the cursor on the comma; Delete removes it.
        await pilot.press("f8")
        assert screen.editor.cursor_location == (3, comma - 1)
        await pilot.press("delete")
        await settle(app, pilot)
        # Debounced: no validation per keystroke, one is scheduled.
        assert not [m for m in seen if m.generation == screen.generation] and screen.debounce_pending
        screen.action_validate()
        await settle(app, pilot)
        assert [m.generation for m in seen][-1] == screen.generation
        assert screen.table.row_count == 0
        assert "✓ valid" in summary(screen) and "2 items, 2 URLs" in summary(screen)
        assert screen.is_dirty() and "(modified)" in screen.sub_title


async def test_the_debounce_timer_validates_after_typing(tmp_path, monkeypatch):
    """The real timer: two keys, then one validation of the text after the last key (the Validated
    message is waited for, not a fixed time)."""
    import asyncio

    monkeypatch.setattr(ManifestEditorScreen, "DEBOUNCE", 1.0)  # longer than two key presses take
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    seen: list[ManifestEditorScreen.Validated] = []
    async with app.run_test(size=(80, 24), message_hook=validated(seen)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.editor.move_cursor((0, 1))
        loaded = len(seen)
        await pilot.press("x", "y")
        typed = screen.generation
        assert screen.debounce_pending and len(seen) == loaded  # nothing validated per keystroke

        async def validated_typed() -> None:
            while not any(m.generation == typed for m in seen):
                await pilot.pause()

        await asyncio.wait_for(validated_typed(), timeout=20)
        await settle(app, pilot)
        after_load = [m.generation for m in seen[loaded:]]
        assert after_load == [typed]  # one validation for both keys, of the text after the last
        assert screen.diagnostics and screen.diagnostics[0].code == "json-syntax"


async def test_next_and_previous_diagnostic_move_the_cursor(tmp_path):
    path = tmp_path / "m.json"
    text = FIXTURES.joinpath("url_placeholder.json").read_text()
    path.write_text(text)
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        lines = text.splitlines()
        # Every URL is flagged where its value starts (the opening quote of the value).
        expected = [(i, line.index('"', line.index(":"))) for i, line in enumerate(lines) if "objectUrl" in line]
        placed = [(d.line - 1, d.column - 1) for d in screen.diagnostics if d.line is not None]
        assert sorted(set(placed)) == expected
        await pilot.press("f8")
        assert screen.editor.cursor_location == expected[0]
        assert screen.focused is screen.editor
        await pilot.press("f8")
        assert screen.editor.cursor_location == expected[1]
        await pilot.press("ctrl+n", "ctrl+n")  # past the last one: wraps to the first
        assert screen.editor.cursor_location == expected[0]
        await pilot.press("ctrl+b")  # previous, wrapping to the last
        assert screen.editor.cursor_location == expected[-1]
        # Enter on a row of the list jumps there too.
        screen.table.focus()
        screen.table.move_cursor(row=1)
        await pilot.press("enter")
        d = screen.diagnostics[1]
        assert screen.editor.cursor_location == (d.line - 1, d.column - 1)
        assert screen.focused is screen.editor


async def test_the_problem_list_keys_are_every_tables(tmp_path):
    """The problem list is a SafeDataTable: i shows the highlighted problem's row whole (its message
    uncut, at 80 columns the Message column shows only its start), End/Home go to the last/first."""
    path = tmp_path / "m.json"
    path.write_text(FIXTURES.joinpath("url_placeholder.json").read_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.table
        assert isinstance(table, SafeDataTable) and table.row_count > 1
        table.focus()
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("home")
        assert table.cursor_row == 0
        table.move_cursor(row=1)
        d = screen.diagnostics[1]
        assert len(d.message) > table.size.width  # cut in the table
        await pilot.press("i")
        assert isinstance(app.screen, RowDetail)
        body = app.screen.query_one("#detail-body", Static).render()
        assert d.message in getattr(body, "plain", str(body))
        assert ("Code", d.code) in app.screen.record
        await pilot.press("escape")
        assert app.screen is screen and screen.focused is table


async def test_provider_mismatch_uses_the_picked_integration(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.table.row_count == 0
        app.selection.integration = next(i for i in app.workspace.raw.list_integrations()
                                         if i.provider.value == "gcp")
        screen.action_validate()
        await settle(app, pilot)
        assert "provider-mismatch" in {d.code for d in screen.diagnostics}
        assert "provider gcp" in summary(screen)


async def test_a_result_for_older_text_is_ignored(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(TRAILING_COMMA)
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        shown = list(screen.diagnostics)
        stale = screen.generation
        await pilot.press("space")  # the text moves on
        from annotrain_tui.core.manifest.validate import validate_text

        screen.post_message(ManifestEditorScreen.Validated(stale, validate_text(valid_text()), None))
        await pilot.pause()
        assert screen.diagnostics == shown and "✗ invalid" in summary(screen)


async def test_a_failing_validation_is_reported_not_left_spinning(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_text(valid_text())

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(me, "validate_text", broken)
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert "validation failed" in summary(screen) and "validating…" not in summary(screen)
        assert any("Unexpected error (RuntimeError)" in m for m in messages(app))


# -- quick fixes ---------------------------------------------------------------------------------

async def pick_fix(app, pilot, fix_id: str) -> None:
    await pilot.press("f4")
    await settle(app, pilot)
    assert isinstance(app.screen, FixPicker)
    options = app.screen.query_one(OptionList)
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    options.highlighted = ids.index(fix_id)
    await pilot.press("enter")
    await settle(app, pilot)


async def test_quick_fix_renumbers_object_urls_as_one_undoable_edit(tmp_path):
    path = tmp_path / "m.json"
    original = FIXTURES.joinpath("url_index_gap.json").read_text()
    path.write_text(original)
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert [d.code for d in screen.diagnostics] == ["url-index"]
        await pilot.press("f8")
        await pick_fix(app, pilot, "renumber-object-urls")
        assert isinstance(app.screen, ManifestEditorScreen)
        fixed = screen.editor.text
        assert '"objectUrl_2": "https://encord-integration.s3.eu-west-2.amazonaws.com/images/3.jpg"' in fixed
        assert fixed == original.replace('"objectUrl_3"', '"objectUrl_2"')
        assert screen.diagnostics == [] and "✓ valid" in summary(screen)
        # One undo step brings the text back exactly.
        screen.editor.focus()
        await pilot.press("ctrl+z")
        assert screen.editor.text == original
        await pilot.press("ctrl+y")
        assert screen.editor.text == fixed


async def test_quick_fix_removes_a_trailing_comma_after_typing(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(TRAILING_COMMA)
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        # Some typing first: the fix must be its own undo step, not merged into the typing.
        screen.editor.move_cursor((0, 1))
        await pilot.press("space")
        screen.action_validate()
        await settle(app, pilot)
        typed = screen.editor.text
        await pilot.press("f8")
        await pick_fix(app, pilot, "remove-trailing-commas")
        assert screen.editor.text == typed.replace('.jpg",}', '.jpg"}')
        assert screen.diagnostics == []
        screen.editor.focus()
        await pilot.press("ctrl+z")
        assert screen.editor.text == typed


async def test_a_programmatic_edit_is_never_merged_with_typing(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(TRAILING_COMMA)
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.editor.move_cursor((1, 2))
        await pilot.press("backspace")  # a deletion, as the fix below is
        typed = screen.editor.text
        row = 3
        col = screen.editor.document.get_line(row).index(",}")
        screen.replace_as_one_edit((row, col), (row, col + 1), "")
        await pilot.press("backspace")  # and typing right after it
        await pilot.press("ctrl+z")
        assert screen.editor.text == typed.replace('.jpg",}', '.jpg"}')
        await pilot.press("ctrl+z")
        assert screen.editor.text == typed


def status(screen: ManifestEditorScreen) -> str:
    return str(screen.query_one("#me-status", Static).render())


async def test_quick_fix_without_a_fix_says_so_and_the_enter_after_it_never_reaches_the_file(tmp_path):
    """Trial item 30: "No quick fix" was a toast while a fix is a dialog, so the Enter meant for the
    dialog went into the file. Now the dialog stays, says so, and Enter closes it."""
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"images": []}))
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.diagnostics
        before = screen.editor.text
        screen.editor.focus()
        await pilot.press("f4")
        await settle(app, pilot)
        assert isinstance(app.screen, FixPicker)
        assert "No quick fix for no-items" in str(app.screen.query_one("#fix-status", Static).render())
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen and screen.editor.text == before
        assert "No quick fix for no-items" in status(screen)  # said in the panel, not only in a toast


async def test_f4_with_no_problem_at_the_cursor_then_enter_changes_nothing(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert not screen.diagnostics
        before = screen.editor.text
        await pilot.press("f4")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen and screen.editor.text == before
        assert "No problem here" in status(screen)


async def test_after_a_fix_on_a_long_line_the_view_is_not_left_scrolled_sideways(tmp_path):
    """Trial item 25: a fix on a long URL line scrolled the whole view right; short lines looked empty."""
    long_url = "https://b.s3.eu-west-2.amazonaws.com/cohort/my photo.jpg"  # the space near column 60
    tail = "x" * 150
    text = json.dumps({"images": [{"objectUrl": long_url, "title": tail}]}, indent=2) + "\n"
    path = tmp_path / "m.json"
    path.write_text(text)
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        d = next(i for i, d in enumerate(screen.diagnostics) if d.code == "url-not-absolute")
        screen.jump_to(d)
        await pilot.press("f4")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.pause()
        assert "my%20photo.jpg" in screen.editor.text
        row, col = screen.editor.cursor_location
        assert col > 50  # the edit is right of the middle of the view (centering scrolled sideways) …
        assert screen.editor.scroll_x == 0  # … yet the view starts at column 0 (the cursor still in it)
        assert "Fixed" in status(screen)


async def test_f3_shows_the_whole_message(tmp_path):
    """Trial item 22: the detail pane cut the how-to-fix part; F3 shows the whole message, wrapped."""
    path = tmp_path / "m.json"
    path.write_text(FIXTURES.joinpath("url_placeholder.json").read_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("f8", "f3")
        dialog = app.screen
        assert isinstance(dialog, MessageDialog)
        d = screen.diagnostics[0]
        message = dialog.query_one("#message-text", Static)
        assert len(d.message) > 100 and str(message.render()) == d.message  # whole, the how-to-fix too
        assert message.size.height >= 2 and message.region.right <= 80  # wrapped inside the dialog, not cut
        await pilot.press("enter")
        assert app.screen is screen


# -- saving and drafts ---------------------------------------------------------------------------

async def test_save_writes_atomically_and_clears_the_dirty_state(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    writes = []
    real = me.atomic_write_text
    monkeypatch.setattr(me, "atomic_write_text", lambda p, t: writes.append(Path(p)) or real(p, t))
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.editor.move_cursor((2, 4))
        await pilot.press("space")
        screen.action_validate()
        await settle(app, pilot)
        draft = screen.draft_path
        assert draft.exists() and "(modified)" in screen.sub_title
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert path.read_text() == screen.editor.text
        assert path in writes  # through the core's atomic writer (temp file + os.replace)
        assert not screen.is_dirty() and "(modified)" not in screen.sub_title
        assert not draft.exists()
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".m.json")) == []


async def test_a_failed_save_keeps_the_edits_and_the_draft(tmp_path):
    folder = tmp_path / "gone"
    folder.mkdir()
    path = folder / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("space")
        screen.action_validate()
        await settle(app, pilot)
        path.unlink()
        folder.rmdir()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        # Trial item 2: one failure, one toast (Textual dispatched the handler once per class).
        assert len([m for m in messages(app) if "does not exist" in m]) == 1
        bar = screen.error_text  # kept on the screen until a save succeeds
        assert bar.startswith("Not saved") and "does not exist" in bar and "F12" in bar
        assert screen.is_dirty() and screen.draft_path.exists()
        assert screen.path == path and str(path) in screen.sub_title  # still the target, never "untitled"
        folder.mkdir()  # the way out without losing anything: the folder is back, Ctrl+S again
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert path.read_text() == screen.editor.text and not screen.is_dirty() and not screen.error_text


async def test_leaving_with_unsaved_edits_can_save_as_when_the_file_cannot_be_written(tmp_path):
    folder = tmp_path / "gone"
    folder.mkdir()
    path = folder / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("space")
        path.unlink()
        folder.rmdir()
        await pilot.press("escape")
        assert screen.is_dirty()
        assert isinstance(app.screen, UnsavedDialog)
        await pilot.press("a")
        assert isinstance(app.screen, PathDialog)
        elsewhere = tmp_path / "kept.json"
        await save_as(pilot, app, str(elsewhere))
        await settle(app, pilot)
        assert elsewhere.read_text().startswith(" ")  # the edit (a space at the start) is kept
        assert app.screen is not screen and not isinstance(app.screen, ManifestEditorScreen)  # then it left


async def save_as(pilot, app, value: str) -> None:
    """Type ``value`` into the open save dialog (replacing what it starts with) and press Enter."""
    field = app.screen.query_one("#field-path", Input)
    field.value = value
    field.focus()
    await pilot.press("enter")


async def test_a_failed_save_as_keeps_the_dialog_and_the_target_then_saving_elsewhere_works(tmp_path):
    """Trial item 1: after one "Save as" into a missing directory every later Ctrl+S went back to the
    failed path. Now the dialog says why and stays open; the target changes only when a save succeeds."""
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.editor.move_cursor((1, 2))
        await pilot.press("space")
        await pilot.press("f12")
        assert isinstance(app.screen, PathDialog)
        await save_as(pilot, app, str(tmp_path / "nodir" / "cohort.json"))
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, PathDialog)  # still open, the reason inside it
        assert "No directory" in str(dialog.query_one("#form-error", Static).render())
        assert not messages(app)  # said once, where the user looks: in the dialog
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen and screen.path == path and str(path) in screen.sub_title
        # Save as again: another folder this time.
        await pilot.press("f12")
        good = tmp_path / "cohort.json"
        await save_as(pilot, app, str(good))
        await settle(app, pilot)
        assert app.screen is screen and screen.path == good and good.read_text() == screen.editor.text
        assert str(good) in screen.sub_title and "(modified)" not in screen.sub_title
        assert path.read_text() == valid_text()  # the file it came from is untouched
        assert "Saved" in status(screen)
        # Ctrl+S now writes the new file, and the save dialog next starts in its folder.
        await pilot.press("space", "ctrl+s")
        await settle(app, pilot)
        assert good.read_text() == screen.editor.text
        await pilot.press("f12")
        assert app.screen.query_one("#field-path", Input).value == str(good)
        assert app.workspace.recent().get("save_dir") == str(tmp_path)


async def test_the_save_dialog_starts_in_the_last_folder_saved_to(tmp_path):
    folder = tmp_path / "manifests"
    folder.mkdir()
    app = editor_app(tmp_path, None)
    app.workspace.recent().set(save_dir=str(folder))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.editor.focus()
        await pilot.press(*"{}")
        await pilot.press("ctrl+s")
        field = app.screen.query_one("#field-path", Input)
        assert field.value == str(folder) + "/"
        field.focus()
        await pilot.press(*"new.json", "enter")
        await settle(app, pilot)
        assert (folder / "new.json").read_text() == screen.editor.text and screen.path == folder / "new.json"


async def test_ctrl_s_with_a_path_typed_but_not_opened_asks_where(tmp_path):
    """The trial typed a new path into the path field and pressed Ctrl+S: it saved elsewhere. Now
    Ctrl+S asks, prefilled with the typed path."""
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        other = tmp_path / "other.json"
        screen.query_one("#me-path", Input).value = str(other)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, PathDialog)
        assert app.screen.query_one("#field-path", Input).value == str(other)
        await pilot.press("enter")
        await settle(app, pilot)
        assert other.read_text() == valid_text() and screen.path == other


async def test_the_editor_actions_are_in_the_command_palette_and_the_help(tmp_path):
    from annotrain_tui.tui.app import screen_commands

    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        names = {name for name, _, _ in screen_commands(screen)}
        for action in ("Save", "Save as", "Open", "Template", "Fix", "Register", "Whole message"):
            assert f"Manifest: {action}" in names, names
        assert "F12" in screen.SCREEN_HELP and "F3" in screen.SCREEN_HELP
        assert screen.help_for(screen.editor) == ManifestTextArea.HELP
        assert "F4" in (screen.help_for(screen.table) or "")


async def test_the_last_manifest_is_offered_and_a_missing_one_is_a_quiet_no_op(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
    assert app.workspace.recent().get("manifest") == str(path)  # opened: remembered

    again = editor_app(tmp_path, None)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        screen = again.screen
        field = screen.query_one("#me-path", Input)
        assert field.value == str(path) and screen.focused is field and screen.path is None
        await pilot.press("enter")  # opens it
        await settle(again, pilot)
        assert screen.path == path and screen.editor.text == valid_text()

    path.unlink()
    third = editor_app(tmp_path, None)
    async with third.run_test(size=(80, 24)) as pilot:
        await settle(third, pilot)
        screen = third.screen
        assert screen.query_one("#me-path", Input).value == "" and not messages(third)


async def test_the_draft_note_shows_the_apps_clock(tmp_path):
    """"draft kept HH:MM:SS" reads app.now() (the hook screenshots freeze), not the wall clock."""
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    frozen = datetime(2026, 12, 1, 9, 30, 7, tzinfo=UTC)
    app.now = lambda: frozen  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.editor.move_cursor((2, 4))
        await pilot.press("space")
        screen.action_validate()
        await settle(app, pilot)
        assert screen.draft_path.exists()
        assert screen.draft_saved_at == frozen
        summary = str(screen.query_one("#me-summary", Static).render())
        assert "draft kept " + frozen.astimezone().strftime("%H:%M:%S") in summary


async def test_a_draft_survives_a_crash_and_is_offered_back(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.editor.move_cursor((2, 4))
        await pilot.press(*"edited")
        screen.action_validate()  # what the debounce does after the last key: validate, keep the draft
        await settle(app, pilot)
        edited = screen.editor.text
        draft = screen.draft_path
        # Written while the app runs: a crash (the process killed) from here on leaves it behind.
        assert draft.read_text() == edited
    assert path.read_text() == valid_text()  # never saved

    again = editor_app(tmp_path, path)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        assert isinstance(again.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(again, pilot)
        screen = again.screen
        assert isinstance(screen, ManifestEditorScreen)
        assert screen.editor.text == edited and screen.is_dirty()
        assert screen.saved_text == valid_text()


async def test_declining_the_draft_opens_the_file_and_deletes_the_draft(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    draft = draft_path_for(app.workspace.paths.drafts_dir, path.resolve())
    draft.parent.mkdir(parents=True, exist_ok=True)
    draft.write_text(valid_text(3))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(app, pilot)
        assert app.screen.editor.text == valid_text() and not draft.exists()


async def test_a_draft_older_than_the_file_is_offered_with_a_warning(tmp_path):
    path = tmp_path / "m.json"
    app = editor_app(tmp_path, path)
    draft = draft_path_for(app.workspace.paths.drafts_dir, path.resolve())
    draft.parent.mkdir(parents=True, exist_ok=True)
    draft.write_text(valid_text(3))
    path.write_text(valid_text())  # changed after the draft was written
    os.utime(draft, (1, 1))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "changed after it" in str(app.screen.query(Static)[1].render())
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen.editor.text == valid_text(3) and app.screen.saved_text == valid_text()


async def test_a_draft_equal_to_the_file_is_not_offered(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    draft = draft_path_for(app.workspace.paths.drafts_dir, path.resolve())
    draft.parent.mkdir(parents=True, exist_ok=True)
    draft.write_text(valid_text())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ManifestEditorScreen)
        assert not draft.exists()  # nothing in it that the file lacks


async def test_escape_with_unsaved_edits_asks(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("space")
        screen.action_validate()
        await settle(app, pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, UnsavedDialog)
        assert "draft is kept" in str(app.screen.query("Static")[1].render())
        await pilot.press("escape")  # cancel: still editing
        assert app.screen is screen and screen.is_dirty()
        await pilot.press("escape", "d")  # discard and leave
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        assert not screen.draft_path.exists()
        assert path.read_text() == valid_text()


async def test_escape_save_saves_then_leaves(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("space")
        await pilot.press("escape", "s")
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        assert path.read_text() == " " + valid_text() and not screen.draft_path.exists()


async def test_escape_without_edits_leaves_at_once(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_quit_hook_asks_about_unsaved_edits(tmp_path):
    """The app's quit action can ask the editor first (``confirm_quit``)."""
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        quits = []
        assert screen.confirm_quit(lambda: quits.append(1)) is False  # nothing to lose
        await pilot.press("space")
        assert screen.confirm_quit(lambda: quits.append(1)) is True
        await pilot.pause()
        assert isinstance(app.screen, UnsavedDialog)
        await pilot.press("d")
        assert quits == [1]


async def test_leaving_keeps_the_last_keystrokes_in_the_draft(tmp_path):
    """Quitting the app (Ctrl+Q) before the debounce fired: unmounting writes the draft."""
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press(*"abc")
        text, draft = screen.editor.text, screen.draft_path
        await pilot.press("ctrl+q")
    assert draft.read_text() == text


async def test_an_untitled_draft_is_offered_back(tmp_path):
    app = editor_app(tmp_path, None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.editor.focus()
        await pilot.press(*'{"images": []}')
        screen.action_validate()
        await settle(app, pilot)
        text = screen.editor.text
        assert screen.draft_path.read_text() == text

    again = editor_app(tmp_path, None)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        assert isinstance(again.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(again, pilot)
        assert again.screen.editor.text == text and again.screen.path is None


# -- opening ---------------------------------------------------------------------------------------

async def test_a_missing_path_offers_a_template(tmp_path):
    path = tmp_path / "new" / "manifest.json"
    path.parent.mkdir()
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, FormDialog)
        app.screen.query_one("#field-type", Input).value = "videos"
        app.screen.query_one("#field-provider", Input).value = "gcp"
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ManifestEditorScreen)
        assert '"videos"' in screen.editor.text and "storage.cloud.google.com" in screen.editor.text
        assert screen.path == path.resolve() and not path.exists()
        assert not screen.result.valid  # the <placeholders> are flagged
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert path.read_text() == screen.editor.text


async def test_a_template_over_existing_text_asks_first_and_replace_is_one_undoable_edit(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("ctrl+t")
        assert isinstance(app.screen, TemplateDialog)  # trial item 29: never replaced without asking
        await pilot.press("r")
        assert isinstance(app.screen, FormDialog)
        await pilot.press("enter")  # images, aws
        await settle(app, pilot)
        assert "<bucket>" in screen.editor.text and screen.path == path
        screen.editor.focus()
        await pilot.press("ctrl+z")
        assert screen.editor.text == valid_text()


async def test_a_template_as_a_new_manifest_leaves_the_open_file_alone(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("ctrl+t")
        await pilot.press("n")
        assert isinstance(app.screen, FormDialog)
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.path is None and "<bucket>" in screen.editor.text
        assert "untitled" in screen.sub_title and screen.query_one("#me-path", Input).value == ""
        assert path.read_text() == valid_text()


async def test_a_template_cancelled_changes_nothing(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("ctrl+t")
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen and screen.editor.text == valid_text() and screen.path == path


async def test_a_template_from_a_file_of_urls(tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{AWS}/a.jpg\n{AWS}/b.jpg\n")
    app = editor_app(tmp_path, None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("ctrl+t")
        app.screen.query_one("#field-type", Input).value = ""
        app.screen.query_one("#field-urls", Input).value = str(urls)
        await pilot.press("enter")
        await settle(app, pilot)
        assert json.loads(screen.editor.text)["images"] == [{"objectUrl": f"{AWS}/a.jpg"},
                                                             {"objectUrl": f"{AWS}/b.jpg"}]
        assert screen.result.valid
        # Untitled: saving asks for a path.
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, PathDialog)
        target = tmp_path / "from-urls.json"
        app.screen.query_one("#field-path", Input).value = str(target)
        await pilot.press("enter")
        await settle(app, pilot)
        assert target.read_text() == screen.editor.text and not screen.is_dirty()


@pytest.mark.parametrize("make, expected", [
    (lambda d: d, "is a directory"),
    (lambda d: FIXTURES / "not_utf8.json", "cannot be edited as text"),
])
async def test_unreadable_files_get_a_clear_message(tmp_path, make, expected):
    target = make(tmp_path)
    app = editor_app(tmp_path, None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        path_input = screen.query_one("#me-path", Input)
        path_input.value = str(target)
        path_input.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen and screen.path is None
        assert expected in screen.error_text and screen.error_text.startswith("Cannot open")
        assert not messages(app)  # once, on the screen: no toast over the panel
        path_input.value = str(FIXTURES / "url_placeholder.json")
        await pilot.press("enter")  # a file that opens clears it
        await settle(app, pilot)
        assert screen.path is not None and not screen.error_text


async def test_a_csv_manifest_is_validated_as_csv(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(FIXTURES.joinpath("valid_mixed.csv").read_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.format == "csv" and not screen.highlighting
        assert screen.result.format == "csv" and screen.result.valid


# -- untrusted text ---------------------------------------------------------------------------------

async def test_hostile_content_is_shown_literally(tmp_path):
    path = tmp_path / "m.json"
    hostile = {"images": [{"objectUrl": f"{AWS}/[bold red]pwn[/].jpg", "tit[b]le\x1b[2J": "x"}],
               "[link=https://evil.example]x[/link]": 1}
    path.write_text(json.dumps(hostile, indent=2))
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert {d.code for d in screen.diagnostics} == {"unknown-key", "url-not-absolute"}
        joined = "\n".join(cell for row in rows(screen.table) for cell in row)
        assert "\x1b" not in joined and "\\x1b[2J" in joined  # the escape made visible
        assert "[link=https://evil.example]x[/link]" in joined and "tit[b]le" in joined  # not markup
        for i in range(screen.table.row_count):
            for cell in screen.table.get_row_at(i)[2:]:
                assert all(span.start == 0 and span.end == len(cell) for span in cell.spans)
        # A raw ESC typed or pasted into the text is drawn as a visible symbol, never sent as is.
        row = next(i for i in range(screen.editor.document.line_count)
                   if "evil.example" in screen.editor.document.get_line(i))
        screen.editor.insert("\x1b[2J\x9b", (row, 3))
        drawn = screen.editor.get_line(row).plain
        assert "\x1b" not in drawn and "\x9b" not in drawn and "␛[2J�" in drawn
        screen.action_validate()
        await settle(app, pilot)
        assert "\x1b" not in "".join(cell for r in rows(screen.table) for cell in r)


# -- registration, keys, layout ---------------------------------------------------------------------

async def test_the_register_key_saves_and_hands_the_path_to_registration(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("space")
        await pilot.press("f5")
        await settle(app, pilot)
        assert isinstance(app.screen, RegisterScreen)
        assert app.screen.manifest_path == str(path.resolve())
        assert app.screen.query_one("#manifest-path", Input).value == str(path.resolve())
        assert path.read_text() == " " + valid_text()


async def test_key_2_on_home_opens_the_editor_and_keys_are_known_to_the_keymap(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        assert isinstance(app.screen, ManifestEditorScreen)
        assert app.screen.focused is app.screen.query_one("#me-path", Input)
        ids = binding_ids()
        assert {"manifest.next", "manifest.previous", "manifest.fix", "manifest.save", "manifest.template",
                "manifest.register", "manifest.back"} <= ids


async def test_layout_at_80x24_and_side_by_side_when_wide(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text(40))
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        editor, table = screen.editor.region, screen.table.region
        assert editor.height >= 10 and table.height >= 3 and table.y > editor.y
        await pilot.resize_terminal(160, 40)
        await settle(app, pilot)
        editor, panel = screen.editor.region, screen.query_one("#me-panel").region
        assert panel.x >= editor.right and panel.y == editor.y


async def test_a_big_file_turns_highlighting_off_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(ManifestEditorScreen, "HIGHLIGHT_MAX_CHARS", 100)
    path = tmp_path / "m.json"
    path.write_text(valid_text(5))
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert not screen.highlighting and screen.editor.language is None
        assert "syntax colours off: 526 B is over 100 B" in summary(screen) or "plain text" in summary(screen)


async def test_a_small_json_file_is_highlighted_when_tree_sitter_is_there(tmp_path):
    if me.highlighting_problem():
        pytest.skip(me.highlighting_problem())
    path = tmp_path / "m.json"
    path.write_text(TRAILING_COMMA)
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.highlighting and screen.editor.language == "json"
        assert screen.editor._highlights  # the visible rows carry highlights
        await pilot.press("space", "ctrl+z")
        assert screen.editor.text == TRAILING_COMMA


async def test_highlights_follow_the_viewport(tmp_path):
    if me.highlighting_problem():
        pytest.skip(me.highlighting_problem())
    path = tmp_path / "m.json"
    path.write_text(valid_text(2000))  # 6,000 lines: highlighted, but only around the viewport
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        editor = app.screen.editor
        assert app.screen.highlighting
        last = editor.document.line_count - 3
        assert not editor._highlights.get(last) and editor._highlights.get(2)
        editor.move_cursor((last, 0))
        await pilot.pause()
        assert editor._highlights.get(last)  # rebuilt for the rows now on screen
        drawn = editor.render_line(editor.cursor_location[0] - editor.scroll_offset.y)
        assert len({seg.style for seg in drawn if seg.text.strip()}) > 1  # more than one colour


# -- the pieces --------------------------------------------------------------------------------------

def test_minimal_edit_is_one_replacement():
    assert minimal_edit("abc", "abc") is None
    assert minimal_edit('{"a": 1,}', '{"a": 1}') == (7, 8, "")
    assert minimal_edit("objectUrl_3", "objectUrl_2") == (10, 11, "2")
    big = "x" * 200_000
    old, new = big + "A" + big, big + "BC" + big
    start, end, insert = minimal_edit(old, new)
    assert old[:start] + insert + old[end:] == new and (start, end, insert) == (200_000, 200_001, "BC")
    assert minimal_edit("aaaa", "aa") in {(2, 4, ""), (0, 2, "")}
    assert location_of("ab\ncd\nef", 4) == (1, 1)


def test_draft_names_are_per_path_and_safe(tmp_path):
    a = draft_path_for(tmp_path, Path("/x/m.json"))
    b = draft_path_for(tmp_path, Path("/y/m.json"))
    assert a != b and a.parent == tmp_path and a.name.startswith("m.json-")
    hostile = draft_path_for(tmp_path, Path("/x/../../etc/passwd\x1b"))
    assert hostile.parent == tmp_path and "/" not in hostile.name and "\x1b" not in hostile.name
    assert draft_path_for(tmp_path, None).name.startswith("untitled-")


@pytest.mark.skipif(not mta.FAST_EDITOR, reason="Textual internals not available")
def test_the_flat_wrapped_document_agrees_with_textual():
    text = "{\n\t\"a\": [1,\n  2],\n\n  \"ü\": \"日本\"\n}"
    stock_doc, flat_doc = Document(text), mta.CachedTextDocument(text)
    stock, flat = WrappedDocument(stock_doc, tab_width=4), mta.FlatWrappedDocument(flat_doc, tab_width=4)

    def same() -> None:
        assert flat_doc.text == stock_doc.text
        assert flat.height == stock.height == stock_doc.line_count
        n = stock_doc.line_count
        assert [flat._offset_to_line_info[i] for i in range(n)] == stock._offset_to_line_info
        assert flat._offset_to_line_info[-1] == stock._offset_to_line_info[-1]
        assert [flat.get_offsets(i) for i in range(n)] == [stock.get_offsets(i) for i in range(n)]
        assert [flat.get_tab_widths(i) for i in range(n)] == [stock.get_tab_widths(i) for i in range(n)]
        for row in range(n):
            for col in range(len(stock_doc[row]) + 1):
                assert flat.location_to_offset((row, col)) == stock.location_to_offset((row, col))
                off = stock.location_to_offset((row, col))
                assert flat.offset_to_location(off) == stock.offset_to_location(off)

    same()
    for start, end, insert in [((1, 0), (1, 0), "\t"), ((2, 1), (3, 0), "x\ny\n\tz"), ((0, 0), (5, 1), "{}"),
                               ((0, 1), (0, 1), "\n\n")]:
        r1 = stock_doc.replace_range(start, end, insert)
        r2 = flat_doc.replace_range(start, end, insert)
        stock.wrap_range(start, end, r1.end_location)
        flat.wrap_range(start, end, r2.end_location)
        same()


async def test_a_long_position_widens_the_line_col_column_and_is_never_cut(tmp_path):
    """A 500,000-item manifest on one line has positions like 1:16801728: the column was nine
    cells wide and showed 1:1680172, another position."""
    from rich.text import Text

    from annotrain_tui.core.manifest.diagnostics import Diagnostic

    path = tmp_path / "m.json"
    path.write_text(TRAILING_COMMA)
    app = editor_app(tmp_path, path)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ManifestEditorScreen)
        screen.diagnostics = [Diagnostic(severity="error", code="missing-url", message="m", line=1, column=16801728)]
        screen._fill_table()
        await pilot.pause()
        cell = screen.table.get_row_at(0)[1]
        assert str(cell) == "1:16801728" if not isinstance(cell, Text) else cell.plain == "1:16801728"
        from textual.widgets.data_table import ColumnKey

        assert screen.table.columns[ColumnKey("pos")].get_render_width(screen.table) >= len("1:16801728") + 2
