"""The manifest editor's draft survives the process being killed (SIGKILL: no unmount, no atexit):
a real child process edits, the draft is written, the child is killed, and the next editor offers
the edits back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from annotrain_tui.tui.widgets.dialogs import ConfirmDialog
from tests.tui.test_manifest_editor import editor_app, settle, valid_text

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import asyncio, sys
from pathlib import Path
from tests.tui.test_manifest_editor import editor_app, settle

async def main(tmp: str, path: str) -> None:
    app = editor_app(Path(tmp), Path(path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        screen.editor.move_cursor((1, 2))
        await pilot.press(*"KEPT")
        screen.action_validate()  # what the debounce does: validate and write the draft
        await settle(app, pilot)
        print(screen.draft_path if screen.draft_path.exists() else "no draft", flush=True)
        await asyncio.Event().wait()  # until killed

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
async def test_a_draft_survives_sigkill_and_is_offered_back(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(valid_text())
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), str(path)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    guard = threading.Timer(120, child.kill)  # a child that never answers fails the test, never hangs it
    guard.start()
    try:
        line = child.stdout.readline().strip() if child.stdout else ""
        assert line and line != "no draft", child.stderr.read() if child.stderr else line
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        guard.cancel()
        if child.poll() is None:
            child.kill()
        child.wait()
    draft = Path(line)
    assert "KEPT" in draft.read_text() and path.read_text() == valid_text()

    again = editor_app(tmp_path, path)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        assert isinstance(again.screen, ConfirmDialog)  # "Restore the draft?"
        await pilot.press("y")
        await settle(again, pilot)
        screen = again.screen
        assert "KEPT" in screen.editor.text and screen.is_dirty() and screen.path == path
