"""The item drawings' colours, one source for every front: the TUI's item canvas and the feedback
pack's SVG drawings (no Textual, no numpy).

A shape is drawn in its class's colour: the ontology's ``#RRGGBB`` when the label row carries a
valid one, else a palette colour chosen by the class name (stable across items and runs: crc32,
not Python's salted ``hash``), classes of one drawing kept apart while there are fewer than
``len(PALETTE)`` of them. The benchmark's shapes are drawn in that colour; the annotator's in it
faded 30 % towards the background (:func:`faded`, :data:`ANNOTATOR_FADE`).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["PALETTE", "DIMMED", "MISSED_MARK", "EXTRA_MARK", "ANNOTATOR_FADE", "valid_hex", "palette_colour", "resolve_colours", "faded"]

#: the colour of a shape outside the class filter (drawn for context)
DIMMED = "#5F5F5F"

#: the marks of a benchmark shape nobody matched and of an annotator shape matching nothing
MISSED_MARK = "✗"
EXTRA_MARK = "+"

# Distinct, legible on dark and light backgrounds (Trubetskoy's list without black, white, navy).
PALETTE: tuple[str, ...] = (
    "#E6194B", "#3CB44B", "#FFE119", "#4363D8", "#F58231", "#911EB4", "#42D4F4", "#F032E6",
    "#BFEF45", "#FABED4", "#469990", "#DCBEFF", "#9A6324", "#FFFAC8", "#AAFFC3", "#FFD8B1",
)

#: how far an annotator's shape is faded towards the background (the benchmark's is the class colour)
ANNOTATOR_FADE = 0.3

_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


class Coloured(Protocol):
    """What :func:`resolve_colours` reads of a shape: its class name and its own colour (or None)."""

    @property
    def class_name(self) -> str: ...

    @property
    def color(self) -> str | None: ...


def valid_hex(colour: Any) -> str | None:
    """``colour`` as ``#RRGGBB`` (upper case; ``#abc`` and ``abc123`` taken too), None when it is not one."""
    if not isinstance(colour, str):
        return None
    m = _HEX.fullmatch(colour.strip())
    if m is None:
        return None
    digits = m.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits.upper()


def _slot(class_name: str) -> int:
    return zlib.crc32(str(class_name).encode("utf-8", "surrogatepass")) % len(PALETTE)


def palette_colour(class_name: str) -> str:
    """The palette colour of a class by name: stable across items and runs (crc32, not ``hash``)."""
    return PALETTE[_slot(class_name)]


def resolve_colours(shapes: Sequence[Coloured]) -> list[str]:
    """``"#RRGGBB"`` per shape: its own valid colour, else the palette colour of its class.

    Classes without a colour get :func:`palette_colour`; when two of them on the same drawing land
    on the same palette entry, the later (by sorted name) takes the next free entry, so classes
    stay apart while there are fewer than ``len(PALETTE)`` of them.
    """
    names = sorted({s.class_name for s in shapes if valid_hex(s.color) is None})
    taken: set[int] = set()
    by_class: dict[str, str] = {}
    for name in names:
        i = _slot(name)
        for step in range(len(PALETTE)):
            j = (i + step) % len(PALETTE)
            if j not in taken:
                i = j
                break
        taken.add(i)
        by_class[name] = PALETTE[i]
    return [valid_hex(s.color) or by_class[s.class_name] for s in shapes]


def faded(colour: str, background: str, amount: float = ANNOTATOR_FADE) -> str:
    """``colour`` moved ``amount`` (0..1) of the way towards ``background`` (both ``#RRGGBB``), as
    ``#RRGGBB``: the annotator's shapes on a drawing whose background is ``background``."""
    a, b = valid_hex(colour) or DIMMED, valid_hex(background) or "#FFFFFF"
    # as Textual's Color.blend rounds (the canvas fades with it): towards the destination, truncated
    mixed = [int(int(a[i:i + 2], 16) + (int(b[i:i + 2], 16) - int(a[i:i + 2], 16)) * amount) for i in (1, 3, 5)]
    return "#" + "".join(f"{min(255, max(0, v)):02X}" for v in mixed)
