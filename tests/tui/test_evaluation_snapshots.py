"""Snapshot tests of the evaluation's issue-15 views at 80×24, on the deterministic demo sandbox
(the shots' app, ``tests/tui/shots.py``): the breakdown of one annotator, the matching choice, and
the annotator table scored with seed matching (the header says it).

After a deliberate change: ``.venv/bin/python -m pytest tests/tui/test_evaluation_snapshots.py
--snapshot-update``, then read the SVGs' text in the diff.
"""

from __future__ import annotations

import pytest

from tests.tui.shots import Shot, build_app, drive

SHOTS = [
    Shot("breakdown", "evaluation", keys=("down", "b")),
    Shot("matching-choice", "evaluation", keys=("m",)),
    Shot("seed-matching", "evaluation", keys=("m", "down", "down", "enter")),
]


@pytest.mark.parametrize("shot", SHOTS, ids=[s.name for s in SHOTS])
def test_evaluation_view(snap_compare, shot):
    app = build_app(shot, "eval-snap")

    async def run_before(pilot) -> None:
        await drive(app, pilot, shot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
