"""Failures an adversarial trial found after the first hardening pass, one test each."""

from __future__ import annotations

import os
import subprocess
import sys

ANNOTRAIN = [sys.executable, "-m", "annotrain_tui"]


def run_cli(*argv, timeout=60, **kw):
    return subprocess.run([*ANNOTRAIN, *argv], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kw)


def test_a_fifo_as_the_workspace_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "f.db"
    os.mkfifo(fifo)
    for argv in (["status"], ["projects", "list"], ["sandbox", "init", "--demo", "--force"]):
        proc = run_cli("--sandbox", str(fifo), *argv, timeout=30)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, (argv, proc.stderr)
        assert "not a regular file" in proc.stderr and "left untouched" in proc.stderr
    assert fifo.exists() and not fifo.is_file()
