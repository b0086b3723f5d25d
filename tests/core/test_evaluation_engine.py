"""Engine: per-annotator counts and rates, attribution, confusion, status, streaming, settings."""

from __future__ import annotations

import gc
import weakref

import pytest

from annotrain_tui.cli.exit_codes import exit_code_for
from annotrain_tui.core.errors import AnnotrainError, InvalidInput
from annotrain_tui.core.evaluation import OBJECT_COLUMNS, Evaluator, PassMark, evaluate
from annotrain_tui.core.evaluation.engine import STATUS_CLOSE, STATUS_NEEDS_FEEDBACK, STATUS_PASSED
from tests.labelgen import DEFAULT_CLASSES, BBox, box, calculate_iou, make_label_row, make_object, make_programme

CAR, PERSON = DEFAULT_CLASSES[0], DEFAULT_CLASSES[1]


def o(cls, x, y, w, h, oh, by="a@x"):
    return make_object(cls, box(x, y, w, h), object_hash=oh, created_by=by)


def row(data_hash, objects, label_hash="L", title="img.jpg", **kw):
    return make_label_row(data_hash=data_hash, data_title=title, label_hash=label_hash, objects=objects, **kw)


@pytest.fixture
def small():
    bm = row("d1", [o(CAR, 0.1, 0.1, 0.2, 0.2, "A", "r"), o(PERSON, 0.5, 0.1, 0.2, 0.3, "B", "r"),
                    o(CAR, 0.1, 0.6, 0.2, 0.2, "C", "r")], label_hash="BL")
    tr = row("d1", [o(CAR, 0.11, 0.1, 0.2, 0.2, "a"),   # A, right class
                    o(CAR, 0.5, 0.12, 0.2, 0.3, "b"),   # B, wrong class
                    o(PERSON, 0.8, 0.8, 0.1, 0.1, "d")])  # extra; C missed
    return bm, tr


def test_counts_rates_and_rows_on_a_hand_checked_case(small):
    bm, tr = small
    res = evaluate([bm], [("Alice's project", [tr])])
    a = res.annotators["a@x"]
    assert (a.objects, a.benchmark_objects, a.matched, a.missed, a.extra) == (3, 3, 2, 1, 1)
    assert a.precision == pytest.approx(2 / 3) and a.recall == pytest.approx(2 / 3) and a.f1 == pytest.approx(2 / 3)
    assert a.class_accuracy == 0.5
    ious = [calculate_iou(BBox(0.11, 0.1, 0.2, 0.2), BBox(0.1, 0.1, 0.2, 0.2)),
            calculate_iou(BBox(0.5, 0.12, 0.2, 0.3), BBox(0.5, 0.1, 0.2, 0.3))]
    assert a.mean_iou == pytest.approx(sum(ious) / 2)
    assert a.status == STATUS_NEEDS_FEEDBACK
    df = res.objects
    assert list(df.columns) == list(OBJECT_COLUMNS)
    by_obj = df.set_index(df["object_hash"].fillna(df["benchmark_object_hash"]))
    assert by_obj.loc["a", "outcome"] == "matched" and by_obj.loc["a", "benchmark_object_hash"] == "A"
    assert by_obj.loc["b", "class_score"] == 0.0 and by_obj.loc["b", "benchmark_class"] == "Person"
    assert by_obj.loc["d", "outcome"] == "extra"
    assert by_obj.loc["C", "outcome"] == "missed" and by_obj.loc["C", "annotator"] == "a@x"
    assert by_obj.loc["C", "label_hash"] == "L" and by_obj.loc["C", "benchmark_label_hash"] == "BL"
    assert set(df["source"]) == {"Alice's project"}
    summary = res.summary_json()["annotators"]["a@x"]
    assert {k: summary[k] for k in list(summary)[:10]} == {
        "objects": 3, "benchmark_objects": 3, "matched": 2, "missed": 1, "extra": 1,
        "precision": a.precision, "recall": a.recall, "f1": a.f1, "mean_iou": a.mean_iou, "class_accuracy": 0.5}
    assert summary["by_shape"] == {"bounding_box": {
        "objects": 3, "benchmark_objects": 3, "matched": 2, "missed": 1, "extra": 1, "precision": a.precision,
        "recall": a.recall, "f1": a.f1, "mean_similarity": a.mean_iou}}
    # by class, a match counts only where both objects carry the class: b (Car) on B (Person) counts for neither
    assert summary["by_class"]["Car"] == {
        "objects": 2, "benchmark_objects": 2, "matched": 1, "missed": 1, "extra": 1, "precision": 0.5,
        "recall": 0.5, "f1": 0.5, "mean_similarity": ious[0]}
    assert summary["by_class"]["Person"] == {
        "objects": 1, "benchmark_objects": 1, "matched": 0, "missed": 1, "extra": 1, "precision": 0.0,
        "recall": 0.0, "f1": 0.0, "mean_similarity": None}
    assert summary["items"] == {"done": 1, "required": 1}


