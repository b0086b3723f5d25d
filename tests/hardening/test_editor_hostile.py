"""Issue 11, family 9: no hang on a hostile file, in the manifest editor.

A 200 KB file of 100,000 nested brackets froze the editor for over 70 s (tree-sitter's highlight
query on the UI thread grows with the nesting depth) and Ctrl+Q could not get through. Each Pilot
session below is bounded by ``asyncio.wait_for`` (a generous limit: the bound is what is tested,
not the speed) and checks, by counting, that tree-sitter never saw the hostile text.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from textual.document._syntax_aware_document import SyntaxAwareDocument
from textual.widgets import Input, Static

from annotrain_tui.core.manifest import text_cost as tc
from annotrain_tui.tui.screens import manifest_editor as me
from annotrain_tui.tui.screens.manifest_dialogs import UnsavedDialog
from annotrain_tui.tui.screens.manifest_editor import ManifestEditorScreen
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, PathDialog
from annotrain_tui.tui.widgets.manifest_text_area import ManifestTextArea
from tests.tui.test_manifest_editor import editor_app, messages, settle, summary, valid_text

LIMIT = 20.0  # seconds for a whole session; the hang this guards against took over 70 s

DEEP = {
    "brackets": "[" * 100_000,
    "objects": '{"a":' * 100_000,
}


async def bounded(coro) -> None:
    await asyncio.wait_for(coro, LIMIT)


@pytest.fixture
def queries(monkeypatch) -> list[int]:
    """Every tree-sitter highlight query the editor runs, counted (with the text's length)."""
    calls: list[int] = []
    real = SyntaxAwareDocument.query_syntax_tree

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(self.text))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SyntaxAwareDocument, "query_syntax_tree", counting)
    return calls


@pytest.mark.parametrize("kind", sorted(DEEP))
async def test_a_deeply_nested_file_opens_plain_takes_keys_and_quits(tmp_path, kind, queries):
    hostile = DEEP[kind]
    path = tmp_path / "deep.json"
    path.write_text(hostile)
    app = editor_app(tmp_path, path)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, ManifestEditorScreen) and screen.painted_at is not None
            # Opened without syntax highlighting: never parsed, never queried; the panel says why.
            assert not screen.highlighting and screen.editor.language is None
            assert not isinstance(screen.editor.document, SyntaxAwareDocument)
            assert "syntax colours off: nesting depth 100000 > 256" in summary(screen)
            # The validation reports the nesting as one positioned diagnostic.
            assert len(screen.diagnostics) == 1
            d = screen.diagnostics[0]
            assert d.severity == "error" and d.code == "json-depth" and "nest" in d.message
            assert d.line == 1 and d.column is not None and d.column > 1
            # A keystroke is handled; editing, validation and the draft work.
            screen.editor.focus()
            screen.editor.move_cursor((0, 0))
            await pilot.press("x")
            assert screen.editor.text == "x" + hostile
            screen.action_validate()
            await settle(app, pilot)
            assert screen.draft_path.read_text() == "x" + hostile
            # Ctrl+Q asks about the unsaved edit, and quits.
            await pilot.press("ctrl+q")
            assert isinstance(app.screen, UnsavedDialog)
            await pilot.press("d")

    await bounded(session())
    assert app.return_code == 0
    assert not any(n > 10_000 for n in queries)  # the hostile text never reached a highlight query


