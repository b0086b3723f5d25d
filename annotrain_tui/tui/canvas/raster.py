"""The canvas rasteriser: benchmark and annotator shapes of one image, drawn in braille (no Textual).

A lead sees where an annotator disagrees with the benchmark without opening the web app. This module
is pure (no Textual; numpy); the geometry records live in ``core/evaluation/shapes.py``, the shapes to
draw and their colours in ``tui/canvas/model.py``, the widget in ``tui/widgets/shape_canvas.py``:

* :class:`Box`, :class:`RotatedBox`, :class:`Polygon`: geometry, normalised 0..1 as in Encord
  (top-left origin, y down). A rotated box is the unrotated box ``x, y, w, h`` turned ``theta``
  degrees *clockwise on screen* about its centre, in pixel space (``w`` scales by the image width,
  ``h`` by its height, then the box turns), which is the encord SDK's convention ("rotation in
  degrees, clockwise in screen space (matches RBB convention)", ``encord/objects/types.py``) and
  the one :mod:`annotrain_tui.core.evaluation.geometry` uses for IoU.
* :class:`CanvasShape`: one shape to draw (side, class name, colour, geometry, pair id, label).
* :func:`rasterise`: shapes → :class:`Raster`, a braille grid (every terminal cell is 2×4 dots,
  U+2800..U+28FF) plus per-cell owner, side and label text. The image keeps its aspect ratio and is
  letterboxed (centred) inside the grid; terminal cells are taken to be twice as tall as wide
  (``cell_aspect=0.5``), which makes braille dots square.

Drawing rules (what :func:`rasterise` does):

* Benchmark outlines are solid; annotator outlines are dashed (3 dots on, 2 off, continuous round
  the outline), so the two read apart even without colour. The widget adds colour: benchmark cells
  in the class colour, bold; annotator cells in the class colour faded 30 % towards the background.
* Draw order: pair links first, then annotator shapes, then benchmark shapes, each side in the
  order given. A cell's colour is the class colour of the *last* shape that set a dot in it, so
  where outlines cross the benchmark (the reference) wins; the dots themselves are the union.
* Pairs: shapes sharing a ``pair_id`` with at least one shape of the *other* side are matched;
  pair ids are numbered 1, 2, … in order of first appearance and both shapes are labelled with the
  number at their top-left (just above the outline when there is room). ``show_links`` also draws
  a sparse dotted line between the centres of the pair (links are shown only when both shapes are).
  Unmatched shapes are marked: a missed benchmark shape "✗", an extra annotator shape "+"
  (``mark_unmatched=False`` turns that off, for drawing without any matching).
* A shape's ``label`` text follows its marker. Labels never overlap: the first placed wins
  (benchmark shapes are labelled first); one that finds no free place is shortened to its marker,
  then dropped.
* Coordinates outside 0..1 are clipped at the image edge (not clamped onto it); non-finite
  coordinates are skipped. Class names, labels and titles are untrusted: they go through the one
  policy, ``core.text.shown`` (:func:`clean`; controls, bidi, format characters and lone
  surrogates shown as ``\\xNN``/``\\uNNNN``), and the widget draws text as plain segments or
  :class:`rich.text.Text`, never through markup.

The widget: :class:`ShapeCanvas` (keys ``b``/``a``/``l`` toggle the benchmark, the annotator and
the pair links; binding ids ``canvas.toggle_benchmark``, ``canvas.toggle_annotator``,
``canvas.toggle_links``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rich.cells import get_character_cell_size

from annotrain_tui.tui.canvas.model import (
    _EPS,
    _LINK_BIT,
    _MAX_LABEL,
    _SIDE_BIT,
    ANNOTATOR,
    BENCHMARK,
    DASH_ON,
    DASH_PERIOD,
    EXTRA_MARK,
    LINK,
    LINK_PERIOD,
    MISSED_MARK,
    NONE,
    Box,
    CanvasShape,
    Polygon,
    RotatedBox,
    clean,
    pairs,
    resolve_colours,
)

__all__ = ["RasterCell", "Raster", "rasterise"]

# braille dot (row 0..3, column 0..1) → bit of U+2800 + bits
_BRAILLE_WEIGHTS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint16)

# --- rasterising -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RasterCell:
    """One terminal cell of a :class:`Raster`."""

    char: str  # braille (U+2800 + dots), " " when empty, label text, "" right of a wide label char
    color: str | None  # class colour of the owning shape; None for empty and link cells
    side: str | None  # "benchmark", "annotator", "link" or None
    shape: int  # index into the shapes given to rasterise; NONE (-1) or LINK (-2)
    label: bool  # the char is label text
    inside: bool  # the cell shows part of the image (False: letterbox)


@dataclass
class Raster:
    """The result of :func:`rasterise`.

    ``dots``: (4·height, 2·width) bool; ``bits``: (height, width) braille bits (char is
    ``chr(0x2800 + bits)``); ``owner``: (height, width) index of the shape that last set a dot in
    the cell (``NONE``, ``LINK``); ``sides``: (height, width) mask of the sides with dots in the cell
    (1 benchmark, 2 annotator, 4 link); ``labels``: (row, col) → (text, shape index); ``viewport``:
    the image in dots (x, y, w, h).
    """

    width: int
    height: int
    dots: np.ndarray
    bits: np.ndarray
    owner: np.ndarray
    sides: np.ndarray
    labels: dict[tuple[int, int], tuple[str, int]]
    viewport: tuple[int, int, int, int]
    shapes: tuple[CanvasShape, ...]
    colors: tuple[str, ...]
    pair_numbers: dict[Hashable, int] = field(default_factory=dict)

    @property
    def viewport_cells(self) -> tuple[int, int, int, int]:
        """Cells showing the image: (col0, row0, col1, row1), end-exclusive."""
        x, y, w, h = self.viewport
        if w <= 0 or h <= 0:
            return (0, 0, 0, 0)
        return (x // 2, y // 4, (x + w - 1) // 2 + 1, (y + h - 1) // 4 + 1)

    def dot(self, x: int, y: int) -> bool:
        return bool(self.dots[y, x])

    def row_chars(self, row: int) -> list[str]:
        """The characters of one row, label text over the dots."""
        bits = self.bits[row]
        chars = [chr(0x2800 + int(b)) if b else " " for b in bits]
        for col in range(self.width):
            hit = self.labels.get((row, col))
            if hit is not None:
                chars[col] = hit[0]
        return chars

    def lines(self) -> list[str]:
        return ["".join(self.row_chars(r)) for r in range(self.height)]

    def cells(self) -> list[list[RasterCell]]:
        c0, r0, c1, r1 = self.viewport_cells
        out = []
        for row in range(self.height):
            chars = self.row_chars(row)
            line = []
            for col in range(self.width):
                inside = r0 <= row < r1 and c0 <= col < c1
                hit = self.labels.get((row, col))
                if hit is not None:
                    idx = hit[1]
                    line.append(RasterCell(chars[col], self.colors[idx], self.shapes[idx].side, idx, True, inside))
                    continue
                idx = int(self.owner[row, col])
                if idx >= 0:
                    line.append(RasterCell(chars[col], self.colors[idx], self.shapes[idx].side, idx, False, inside))
                elif idx == LINK:
                    line.append(RasterCell(chars[col], None, "link", LINK, False, inside))
                else:
                    line.append(RasterCell(chars[col], None, None, NONE, False, inside))
            out.append(line)
        return out


def _viewport(dots_w: int, dots_h: int, aspect: float, cell_aspect: float) -> tuple[int, int, int, int]:
    """The largest rectangle of the image's aspect inside the dot grid, centred (in dots)."""
    if dots_w <= 0 or dots_h <= 0:
        return (0, 0, 0, 0)
    dot_w, dot_h = 0.5, 0.25 / cell_aspect  # physical size of a dot, cell width = 1
    if dots_w * dot_w / (dots_h * dot_h) > aspect:
        vh = dots_h
        vw = min(dots_w, max(1, round(dots_h * dot_h * aspect / dot_w)))
    else:
        vw = dots_w
        vh = min(dots_h, max(1, round(dots_w * dot_w / aspect / dot_h)))
    return ((dots_w - vw) // 2, (dots_h - vh) // 2, vw, vh)


def _clip(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
          xmin: float, xmax: float, ymin: float, ymax: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Liang–Barsky, vectorised: (keep mask, t0, t1) of segments against a rectangle."""
    dx, dy = x1 - x0, y1 - y0
    t0 = np.zeros_like(x0)
    t1 = np.ones_like(x0)
    keep = np.ones(x0.shape, dtype=bool)
    for p, q in ((-dx, x0 - xmin), (dx, xmax - x0), (-dy, y0 - ymin), (dy, ymax - y0)):
        zero = p == 0
        keep &= ~(zero & (q < 0))
        r = np.divide(q, p, out=np.zeros_like(q), where=~zero)
        t0 = np.where(p < 0, np.maximum(t0, r), t0)
        t1 = np.where(p > 0, np.minimum(t1, r), t1)
    keep &= t0 <= t1
    return keep, t0, t1


def _place_text(text: str, max_cells: int) -> list[str]:
    """Text as one entry per cell ("" right of a wide character), zero-width characters dropped."""
    out: list[str] = []
    for ch in text:
        size = get_character_cell_size(ch)
        if size <= 0:
            continue
        if len(out) + size > max_cells:
            if len(out) < max_cells and max_cells > 0:
                out.append("…")
            break
        out.append(ch)
        if size == 2:
            out.append("")
    return out


def rasterise(
    shapes: Sequence[CanvasShape],
    width_cells: int,
    height_cells: int,
    aspect: float = 16 / 9,
    *,
    cell_aspect: float = 0.5,
    show_benchmark: bool = True,
    show_annotator: bool = True,
    show_links: bool = True,
    mark_unmatched: bool = True,
    labels: bool = True,
) -> Raster:
    """Draw the outlines of ``shapes`` on a braille grid of ``width_cells`` × ``height_cells``.

    ``aspect`` is the image's width / height in pixels (invalid values mean 16:9); ``cell_aspect``
    a terminal cell's width / height. The image is letterboxed into the grid. Normalised
    coordinate ``u`` of the image maps to dot column ``floor(x0 + u·w)`` of the viewport
    ``(x0, y0, w, h)``, with ``u = 1`` on the last column (likewise rows); so on a 40-dot-wide
    viewport a box from 0.25 to 0.75 has its left edge on dot 10 and its right edge on dot 30.
    See the module docstring for styles, draw order, pairs and labels.
    """
    shapes = tuple(shapes)
    wc, hc = max(0, int(width_cells)), max(0, int(height_cells))
    if not (isinstance(aspect, (int, float)) and math.isfinite(aspect) and aspect > 0):
        aspect = 16 / 9
    if not (isinstance(cell_aspect, (int, float)) and math.isfinite(cell_aspect) and cell_aspect > 0):
        cell_aspect = 0.5
    W, H = 2 * wc, 4 * hc
    ox, oy, vw, vh = _viewport(W, H, float(aspect), float(cell_aspect))
    colours = resolve_colours(shapes)
    numbers, matched = pairs(shapes)
    dots = np.zeros((H, W), dtype=bool)
    owner = np.full((hc, wc), NONE, dtype=np.int32)
    sides = np.zeros((hc, wc), dtype=np.uint8)
    raster = Raster(wc, hc, dots, np.zeros((hc, wc), dtype=np.uint16), owner, sides, {}, (ox, oy, vw, vh),
                    shapes, tuple(colours), numbers)
    if vw <= 0 or vh <= 0:
        return raster

    visible = [(s.side == BENCHMARK and show_benchmark) or (s.side == ANNOTATOR and show_annotator)
               for s in shapes]
    outlines = _outlines(shapes, visible, float(aspect), (ox, oy, vw, vh))

    # segments in draw order: links, annotator, benchmark; style 0 solid, 1 dashed, 2 link
    order = [i for i in outlines if shapes[i].side == ANNOTATOR] + [i for i in outlines if shapes[i].side == BENCHMARK]
    rings = [r for i in order for r in outlines[i]]
    ring_code = [i for i in order for _ in outlines[i]]
    ring_style = [0 if shapes[i].side == BENCHMARK else 1 for i in ring_code]
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    if show_links and numbers:
        centres = {i: _centre(r) for i, r in outlines.items() if r}
        first_bench: dict[Hashable, int] = {}
        for i, s in enumerate(shapes):
            if s.side == BENCHMARK and s.pair_id in numbers and i in centres:
                first_bench.setdefault(s.pair_id, i)
        links = [np.concatenate([centres[first_bench[s.pair_id]], centres[i]])
                 for i, s in enumerate(shapes)
                 if s.side == ANNOTATOR and i in centres and s.pair_id in first_bench]
        if links:
            seg = np.array(links, dtype=float)
            parts.append((seg, np.column_stack([np.full(len(seg), LINK), np.full(len(seg), 2), np.zeros(len(seg))])))
    if rings:
        parts.append(_ring_segments(rings, np.array(ring_code), np.array(ring_style)))
    if parts:
        _draw(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), raster, shapes)
    raster.bits = (dots.reshape(hc, 4, wc, 2) * _BRAILLE_WEIGHTS[None, :, None, :]).sum(axis=(1, 3)).astype(np.uint16)
    if labels:
        _label(raster, shapes, outlines, matched, numbers, mark_unmatched)
    return raster


def _outlines(shapes: tuple[CanvasShape, ...], visible: list[bool], aspect: float,
              viewport: tuple[int, int, int, int]) -> dict[int, list[np.ndarray]]:
    """Shape index → its closed outlines as (n, 2) arrays in dot coordinates (visible shapes only).

    Boxes and rotated boxes are done together: rotated in pixel space (an image ``aspect`` wide,
    1 high), clockwise on screen (y down) about their centres; a box is a rotated box at 0°.
    """
    ox, oy, vw, vh = viewport
    scale = np.array([vw, vh], dtype=float)
    origin = np.array([ox, oy], dtype=float)
    boxes = [(i, s.geometry) for i, s in enumerate(shapes)
             if visible[i] and isinstance(s.geometry, (Box, RotatedBox))]
    out: dict[int, list[np.ndarray]] = {i: [] for i, v in enumerate(visible) if v}
    if boxes:
        v = np.array([(g.x, g.y, g.w, g.h, g.theta if isinstance(g, RotatedBox) else 0.0) for _, g in boxes],
                     dtype=float)
        x, y, w, h, theta = v.T
        cx, cy = (x + w / 2.0) * aspect, y + h / 2.0
        hw, hh = w * aspect / 2.0, h / 2.0
        t = np.deg2rad(theta)
        c, s_ = np.cos(t), np.sin(t)
        dx = np.stack([-hw, hw, hw, -hw], axis=1)
        dy = np.stack([-hh, -hh, hh, hh], axis=1)
        px = (cx[:, None] + dx * c[:, None] - dy * s_[:, None]) / aspect
        py = cy[:, None] + dx * s_[:, None] + dy * c[:, None]
        corners = np.stack([px, py], axis=2) * scale + origin  # (n, 4, 2)
        finite = np.isfinite(corners).all(axis=(1, 2))
        for k, (i, _) in enumerate(boxes):
            if finite[k]:
                out[i].append(corners[k])
    for i, v_ in enumerate(visible):
        g = shapes[i].geometry
        if v_ and isinstance(g, Polygon):
            for ring in (g.points, *g.rings):
                if ring:
                    r = np.asarray(ring, dtype=float).reshape(-1, 2)
                    if np.isfinite(r).all():
                        out[i].append(r * scale + origin)
    return out


def _ring_segments(rings: list[np.ndarray], code: np.ndarray, style: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed rings → segments (n, 4) and their (owner, style, arc length at start); the arc length
    runs on round all the rings of one shape, so dashes do not restart at every corner."""
    lens = np.array([len(r) for r in rings])
    pts = np.concatenate(rings)
    first = np.concatenate([[0], np.cumsum(lens)[:-1]])
    nxt = np.arange(len(pts)) + 1
    nxt[first + lens - 1] = first
    seg = np.concatenate([pts, pts[nxt]], axis=1)
    seg_code = np.repeat(code, lens)
    seg_style = np.repeat(style, lens)
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    before = np.cumsum(length) - length  # arc length before each segment, overall
    new_shape = np.ones(len(seg), dtype=bool)
    new_shape[1:] = seg_code[1:] != seg_code[:-1]
    shape_start = np.maximum.accumulate(np.where(new_shape, np.arange(len(seg)), 0))
    arc0 = before - before[shape_start]
    return seg, np.column_stack([seg_code, seg_style, arc0]).astype(float)


def _centre(rings: list[np.ndarray]) -> np.ndarray:
    pts = np.concatenate(rings)
    return (pts.min(axis=0) + pts.max(axis=0)) / 2.0


def _draw(seg: np.ndarray, meta: np.ndarray, raster: Raster, shapes: tuple[CanvasShape, ...]) -> None:
    ox, oy, vw, vh = raster.viewport
    x0, y0, x1, y1 = seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3]
    keep, t0, t1 = _clip(x0, y0, x1, y1, ox - 1.0, ox + vw + 1.0, oy - 1.0, oy + vh + 1.0)
    dx, dy = x1 - x0, y1 - y0
    length = np.hypot(dx, dy)
    cx0, cy0 = x0 + t0 * dx, y0 + t0 * dy
    cx1, cy1 = x0 + t1 * dx, y0 + t1 * dy
    arc0 = meta[:, 2] + t0 * length
    clen = (t1 - t0) * length
    cx0, cy0, cx1, cy1, arc0, clen = (v[keep] for v in (cx0, cy0, cx1, cy1, arc0, clen))
    code, style = meta[keep, 0].astype(np.int64), meta[keep, 1].astype(np.int64)
    if not len(cx0):
        return
    # samples at most half a dot apart (Chebyshev), so no dot of a line is skipped
    n = np.ceil(np.maximum(np.abs(cx1 - cx0), np.abs(cy1 - cy0)) * 2.0).astype(np.int64) + 1
    total = int(n.sum())
    seg_of = np.repeat(np.arange(len(n)), n)
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    local = np.arange(total) - np.repeat(first, n)
    t = local / np.maximum(n - 1, 1)[seg_of]
    px = cx0[seg_of] + t * (cx1 - cx0)[seg_of]
    py = cy0[seg_of] + t * (cy1 - cy0)[seg_of]
    arc = arc0[seg_of] + t * clen[seg_of]
    st = style[seg_of]
    keep = ((st == 0) | ((st == 1) & (np.mod(arc, DASH_PERIOD) < DASH_ON))
            | ((st == 2) & (np.mod(arc, LINK_PERIOD) < 1.0)))
    ix = np.floor(px + _EPS).astype(np.int64)
    iy = np.floor(py + _EPS).astype(np.int64)
    # u = 1 (x = x0 + w) is the last column / row, not outside
    ix = np.where((ix == ox + vw) & (px <= ox + vw + _EPS), ox + vw - 1, ix)
    iy = np.where((iy == oy + vh) & (py <= oy + vh + _EPS), oy + vh - 1, iy)
    keep &= (ix >= ox) & (ix < ox + vw) & (iy >= oy) & (iy < oy + vh)
    ix, iy, who = ix[keep], iy[keep], code[seg_of][keep]
    if not len(ix):
        return
    raster.dots[iy, ix] = True
    wc = raster.width
    cell = (iy // 4) * wc + ix // 2
    # the owner of a cell is the last shape (in draw order) that set a dot in it
    rev = cell[::-1]
    uniq, first_rev = np.unique(rev, return_index=True)
    raster.owner.flat[uniq] = who[::-1][first_rev]
    side_bit = np.full(len(who), _LINK_BIT, dtype=np.uint8)
    bench_idx = np.array([i for i, s in enumerate(shapes) if s.side == BENCHMARK], dtype=np.int64)
    annot_idx = np.array([i for i, s in enumerate(shapes) if s.side == ANNOTATOR], dtype=np.int64)
    side_bit[np.isin(who, bench_idx)] = _SIDE_BIT[BENCHMARK]
    side_bit[np.isin(who, annot_idx)] = _SIDE_BIT[ANNOTATOR]
    for bit in (1, 2, 4):
        raster.sides.flat[np.unique(cell[side_bit == bit])] |= bit


def _label(raster: Raster, shapes: tuple[CanvasShape, ...], outlines: dict[int, list[np.ndarray]],
           matched: list[bool], numbers: dict[Hashable, int], mark_unmatched: bool) -> None:
    ox, oy, vw, vh = raster.viewport
    wc, hc = raster.width, raster.height
    order = [i for i in outlines if shapes[i].side == BENCHMARK] + [i for i in outlines if shapes[i].side == ANNOTATOR]
    for i in order:
        rings = outlines[i]
        if not rings:
            continue
        s = shapes[i]
        if matched[i]:
            marker = str(numbers[s.pair_id])
        elif mark_unmatched:
            marker = MISSED_MARK if s.side == BENCHMARK else EXTRA_MARK
        else:
            marker = ""
        extra = clean(s.label).strip() if s.label else ""
        if not marker and not extra:
            continue
        pts = np.concatenate(rings)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        if hi[0] < ox or lo[0] > ox + vw or hi[1] < oy or lo[1] > oy + vh:
            continue  # entirely outside the image
        x_lo = min(max(math.floor(float(lo[0]) + _EPS), ox), ox + vw - 1)
        y_lo = min(max(math.floor(float(lo[1]) + _EPS), oy), oy + vh - 1)
        y_hi = min(max(math.floor(float(hi[1]) + _EPS), oy), oy + vh - 1)
        col, top, bottom = x_lo // 2, y_lo // 4, y_hi // 4
        candidates = [(top - 1, col), (bottom + 1, col), (top, col + 1)]
        texts = []
        if extra:
            full = _place_text(extra, _MAX_LABEL)
            texts.append((_place_text(marker, 4) + [" "] + full) if marker else full)
        if marker:
            texts.append(_place_text(marker, 4))
        placed = False
        for cells in texts:
            if len(cells) > wc:
                cells = cells[:wc]
                if cells and cells[-1] != "" and get_character_cell_size(cells[-1]) == 2:
                    cells = cells[:-1]  # half a wide character does not fit
            for row, c in candidates:
                if not (0 <= row < hc) or not cells:
                    continue
                c = max(0, min(c, wc - len(cells)))
                span = [(row, c + k) for k in range(len(cells))]
                # one free cell either side, so "1" and "1 0.81" never run together as "11 0.81"
                if any((row, c + k) in raster.labels for k in range(-1, len(cells) + 1)):
                    continue
                for p, ch in zip(span, cells):
                    raster.labels[p] = (ch, i)
                placed = True
                break
            if placed:
                break


