"""Geometry records of one object annotation, as Encord writes them: normalised 0..1, top-left
origin, y down. Read by :mod:`.labels`; drawn by the item canvas; no Textual, no numpy.

A rotated box is the unrotated box ``x, y, w, h`` turned ``theta`` degrees *clockwise on screen*
about its centre, in pixel space (``w`` scales by the image width, ``h`` by its height, then the
box turns): the encord SDK's convention, and the one :mod:`.geometry` uses for IoU.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Box", "RotatedBox", "Polygon", "Polyline", "Point", "Geometry", "DRAWABLE"]


def _floats(points: Iterable[Sequence[float]]) -> tuple[tuple[float, float], ...]:
    out = []
    for p in points:
        x, y = p
        out.append((float(x), float(y)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned box, normalised: top-left ``x``, ``y``, width ``w``, height ``h``."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class RotatedBox:
    """Encord's rotatable box: the box ``x, y, w, h`` turned ``theta`` degrees clockwise on screen
    about its centre, in pixel space."""

    x: float
    y: float
    w: float
    h: float
    theta: float = 0.0


@dataclass(frozen=True, slots=True)
class Polygon:
    """A closed outline through ``points`` ((x, y) normalised); ``rings`` are further closed
    outlines drawn the same way (holes, other parts of a multi-polygon)."""

    points: tuple[tuple[float, float], ...]
    rings: tuple[tuple[tuple[float, float], ...], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _floats(self.points))
        object.__setattr__(self, "rings", tuple(_floats(r) for r in self.rings))


@dataclass(frozen=True, slots=True)
class Polyline:
    """An open line through ``points`` (not compared yet; read so it can be)."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _floats(self.points))


@dataclass(frozen=True, slots=True)
class Point:
    """A keypoint (not compared yet; read so it can be)."""

    x: float
    y: float


Geometry = Box | RotatedBox | Polygon | Polyline | Point
#: what the item canvas draws today
DRAWABLE = (Box, RotatedBox, Polygon)
