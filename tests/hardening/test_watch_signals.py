"""`annotrain watch` as a real process: Ctrl+C (SIGINT) and SIGTERM end it cleanly (130 and 0,
no traceback, no line cut), and a workspace deleted under it ends it with exit 1.

The process is started on a demo sandbox with ``--interval 0.2``; the tests wait for what it
prints (its banner on stderr, its first event on stdout: the demo's trainee stalled for over a
day), never for a time."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

DEADLINE = 60.0  # seconds: a hang fails the test instead of the run


@pytest.fixture
def demo_sandbox(tmp_path) -> Path:
    path = tmp_path / "demo.db"
    proc = subprocess.run([sys.executable, "-m", "annotrain_tui", "--sandbox", str(path), "sandbox", "init", "--demo"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return path


class Watch:
    """A running `annotrain watch`, read line by line from both pipes without blocking forever."""

    def __init__(self, sandbox: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "annotrain_tui", "--sandbox", str(sandbox), "watch", "--interval", "0.2", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = b""
        self.err = b""
        self._sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream in (self.proc.stdout, self.proc.stderr):
            os.set_blocking(stream.fileno(), False)
            self._sel.register(stream, selectors.EVENT_READ)

    def _read(self, deadline: float) -> bool:
        for key, _ in self._sel.select(timeout=max(0.0, deadline - time.monotonic())):
            chunk = key.fileobj.read()  # type: ignore[union-attr]
            if not chunk:
                self._sel.unregister(key.fileobj)
                continue
            if key.fileobj is self.proc.stdout:
                self.out += chunk
            else:
                self.err += chunk
        return bool(self._sel.get_map())

    def wait_for(self, where: str, text: bytes) -> None:
        deadline = time.monotonic() + DEADLINE
        while text not in getattr(self, where):
            if time.monotonic() > deadline or not self._read(deadline):
                self.proc.kill()
                raise AssertionError(f"no {text!r} on {where}: out={self.out!r} err={self.err!r}")

    def finish(self) -> int:
        deadline = time.monotonic() + DEADLINE
        while self._sel.get_map() and time.monotonic() < deadline:
            self._read(deadline)
        return self.proc.wait(timeout=DEADLINE)


def _clean(watch: Watch) -> None:
    assert b"Traceback" not in watch.err and b"Exception ignored" not in watch.err
    assert watch.out == b"" or watch.out.endswith(b"\n")  # no line cut


@pytest.mark.parametrize("sig, code, last", [(signal.SIGINT, 130, b"annotrain: interrupted: the watch stopped"),
                                             (signal.SIGTERM, 0, b"annotrain: the watch stopped (terminated)")])
def test_a_signal_ends_the_watch_cleanly(demo_sandbox, sig, code, last):
    watch = Watch(demo_sandbox)
    watch.wait_for("err", b"annotrain: watching the programme")
    watch.wait_for("out", b" stalled: chidi.okafor@example.com")
    watch.proc.send_signal(sig)
    assert watch.finish() == code
    _clean(watch)
    assert watch.err.rstrip(b"\n").splitlines()[-1] == last
    assert all(b" stalled: " in line for line in watch.out.splitlines())


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_json_lines_stay_whole_objects_when_a_signal_ends_the_watch(demo_sandbox, sig, code):
    watch = Watch(demo_sandbox, "--json", "--stalled-hours", "1")
    watch.wait_for("out", b"\n")  # the first event
    watch.proc.send_signal(sig)
    assert watch.finish() == code
    _clean(watch)
    docs = [json.loads(line) for line in watch.out.splitlines()]
    assert {d["annotator"] for d in docs} == {"bea.santos@example.com", "chidi.okafor@example.com"}
    assert all(d["kind"] == "stalled" for d in docs)
    assert b"watching the programme" in watch.err and b"watching" not in watch.out


def test_a_signal_while_the_first_look_loads_ends_it_as_cleanly(demo_sandbox):
    watch = Watch(demo_sandbox)
    watch.wait_for("err", b"annotrain: watching the programme")  # said before the first look
    watch.proc.send_signal(signal.SIGINT)
    assert watch.finish() == 130
    _clean(watch)


def test_a_workspace_deleted_under_the_watch_ends_it_with_exit_1(demo_sandbox):
    watch = Watch(demo_sandbox)
    watch.wait_for("out", b" stalled: ")
    demo_sandbox.unlink()
    assert watch.finish() == 1
    _clean(watch)
    last = watch.err.rstrip(b"\n").splitlines()[-1]
    assert last.startswith(b"annotrain: error: the sandbox workspace ") and b"deleted or replaced" in last
