"""Issue 15 on the evaluation screens, with Pilot: the settings come from the config, the matching
choice (header, re-score to the seed algorithm's numbers), the breakdown view (numbers equal to the
engine's score, the filter respected, answers and their empty states), coverage on the detail line."""

from __future__ import annotations

from dataclasses import replace

import pytest

from annotrain_tui.core.evaluation.views import Filter, annotator_scores
from annotrain_tui.tui.screens.evaluation import AnnotatorScreen, EvaluationScreen
from annotrain_tui.tui.screens.evaluation.breakdown import BreakdownScreen
from annotrain_tui.tui.widgets.dialogs import ChoiceDialog, FormDialog
from annotrain_tui.tui.widgets.frame_table import FrameTable
from annotrain_tui.tui.widgets.inputs import SafeInput
from tests.tui.helpers import make_app, screen_text, settle

ALEX, BEA, CHIDI = "alex.kim@example.com", "bea.santos@example.com", "chidi.okafor@example.com"


async def open_eval(app, pilot) -> EvaluationScreen:
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, EvaluationScreen) and screen.snapshot is not None
    return screen


def status_line(screen: EvaluationScreen) -> str:
    return str(screen.query_one("#eval-status").render())


def detail_line(screen: EvaluationScreen) -> str:
    return str(screen.query_one("#eval-detail").render())


def engine_result(screen: EvaluationScreen, **settings):
    """The engine run directly on the rows the screen's session fetched (one set per project)."""
    session = screen.session
    assert session is not None
    base = replace(session.settings, **settings)
    ev_rows = list(session.bench_rows.values())
    from annotrain_tui.core.evaluation.engine import Evaluator

    ev = Evaluator(ev_rows, base, benchmark_source=session.title)
    for src in session.sources.values():
        ev.add(src.project.id, [src.rows[h] for h in sorted(src.rows)], annotator=src.annotator,
               credit_owner=src.marked)
    return ev.result()


def rounded(value):
    """A summary with floats to 9 places (the session sums similarity per block of rows)."""
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return round(value, 9) if isinstance(value, float) else value


def row(table: FrameTable, annotator: str):
    return table.frame.set_index("annotator").loc[annotator]


async def choose_matching(app, pilot, downs: int) -> None:
    """The matching choice number ``downs`` (0: the first), from the top (the list opens on the one in force)."""
    await pilot.press("m")
    await pilot.pause()
    assert isinstance(app.screen, ChoiceDialog)
    await pilot.press("home", *["down"] * downs, "enter")
    await settle(app, pilot)


