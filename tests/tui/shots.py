"""The one table of screen shots: what the README's ``screens/*.svg`` show (``scripts/screenshots.py``)
and what the snapshot suite compares (``tests/tui/test_snapshots.py``).

A shot opens one screen of the real app on a fresh deterministic demo sandbox and presses keys as a
user would. Paths that a screen shows (the workspace, the manifest) are fixed, not per run, so the
picture is the same every time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: a fixed root: the workspace, manifest and roster paths are drawn on screen, so they must not vary
ROOT = Path("/tmp/annotrain-shots")
#: the time every shot shows: every screen reads the clock through ``app.now()``, which
#: :func:`build_app` freezes to this
FROZEN_NOW = datetime(2026, 12, 1, 9, 30, 0, tzinfo=UTC)

BATCH = {"images": [
    {"objectUrl": "https://street-scenes-training.s3.eu-west-1.amazonaws.com/2026-q4/extra_01.jpg"},
    {"objectUrl": "https://street-scenes-training.s3.eu-west-1.amazonaws.com/2026-q4/extra_02.mp4"},
    {"objectUrl": "<bucket>/extra_03.jpg"}]}


@dataclass(frozen=True)
class Shot:
    name: str  # the SVG's file name in screens/, and the snapshot id
    screen: str  # the flow the app starts on (a key of the app's screen registry)
    options: dict[str, Any] = field(default_factory=dict)  # "{dir}" is the shot's own folder
    keys: tuple[str, ...] = ()  # pressed once loaded, each followed by a settle
    size: tuple[int, int] = (80, 24)  # the README's size


SHOTS: list[Shot] = [
    Shot("home", "home"),
    Shot("help", "home", keys=("f1",)),
    Shot("pick", "pick", keys=("enter",)),
    Shot("manifest", "manifest", {"manifest": "{dir}/batch.json"}, size=(100, 30)),
    Shot("register", "register", {"manifest": "{dir}/batch.json"}, ("v",), size=(100, 30)),
    Shot("benchmark", "benchmark", size=(100, 30)),
    Shot("provision", "provision", keys=("p",), size=(100, 30)),
    Shot("progress", "progress"),
    Shot("doctor", "doctor"),
    Shot("programmes", "programmes"),
    Shot("act", "act", keys=("t", "p")),
    Shot("audit", "audit"),
    Shot("history", "history"),
    Shot("evaluation", "evaluation", size=(100, 30)),
    Shot("annotator", "evaluation", keys=("down", "enter"), size=(100, 30)),
    Shot("item", "evaluation", keys=("down", "enter", "enter"), size=(100, 30)),
]


def shot_dir(shot: Shot, tag: str = "") -> Path:
    """The shot's own folder (one per shot and size, so parallel tests never share a database)."""
    return ROOT / (f"{shot.name}-{tag}" if tag else shot.name)


def shot_paths(folder: Path):  # noqa: ANN201 - core.config.Paths
    """XDG folders inside the shot's folder: the demo roster's path is drawn on Provision."""
    from annotrain_tui.core.config import Paths

    return Paths(config_dir=folder / "config", data_dir=folder / "data", state_dir=folder / "state",
                 cache_dir=folder / "cache")


def build_app(shot: Shot, tag: str = ""):
    """The real app on a fresh deterministic demo sandbox, about to open ``shot.screen``."""
    from annotrain_tui.core.backends.sandbox import SandboxBackend
    from annotrain_tui.core.backends.sandbox.demo import seed_demo
    from annotrain_tui.core.backends.sandbox.store import remove_files
    from annotrain_tui.core.config import Settings
    from annotrain_tui.core.workspace import open_workspace
    from annotrain_tui.tui.app import AnnotrainApp

    folder = shot_dir(shot, tag)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "batch.json").write_text(json.dumps(BATCH, indent=2))
    db = folder / "workspace.db"
    remove_files(db)
    import shutil

    for sub in ("config", "data", "state", "cache"):
        shutil.rmtree(folder / sub, ignore_errors=True)  # nothing remembered from the last run
    paths = shot_paths(folder)
    backend = SandboxBackend(db)
    seed_demo(backend, paths, deterministic_ids=True, now=FROZEN_NOW)
    backend.close()
    ws = open_workspace(paths, Settings(sandbox_path=db, retry_base_delay=0))
    options = {k: v.replace("{dir}", str(folder)) if isinstance(v, str) else v for k, v in shot.options.items()}
    app = AnnotrainApp(ws, start_screen=shot.screen, screen_options=options)
    app.now = lambda: FROZEN_NOW  # type: ignore[method-assign]
    return app


async def drive(app, pilot, shot: Shot) -> None:
    """Wait for the screen to load, press the shot's keys, wait again; the title is the app's name."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    for key in shot.keys:
        await pilot.press(key)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
    app.title = "annotrain"
    await pilot.pause()
    await tables_measured(app, pilot)
    # what measuring the tables set off (a cursor placed on a loaded row posts RowHighlighted, whose
    # handler fills the detail line): handled before the shot, whatever the machine's load
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await tables_measured(app, pilot)  # rows a late message added (a worker's Loaded) measured too
    await settled_frame(app, pilot)


async def settled_frame(app, pilot) -> None:
    """Until two frames in a row are the same: a worker's late message (a load that replaced
    another), and what it set off, are on screen before the shot, whatever the machine's load."""
    from tests.tui.helpers import screen_text

    before = screen_text(app)
    for _ in range(50):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await tables_measured(app, pilot)
        now = screen_text(app)
        if now == before:
            return
        before = now
    raise AssertionError("the screen never settled")


async def tables_measured(app, pilot) -> None:
    """A DataTable measures rows added since its last frame when it is next idle; a shot taken
    before that draws every column as wide as its label (seen once in CI: 'alex.kim…' on Progress).
    Wait for each table of the screen to have measured (Textual has no public flag for it)."""
    from textual.widgets import DataTable

    waited = False
    for _ in range(100):
        if not any(t._require_update_dimensions or t._new_rows or t._updated_cells
                   for t in app.screen.query(DataTable)):
            if waited:  # measured in this idle: let the repaint it asked for happen before the shot
                await pilot.pause()
            return
        waited = True
        await pilot.pause()
    raise AssertionError("a table never measured its rows")
