"""A feedback pack rendered: one self-contained HTML file (:func:`render_html`) and the same as
Markdown (:func:`render_markdown`). No Textual; numpy only for bitmasks.

The HTML has no network and no external asset: no ``<link>``, no ``<script>``, no web font, no
URL; the CSS is inline and a Content-Security-Policy of ``default-src 'none'`` says so to the
browser too; every drawing is an inline ``<svg>``. It prints (figures are not split across pages,
colours print as they show).

The drawings are the item canvas's (``tui/canvas``), in SVG: each shape in its class colour
(:mod:`annotrain_tui.core.palette`: the ontology's colour, else the palette's by class name), the
benchmark's solid and bold, the annotator's dashed and faded 30 % towards the image's background
(:data:`IMAGE_BACKGROUND`, a colour nothing else on the page uses); points and keypoints a plus
(benchmark) or a cross (annotator), an invisible keypoint a hollow ring; bitmasks filled lightly
and outlined; a matched pair carries one number on both shapes and a dotted grey line between
their centres; a missed benchmark shape is marked ``✗``, an extra annotator shape ``+``.

The Markdown carries the same text and tables, and for the drawings a pointer to the HTML file:
inline SVG in Markdown is stripped by GitHub's and GitLab's sanitisers and shown as raw text by
terminal viewers, so embedding it would make the Markdown unreadable where it is most read.

Every string from a file or a server (emails, class names, titles, reasons) is hostile: shown by
the one policy first (``core.text.shown``: controls, bidi and format characters escaped visibly),
then HTML-escaped (``html.escape``, attributes always quoted) or Markdown-escaped. A URL scheme in
such a string has its colon written as ``&#58;``, so the file never holds a URL, not even in text.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation.shapes import Bitmask, Box, Point, Polygon, Polyline, RotatedBox, Skeleton
from annotrain_tui.core.feedback import UNDER_REVIEW as _REVIEW
from annotrain_tui.core.palette import EXTRA_MARK, MISSED_MARK, faded
from annotrain_tui.core.text import shown

if TYPE_CHECKING:
    from annotrain_tui.core.evaluation.results import Breakdown, QuestionTotal
    from annotrain_tui.core.feedback import FeedbackPack, PackItem, PackShape

__all__ = ["render_html", "render_markdown", "render_svg", "IMAGE_BACKGROUND", "LINK_COLOUR", "annotator_colour",
           "SVG_WIDTH"]

#: the image area of every drawing: a colour used nowhere else on the page (a test finds drawings by it)
IMAGE_BACKGROUND = "#F3F5F8"
#: the dotted line between a matched pair's centres
LINK_COLOUR = "#8A8A8A"
SVG_WIDTH = 720  # CSS pixels a drawing is laid out at (it shrinks with the page)
_MAX_HEIGHT = 560  # CSS pixels: a portrait image is drawn narrower
_DEFAULT_SIZE = (1600.0, 900.0)  # an image whose size the label row does not say: 16:9
_MASK_GRID = 240  # a bitmask is drawn on at most this many cells a side
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):(?=//)")
_STATUS_CLASS = {"passed": "passed", "close": "close", "needs feedback": "needs", "not enough work yet": "notyet",
                 "uncertain": "close"}


def annotator_colour(colour: str) -> str:
    """The colour an annotator's shape of class colour ``colour`` is drawn in (faded towards the image)."""
    return faded(colour, IMAGE_BACKGROUND)


# --- text ------------------------------------------------------------------------------------------

def _h(value: Any, *, limit: int | None = None) -> str:
    """Untrusted text as HTML text or a quoted attribute's value: the policy, then ``html.escape``
    (``& < > " '``), then no URL scheme left intact."""
    return _SCHEME.sub(r"\1&#58;", html.escape(shown(value, limit=limit), quote=True))


