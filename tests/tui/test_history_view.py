"""The History view (issue 16 item 6, TUI): two snapshots of the demo programme (an item excluded in
between, so the F1s differ) shown per annotator and round with their trend; a third scored on
another version of the benchmark is marked; with none, the view says how to take one."""

from __future__ import annotations

from textual.widgets import DataTable

from annotrain_tui.core.decisions import score_programme
from annotrain_tui.core.history import record_snapshot, remember, snapshots, trend
from annotrain_tui.tui.screens.history import CHANGED, HistoryScreen, bars
from tests.tui.helpers import make_app, screen_text, settle


def two_snapshots(app) -> None:
    ws = app.workspace
    prog = ws.programme()
    remember(prog, score_programme(ws.backend, prog, keep_objects=True), ws.backend)
    dh = next(i.data_hash for i in ws.backend.list_label_rows(prog.id, done_only=True))
    prog.record.exclude(dh, object_hash=None, reason="suspect gold")
    prog = ws.programme()
    remember(prog, score_programme(ws.backend, prog, keep_objects=True), ws.backend)


async def open_history(app, pilot) -> HistoryScreen:
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


async def test_two_snapshots_show_each_annotators_trend(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="history")
    two_snapshots(app)
    expected = trend(snapshots(app.workspace.programme().record))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_history(app, pilot)
        table = screen.query_one("#trend", DataTable)
        assert table.row_count == len(expected) == 3
        for n, (email, rounds) in enumerate(expected.items()):
            points = rounds[1]
            cells = [str(c) for c in table.get_row_at(n)]
            assert cells[0] == email and cells[1] == "1" and cells[2] == "2"
            assert len(cells[3]) == 2 and CHANGED not in cells[3]
            assert cells[4] == f"{points[0].f1:.3f} → {points[1].f1:.3f}"
        assert any(p[0].f1 != p[1].f1 for r in expected.values() for p in r.values())  # the trend moved
        text = screen_text(app)
        assert "2 snapshot(s), 3 annotator(s)" in text
        email, rounds = next(iter(expected.items()))
        assert f"{email}, round 1: {bars(rounds[1])} (F1 from 0 to 1, 2 evaluation(s))" in " ".join(text.split())
        assert f"F1 {rounds[1][1].f1:.3f}" in text


async def test_a_new_benchmark_version_is_marked_in_the_trend(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="history")
    two_snapshots(app)
    record = app.workspace.programme().record
    last = snapshots(record)[-1]
    record_snapshot(record, {**last, "id": "edited-gold", "benchmark_version": "another"})
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_history(app, pilot)
        cells = [str(c) for c in screen.query_one("#trend", DataTable).get_row_at(0)]
        assert cells[2] == "3" and cells[3].count(CHANGED) == 1 and cells[3].index(CHANGED) == 2
        text = " ".join(screen_text(app).split())
        assert "the benchmark changed 1 time(s)" in text and "benchmark edited" in text


async def test_without_snapshots_it_says_so_and_s_takes_one(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="history")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_history(app, pilot)
        assert "no history yet" in screen_text(app)
        await pilot.press("s")
        await settle(app, pilot)
        assert len(snapshots(app.workspace.programme().record)) == 1
        assert screen.query_one("#trend", DataTable).row_count == 3


def test_the_bars_are_on_an_absolute_scale_and_mark_a_new_gold():
    from annotrain_tui.core.history import TrendPoint

    points = [TrendPoint("t1", 0.0, "needs feedback", "v1"), TrendPoint("t2", 0.5, "close", "v1"),
              TrendPoint("t3", None, "", "v1"), TrendPoint("t4", 1.0, "passed", "v2")]
    assert bars(points) == "▁▅·◆█"
    same = [TrendPoint("t1", 0.98, "passed", "v"), TrendPoint("t2", 0.98, "passed", "v")]
    assert bars(same) == "██"