def test_confusion_matrix_has_unmatched_row_and_column(small):
    bm, tr = small
    cm = evaluate([bm], [("p", [tr])]).confusion()
    assert list(cm.index) == ["Car", "Person", "unmatched"]
    assert list(cm.columns) == ["Car", "Person", "unmatched"]
    assert cm.loc["Car", "Car"] == 1 and cm.loc["Person", "Car"] == 1
    assert cm.loc["Car", "unmatched"] == 1 and cm.loc["unmatched", "Person"] == 1
    assert cm.to_numpy().sum() == 4


def test_low_overlap_matches_are_flagged():
    bm = row("d1", [o(CAR, 0.1, 0.1, 0.4, 0.4, "A", "r")])
    tr = row("d1", [o(CAR, 0.15, 0.1, 0.4, 0.4, "a")])  # IoU 0.35/0.45 = 0.78
    res = evaluate([bm], [("p", [tr])], low_overlap=0.8)
    assert res.annotators["a@x"].low_overlap == 1 and res.annotators["a@x"].matched == 1
    assert res.low_overlap_rows()["object_hash"].tolist() == ["a"]
    assert evaluate([bm], [("p", [tr])], low_overlap=0.7).annotators["a@x"].low_overlap == 0


def test_empty_paired_row_makes_every_benchmark_object_a_miss_for_the_projects_annotator():
    bm = [row("d1", [o(CAR, 0.1, 0.1, 0.2, 0.2, "A", "r")]), row("d2", [o(CAR, 0.1, 0.1, 0.2, 0.2, "B", "r"),
                                                                        o(CAR, 0.5, 0.5, 0.2, 0.2, "C", "r")])]
    tr = [row("d1", [o(CAR, 0.1, 0.1, 0.2, 0.2, "a", "bob@x")]), row("d2", [])]
    b = evaluate(bm, [("Bob", tr)]).annotators["bob@x"]
    assert (b.objects, b.benchmark_objects, b.matched, b.missed) == (1, 3, 1, 2)
    # a project with no objects at all: the misses go to the project's name
    res = evaluate(bm, [("Nobody's project", [row("d2", [])])])
    n = res.annotators["Nobody's project"]
    assert (n.objects, n.benchmark_objects, n.missed, n.precision, n.recall, n.f1) == (0, 2, 2, None, 0.0, 0.0)


def test_missing_created_by_falls_back_to_the_project_name():
    bm = row("d1", [o(CAR, 0.1, 0.1, 0.2, 0.2, "A", "r"), o(CAR, 0.5, 0.5, 0.2, 0.2, "B", "r")])
    tr = row("d1", [o(CAR, 0.1, 0.1, 0.2, 0.2, "a", None), o(CAR, 0.5, 0.5, 0.2, 0.2, "b", "")])
    res = evaluate([bm], [("Training - Dana", [tr])])
    assert list(res.annotators) == ["Training - Dana"]
    assert res.annotators["Training - Dana"].matched == 2
    seed = evaluate([bm], [("Training - Dana", [tr])], matching="seed")
    assert seed.seed_rows()["training_email"].tolist() == [None, ""]  # the CSV keeps createdBy as it is
    assert list(seed.annotators) == ["Training - Dana"]


