"""The evaluation screen's first view (issue 14: its memory against the CLI's): the annotator table
of label-row files is shown without pandas (32 MiB, 0.3 s) and without the Pick screen's module
(registration, pydantic: 8 MiB) while Home is covered; a view that needs the per-object rows still
gets them, and then pandas is imported. Each run is a fresh process, the real app headless, so
nothing this test process has loaded counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.synth import make_programme
from tests.tui.helpers import demo_workspace

_CHILD = """
import asyncio, json, sys
out, db, bm, *trs = sys.argv[1:]
from annotrain_tui.core.config import Paths, Settings
from annotrain_tui.core.workspace import open_workspace
from annotrain_tui.tui.app import AnnotrainApp

async def main():
    ws = open_workspace(Paths.default(), Settings().replace(sandbox_path=db, retry_base_delay=0))
    app = AnnotrainApp(ws, start_screen="evaluation", screen_options={"benchmark_labels": bm, "training_labels": trs})
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(600):
            await pilot.pause(0.05)
            snap = getattr(app.screen, "snapshot", None)
            if snap is not None and app.screen.table.row_count:
                break
        home = [s for s in app.screen_stack if type(s).__name__ == "HomeScreen"]
        for _ in range(200):  # Home's load under the evaluation screen ends too
            await pilot.pause(0.05)
            if home and home[0].overview is not None and not home[0]._loading:
                break
        seen = {"rows": app.screen.table.row_count, "pandas": "pandas" in sys.modules,
                "pick": "annotrain_tui.tui.screens.pick" in sys.modules, "pydantic": "pydantic" in sys.modules,
                "home_loaded": bool(home) and home[0].overview is not None}
        objects = await asyncio.to_thread(lambda: app.screen.snapshot.objects)
        seen.update(objects=len(objects), pandas_after=("pandas" in sys.modules))
    open(out, "w").write(json.dumps(seen))

asyncio.run(main())
"""


def test_the_annotator_table_of_files_is_shown_without_pandas_nor_the_pick_module(tmp_path):
    prog = make_programme(seed=3, n_items=6, annotators=("a@x.com", "b@x.com"))
    bm, paths = prog.write_files(tmp_path)
    db = tmp_path / "ws.db"
    demo_workspace(db)
    out = tmp_path / "seen.json"
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(out), str(db), str(bm), *map(str, paths)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(Path(out).read_text())
    assert seen["rows"] == 2 and seen["home_loaded"]
    assert not seen["pandas"], "the first view imported pandas"
    assert not seen["pick"] and not seen["pydantic"], "Home, covered, imported the Pick screen's module"
    assert seen["objects"] > 0 and seen["pandas_after"]  # the rows a drill-down asks for are there