async def test_escape_and_ctrl_q_work_while_a_validation_runs(tmp_path, monkeypatch):
    """A validation that does not finish (a stand-in for any slow worker) blocks nothing."""
    import threading

    release = threading.Event()
    started = threading.Event()
    real = me.validate_text

    def stuck(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(LIMIT)
        return real(*args, **kwargs)

    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            monkeypatch.setattr(me, "validate_text", stuck)
            await pilot.press("space")
            screen.action_validate()
            while not started.is_set():
                await pilot.pause()
            assert any(w.is_running and w.group == "manifest-validate" for w in app.workers)
            await pilot.press("escape")  # unsaved edits: asks
            assert isinstance(app.screen, UnsavedDialog)
            await pilot.press("escape")  # cancel
            assert app.screen is screen
            await pilot.press("ctrl+q")
            assert isinstance(app.screen, UnsavedDialog)
            release.set()
            await pilot.press("d")

    try:
        await bounded(session())
    finally:
        release.set()
    assert app.return_code == 0


async def test_pasting_deep_nesting_into_a_highlighted_file_turns_highlighting_off(tmp_path, queries):
    if me.highlighting_problem():
        pytest.skip(me.highlighting_problem())
    text = valid_text(3)
    path = tmp_path / "m.json"
    path.write_text(text)
    app = editor_app(tmp_path, path)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            screen, editor = app.screen, app.screen.editor
            assert screen.highlighting and editor.language == "json" and queries
            before = len(queries)
            editor.move_cursor((1, 0))
            editor.insert("[" * 100_000)  # one paste
            await settle(app, pilot)
            assert len(queries) == before  # the deep text was never queried
            assert not screen.highlighting and editor.language is None
            assert "syntax colours off: nesting depth 100003 > 256"  # 3 levels were there in summary(screen)
            lines = text.splitlines(keepends=True)
            assert editor.text == lines[0] + "[" * 100_000 + "".join(lines[1:])
            assert editor.cursor_location == (1, 100_000)
            editor.undo()  # the history survives the switch to plain text
            assert editor.text == text
            await pilot.press("x")
            assert editor.text.startswith(lines[0]) and screen.is_dirty()

    await bounded(session())


async def test_typing_brackets_one_by_one_turns_highlighting_off_at_the_limit(tmp_path):
    if me.highlighting_problem():
        pytest.skip(me.highlighting_problem())
    path = tmp_path / "m.json"
    path.write_text(valid_text(1))
    app = editor_app(tmp_path, path)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            screen, editor = app.screen, app.screen.editor
            editor.move_cursor((0, 0))
            for _ in range(253):  # the document nests 3 levels already: 256 is the limit
                editor.insert("[")
            await pilot.pause()
            assert screen.highlighting and editor.language == "json"
            editor.insert("[")
            await settle(app, pilot)
            assert not screen.highlighting and editor.language is None
            assert "syntax colours off: nesting depth 257 > 256" in summary(screen)

    await bounded(session())


def test_the_cost_bounds():
    cost = tc.text_cost("[" * 100_000)
    assert cost.depth == 100_000 and cost.line_tokens == 100_000
    assert tc.text_cost("]]]]" + "[[[").depth == 3  # stray closers do not hide the openers after them
    assert tc.text_cost('{"a": [1]}\n[]').depth == 2
    assert tc.text_cost("\udcff").surrogate
    limits = tc.HighlightLimits(chars=1_000_000, depth=256, line_tokens=2_000, window_tokens=50_000)
    assert tc.too_costly(tc.text_cost(valid_text(100)), limits) is None
    assert tc.too_costly(cost, limits) == "nesting depth 100000 > 256"
    assert tc.too_costly(tc.text_cost("[" + "0," * 3000 + "0]"), limits) == "3,002 tokens on one line > 2,000"
    assert tc.first_deeper_than("x\n" + "[" * 300, 256) == (2, 257, 300)


async def test_a_validator_that_recurses_too_deep_gives_one_diagnostic(tmp_path, monkeypatch):
    def recursing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(me, "validate_text", recursing)
    path = tmp_path / "deep.json"
    path.write_text('{"images": ' + "[" * 300 + "]" * 300 + "}")
    app = editor_app(tmp_path, path)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert [(d.code, d.line, d.column) for d in screen.diagnostics] == [("json-depth", 1, 267)]
            assert screen.diagnostics[0].message.startswith("nesting too deep at 1:267: 301 levels")
            assert "validation failed" not in summary(screen)

    await bounded(session())


async def test_nesting_just_under_the_readers_limit_is_one_diagnostic(tmp_path):
    """Deep enough for a recursive reader to give up: whichever reader does, one diagnostic."""
    path = tmp_path / "deep.json"
    path.write_text('{"images": ' + "[" * 990 + "]" * 990 + "}")
    app = editor_app(tmp_path, path)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert len(screen.diagnostics) == 1
            d = screen.diagnostics[0]
            assert d.code == "json-depth" and "nest" in d.message and d.line == 1
            assert "validation failed" not in summary(screen)

    await bounded(session())


# -- untrusted names ---------------------------------------------------------------------------------

HOSTILE_NAME = "m\x1b]0;pwned\x07\u202egnp.\udcff.json"  # OSC title, BEL, bidi override, lone surrogate


async def test_a_hostile_file_name_is_shown_escaped(tmp_path):
    path = tmp_path / HOSTILE_NAME
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)

    async def session() -> None:
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert screen.path == path and screen.result is not None and screen.result.valid
            escaped = "m\\x1b]0;pwned\\x07\\u202egnp.\\udcff.json"
            field = screen.query_one("#me-path", Input)
            for shown_text in (screen.sub_title, field.value):
                assert escaped in shown_text
                assert not any(ch in shown_text for ch in "\x1b\x07\u202e\udcff")
            # Enter on the escaped name opens the real file again (not a file named with backslashes).
            field.focus()
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.screen is screen and screen.path == path and screen.editor.text != ""
            await pilot.press("space", "ctrl+s")
            await settle(app, pilot)
            saved = str(screen.query_one("#me-status", Static).render())  # the panel's status line
            assert saved.startswith("Saved") and escaped in saved and "\x1b" not in saved + "".join(messages(app))
            assert path.read_text() == screen.editor.text

    await bounded(session())


# -- saving ------------------------------------------------------------------------------------------

async def save_as(app, pilot, target: Path) -> None:
    await pilot.press("ctrl+s")
    assert isinstance(app.screen, PathDialog)
    app.screen.query_one("#field-path", Input).value = str(target)
    await pilot.press("enter")
    await settle(app, pilot)


