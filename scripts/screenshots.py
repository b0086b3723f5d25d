"""Render every screen to SVG in ``screens/`` (shown in the README).

    .venv/bin/python scripts/screenshots.py [--out screens] [--only home pick …]

Runs the real app on a fresh, deterministic demo sandbox in a temporary XDG tree, drives each
screen with the keyboard as a user would, and saves what the terminal shows. The shots are the
ones the snapshot suite compares: one table, ``tests/tui/shots.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tui.shots import SHOTS, build_app, drive  # noqa: E402 - after the repository is on the path


async def shoot(out: Path, only: set[str] | None) -> list[Path]:
    written = []
    for shot in SHOTS:
        if only and shot.name not in only:
            continue
        app = build_app(shot, "readme")
        async with app.run_test(size=shot.size) as pilot:
            await drive(app, pilot, shot)
            path = out / f"{shot.name}.svg"
            app.save_screenshot(filename=path.name, path=str(out))
            written.append(path)
        app.workspace.close()
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", default="screens", help="output folder (default: screens)")
    ap.add_argument("--only", nargs="*", help="only these shots")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            os.environ[var] = str(Path(d) / var.lower())
        os.environ["ANNOTRAIN_SANDBOX_JOB_SECONDS"] = "0"
        written = asyncio.run(shoot(out, set(args.only) if args.only else None))
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
