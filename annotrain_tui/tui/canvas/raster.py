"""The canvas rasteriser: benchmark and annotator shapes of one image, drawn in braille (no Textual).

A lead sees where an annotator disagrees with the benchmark without opening the web app. This module
is pure (no Textual; numpy); the geometry records live in ``core/evaluation/shapes.py``, the shapes to
draw and their colours in ``tui/canvas/model.py``, the widget in ``tui/widgets/shape_canvas.py``:

* :class:`Box`, :class:`RotatedBox`, :class:`Polygon` (and the other records of
  ``core/evaluation/shapes.py``): geometry, normalised 0..1 as in Encord
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

* Every shape of ``core.evaluation.shapes.DRAWABLE``: boxes, rotated boxes and polygons as closed
  outlines, polylines as open ones; points and skeleton keypoints as markers of 5 dots, a plus for
  the benchmark and a cross for the annotator, a keypoint marked invisible without its centre dot
  (hollow); bitmasks (pixels: ``image_size`` places them) decoded with
  ``core.evaluation.similarity.decode_rle``, downsampled to the dot grid and drawn by their
  outline (a mask that cannot be decoded: its box). Skeleton edges are not drawn (the template's
  edges are not in the label row).
* Benchmark outlines are solid; annotator outlines are dashed (3 dots on, 2 off, continuous round
  the outline; a mask's outline drops every third dot), so the two read apart even without colour. The widget adds colour: benchmark cells
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
from typing import Any

import numpy as np
from rich.cells import get_character_cell_size

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation.similarity import decode_rle
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
    Bitmask,
    Box,
    CanvasShape,
    Point,
    Polygon,
    Polyline,
    RotatedBox,
    Skeleton,
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
    image_size: tuple[float, float] | None = None,
) -> Raster:
    """Draw the outlines of ``shapes`` on a braille grid of ``width_cells`` × ``height_cells``.

    ``aspect`` is the image's width / height in pixels (invalid values mean 16:9); ``cell_aspect``
    a terminal cell's width / height. The image is letterboxed into the grid. Normalised
    coordinate ``u`` of the image maps to dot column ``floor(x0 + u·w)`` of the viewport
    ``(x0, y0, w, h)``, with ``u = 1`` on the last column (likewise rows); so on a 40-dot-wide
    viewport a box from 0.25 to 0.75 has its left edge on dot 10 and its right edge on dot 30.
    ``image_size`` (width, height in pixels) places bitmasks, which are in pixels (None: a mask's
    own box is the image, as the SDK writes it). See the module docstring for styles, draw order,
    pairs and labels.
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
    geo = _geometry(shapes, visible, float(aspect), (ox, oy, vw, vh), image_size)
    outlines = geo.extent  # what labels and links are placed by

    # dots in draw order: links, then the annotator's, then the benchmark's (outlines, then marks)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
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
            meta = np.column_stack([np.full(len(seg), LINK), np.full(len(seg), 2), np.zeros(len(seg))])
            parts.append(_sample(seg, meta, raster.viewport))
    for side, style in ((ANNOTATOR, 1), (BENCHMARK, 0)):
        mine = [i for i in geo.rings if shapes[i].side == side]
        rings = [r for i in mine for r, _closed in geo.rings[i]]
        if rings:
            code = np.array([i for i in mine for _ in geo.rings[i]])
            closed = np.array([c for i in mine for _r, c in geo.rings[i]], dtype=bool)
            seg, meta = _ring_segments(rings, code, np.full(len(rings), style), closed)
            if len(seg):
                parts.append(_sample(seg, meta, raster.viewport))
        for i in (i for i in geo.marks if shapes[i].side == side):
            mx, my = geo.marks[i]
            parts.append((mx, my, np.full(len(mx), i, dtype=np.int64)))
    if parts:
        _write(raster, shapes, np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
               np.concatenate([p[2] for p in parts]))
    raster.bits = (dots.reshape(hc, 4, wc, 2) * _BRAILLE_WEIGHTS[None, :, None, :]).sum(axis=(1, 3)).astype(np.uint16)
    if labels:
        _label(raster, shapes, outlines, matched, numbers, mark_unmatched)
    return raster


@dataclass
class _Geometry:
    """A raster's shapes in dot coordinates: ``rings`` (shape → its outlines, each with whether it
    is closed: a polyline is open), ``marks`` (shape → dot columns and rows set directly: point and
    keypoint markers, mask outlines) and ``extent`` (shape → points whose bounds place its label and
    its pair link)."""

    rings: dict[int, list[tuple[np.ndarray, bool]]] = field(default_factory=dict)
    marks: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    extent: dict[int, list[np.ndarray]] = field(default_factory=dict)


