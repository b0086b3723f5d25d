"""Similarities of points, skeletons, polylines and bitmasks, vectorised over pairs.

Each function takes *paired* inputs (element ``i`` of the annotator's against element ``i`` of the
benchmark's) and returns one finite similarity in [0, 1] per pair; NaN/inf input scores 0. The
definitions are issue 15's ("Build: every shape and answer Encord has"). Coordinates are normalised
0..1 and scaled to pixels with the data unit's ``width``/``height`` (NaN, infinite or ≤ 0: 1):

* Points: ``exp(−d² / (2·σ²·A))``, ``d`` the distance in pixels, ``A = width·height`` (σ = 0.05).
* Skeletons, COCO's object keypoint similarity (cocodataset.org/#keypoints-eval; pycocotools
  ``computeOks``) as the issue writes it: ``Σᵢ vᵢ·exp(−dᵢ² / (2·σ²·Aₒ)) / Σᵢ vᵢ`` over the template's
  keypoints; ``vᵢ = 1`` where the benchmark's keypoint is present (any SDK ``Visibility`` but
  ``invisible``), ``Aₒ = max(area, 1)``, the pixel bounding box of the benchmark's present
  keypoints; a keypoint the annotator left out counts 0; no present benchmark keypoint: 0.
* Polylines: IoU of the two lines each buffered by ``r = 0.01·max(width, height)`` pixels (round
  caps and joins, :data:`QUAD_SEGS` segments a quarter circle, shapely 2 vectorised); one vertex
  (or all equal): a disc; none: 0.
* Bitmasks: IoU in pixels of the decoded masks, from run intervals (never a dense mask); two empty
  masks: 0. The encoding is the encord SDK's (``encord/common/bitmask_operations/
  bitmask_operations.py``, ``_string_to_rle`` / ``_rle_to_mask``; :func:`decode_rle`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation.geometry import intersection_areas
from annotrain_tui.core.evaluation.labels import safe_text
from annotrain_tui.core.lazy import lazy_module

if TYPE_CHECKING:
    import shapely
else:
    shapely = lazy_module("shapely")  # polylines only

__all__ = [
    "decode_rle",
    "point_similarity_pairs",
    "oks_pairs",
    "polyline_buffers",
    "QUAD_SEGS",
    "buffer_iou_pairs",
    "polyline_iou_pairs",
    "Bitmask",
    "MaskSet",
    "bitmask_iou_pairs",
    "mask_iou_indexed",
]

# huge or NaN inputs make numpy warn; every result is checked, so the warnings are noise
_quiet = np.errstate(all="ignore")

#: the longest value in an rleString, in characters (5 bits each: ±2**39, far beyond any mask)
_MAX_VALUE_CHARS = 8


_FIX_MASK = "redraw or delete the mask in the source project and export again"


def _rle_error(where: str, why: str) -> InvalidInput:
    return InvalidInput(f"{where}: the bitmask's rleString {why}; it cannot be compared", hint=_FIX_MASK)


def decode_rle(rle: str, size: int | None = None, *, where: str = "bitmask") -> np.ndarray:
    """The run lengths (int64) of an Encord ``rleString``, checked; numpy over the characters.

    Encord's format (``_string_to_rle`` / ``_rle_to_mask`` in the SDK's
    ``encord/common/bitmask_operations/bitmask_operations.py``) is COCO's compressed RLE string
    *applied to the row-major mask* (COCO's own is column-major; the SDK's
    ``encord_rle_to_coco_rle`` transposes): each character is ``48 + c``, ``c`` a 6-bit group;
    its low 5 bits are the value's next bits (least significant first), bit ``0x20`` says "more
    follow"; the last group's bit ``0x10`` is the sign (the value is sign-extended). From the fourth
    value on (index ≥ 3), a value is the difference to the value two before it. The runs alternate
    0s and 1s and the first run is 0s (0 long when the mask starts with a 1).

    Raises :class:`~annotrain_tui.core.errors.InvalidInput` (message starts with ``where``) for a
    character outside ``'0'``..``'o'``, a string ending inside a value, a value over
    ``_MAX_VALUE_CHARS`` characters, a negative run, or (``size`` given) runs not summing to
    ``size`` (``height·width``). The SDK itself is laxer (it pads a short mask with 0s).
    """
    if not isinstance(rle, str):
        raise _rle_error(where, f"is not a string ({type(rle).__name__})")
    try:
        raw = rle.encode("ascii")
    except UnicodeEncodeError:
        raise _rle_error(where, "has a character that is not ASCII") from None
    c = np.frombuffer(raw, dtype=np.uint8).astype(np.int64) - 48
    if c.size == 0:
        counts = np.zeros(0, dtype=np.int64)
    else:
        bad = (c < 0) | (c > 63)
        if bad.any():
            at = int(np.flatnonzero(bad)[0])
            raise _rle_error(where, f"has a character {rle[at]!r} at {at} that is not in '0'..'o'")
        more = (c & 0x20) != 0
        if more[-1]:
            raise _rle_error(where, "ends inside a value (its last character says more follow)")
        ends = np.flatnonzero(~more)  # the last character of each value
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        lengths = ends - starts + 1
        if int(lengths.max()) > _MAX_VALUE_CHARS:
            raise _rle_error(where, f"has a value longer than {_MAX_VALUE_CHARS} characters")
        value_of = np.repeat(np.arange(ends.size), lengths)
        k = np.arange(c.size) - starts[value_of]  # the group's place in its value
        values = np.zeros(ends.size, dtype=np.int64)
        np.add.at(values, value_of, (c & 0x1F) << (5 * k))
        negative = (c[ends] & 0x10) != 0
        values[negative] -= np.left_shift(np.int64(1), 5 * lengths[negative])
        # index >= 3 is a difference to index - 2: cumulative sums along the odd and even chains
        counts = values.copy()
        if counts.size > 3:
            counts[1::2] = np.cumsum(values[1::2])
            counts[2::2] = np.cumsum(values[2::2])
        if counts.size and int(counts.min()) < 0:
            at = int(np.flatnonzero(counts < 0)[0])
            raise _rle_error(where, f"has a negative run ({int(counts[at])} at run {at})")
    if size is not None and int(counts.sum()) != int(size):
        raise _rle_error(where, f"covers {int(counts.sum())} pixels, not height × width = {int(size)}")
    return counts


# --------------------------------------------------------------------------------------------
# image sizes, points, skeletons
# --------------------------------------------------------------------------------------------

def _sizes(v: np.ndarray | float, n: int) -> np.ndarray:
    """Widths or heights in pixels, one per pair; NaN, ±inf and values ≤ 0 count as 1."""
    a = np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))
    return np.where(np.isfinite(a) & (a > 0), a, 1.0)


def _sigmas(sigma: np.ndarray | float, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(sigma, dtype=np.float64), (n,))


@_quiet
def point_similarity_pairs(tx: np.ndarray, ty: np.ndarray, bx: np.ndarray, by: np.ndarray,
                           img_w: np.ndarray | float, img_h: np.ndarray | float,
                           sigma: np.ndarray | float = 0.05) -> np.ndarray:
    """``exp(−d² / (2·σ²·A))`` for the annotator's point ``(tx, ty)[i]`` against the benchmark's.

    Coordinates normalised; ``img_w``/``img_h`` in pixels (scalar or per pair; NaN → 1); ``sigma``
    scalar or per pair. A pair with a non-finite coordinate, or a σ that is not a positive finite
    number, scores 0.
    """
    tx, ty, bx, by = (np.asarray(v, dtype=np.float64).ravel() for v in (tx, ty, bx, by))
    n = tx.size
    w, h = _sizes(img_w, n), _sizes(img_h, n)
    s = _sigmas(sigma, n)
    dx = (tx - bx) * w
    dy = (ty - by) * h
    d2 = dx * dx + dy * dy
    out = np.exp(-d2 / (2.0 * s * s * w * h))
    ok = np.isfinite(out) & np.isfinite(d2) & np.isfinite(s) & (s > 0)
    return np.where(ok, np.clip(out, 0.0, 1.0), 0.0)


#: the SDK's ``Visibility`` values (encord/objects/coordinates.py, ``class Visibility``), as
#: ``to_encord_dict()`` writes them (``CamelStrEnum``: camelCase of the member name)
@_quiet
def oks_pairs(t_x: np.ndarray, t_y: np.ndarray, b_x: np.ndarray, b_y: np.ndarray, b_visible: np.ndarray,
              img_w: np.ndarray | float, img_h: np.ndarray | float,
              sigma: np.ndarray | float = 0.05) -> np.ndarray:
    """COCO-style OKS of ``n`` skeleton pairs, arrays ``(n, K)`` aligned keypoint by keypoint.

    Column ``k`` is the template's keypoint ``k`` (pad with NaN / False where a template has fewer).
    NaN in ``t_x``/``t_y``: the annotator left the keypoint out (it counts 0). A benchmark keypoint is
    present (``vᵢ = 1``) where ``b_visible`` is true and ``b_x``/``b_y`` are finite. ``Aₒ`` is
    ``max((max x − min x)·(max y − min y), 1)`` over the present benchmark keypoints in pixels (so a
    single present keypoint, or collinear ones, give ``Aₒ = 1``). A pair with ``Σ vᵢ = 0`` scores 0.
    ``img_w``/``img_h``: scalar or per pair (NaN → 1); ``sigma``: scalar, per pair ``(n,)`` or per
    keypoint of each pair ``(n, K)``; a σ that is not positive and finite makes its keypoint 0.
    The annotator's own visibility is not used (COCO ignores the detection's).
    """
    t_x, t_y, b_x, b_y = (np.atleast_2d(np.asarray(v, dtype=np.float64)) for v in (t_x, t_y, b_x, b_y))
    n, k = b_x.shape
    w = _sizes(img_w, n)[:, None]
    h = _sizes(img_h, n)[:, None]
    s = np.asarray(sigma, dtype=np.float64)
    s = np.broadcast_to(s[:, None] if s.ndim == 1 else s, (n, k))
    bxp, byp = b_x * w, b_y * h
    v = np.asarray(b_visible, dtype=bool).reshape(n, k) & np.isfinite(bxp) & np.isfinite(byp)
    count = v.sum(axis=1)
    bw = np.where(v, bxp, -np.inf).max(axis=1) - np.where(v, bxp, np.inf).min(axis=1)
    bh = np.where(v, byp, -np.inf).max(axis=1) - np.where(v, byp, np.inf).min(axis=1)
    area = np.where(count > 0, bw * bh, 1.0)
    area = np.where(np.isfinite(area), np.maximum(area, 1.0), np.inf)[:, None]
    dx = (t_x - b_x) * w
    dy = (t_y - b_y) * h
    d2 = dx * dx + dy * dy
    e = np.exp(-d2 / (2.0 * s * s * area))
    e = np.where(v & np.isfinite(e) & np.isfinite(s) & (s > 0), e, 0.0)
    out = np.zeros(n)
    np.divide(e.sum(axis=1), count, out=out, where=count > 0)
    return np.clip(out, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# polylines
# --------------------------------------------------------------------------------------------

#: segments per quarter circle of a buffer: shapely 2's ``BaseGeometry.buffer`` default (the
#: vectorised ``shapely.buffer`` defaults to 8, GEOS's; 16 keeps plain ``geom.buffer(r)`` equal)
QUAD_SEGS = 16
#: A line with more vertices is buffered as the union of its segments' buffers: the same set (the
#: Minkowski sum of a line and a disc is the union of its segments' sums), only the round joins are
#: approximated by whole end caps (areas agree within 0.1%). GEOS buffers a line that folds back on
#: itself in time growing with the square of its vertices (a 2,000-vertex zig-zag took 4 s, 20,000
#: ran out of memory); the union is 0.2 s and 3 s. Lines are drawn with tens of vertices.
SEGMENTED_VERTICES = 256
#: lines with more vertices are not compared (the parser counts and says them): no one draws one
MAX_POLYLINE_VERTICES = 5_000


def polyline_buffers(lines: Sequence[Any] | np.ndarray, img_w: np.ndarray | float, img_h: np.ndarray | float,
                     radius_fraction: float = 0.01) -> np.ndarray:
    """Each line buffered by ``radius_fraction·max(width, height)`` pixels, as shapely polygons.

    ``lines`` is a sequence (or object array) of ``(k, 2)`` normalised vertex arrays, ``img_w``/
    ``img_h`` scalar or one per line (NaN → 1). Scaled to pixels, built in bulk
    (``shapely.linestrings(..., indices=...)``) and buffered with round caps and joins
    (:data:`QUAD_SEGS`; over :data:`SEGMENTED_VERTICES` vertices as its segments' union). A line whose vertices all coincide, or with one vertex,
    is a point (a disc once buffered: GEOS buffers a zero-length line to a slightly different
    polygon); a line with no vertex, a non-finite coordinate, or a radius that is not a positive
    finite number is ``None`` (it overlaps nothing). Build this once per object, then pair with
    :func:`buffer_iou_pairs`.
    """
    seq = list(lines)
    n = len(seq)
    out = np.full(n, None, dtype=object)
    if n == 0:
        return out
    lengths = np.fromiter(map(len, seq), dtype=np.int64, count=n)
    total = int(lengths.sum())
    xy = (np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1, 2) for a in seq if len(a)])
          if total else np.zeros((0, 2)))
    line_of = np.repeat(np.arange(n), lengths)
    w, h = _sizes(img_w, n), _sizes(img_h, n)
    r = float(radius_fraction) * np.maximum(w, h)
    px = np.column_stack([xy[:, 0] * w[line_of], xy[:, 1] * h[line_of]])
    first = np.cumsum(lengths) - lengths  # index of each line's first vertex
    finite = np.ones(n, dtype=bool)
    bad_vertex = ~np.isfinite(px).all(axis=1)
    np.logical_and.at(finite, line_of[bad_vertex], False)
    differs = np.zeros(n, dtype=np.int64)  # vertices unlike the line's first one
    if total:
        np.add.at(differs, line_of, (px != px[first[line_of]]).any(axis=1))
    usable = (lengths > 0) & finite & np.isfinite(r) & (r > 0)
    is_line = usable & (differs > 0)
    is_point = usable & (differs == 0)
    geoms = np.full(n, None, dtype=object)
    if is_line.any():
        keep = is_line[line_of]
        shapely.linestrings(px[keep], indices=line_of[keep], out=geoms)  # the others stay None
    if is_point.any():
        geoms[is_point] = shapely.points(px[first[is_point]])
    long = is_line & (lengths > SEGMENTED_VERTICES)
    direct = (is_line & ~long) | is_point
    out[direct] = shapely.buffer(geoms[direct], r[direct], quad_segs=QUAD_SEGS, cap_style="round",
                                 join_style="round")
    for i in np.flatnonzero(long).tolist():  # few: one GEOS union per long line
        v = px[first[i]: first[i] + lengths[i]]
        segments = shapely.linestrings(np.stack([v[:-1], v[1:]], axis=1))
        out[i] = shapely.union_all(shapely.buffer(segments, r[i], quad_segs=QUAD_SEGS, cap_style="round"))
    return out


@_quiet
def buffer_iou_pairs(ga: np.ndarray, gb: np.ndarray) -> np.ndarray:
    """IoU of buffered lines ``ga[i]``, ``gb[i]`` (:func:`polyline_buffers`); 0 where either is ``None``.

    ``area(a ∩ b) / (area(a) + area(b) − area(a ∩ b))`` (shapely's ``union(a, b).area`` up to
    rounding, without computing the union); pairs whose bounds do not meet skip GEOS (0).
    """
    ga = np.asarray(ga, dtype=object)
    gb = np.asarray(gb, dtype=object)
    out = np.zeros(len(ga))
    if len(ga) == 0:
        return out
    ba, bb = shapely.bounds(ga), shapely.bounds(gb)  # NaN for None: compares False below
    near = ((ba[:, 0] <= bb[:, 2]) & (bb[:, 0] <= ba[:, 2]) & (ba[:, 1] <= bb[:, 3]) & (bb[:, 1] <= ba[:, 3]))
    if not near.any():
        return out
    a, b = ga[near], gb[near]
    inter = intersection_areas(a, b, grid_size=1e-9)  # pixels
    union = shapely.area(a) + shapely.area(b) - inter
    iou = np.zeros_like(inter)
    np.divide(inter, union, out=iou, where=union > 0)
    iou[~np.isfinite(iou)] = 0.0
    out[near] = np.clip(iou, 0.0, 1.0)
    return out


def polyline_iou_pairs(t_lines: Sequence[Any] | np.ndarray, b_lines: Sequence[Any] | np.ndarray,
                       img_w: np.ndarray | float, img_h: np.ndarray | float,
                       radius_fraction: float = 0.01) -> np.ndarray:
    """IoU of the annotator's line ``t_lines[i]`` and the benchmark's ``b_lines[i]``, each buffered
    by ``radius_fraction·max(width, height)`` pixels (issue 15: ``r = 0.01·max(width, height)``).

    Object arrays of ``(k, 2)`` normalised vertex arrays; sizes scalar or per pair (NaN → 1). See
    :func:`polyline_buffers` for one vertex, none, and non-finite input (0).
    """
    n = len(t_lines)
    w, h = _sizes(img_w, n), _sizes(img_h, n)
    return buffer_iou_pairs(polyline_buffers(t_lines, w, h, radius_fraction),
                            polyline_buffers(b_lines, w, h, radius_fraction))


# --------------------------------------------------------------------------------------------
# bitmasks
# --------------------------------------------------------------------------------------------

#: Encord stores a data unit's width and height as 32-bit integers; a mask's box stays within that
_MAX_DIM = 2**31 - 1


def _mask_int(d: dict[str, Any], key: str, where: str, low: int) -> int:
    v = d.get(key)
    if isinstance(v, float) and not math.isfinite(v):  # NaN, or ±inf / 1e400 as the JSON reader lets them through
        raise InvalidInput(f"{where}: the bitmask's {key} is {'NaN' if v != v else 'infinite'}, not a whole number; "
                           "it cannot be compared", hint=_FIX_MASK)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v:
        raise InvalidInput(f"{where}: the bitmask's {key} is {safe_text(repr(v), 40)}, not a whole number; it cannot "
                           "be compared", hint=_FIX_MASK)
    iv = int(v)
    if not low <= iv <= _MAX_DIM:
        said = iv if abs(iv) < 10**20 else f"a whole number of {len(str(abs(iv))):,} digits"
        raise InvalidInput(f"{where}: the bitmask's {key} is {said}, outside {low}..{_MAX_DIM}; "
                           "it cannot be compared", hint=_FIX_MASK)
    return iv


@dataclass(frozen=True, eq=False)
class Bitmask:
    """One decoded bitmask: its box on the image (``top``, ``left``, ``height``, ``width``, pixels)
    and its run lengths (:func:`decode_rle`: 0s first, then 1s, row-major within the box).

    The SDK writes ``top = left = 0`` and the full image as ``height``/``width``
    (``BitmaskCoordinates._from_array`` in encord/objects/bitmask.py); other boxes are placed at
    their offset. ``area`` is the number of 1s.
    """

    top: int
    left: int
    height: int
    width: int
    counts: np.ndarray

    @property
    def area(self) -> int:
        return int(self.counts[1::2].sum())

    @classmethod
    def from_dict(cls, d: object, *, where: str = "bitmask") -> Bitmask:
        """From a label row's ``bitmask`` dict (``top``, ``left``, ``height``, ``width``,
        ``rleString``: ``BitmaskCoordinates.EncodedBitmask`` in encord/objects/bitmask.py), checked.

        Raises :class:`~annotrain_tui.core.errors.InvalidInput` (message starting ``where``) for a
        missing or non-integer ``top``/``left``/``height``/``width``, one outside 0..2³¹−1 (a
        negative offset included), or an invalid ``rleString`` (:func:`decode_rle`: runs must sum
        to ``height·width``).
        """
        if not isinstance(d, dict):
            raise InvalidInput(f"{where}: the bitmask is {type(d).__name__}, not an object; it cannot be compared",
                               hint=_FIX_MASK)
        top = _mask_int(d, "top", where, 0)
        left = _mask_int(d, "left", where, 0)
        height = _mask_int(d, "height", where, 0)
        width = _mask_int(d, "width", where, 0)
        rle = d.get("rleString")
        if not isinstance(rle, str):
            raise _rle_error(where, "is missing" if rle is None else f"is {type(rle).__name__}, not a string")
        return cls(top, left, height, width, decode_rle(rle, height * width, where=where))


@dataclass(frozen=True, eq=False)
class MaskSet:
    """Many bitmasks packed as horizontal pixel segments, for :func:`mask_iou_indexed`.

    Segment ``j`` covers image row ``row[j]``, columns ``c0[j]`` (inclusive) to ``c1[j]``
    (exclusive); mask ``i``'s segments are ``ptr[i]:ptr[i + 1]``, sorted by row then column, disjoint.
    A run of 1s split at the box's row ends gives one segment per row, so a mask costs
    ``O(runs + height)`` memory, never ``height·width``. ``area[i]`` counts mask ``i``'s 1s;
    ``bounds[i]`` is its ``(row min, col min, row max, col max)`` (inclusive; empty: max < min).
    """

    row: np.ndarray
    c0: np.ndarray
    c1: np.ndarray
    ptr: np.ndarray
    area: np.ndarray
    bounds: np.ndarray

    def __len__(self) -> int:
        return len(self.ptr) - 1

    @classmethod
    def pack(cls, masks: Sequence[Bitmask]) -> MaskSet:
        """Pack decoded masks; numpy over all their runs at once (a loop over masks only to gather)."""
        m = len(masks)
        counts = (np.concatenate([b.counts for b in masks]) if m else np.zeros(0, dtype=np.int64)).astype(np.int64)
        n_counts = np.fromiter((b.counts.size for b in masks), dtype=np.int64, count=m)
        top = np.fromiter((b.top for b in masks), dtype=np.int64, count=m)
        left = np.fromiter((b.left for b in masks), dtype=np.int64, count=m)
        width = np.fromiter((b.width for b in masks), dtype=np.int64, count=m)
        mask_of = np.repeat(np.arange(m), n_counts)
        first = np.cumsum(n_counts) - n_counts
        j = np.arange(counts.size) - first[mask_of]  # the run's place in its mask
        ends = np.cumsum(counts)
        ends -= np.concatenate([[0], ends])[first][mask_of]  # per-mask cumulative: end of each run
        ones = (j % 2 == 1) & (counts > 0)
        s, e, om = ends[ones] - counts[ones], ends[ones], mask_of[ones]
        w = width[om]  # > 0: a mask with a 1 has pixels
        r0 = s // w
        pieces = (e - 1) // w - r0 + 1
        run_of = np.repeat(np.arange(s.size), pieces)
        row = r0[run_of] + (np.arange(run_of.size) - (np.cumsum(pieces) - pieces)[run_of])
        ws = w[run_of]
        c0 = np.maximum(s[run_of] - row * ws, 0)
        c1 = np.minimum(e[run_of] - row * ws, ws)
        seg_mask = om[run_of]
        row += top[seg_mask]
        c0 += left[seg_mask]
        c1 += left[seg_mask]
        per_mask = np.bincount(seg_mask, minlength=m)
        ptr = np.concatenate([[0], np.cumsum(per_mask)]).astype(np.int64)
        area = np.zeros(m, dtype=np.int64)
        np.add.at(area, om, e - s)
        bounds = np.empty((m, 4), dtype=np.int64)
        bounds[:, :2] = np.iinfo(np.int64).max
        bounds[:, 2:] = np.iinfo(np.int64).min
        np.minimum.at(bounds[:, 0], seg_mask, row)
        np.minimum.at(bounds[:, 1], seg_mask, c0)
        np.maximum.at(bounds[:, 2], seg_mask, row)
        np.maximum.at(bounds[:, 3], seg_mask, c1 - 1)
        return cls(row, c0, c1, ptr, area, bounds)


def _gather(ms: MaskSet, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Segments of masks ``idx`` (pair ``p`` gets mask ``idx[p]``'s): pair, row, c0, c1."""
    lo = ms.ptr[idx]
    cnt = ms.ptr[idx + 1] - lo
    pair = np.repeat(np.arange(idx.size), cnt)
    at = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(pair.size)
    return pair, ms.row[at], ms.c0[at], ms.c1[at]


