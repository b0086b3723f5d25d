"""Geometry records of one object annotation, as Encord writes them: normalised 0..1, top-left
origin, y down (a bitmask: pixels). Read by :mod:`.labels`; drawn by the item canvas; no Textual, no numpy.

A rotated box is the unrotated box ``x, y, w, h`` turned ``theta`` degrees *clockwise on screen*
about its centre, in pixel space (``w`` scales by the image width, ``h`` by its height, then the
box turns): the encord SDK's convention, and the one :mod:`.geometry` uses for IoU.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Box", "RotatedBox", "Polygon", "Polyline", "Point", "Skeleton", "Bitmask", "Geometry", "DRAWABLE"]


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
    """An open line through ``points`` ((x, y) normalised), in order."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _floats(self.points))


@dataclass(frozen=True, slots=True)
class Point:
    """A keypoint, normalised."""

    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Skeleton:
    """The keypoints of one skeleton object ((x, y) normalised), in the template's order, each
    ``visible`` or not (the SDK's ``visibility``: an invisible keypoint is placed but hidden in the
    image), with their ``names`` when known (same length, or empty)."""

    points: tuple[tuple[float, float], ...]
    visible: tuple[bool, ...]
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _floats(self.points))
        visible = tuple(bool(v) for v in self.visible)
        if len(visible) != len(self.points):
            raise ValueError(f"a skeleton needs one visibility per keypoint: {len(self.points)} keypoints, "
                             f"{len(visible)} visibilities")
        object.__setattr__(self, "visible", visible)
        names = tuple(str(n) for n in self.names)
        if names and len(names) != len(self.points):
            raise ValueError(f"a skeleton's names are one per keypoint or none: {len(self.points)} keypoints, "
                             f"{len(names)} names")
        object.__setattr__(self, "names", names)


@dataclass(frozen=True, slots=True)
class Bitmask:
    """A mask as Encord writes it (``BitmaskCoordinates.EncodedBitmask`` in
    encord/objects/bitmask.py): its box in *pixels* (``top``, ``left``, ``height``, ``width``; the
    SDK writes 0, 0 and the whole image) and ``rle``, the ``rleString`` of the box's pixels,
    row-major (decoded by ``similarity.decode_rle``). Not normalised: the canvas needs the data
    unit's size in pixels to place it."""

    top: int
    left: int
    height: int
    width: int
    rle: str


Geometry = Box | RotatedBox | Polygon | Polyline | Point | Skeleton | Bitmask
#: what the item canvas draws: every shape above
DRAWABLE = (Box, RotatedBox, Polygon, Polyline, Point, Skeleton, Bitmask)
