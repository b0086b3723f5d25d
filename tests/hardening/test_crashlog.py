"""Unexpected errors: one line naming a crash log; the log holds the traceback without locals and
without key text, 0600 in a 0700 directory under the state dir. The same for the CLI and the TUI."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from annotrain_tui.cli import main
from annotrain_tui.core import crashlog
from annotrain_tui.core.config import Paths
from annotrain_tui.core.secrets import REMOVED

LINE = re.compile(r"^annotrain: internal error: (?P<what>.+) \(details in (?P<path>/\S+\.log)\)\n$")


@pytest.fixture(scope="module")
def key_text() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption()).decode()


def body_lines(key: str) -> list[str]:
    return [ln for ln in key.splitlines() if ln and not ln.startswith("-----")]


def assert_no_key(text: str, key: str) -> None:
    assert "PRIVATE KEY" not in text
    for ln in body_lines(key):
        assert ln not in text and ln[:20] not in text


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# -- the crash log itself ---------------------------------------------------------------------------

def _raise_with_a_local(key_text: str) -> None:
    secret_local = "LOCAL-VALUE-" + key_text  # noqa: F841 - a local the log must not show
    raise RuntimeError("boom: " + key_text)


def test_the_crash_log_has_the_traceback_without_locals_or_key_text(tmp_path, key_text):
    try:
        _raise_with_a_local(key_text)
    except RuntimeError as exc:
        path = crashlog.write_crash_log(exc, state_dir=tmp_path / "state", argv=["--ssh-key", key_text])
    text = path.read_text()
    assert path.parent == tmp_path / "state" / "crash"
    assert "Traceback (most recent call last)" in text and "_raise_with_a_local" in text
    assert "RuntimeError: boom: " + REMOVED in text
    assert "LOCAL-VALUE-" not in text  # no locals
    assert_no_key(text, key_text)
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700


def test_chained_exceptions_are_logged_and_redacted_too(tmp_path, key_text):
    try:
        try:
            raise ValueError(key_text)
        except ValueError as inner:
            raise KeyError("outer") from inner
    except KeyError as exc:
        text = crashlog.write_crash_log(exc, state_dir=tmp_path).read_text()
    assert "ValueError" in text and "KeyError" in text
    assert_no_key(text, key_text)


def test_old_crash_logs_are_pruned(tmp_path, monkeypatch):
    paths = [crashlog.write_crash_log(RuntimeError(str(i)), state_dir=tmp_path) for i in range(5)]
    for i, p in enumerate(paths):
        os.utime(p, (1000 + i, 1000 + i))
    monkeypatch.setattr(crashlog, "KEEP", 3)
    crashlog.write_crash_log(RuntimeError("last"), state_dir=tmp_path)
    left = sorted((tmp_path / "crash").glob("crash-*.log"))
    assert len(left) == 3 and not paths[0].exists() and not paths[1].exists()


def test_report_says_so_when_the_log_cannot_be_written(tmp_path):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state dir should be")
    line, path = crashlog.report(RuntimeError("boom"), state_dir=blocker)
    assert path is None and line.startswith("internal error: RuntimeError: boom (no crash log written")


# -- the CLI ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("exc_type", [RuntimeError, RecursionError, MemoryError, AssertionError, TypeError])
def test_an_unexpected_cli_error_is_one_line_naming_its_crash_log(capsys, monkeypatch, key_text, exc_type):
    from annotrain_tui.cli import list_cmd as ws_cmd

    def fail(*args, **kwargs):
        raise exc_type("went wrong \x1b]0;title\x07 " + key_text)

    monkeypatch.setattr(ws_cmd, "load_overview", fail)
    code = main(["status"])
    out, err = capsys.readouterr()
    m = LINE.match(err)
    assert code == 1 and m, err
    assert m.group("what").startswith(f"{exc_type.__name__}: went wrong \\x1b]0;title\\x07 {REMOVED}")
    path = Path(m.group("path"))
    assert path.parent == Paths.default().state_dir / "crash"
    assert _mode(path) == 0o600
    text = path.read_text()
    assert f"{exc_type.__name__}: went wrong" in text and "load_overview" not in text.split("Traceback")[0]
    assert "in fail" in text  # the frame that raised
    assert "\x1b" not in text and "\x07" not in text
    assert_no_key(err + text, key_text)


def test_the_crash_log_records_the_command(capsys, monkeypatch):
    from annotrain_tui.cli import list_cmd as ws_cmd

    monkeypatch.setattr(ws_cmd, "load_overview", lambda *a, **k: 1 / 0)
    code = main(["status", "--backend", "sandbox"])
    err = capsys.readouterr().err
    m = LINE.match(err)
    assert code == 1 and m, err
    assert "argv: status --backend sandbox" in Path(m.group("path")).read_text()
    assert m.group("what") == "ZeroDivisionError: division by zero"


def test_when_no_crash_log_can_be_written_the_line_says_so(capsys, monkeypatch):
    from annotrain_tui.cli import list_cmd as ws_cmd

    state = Paths.default().state_dir
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("not a directory")
    monkeypatch.setattr(ws_cmd, "load_overview", lambda *a, **k: {}["missing"])
    code = main(["status"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("annotrain: internal error: KeyError: 'missing' (no crash log written")


# -- the TUI ----------------------------------------------------------------------------------------

async def test_an_unexpected_worker_error_writes_a_crash_log_named_in_the_toast(tmp_path, monkeypatch, key_text):
    from annotrain_tui.tui.screens import home
    from tests.tui.helpers import make_app, settle

    def broken(*args, **kwargs):
        raise RuntimeError("worker failed " + key_text)

    monkeypatch.setattr(home, "load_overview", broken)
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        toasts = [n.message for n in app._notifications]
    crash = [t for t in toasts if t.startswith("Unexpected error (RuntimeError)")]
    assert len(crash) == 1, toasts
    m = re.search(r"details in (/\S+\.log)$", crash[0])
    assert m, crash[0]
    path = Path(m.group(1))
    assert path == app.last_crash_log and path.parent == app.workspace.paths.state_dir / "crash"
    assert _mode(path) == 0o600
    text = path.read_text()
    assert "RuntimeError: worker failed" in text and "in broken" in text
    assert_no_key(crash[0] + text, key_text)


async def test_an_annotrain_error_in_a_worker_stays_a_toast_with_its_message(tmp_path, monkeypatch, key_text):
    from annotrain_tui.core.errors import NotFound
    from annotrain_tui.tui.screens import home
    from tests.tui.helpers import make_app, settle

    def missing(*args, **kwargs):
        raise NotFound("no such project " + key_text)

    monkeypatch.setattr(home, "load_overview", missing)
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        toasts = [n.message for n in app._notifications]
    assert any(t.startswith("no such project " + REMOVED) for t in toasts), toasts
    assert_no_key("\n".join(toasts), key_text)
    assert not (app.workspace.paths.state_dir / "crash").exists()


async def test_an_uncaught_error_exits_with_one_line_and_a_crash_log(tmp_path, key_text, capsys):
    from tests.tui.helpers import make_app, settle

    app = make_app(tmp_path / "ws.db")

    def boom() -> None:
        local_secret = "LOCAL-" + key_text  # noqa: F841 - Textual's own traceback would show it
        raise ValueError("handler failed " + key_text)

    with pytest.raises(ValueError):
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(app, pilot)
            app.call_later(boom)
            await pilot.pause()
    line = app.fatal_line
    assert line.startswith("annotrain: internal error: ValueError: handler failed " + REMOVED)
    printed = capsys.readouterr().err  # Textual printed nothing at exit: no traceback with locals
    assert "Traceback" not in printed and "LOCAL-" not in printed and app._exit_renderables == []
    path = Path(re.search(r"details in (/\S+\.log)\)$", line).group(1))
    text = path.read_text()
    assert "ValueError: handler failed" in text and "LOCAL-" not in text
    assert_no_key(line + printed + text, key_text)