#: segments gathered per chunk of pairs (both sides): bounds the temporary memory (~50 bytes each)
_CHUNK_SEGMENTS = 4_000_000


def _intersections(a: MaskSet, ia: np.ndarray, b: MaskSet, ib: np.ndarray) -> np.ndarray:
    """Pixels in both masks, pair by pair (all pairs here overlap in bounds)."""
    n = ia.size
    pa, ra, a0, a1 = _gather(a, ia)
    pb, rb, b0, b1 = _gather(b, ib)
    rmin = min(int(ra.min()), int(rb.min()))
    cmin = min(int(a0.min()), int(b0.min()))
    rspan = max(int(ra.max()), int(rb.max())) - rmin + 1
    cspan = max(int(a1.max()), int(b1.max())) - cmin + 1
    line_a = pa * rspan + (ra - rmin) if n * rspan < 2**62 else None
    if line_a is not None and n * rspan * cspan < 2**62:
        key_a, key_b = line_a, pb * rspan + (rb - rmin)
    else:  # too wide for one int64 key: rank the (pair, row) lines first (both sides sorted by them)
        lines = np.concatenate([np.column_stack([pa, ra]), np.column_stack([pb, rb])])
        _, rank = np.unique(lines, axis=0, return_inverse=True)
        rank = rank.ravel().astype(np.int64)
        key_a, key_b = rank[: pa.size], rank[pa.size:]
        if (int(rank.max()) + 1) * cspan >= 2**62:
            raise InvalidInput("bitmasks too large to compare (their pixel rows times columns overflow)")
    sa = key_a * cspan + (a0 - cmin)
    ea = sa + (a1 - a0)
    sb = key_b * cspan + (b0 - cmin)
    eb = sb + (b1 - b0)
    # each side is sorted and disjoint: the B segments meeting A segment i are lo[i]:hi[i]
    lo = np.searchsorted(eb, sa, side="right")
    hi = np.searchsorted(sb, ea, side="left")
    cnt = np.maximum(hi - lo, 0)
    which = np.repeat(np.arange(sa.size), cnt)
    jb = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(which.size)
    overlap = np.minimum(ea[which], eb[jb]) - np.maximum(sa[which], sb[jb])
    inter = np.zeros(n, dtype=np.int64)
    np.add.at(inter, pa[which], np.maximum(overlap, 0))
    return inter


