"""A plain reference of the whole optimal evaluation (issue 15), over raw label-row dicts.

Written from the issue's text and the engine's module doc (``annotrain_tui/core/evaluation/engine.py``),
sharing no code with ``annotrain_tui``: Python loops, numpy, shapely and scipy, the per-pair
similarities of :mod:`tests.reference_similarity` (points, skeletons, polylines, bitmasks) and
:mod:`tests.labelgen` (boxes, rotated boxes, polygons), the answer scores of
:mod:`tests.reference_answers`. Slow and obvious on purpose: agreement with the engine means something.

The rules, step by step:

* Pairing: each training row with the benchmark row of its ``data_hash`` (the last such benchmark
  row); unpaired rows are ignored. A frame is an image's ``data_sequence`` (images, image groups)
  or a video's frame key.
* Per (paired row, frame, shape): the similarity of every (training, benchmark) pair of objects of
  that shape on that frame — every class together, so class confusions happen — set to 0 below
  the threshold of the benchmark object's class (``class_thresholds[name]``, else ``threshold``);
  ``scipy.optimize.linear_sum_assignment(maximize=True)``; pairs with a similarity > 0 (so ≥ the
  threshold) are the matches. Points and skeletons use the benchmark class's sigma. Image size:
  the benchmark unit's ``width``/``height``, else the training unit's, else 1.
* Who: a training object is its ``createdBy``'s (the project's name when absent). A benchmark object
  is charged to the annotator of the object that matched it, else (missed) to the row's main
  annotator: most compared objects in the row (ties: the first in the row's reading order); a row
  without any: the project's main annotator (most compared objects in the project; ties: the first
  seen), or the project's name when it has none.
* Per annotator: ``objects``, ``benchmark_objects`` (charged), ``matched``, ``missed``,
  ``extra = objects - matched``, ``precision = matched / objects``, ``recall = (benchmark_objects -
  missed) / benchmark_objects`` (None on an empty denominator), ``f1`` (1.0 when both are None, 0.0
  when one is or both are 0), ``mean_iou`` (mean similarity of the matches), ``class_accuracy``
  (share of matches whose feature hashes agree), ``low_overlap`` (matches below ``low_overlap``).
* ``by_shape[shape]``: the same counts for one shape, and ``mean_similarity``. ``by_class[name]``:
  ``objects`` (the annotator's of that class), ``benchmark_objects`` (charged to them, of that
  class), ``matched`` (matches where both objects have the class), ``missed = benchmark_objects -
  matched``, ``extra = objects - matched``, precision, recall, f1 from those, ``mean_similarity``
  over those matches. A shape or class with neither objects nor benchmark objects is left out.
* ``classifications[question feature hash]``: ``{"name", "kind", "compared", "accuracy"}`` over
  every (paired row, frame, question) the benchmark answered (frame -1 for a global
  classification, whose ``range`` is empty; otherwise every frame of its ``range``): the score of
  the training row's answer on that frame (None → 0), charged to the row's main annotator (the
  row is the trainee's work: the answer's own ``createdBy`` is not looked at, unlike an object's —
  the engine's rule, ``Evaluator._answers``). ``classification_accuracy``: the mean
  over every comparison. ``kind``: "text" for text answers; "checklist" when any answer to the
  question in any row given has other than one option; else "radio". ``name``: the benchmark's.
* ``attributes[attribute feature hash]``: the same over the matches (one per matched frame): each
  attribute the benchmark object answered (``object_answers``) scored against the matched training
  object's answer; charged to the training object's annotator. ``attribute_accuracy``: their mean.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from tests.labelgen import pair_iou
from tests.reference_answers import ref_answer_score
from tests.reference_similarity import ref_bitmask_iou, ref_oks, ref_point, ref_polyline_iou

__all__ = ["ALL_SHAPES", "reference_evaluation", "similarity", "GLOBAL"]

ALL_SHAPES = ("bounding_box", "rotatable_bounding_box", "polygon", "polyline", "point", "skeleton", "bitmask")
GLOBAL = -1


def _valid_size(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) and f > 0 else None


def image_size(b_unit: Mapping[str, Any], t_unit: Mapping[str, Any]) -> tuple[float, float]:
    """Width and height in pixels: the benchmark unit's, else the training unit's, else 1."""
    out = []
    for key in ("width", "height"):
        v = _valid_size(b_unit.get(key))
        if v is None:
            v = _valid_size(t_unit.get(key))
        out.append(1.0 if v is None else v)
    return out[0], out[1]


def _keypoints(obj: Mapping[str, Any]) -> dict[str, tuple[float, float, bool]]:
    """A skeleton's keypoints by key (featureHash, else name, else position): (x, y, present)."""
    raw = obj["skeleton"]
    items = [raw[k] for k in sorted(raw, key=int)] if isinstance(raw, dict) else list(raw)
    out = {}
    for i, kp in enumerate(items):
        key = kp.get("featureHash") or kp.get("name") or str(i)
        out[key] = (float(kp["x"]), float(kp["y"]), kp.get("visibility") != "invisible")
    return out


