"""One malloc arena for the TUI (core/malloc.py): a load in a worker thread peaked 9 MiB over the
same load on the main thread, each thread keeping the blocks it freed in an arena of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from annotrain_tui.core import malloc

_LOAD = """
import glob, sys, threading
from annotrain_tui.core.evaluation.session import EvaluationSession
from annotrain_tui.core.evaluation import engine, fastread, matching  # noqa: F401 (imported before the load)
mode, folder = sys.argv[1:]
if mode == "one":
    from annotrain_tui.core.malloc import one_arena
    assert one_arena()
session = EvaluationSession.of_files(folder + "/benchmark.json", sorted(glob.glob(folder + "/training_*.json")))
worker = threading.Thread(target=lambda: (session.load(), session.snapshot()))  # as the screen's load worker
worker.start()
worker.join()
# the peak of this image (ru_maxrss would carry the forking parent's over the exec)
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def _peak(mode: str, folder: Path) -> int:
    out = subprocess.run([sys.executable, "-c", _LOAD, mode, str(folder)], capture_output=True, text=True,
                         timeout=120, check=True)
    return int(out.stdout.strip())


def test_one_arena_is_asked_of_glibc_only(monkeypatch):
    if sys.platform.startswith("linux"):
        import ctypes

        glibc = hasattr(ctypes.CDLL(None), "gnu_get_libc_version")
        assert malloc.one_arena() is glibc
    monkeypatch.setattr(sys, "platform", "darwin")
    assert malloc.one_arena() is False


def test_the_app_asks_for_one_arena_before_any_worker(monkeypatch, tmp_path):
    from tests.tui.helpers import make_app

    asked: list[bool] = []
    monkeypatch.setattr(malloc, "one_arena", lambda: asked.append(True) or True)
    make_app(tmp_path / "ws.db")
    assert asked == [True]


def test_a_load_in_a_worker_thread_peaks_lower_with_one_arena(tmp_path):
    if not malloc.one_arena():
        return  # not glibc: nothing to compare
    from tests.synth import make_scene

    scene = make_scene(seed=1, n_items=250, objects_per_item=(15, 15))  # 9 MB, as the bench's files
    (tmp_path / "benchmark.json").write_text(json.dumps(scene.benchmark_rows()))
    for i in range(4):
        (tmp_path / f"training_{i}.json").write_text(json.dumps(
            scene.training_rows(f"a{i}@example.com", seed=100 + i, skill=(0.3, 1.0, 2.5)[i % 3])))
    assert _peak("one", tmp_path) < _peak("default", tmp_path)  # 43.7 against 46.2 MiB here
