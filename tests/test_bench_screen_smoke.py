"""bench/bench_evaluation_screen.py at a tiny size: it runs to its table, and a load that fails is said, not waited on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "bench_evaluation_screen.py"


def isolated_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        env[f"XDG_{name}_HOME"] = str(tmp_path / "xdg" / name.lower())
    return env


def test_tiny_run_prints_the_row_with_both_goals(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--images", "6", "--annotators", "2", "--boxes", "3",
                           "--keep", str(tmp_path / "work")], capture_output=True, text=True, cwd=ROOT,
                          env=isolated_env(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "input: 3 files" in out
    ratio = next(line for line in out.splitlines() if line.startswith("| screen peak RSS / CLI peak RSS"))
    assert "≤ 1.5×" in ratio and float(ratio.split("|")[2].strip().rstrip("×")) > 0
    stall = next(line for line in out.splitlines() if line.startswith("| longest heartbeat stall"))
    assert "≤ 100 ms" in stall and int(stall.split("|")[2].strip().removesuffix(" ms")) >= 5  # one beat at least
    # the child's own record: the screen showed both annotators, and the heartbeat beat while it loaded
    got = json.loads((tmp_path / "work" / "screen_0.json").read_text())
    assert got["failed"] == "" and got["annotators"] == 2
    assert got["published"] > got["screen"] >= 0 and got["beats"] >= 2
    assert got["peak"] > 0 and got["rss_loaded"] > 0


def test_a_load_that_fails_is_reported_not_waited_on(tmp_path):
    bm = tmp_path / "benchmark.json"
    bm.write_text("[{not json")
    tr = tmp_path / "training.json"
    tr.write_text("[]")
    result = tmp_path / "result.json"
    from tests.tui.helpers import demo_workspace

    demo_workspace(tmp_path / "ws.db")  # the parent seeds the workspace the child opens
    done = subprocess.run([sys.executable, str(SCRIPT), "--child", str(result), str(tmp_path / "ws.db"), str(bm),
                           str(tr)], capture_output=True, text=True, cwd=ROOT, env=isolated_env(tmp_path),
                          timeout=120)
    assert done.returncode == 1
    assert "evaluation screen: the load failed" in done.stderr
    got = json.loads(result.read_text())
    assert got["failed"].startswith("the load failed") and got["published"] is None