def _line(obj: Mapping[str, Any]) -> list[tuple[float, float]]:
    raw = obj["polyline"]
    items = [raw[k] for k in sorted(raw, key=int)] if isinstance(raw, dict) else list(raw)
    return [(float(p["x"]), float(p["y"])) for p in items]


def similarity(shape: str, t: Mapping[str, Any], b: Mapping[str, Any], t_unit: Mapping[str, Any],
               b_unit: Mapping[str, Any], sigma: float = 0.05) -> float:
    """The similarity of a training object ``t`` and a benchmark object ``b`` of ``shape`` (frame
    object dicts), on their data units."""
    w, h = image_size(b_unit, t_unit)
    if shape in ("bounding_box", "polygon"):
        return float(pair_iou(shape, dict(t), dict(b), {"width": w, "height": h}))
    if shape == "rotatable_bounding_box":
        return float(pair_iou(shape, dict(t), dict(b), {"width": w, "height": h}))
    if shape == "point":
        tp, bp = t["point"]["0"], b["point"]["0"]
        return ref_point((tp["x"], tp["y"]), (bp["x"], bp["y"]), w, h, sigma)
    if shape == "skeleton":
        return ref_oks(_keypoints(t), _keypoints(b), w, h, sigma)
    if shape == "polyline":
        return ref_polyline_iou(_line(t), _line(b), w, h)
    if shape == "bitmask":
        return ref_bitmask_iou(t["bitmask"], b["bitmask"])
    raise ValueError(f"no reference similarity for shape {shape!r}")


@dataclass
class _Ann:
    """One object on one frame of a row."""

    frame: int
    shape: str
    obj: dict[str, Any]
    unit: dict[str, Any]
    order: int  # reading order in the row


def _annotations(row: Mapping[str, Any], shapes: Sequence[str]) -> list[_Ann]:
    out = []
    n = 0
    for unit in row["data_units"].values():
        labels = unit.get("labels", {})
        if row["data_type"] == "video":
            frames = [(int(k), v.get("objects", [])) for k, v in labels.items()]
        else:
            frames = [(int(unit.get("data_sequence", 0)), labels.get("objects", []))]
        for f, objects in frames:
            for o in objects:
                if o["shape"] in shapes:
                    out.append(_Ann(f, o["shape"], o, unit, n))
                    n += 1
    return out


def _classification_answers(row: Mapping[str, Any]) -> dict[tuple[int, str], tuple[dict[str, Any], Any]]:
    """(frame, question feature hash) -> (answer entry, the instance's createdBy)."""
    out: dict[tuple[int, str], tuple[dict[str, Any], Any]] = {}
    for inst in row.get("classification_answers", {}).values():
        ranges = inst.get("range") or []
        frames = [f for a, b in ranges for f in range(int(a), int(b) + 1)] if ranges else [GLOBAL]
        for entry in inst.get("classifications", []):
            for f in frames:
                out[(f, entry["featureHash"])] = (entry, inst.get("createdBy"))
    return out


def _object_answers(row: Mapping[str, Any], object_hash: str) -> dict[str, dict[str, Any]]:
    entry = row.get("object_answers", {}).get(object_hash) or {}
    return {a["featureHash"]: a for a in entry.get("classifications", [])}


