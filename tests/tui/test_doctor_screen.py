"""The Doctor view, driven as a user would: opened from Home, checks shown, re-run, back."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static

from annotrain_tui.tui.keys import binding_ids
from annotrain_tui.tui.screens.doctor import DoctorScreen
from annotrain_tui.tui.screens.home import HomeScreen
from tests.tui.helpers import make_app, settle


def _checks(screen) -> list[str]:
    """Each check as its badge and text, in order."""
    return [" ".join(str(part.render()) for part in row.query(Static)) for row in screen.query(".doctor-check")]


def _summary(screen) -> str:
    return str(screen.query_one("#doctor-summary", Static).render())


async def test_doctor_opens_from_home_shows_checks_reruns_and_goes_back(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("d")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DoctorScreen)
        checks = _checks(screen)
        assert len(checks) == 8 and all(c.startswith("  OK   ") for c in checks), checks
        assert any("Benchmark: 'Benchmark Labels'" in c and "60/60 tasks Complete" in c for c in checks)
        assert _summary(screen).startswith("Ready: 8 checks, 8 ok")
        assert not screen.query_one("#doctor-checks", VerticalScroll).loading

        # break the benchmark, re-run: the check turns red with how to fix it
        backend = app.workspace.raw
        bench = app.demo_ids["benchmark"]
        row = backend.list_label_rows(bench)[0]
        backend.save_labels(bench, row.data_hash, [], stage="Review")
        await pilot.press("r")
        await settle(app, pilot)
        checks = _checks(screen)
        bad = [c for c in checks if c.startswith(" FAIL ")]
        assert len(bad) == 1 and "only 59 of 60 tasks are Complete" in bad[0] and "\nfix: finish the benchmark" in bad[0]
        assert _summary(screen).startswith("Not ready: 8 checks, 7 ok, 1 fail")
        assert [w.id for w in screen.query(".doctor-check")] == [f"check-{n}" for n in range(8)]

        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_doctor_from_the_palette_and_its_binding_ids(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        ids = binding_ids()
        assert {"home.flow.doctor", "doctor.rerun", "doctor.back"} <= ids
        app.open_flow("doctor")
        await settle(app, pilot)
        assert isinstance(app.screen, DoctorScreen) and len(_checks(app.screen)) == 8
        from annotrain_tui.tui.app import AnnotrainCommands

        names = [name for name, _, _ in AnnotrainCommands(app.screen)._commands()]
        assert "Go: Doctor: preflight checks of the workspace" in names


async def test_a_hostile_title_is_shown_escaped(tmp_path):
    app = make_app(tmp_path / "ws.db")
    backend = app.workspace.raw
    with backend.store.tx() as c:
        c.execute("UPDATE projects SET title = ? WHERE id = ?", ("\x1b[31mBench\u202e", app.demo_ids["benchmark"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.open_flow("doctor")
        await settle(app, pilot)
        text = " ".join(_checks(app.screen))
        assert "\x1b" not in text and "\u202e" not in text and "\\x1b[31mBench\\u202e" in text