# Point and keypoint markers (dot offsets): the benchmark's a plus, the annotator's a cross, so the
# sides read apart without colour; a keypoint marked invisible is drawn hollow (without its centre).
_MARKER = {BENCHMARK: np.array([(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]),
           ANNOTATOR: np.array([(0, 0), (-1, -1), (1, -1), (-1, 1), (1, 1)])}


def _geometry(shapes: tuple[CanvasShape, ...], visible: list[bool], aspect: float,
              viewport: tuple[int, int, int, int], image_size: tuple[float, float] | None) -> _Geometry:
    """Every visible shape in dot coordinates (see :class:`_Geometry`).

    Boxes and rotated boxes are done together: rotated in pixel space (an image ``aspect`` wide,
    1 high), clockwise on screen (y down) about their centres; a box is a rotated box at 0°.
    Polygons give closed rings, polylines open ones; points and skeleton keypoints markers;
    bitmasks the outline of their pixels downsampled to the dot grid (:func:`_mask_dots`).
    """
    ox, oy, vw, vh = viewport
    scale = np.array([vw, vh], dtype=float)
    origin = np.array([ox, oy], dtype=float)
    out = _Geometry()
    for i, seen in enumerate(visible):
        if seen:
            out.rings[i], out.extent[i] = [], []
    boxes = [(i, s.geometry) for i, s in enumerate(shapes)
             if visible[i] and isinstance(s.geometry, (Box, RotatedBox))]
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
                out.rings[i].append((corners[k], True))
                out.extent[i].append(corners[k])

    def place(points: Any) -> np.ndarray | None:
        r = np.asarray(points, dtype=float).reshape(-1, 2)
        return r * scale + origin if len(r) and np.isfinite(r).all() else None

    for i, v_ in enumerate(visible):
        g = shapes[i].geometry
        side = shapes[i].side
        if not v_ or isinstance(g, (Box, RotatedBox)):
            continue
        if isinstance(g, (Polygon, Polyline)):
            for points in ((g.points, *g.rings) if isinstance(g, Polygon) else (g.points,)):
                r = place(points)
                if r is not None:
                    out.rings[i].append((r, isinstance(g, Polygon)))
                    out.extent[i].append(r)
        elif isinstance(g, (Point, Skeleton)):
            pts = place([(g.x, g.y)] if isinstance(g, Point) else g.points)
            if pts is None:
                continue
            hollow = np.zeros(len(pts), dtype=bool) if isinstance(g, Point) else ~np.asarray(g.visible, dtype=bool)
            out.marks[i] = _marker_dots(pts, hollow, _MARKER[side], viewport)
            out.extent[i].append(pts)
        elif isinstance(g, Bitmask):
            mx, my, box = _mask_dots(g, viewport, image_size, dashed=side == ANNOTATOR)
            if box is not None:  # not decodable: its box, outlined
                out.rings[i].append((box, True))
                out.extent[i].append(box)
            elif len(mx):
                out.marks[i] = (mx, my)
                out.extent[i].append(np.array([[mx.min(), my.min()], [mx.max() + 1.0, my.max() + 1.0]]))
    return out


def _dot_index(px: np.ndarray, py: np.ndarray, viewport: tuple[int, int, int, int]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dot column and row of dot coordinates, and which fall on the image (u = 1 is the last)."""
    ox, oy, vw, vh = viewport
    ix = np.floor(px + _EPS).astype(np.int64)
    iy = np.floor(py + _EPS).astype(np.int64)
    ix = np.where((ix == ox + vw) & (px <= ox + vw + _EPS), ox + vw - 1, ix)
    iy = np.where((iy == oy + vh) & (py <= oy + vh + _EPS), oy + vh - 1, iy)
    inside = (ix >= ox) & (ix < ox + vw) & (iy >= oy) & (iy < oy + vh)
    return ix, iy, inside


def _marker_dots(pts: np.ndarray, hollow: np.ndarray, offsets: np.ndarray,
                 viewport: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The dots of one marker per point (a hollow one without its centre), clipped to the image."""
    ix, iy, inside = _dot_index(pts[:, 0], pts[:, 1], viewport)
    keep_centre = inside
    mx = (ix[:, None] + offsets[None, :, 0])
    my = (iy[:, None] + offsets[None, :, 1])
    use = np.repeat(keep_centre[:, None], len(offsets), axis=1)
    use[:, 0] &= ~hollow  # offset 0 is the centre
    ox, oy, vw, vh = viewport
    use &= (mx >= ox) & (mx < ox + vw) & (my >= oy) & (my < oy + vh)
    return mx[use], my[use]


def _mask_dots(g: Bitmask, viewport: tuple[int, int, int, int], image_size: tuple[float, float] | None, *,
               dashed: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A bitmask's outline on the dot grid: (columns, rows, None), or (empty, empty, its box as a
    ring) when its ``rle`` cannot be decoded.

    The runs (``similarity.decode_rle``: 0s first, row-major in the mask's box) become row
    segments of pixels, each segment the dots its pixels fall in (image pixel ``(r, c)`` → dot
    ``(oy + ⌊r·vh/H⌋, ox + ⌊c·vw/W⌋)``, ``W×H`` the image in pixels: ``image_size``, else the
    mask's box); the filled dots' outline (a filled dot with an empty 4-neighbour) is drawn, every
    third dot left out on the annotator's side (dashed). numpy throughout: no loop over pixels or runs.
    """
    ox, oy, vw, vh = viewport
    empty = np.zeros(0, dtype=np.int64)
    img_w, img_h = image_size if image_size is not None else (float(g.left + g.width), float(g.top + g.height))
    if not (img_w > 0 and img_h > 0):
        return empty, empty, None
    try:
        counts = decode_rle(g.rle, g.height * g.width).astype(np.int64)
    except InvalidInput:  # not decodable: its box is what can be shown
        box = np.array([[g.left, g.top], [g.left + g.width, g.top], [g.left + g.width, g.top + g.height],
                        [g.left, g.top + g.height]], dtype=float)
        return empty, empty, box / np.array([img_w, img_h]) * np.array([vw, vh], dtype=float) + np.array([ox, oy])
    ends = np.cumsum(counts)
    ones = (np.arange(len(counts)) % 2 == 1) & (counts > 0)
    if not ones.any() or g.width <= 0:
        return empty, empty, None
    s, e = ends[ones] - counts[ones], ends[ones]
    w = g.width
    r0 = s // w
    pieces = (e - 1) // w - r0 + 1
    run_of = np.repeat(np.arange(len(s)), pieces)
    row = r0[run_of] + (np.arange(len(run_of)) - (np.cumsum(pieces) - pieces)[run_of])
    c0 = np.maximum(s[run_of] - row * w, 0) + g.left
    c1 = np.minimum(e[run_of] - row * w, w) + g.left  # exclusive
    row = row + g.top
    dy = np.floor(row * (vh / img_h)).astype(np.int64)
    d0 = np.floor(c0 * (vw / img_w)).astype(np.int64)
    d1 = np.floor((c1 - 1) * (vw / img_w)).astype(np.int64)
    on = (dy >= 0) & (dy < vh) & (d1 >= 0) & (d0 < vw)
    dy, d0, d1 = dy[on], np.clip(d0[on], 0, vw - 1), np.clip(d1[on], 0, vw - 1)
    if not len(dy):
        return empty, empty, None
    diff = np.zeros((vh, vw + 1), dtype=np.int32)  # each segment +1 at its first dot, -1 after its last
    np.add.at(diff, (dy, d0), 1)
    np.add.at(diff, (dy, d1 + 1), -1)
    filled = np.cumsum(diff, axis=1)[:, :vw] > 0
    pad = np.pad(filled, 1)
    inner = pad[:-2, 1:-1] & pad[2:, 1:-1] & pad[1:-1, :-2] & pad[1:-1, 2:]
    yy, xx = np.nonzero(filled & ~inner)
    if dashed:
        keep = (xx + yy) % 3 != 2
        yy, xx = yy[keep], xx[keep]
    return xx.astype(np.int64) + ox, yy.astype(np.int64) + oy, None


def _ring_segments(rings: list[np.ndarray], code: np.ndarray, style: np.ndarray,
                   closed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rings → segments (n, 4) and their (owner, style, arc length at start); a ring that is not
    ``closed`` (a polyline) has no segment from its last point back to its first. The arc length
    runs on round all the rings of one shape, so dashes do not restart at every corner."""
    lens = np.array([len(r) for r in rings])
    pts = np.concatenate(rings)
    first = np.concatenate([[0], np.cumsum(lens)[:-1]])
    nxt = np.arange(len(pts)) + 1
    nxt[first + lens - 1] = first
    seg = np.concatenate([pts, pts[nxt]], axis=1)
    seg_code = np.repeat(code, lens)
    seg_style = np.repeat(style, lens)
    if closed is not None and not closed.all():
        keep = np.ones(len(seg), dtype=bool)
        keep[(first + lens - 1)[~closed]] = False
        seg, seg_code, seg_style = seg[keep], seg_code[keep], seg_style[keep]
    if not len(seg):
        return seg, np.zeros((0, 3))
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


def _sample(seg: np.ndarray, meta: np.ndarray, viewport: tuple[int, int, int, int]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dots segments set (column, row, owner), dashes and links applied, clipped to the image."""
    ox, oy, vw, vh = viewport
    empty = np.zeros(0, dtype=np.int64)
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
        return empty, empty, empty
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
    ix, iy, inside = _dot_index(px, py, viewport)
    keep &= inside
    return ix[keep], iy[keep], code[seg_of][keep]


def _write(raster: Raster, shapes: tuple[CanvasShape, ...], ix: np.ndarray, iy: np.ndarray, who: np.ndarray) -> None:
    """Set the dots (in draw order): a cell's owner is the last shape that set a dot in it."""
    if not len(ix):
        return
    raster.dots[iy, ix] = True
    wc = raster.width
    cell = (iy // 4) * wc + ix // 2
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