def test_only_data_units_on_both_sides_count_and_unpaired_rows_are_reported():
    bm = [row("d1", [o(CAR, 0.1, 0.1, 0.2, 0.2, "A", "r")]), row("d9", [o(CAR, 0.1, 0.1, 0.2, 0.2, "Z", "r")])]
    tr = [row("d1", [o(CAR, 0.1, 0.1, 0.2, 0.2, "a")]), row("d5", [o(CAR, 0.1, 0.1, 0.2, 0.2, "q")])]
    res = evaluate(bm, [("p", tr)])
    a = res.annotators["a@x"]
    assert (a.objects, a.benchmark_objects, a.matched) == (1, 1, 1)  # d9 and d5 ignored
    assert res.paired_rows == 1 and res.projects[0].unpaired_rows == 1
    assert any("1 label row(s) have no benchmark row" in w for w in res.warnings)


def test_nothing_paired_is_a_domain_failure():
    bm = [row("d1", [o(CAR, 0.1, 0.1, 0.2, 0.2, "A", "r")])]
    with pytest.raises(AnnotrainError) as exc:
        evaluate(bm, [("TR.json", [row("zz", [])])], benchmark_source="BM.json")
    assert exit_code_for(exc.value) == 1 and not isinstance(exc.value, InvalidInput)
    assert "nothing to compare" in str(exc.value) and "TR.json" in str(exc.value)
    assert evaluate(bm, [("TR.json", [row("zz", [])])], require_pairs=False).paired_rows == 0


def test_every_video_frame_counts_in_optimal_mode_but_only_frame_0_in_seed_mode():
    bm = row("v", {0: [o(CAR, 0.1, 0.1, 0.2, 0.2, "A", "r")], 1: [o(CAR, 0.12, 0.1, 0.2, 0.2, "A", "r")],
                   2: [o(CAR, 0.14, 0.1, 0.2, 0.2, "A", "r")]}, data_type="video")
    tr = row("v", {0: [o(CAR, 0.1, 0.1, 0.2, 0.2, "a")], 1: [o(CAR, 0.6, 0.6, 0.2, 0.2, "a")]}, data_type="video")
    opt = evaluate([bm], [("p", [tr])])
    a = opt.annotators["a@x"]
    assert (a.objects, a.benchmark_objects, a.matched, a.missed, a.extra) == (2, 3, 1, 2, 1)
    assert opt.frames == 3
    assert sorted(opt.objects["frame"].tolist()) == [0, 1, 1, 2]
    seed = evaluate([bm], [("p", [tr])], matching="seed").annotators["a@x"]
    assert (seed.objects, seed.benchmark_objects, seed.matched) == (1, 1, 1)


def test_image_groups_compare_each_image():
    bm = row("g", {0: [o(CAR, 0.1, 0.1, 0.2, 0.2, "A", "r")], 1: [o(CAR, 0.5, 0.5, 0.2, 0.2, "B", "r")]},
             data_type="img_group")
    tr = row("g", {0: [o(CAR, 0.5, 0.5, 0.2, 0.2, "a")], 1: [o(CAR, 0.5, 0.5, 0.2, 0.2, "b")]}, data_type="img_group")
    a = evaluate([bm], [("p", [tr])]).annotators["a@x"]
    assert (a.matched, a.missed, a.extra) == (1, 1, 1)  # 'a' sits where B is, but on another image


def test_shapes_are_compared_only_with_the_same_shape_and_shape_filter_counts_the_rest():
    sign, road = DEFAULT_CLASSES[3], DEFAULT_CLASSES[5]
    from tests.labelgen import polygon, rotated_box

    bm = row("d", [o(CAR, 0.1, 0.1, 0.2, 0.2, "A", "r"),
                   make_object(sign, rotated_box(0.5, 0.5, 0.2, 0.1, 30), object_hash="S", created_by="r"),
                   make_object(road, polygon([(0.1, 0.6), (0.3, 0.6), (0.3, 0.9)]), object_hash="R", created_by="r")])
    tr = row("d", [make_object(sign, rotated_box(0.1, 0.1, 0.2, 0.2, 0), object_hash="s1", created_by="a@x"),
                   make_object(sign, rotated_box(0.5, 0.5, 0.2, 0.1, 32), object_hash="s2", created_by="a@x"),
                   make_object(road, polygon([(0.1, 0.6), (0.3, 0.6), (0.3, 0.88)]), object_hash="r1",
                               created_by="a@x")])
    res = evaluate([bm], [("p", [tr])])
    m = res.objects.set_index(res.objects["object_hash"].fillna(res.objects["benchmark_object_hash"]))
    assert m.loc["s1", "outcome"] == "extra"  # same place as the car box, but a rotated box
    assert m.loc["s2", "benchmark_object_hash"] == "S" and m.loc["r1", "benchmark_object_hash"] == "R"
    assert m.loc["A", "outcome"] == "missed"
    only = evaluate([bm], [("p", [tr])], shape="polygon")
    assert only.annotators["a@x"].objects == 1
    assert only.not_compared["training"] == {"rotatable_bounding_box": 2}
    assert only.not_compared["benchmark"] == {"bounding_box": 1, "rotatable_bounding_box": 1}


