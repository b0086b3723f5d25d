"""Intersection over union, vectorised.

All functions take *paired* arrays (element ``i`` of ``a`` against element ``i`` of ``b``), so one
call covers every candidate pair of a whole project, across items ("batched"). Callers build the
pairs (see :mod:`.matching`); :func:`box_iou_matrix` is the broadcast form for one item.

* Axis-aligned boxes: numpy, the same arithmetic in the same order as the published script's
  ``calculate_iou``, so results are bit-identical to it (strict ``>`` tie-breaking then agrees too).
* Rotated boxes: turned into polygons in pixel space (Encord rotates about the centre, in
  degrees, clockwise on screen, *after* scaling the normalised box to the image; a non-square image
  therefore matters), then shapely 2, vectorised.
* Polygons: shapely 2, vectorised: ``area(a ∩ b) / (area(a) + area(b) − area(a ∩ b))``, which is
  shapely's own ``intersection(a, b).area / union(a, b).area`` up to float rounding.

Pairs whose bounding boxes do not overlap skip shapely entirely (IoU 0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from annotrain_tui.core.lazy import lazy_module

if TYPE_CHECKING:
    import shapely
else:
    shapely = lazy_module("shapely")  # rotated boxes and polygons only: boxes never pay its import

# Huge coordinates overflow in areas (inf - inf is NaN); the results are checked, so numpy's
# RuntimeWarnings are noise for the user: every public function runs under this.
_quiet = np.errstate(all="ignore")

__all__ = [
    "box_iou_pairs",
    "box_iou_corners",
    "box_iou_matrix",
    "rotated_box_polygons",
    "rotated_box_bounds",
    "polygon_iou_pairs",
    "rotated_iou_pairs",
]


@_quiet
def box_iou_pairs(ax: np.ndarray, ay: np.ndarray, aw: np.ndarray, ah: np.ndarray,
                  bx: np.ndarray, by: np.ndarray, bw: np.ndarray, bh: np.ndarray) -> np.ndarray:
    """IoU of axis-aligned boxes ``a[i]`` and ``b[i]`` (top-left x, y, width, height).

    Mirrors the published ``calculate_iou`` operation by operation; 0.0 where the union is not
    positive.
    """
    x_left = np.maximum(ax, bx)
    y_top = np.maximum(ay, by)
    x_right = np.minimum(ax + aw, bx + bw)
    y_bottom = np.minimum(ay + ah, by + bh)
    iw = x_right - x_left
    ih = y_bottom - y_top
    np.maximum(iw, 0.0, out=iw)
    np.maximum(ih, 0.0, out=ih)
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


@_quiet
def box_iou_corners(ax1: np.ndarray, ay1: np.ndarray, ax2: np.ndarray, ay2: np.ndarray, a_area: np.ndarray,
                    bx1: np.ndarray, by1: np.ndarray, bx2: np.ndarray, by2: np.ndarray,
                    b_area: np.ndarray, *, positive_areas: bool = False) -> np.ndarray:
    """:func:`box_iou_pairs` with per-box values precomputed (``ax2 = ax1 + aw``, ``a_area = aw * ah``).

    The same floating-point operations in the same order, so the same bits; made for broadcasting
    ``(g, n, 1)`` against ``(g, 1, m)`` with few full-size temporaries. ``positive_areas`` promises
    every area is > 0 (then every union is, since the intersection is at most the smaller area) and
    skips the union check.
    """
    iw = np.minimum(ax2, bx2)
    iw -= np.maximum(ax1, bx1)
    np.maximum(iw, 0.0, out=iw)
    ih = np.minimum(ay2, by2)
    ih -= np.maximum(ay1, by1)
    np.maximum(ih, 0.0, out=ih)
    iw *= ih  # intersection
    union = a_area + b_area
    union -= iw
    if positive_areas:
        return np.divide(iw, union, out=iw)
    out = np.zeros_like(iw)
    np.divide(iw, union, out=out, where=union > 0)
    return out


@_quiet
def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (n, 4: x, y, w, h) with every box in ``b`` (m, 4), as (n, m)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    return box_iou_pairs(a[:, None, 0], a[:, None, 1], a[:, None, 2], a[:, None, 3],
                         b[None, :, 0], b[None, :, 1], b[None, :, 2], b[None, :, 3])


def _corners(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, theta: np.ndarray,
             sx: np.ndarray | float, sy: np.ndarray | float) -> np.ndarray:
    """(n, 4, 2) corners of rotated boxes, scaled by (sx, sy) before turning ``theta`` degrees."""
    cx = (x + w / 2.0) * sx
    cy = (y + h / 2.0) * sy
    hw = w * sx / 2.0
    hh = h * sy / 2.0
    t = np.deg2rad(theta)
    c, s = np.cos(t), np.sin(t)
    dx = np.stack([-hw, hw, hw, -hw], axis=-1)
    dy = np.stack([-hh, -hh, hh, hh], axis=-1)
    px = cx[..., None] + dx * c[..., None] - dy * s[..., None]
    py = cy[..., None] + dx * s[..., None] + dy * c[..., None]
    return np.stack([px, py], axis=-1)


@_quiet
def rotated_box_polygons(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, theta: np.ndarray,
                         img_w: np.ndarray | float = 1.0, img_h: np.ndarray | float = 1.0) -> np.ndarray:
    """Shapely polygons of rotatable boxes in pixel space (``img_w`` × ``img_h``; NaN sizes count as 1)."""
    sx = np.where(np.isnan(img_w), 1.0, img_w) if isinstance(img_w, np.ndarray) else img_w
    sy = np.where(np.isnan(img_h), 1.0, img_h) if isinstance(img_h, np.ndarray) else img_h
    x, y, w, h, theta = (np.asarray(v, dtype=np.float64) for v in (x, y, w, h, theta))
    if x.size == 0:
        return np.empty(0, dtype=object)
    return shapely.polygons(_corners(x, y, w, h, theta, sx, sy))


@_quiet
def rotated_box_bounds(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, theta: np.ndarray,
                       sx: np.ndarray | float = 1.0, sy: np.ndarray | float = 1.0) -> np.ndarray:
    """(n, 4) axis-aligned bounds (minx, miny, maxx, maxy) of rotated boxes, same space as above."""
    c = _corners(x, y, w, h, theta, sx, sy)
    return np.concatenate([c.min(axis=1), c.max(axis=1)], axis=1)


def _overlapping(ba: np.ndarray, bb: np.ndarray) -> np.ndarray:
    return ((ba[:, 0] <= bb[:, 2]) & (bb[:, 0] <= ba[:, 2]) & (ba[:, 1] <= bb[:, 3]) & (bb[:, 1] <= ba[:, 3]))


def intersection_areas(ga: np.ndarray, gb: np.ndarray, grid_size: float = 1e-12) -> np.ndarray:
    """Areas of ``ga[i] ∩ gb[i]`` (shapely, vectorised); on a GEOS robustness failure, pair by pair,
    the failing pair snapped to ``grid_size`` (a fine grid in the coordinates' unit: 1e-12 of a
    normalised image, 1e-9 of a pixel)."""
    try:
        return np.asarray(shapely.area(shapely.intersection(ga, gb)), dtype=np.float64)
    except shapely.errors.GEOSException:
        out = np.empty(len(ga))
        for i in range(len(ga)):
            try:
                out[i] = shapely.area(shapely.intersection(ga[i], gb[i]))
            except shapely.errors.GEOSException:
                out[i] = shapely.area(shapely.intersection(ga[i], gb[i], grid_size=grid_size))
        return out


@_quiet
def polygon_iou_pairs(ga: np.ndarray, gb: np.ndarray,
                      bounds_a: np.ndarray | None = None, bounds_b: np.ndarray | None = None) -> np.ndarray:
    """IoU of shapely geometries ``ga[i]`` and ``gb[i]`` (0.0 when the union has no area)."""
    ga = np.asarray(ga, dtype=object)
    gb = np.asarray(gb, dtype=object)
    out = np.zeros(len(ga))
    if len(ga) == 0:
        return out
    if bounds_a is None:
        bounds_a = shapely.bounds(ga)
    if bounds_b is None:
        bounds_b = shapely.bounds(gb)
    near = _overlapping(bounds_a, bounds_b)  # NaN bounds (empty geometry) compare False
    if not near.any():
        return out
    a, b = ga[near], gb[near]
    inter = intersection_areas(a, b)
    union = shapely.area(a) + shapely.area(b) - inter
    iou = np.zeros_like(inter)
    np.divide(inter, union, out=iou, where=union > 0)
    out[near] = iou
    return out


@_quiet
def rotated_iou_pairs(ax: np.ndarray, ay: np.ndarray, aw: np.ndarray, ah: np.ndarray, at: np.ndarray,
                      bx: np.ndarray, by: np.ndarray, bw: np.ndarray, bh: np.ndarray, bt: np.ndarray,
                      img_w: np.ndarray | float = 1.0, img_h: np.ndarray | float = 1.0) -> np.ndarray:
    """IoU of rotatable boxes ``a[i]`` and ``b[i]`` on an image of ``img_w[i]`` × ``img_h[i]`` pixels.

    Both boxes of a pair must be scaled by the same image size (they are on the same data unit);
    NaN sizes count as 1 (the normalised square).
    """
    ax, ay, aw, ah, at, bx, by, bw, bh, bt = (np.asarray(v, dtype=np.float64)
                                              for v in (ax, ay, aw, ah, at, bx, by, bw, bh, bt))
    n = ax.size
    out = np.zeros(n)
    if n == 0:
        return out
    sx = np.broadcast_to(np.where(np.isnan(img_w), 1.0, img_w), (n,)).astype(np.float64)
    sy = np.broadcast_to(np.where(np.isnan(img_h), 1.0, img_h), (n,)).astype(np.float64)
    ca = _corners(ax, ay, aw, ah, at, sx, sy)
    cb = _corners(bx, by, bw, bh, bt, sx, sy)
    bounds_a = np.concatenate([ca.min(axis=1), ca.max(axis=1)], axis=1)
    bounds_b = np.concatenate([cb.min(axis=1), cb.max(axis=1)], axis=1)
    near = _overlapping(bounds_a, bounds_b)
    if not near.any():
        return out
    pa = shapely.polygons(ca[near])
    pb = shapely.polygons(cb[near])
    inter = intersection_areas(pa, pb)
    area_a = (aw * ah * sx * sy)[near]
    area_b = (bw * bh * sx * sy)[near]
    union = area_a + area_b - inter
    iou = np.zeros_like(inter)
    np.divide(inter, union, out=iou, where=union > 0)
    out[near] = np.clip(iou, 0.0, 1.0)
    return out
