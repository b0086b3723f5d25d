"""Rehearsal on the sandbox (issue 16, build item 8): the truth of an item, the expert who labels a
benchmark from it with planted gold errors, and trainees who label from the truth."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import numpy as np
import pytest

from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox import truth as tr
from annotrain_tui.core.backends.sandbox.labels import COORD_KEYS
from annotrain_tui.core.backends.sandbox.ops import (
    EXPERT_EMAIL,
    expert_labelled,
    label_benchmark,
    planted_errors,
    simulate,
    truth_of,
)
from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation.labels import geometry_of, read_objects
from annotrain_tui.core.evaluation.live import LiveEvaluation
from annotrain_tui.core.evaluation.parse import parse_label_rows
from annotrain_tui.core.evaluation.shapes import Bitmask, Box, Point, Polygon, Polyline, RotatedBox, Skeleton
from annotrain_tui.core.evaluation.similarity import Bitmask as DecodedMask
from annotrain_tui.core.markers import training_description

EVERY_SHAPE = [("Car", "bounding_box"), ("Van", "bounding_box"), ("Bus", "rotatable_bounding_box"),
               ("Sign", "polygon"), ("Lane", "polyline"), ("Light", "point"), ("Person", "skeleton"),
               ("Road", "bitmask")]
RECORD = {"bounding_box": Box, "rotatable_bounding_box": RotatedBox, "polygon": Polygon, "polyline": Polyline,
          "point": Point, "skeleton": Skeleton, "bitmask": Bitmask}


def from_scratch(backend: SandboxBackend, n_items: int = 12, classes=EVERY_SHAPE) -> dict[str, str]:
    """A programme made from scratch, as a user would: files registered into a folder, a dataset of
    them, an ontology and a benchmark project on it, nothing labelled."""
    integ = backend.add_integration("Direct", "direct")
    folder = backend.create_folder("Scenes")
    manifest = {"images": [{"objectUrl": f"https://example.com/scenes/img_{i:03d}.jpg"} for i in range(n_items)]}
    backend._process_job(backend.start_registration(folder.id, integ.id, manifest))
    dataset = backend.create_dataset("Train Set")
    backend.link_items(dataset.id, [i.id for i in backend.list_items(folder.id)])
    onto = backend.add_ontology("Street", [{"name": n, "shape": s} for n, s in classes])
    template = backend.add_template("Annotator Training", ["Annotate", "Complete"])
    bench = backend.create_project("Bench", description="", dataset_ids=[dataset.id], ontology_id=onto.id)
    return {"benchmark": bench.id, "dataset": dataset.id, "ontology": onto.id, "template": template.id}


def add_trainee(backend: SandboxBackend, ids: dict[str, str], email: str, round: int = 1) -> str:
    p = backend.create_project(f"Training {email} r{round}",
                               description=training_description(email.split("@")[0], email, ids["benchmark"], round),
                               dataset_ids=[ids["dataset"]], ontology_id=ids["ontology"], template_id=ids["template"])
    backend.add_users(p.id, [email], "annotator")
    return p.id


def classes_of(backend: SandboxBackend, ids) -> list[dict]:
    return backend.ontology_structure(ids["ontology"])["objects"]


def gold_objects(backend: SandboxBackend, project_id: str, data_hash: str):
    (row,) = backend.get_label_rows(project_id, [data_hash])
    return read_objects(row, strict=True)


def box_iou(a, b) -> float:
    inter = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x)) * max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def scores(backend: SandboxBackend, bench_id: str) -> dict[str, dict]:
    return LiveEvaluation(backend, bench_id).load().summary_json()["annotators"]


# -- the truth ---------------------------------------------------------------------------------------

def test_the_truth_is_deterministic_and_holds_every_shape(sandbox):
    ids = from_scratch(sandbox, n_items=3)
    classes = classes_of(sandbox, ids)
    a = tr.scene("item-1", classes)
    assert a == tr.scene("item-1", json.loads(json.dumps(classes)))  # the same item: the same objects
    assert a != tr.scene("item-2", classes)
    assert {o.shape for o in a} == set(RECORD)  # one of every shape the ontology has
    assert len({o.object_hash for o in a}) == len(a)
    again = tr.entries(a, created_by="x", size=(640, 480))
    assert tr.entries(tr.scene("item-1", classes), created_by="x", size=(640, 480)) == [
        {**e, "createdAt": again[n]["createdAt"]} for n, e in enumerate(again)]
    # an ontology of boxes only: only boxes
    boxes = [c for c in classes if c["shape"] == "bounding_box"]
    assert {o.shape for o in tr.scene("item-1", boxes)} == {"bounding_box"}
    assert tr.scene("item-1", []) == []


def test_every_shape_of_the_truth_reads_back_through_the_evaluation(sandbox):
    ids = from_scratch(sandbox, n_items=4)
    classes = classes_of(sandbox, ids)
    size = (320, 200)
    for dh in ("a", "b", "c", "d"):
        objects = tr.scene(dh, classes)
        for obj, entry in zip(objects, tr.entries(objects, created_by="e@x", size=size), strict=True):
            geometry = geometry_of(entry, strict=True)  # the one reader, strict
            assert isinstance(geometry, RECORD[obj.shape]), obj.shape
            assert entry["featureHash"] == obj.cls["featureNodeHash"] and entry["objectHash"] == obj.object_hash
            if obj.shape == "bitmask":
                mask = DecodedMask.from_dict(entry["bitmask"])  # runs sum to height × width
                assert (mask.height, mask.width) == (200, 320) and 0 < mask.area < 320 * 200
            if obj.shape == "skeleton":
                assert [k["name"] for k in entry["skeleton"].values()] == [n for n, *_ in tr.SKELETON_TEMPLATE]
                assert all(kp["featureHash"] == tr.keypoint_hash(obj.cls, int(k))
                           for k, kp in entry[COORD_KEYS["skeleton"]].items())
    # and as label rows through the evaluation's strict parser
    label_benchmark(sandbox, ids["benchmark"])
    rows = sandbox.get_label_rows(ids["benchmark"], [r.data_hash for r in sandbox.list_label_rows(ids["benchmark"])])
    table = parse_label_rows(rows, source="bench")
    assert not table.warnings
    assert sum(len(list(read_objects(r, strict=True))) for r in rows) == sum(
        len(tr.scene(r["data_hash"], classes)) for r in rows)


# -- the expert ------------------------------------------------------------------------------------

def test_the_expert_labels_every_task_with_the_truth_and_completes_the_benchmark(sandbox):
    ids = from_scratch(sandbox)
    bench = ids["benchmark"]
    assert sandbox.stage_counts(bench) == {"Annotate": 12}
    result = label_benchmark(sandbox, bench)
    assert sandbox.stage_counts(bench) == {"Complete": 12}
    assert len(result.labelled) == 12 and result.already_done == 0 and result.planted == []
    assert expert_labelled(sandbox, bench) == set(result.labelled)
    for dh in result.labelled:
        got = gold_objects(sandbox, bench, dh)
        want = tr.scene(dh, classes_of(sandbox, ids))
        assert [(o.object_hash, o.feature_hash, o.created_by) for o in got] == [
            (t.object_hash, t.cls["featureNodeHash"], EXPERT_EMAIL) for t in want]
        assert _timeless(truth_of(sandbox, bench, dh)) == _shapes(sandbox, bench, dh)
    assert any(u.email == EXPERT_EMAIL for u in sandbox.get_project(bench).users)


def test_a_task_finished_by_hand_is_left_to_its_annotator(sandbox):
    ids = from_scratch(sandbox, n_items=4)
    bench = ids["benchmark"]
    first = sandbox.list_label_rows(bench)[0].data_hash
    sandbox.save_labels(bench, first, [], stage="Complete")
    result = label_benchmark(sandbox, bench)
    assert result.already_done == 1 and first not in result.labelled and len(result.labelled) == 3
    assert gold_objects(sandbox, bench, first) == []
    assert first not in expert_labelled(sandbox, bench)


def test_planted_errors_are_of_the_three_kinds_on_distinct_items_recorded_and_idempotent(sandbox):
    ids = from_scratch(sandbox)
    bench = ids["benchmark"]
    classes = classes_of(sandbox, ids)
    result = label_benchmark(sandbox, bench, plant_errors=4, seed=3)
    kinds = [e.kind for e in result.planted]
    assert kinds == ["missing", "misplaced", "class", "missing"]  # the three kinds, in turn
    assert len({e.data_hash for e in result.planted}) == 4  # distinct items
    recorded = json.loads(sandbox.store.meta("planted_errors"))
    assert recorded == [e.to_json() for e in result.planted]
    assert set(recorded[0]) >= {"kind", "data_hash", "object_hash", "truth_object_hash", "class"}
    assert planted_errors(sandbox, bench) == result.planted
    for err in result.planted:
        truth_obj = next(o for o in tr.scene(err.data_hash, classes) if o.object_hash == err.truth_object_hash)
        gold = {o.object_hash: o for o in gold_objects(sandbox, bench, err.data_hash)}
        assert err.class_name == truth_obj.name
        if err.kind == "missing":
            assert err.object_hash is None and err.truth_object_hash not in gold
            assert len(gold) == len(tr.scene(err.data_hash, classes)) - 1
        elif err.kind == "misplaced":
            moved = gold[err.object_hash]
            assert moved.feature_hash == truth_obj.cls["featureNodeHash"]
            if truth_obj.shape == "bounding_box":
                assert box_iou(moved.geometry, geometry_of(truth_obj.entry(created_by="x"))) == 0.0
        else:
            swapped = gold[err.object_hash]
            assert swapped.feature_hash != truth_obj.cls["featureNodeHash"] and swapped.shape == truth_obj.shape
            assert swapped.name == err.gold_class != err.class_name
    # the other items hold the truth, untouched
    clean = [dh for dh in result.labelled if dh not in {e.data_hash for e in result.planted}]
    assert all(len(gold_objects(sandbox, bench, dh)) == len(tr.scene(dh, classes)) for dh in clean)
    # a second call labels nothing and plants nothing
    edited = {r.data_hash: r.last_edited_at for r in sandbox.list_label_rows(bench)}
    again = label_benchmark(sandbox, bench, plant_errors=4, seed=3)
    assert again.labelled == [] and again.planted == [] and again.already_done == 12
    assert again.planted_total == result.planted
    assert json.loads(sandbox.store.meta("planted_errors")) == recorded
    assert {r.data_hash: r.last_edited_at for r in sandbox.list_label_rows(bench)} == edited


def test_class_errors_are_passed_over_when_no_shape_has_two_classes(sandbox):
    ids = from_scratch(sandbox, n_items=6, classes=[("Car", "bounding_box"), ("Light", "point")])
    result = label_benchmark(sandbox, ids["benchmark"], plant_errors=3)
    assert [e.kind for e in result.planted] == ["missing", "misplaced", "missing"]


def test_more_errors_than_items_plants_one_per_item_and_says_so(sandbox):
    ids = from_scratch(sandbox, n_items=2)
    result = label_benchmark(sandbox, ids["benchmark"], plant_errors=5)
    assert len(result.planted) == 2 and len({e.data_hash for e in result.planted}) == 2
    assert result.notes and "2 of the 5" in result.notes[0]


def test_refusals(sandbox):
    ids = from_scratch(sandbox, n_items=2)
    trainee = add_trainee(sandbox, ids, "a@x.org")
    with pytest.raises(InvalidInput, match="training project, not a benchmark"):
        label_benchmark(sandbox, trainee)
    with pytest.raises(InvalidInput, match="plant-errors"):
        label_benchmark(sandbox, ids["benchmark"], plant_errors=-1)
    onto = sandbox.add_ontology("Cuboids", [{"name": "Box3d", "shape": "cuboid"}])
    other = sandbox.create_project("Odd", description="", dataset_ids=[ids["dataset"]], ontology_id=onto.id)
    with pytest.raises(InvalidInput, match="no object class the sandbox can draw"):
        label_benchmark(sandbox, other.id)
    assert sandbox.stage_counts(other.id) == {"Annotate": 2}


def test_the_demo_keeps_its_gold_as_the_truth(demo):
    sb, ids = demo
    result = label_benchmark(sb, ids["benchmark"], plant_errors=2)
    assert result.labelled == [] and result.planted == [] and result.already_done == 60
    assert expert_labelled(sb, ids["benchmark"]) == set() and sb.store.meta("planted_errors") is None
    dh = sb.list_label_rows(ids["benchmark"])[0].data_hash
    (row,) = sb.get_label_rows(ids["benchmark"], [dh])
    from annotrain_tui.core.backends.sandbox.labels import objects_of

    assert truth_of(sb, ids["benchmark"], dh) == objects_of(row)


# -- the trainees ------------------------------------------------------------------------------------

def test_trainees_drawing_from_the_truth_score_high_against_a_clean_gold(sandbox):
    ids = from_scratch(sandbox, n_items=20)
    label_benchmark(sandbox, ids["benchmark"])
    add_trainee(sandbox, ids, "good@x.org")
    add_trainee(sandbox, ids, "bad@x.org")
    steps = simulate(sandbox, until_done=True, seed=1, skills={"Good@X.org": 0.98, "bad@x.org": 0.5})
    assert steps == 40
    got = scores(sandbox, ids["benchmark"])
    assert got["good@x.org"]["f1"] >= 0.9 and got["good@x.org"]["class_accuracy"] >= 0.95
    assert got["bad@x.org"]["f1"] < got["good@x.org"]["f1"] - 0.2  # the override decides, not the email
    assert set(got["good@x.org"]["by_shape"]) == set(RECORD)


def test_trainees_agree_with_each_other_against_a_planted_error(sandbox):
    ids = from_scratch(sandbox, n_items=12)
    bench = ids["benchmark"]
    classes = classes_of(sandbox, ids)
    planted = {e.kind: e for e in label_benchmark(sandbox, bench, plant_errors=3, seed=3).planted}
    trainees = [add_trainee(sandbox, ids, f"t{n}@x.org") for n in range(3)]
    simulate(sandbox, until_done=True, seed=2, skills={f"t{n}@x.org": 1.0 for n in range(3)})
    for kind in ("missing", "misplaced"):
        err = planted[kind]
        truth_box = geometry_of(next(o for o in tr.scene(err.data_hash, classes)
                                     if o.object_hash == err.truth_object_hash).entry(created_by="x"))
        gold = {o.object_hash: o for o in gold_objects(sandbox, bench, err.data_hash)}
        for pid in trainees:
            theirs = [o for o in gold_objects(sandbox, pid, err.data_hash) if o.name == err.class_name
                      and isinstance(o.geometry, Box)]
            best = max(theirs, key=lambda o: box_iou(o.geometry, truth_box))
            assert box_iou(best.geometry, truth_box) > 0.7, (kind, pid)  # on the truth's object
            if kind == "misplaced":  # and not on the gold's misplaced one
                assert box_iou(best.geometry, gold[err.object_hash].geometry) == 0.0
    err = planted["class"]
    for pid in trainees:  # each draws the truth's class where the gold has another
        names = [o.name for o in gold_objects(sandbox, pid, err.data_hash)]
        assert names.count(err.class_name) > sum(o.name == err.class_name for o in gold_objects(sandbox, bench,
                                                                                                 err.data_hash))


def test_until_done_finishes_every_round_and_is_repeatable(sandbox, tmp_path):
    ids = from_scratch(sandbox, n_items=5)
    label_benchmark(sandbox, ids["benchmark"])
    first = add_trainee(sandbox, ids, "a@x.org")
    retake = add_trainee(sandbox, ids, "a@x.org", round=2)
    other = add_trainee(sandbox, ids, "b@x.org")
    sandbox.save_labels(first, sandbox.list_label_rows(first)[0].data_hash, [], stage="Complete")
    copy = tmp_path / "copy.db"
    with closing(sqlite3.connect(sandbox.path)) as src, closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)  # the WAL's content too
    seen = []
    steps = simulate(sandbox, until_done=True, seed=9, on_step=lambda p, r: seen.append((p.id, r.data_hash)))
    assert steps == len(seen) == 4 + 5 + 5
    for pid in (first, retake, other):
        assert sandbox.stage_counts(pid) == {"Complete": 5}
    assert simulate(sandbox, until_done=True, seed=9) == 0  # nothing left
    twin = SandboxBackend(copy)
    try:
        simulate(twin, until_done=True, seed=9)
        for pid in (first, retake, other):
            for r in sandbox.list_label_rows(pid):
                assert _shapes(sandbox, pid, r.data_hash) == _shapes(twin, pid, r.data_hash)
    finally:
        twin.close()


def _timeless(objects):
    return [{k: v for k, v in o.items() if k != "createdAt"} for o in objects]


def _shapes(backend, pid, dh):
    """A row's objects as the sandbox stores them, without their time."""
    from annotrain_tui.core.backends.sandbox.labels import objects_of

    (row,) = backend.get_label_rows(pid, [dh])
    return _timeless(objects_of(row))


