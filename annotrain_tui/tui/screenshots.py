"""Render every screen to SVG in ``screens/`` (shown in the README).

    python -m annotrain_tui.tui.screenshots [--out screens]

Runs the real app on a fresh, deterministic demo sandbox in a temporary XDG tree, drives each
screen with the keyboard as a user would, and saves what the terminal shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

# (file name, screen, size, screen options, keys to press once loaded)
SHOTS: list[tuple[str, str, tuple[int, int], dict, list[str]]] = [
    ("home", "home", (80, 24), {}, []),
    ("help", "home", (80, 24), {}, ["f1"]),
    ("pick", "pick", (80, 24), {}, ["enter"]),
    ("manifest", "manifest", (100, 30), {"manifest": "{tmp}/batch.json"}, []),
    ("register", "register", (100, 30), {"manifest": "{tmp}/batch.json"}, ["v"]),
    ("benchmark", "benchmark", (100, 30), {}, []),
    ("provision", "provision", (100, 30), {}, ["p"]),
    ("progress", "progress", (80, 24), {}, []),
    ("doctor", "doctor", (80, 24), {}, []),
    ("evaluation", "evaluation", (100, 30), {}, []),
    ("annotator", "evaluation", (100, 30), {}, ["down", "enter"]),
    ("item", "evaluation", (100, 30), {}, ["down", "enter", "enter"]),
]


async def shoot(out: Path, tmp: Path, only: set[str] | None) -> list[Path]:
    from annotrain_tui.core.backends.sandbox import SandboxBackend
    from annotrain_tui.core.backends.sandbox.demo import seed_demo
    from annotrain_tui.core.config import Paths, Settings
    from annotrain_tui.core.workspace import open_workspace
    from annotrain_tui.tui.app import AnnotrainApp

    (tmp / "batch.json").write_text(json.dumps({"images": [
        {"objectUrl": "https://street-scenes-training.s3.eu-west-1.amazonaws.com/2026-q4/extra_01.jpg"},
        {"objectUrl": "https://street-scenes-training.s3.eu-west-1.amazonaws.com/2026-q4/extra_02.mp4"},
        {"objectUrl": "<bucket>/extra_03.jpg"}]}, indent=2))
    written = []
    for name, screen, size, options, keys in SHOTS:
        if only and name not in only:
            continue
        db = Path("/tmp/annotrain-screens/workspace.db")
        db.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            p = db.with_name(db.name + suffix)
            if p.exists():
                p.unlink()
        backend = SandboxBackend(db)
        seed_demo(backend, Paths.default(), deterministic_ids=True)
        backend.close()
        ws = open_workspace(Paths.default(), Settings(sandbox_path=db))
        opts = {k: v.replace("{tmp}", str(tmp)) if isinstance(v, str) else v for k, v in options.items()}
        app = AnnotrainApp(ws, start_screen=screen, screen_options=opts)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            for key in keys:
                await pilot.press(key)
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()
            app.title = "annotrain"
            path = out / f"{name}.svg"
            app.save_screenshot(filename=path.name, path=str(out))
            written.append(path)
        ws.close()
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="screens", help="output folder (default: screens)")
    ap.add_argument("--only", nargs="*", help="only these shots")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            os.environ[var] = str(tmp / var.lower())
        os.environ["ANNOTRAIN_SANDBOX_JOB_SECONDS"] = "0"
        written = asyncio.run(shoot(out, tmp, set(args.only) if args.only else None))
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
