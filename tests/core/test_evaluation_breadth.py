"""Issue 15, "Must show": the engine agrees with a plain reference (:mod:`tests.reference_eval`) to
1e-9 on label rows built through the real SDK (:mod:`tests.sdk_programme`) — single images, image
groups and videos; every shape alone and all together; per-class thresholds and sigmas;
classification answers and object attributes. The reference is itself checked on tiny cases
worked out by hand, and the fast dict generator (:func:`tests.synth.make_mixed_programme`) is
checked against the SDK (a round trip, and the SDK writer of the same scene)."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from annotrain_tui.core.evaluation import EvaluationResult, EvaluationSettings, evaluate
from tests.reference_eval import ALL_SHAPES, reference_evaluation
from tests.synth import (
    MIXED_CLASSES,
    MIXED_CLASSIFICATIONS,
    MixedClassification,
    MixedItem,
    MixedObject,
    make_mixed_programme,
    make_mixed_scene,
    mixed_label_row,
)

pytest.importorskip("encord")
from encord.objects.ontology_labels_impl import LabelRowV2  # noqa: E402
from encord.orm.storage import CustomerProvidedImageMetadata, CustomerProvidedVideoMetadata  # noqa: E402

from tests.sdk_programme import detached, make_sdk_programme, mixed_ontology, sdk_label_row  # noqa: E402

ANNOTATORS = ("alice@example.com", "bob@example.com", "carol@example.com")
_NESTED = ("by_shape", "by_class", "classifications", "attributes")


def _differences(ref: Any, got: Any, path: str = "") -> list[str]:
    """Where the engine's annotator summaries differ from the reference's (floats to 1e-9). Every key
    the reference gives must be there and agree; in the breakdowns and the question tables the
    engine may list no more entries than the reference, except empty ones (no objects of a class)."""
    out: list[str] = []
    if isinstance(ref, dict):
        if not isinstance(got, dict):
            return [f"{path}: {got!r} is not a table"]
        for k, v in ref.items():
            if k not in got:
                out.append(f"{path}/{k}: missing (reference {v!r})")
            else:
                out += _differences(v, got[k], f"{path}/{k}")
        if path.rsplit("/", 1)[-1] in _NESTED:
            for k, v in got.items():
                if k not in ref and (v.get("objects") or v.get("benchmark_objects") or v.get("compared")):
                    out.append(f"{path}/{k}: not in the reference ({v!r})")
    elif isinstance(ref, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        if not abs(ref - got) <= 1e-9:
            out.append(f"{path}: reference {ref!r}, engine {got!r}")
    elif ref != got or type(ref) is not type(got):
        out.append(f"{path}: reference {ref!r}, engine {got!r}")
    return out


def _agree(benchmark: list[dict], training: list[tuple[str, list[dict]]], settings: EvaluationSettings,
           **reference_options: Any) -> tuple[dict[str, Any], EvaluationResult]:
    result = evaluate(benchmark, training, settings)
    got = result.to_json()["annotators"]
    ref = reference_evaluation(benchmark, training, threshold=settings.iou_threshold,
                               class_thresholds=settings.class_thresholds, sigma=settings.sigma,
                               class_sigmas=settings.class_sigmas, low_overlap=settings.low_overlap,
                               **reference_options)
    assert set(got) == set(ref)
    problems = _differences(ref, got)
    assert not problems, "\n".join(problems[:30])
    return ref, result


@pytest.fixture(scope="module")
def structure():
    return mixed_ontology()


@pytest.fixture(scope="module")
def everything(structure):
    """All shapes, answers and data types, three annotators of different skill."""
    return make_sdk_programme(11, 18, annotators=ANNOTATORS, structure=structure)


# -- the engine against the reference, on SDK-built rows ------------------------------------------

def test_every_shape_and_answer_on_images_groups_and_videos_agrees_with_the_reference(everything):
    ref, result = _agree(everything.benchmark, everything.training_sets(), EvaluationSettings())
    assert sum(p.optimised_groups for p in result.projects) > 0  # some frames needed the assignment
    for person in ref.values():  # the programme exercises what it should
        assert set(person["by_shape"]) == set(ALL_SHAPES)
        assert all(s["matched"] and (s["missed"] or s["extra"]) for s in person["by_shape"].values())
        kinds = {q["kind"] for q in person["classifications"].values()}
        assert kinds == {"radio", "checklist", "text"}
        assert {q["name"] for q in person["classifications"].values()} >= {"strength", "quality"}  # nested, global
        assert {q["kind"] for q in person["attributes"].values()} == {"radio", "checklist", "text"}
        assert 0 < person["classification_accuracy"] < 1 and 0 < person["attribute_accuracy"] < 1
        assert person["class_accuracy"] < 1  # Car/Truck and Eye/Nose confusions
    f1 = [ref[a]["f1"] for a in ANNOTATORS]
    assert f1[0] > f1[2]  # the most careful annotator does best


@pytest.mark.parametrize("data_type", ["image", "img_group", "video"])
def test_each_kind_of_data_unit_alone_agrees_with_the_reference(structure, data_type):
    p = make_sdk_programme(21, 9, data_types=(data_type,), structure=structure)
    _agree(p.benchmark, p.training_sets(), EvaluationSettings())


@pytest.mark.parametrize("shape", ALL_SHAPES)
def test_each_shape_alone_agrees_with_the_reference(everything, shape):
    ref, _ = _agree(everything.benchmark, everything.training_sets(), EvaluationSettings(shape=shape),
                      shapes=(shape,))
    for person in ref.values():
        assert list(person["by_shape"]) == [shape]
        assert person["matched"] > 0


def test_boxes_rotated_boxes_and_polygons_with_holes_and_parts_agree_with_the_reference(structure):
    p = make_sdk_programme(5, 15, shapes=("bounding_box", "rotatable_bounding_box", "polygon"),
                           classifications=False, attributes=False, structure=structure)
    assert any(len(o["polygons"]) > 1 for r in p.benchmark for u in r["data_units"].values()
               for f in ([u["labels"]] if "objects" in u["labels"] else u["labels"].values())
               for o in f["objects"] if o["shape"] == "polygon")
    assert any(len(part) > 1 for r in p.benchmark for u in r["data_units"].values()
               for f in ([u["labels"]] if "objects" in u["labels"] else u["labels"].values())
               for o in f["objects"] if o["shape"] == "polygon" for part in o["polygons"])
    _agree(p.benchmark, p.training_sets(), EvaluationSettings())


def test_per_class_thresholds_and_sigmas_agree_with_the_reference(everything):
    settings = EvaluationSettings(iou_threshold=0.45, sigma=0.04,
                                  class_thresholds={"Car": 0.75, "Eye": 0.3, "Lane": 0.6, "Puddle": 0.8,
                                                    "Person": 0.35},
                                  class_sigmas={"Nose": 0.08, "Person": 0.1})
    ref, _ = _agree(everything.benchmark, everything.training_sets(), settings)
    plain = reference_evaluation(everything.benchmark, everything.training_sets())
    assert any(ref[a]["by_class"][c]["matched"] != plain[a]["by_class"][c]["matched"]
               for a in ref for c in ("Car", "Eye", "Person"))  # the settings changed the matching


def test_the_dict_generator_agrees_with_the_reference_too():
    p = make_mixed_programme(seed=3, n_items=12, annotators=ANNOTATORS[:2])
    _agree(p.benchmark, list(p.training.items()), EvaluationSettings())


def _frame_objects(row: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for u in row["data_units"].values():
        labels = u["labels"]
        for f in ([labels] if "objects" in labels else labels.values()):
            out += f["objects"]
    return out


def test_objects_by_someone_else_or_nobody_are_charged_as_the_reference_says(everything):
    # a reviewer drew some objects in the trainees' projects, some carry no createdBy (the project's
    # name is then the annotator), some classifications no createdBy: misses go to each row's main annotator
    rng = np.random.default_rng(0)
    training = copy.deepcopy(everything.training_sets())
    for _name, rows in training:
        for r in rows:
            by: dict[str, Any] = {}
            for o in _frame_objects(r):
                if o["objectHash"] not in by:
                    x = rng.random()
                    by[o["objectHash"]] = "rev@example.com" if x < 0.15 else (None if x < 0.25 else o["createdBy"])
                o["createdBy"] = by[o["objectHash"]]
            for c in r["classification_answers"].values():
                if rng.random() < 0.3:
                    c["createdBy"] = None
    ref, _ = _agree(everything.benchmark, training, EvaluationSettings())
    assert {"rev@example.com", "Annotator Training - Bob"} <= set(ref)


def test_missing_image_sizes_fall_back_as_the_reference_says(everything):
    bench = copy.deepcopy(everything.benchmark)
    training = copy.deepcopy(everything.training_sets())
    for i, r in enumerate(bench):
        for u in r["data_units"].values():
            if i % 3 == 0:
                del u["width"], u["height"]  # then the training unit's size counts
    for _name, rows in training:
        for i, r in enumerate(rows):
            for u in r["data_units"].values():
                if i % 2 == 0:
                    u["width"], u["height"] = 0, None  # and where both are missing, 1
    _agree(bench, training, EvaluationSettings())


def test_repeated_data_hashes_agree_with_the_reference(everything):
    other = copy.deepcopy(everything.benchmark[1])
    other["data_hash"] = everything.benchmark[0]["data_hash"]  # a second row for item 0: the last one counts
    bench = everything.benchmark + [other]
    ref, _ = _agree(bench, [(n, rows + rows[:2]) for n, rows in everything.training_sets()], EvaluationSettings())
    assert ref != reference_evaluation(everything.benchmark, everything.training_sets())


# -- the reference, on cases worked out by hand -----------------------------------------------------

def _cls(name: str):
    return next(c for c in MIXED_CLASSES if c.name == name)


def _classification(feature_hash: str):
    return next(c for c in MIXED_CLASSIFICATIONS if c.feature_hash == feature_hash)


def _image(objects: list[MixedObject], size=(200, 100), classifications=(), data_hash="d0") -> MixedItem:
    return MixedItem("image", data_hash, "one.jpg", 1, (size,), objects, list(classifications), "l-" + data_hash)


def _one(bench: list[MixedItem], train: list[MixedItem], **options: Any) -> dict[str, Any]:
    rows_b = [mixed_label_row(it, "reviewer@example.com") for it in bench]
    rows_t = [mixed_label_row(it, "a@x.com") for it in train]
    return reference_evaluation(rows_b, [("Training A", rows_t)], **options)["a@x.com"]


def test_reference_one_point_pair():
    # 200×100 image, the annotator 0.05 to the right: d = 10 px, A = 20,000 px², σ = 0.05:
    # exp(-100 / (2 · 0.0025 · 20,000)) = exp(-1)
    b = [_image([MixedObject(_cls("Eye"), {0: {"x": 0.5, "y": 0.5}}, {}, "B1")])]
    t = [_image([MixedObject(_cls("Eye"), {0: {"x": 0.55, "y": 0.5}}, {}, "T1")])]
    got = _one(b, t, threshold=0.3)
    assert got["matched"] == 1 and got["f1"] == 1.0
    assert got["mean_iou"] == pytest.approx(0.36787944117144233, abs=1e-12)
    assert got["by_shape"]["point"]["mean_similarity"] == pytest.approx(math.exp(-1), abs=1e-12)
    below = _one(b, t)  # exp(-1) < 0.5: no match, one missed and one extra
    assert (below["matched"], below["missed"], below["extra"], below["f1"]) == (0, 1, 1, 0.0)
    wider = _one(b, t, sigma=0.1)  # exp(-100 / (2 · 0.01 · 20,000)) = exp(-0.25)
    assert wider["mean_iou"] == pytest.approx(0.7788007830714049, abs=1e-12)


def _person(kps: Mapping[str, tuple[float, float, str | None]]) -> dict[str, Any]:
    return {"keypoints": kps}


def test_reference_one_skeleton_pair():
    # 100×100 image. Benchmark: head (0.1, 0.1) and left hand (0.3, 0.2) present, right hand invisible:
    # Aₒ = (30 - 10) · (20 - 10) = 200 px², so 2σ²Aₒ = 1. The annotator has the head exactly
    # (term 1), the hand 2 px off (exp(-4)), and the right hand anywhere (not counted):
    # OKS = (1 + exp(-4)) / 2 = 0.50915781944...
    bench_kps = {"kpHead01": (0.1, 0.1, None), "kpLHnd01": (0.3, 0.2, None), "kpRHnd01": (0.9, 0.9, "invisible")}
    train_kps = {"kpHead01": (0.1, 0.1, None), "kpLHnd01": (0.32, 0.2, None), "kpRHnd01": (0.5, 0.5, None)}
    b = [_image([MixedObject(_cls("Person"), {0: _person(bench_kps)}, {}, "B1")], size=(100, 100))]
    t = [_image([MixedObject(_cls("Person"), {0: _person(train_kps)}, {}, "T1")], size=(100, 100))]
    got = _one(b, t)
    assert got["matched"] == 1
    assert got["mean_iou"] == pytest.approx(0.5091578194443671, abs=1e-12)
    # the head left out counts 0: exp(-4) / 2, below the threshold
    left_out = {k: v for k, v in train_kps.items() if k != "kpHead01"}
    t2 = [_image([MixedObject(_cls("Person"), {0: _person(left_out)}, {}, "T1")], size=(100, 100))]
    assert _one(b, t2)["matched"] == 0
    assert _one(b, t2, threshold=0.009)["mean_iou"] == pytest.approx(0.00915781944436709, abs=1e-12)


def _car_box(name: str, x: float, w: float, oh: str) -> MixedObject:
    return MixedObject(_cls(name), {0: {"x": x, "y": 0.1, "w": w, "h": 0.2}}, {}, oh)


def test_reference_two_by_two_assignment_maximises_the_total():
    # Boxes of one height and row: IoU is the overlap of their x intervals (in units of 0.05):
    # B1 = [0, 10] (Car), B2 = [0.5, 8.5] (Truck), T1 = [0, 9] (Truck), T2 = [3, 10] (Car).
    # IoU(T1, B1) = 9/10, IoU(T1, B2) = 8/9, IoU(T2, B1) = 7/10, IoU(T2, B2) = 5.5/9.5.
    # Each annotator object's best first (greedy) takes T1–B1 and T2–B2: total 1.479;
    # the assignment takes T1–B2 and T2–B1: total 8/9 + 7/10 = 1.589, both classes right.
    b = [_image([_car_box("Car", 0.0, 0.5, "B1"), _car_box("Truck", 0.025, 0.4, "B2")])]
    t = [_image([_car_box("Truck", 0.0, 0.45, "T1"), _car_box("Car", 0.15, 0.35, "T2")])]
    got = _one(b, t)
    assert (got["matched"], got["missed"], got["extra"]) == (2, 0, 0)
    assert got["mean_iou"] == pytest.approx((8 / 9 + 7 / 10) / 2, abs=1e-12)
    assert got["class_accuracy"] == 1.0
    assert got["by_class"]["Car"]["mean_similarity"] == pytest.approx(0.7, abs=1e-12)
    assert got["by_class"]["Truck"]["mean_similarity"] == pytest.approx(8 / 9, abs=1e-12)
    # a Truck threshold of 0.9 forbids T1–B2 (8/9): then T1–B1 (0.9, wrong class) and T2 unmatched
    strict = _one(b, t, class_thresholds={"Truck": 0.9})
    assert (strict["matched"], strict["missed"], strict["extra"]) == (1, 1, 1)
    assert strict["mean_iou"] == pytest.approx(0.9, abs=1e-12) and strict["class_accuracy"] == 0.0
    assert strict["by_class"]["Car"] == {"objects": 1, "benchmark_objects": 1, "matched": 0, "missed": 1,
                                         "extra": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0,
                                         "mean_similarity": None}


def test_reference_classification_and_attribute_scores():
    weather, tags, note, quality = (_classification(h) for h in ("mxClWth1", "mxClTag1", "mxClNot1", "mxClQly1"))
    bench_cls = [
        MixedClassification(weather, (0,), {"clWthr01": ("clSun001",), "clStr001": ("clWeak01",)}, "c1"),
        MixedClassification(tags, (0,), {"clTags01": ("clPpl001", "clVeh001")}, "c2"),
        MixedClassification(note, (0,), {"clNote01": "Main Street"}, "c3"),
        MixedClassification(quality, None, {"clQual01": ("clGood01",)}, "c4"),
    ]
    train_cls = [
        MixedClassification(weather, (0,), {"clWthr01": ("clSun001",), "clStr001": ("clStrg01",)}, "k1"),
        MixedClassification(tags, (0,), {"clTags01": ("clPpl001",)}, "k2"),
        MixedClassification(note, (0,), {"clNote01": "  main STREET "}, "k3"),
    ]
    car = _cls("Car")
    b_car = MixedObject(car, {0: {"x": 0.1, "y": 0.1, "w": 0.3, "h": 0.3}},
                        {"carCol01": ("carRed01",), "carExt01": ("carRck01", "carTow01"), "carPlt01": "AB 1"}, "B1")
    t_car = MixedObject(car, {0: {"x": 0.1, "y": 0.1, "w": 0.3, "h": 0.3}},
                        {"carCol01": ("carRed01",), "carExt01": ("carRck01", "carSpl01")}, "T1")
    got = _one([_image([b_car], classifications=bench_cls)], [_image([t_car], classifications=train_cls)])
    # weather 1, strength 0 (another option), tags 1/2, note 1 (trimmed, case-folded), quality 0 (no answer)
    c = {q["name"]: (q["kind"], q["compared"], q["accuracy"]) for q in got["classifications"].values()}
    assert c == {"weather": ("radio", 1, 1.0), "strength": ("radio", 1, 0.0), "tags": ("checklist", 1, 0.5),
                 "note": ("text", 1, 1.0), "quality": ("radio", 1, 0.0)}
    assert got["classification_accuracy"] == pytest.approx(2.5 / 5, abs=1e-12)
    # colour 1, extras Jaccard {rack} / {rack, tow, spoiler} = 1/3, plate not answered 0
    a = {q["name"]: q["accuracy"] for q in got["attributes"].values()}
    assert a == pytest.approx({"colour": 1.0, "extras": 1 / 3, "plate": 0.0}, abs=1e-12)
    assert got["attribute_accuracy"] == pytest.approx((1 + 1 / 3) / 3, abs=1e-12)


# -- the fast dict generator is what the SDK reads and writes ----------------------------------------

def _metadata(row: dict[str, Any]) -> Any:
    units = sorted(row["data_units"].values(), key=lambda u: int(u["data_sequence"]))
    if row["data_type"] == "video":
        u = units[0]
        return CustomerProvidedVideoMetadata(fps=25, duration=10, width=u["width"], height=u["height"], fileSize=1,
                                             mimeType="video/mp4")
    images = [CustomerProvidedImageMetadata(mimeType="image/jpeg", fileSize=1, height=u["height"], width=u["width"])
              for u in units]
    return images if row["data_type"] == "img_group" else images[0]


def _read_fields(row: dict[str, Any]) -> dict[str, Any]:
    """What evaluation reads of a row, with the orders the SDK does not keep taken out."""
    units = {}
    for u in row["data_units"].values():
        labels = u["labels"]
        frames = {"0": labels} if "objects" in labels else labels
        units[str(u["data_sequence"])] = {
            "size": (u["width"], u["height"]),
            "frames": {f: sorted(({k: o[k] for k in o if k not in ("createdAt", "lastEditedAt", "color", "value",
                                                                    "confidence", "manualAnnotation")}
                                  for o in v["objects"]), key=lambda o: o["objectHash"])
                       for f, v in frames.items() if v["objects"]},
        }

    def answers(entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {e["featureHash"]: (e["name"], e["answers"]) for e in entries}

    return {
        "identity": (row["data_hash"], row["data_type"], row["annotation_task_status"]),
        "units": units,
        "object_answers": {h: answers(v["classifications"]) for h, v in row["object_answers"].items()},
        "classification_answers": {h: (v["featureHash"], v["range"], v["createdBy"], answers(v["classifications"]))
                                   for h, v in row["classification_answers"].items()},
    }


def test_mixed_rows_round_trip_through_the_sdk_unchanged_in_what_evaluation_reads(structure):
    p = make_mixed_programme(seed=6, n_items=6)
    rows = p.benchmark[:3] + p.training["Annotator Training - Alice"][3:]
    assert {r["data_type"] for r in rows} == {"image", "img_group", "video"}
    for d in rows:
        lr = LabelRowV2.from_media_metadata(detached(structure), _metadata(d))
        lr.from_labels_dict(d)
        back = lr.to_encord_dict()
        back["annotation_task_status"], back["data_hash"] = d["annotation_task_status"], d["data_hash"]
        assert _read_fields(back) == _read_fields(d)


def test_the_sdk_writer_and_the_dict_writer_write_the_same_scene(structure):
    scene = make_mixed_scene(seed=8, n_items=6)
    for it in scene.benchmark + scene.training["Annotator Training - Bob"]:
        assert _read_fields(sdk_label_row(structure, it, "x@y.z")) == _read_fields(mixed_label_row(it, "x@y.z"))


def test_the_comparison_notices_every_kind_of_difference():
    ref: dict[str, Any] = {"a": {"f1": 0.5, "matched": 2, "mean_iou": None, "by_class": {"Car": {"objects": 1, "matched": 1}},
                 "classifications": {"q": {"compared": 1, "accuracy": 1.0}}}}
    assert _differences(ref, ref) == []
    for change in (lambda g: g["a"].__setitem__("f1", 0.5 + 1e-8), lambda g: g["a"].__setitem__("matched", 3),
                   lambda g: g["a"].__setitem__("mean_iou", 0.0), lambda g: g["a"].pop("f1"),
                   lambda g: g["a"]["by_class"].__setitem__("Bus", {"objects": 1, "matched": 0}),
                   lambda g: g["a"]["classifications"]["q"].__setitem__("accuracy", None),
                   lambda g: g["a"].__setitem__("matched", 2.0)):
        got = copy.deepcopy(ref)
        change(got)
        assert _differences(ref, got)
    got = copy.deepcopy(ref)
    got["a"]["by_class"]["Bus"] = {"objects": 0, "benchmark_objects": 0}  # empty entries may be listed
    got["a"]["low_overlap"] = 0  # fields the reference does not give are the engine's own
    assert _differences(ref, got) == []