def test_pass_mark_statuses():
    pm = PassMark()
    assert pm.status(0.8, 0.9) == STATUS_PASSED
    assert pm.status(0.95, 0.85) == STATUS_CLOSE
    assert pm.status(0.7, 0.8) == STATUS_CLOSE  # within 0.1 of both, float rounding tolerated
    assert pm.status(0.69, 0.99) == STATUS_NEEDS_FEEDBACK
    assert pm.status(0.9, 0.79) == STATUS_NEEDS_FEEDBACK
    assert pm.status(1.0, None) == STATUS_PASSED
    assert PassMark(f1=0.95, class_accuracy=0.5).status(0.9, 0.5) == STATUS_CLOSE


def test_programme_statuses_follow_skill():
    prog = make_programme(seed=3, n_items=30, skill=(0.2, 3.0), annotators=("alice@example.com", "bob@example.com"))
    res = evaluate(prog.benchmark, prog.training_sets())
    statuses = {k: v.status for k, v in res.annotators.items()}
    assert statuses == {"alice@example.com": STATUS_PASSED, "bob@example.com": STATUS_NEEDS_FEEDBACK}
    assert list(res.annotators) == sorted(res.annotators)


class _Rows(list):
    """A list that can be weak-referenced."""


def test_training_sets_are_streamed_not_held():
    prog = make_programme(seed=5, n_items=10, annotators=("a@x", "b@x", "c@x"))
    alive = []

    def sets():
        for name, rows in prog.training.items():
            held = _Rows(rows)
            alive.append(weakref.ref(held))
            yield name, held
            del held
            gc.collect()
            assert all(r() is None for r in alive), "the engine kept a training set's rows"

    res = evaluate(prog.benchmark, sets(), keep_objects=False)
    assert len(alive) == 3 and len(res.annotators) == 3 and res.objects is None
    full = evaluate(prog.benchmark, prog.training_sets())
    assert res.summary_json() == full.summary_json()


def test_evaluator_add_replaces_a_project_for_incremental_refresh():
    prog = make_programme(seed=6, n_items=8, annotators=("a@x",))
    name, rows = next(iter(prog.training.items()))
    ev = Evaluator(prog.benchmark)
    ev.add(name, rows)
    before = ev.result().summary_json()
    ev.add(name, rows[:4])
    after = ev.result()
    assert after.annotators["a@x"].benchmark_objects < before["annotators"]["a@x"]["benchmark_objects"]
    assert len(after.projects) == 1
    ev.remove(name)
    assert ev.result().annotators == {}


def test_running_totals_equal_a_fresh_evaluation_after_adds_replacements_and_removals():
    """result() folds sets in as they come; after any sequence it must equal evaluating the final sets anew."""
    import random

    prog = make_programme(seed=11, n_items=24, annotators=("a@x", "b@x", "c@x"))
    names = list(prog.training)
    rng = random.Random(4)
    ev = Evaluator(prog.benchmark)
    added: dict[str, tuple[list, str]] = {}  # what each live set holds now
    for step in range(40):
        annotator = rng.choice(names)
        name = f"{annotator}#{rng.randrange(3)}"
        if step % 7 == 6:
            ev.remove(name)
            added.pop(name, None)
        else:
            start = rng.randrange(len(prog.training[annotator]))
            rows = prog.training[annotator][start:start + rng.randrange(1, 9)]
            ev.add(name, rows, annotator=annotator)
            added[name] = (rows, annotator)
    got = ev.result()
    assert [p.name for p in got.projects] == list(added)  # a replaced set keeps its place
    fresh = Evaluator(prog.benchmark)
    for name, (rows, annotator) in added.items():
        fresh.add(name, rows, annotator=annotator)
    want = fresh.result()
    assert got.to_json() == want.to_json()
    assert [a.sources for a in got.annotators.values()] == [a.sources for a in want.annotators.values()]