def test_simulate_of_one_benchmark_leaves_the_others_and_a_bad_skill_is_refused(sandbox):
    ids = from_scratch(sandbox, n_items=3)
    mine = add_trainee(sandbox, ids, "a@x.org")
    bench2 = sandbox.create_project("Bench 2", description="", dataset_ids=[ids["dataset"]],
                                    ontology_id=ids["ontology"])
    theirs = sandbox.create_project("T2", description=training_description("b", "b@x.org", bench2.id),
                                    dataset_ids=[ids["dataset"]], ontology_id=ids["ontology"])
    label_benchmark(sandbox, ids["benchmark"])
    assert simulate(sandbox, until_done=True, benchmark_id=ids["benchmark"]) == 3
    assert sandbox.stage_counts(mine) == {"Complete": 3}
    assert "Complete" not in sandbox.stage_counts(theirs.id)
    with pytest.raises(InvalidInput, match="from 0 to 1"):
        simulate(sandbox, until_done=True, skills={"a@x.org": 1.5})


def test_timed_simulation_draws_from_the_truth_too(sandbox):
    ids = from_scratch(sandbox, n_items=4)
    label_benchmark(sandbox, ids["benchmark"])
    pid = add_trainee(sandbox, ids, "a@x.org")
    steps = simulate(sandbox, rate=1000, duration=0.3, seed=4, skills={"a@x.org": 1.0})
    assert steps > 0
    classes = classes_of(sandbox, ids)
    done = sandbox.list_label_rows(pid, done_only=True)
    assert done
    for r in done:  # a perfect trainee draws every truth object (bitmasks included)
        got = sorted(o.name for o in gold_objects(sandbox, pid, r.data_hash))
        assert got == sorted(o.name for o in tr.scene(r.data_hash, classes))
        masks = [o for o in gold_objects(sandbox, pid, r.data_hash) if o.shape == "bitmask"]
        assert all(np.asarray(DecodedMask.from_dict({"top": m.geometry.top, "left": m.geometry.left,
                                                      "height": m.geometry.height, "width": m.geometry.width,
                                                      "rleString": m.geometry.rle}).counts).sum()
                   == 1280 * 720 for m in masks)