#: what could make Markdown of a string: emphasis, code, links and images (their brackets), table
#: cells, strike-through, and the backslash itself (the rest is markup only at a line's start,
#: where no string from a file ever is: each follows a label)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def _md(value: Any, *, limit: int | None = None) -> str:
    """Untrusted text as Markdown text (a table cell too): the policy, then ``& < >`` as entities
    (Markdown passes raw HTML through), Markdown's punctuation backslash-escaped, no URL scheme intact."""
    text = shown(value, limit=limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SCHEME.sub(r"\1&#58;", _MD_SPECIAL.sub(r"\\\1", text))


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _interval(iv: tuple[float, float] | None) -> str:
    return "" if iv is None else f"{iv[0]:.3f}–{iv[1]:.3f}"


# --- what both renderers say ---------------------------------------------------------------------

def _score_rows(pack: FeedbackPack) -> list[tuple[str, str, str, str, str]]:
    """(measure, yours, 95 % interval, mark, verdict ✓/✗/"") rows of the score table (plain text)."""
    s, pm, iv = pack.score, pack.settings.pass_mark, pack.intervals

    def verdict(value: float | None, mark: float) -> str:
        return "" if value is None else ("✓" if value >= mark - 1e-9 else "✗")

    rows = [("F1", _num(s.f1), _interval(iv.get("f1")), f"≥ {pm.f1:g}", verdict(s.f1, pm.f1)),
            ("Precision (of what you drew, how much is right)", _num(s.precision), _interval(iv.get("precision")),
             "", ""),
            ("Recall (of the benchmark, how much you found)", _num(s.recall), _interval(iv.get("recall")), "", ""),
            ("Class accuracy (matches with the right class)", _num(s.class_accuracy), "", f"≥ {pm.class_accuracy:g}",
             verdict(s.class_accuracy, pm.class_accuracy)),
            ("Mean overlap of your matches (IoU or similarity)", _num(s.mean_iou), "",
             f"loose below {pack.settings.low_overlap:g}", "")]
    for name, mark in sorted(pm.class_f1.items()):
        b = s.by_class.get(name)
        value = b.f1 if b is not None and b.benchmark_objects else None
        rows.append((f"{shown(name, limit=60)} F1", _num(value), "", f"≥ {mark:g}", verdict(value, mark)))
    if s.classifications:
        rows.append(("Classification answers", _num(s.classification_accuracy), "", f"≥ {pm.classification_accuracy:g}",
                     verdict(s.classification_accuracy, pm.classification_accuracy)))
    if s.attributes:
        rows.append(("Object attributes", _num(s.attribute_accuracy), "", f"≥ {pm.attribute_accuracy:g}",
                     verdict(s.attribute_accuracy, pm.attribute_accuracy)))
    if s.items_required is not None:
        done = s.items_done or 0
        rows.append(("Items finished", f"{done}", "", f"{s.items_required}", "✓" if done >= s.items_required else "✗"))
    return rows


def _count_rows(pack: FeedbackPack) -> list[tuple[str, str]]:
    s = pack.score
    return [("Objects you drew", str(s.objects)), ("Benchmark objects", str(s.benchmark_objects)),
            ("Matched", str(s.matched)), ("Missed", str(s.missed)), ("Extra", str(s.extra)),
            (f"Loose (matched below {pack.settings.low_overlap:g})", str(s.low_overlap))]


_KIND_TEXT = {
    "missed": ("Missed objects", "benchmark objects you did not draw (by the benchmark's class)"),
    "loose": ("Loose shapes", "matched, but overlapping the benchmark below the low-overlap mark (by your class)"),
    "confused": ("Confused classes", "matched shapes given another class (benchmark class → yours)"),
    "extra": ("Extra objects", "shapes matching no benchmark object (by your class)"),
}


def _breakdown_rows(parts: dict[str, Breakdown] | Any) -> list[tuple[str, ...]]:
    return [(label, str(b.objects), str(b.benchmark_objects), str(b.matched), str(b.benchmark_objects - b.covered),
             str(b.objects - b.matched), _num(b.precision), _num(b.recall), _num(b.f1), _num(b.mean_similarity))
            for label, b in parts.items()]


_BREAKDOWN_HEAD = ("", "Yours", "Benchmark", "Matched", "Missed", "Extra", "Precision", "Recall", "F1", "Mean overlap")


def _question_rows(totals: dict[str, QuestionTotal] | Any) -> list[tuple[str, ...]]:
    return [(q.label, q.kind, str(q.compared), _num(q.accuracy)) for q in totals.values()]


def _item_facts(item: PackItem) -> str:
    parts = [f"{item.missed} missed", f"{item.extra} extra",
             f"{item.matched} matched" + (f", {item.loose} of them loose" if item.loose else "")]
    where = f"frame {item.frame} (of {item.frames} compared)" if item.frames > 1 else f"frame {item.frame}"
    return f"{where} · " + " · ".join(parts)


def _object_rows(item: PackItem) -> list[tuple[str, str, str, str, str, str]]:
    """(#, outcome, benchmark class, your class, shape, overlap) per pair or unmatched shape."""
    out: list[tuple[str, str, str, str, str, str]] = []
    seen: set[int] = set()
    for s in item.shapes:
        if s.pair is not None:
            if s.pair in seen:
                continue
            seen.add(s.pair)
            bench = next((t for t in item.shapes if t.pair == s.pair and t.side == "benchmark"), s)
            mine = next((t for t in item.shapes if t.pair == s.pair and t.side == "annotator"), s)
            out.append((str(s.pair), s.outcome, bench.class_name, mine.class_name, mine.shape, _num(s.iou, 2)))
        elif s.side == "benchmark":
            out.append((MISSED_MARK, "missed", s.class_name, "", s.shape, ""))
        else:
            out.append((EXTRA_MARK, "extra", "", s.class_name, s.shape, ""))
    return out


# --- SVG -----------------------------------------------------------------------------------------

def _f(v: float) -> str:
    return f"{v:.1f}"


def _points_px(points: Iterable[tuple[float, float]], w: float, h: float) -> np.ndarray:
    arr = np.asarray(list(points), dtype=float).reshape(-1, 2)
    return arr * np.array([w, h])


def _box_corners(g: Box | RotatedBox, w: float, h: float) -> np.ndarray:
    x, y, bw, bh = g.x * w, g.y * h, g.w * w, g.h * h
    cx, cy = x + bw / 2, y + bh / 2
    t = math.radians(g.theta) if isinstance(g, RotatedBox) else 0.0
    c, s = math.cos(t), math.sin(t)
    corners = [(-bw / 2, -bh / 2), (bw / 2, -bh / 2), (bw / 2, bh / 2), (-bw / 2, bh / 2)]
    return np.array([(cx + dx * c - dy * s, cy + dx * s + dy * c) for dx, dy in corners])


def _runs(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, start, end) of every run of True in each row of a boolean grid (end exclusive)."""
    padded = np.pad(grid.astype(np.int8), ((0, 0), (1, 1)))
    d = np.diff(padded, axis=1)
    r0, c0 = np.nonzero(d == 1)
    _r1, c1 = np.nonzero(d == -1)
    return r0, c0, c1


def _mask_grid(g: Bitmask) -> tuple[np.ndarray, float] | None:
    """A bitmask's pixels on a grid of at most :data:`_MASK_GRID` cells a side (a cell is set when
    any of its pixels is) and the cell's size in pixels; None when its ``rle`` does not decode."""
    from annotrain_tui.core.evaluation.similarity import decode_rle

    if g.width <= 0 or g.height <= 0:
        return None
    try:
        counts = decode_rle(g.rle, g.height * g.width).astype(np.int64)
    except InvalidInput:
        return None
    f = max(1, math.ceil(max(g.width, g.height) / _MASK_GRID))
    gw, gh = math.ceil(g.width / f), math.ceil(g.height / f)
    ends = np.cumsum(counts)
    ones = (np.arange(len(counts)) % 2 == 1) & (counts > 0)
    grid = np.zeros((gh, gw), dtype=bool)
    if not ones.any():
        return grid, float(f)
    s, e = ends[ones] - counts[ones], ends[ones]
    w = g.width
    r0 = s // w
    pieces = (e - 1) // w - r0 + 1
    run_of = np.repeat(np.arange(len(s)), pieces)
    row = r0[run_of] + (np.arange(len(run_of)) - (np.cumsum(pieces) - pieces)[run_of])
    c0 = np.maximum(s[run_of] - row * w, 0)
    c1 = np.minimum(e[run_of] - row * w, w)  # exclusive
    gy, g0, g1 = row // f, c0 // f, (c1 - 1) // f
    diff = np.zeros((gh, gw + 1), dtype=np.int32)
    np.add.at(diff, (gy, g0), 1)
    np.add.at(diff, (gy, g1 + 1), -1)
    return np.cumsum(diff, axis=1)[:, :gw] > 0, float(f)


