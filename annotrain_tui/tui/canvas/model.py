"""The canvas's model: shapes to draw, their colours, pairs and counts (no Textual, no drawing).

:class:`CanvasShape` is one shape (side, class name, colour, geometry, pair id, label). Geometry
records are core's (:mod:`annotrain_tui.core.evaluation.shapes`). Class names and labels are
untrusted: :func:`clean` shows them by the one policy, ``core.text.shown``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from annotrain_tui.core.evaluation.shapes import (
    DRAWABLE,
    Bitmask,
    Box,
    Geometry,
    Point,
    Polygon,
    Polyline,
    RotatedBox,
    Skeleton,
)
from annotrain_tui.core.palette import (  # one source for the canvas and the feedback pack's drawings
    DIMMED,
    EXTRA_MARK,
    MISSED_MARK,
    PALETTE,
    palette_colour,
    resolve_colours,
)
from annotrain_tui.core.text import shown as _policy

__all__ = ["BENCHMARK", "ANNOTATOR", "SIDES", "LINK", "NONE", "MISSED_MARK", "EXTRA_MARK", "PALETTE", "DIMMED", "Box",
           "RotatedBox", "Polygon", "Polyline", "Point", "Skeleton", "Bitmask", "Geometry", "CanvasShape", "ClassCount", "CanvasSummary", "clean",
           "palette_colour", "resolve_colours", "summarise", "pairs", "canvas_shapes"]

BENCHMARK = "benchmark"
ANNOTATOR = "annotator"
SIDES = (BENCHMARK, ANNOTATOR)
LINK = -2  # Raster.owner value of a cell whose last dot came from a pair link
NONE = -1  # Raster.owner value of a cell without dots

_SIDE_BIT = {BENCHMARK: 1, ANNOTATOR: 2}
_LINK_BIT = 4

DASH_ON, DASH_PERIOD = 3.0, 5.0  # annotator outlines: 3 dots on, 2 off
LINK_PERIOD = 3.0  # pair links: one dot in three
_EPS = 1e-6
_MAX_LABEL = 24  # cells of a shape's own label text

# braille dot (row 0..3, column 0..1) → bit of U+2800 + bits


# --- untrusted text ---------------------------------------------------------------------------------

def clean(text: Any) -> str:
    """One printable line, by the one untrusted-text policy (:func:`annotrain_tui.core.text.shown`):
    control (C0, DEL, C1), bidi and format characters and lone surrogates escaped visibly."""
    return _policy(text)



# --- shapes ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CanvasShape:
    """One shape to draw.

    ``side``: ``"benchmark"`` or ``"annotator"``; ``class_name``: the ontology class (untrusted);
    ``geometry``: one of ``core.evaluation.shapes.DRAWABLE`` (box, rotated box, polygon, polyline,
    point, skeleton, bitmask); ``color``: ``"#RRGGBB"``
    from the ontology, or None (or anything invalid) for a palette colour by class name;
    ``pair_id``: shared by a matched benchmark/annotator pair; ``label``: short text drawn after the
    shape's marker (e.g. an IoU), untrusted.
    """

    side: str
    class_name: str
    geometry: Geometry
    color: str | None = None
    pair_id: Hashable | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise ValueError(f"side must be 'benchmark' or 'annotator', got {clean(repr(self.side))}")
        if not isinstance(self.geometry, DRAWABLE):
            names = ", ".join(t.__name__ for t in DRAWABLE)
            raise TypeError(f"geometry must be one of {names}, got {type(self.geometry).__name__}")




def canvas_shapes(shapes: Iterable[Any]) -> list[CanvasShape]:
    """Canvas shapes from the item view's records (``core.evaluation.views.ItemShape``: side,
    class_name, color, geometry, pair, label, dimmed); the pair number is the pair id, so the canvas
    draws the number the item's table shows. A dimmed shape (outside a class filter) is drawn in
    :data:`DIMMED` grey instead of its class's colour."""
    return [CanvasShape(s.side, s.class_name, s.geometry, DIMMED if getattr(s, "dimmed", False) else s.color,
                        s.pair, s.label) for s in shapes]


# --- pairs and counts ------------------------------------------------------------------------------

def pairs(shapes: Sequence[CanvasShape]) -> tuple[dict[Hashable, int], list[bool]]:
    """(pair id → number 1.., for matched pairs only; matched flag per shape)."""
    sides: dict[Hashable, set[str]] = {}
    order: list[Hashable] = []
    for s in shapes:
        if s.pair_id is None:
            continue
        if s.pair_id not in sides:
            sides[s.pair_id] = set()
            order.append(s.pair_id)
        sides[s.pair_id].add(s.side)
    numbers: dict[Hashable, int] = {}
    for pid in order:
        if len(sides[pid]) == 2:
            numbers[pid] = len(numbers) + 1
    return numbers, [s.pair_id is not None and s.pair_id in numbers for s in shapes]


@dataclass(frozen=True)
class ClassCount:
    name: str  # cleaned for display
    color: str
    benchmark: int
    annotator: int


@dataclass(frozen=True)
class CanvasSummary:
    benchmark: int
    annotator: int
    pairs: int
    missed: int  # benchmark shapes without an annotator partner
    extra: int  # annotator shapes without a benchmark partner
    classes: tuple[ClassCount, ...]  # in order of first appearance


def summarise(shapes: Sequence[CanvasShape]) -> CanvasSummary:
    colours = resolve_colours(shapes)
    numbers, matched = pairs(shapes)
    per: dict[str, list] = {}
    for s, colour in zip(shapes, colours):
        entry = per.setdefault(s.class_name, [colour, 0, 0])
        entry[1 if s.side == BENCHMARK else 2] += 1
    bench = sum(1 for s in shapes if s.side == BENCHMARK)
    return CanvasSummary(
        benchmark=bench,
        annotator=len(shapes) - bench,
        pairs=len(numbers),
        missed=sum(1 for s, m in zip(shapes, matched) if s.side == BENCHMARK and not m),
        extra=sum(1 for s, m in zip(shapes, matched) if s.side == ANNOTATOR and not m),
        classes=tuple(ClassCount(clean(name), c, b, a) for name, (c, b, a) in per.items()),
    )


