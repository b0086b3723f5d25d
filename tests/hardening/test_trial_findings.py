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


def test_closed_stdout_or_stderr_is_one_line_not_an_internal_error(tmp_path):
    """`annotrain status >&-` was 'internal error: AttributeError: NoneType has no attribute flush'."""
    proc = subprocess.run([*ANNOTRAIN, "status"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=60, preexec_fn=lambda: os.close(1))
    assert proc.returncode == 1 and proc.stderr == ("annotrain: error: standard output is closed; run it with "
                                                    "its output somewhere (e.g. > /dev/null)\n")
    proc = subprocess.run([*ANNOTRAIN, "status"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                          timeout=60, preexec_fn=lambda: os.close(2))
    assert proc.returncode == 0 and "Benchmark Labels" in proc.stdout
