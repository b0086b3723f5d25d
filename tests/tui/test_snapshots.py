"""Snapshot tests: every screen of the app at 80×24 and at 120×40, on a fresh deterministic demo
sandbox (issue 13 item 11). The shots are the README's (``tests/tui/shots.py``, shared with
``scripts/screenshots.py``).

After a deliberate change of a screen: ``.venv/bin/python -m pytest tests/tui/test_snapshots.py
--snapshot-update`` rewrites the SVGs under ``__snapshots__/test_snapshots``; review them in the diff.
"""

from __future__ import annotations

import pytest

from annotrain_tui.tui.app import _screen_factories
from tests.tui.shots import SHOTS, build_app, drive

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("shot", SHOTS, ids=[s.name for s in SHOTS])
def test_screen(snap_compare, shot, size):
    app = build_app(shot, f"snap-{size}")

    async def run_before(pilot) -> None:
        await drive(app, pilot, shot)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_every_registered_screen_has_a_shot():
    """A screen added to the app's registry without a shot here (and so in the README) fails."""
    missing = set(_screen_factories()) - {shot.screen for shot in SHOTS}
    assert not missing, f"screens without a shot in tests/tui/shots.py: {sorted(missing)}"


def test_shot_names_are_unique():
    names = [shot.name for shot in SHOTS]
    assert len(names) == len(set(names))


def test_the_tui_reads_the_clock_only_through_app_now():
    """Every time a screen shows comes from ``app.now()`` (frozen by ``build_app``): a screen that
    called ``datetime.now()`` or ``time.time()`` itself would draw the wall clock into the shots.
    (``time.localtime(a_file_mtime)`` converts a given time, it does not read the clock.)"""
    import ast
    from pathlib import Path

    import annotrain_tui.tui as tui

    root = Path(tui.__file__).parent
    always = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today")}
    without_args = {("time", "time"), ("time", "localtime"), ("time", "gmtime"), ("time", "strftime")}
    calls = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        hook = set()  # the nodes inside AnnotrainApp.now: the one place allowed to read the clock
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "AnnotrainApp"):
            for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "now"):
                hook |= {id(n) for n in ast.walk(fn)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)) or id(node) in hook:
                continue
            name = (node.func.value.id, node.func.attr)
            nargs = len(node.args) - (name == ("time", "strftime"))  # strftime(fmt) formats the clock
            if name in always or (name in without_args and nargs == 0):
                calls.append(f"{path.relative_to(root)}:{node.lineno} {'.'.join(name)}()")
    assert calls == []
