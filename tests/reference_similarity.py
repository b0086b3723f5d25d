"""Plain reference similarities of issue 15, one pair at a time, written from the issue text.

They share no code with ``annotrain_tui.core.evaluation.similarity`` (the vectorised engine code):
plain Python, ``math``, numpy, shapely and the encord SDK's own bitmask decoder. Tests compare
the engine against these to 1e-9; the end-to-end reference evaluator uses them too.

The definitions (issue 15, "Build: every shape and answer Encord has"):

* Point: ``exp(-d² / (2·σ²·A))``, ``d`` the distance in pixels, ``A = width·height`` in pixels.
* Skeleton (COCO-style OKS): ``Σ vᵢ·exp(-dᵢ² / (2·σ²·Aₒ)) / Σ vᵢ`` over the template's keypoints,
  ``vᵢ = 1`` where the benchmark's keypoint is present (not invisible), ``Aₒ`` the pixel area of the
  bounding box of the benchmark's present keypoints, at least 1 (``max(area, 1)``); a keypoint the
  annotator left out counts 0; no present benchmark keypoint at all: 0.
* Polyline: IoU of the two lines each buffered by ``r = 0.01·max(width, height)`` pixels, round caps
  and joins, 16 segments a quarter circle (shapely's ``geom.buffer`` default); a one-vertex line (or one whose vertices all coincide) is a point, buffered to a disc;
  no vertex: 0.
* Bitmask: IoU of the decoded masks in pixels (placed at their ``top``/``left``); empty union: 0.

Image sizes that are not a positive finite number count as 1 (the normalised square).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely.geometry
from encord.common.bitmask_operations import deserialise_bitmask

__all__ = ["ref_point", "ref_oks", "ref_polyline_iou", "ref_mask", "ref_mask_iou", "ref_bitmask_iou",
           "ref_size"]


def ref_size(v: Any) -> float:
    """An image width or height as a float; 1.0 when absent or not a positive finite number."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 1.0
    if not math.isfinite(f) or f <= 0:
        return 1.0
    return f


def ref_point(t_xy: Sequence[float], b_xy: Sequence[float], img_w: Any, img_h: Any,
              sigma: float = 0.05) -> float:
    """Point similarity of normalised ``(x, y)`` points on an ``img_w`` × ``img_h`` image."""
    w, h = ref_size(img_w), ref_size(img_h)
    dx = (t_xy[0] - b_xy[0]) * w
    dy = (t_xy[1] - b_xy[1]) * h
    d2 = dx * dx + dy * dy
    if not math.isfinite(d2):
        return 0.0
    return math.exp(-d2 / (2.0 * sigma * sigma * w * h))


def ref_oks(t_kps: Mapping[Any, Sequence[Any]], b_kps: Mapping[Any, Sequence[Any]], img_w: Any, img_h: Any,
            sigma: float = 0.05) -> float:
    """OKS of the annotator's keypoints ``t_kps`` against the benchmark's ``b_kps``.

    Both map a keypoint key (the template's) to ``(x, y, visible)``, normalised; a key missing from
    ``t_kps`` is a keypoint the annotator left out (it counts 0); the annotator's own visibility flag
    is ignored (COCO ignores the detection's). A benchmark keypoint counts (``vᵢ = 1``) when its flag
    is true and its coordinates are finite.
    """
    w, h = ref_size(img_w), ref_size(img_h)
    present = {k: (float(v[0]), float(v[1])) for k, v in b_kps.items()
               if bool(v[2]) and math.isfinite(float(v[0])) and math.isfinite(float(v[1]))}
    if not present:
        return 0.0
    xs = [p[0] * w for p in present.values()]
    ys = [p[1] * h for p in present.values()]
    area = max((max(xs) - min(xs)) * (max(ys) - min(ys)), 1.0)
    total = 0.0
    for key, (bx, by) in present.items():
        t = t_kps.get(key)
        if t is None:
            continue
        tx, ty = float(t[0]), float(t[1])
        if not (math.isfinite(tx) and math.isfinite(ty)):
            continue
        d2 = ((tx - bx) * w) ** 2 + ((ty - by) * h) ** 2
        total += math.exp(-d2 / (2.0 * sigma * sigma * area))
    return total / len(present)


def _buffered_line(pts: Sequence[Sequence[float]], w: float, h: float, r: float) -> Any:
    px = [(float(x) * w, float(y) * h) for x, y in pts]
    distinct = []
    for p in px:
        if p not in distinct:
            distinct.append(p)
    if len(distinct) == 1:
        geom: Any = shapely.geometry.Point(distinct[0])
    else:
        geom = shapely.geometry.LineString(px)
    return geom.buffer(r, quad_segs=16, cap_style="round", join_style="round")  # shapely's method default


def ref_polyline_iou(t_pts: Sequence[Sequence[float]], b_pts: Sequence[Sequence[float]], img_w: Any, img_h: Any,
                     radius_fraction: float = 0.01) -> float:
    """IoU of two polylines (lists of normalised ``(x, y)``) buffered by ``radius_fraction·max(w, h)``."""
    if len(t_pts) == 0 or len(b_pts) == 0:
        return 0.0
    if not all(math.isfinite(float(c)) for p in [*t_pts, *b_pts] for c in p):
        return 0.0
    w, h = ref_size(img_w), ref_size(img_h)
    r = radius_fraction * max(w, h)
    a = _buffered_line(t_pts, w, h, r)
    b = _buffered_line(b_pts, w, h, r)
    union = a.union(b).area
    if union <= 0:
        return 0.0
    return float(a.intersection(b).area / union)


def ref_mask(bitmask_dict: Mapping[str, Any]) -> np.ndarray:
    """The dense ``(height, width)`` bool mask of a label row's ``bitmask`` dict, decoded by the SDK."""
    height, width = int(bitmask_dict["height"]), int(bitmask_dict["width"])
    raw = deserialise_bitmask(bitmask_dict["rleString"], height * width)
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width).astype(bool)


def ref_mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two dense bool masks of the same shape; 0.0 when both are empty."""
    union = int(np.logical_or(a, b).sum())
    if union == 0:
        return 0.0
    return int(np.logical_and(a, b).sum()) / union


def ref_bitmask_iou(da: Mapping[str, Any], db: Mapping[str, Any]) -> float:
    """IoU of two ``bitmask`` dicts, each placed at its ``top``/``left`` on the image.

    ``|A ∩ B| / (|A| + |B| − |A ∩ B|)``, the intersection counted on the window where the two boxes
    overlap (so masks far apart need no canvas spanning both); 0.0 when both are empty.
    """
    ma, mb = ref_mask(da), ref_mask(db)
    ta, la, tb, lb = int(da["top"]), int(da["left"]), int(db["top"]), int(db["left"])
    top, left = max(ta, tb), max(la, lb)
    bottom = min(ta + ma.shape[0], tb + mb.shape[0])
    right = min(la + ma.shape[1], lb + mb.shape[1])
    inter = 0
    if bottom > top and right > left:
        wa = ma[top - ta:bottom - ta, left - la:right - la]
        wb = mb[top - tb:bottom - tb, left - lb:right - lb]
        inter = int(np.logical_and(wa, wb).sum())
    union = int(ma.sum()) + int(mb.sum()) - inter
    if union == 0:
        return 0.0
    return inter / union
