"""Snapshot tests: every screen of the app at 80×24 and at 120×40, on a fresh deterministic demo
sandbox (issue 13 item 11). The shots are the README's (``tests/tui/shots.py``, shared with
``scripts/screenshots.py``).

After a deliberate change of a screen: ``.venv/bin/python -m pytest tests/tui/test_snapshots.py
--snapshot-update`` rewrites the SVGs under ``__snapshots__/test_snapshots``; review them in the diff.
"""

from __future__ import annotations

import pytest

from annotrain_tui.tui.app import _screen_factories
from tests.tui.shots import SHOTS, build_app, drive, frozen_clock

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("shot", SHOTS, ids=[s.name for s in SHOTS])
def test_screen(snap_compare, shot, size):
    app = build_app(shot, f"snap-{size}")

    async def run_before(pilot) -> None:
        await drive(app, pilot, shot)

    with frozen_clock():
        assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_every_registered_screen_has_a_shot():
    """A screen added to the app's registry without a shot here (and so in the README) fails."""
    missing = set(_screen_factories()) - {shot.screen for shot in SHOTS}
    assert not missing, f"screens without a shot in tests/tui/shots.py: {sorted(missing)}"


def test_shot_names_are_unique():
    names = [shot.name for shot in SHOTS]
    assert len(names) == len(set(names))