def test_duplicate_training_set_names_are_refused():
    prog = make_programme(seed=6, n_items=2, annotators=("a@x",))
    rows = next(iter(prog.training.values()))
    with pytest.raises(InvalidInput, match="given twice"):
        evaluate(prog.benchmark, [("same", rows), ("same", rows)])


def test_duplicate_benchmark_rows_last_wins_as_in_the_script():
    first = row("d1", [o(PERSON, 0.1, 0.1, 0.2, 0.2, "A1", "r")], label_hash="B1")
    last = row("d1", [o(CAR, 0.1, 0.1, 0.2, 0.2, "A2", "r")], label_hash="B2")
    tr = row("d1", [o(CAR, 0.1, 0.1, 0.2, 0.2, "a")])
    res = evaluate([first, last], [("p", [tr])])
    assert res.objects["benchmark_object_hash"].tolist() == ["A2"]
    assert any("repeat a data_hash" in w for w in res.warnings)


@pytest.mark.parametrize("kwargs, message", [
    ({"matching": "greedy"}, "unknown matching"),
    ({"iou_threshold": 0}, "IoU threshold must be a number in (0, 1]"),
    ({"iou_threshold": 1.5}, "IoU threshold"),
    ({"iou_threshold": float("nan")}, "IoU threshold"),
    ({"low_overlap": -0.1}, "low-overlap mark"),
    ({"shape": "cuboid"}, "cannot compare shape cuboid"),
    ({"matching": "seed", "shape": "polygon"}, "seed matching is the published script"),
    ({"class_thresholds": {"Car": 0}}, "match threshold for class Car"),
    ({"class_sigmas": {"": 0.1}}, "class name must be non-empty"),
])
def test_bad_settings(kwargs, message):
    with pytest.raises(InvalidInput) as exc:
        evaluate([row("d", [])], [("p", [row("d", [])])], **kwargs)
    assert message in str(exc.value)


def test_to_json_is_plain_data():
    import json

    prog = make_programme(seed=1, n_items=5, annotators=("a@x", "b@x"))
    doc = evaluate(prog.benchmark, prog.training_sets()).to_json()
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text)["annotators"]["a@x"]["status"] in (STATUS_PASSED, STATUS_CLOSE, STATUS_NEEDS_FEEDBACK)
    assert doc["settings"]["matching"] == "optimal" and doc["paired_rows"] == 10


def test_the_engine_imports_neither_textual_nor_the_sdk():
    import subprocess
    import sys

    code = ("import sys, annotrain_tui.core.evaluation, annotrain_tui.core.evaluation.session, "
            "annotrain_tui.core.exports; print(sorted(m for m in ('textual', 'encord') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_degenerate_boxes_score_zero_as_in_the_script():
    from tests.labelgen import published_seed

    bm = row("d1", [o(CAR, 0.2, 0.2, 0.0, 0.0, "A", "r"), o(CAR, 0.5, 0.5, 0.1, 0.0, "B", "r")])
    tr = row("d1", [o(CAR, 0.2, 0.2, 0.0, 0.0, "a"), o(CAR, 0.5, 0.5, 0.1, 0.0, "b"), o(CAR, 0.1, 0.1, 0.2, 0.2, "c")])
    seed = evaluate([bm], [("p", [tr])], matching="seed")
    assert seed.seed_rows().to_dict(orient="records") == published_seed([bm], [tr])
    assert seed.seed_rows()["iou_score"].tolist() == [0.0, 0.0, 0.0]
    opt = evaluate([bm], [("p", [tr])]).annotators["a@x"]
    assert (opt.matched, opt.missed, opt.extra) == (0, 2, 3)
