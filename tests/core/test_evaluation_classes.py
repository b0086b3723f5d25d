"""Class-aware matching (class_matching "same", as CVAT) and the cross-class pass: objects that
overlap well but carry another class are reported as class mismatches (and as one confusion),
not only as a miss and an extra."""

from __future__ import annotations

import copy

import pytest

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation import evaluate
from tests.synth import DEFAULT_CLASSES, box, make_label_row, make_object, make_programme

CAR, PERSON = DEFAULT_CLASSES[0], DEFAULT_CLASSES[1]


def _pair():
    bm = make_label_row(data_hash="d", data_title="t", label_hash="B", objects=[
        make_object(CAR, box(0.1, 0.1, 0.2, 0.2), object_hash="A", created_by="g"),
        make_object(PERSON, box(0.5, 0.5, 0.2, 0.2), object_hash="P", created_by="g")])
    tr = make_label_row(data_hash="d", data_title="t", label_hash="T", objects=[
        make_object(PERSON, box(0.11, 0.1, 0.2, 0.2), object_hash="a", created_by="z@x"),  # on the car
        make_object(PERSON, box(0.5, 0.5, 0.2, 0.2), object_hash="p", created_by="z@x")])
    return bm, tr


def test_any_class_matching_counts_a_wrong_class_as_a_match_and_a_mismatch():
    bm, tr = _pair()
    r = evaluate([bm], [("p", [tr])])
    a = r.annotators["z@x"]
    assert (a.matched, a.missed, a.extra, a.class_mismatches, a.class_accuracy) == (2, 0, 0, 1, 0.5)


def test_same_class_matching_reports_the_cross_class_pair_once():
    bm, tr = _pair()
    r = evaluate([bm], [("p", [tr])], class_matching="same")
    a = r.annotators["z@x"]
    assert (a.matched, a.missed, a.extra, a.class_mismatches, a.class_accuracy) == (1, 1, 1, 1, 1.0)
    rows = r.objects.set_index(r.objects["object_hash"].fillna(r.objects["benchmark_object_hash"]))
    assert rows.loc["a", "outcome"] == "class_mismatch" and rows.loc["a", "benchmark_object_hash"] == "A"
    assert rows.loc["a", "class_score"] == 0.0 and 0.8 < rows.loc["a", "iou"] < 1
    assert "A" not in rows.index  # the car is the mismatch's partner, not a second "missed" row
    assert r.confusion_totals == {("z@x", "Car", "Person"): 1, ("z@x", "Person", "Person"): 1}
    assert r.to_json()["annotators"]["z@x"]["class_mismatches"] == 1


def _only(rows: list[dict], feature_hash: str) -> list[dict]:
    out = copy.deepcopy(rows)
    for row in out:
        for unit in row["data_units"].values():
            labels = unit["labels"]
            frames = [labels] if "objects" in labels else list(labels.values())
            for f in frames:
                f["objects"] = [o for o in f["objects"] if o["featureHash"] == feature_hash]
    return out


@pytest.mark.parametrize("seed", [3, 11])
def test_same_class_matching_is_optimal_matching_class_by_class(seed):
    prog = make_programme(seed=seed, n_items=25, shapes=("bounding_box", "polygon"), video_every=4,
                          p_wrong_class=0.3, annotators=("a@x",))
    name, rows = next(iter(prog.training.items()))
    same = evaluate(prog.benchmark, [(name, rows)], class_matching="same").annotators["a@x"]
    features = {c.feature_hash for c in DEFAULT_CLASSES}
    per_class = [evaluate(_only(prog.benchmark, f), [(name, _only(rows, f))], require_pairs=False).annotators.get("a@x")
                 for f in features]
    assert same.matched == sum(a.matched for a in per_class if a) > 0
    assert same.iou_sum == pytest.approx(sum(a.iou_sum for a in per_class if a), rel=1e-12)
    assert same.class_accuracy == 1.0
    assert same.class_mismatches > 0  # wrong classes on top of the right object were found by the second pass


def test_seed_matching_refuses_class_aware_matching():
    bm, tr = _pair()
    with pytest.raises(InvalidInput, match="matches whatever the classes"):
        evaluate([bm], [("p", [tr])], matching="seed", class_matching="same")


def test_a_class_is_its_feature_hash_whatever_a_file_names_it():
    """A trial renamed the benchmark's class in the training file (same feature hash): class accuracy
    said 1.0 while the confusion showed a false off-diagonal cell and by_class split it in two."""
    bm, tr = _pair()
    for o in tr["data_units"]["d"]["labels"]["objects"]:
        o["name"] = "Human"  # PERSON's feature hash, another name
    r = evaluate([bm], [("p", [tr])])
    a = r.annotators["z@x"]
    assert a.class_accuracy == 0.5  # 'a' (a Person) on the Car is the one wrong class
    assert set(a.by_class) == {"Car", "Person"}  # the benchmark's names label the classes
    assert a.by_class["Person"].matched == 1 and a.by_class["Person"].objects == 2
    assert r.confusion_totals == {("z@x", "Car", "Person"): 1, ("z@x", "Person", "Person"): 1}


def test_two_classes_sharing_a_name_stay_two_classes():
    bm, tr = _pair()
    for o in bm["data_units"]["d"]["labels"]["objects"] + tr["data_units"]["d"]["labels"]["objects"]:
        o["name"] = "Thing"  # Car and Person both called Thing: still two feature hashes
    a = evaluate([bm], [("p", [tr])]).annotators["z@x"]
    assert sorted(a.by_class) == sorted(["Thing", f"Thing ({PERSON.feature_hash[:8]})"]) or \
        sorted(a.by_class) == sorted(["Thing", f"Thing ({CAR.feature_hash[:8]})"])
    assert sum(b.benchmark_objects for b in a.by_class.values()) == 2