async def test_save_as_asks_before_replacing_another_file(tmp_path):
    other = tmp_path / "other.json"
    other.write_text("keep me")
    app = editor_app(tmp_path, None)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            screen.editor.focus()
            screen.editor.insert(valid_text())
            await save_as(app, pilot, other)
            assert isinstance(app.screen, ConfirmDialog)  # "Replace the file?"
            await pilot.press("n")
            await settle(app, pilot)
            assert other.read_text() == "keep me" and screen.path is None and screen.is_dirty()
            await save_as(app, pilot, other)
            await pilot.press("y")
            await settle(app, pilot)
            assert other.read_text() == screen.editor.text
            assert screen.path == other and not screen.is_dirty()
            # Saving the open file again does not ask: it is the file the editor wrote.
            await pilot.press("space", "ctrl+s")
            await settle(app, pilot)
            assert app.screen is screen and other.read_text() == screen.editor.text

    await bounded(session())


async def test_saving_asks_when_another_program_replaced_the_open_file(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            await pilot.press("space")
            replacement = tmp_path / "new.json"
            replacement.write_text("theirs, written while the editor had the file open")
            os.replace(replacement, path)
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("n")
            await settle(app, pilot)
            assert path.read_text().startswith("theirs") and screen.is_dirty()
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            await pilot.press("y")
            await settle(app, pilot)
            assert path.read_text() == screen.editor.text and not screen.is_dirty()

    await bounded(session())


@pytest.mark.parametrize("target", ["/dev/null", "fifo"])
async def test_save_as_never_replaces_a_device_or_a_fifo(tmp_path, target):
    if target == "fifo":
        target = str(tmp_path / "pipe.json")
        os.mkfifo(target)
    app = editor_app(tmp_path, None)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            screen.editor.focus()
            screen.editor.insert(valid_text())
            await save_as(app, pilot, Path(target))
            assert app.screen is screen and screen.path is None and screen.is_dirty()
            assert any("not a regular file" in m for m in messages(app))

    await bounded(session())
    assert Path(target).exists() and not Path(target).is_file()


async def test_save_as_never_replaces_the_file_of_urls_a_template_came_from(tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text("https://encord-integration.s3.eu-west-2.amazonaws.com/images/a.jpg\n")
    app = editor_app(tmp_path, None)

    async def session() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            screen.build_template("images", "aws", str(urls), False)
            await settle(app, pilot)
            assert "a.jpg" in screen.editor.text
            await save_as(app, pilot, urls)
            assert app.screen is screen and screen.path is None
            assert any("inputs" in m for m in messages(app))
            assert urls.read_text().startswith("https://")

    await bounded(session())


async def test_opening_a_fifo_does_not_hang(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    app = editor_app(tmp_path, fifo)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert screen.path is None
            assert "not a regular file" in screen.error_text

    await bounded(session())


async def test_a_file_too_big_to_edit_is_refused_with_a_hint(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"images": []}) + " " * 5000)
    real = me.read_for_editing
    monkeypatch.setattr(me, "read_for_editing", lambda p, d: real(p, d, max_bytes=1000))
    app = editor_app(tmp_path, path)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert app.screen.path is None
            error = app.screen.error_text
            assert "too big to edit here" in error and "manifest split" in error

    await bounded(session())


async def test_pasted_bidi_controls_and_lone_surrogates_are_drawn_visibly(tmp_path):
    """Nothing that reorders or breaks the terminal is drawn; tree-sitter (UTF-8 only) is not fed
    a lone surrogate: highlighting goes off instead of the edit failing."""
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    app = editor_app(tmp_path, path)

    async def session() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            screen, editor = app.screen, app.screen.editor
            highlighted = screen.highlighting
            editor.insert("\u202e\u2066\u200b\udcff\x1b", (2, 4))
            await settle(app, pilot)
            line = editor.get_line(2).plain
            assert not any(ch in line for ch in "\u202e\u2066\u200b\udcff\x1b")
            assert len(line) == len(editor.document.get_line(2))  # one cell drawn for each character
            assert "\u202e\u2066\u200b\udcff\x1b" in editor.text  # the text itself is what was pasted
            if highlighted:
                assert not screen.highlighting and "lone surrogate" in summary(screen)
            await pilot.press("x")
            assert screen.is_dirty()

    await bounded(session())


def test_bracket_matching_is_bounded_on_a_long_line(monkeypatch):
    """The partner of a bracket is looked for within BRACKET_SCAN_CHARS characters, even on one line."""
    editor = ManifestTextArea()
    text = "[" + "1," * 500 + "1]"
    editor.load_text(text)
    assert editor.find_matching_bracket("[", (0, 0)) == (0, len(text) - 1)
    assert editor.find_matching_bracket("]", (0, len(text) - 1)) == (0, 0)
    monkeypatch.setattr(ManifestTextArea, "BRACKET_SCAN_CHARS", 100)
    assert editor.find_matching_bracket("[", (0, 0)) is None
    assert editor.find_matching_bracket("]", (0, len(text) - 1)) is None
    editor.load_text("[\n" + "1,\n" * 10 + "1]")
    assert editor.find_matching_bracket("[", (0, 0)) == (11, 1)  # near enough, over lines