def _kinds(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    kinds: dict[str, str] = {}

    def see(entry: Mapping[str, Any]) -> None:
        q, ans = entry["featureHash"], entry["answers"]
        kind = "text" if isinstance(ans, str) else ("radio" if len(ans) == 1 else "checklist")
        if kinds.get(q) in (None, "radio"):
            kinds[q] = kind

    for row in rows:
        for inst in row.get("classification_answers", {}).values():
            for e in inst.get("classifications", []):
                see(e)
        for obj in row.get("object_answers", {}).values():
            for e in obj.get("classifications", []):
                see(e)
    return kinds


@dataclass
class _Counts:
    objects: int = 0
    benchmark_objects: int = 0
    matched: int = 0
    covered: int = 0
    sims: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        p = self.matched / self.objects if self.objects else None
        r = self.covered / self.benchmark_objects if self.benchmark_objects else None
        return {"objects": self.objects, "benchmark_objects": self.benchmark_objects, "matched": self.matched,
                "missed": self.benchmark_objects - self.covered, "extra": self.objects - self.matched,
                "precision": p, "recall": r, "f1": _f1(p, r), "mean_similarity": _mean(self.sims)}


def _f1(p: float | None, r: float | None) -> float:
    if p is None and r is None:
        return 1.0
    if p is None or r is None or p + r == 0:
        return 0.0
    return 2 * p * r / (p + r)


def _mean(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


@dataclass
class _Person:
    total: _Counts = field(default_factory=_Counts)
    correct_class: int = 0
    low: int = 0
    by_shape: dict[str, _Counts] = field(default_factory=dict)
    by_class: dict[str, _Counts] = field(default_factory=dict)
    classifications: dict[str, list[float]] = field(default_factory=dict)
    attributes: dict[str, list[float]] = field(default_factory=dict)


def _main(annotators: list[str]) -> str | None:
    """The most frequent name; ties: the first seen."""
    if not annotators:
        return None
    counts: dict[str, int] = {}
    for a in annotators:
        counts[a] = counts.get(a, 0) + 1
    best = max(counts.values())
    return next(a for a in annotators if counts[a] == best)


def reference_evaluation(
    benchmark_rows: Sequence[Mapping[str, Any]],
    training_sets: Iterable[tuple[str, Sequence[Mapping[str, Any]]]],
    *,
    threshold: float = 0.5,
    class_thresholds: Mapping[str, float] | None = None,
    sigma: float = 0.05,
    class_sigmas: Mapping[str, float] | None = None,
    low_overlap: float = 0.8,
    shapes: Sequence[str] = ALL_SHAPES,
) -> dict[str, dict[str, Any]]:
    """Per annotator (sorted by name): the summary described in the module doc, in the layout of
    ``EvaluationResult.to_json()["annotators"][annotator]`` (its scoring fields)."""
    class_thresholds = dict(class_thresholds or {})
    class_sigmas = dict(class_sigmas or {})
    sets = [(name, list(rows)) for name, rows in training_sets]
    bench = {r["data_hash"]: r for r in benchmark_rows}
    kinds = _kinds([*benchmark_rows, *(r for _, rows in sets for r in rows)])
    names: dict[str, str] = {}
    for row in benchmark_rows:
        for inst in [*row.get("classification_answers", {}).values(), *row.get("object_answers", {}).values()]:
            for e in inst.get("classifications", []):
                names.setdefault(e["featureHash"], e["name"])
    people: dict[str, _Person] = {}

    def person(a: str) -> _Person:
        return people.setdefault(a, _Person())

    def counts(p: _Person, table: str, key: str) -> _Counts:
        return getattr(p, table).setdefault(key, _Counts())

    for project, rows in sets:
        paired = [(tr, bench[tr["data_hash"]]) for tr in rows if tr["data_hash"] in bench]

        def who(obj: Mapping[str, Any], project: str = project) -> str:
            v = obj.get("createdBy")
            return v if isinstance(v, str) and v else project

        t_anns = [_annotations(tr, shapes) for tr, _ in paired]
        project_main = _main([who(a.obj) for anns in t_anns for a in anns]) or project
        for (tr, bm), t_all in zip(paired, t_anns):
            row_main = _main([who(a.obj) for a in sorted(t_all, key=lambda a: a.order)]) or project_main
            b_all = _annotations(bm, shapes)
            for shape in shapes:
                for f in sorted({a.frame for a in t_all + b_all if a.shape == shape}):
                    T = [a for a in t_all if a.shape == shape and a.frame == f]
                    B = [a for a in b_all if a.shape == shape and a.frame == f]
                    match: dict[int, tuple[int, float]] = {}
                    if T and B:
                        m = np.zeros((len(T), len(B)))
                        for j, b in enumerate(B):
                            s_b = class_sigmas.get(b.obj["name"], sigma)
                            thr = class_thresholds.get(b.obj["name"], threshold)
                            for i, t in enumerate(T):
                                v = similarity(shape, t.obj, b.obj, t.unit, b.unit, s_b)
                                m[i, j] = v if v >= thr else 0.0
                        for i, j in zip(*linear_sum_assignment(m, maximize=True)):
                            if m[i, j] > 0:
                                match[int(i)] = (int(j), float(m[i, j]))
                    covered_by: dict[int, str] = {}
                    for i, t in enumerate(T):
                        a = who(t.obj)
                        p = person(a)
                        t_name = t.obj["name"]
                        for c in (p.total, counts(p, "by_shape", shape), counts(p, "by_class", t_name)):
                            c.objects += 1
                        if i not in match:
                            continue
                        j, v = match[i]
                        b = B[j]
                        covered_by[j] = a
                        for c in (p.total, counts(p, "by_shape", shape)):
                            c.matched += 1
                            c.sims.append(v)
                        p.correct_class += t.obj["featureHash"] == b.obj["featureHash"]
                        p.low += v < low_overlap
                        if t_name == b.obj["name"]:
                            c = counts(p, "by_class", t_name)
                            c.matched += 1
                            c.covered += 1
                            c.sims.append(v)
                        t_ans = _object_answers(tr, t.obj["objectHash"])
                        for q, entry in _object_answers(bm, b.obj["objectHash"]).items():
                            p.attributes.setdefault(q, []).append(ref_answer_score(t_ans.get(q), entry))
                    for j, b in enumerate(B):
                        a = covered_by.get(j, row_main)
                        p = person(a)
                        for c in (p.total, counts(p, "by_shape", shape), counts(p, "by_class", b.obj["name"])):
                            c.benchmark_objects += 1
                        if j in covered_by:
                            p.total.covered += 1
                            counts(p, "by_shape", shape).covered += 1
            t_cls = _classification_answers(tr)
            for key, (entry, _by) in _classification_answers(bm).items():
                got = t_cls.get(key)
                score = ref_answer_score(got[0] if got else None, entry)
                person(row_main).classifications.setdefault(key[1], []).append(score)

    out: dict[str, dict[str, Any]] = {}
    for a in sorted(people):
        p = people[a]
        tot = p.total
        if not (tot.objects or tot.benchmark_objects or p.classifications):
            continue
        summary = tot.to_json()
        mean = summary.pop("mean_similarity")

        def questions(d: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
            return {q: {"name": names.get(q, q), "kind": kinds.get(q, "?"), "compared": len(v), "accuracy": _mean(v)}
                    for q, v in sorted(d.items())}

        out[a] = {
            **summary,
            "mean_iou": mean,
            "class_accuracy": p.correct_class / tot.matched if tot.matched else None,
            "low_overlap": p.low,
            "by_shape": {k: c.to_json() for k, c in sorted(p.by_shape.items()) if c.objects or c.benchmark_objects},
            "by_class": {k: c.to_json() for k, c in sorted(p.by_class.items()) if c.objects or c.benchmark_objects},
            "classifications": questions(p.classifications),
            "classification_accuracy": _mean([s for v in p.classifications.values() for s in v]),
            "attributes": questions(p.attributes),
            "attribute_accuracy": _mean([s for v in p.attributes.values() for s in v]),
        }
    return out