def _mask_svg(g: Bitmask, colour: str, benchmark: bool) -> tuple[str, np.ndarray]:
    """A bitmask's fill and outline paths, and its extent (pixels); its box when it does not decode."""
    decoded = _mask_grid(g)
    left, top = float(g.left), float(g.top)
    box = np.array([[left, top], [left + g.width, top + g.height]])
    dash = "" if benchmark else ' stroke-dasharray="6 4"'
    width = "2.5" if benchmark else "2"
    if decoded is None:
        return (f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(g.width)}" height="{_f(g.height)}" fill="none" '
                f'stroke="{colour}" stroke-width="{width}"{dash} vector-effect="non-scaling-stroke"/>', box)
    grid, f = decoded
    if not grid.any():
        return "", box
    r, c0, c1 = _runs(grid)
    fill = " ".join(f"M{_f(left + a * f)} {_f(top + y * f)}h{_f((b - a) * f)}v{_f(f)}h{_f(-(b - a) * f)}z"
                    for y, a, b in zip(r.tolist(), c0.tolist(), c1.tolist()))
    # outline: the cell edges between a set and an unset cell, merged into runs
    pad = np.pad(grid, 1)
    horizontal = pad[1:, 1:-1] != pad[:-1, 1:-1]  # (gh + 1, gw): edge above cell row y
    vertical = pad[1:-1, 1:] != pad[1:-1, :-1]  # (gh, gw + 1): edge left of cell column x
    hr, h0, h1 = _runs(horizontal)
    vr, v0, v1 = _runs(vertical.T)
    edges = [f"M{_f(left + a * f)} {_f(top + y * f)}H{_f(left + b * f)}"
             for y, a, b in zip(hr.tolist(), h0.tolist(), h1.tolist())]
    edges += [f"M{_f(left + x * f)} {_f(top + a * f)}V{_f(top + b * f)}"
              for x, a, b in zip(vr.tolist(), v0.tolist(), v1.tolist())]
    ys, xs = np.nonzero(grid)
    extent = np.array([[left + xs.min() * f, top + ys.min() * f], [left + (xs.max() + 1) * f, top + (ys.max() + 1) * f]])
    opacity = "0.28" if benchmark else "0.16"
    return (f'<path d="{fill}" fill="{colour}" fill-opacity="{opacity}" stroke="none"/>'
            f'<path d="{" ".join(edges)}" fill="none" stroke="{colour}" stroke-width="{width}"{dash} '
            f'vector-effect="non-scaling-stroke"/>', extent)