async def test_the_matching_choice_rescores_to_the_seed_algorithm_and_the_header_says_it(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_eval(app, pilot)
        assert "optimal matching (any class)" in status_line(screen)
        table = screen.query_one("#annotators", FrameTable)
        optimal_f1 = {a: float(row(table, a)["f1"]) for a in (ALEX, BEA, CHIDI)}
        await choose_matching(app, pilot, 2)  # the third choice: seed
        assert isinstance(app.screen, EvaluationScreen)
        assert screen.snapshot.settings.matching == "seed"
        line = status_line(screen)
        assert "seed matching" in line and "boxes, frame 0 only" in line and "scoring again" not in line
        # the table's numbers are the seed algorithm's on the same rows
        seed = engine_result(screen, matching="seed")
        for a in (ALEX, BEA, CHIDI):
            r, s = row(table, a), seed.annotators[a]
            assert (int(r["objects"]), int(r["matched"]), int(r["missed"]), int(r["extra"])) == \
                (s.objects, s.matched, s.missed, s.extra)
            assert float(r["f1"]) == pytest.approx(s.f1, abs=1e-12)
        assert any(abs(optimal_f1[a] - seed.annotators[a].f1) > 1e-6 for a in optimal_f1)  # it did change
        # seed compares boxes only: every object row of the result is a box on frame 0
        objects = screen.snapshot.objects
        assert set(objects["shape"]) == {"bounding_box"} and set(objects["frame"]) == {0}
        # optimal within a class, then back to optimal (any class): the first numbers again
        await choose_matching(app, pilot, 1)
        assert "optimal matching within a class" in status_line(screen)
        assert screen.snapshot.settings.class_matching == "same"
        same = engine_result(screen, matching="optimal", class_matching="same")
        assert float(row(table, BEA)["f1"]) == pytest.approx(same.annotators[BEA].f1, abs=1e-12)
        await choose_matching(app, pilot, 0)
        assert "optimal matching (any class)" in status_line(screen)
        assert {a: float(row(table, a)["f1"]) for a in optimal_f1} == pytest.approx(optimal_f1, abs=1e-12)


async def test_the_seed_csv_stays_the_seed_algorithm_and_an_iou_change_keeps_the_matching(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_eval(app, pilot)
        await choose_matching(app, pilot, 1)  # optimal within a class
        await pilot.press("f")
        assert isinstance(app.screen, FormDialog)
        app.screen.query_one("#field-iou", SafeInput).value = "0.7"
        await pilot.press("enter")
        await settle(app, pilot)
        s = screen.snapshot.settings
        assert (s.matching, s.class_matching, s.iou_threshold) == ("optimal", "same", 0.7)
        assert "optimal matching within a class, IoU ≥ 0.7" in status_line(screen)
        seed_rows = screen.session.seed_rows()
        expected = engine_result(screen, matching="seed", class_matching="any").seed_rows()
        assert len(seed_rows) == len(expected) and seed_rows.equals(expected)


async def test_the_breakdown_shows_the_engines_score_for_the_annotator(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_eval(app, pilot)
        await pilot.press("down", "b")
        await settle(app, pilot)
        view_screen = app.screen
        assert isinstance(view_screen, BreakdownScreen) and view_screen.annotator == BEA
        view = view_screen.view
        engine = engine_result(screen).annotators[BEA]
        assert view.score == screen.snapshot.result.annotators[BEA]
        assert rounded(view.score.summary()) == rounded(engine.summary())
        assert (view.score.status, view.score.reason) == (engine.status, engine.reason)
        shapes = view.by_shape.set_index("label")
        assert sorted(shapes.index) == sorted(engine.by_shape)
        for name, b in engine.by_shape.items():
            r = shapes.loc[name]
            assert (r["objects"], r["benchmark_objects"], r["matched"], r["missed"], r["extra"]) == \
                (b.objects, b.benchmark_objects, b.matched, b.benchmark_objects - b.covered, b.objects - b.matched)
            assert r["f1"] == pytest.approx(b.f1) and r["mean_similarity"] == pytest.approx(b.mean_similarity)
        classes = view.by_class.set_index("label")
        assert {n: int(classes.loc[n, "matched"]) for n in engine.by_class} == \
            {n: b.matched for n, b in engine.by_class.items()}
        text = screen_text(app)
        assert "not enough work yet" in text and f"{engine.items_done}/{engine.items_required} item(s)" in text
        assert f"class mismatches: {engine.class_mismatches}" in text
        car = engine.by_class["Car"]
        assert any(line.split()[:6] == ["Car", str(car.objects), str(car.benchmark_objects), str(car.matched),
                                        str(car.benchmark_objects - car.covered), str(car.objects - car.matched)]
                   for line in text.splitlines())
        await pilot.press("end")  # the rest scrolls into view: the demo has no answers, and says so
        await pilot.pause()
        text = screen_text(app)
        assert "No classifications in this benchmark" in text and "No object attributes compared" in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen


async def test_the_breakdown_follows_the_class_filter_and_says_what_it_leaves_whole(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_eval(app, pilot)
        await pilot.press("f")
        app.screen.query_one("#field-class", SafeInput).value = "car"
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("down", "enter")  # the drill-down of bea, filtered; b from there
        await settle(app, pilot)
        assert isinstance(app.screen, AnnotatorScreen)
        await pilot.press("b")
        await settle(app, pilot)
        view = app.screen.view
        assert isinstance(app.screen, BreakdownScreen) and view.filter == Filter(class_name="car")
        snap = screen.snapshot
        cars = snap.objects[(snap.objects["annotator"] == BEA)
                            & ((snap.objects["class"] == "Car") | (snap.objects["benchmark_class"] == "Car"))]
        expected = annotator_scores(cars, snap.settings.pass_mark, snap.result.annotators)[BEA]
        assert view.score == expected
        assert view.score.objects < snap.result.annotators[BEA].objects  # the filter narrowed it
        assert int(view.by_shape["objects"].sum()) == expected.objects
        assert view.score.items_done == snap.result.annotators[BEA].items_done  # coverage stays whole
        text = screen_text(app)
        assert "filter: class~'car'" in text


async def test_the_breakdown_lists_each_question_and_attribute_with_its_accuracy(tmp_path):
    from tests.synth import make_mixed_programme

    prog = make_mixed_programme(seed=3, n_items=8, annotators=("ann@example.com",))
    # an untrusted question name: drawn literally, never as markup or a control sequence
    for r in prog.benchmark + [r for rows in prog.training.values() for r in rows]:
        for ans in r.get("classification_answers", {}).values():
            for c in ans.get("classifications", []):
                c["name"] = "[bold red]Weather[/]\x1b[2J"
    bm, paths = prog.write_files(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation",
                   options={"benchmark_labels": str(bm), "training_labels": paths})
    async with app.run_test(size=(100, 60)) as pilot:
        screen = await open_eval(app, pilot)
        name = screen.query_one("#annotators", FrameTable).current_key()
        await pilot.press("b")
        await settle(app, pilot)
        view = app.screen.view
        score = screen.snapshot.result.annotators[name]
        assert score.classifications and score.attributes
        got = {(r["label"], r["kind"], int(r["compared"])) for r in view.classifications.to_dict("records")}
        assert got == {(q.label, q.kind, q.compared) for q in score.classifications.values()}
        attrs = {r["label"]: r["accuracy"] for r in view.attributes.to_dict("records")}
        assert attrs == pytest.approx({q.label: q.accuracy for q in score.attributes.values()})
        text = screen_text(app)
        assert "Classifications (accuracy" in text and "Object attributes (accuracy" in text
        assert "[bold red]Weather[/]\\x1b[2J" in text and "\x1b" not in text
        assert next(iter(score.attributes.values())).label.split()[0] in text


async def test_per_class_marks_from_the_config_reach_the_screen(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600,
                   class_thresholds={"Car": 0.9}, class_pass_f1={"Bus": 0.95}, pass_min_items=1,
                   class_matching="same", keypoint_sigma=0.07)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_eval(app, pilot)
        s = screen.snapshot.settings
        assert dict(s.class_thresholds) == {"Car": 0.9} and dict(s.pass_mark.class_f1) == {"Bus": 0.95}
        assert s.pass_mark.min_items == 1 and s.class_matching == "same" and s.sigma == 0.07
        assert "optimal matching within a class" in status_line(screen)
        table = screen.query_one("#annotators", FrameTable)
        mine = engine_result(screen).annotators  # the engine with those very settings
        plain = engine_result(screen, class_thresholds={}).annotators
        assert mine[BEA].by_class["Car"].matched < plain[BEA].by_class["Car"].matched  # the mark mattered
        assert int(row(table, BEA)["matched"]) == mine[BEA].matched
        # one finished item is enough now: bea has a status by the marks; the Bus mark is her reason
        assert row(table, BEA)["status"] != "not enough work yet"
        assert row(table, BEA)["status"] == mine[BEA].status
        await pilot.press("down")
        await pilot.pause()
        assert "class Bus F1" in detail_line(screen)


async def test_the_detail_line_says_the_coverage_behind_a_status(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_eval(app, pilot)
        alex = screen.snapshot.result.annotators[ALEX]
        assert alex.status == "passed"
        assert f"{alex.items_done}/{alex.items_required} item(s) finished" in detail_line(screen)
        await pilot.press("down")
        await pilot.pause()
        assert "Not enough work yet: 38 of 60 item(s) finished" in detail_line(screen)


async def test_a_rescore_runs_in_a_worker_and_the_screen_says_so_meanwhile(tmp_path):
    import threading

    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_eval(app, pilot)
        session = screen.session
        release, started = threading.Event(), threading.Event()
        real = session.rescore

        def held(settings):
            started.set()
            release.wait(timeout=30)
            return real(settings)

        session.rescore = held
        await pilot.press("m", "down", "down", "enter")
        await pilot.pause()
        assert started.wait(timeout=30)  # the worker is scoring; the screen still answers keys
        assert "scoring again with seed matching" in status_line(screen)
        assert "optimal matching (any class)" in status_line(screen)  # still the one in force
        table = screen.query_one("#annotators", FrameTable)
        await pilot.press("down")
        await pilot.pause()
        assert table.current_key() == BEA
        release.set()
        await settle(app, pilot)
        line = status_line(screen)
        assert "seed matching" in line and "scoring again" not in line
