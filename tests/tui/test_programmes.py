"""The Programmes view with Pilot: every benchmark of the workspace listed with its state, the
current one marked, Enter switching the one Home, Evaluate (and Progress, Provision) open; the
empty state; an 80×24 snapshot with two programmes."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from annotrain_tui.core.benchmark import create_benchmark_project
from annotrain_tui.tui.screens.evaluation import EvaluationScreen
from annotrain_tui.tui.screens.home import HomeScreen
from annotrain_tui.tui.screens.programmes import EMPTY, ProgrammesScreen
from tests.tui.helpers import make_app, run_in_palette, screen_text, settle
from tests.tui.shots import Shot, build_app, drive


def second_benchmark(app, title: str = "Cohort A Bench") -> str:
    """A second benchmark project in the app's sandbox (no tasks yet: a programme being set up)."""
    raw = app.workspace.raw
    ds = raw.create_dataset(f"{title} set")
    return create_benchmark_project(raw, title, dataset_ref=ds.id, ontology_ref=raw.list_ontologies()[0].id).id


def rows(screen: ProgrammesScreen) -> list[list[str]]:
    table = screen.query_one("#programmes-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def flat(app) -> str:
    return " ".join(screen_text(app).split())


async def test_the_view_lists_every_programme_and_enter_switches_the_one_evaluate_opens(tmp_path):
    app = make_app(tmp_path / "ws.db")
    cohort = second_benchmark(app)
    demo = app.demo_ids["benchmark"]
    app.workspace.recent().set(benchmark=cohort)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "Cohort A Bench" in flat(app) and "1 of 2 programmes: P switches" in flat(app)
        await pilot.press("P")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ProgrammesScreen)
        table = rows(screen)
        assert [r[1] for r in table] == ["Benchmark Labels", "Cohort A Bench"]
        assert [r[0] for r in table] == ["", "●"]  # the remembered one is current
        assert table[0][2:6] == ["ready for decisions", "3", "0/3", "60/60"]
        assert table[1][2:6] == ["setting up", "0", "0/0", "0/0"]
        assert screen.query_one(DataTable).cursor_row == 1  # the cursor starts on the current one
        detail = str(screen.query_one("#programmes-detail", Static).render())
        assert "Cohort A Bench (current): setting up. Next: link the training files" in detail

        await pilot.press("up", "enter")  # Benchmark Labels becomes current: back on Home
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.workspace.recent().get("benchmark") == demo
        assert "Benchmark Benchmark Labels: 60/60 Complete" in flat(app)
        await pilot.press("5")
        await settle(app, pilot)
        evaluation = app.screen
        assert isinstance(evaluation, EvaluationScreen)
        assert evaluation.snapshot is not None and evaluation.snapshot.title == "Benchmark Labels"
        assert evaluation.programme is not None and evaluation.programme.id == demo

        # and back to the other one, through the palette this time: Evaluate opens it
        await run_in_palette(app, pilot, "Switch programme")
        assert isinstance(app.screen, ProgrammesScreen)
        assert [r[0] for r in rows(app.screen)] == ["●", ""]
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen) and app.workspace.recent().get("benchmark") == cohort
        await pilot.press("5")
        await settle(app, pilot)
        assert isinstance(app.screen, EvaluationScreen)
        assert "benchmark 'Cohort A Bench' has no training projects" in app.screen.error_text


