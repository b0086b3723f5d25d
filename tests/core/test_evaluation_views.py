"""The evaluation's view model (core.evaluation.views): the queries the screens ask, headless."""

from __future__ import annotations

import numpy as np
import pytest

from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.demo import seed_demo
from annotrain_tui.core.evaluation import EvaluationSettings
from annotrain_tui.core.evaluation.session import EvaluationSession
from annotrain_tui.core.evaluation.views import Filter


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    sb = SandboxBackend(tmp_path_factory.mktemp("views") / "ws.db")
    ids = seed_demo(sb, deterministic_ids=True)
    session = EvaluationSession.of_workspace(sb, ids["benchmark"])
    session.load()
    yield session, session.snapshot()
    sb.close()


def test_the_snapshot_is_the_result_it_was_made_from(snapshot):
    session, snap = snapshot
    assert snap.result is session.result and snap.title == session.title and snap.live
    assert list(snap.annotators()["annotator"]) == sorted(session.result.annotators)


def test_one_filter_narrows_annotators_items_and_objects_alike(snapshot):
    _session, snap = snapshot
    everyone = snap.annotators()
    assert list(snap.annotators(Filter(annotator="BEA"))["annotator"]) == ["bea.santos@example.com"]
    assert len(snap.annotators(Filter(annotator="zzz"))) == 0
    who = "bea.santos@example.com"
    all_objects = snap.objects_of(who)
    signs = snap.objects_of(who, Filter(class_name="road SIGN"))
    assert 0 < len(signs) < len(all_objects)
    hit = signs["class"].fillna("").str.casefold().str.contains("road sign") | \
        signs["benchmark_class"].fillna("").str.casefold().str.contains("road sign")
    assert hit.all()
    assert list(signs["row_id"]) == list(range(len(signs)))
    items = snap.items_of(who, Filter(class_name="road sign"))
    assert set(items["data_hash"]) == set(signs["data_hash"])
    assert len(snap.annotators(Filter(class_name="road sign"))) <= len(everyone)


def test_items_add_up_to_the_annotators_score(snapshot):
    session, snap = snapshot
    for who, score in session.result.annotators.items():
        items = snap.items_of(who)
        assert int(items["matched"].sum()) == score.matched
        assert int(items["missed"].sum()) == score.missed
        assert int(items["objects"].sum()) == score.objects


def test_an_item_view_numbers_each_match_once_for_its_two_shapes_and_its_row(snapshot):
    _session, snap = snapshot
    who = "alex.kim@example.com"
    items = snap.items_of(who)
    data_hash = items.sort_values("matched", ascending=False)["data_hash"].iat[0]
    view = snap.item_view(data_hash, who)
    numbers = [p for p in view.objects["pair"] if p is not None]
    assert numbers == list(range(1, len(numbers) + 1))
    for n in numbers:
        sides = sorted(s.side for s in view.shapes if s.pair == n)
        assert sides == ["annotator", "benchmark"]
    row = view.objects[view.objects["pair"] == numbers[0]].iloc[0]
    labelled = next(s for s in view.shapes if s.pair == numbers[0] and s.side == "annotator")
    assert labelled.label == f"{row['iou']:.2f}"
    assert view.size == (1280.0, 720.0) and view.frame in view.frames


def test_detail_and_rescoring_through_the_settings_value(snapshot):
    session, snap = snapshot
    d = snap.detail("bea.santos@example.com")
    assert d.score is session.result.annotators["bea.santos@example.com"]
    strict = EvaluationSession(session.source, EvaluationSettings(iou_threshold=0.95))
    strict.sources, strict.bench_rows = session.sources, session.bench_rows
    result = strict.rescore(strict.with_iou(0.95))
    assert result.settings.iou_threshold == 0.95
    assert result.annotators["bea.santos@example.com"].matched < d.score.matched
    assert np.isfinite(snap.settings.iou_threshold) and snap.settings.iou_threshold == 0.5


# -- issue 15 fix 2: a filter applies to every score and every export --------------------------------

