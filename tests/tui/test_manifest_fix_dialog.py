"""The manifest editor's quick-fix dialog (F4) with Pilot (issue 17): its keys are shown, Enter meant
for the dialog never reaches the file, and the fixes are the core's (the same as `manifest fix`)."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.widgets import OptionList, Static
from textual.widgets._footer import FooterKey

from annotrain_tui.core.manifest.fixes import apply_fixes
from annotrain_tui.tui.screens import manifest_editor as me
from annotrain_tui.tui.screens.manifest_dialogs import FixPicker
from annotrain_tui.tui.screens.manifest_editor import ManifestEditorScreen
from tests.tui.helpers import make_app
from tests.tui.helpers import settle as settle_once

H = "https://bucket.s3.eu-west-2.amazonaws.com"
SPACE = ('{\n  "images": [\n    {"objectUrl": "' + H + '/my photo.jpg", "title": "a"},\n'
         '    {"objectUrl": "' + H + '/b c.jpg"}\n  ]\n}\n')


def editor_app(tmp_path: Path, path: Path):
    return make_app(tmp_path / "ws.db", start_screen="manifest", options={"manifest": str(path)})


async def settle(app, pilot) -> None:
    for _ in range(100):
        await settle_once(app, pilot)
        screen = app.screen
        waiting = getattr(screen, "validating", False) and not getattr(screen, "debounce_pending", False)
        if not (waiting or any(w.is_running for w in app.workers)):
            return
    raise AssertionError("the app did not settle")


def option_ids(app) -> list[str]:
    options = app.screen.query_one(OptionList)
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


async def open_editor(tmp_path: Path, text: str, name: str = "m.json"):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return editor_app(tmp_path, path)


async def test_the_dialog_shows_its_keys(tmp_path):
    app = await open_editor(tmp_path, SPACE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("f8", "f4")
        await settle(app, pilot)
        assert isinstance(app.screen, FixPicker)
        keys = str(app.screen.query_one("#fix-keys", Static).render())
        assert "Enter applies" in keys and "Esc cancels" in keys and "↑/↓" in keys
        footer = {k.description for k in app.screen.query(FooterKey)}
        assert {"Apply fix", "Cancel"} <= footer
        assert option_ids(app)[0] == "percent-encode-url"
        assert option_ids(app)[-2:] == ["all-url-not-absolute", "all"]
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ManifestEditorScreen) and app.screen.editor.text == SPACE


async def test_enter_in_the_dialog_applies_the_fix_and_never_reaches_the_file(tmp_path):
    app = await open_editor(tmp_path, SPACE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("f8", "f4")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ManifestEditorScreen)
        assert screen.editor.text == SPACE.replace("/my photo.jpg", "/my%20photo.jpg")  # no newline anywhere
        assert screen.editor.text.encode() == SPACE.encode().replace(b"/my photo.jpg", b"/my%20photo.jpg")


async def test_enter_while_the_fixes_are_looked_for_goes_to_the_dialog(tmp_path, monkeypatch):
    release = threading.Event()
    real = me.fixes_for

    def slow(*args, **kwargs):
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(me, "fixes_for", slow)
    app = await open_editor(tmp_path, SPACE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("f8", "f4")
        assert isinstance(app.screen, FixPicker)  # at once, before any fix is found
        assert app.screen.fixes is None
        await pilot.press("enter", "enter")  # meant for the dialog: nothing happens, the file keeps them out
        await pilot.pause()
        assert screen.editor.text == SPACE and isinstance(app.screen, FixPicker)
        release.set()
        await settle(app, pilot)
        assert option_ids(app)[0] == "percent-encode-url"
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.editor.text == SPACE.replace("/my photo.jpg", "/my%20photo.jpg")


async def test_fix_every_problem_of_the_code_is_the_clis_loop(tmp_path):
    app = await open_editor(tmp_path, SPACE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("f8", "f4")
        await settle(app, pilot)
        app.screen.query_one(OptionList).highlighted = option_ids(app).index("all-url-not-absolute")
        await pilot.press("enter")
        await settle(app, pilot)
        expected = apply_fixes(SPACE, codes={"url-not-absolute"}, path=str(tmp_path / "m.json")).text
        assert screen.editor.text == expected
        assert expected == SPACE.replace("/my photo.jpg", "/my%20photo.jpg").replace("/b c.jpg", "/b%20c.jpg")
        assert screen.diagnostics == []
        screen.editor.focus()
        await pilot.press("ctrl+z")  # one undo step for the whole batch
        assert screen.editor.text == SPACE


async def test_csv_row_with_too_many_cells_in_the_editor(tmp_path):
    text = "ObjectUrl,Image title\n" + H + "/1.jpg,Hello, world\n"
    app = await open_editor(tmp_path, text, "m.csv")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert [d.code for d in screen.diagnostics] == ["csv-row"]
        await pilot.press("f8", "f4")
        await settle(app, pilot)
        assert option_ids(app)[:2] == ["join-extra-cells", "drop-extra-cells"]
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.editor.text == text.replace("Hello, world", '"Hello, world"')
        assert screen.diagnostics == []


async def test_keep_one_copy_of_a_repeated_key(tmp_path):
    text = ('{\n  "skip_duplicate_urls": true,\n  "images": [{"objectUrl": "' + H + '/1.jpg"}],\n'
            '  "skip_duplicate_urls": false\n}\n')
    app = await open_editor(tmp_path, text)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("f8", "f4")
        await settle(app, pilot)
        ids = option_ids(app)
        assert ids[:3] == ["keep-copy-2", "keep-copy-1", "keep-last"]
        app.screen.query_one(OptionList).highlighted = ids.index("keep-copy-1")
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.editor.text == text.replace(',\n  "skip_duplicate_urls": false\n}', "\n}")
        assert screen.diagnostics == []