def _marker(x: float, y: float, r: float, benchmark: bool, hollow: bool) -> str:
    if hollow:
        return f"M{_f(x + r * 0.7)} {_f(y)}A{_f(r * 0.7)} {_f(r * 0.7)} 0 1 0 {_f(x - r * 0.7)} {_f(y)}" \
               f"A{_f(r * 0.7)} {_f(r * 0.7)} 0 1 0 {_f(x + r * 0.7)} {_f(y)}"
    if benchmark:
        return f"M{_f(x - r)} {_f(y)}H{_f(x + r)}M{_f(x)} {_f(y - r)}V{_f(y + r)}"
    return f"M{_f(x - r)} {_f(y - r)}L{_f(x + r)} {_f(y + r)}M{_f(x - r)} {_f(y + r)}L{_f(x + r)} {_f(y - r)}"


def _shape_svg(s: PackShape, w: float, h: float, unit: float) -> tuple[str, np.ndarray | None]:
    """One shape's SVG and its extent in pixels (None: nothing drawable, e.g. non-finite)."""
    benchmark = s.side == "benchmark"
    colour = s.colour if benchmark else annotator_colour(s.colour)
    stroke = (f'fill="none" stroke="{colour}" stroke-width="{"3" if benchmark else "2.5"}"'
              + ("" if benchmark else ' stroke-dasharray="7 4"') + ' vector-effect="non-scaling-stroke"'
              + ' stroke-linejoin="round"')
    g = s.geometry
    if isinstance(g, (Box, RotatedBox)):
        corners = _box_corners(g, w, h)
        if not np.isfinite(corners).all():
            return "", None
        listed = " ".join(f"{_f(x)},{_f(y)}" for x, y in corners)
        return f'<polygon points="{listed}" {stroke}/>', corners
    if isinstance(g, (Polygon, Polyline)):
        rings = [g.points, *g.rings] if isinstance(g, Polygon) else [g.points]
        arrays = [_points_px(r, w, h) for r in rings if len(r)]
        arrays = [a for a in arrays if np.isfinite(a).all()]
        if not arrays:
            return "", None
        close = "Z" if isinstance(g, Polygon) else ""
        path = " ".join("M" + "L".join(f"{_f(x)} {_f(y)}" for x, y in a) + close for a in arrays)
        rule = ' fill-rule="evenodd"' if isinstance(g, Polygon) else ""
        return f'<path d="{path}"{rule} {stroke}/>', np.concatenate(arrays)
    if isinstance(g, (Point, Skeleton)):
        pts = _points_px([(g.x, g.y)] if isinstance(g, Point) else g.points, w, h)
        hollow = [False] * len(pts) if isinstance(g, Point) else [not v for v in g.visible]
        keep = np.isfinite(pts).all(axis=1)
        if not keep.any():
            return "", None
        r = 7 * unit
        marks = " ".join(_marker(x, y, r, benchmark, hol) for (x, y), hol, k in zip(pts.tolist(), hollow, keep) if k)
        solid = stroke.replace(' stroke-dasharray="7 4"', "")  # a marker's own form tells the sides apart
        return f'<path d="{marks}" {solid}/>', pts[keep]
    if isinstance(g, Bitmask):
        return _mask_svg(g, colour, benchmark)
    return "", None


def _drawing_size(item: PackItem) -> tuple[float, float]:
    if item.size is not None:
        return item.size
    for s in item.shapes:
        if isinstance(s.geometry, Bitmask) and s.geometry.width > 0 and s.geometry.height > 0:
            return (float(s.geometry.left + s.geometry.width), float(s.geometry.top + s.geometry.height))
    return _DEFAULT_SIZE