def mask_iou_indexed(a: MaskSet, ia: np.ndarray, b: MaskSet, ib: np.ndarray) -> np.ndarray:
    """IoU of mask ``a[ia[p]]`` and ``b[ib[p]]`` for each pair ``p``, in pixels, exact.

    ``|A ∩ B| / (|A| + |B| − |A ∩ B|)``, ``|A ∩ B|`` from the packed row segments (sorted
    interval intersection with ``searchsorted``, no dense mask); 0 when the union is empty (two
    empty masks) and for pairs whose bounds do not meet. Memory: the segments of a chunk of pairs
    (at most about ``_CHUNK_SEGMENTS``, or one pair), never ``height·width``.
    """
    ia = np.asarray(ia, dtype=np.int64).ravel()
    ib = np.asarray(ib, dtype=np.int64).ravel()
    n = ia.size
    out = np.zeros(n)
    if n == 0:
        return out
    ba, bb = a.bounds[ia], b.bounds[ib]
    near = ((ba[:, 0] <= bb[:, 2]) & (bb[:, 0] <= ba[:, 2]) & (ba[:, 1] <= bb[:, 3]) & (bb[:, 1] <= ba[:, 3])
            & (a.area[ia] > 0) & (b.area[ib] > 0))
    todo = np.flatnonzero(near)
    if todo.size == 0:
        return out
    cost = (a.ptr[ia[todo] + 1] - a.ptr[ia[todo]]) + (b.ptr[ib[todo] + 1] - b.ptr[ib[todo]])
    chunk_of = np.cumsum(cost) // _CHUNK_SEGMENTS
    inter = np.zeros(todo.size, dtype=np.int64)
    for c in np.unique(chunk_of):  # one pass for most calls; a loop over chunks, not pairs
        sel = np.flatnonzero(chunk_of == c)
        inter[sel] = _intersections(a, ia[todo[sel]], b, ib[todo[sel]])
    union = a.area[ia[todo]] + b.area[ib[todo]] - inter
    iou = np.zeros(todo.size)
    np.divide(inter, union, out=iou, where=union > 0)
    out[todo] = np.clip(iou, 0.0, 1.0)
    return out


def bitmask_iou_pairs(t_masks: Sequence[Bitmask], b_masks: Sequence[Bitmask]) -> np.ndarray:
    """IoU in pixels of ``t_masks[i]`` and ``b_masks[i]`` (decoded :class:`Bitmask` records).

    Packs both sides (:meth:`MaskSet.pack`) and calls :func:`mask_iou_indexed`; an engine comparing
    every pair of a block should pack each object's mask once and index instead.
    """
    n = len(t_masks)
    if len(b_masks) != n:
        raise ValueError("bitmask_iou_pairs: both sides need one mask per pair")
    idx = np.arange(n)
    return mask_iou_indexed(MaskSet.pack(t_masks), idx, MaskSet.pack(b_masks), idx)