def _rounded(value):
    """A score's JSON with floats to 9 places (the engine adds similarity sums per set, with fsum)."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return round(value, 9) if isinstance(value, float) else value


@pytest.mark.parametrize("class_matching", ["any", "same"])
def test_scores_of_all_the_rows_are_the_engines_scores_for_a_generated_programme(class_matching):
    from annotrain_tui.core.evaluation import evaluate
    from annotrain_tui.core.evaluation.views import annotator_scores
    from tests.labelgen import make_programme

    prog = make_programme(seed=11, n_items=24, annotators=("a@x", "b@x", "c@x"))
    result = evaluate(prog.benchmark, prog.training_sets(), matching="optimal", class_matching=class_matching)
    scores = annotator_scores(result.objects, result.settings.pass_mark, result.annotators)
    assert list(scores) == list(result.annotators) == ["a@x", "b@x", "c@x"]
    assert sum(s.class_mismatches for s in scores.values()) > 0  # the programme has class errors
    for name, engine in result.annotators.items():
        mine = scores[name]
        assert mine.iou_sum == pytest.approx(engine.iou_sum, rel=1e-12)
        assert _rounded(mine.to_json()) == _rounded(engine.to_json())
        assert (mine.status, mine.reason, mine.by_class.keys()) == (engine.status, engine.reason,
                                                                    engine.by_class.keys())
    # without the engine's scores the rows still give every count (not the answers or the coverage)
    alone = annotator_scores(result.objects, result.settings.pass_mark)["a@x"]
    assert (alone.matched, alone.by_shape.keys()) == (scores["a@x"].matched, scores["a@x"].by_shape.keys())


@pytest.mark.parametrize("class_matching", ["any", "same"])
def test_the_confusion_counted_from_the_rows_is_the_engines(class_matching):
    import pandas as pd

    from annotrain_tui.core.evaluation import evaluate
    from annotrain_tui.core.evaluation.views import confusion_counts, confusion_matrix
    from tests.labelgen import make_programme

    prog = make_programme(seed=5, n_items=12, annotators=("a@x", "b@x"))
    result = evaluate(prog.benchmark, prog.training_sets(), class_matching=class_matching)
    counts = confusion_counts(result.objects)
    pd.testing.assert_frame_equal(counts, result.confusion_counts.reset_index(drop=True))
    for who in (None, "a@x"):
        pd.testing.assert_frame_equal(confusion_matrix(counts, who), result.confusion(who), check_names=False)


def _reference_counts(objects, needle: str) -> dict[str, dict[str, int]]:
    """Plain per-row counting of what a class filter keeps (no views code)."""
    out: dict[str, dict[str, int]] = {}
    for row in objects.to_dict(orient="records"):
        classes = [c for c in (row["class"], row["benchmark_class"]) if isinstance(c, str)]
        if not any(needle in c.casefold() for c in classes):
            continue
        c = out.setdefault(row["annotator"], {"objects": 0, "matched": 0, "missed": 0})
        c["objects"] += row["outcome"] != "missed"
        c["matched"] += row["outcome"] in ("matched", "low_overlap")
        c["missed"] += row["outcome"] == "missed"
    return out


def test_a_class_filter_scores_the_annotator_table_and_the_detail_on_that_class_only(snapshot):
    _session, snap = snapshot
    f = Filter(class_name="Road sign")
    table = snap.annotators(f).set_index("annotator")
    ref = _reference_counts(snap.objects, "road sign")
    assert set(table.index) == set(ref)
    whole = snap.annotators().set_index("annotator")
    for who, counts in ref.items():
        for col, n in counts.items():
            assert table.at[who, col] == n, (who, col)
        assert table.at[who, "objects"] < whole.at[who, "objects"]  # narrowed, not the whole score
        assert table.at[who, "complete"] == whole.at[who, "complete"]  # progress stays the annotator's
        detail = snap.detail(who, f)
        assert (detail.score.matched, detail.score.missed) == (counts["matched"], counts["missed"])
        assert all("road sign" in (b + a).casefold() for b, a, _n in detail.confusions)
    assert snap.detail("bea.santos@example.com").score == snap.result.annotators["bea.santos@example.com"]


def test_the_json_export_carries_the_filter_and_its_scores(snapshot):
    _session, snap = snapshot
    assert snap.summary_json()["filter"] is None
    assert {k: v for k, v in snap.summary_json().items() if k != "filter"} == snap.result.to_json()
    f = Filter(class_name="bus")
    doc = snap.summary_json(f)
    assert doc["filter"] == {"class": "bus"}
    assert doc["annotators"] == {a: s.to_json() for a, s in snap.scores(f).items()}
    assert doc["confusion"] and all("bus" in (r["benchmark_class"] + r["annotator_class"]).casefold()
                                    for r in doc["confusion"])


def test_the_seed_rows_under_a_class_filter_are_the_training_objects_of_that_class(snapshot):
    session, _snap = snapshot
    everything = session.seed_rows()
    cars = session.seed_rows(Filter(class_name="car"))
    from dataclasses import replace

    seed = session.evaluate_with(replace(session.settings, matching="seed")).objects
    training = seed[seed["outcome"] != "missed"].reset_index(drop=True)
    is_car = training["class"].str.casefold().str.contains("car").to_numpy()
    assert 0 < len(cars) == int(is_car.sum()) < len(everything)
    assert cars.equals(everything[is_car].reset_index(drop=True))


@pytest.mark.parametrize("f, name", [
    (Filter(), "iou_results.csv"),
    (Filter(class_name="car"), "iou_results.class-car.csv"),
    (Filter(annotator="bea", class_name="Road sign"), "iou_results.annotator-bea.class-Road_sign.csv"),
    (Filter(class_name="../../etc/x\x1b[2J"), "iou_results.class-etc_x_2J.csv"),
    (Filter(class_name="ünï/*"), "iou_results.class-n.csv"),
    (Filter(class_name="///"), "iou_results.class-_.csv"),
])
def test_an_export_name_carries_the_filter_file_name_safe(f, name):
    assert f.file_name("iou_results.csv") == name
    assert "/" not in f.tag() and not f.tag().startswith(".")


def test_items_add_up_to_the_score_with_class_mismatches_too():
    from annotrain_tui.core.evaluation import EvaluationSettings
    from annotrain_tui.core.evaluation.session import EvaluationSession
    from tests.labelgen import make_programme

    prog = make_programme(seed=11, n_items=12, annotators=("a@x", "b@x"))
    session = EvaluationSession(_Rows(prog), EvaluationSettings(class_matching="same"))
    session.load()
    snap = session.snapshot()
    assert (snap.objects["outcome"] == "class_mismatch").any()
    for who, score in snap.result.annotators.items():
        items = snap.items_of(who)
        assert (int(items["missed"].sum()), int(items["extra"].sum()), int(items["objects"].sum())) == \
            (score.missed, score.extra, score.objects)


class _Rows:
    """A row source over a generated programme (no files, no workspace)."""

    live = False
    title = "programme"

    def __init__(self, prog) -> None:
        self.prog = prog
        self.warnings: list[str] = []

    def load(self, session, on_progress, cancel) -> None:
        from annotrain_tui.core.evaluation.session import TrainingSource
        from annotrain_tui.core.models import Project

        session.new_evaluator(self.prog.benchmark, "benchmark")
        for name, rows in self.prog.training.items():
            src = TrainingSource(project=Project(id=name, title=name), annotator=name, total=len(rows))
            for row in rows:
                src.put(row)
            session.sources[name] = src
            session.add_all_blocks(src)


def test_the_matching_choices_set_matching_and_class_matching_and_keep_the_rest():
    from annotrain_tui.core.evaluation.results import PassMark
    from annotrain_tui.core.evaluation.views import MATCHING_CHOICES, matching_of, matching_text, with_matching

    base = EvaluationSettings(iou_threshold=0.6, class_thresholds={"Car": 0.9}, class_matching="same",
                              pass_mark=PassMark(min_items=2, class_f1={"Bus": 0.7}))
    assert [k for k, _ in MATCHING_CHOICES] == ["optimal", "same", "seed"]
    assert "boxes on frame 0 only" in dict(MATCHING_CHOICES)["seed"]
    seed = with_matching(base, "seed")
    assert (seed.matching, seed.class_matching, matching_of(seed)) == ("seed", "any", "seed")
    assert "frame 0 only" in matching_text(seed)
    assert (seed.iou_threshold, dict(seed.class_thresholds), seed.pass_mark) == (0.6, {"Car": 0.9}, base.pass_mark)
    assert matching_of(with_matching(seed, "same")) == "same" and matching_of(with_matching(seed, "optimal")) == \
        "optimal"
    assert with_matching(with_matching(base, "seed"), "same") == base
    assert matching_text(base) == "optimal matching within a class"
    with pytest.raises(ValueError):
        with_matching(base, "greedy")


def test_the_seed_rows_are_the_scripts_even_when_the_session_matches_within_a_class():
    from annotrain_tui.core.evaluation import evaluate
    from tests.labelgen import make_programme

    prog = make_programme(seed=11, n_items=12, annotators=("a@x", "b@x"))
    session = EvaluationSession(_Rows(prog), EvaluationSettings(class_matching="same"))
    session.load()
    rows = session.seed_rows()
    # the script over the same rows in the session's order (by data hash, one set per project)
    sets = [(n, sorted(r, key=lambda row: row["data_hash"])) for n, r in prog.training.items()]
    script = evaluate(prog.benchmark, sets, matching="seed")
    assert len(rows) and rows.equals(script.seed_rows())


def test_the_breakdown_tables_are_the_annotators_score(snapshot):
    import math

    session, snap = snapshot
    for name, score in session.result.annotators.items():
        view = snap.breakdown(name)
        assert view.score == score and not view.answers_unfiltered
        assert view.coverage == f"{score.items_done}/{score.items_required} item(s) finished"
        for table, parts in ((view.by_shape, score.by_shape), (view.by_class, score.by_class)):
            assert list(table["label"]) == sorted(parts)
            for rec in table.to_dict("records"):
                b = parts[rec["label"]]
                assert (rec["objects"], rec["benchmark_objects"], rec["matched"], rec["missed"], rec["extra"]) == \
                    (b.objects, b.benchmark_objects, b.matched, b.benchmark_objects - b.covered, b.objects - b.matched)
                for key in ("precision", "recall", "f1", "mean_similarity"):
                    v = getattr(b, key)
                    assert (math.isnan(rec[key]) if v is None else rec[key] == pytest.approx(v)), key
        assert view.classifications.empty and list(view.classifications.columns) == ["label", "kind", "compared",
                                                                                      "accuracy"]
    f = Filter(class_name="bus")
    bea = "bea.santos@example.com"
    view = snap.breakdown(bea, Filter(annotator="zzz", class_name="bus"))  # the annotator is chosen: no text filter
    assert view.filter == f and view.answers_unfiltered and view.score == snap.scores(f)[bea]
    assert list(view.by_class["label"]) == ["Bus"] and view.score.items_done == session.result.annotators[bea].items_done
    assert snap.breakdown("nobody@x").score is None and snap.breakdown("nobody@x").by_shape.empty


def test_the_question_tables_carry_every_classification_and_attribute():
    from tests.synth import make_mixed_programme

    prog = make_mixed_programme(seed=3, n_items=8, annotators=("a@x",))
    session = EvaluationSession(_Rows(prog))
    session.load()
    score = session.result.annotators["a@x"]
    view = session.snapshot().breakdown("a@x")
    assert len(view.classifications) == len(score.classifications) > 0
    assert len(view.attributes) == len(score.attributes) > 0
    by_label = {r["label"]: r for r in view.attributes.to_dict("records")}
    for q in score.attributes.values():
        assert by_label[q.label]["kind"] == q.kind and by_label[q.label]["compared"] == q.compared
        assert by_label[q.label]["accuracy"] == pytest.approx(q.accuracy)
    assert any(" " in label for label in by_label)  # an attribute is named with its class ("Car colour")


# -- issue 15 trial item 5: a class is its feature hash, named as the benchmark names it -------------

def _renamed(rows, feature_hash: str, name: str):
    """Deep copies of label rows with every object of ``feature_hash`` called ``name``."""
    import copy

    def walk(v):
        if isinstance(v, dict):
            if v.get("featureHash") == feature_hash and "name" in v and ("objectHash" in v or "shape" in v):
                v["name"] = name
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        return v

    return [walk(copy.deepcopy(r)) for r in rows]


def test_a_class_renamed_in_a_training_export_is_still_the_benchmarks_class():
    import pandas as pd

    from annotrain_tui.core.evaluation import evaluate
    from annotrain_tui.core.evaluation.views import annotator_scores, confusion_counts
    from tests.labelgen import make_programme

    prog = make_programme(seed=11, n_items=12, annotators=("a@x", "b@x"))
    plain = evaluate(prog.benchmark, prog.training_sets(), matching="optimal")
    renamed_sets = [(name, _renamed(rows, "c4rF3a7u", "Automobile")) for name, rows in prog.training_sets()]
    renamed = evaluate(prog.benchmark, renamed_sets, matching="optimal")
    assert (renamed.objects["class"] == "Automobile").any()  # the training rows do carry the other name
    before = annotator_scores(plain.objects, plain.settings.pass_mark, plain.annotators)
    after = annotator_scores(renamed.objects, renamed.settings.pass_mark, renamed.annotators)
    for who in before:
        assert "Automobile" not in after[who].by_class
        assert _rounded({k: b.to_json() for k, b in after[who].by_class.items()}) == \
            _rounded({k: b.to_json() for k, b in before[who].by_class.items()})
        assert _rounded(after[who].to_json()) == _rounded(renamed.annotators[who].to_json())  # the engine's too
    counts = confusion_counts(renamed.objects)
    assert not (counts["annotator_class"] == "Automobile").any()
    pd.testing.assert_frame_equal(counts, confusion_counts(plain.objects))
    pd.testing.assert_frame_equal(counts, renamed.confusion_counts.reset_index(drop=True))


def test_two_classes_under_one_benchmark_name_are_told_apart_by_their_hash():
    """As the engine labels them: the first hash keeps the name, the other is ``name (hash8)``;
    the views' counts on the rows equal the engine's, whole and under a class filter."""
    from types import SimpleNamespace

    import pandas as pd

    from annotrain_tui.core.evaluation.views import annotator_scores, class_labels, confusion_counts
    from tests.labelgen import make_programme

    prog = make_programme(seed=11, n_items=12, annotators=("a@x",))
    bench = _renamed(prog.benchmark, "p3rS0nFh", "Car")  # Person called Car: two hashes, one name
    training = {name: _renamed(rows, "p3rS0nFh", "Car") for name, rows in prog.training.items()}
    session = EvaluationSession(_Rows(SimpleNamespace(benchmark=bench, training=training)))
    session.load()
    snap = session.snapshot()
    result = session.result
    _t, b_label = class_labels(result.objects, snap.class_labels)
    cars = {v for v in b_label.tolist() if isinstance(v, str) and v.startswith("Car")}
    assert len(cars) == 2 and "Car" in cars and cars - {"Car"} <= {"Car (c4rF3a7u)", "Car (p3rS0nFh)"}
    engine = result.annotators["a@x"]
    assert cars <= set(engine.by_class)  # the engine tells them apart the same way
    mine = annotator_scores(result.objects, result.settings.pass_mark, result.annotators, labels=snap.class_labels)
    assert _rounded(mine["a@x"].to_json()) == _rounded(engine.to_json())
    pd.testing.assert_frame_equal(confusion_counts(result.objects, snap.class_labels),
                                  result.confusion_counts.reset_index(drop=True))
    # without the engine's map, the rows alone still tell the two classes apart
    _t, alone = class_labels(result.objects)
    assert len({v for v in alone.tolist() if isinstance(v, str) and v.startswith("Car")}) == 2
    # a class filter on the other one: only its objects
    other = next(iter(cars - {"Car"}))
    scored = snap.scores(Filter(class_name=other))["a@x"]
    assert other in scored.by_class and scored.objects < engine.objects


# -- issue 15 trial item 7: a class filter narrows the object attributes too ------------------------

def test_a_class_filter_keeps_the_attributes_of_that_class_only_in_scores_breakdown_and_json():
    from tests.synth import make_mixed_programme

    prog = make_mixed_programme(seed=3, n_items=8, annotators=("a@x",))
    session = EvaluationSession(_Rows(prog))
    session.load()
    snap = session.snapshot()
    everything = session.result.annotators["a@x"].attributes
    classes = sorted({q.object_class for q in everything.values()})
    assert len(classes) > 1  # attributes of several classes: a filter has something to leave out
    one = classes[0]
    f = Filter(class_name=one)
    kept = snap.scores(f)["a@x"].attributes
    assert kept and all(one.casefold() in q.object_class.casefold() for q in kept.values())
    assert set(kept) == {k for k, q in everything.items() if one.casefold() in q.object_class.casefold()}
    view = snap.breakdown("a@x", f)
    assert sorted(view.attributes["label"]) == sorted(q.label for q in kept.values())
    doc = snap.summary_json(f)["annotators"]["a@x"]
    assert {a["class"] for a in doc["attributes"].values()} <= {q.object_class for q in kept.values()}
    expected = sum(q.score_sum for q in kept.values()) / sum(q.compared for q in kept.values())
    assert doc["attribute_accuracy"] == pytest.approx(expected)
    # the classification answers belong to no class: the filter keeps them whole
    assert snap.scores(f)["a@x"].classifications == session.result.annotators["a@x"].classifications


def test_the_demo_holds_polylines_points_and_bitmasks_of_varying_quality(snapshot):
    """The sandbox demo (trial 15 item 18): lanes, traffic lights and road surfaces, gold and
    trainees', so a new user sees every kind of similarity without building files."""
    session, _snap = snapshot
    f1 = {}
    for shape in ("polyline", "point", "bitmask"):
        parts = {who: s.by_shape.get(shape) for who, s in session.result.annotators.items()}
        assert all(b is not None and b.matched > 0 for b in parts.values()), shape
        f1[shape] = [parts[who].f1 for who in sorted(parts)]
    # alex (skill 0.95) draws them better than chidi (0.35)
    assert all(values[0] > values[2] for values in f1.values())