def render_svg(item: PackItem) -> str:
    """One worst item drawn (see the module doc): links first, then the annotator's shapes, then the
    benchmark's (where outlines cross, the benchmark's colour shows), then the numbers and marks."""
    w, h = _drawing_size(item)
    width = min(float(SVG_WIDTH), _MAX_HEIGHT * w / h)  # CSS pixels: a tall image is drawn narrower
    unit = w / width  # one CSS pixel, in the drawing's units
    height = width * h / w
    parts: list[str] = []
    extents: dict[int, np.ndarray] = {}
    for side in ("annotator", "benchmark"):
        for i, s in enumerate(item.shapes):
            if s.side != side:
                continue
            svg, extent = _shape_svg(s, w, h, unit)
            if svg:
                parts.append(svg)
            if extent is not None and len(extent):
                extents[i] = extent
    links = []
    for i, s in enumerate(item.shapes):
        if s.side != "annotator" or s.pair is None or i not in extents:
            continue
        j = next((k for k, t in enumerate(item.shapes) if t.side == "benchmark" and t.pair == s.pair and k in extents),
                 None)
        if j is None:
            continue
        (ax, ay), (bx, by) = [(e.min(axis=0) + e.max(axis=0)) / 2 for e in (extents[i], extents[j])]
        links.append(f'<line x1="{_f(bx)}" y1="{_f(by)}" x2="{_f(ax)}" y2="{_f(ay)}" stroke="{LINK_COLOUR}" '
                     'stroke-width="1.5" stroke-dasharray="2 3" vector-effect="non-scaling-stroke"/>')
    labels = []
    font = 13 * unit
    for i, s in enumerate(item.shapes):
        if i not in extents:
            continue
        benchmark = s.side == "benchmark"
        mark = str(s.pair) if s.pair is not None else (MISSED_MARK if benchmark else EXTRA_MARK)
        x0, y0 = extents[i].min(axis=0)
        x0, y0 = min(max(x0, 0.0), w - font), min(max(y0 - 3 * unit, font), h)
        if not benchmark:  # the annotator's number at the bottom-right, so the two never cover each other
            x1, y1 = extents[i].max(axis=0)
            x0, y0 = min(max(x1 - font * 0.6, 0.0), w - font), min(max(y1 + font, font), h - 2 * unit)
        colour = s.colour if benchmark else annotator_colour(s.colour)
        weight = ' font-weight="bold"' if benchmark else ""
        labels.append(f'<text x="{_f(x0)}" y="{_f(y0)}" font-size="{_f(font)}" fill="{colour}"{weight}>'
                      f"{html.escape(mark)}</text>")
    title = _h(item.title or item.data_hash, limit=120)
    return (f'<svg class="drawing" viewBox="0 0 {_f(w)} {_f(h)}" width="{_f(width)}" height="{_f(height)}" '
            f'role="img" aria-label="{title}: benchmark and your shapes" preserveAspectRatio="xMidYMid meet">'
            f'<rect x="0" y="0" width="{_f(w)}" height="{_f(h)}" fill="{IMAGE_BACKGROUND}"/>'
            + "".join(links) + "".join(parts) + "".join(labels) + "</svg>")


# --- HTML ------------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1F2328; background: #FFFFFF; margin: 0 auto; padding: 20px 28px 40px; max-width: 1140px;
       -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1 { font-size: 24px; margin: 0 0 2px; word-break: break-all; }