async def test_progress_opens_the_current_programme(tmp_path):
    app = make_app(tmp_path / "ws.db")
    second_benchmark(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("P")
        await settle(app, pilot)
        await pilot.press("down", "enter")
        await settle(app, pilot)
        app.open_flow("progress")
        await settle(app, pilot)
        assert "Cohort A Bench" in flat(app) and "Benchmark Labels" not in flat(app)


def empty_app(path):
    """The app on a sandbox workspace with nothing in it (no demo)."""
    from annotrain_tui.core.backends.sandbox import SandboxBackend
    from annotrain_tui.core.config import Paths, Settings
    from annotrain_tui.core.workspace import open_workspace
    from annotrain_tui.tui.app import AnnotrainApp

    SandboxBackend(path).close()
    ws = open_workspace(Paths.default(), Settings(retry_base_delay=0, sandbox_path=path))
    return AnnotrainApp(ws)


async def test_a_workspace_without_a_benchmark_says_how_to_set_one_up(tmp_path):
    app = empty_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("P")
        await settle(app, pilot)
        assert isinstance(app.screen, ProgrammesScreen)
        assert rows(app.screen)[0][1] == EMPTY
        assert EMPTY in flat(app)
        await pilot.press("enter")  # nothing to switch to: it says so and stays
        await settle(app, pilot)
        assert isinstance(app.screen, ProgrammesScreen) and app.workspace.recent().get("benchmark") is None
        await pilot.press("3")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "BenchmarkScreen"


async def test_decisions_are_counted_and_untrusted_titles_shown_literally(tmp_path):
    app = make_app(tmp_path / "ws.db")
    second_benchmark(app, "[bold]Cohort[/bold] \x1b[31mB")
    prog = app.workspace.programme(app.demo_ids["benchmark"])
    prog.record.decide("bea.santos@example.com", "hold", round=1, note="more work")
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(app, pilot)
        app.open_flow("programmes")
        await settle(app, pilot)
        table = rows(app.screen)
        assert table[0][4] == "1/3"
        assert table[1][1] == "[bold]Cohort[/bold] \\x1b[31mB"  # escaped visibly, never markup


def test_the_programmes_view_at_80x24(snap_compare):
    shot = Shot("programmes-two", "programmes")
    app = build_app(shot, "snap")
    second_benchmark(app)
    prog = app.workspace.programme()
    prog.record.decide("alex.kim@example.com", "graduate", round=1, note="clean boxes")

    async def run_before(pilot) -> None:
        await drive(app, pilot, shot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_evaluate_on_an_unfinished_benchmark_says_its_next_step_not_provision(tmp_path):
    """Trial 16 item 16: Evaluate on a programme whose benchmark is incomplete said "provision the
    roster first (4 on Home)", which the gate refuses until the benchmark is finished: the
    programme's own next step is said."""
    app = make_app(tmp_path / "ws.db")
    raw = app.workspace.raw
    ds = next(d for d in raw.list_datasets() if d.title == "Annotator Training Set")
    made = create_benchmark_project(raw, "Cohort B Bench", dataset_ref=ds.id, ontology_ref=raw.list_ontologies()[0].id)
    app.workspace.recent().set(benchmark=made.id)
    prog = app.workspace.programme()
    assert prog.id == made.id and prog.state == "benchmark incomplete" and not prog.trainees
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("5")
        await settle(app, pilot)
        assert isinstance(app.screen, EvaluationScreen)
        text = flat(app)
        assert f"Nothing to show: {prog.next_step} (3 on Home)." in text
        assert prog.next_step.startswith("finish the benchmark") and "provision the roster first" not in text


async def test_evaluate_on_a_finished_benchmark_without_trainees_says_to_provision(tmp_path):
    """The other side of the rule above: the benchmark is finished, nobody is provisioned yet."""
    import sqlite3

    from annotrain_tui.tui.widgets.frame_table import FrameTable

    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    with sqlite3.connect(tmp_path / "ws.db") as db:  # the training projects lose their markers
        db.execute("UPDATE projects SET description = '' WHERE id != ?", (app.demo_ids["benchmark"],))
    prog = app.workspace.programme()
    assert prog.benchmark_complete and not prog.trainees
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#annotators", FrameTable)
        assert table.empty_text == "Nothing to show: provision the roster first (4 on Home), then come back."


async def test_the_history_view_with_no_benchmark_at_all_says_so_in_one_clause(tmp_path):
    """Trial 16 item 16: "No programme: the workspace has no programme yet: no benchmark project (…)"
    (Act and the gold audit: their own tests)."""
    import sqlite3

    app = make_app(tmp_path / "ws.db", start_screen="history")
    with sqlite3.connect(tmp_path / "ws.db") as db:  # no benchmark left: no marker, no such title
        db.execute("UPDATE projects SET description = '', title = 'Street project ' || id")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert type(app.screen).__name__ == "HistoryScreen"
        text = flat(app)
        assert "No programme yet: set up a benchmark first (3 on Home)." in text
        assert "no benchmark project" not in text and "No programme:" not in text
