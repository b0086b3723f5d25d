"""Label-row generator and plain reference algorithms for the evaluation tests.

The generator is :mod:`tests.synth` (test data, outside the shipped package), re-exported here;
the published script is :mod:`tests.reference_script`. The references below are deliberately naive: Python loops over
raw label-row dicts, written from the published script and the SDK's parsing rules, sharing no
code with the engine, so agreement between them and the engine means something.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from scipy.optimize import linear_sum_assignment

from tests.reference_script import calculate_iou, published_script, standins
from tests.synth import (  # noqa: F401  (re-exported)
    DEFAULT_CLASSES,
    SynthClass,
    box,
    make_label_row,
    make_object,
    make_programme,
    make_scene,
    polygon,
    rotated_box,
)

BBox = namedtuple("BBox", "top_left_x top_left_y width height")


def instances(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A row's objects in ``LabelRowV2.get_object_instances()`` order (first appearance), with frames."""
    found: dict[str, dict[str, Any]] = {}
    for unit in row["data_units"].values():
        labels = unit.get("labels", {})
        if row["data_type"] in ("image", "img_group"):
            frame_lists = [(int(unit["data_sequence"]), labels.get("objects", []))]
        else:
            frame_lists = [(int(k), v["objects"]) for k, v in labels.items()]
        for frame, objects in frame_lists:
            for o in objects:
                inst = found.setdefault(o["objectHash"], {"objectHash": o["objectHash"], "shape": o["shape"],
                                                          "featureHash": o["featureHash"], "frames": {},
                                                          "unit": unit})
                inst["frames"][frame] = o
    return list(found.values())


def bbox_of(obj: dict[str, Any]) -> BBox:
    b = obj["boundingBox"]
    return BBox(b["x"], b["y"], b["w"], b["h"])


def shapely_polygon(obj: dict[str, Any]):
    polys = []
    for poly in obj["polygons"]:
        rings = [list(zip(c[0::2], c[1::2])) for c in poly]
        polys.append(shapely.Polygon(rings[0], rings[1:]))
    geom = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return geom if geom.is_valid else shapely.make_valid(geom)  # as the engine: a bow-tie counts by its area


def shapely_rotated(obj: dict[str, Any], img_w: float, img_h: float):
    """Corners one at a time with math.cos/sin: scale to pixels, turn clockwise on screen about the centre."""
    r = obj["rotatableBoundingBox"]
    cx, cy = (r["x"] + r["w"] / 2) * img_w, (r["y"] + r["h"] / 2) * img_h
    hw, hh = r["w"] * img_w / 2, r["h"] * img_h / 2
    t = math.radians(r["theta"])
    pts = []
    for dx, dy in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)):
        pts.append((cx + dx * math.cos(t) - dy * math.sin(t), cy + dx * math.sin(t) + dy * math.cos(t)))
    return shapely.Polygon(pts)


def shapely_iou(a, b) -> float:
    union = a.union(b).area
    return a.intersection(b).area / union if union > 0 else 0.0


def pair_iou(shape: str, a: dict[str, Any], b: dict[str, Any], unit: dict[str, Any]) -> float:
    if shape == "bounding_box":
        return calculate_iou(bbox_of(a), bbox_of(b))
    if shape == "polygon":
        return shapely_iou(shapely_polygon(a), shapely_polygon(b))
    return shapely_iou(shapely_rotated(a, unit["width"], unit["height"]),
                       shapely_rotated(b, unit["width"], unit["height"]))


def published_seed(benchmark_rows: list[dict], training_rows: list[dict], shape: str = "bounding_box") -> list[dict]:
    """The published script's loop (:mod:`tests.reference_script`) on raw dicts; other shapes than boxes
    get this module's IoU for them (objects not on frame 0 are skipped).

    The script filters with ``oi.get_annotation(0)``; on the SDK that is always truthy and an object
    absent from frame 0 then raises, so on every input the script accepts this is the same filter.
    """
    if shape == "bounding_box":
        return published_script(standins(benchmark_rows), standins(training_rows))
    return published_script(standins(benchmark_rows), standins(training_rows), shape=shape,
                            calculate_iou=lambda a, b: pair_iou(shape, a.raw, b.raw, b.unit))


def optimal_reference(benchmark_rows: list[dict], training_rows: list[dict], threshold: float,
                      shapes: Iterable[str] = ("bounding_box", "rotatable_bounding_box", "polygon")) -> list[tuple]:
    """Per (paired row, frame, shape): dense IoU matrix pair by pair, sub-threshold → 0,
    ``linear_sum_assignment(maximize=True)``, keep positive. Returns
    (label_hash, frame, object_hash, benchmark_object_hash, iou) for every match."""
    benchmark_dict = {lr["data_hash"]: lr for lr in benchmark_rows}
    out = []
    for tr in training_rows:
        bm = benchmark_dict.get(tr["data_hash"])
        if bm is None:
            continue
        t_inst, b_inst = instances(tr), instances(bm)
        frames = sorted({f for oi in t_inst + b_inst for f in oi["frames"]})
        for shape in shapes:
            for f in frames:
                T = [oi for oi in t_inst if oi["shape"] == shape and f in oi["frames"]]
                B = [oi for oi in b_inst if oi["shape"] == shape and f in oi["frames"]]
                if not T or not B:
                    continue
                m = np.zeros((len(T), len(B)))
                for i, t in enumerate(T):
                    for j, b in enumerate(B):
                        m[i, j] = pair_iou(shape, t["frames"][f], b["frames"][f], b["unit"])
                m[m < threshold] = 0.0
                rows, cols = linear_sum_assignment(m, maximize=True)
                for i, j in zip(rows, cols):
                    if m[i, j] > 0:
                        out.append((tr["label_hash"], f, T[i]["objectHash"], B[j]["objectHash"], float(m[i, j])))
    return out