h2 { font-size: 18px; margin: 26px 0 8px; border-bottom: 1px solid #D0D7DE; padding-bottom: 3px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
p { margin: 4px 0; }
.meta { color: #57606A; font-size: 13px; word-break: break-all; }
.verdict { margin: 14px 0; padding: 10px 14px; border-left: 6px solid #6E7781; background: #FAFAFA; }
.verdict strong { font-size: 18px; }
.verdict.passed { border-color: #1A7F37; } .verdict.close { border-color: #9A6700; }
.verdict.needs { border-color: #CF222E; } .verdict.notyet { border-color: #6E7781; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13.5px; }
th, td { border: 1px solid #D0D7DE; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #F6F8FA; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.ok { color: #1A7F37; font-weight: 700; } td.no { color: #CF222E; font-weight: 700; }
.columns { display: flex; flex-wrap: wrap; gap: 0 36px; }
ol.kinds li { margin: 3px 0; }
.muted { color: #57606A; }
.round { font-size: 16px; font-weight: 600; margin: 4px 0 0; }
ul.rounds { margin: 4px 0 0; padding-left: 20px; font-size: 13.5px; }
.review { display: inline-block; padding: 1px 6px; border: 1px solid #9A6700; border-radius: 3px; color: #7D4E00;
          background: #FFF8C5; font-size: 12.5px; }
figure { margin: 14px 0 26px; break-inside: avoid; page-break-inside: avoid; }
figcaption { margin: 0 0 6px; }
figcaption b { word-break: break-all; }
svg.drawing { display: block; max-width: 100%; height: auto; border: 1px solid #D0D7DE; }
ul.classes { list-style: none; padding: 0; margin: 6px 0; display: flex; flex-wrap: wrap; gap: 4px 18px;
             font-size: 13px; }
.swatch { display: inline-block; width: 11px; height: 11px; margin-right: 5px; vertical-align: -1px;
          border: 1px solid #6E7781; }
.legend { font-size: 13px; }
.legend svg { vertical-align: middle; margin: 0 4px; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
footer { margin-top: 30px; font-size: 12.5px; color: #57606A; }
@media print { body { padding: 0; max-width: none; } h2 { break-after: avoid; } }
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; base-uri 'none'"


_NUM_CLASS = ' class="n"'


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = ()) -> str:
    nums = set(numeric)
    out = ["<table><thead><tr>"]
    out += [f"<th{_NUM_CLASS if i in nums else ''}>{_h(c)}</th>" for i, c in enumerate(head)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            cls = "n" if i in nums else ""
            if cell == "✓":
                cls = "ok"
            elif cell == "✗":
                cls = "no"
            attr = f' class="{cls}"' if cls else ""
            out.append(f"<td{attr}>{_h(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _legend_html() -> str:
    grey = "#57606A"
    solid = (f'<svg width="34" height="10" aria-hidden="true"><line x1="1" y1="5" x2="33" y2="5" stroke="{grey}" '
             'stroke-width="3"/></svg>')
    dashed = (f'<svg width="34" height="10" aria-hidden="true"><line x1="1" y1="5" x2="33" y2="5" stroke="{grey}" '
              'stroke-width="2.5" stroke-dasharray="7 4" stroke-opacity="0.7"/></svg>')
    link = (f'<svg width="34" height="10" aria-hidden="true"><line x1="1" y1="5" x2="33" y2="5" '
            f'stroke="{LINK_COLOUR}" stroke-width="1.5" stroke-dasharray="2 3"/></svg>')
    return ('<p class="legend">How to read a drawing: each shape in its class colour;'
            f" {solid} the benchmark (solid, bold), {dashed} yours (dashed, fainter);"
            " points: + the benchmark's, × yours (a ring: a keypoint marked invisible); masks filled lightly;"
            f" {link} links a matched pair, both shapes carry its number;"
            f" {html.escape(MISSED_MARK)} marks a benchmark object you missed, {html.escape(EXTRA_MARK)} an extra"
            " object of yours. Loose: matched below the low-overlap mark.</p>")


def _class_legend(item: PackItem) -> str:
    per: dict[str, list[Any]] = {}
    for s in item.shapes:
        entry = per.setdefault(s.class_name, [s.colour, 0, 0])
        entry[1 if s.side == "benchmark" else 2] += 1
    lis = "".join(f'<li><span class="swatch" style="background:{colour}"></span>{_h(name, limit=60)} '
                  f'<span class="muted">{b} benchmark / {a} yours</span></li>'
                  for name, (colour, b, a) in per.items())
    return f'<ul class="classes">{lis}</ul>' if lis else ""


def _kinds_html(pack: FeedbackPack) -> str:
    kinds = pack.errors.kinds
    if not kinds:
        return "<p>No misses, extras, loose shapes or class confusions: nothing to fix in the shapes.</p>"
    lis = []
    for k in kinds:
        name, what = _KIND_TEXT[k.key]
        most = ", ".join(f"{_h(label, limit=80)} {n}" for label, n in k.parts[:5])
        more = f" (and {len(k.parts) - 5} more)" if len(k.parts) > 5 else ""
        lis.append(f"<li><strong>{name}: {k.count}</strong> <span class=\"muted\">— {what}</span>"
                   + (f"<br>most: {most}{more}" if most else "") + "</li>")
    return '<ol class="kinds">' + "".join(lis) + "</ol>"


def _compared_text(pack: FeedbackPack) -> str:
    text = f"{pack.items_compared} item(s) compared, {pack.items_with_errors} with something to fix"
    if pack.items_under_review:
        text += f", {pack.items_under_review} more where the gold may be wrong (under review)"
    return text + "."


def _review_text(pack: FeedbackPack) -> str:
    n = pack.items_under_review
    more = f" (the first {len(pack.under_review)} of {n} shown)" if n > len(pack.under_review) else ""
    return (f"Most trainees agree against the benchmark on {n} item(s) where you have something to fix{more}: "
            "the gold may be wrong there, and it is being reviewed. They are left out of the ranking above; "
            "until the review they still count in your scores.")


def _figure_html(item: PackItem, number: str) -> str:
    review = f' <span class="review">{_h(_REVIEW)}</span>' if item.suspect is not None else ""
    why = f'<br><span class="muted">The audit: {_h(item.suspect, limit=400)}</span>' if item.suspect is not None else ""
    out = [f"<figure><figcaption><b>{_h(number)}{_h(item.title or item.data_hash, limit=160)}</b>{review} "
           f'<span class="muted">{_h(_item_facts(item))} · <code>{_h(item.data_hash, limit=80)}</code>'
           f"</span>{why}</figcaption>", render_svg(item), _class_legend(item)]
    rows = _object_rows(item)
    if rows:
        out.append(_table(("#", "Outcome", "Benchmark class", "Your class", "Shape", "Overlap"), rows, numeric=(5,)))
    out.append("</figure>")
    return "".join(out)


def render_html(pack: FeedbackPack) -> str:
    """The pack as ONE self-contained HTML document (see the module doc)."""
    from annotrain_tui.core.evaluation.views import matching_text

    s = pack.score
    status_class = _STATUS_CLASS.get(s.status, "notyet")
    head = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            f"<title>Feedback: {_h(pack.annotator, limit=120)}</title><style>{_CSS}</style></head><body>")
    out = [head, "<header>", f"<h1>Feedback for {_h(pack.annotator)}</h1>"]
    if pack.round is not None:
        out.append(f'<p class="round">{_h(pack.round.heading)}</p>')
    out.append(f'<p class="meta">Programme: {_h(pack.title or "–", limit=200)} · scored with '
               f"{_h(matching_text(pack.settings))}, a match needs overlap ≥ {pack.settings.iou_threshold:g} · "
               f"written {_h(pack.created)}</p></header>")
    result = f"Result: {s.status}" + (f" (round {pack.round.round})" if pack.round is not None else "")
    out.append(f'<section class="verdict {status_class}"><strong>{_h(result)}</strong>'
               + (f"<p>{_h(s.reason)}</p>" if s.reason else "")
               + f'<p class="muted">{_h(_compared_text(pack))}</p>'
               + ('<p class="muted">Your other rounds:</p><ul class="rounds">'
                  + "".join(f"<li>{_h(line)}</li>" for line in pack.round.others) + "</ul>"
                  if pack.round is not None and pack.round.others else "")
               + "</section>")
    out.append("<h2>Your scores against the pass mark</h2>")
    if pack.intervals:
        out.append('<p class="muted">The 95 % interval is the range your true score is likely in, given how many '
                   "objects were scored; when it straddles a mark the result is uncertain.</p>")
    out.append('<div class="columns"><div>')
    out.append(_table(("Measure", "Yours", "95 % interval", "Mark", ""), _score_rows(pack), numeric=(1,)))
    out.append("</div><div>")
    out.append(_table(("Count", ""), _count_rows(pack), numeric=(1,)))
    out.append("</div></div>")
    out.append("<h2>What to work on first</h2>")
    out.append(_kinds_html(pack))
    out.append('<div class="columns">')
    if s.by_class:
        out.append("<div><h3>By class</h3>" + _table(_BREAKDOWN_HEAD, _breakdown_rows(s.by_class),
                                                      numeric=range(1, 10)) + "</div>")
    if s.by_shape:
        out.append("<div><h3>By shape</h3>" + _table(_BREAKDOWN_HEAD, _breakdown_rows(s.by_shape),
                                                      numeric=range(1, 10)) + "</div>")
    out.append("</div>")
    out.append("<h2>Your worst items</h2>")
    if pack.items:
        shown_n = len(pack.items)
        more = pack.items_with_errors - shown_n
        out.append(f"<p>The {shown_n} item(s) with the most misses, extras and loose shapes"
                   + (f" ({more} more item(s) had some)" if more > 0 else "")
                   + ", each on the frame where it went worst.</p>")
    elif pack.under_review:
        out.append("<p>No other item has a miss, an extra or a loose shape.</p>")
    else:
        out.append("<p>No item has a miss, an extra or a loose shape: nothing to draw.</p>")
    if pack.items or pack.under_review:
        out.append(_legend_html())
    for item in pack.items:
        out.append(_figure_html(item, f"{item.rank}. "))
    if pack.under_review:
        out.append("<h3>Where the gold may be wrong (under review)</h3>")
        out.append(f"<p>{_h(_review_text(pack))}</p>")
        for item in pack.under_review:
            out.append(_figure_html(item, ""))
    if s.classifications or s.attributes:
        out.append("<h2>Answers</h2>")
        if s.classifications:
            out.append("<h3>Classifications</h3>" + _table(("Question", "Kind", "Compared", "Accuracy"),
                                                           _question_rows(s.classifications), numeric=(2, 3)))
        if s.attributes:
            out.append("<h3>Object attributes</h3>" + _table(("Attribute", "Kind", "Compared", "Accuracy"),
                                                             _question_rows(s.attributes), numeric=(2, 3)))
    out.append("<footer>Written by annotrain from the benchmark's and your label rows; this file is self-contained "
               "(it loads nothing).</footer></body></html>\n")
    return "".join(out)


# --- Markdown ----------------------------------------------------------------------------------------

def _md_table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = ()) -> list[str]:
    nums = set(numeric)
    lines = ["| " + " | ".join(_md(c) or " " for c in head) + " |",
             "|" + "|".join("---:" if i in nums else "---" for i in range(len(head))) + "|"]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _item_md(item: PackItem, number: str) -> list[str]:
    heading = f"#### {number}{_md(item.title or item.data_hash, limit=160)}" if item.suspect is not None else \
        f"### {number}{_md(item.title or item.data_hash, limit=160)}"
    lines = [heading, ""]
    if item.suspect is not None:
        lines += [f"**{_md(_REVIEW)}** — the audit: {_md(item.suspect, limit=400)}", ""]
    lines += [f"{_md(_item_facts(item))} · data hash {_md(item.data_hash, limit=80)}", ""]
    rows = _object_rows(item)
    if rows:
        lines += _md_table(("#", "Outcome", "Benchmark class", "Your class", "Shape", "Overlap"), rows, numeric=(5,))
    return lines


def render_markdown(pack: FeedbackPack, *, html_name: str | None = None) -> str:
    """The pack as Markdown: the same text and tables as :func:`render_html`; each worst item as
    its counts and objects, its drawing in the HTML file (``html_name``; see the module doc why)."""
    from annotrain_tui.core.evaluation.views import matching_text

    s = pack.score
    result = f"Result: {s.status}" + (f" (round {pack.round.round})" if pack.round is not None else "")
    lines = [f"# Feedback for {_md(pack.annotator)}", ""]
    if pack.round is not None:
        lines += [f"**{_md(pack.round.heading)}**", ""]
    lines += [f"Programme: {_md(pack.title or '–', limit=200)} · scored with {_md(matching_text(pack.settings))}, "
              f"a match needs overlap ≥ {pack.settings.iou_threshold:g} · written {_md(pack.created)}", "",
              f"**{_md(result)}**" + (f" — {_md(s.reason)}" if s.reason else ""), "",
              _md(_compared_text(pack)), ""]
    if pack.round is not None and pack.round.others:
        lines += ["Your other rounds:", ""] + [f"- {_md(line)}" for line in pack.round.others] + [""]
    lines += ["## Your scores against the pass mark", ""]
    lines += _md_table(("Measure", "Yours", "95 % interval", "Mark", ""), _score_rows(pack), numeric=(1,))
    lines += _md_table(("Count", ""), _count_rows(pack), numeric=(1,))
    lines += ["## What to work on first", ""]
    kinds = pack.errors.kinds
    if not kinds:
        lines += ["No misses, extras, loose shapes or class confusions: nothing to fix in the shapes.", ""]
    for n, k in enumerate(kinds, start=1):
        name, what = _KIND_TEXT[k.key]
        most = ", ".join(f"{_md(label, limit=80)} {c}" for label, c in k.parts[:5])
        more = f" (and {len(k.parts) - 5} more)" if len(k.parts) > 5 else ""
        lines.append(f"{n}. **{name}: {k.count}** — {what}" + (f"; most: {most}{more}" if most else ""))
    lines.append("")
    if s.by_class:
        lines += ["### By class", ""] + _md_table(_BREAKDOWN_HEAD, _breakdown_rows(s.by_class), numeric=range(1, 10))
    if s.by_shape:
        lines += ["### By shape", ""] + _md_table(_BREAKDOWN_HEAD, _breakdown_rows(s.by_shape), numeric=range(1, 10))
    lines += ["## Your worst items", ""]
    if pack.items or pack.under_review:
        where = _md(html_name) if html_name else "the HTML pack"
        lines += [f"Each item's drawing (benchmark and your shapes, pairs linked, misses and extras marked) is in "
                  f"{where}, beside this file: Markdown viewers differ on inline SVG, the HTML file shows it "
                  "everywhere.", ""]
    if not pack.items:
        lines += ["No other item has a miss, an extra or a loose shape." if pack.under_review else
                  "No item has a miss, an extra or a loose shape: nothing to draw.", ""]
    for item in pack.items:
        lines += _item_md(item, f"{item.rank}. ")
    if pack.under_review:
        lines += ["### Where the gold may be wrong (under review)", "", _md(_review_text(pack)), ""]
        for item in pack.under_review:
            lines += _item_md(item, "")
    if s.classifications or s.attributes:
        lines += ["## Answers", ""]
        if s.classifications:
            lines += ["### Classifications", ""] + _md_table(("Question", "Kind", "Compared", "Accuracy"),
                                                             _question_rows(s.classifications), numeric=(2, 3))
        if s.attributes:
            lines += ["### Object attributes", ""] + _md_table(("Attribute", "Kind", "Compared", "Accuracy"),
                                                               _question_rows(s.attributes), numeric=(2, 3))
    return "\n".join(lines).rstrip("\n") + "\n"
