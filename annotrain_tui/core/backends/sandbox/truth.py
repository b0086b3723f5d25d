"""The truth of a sandbox item: what is really in the picture, for a rehearsal on the sandbox.

A sandbox item has no pixels, so a programme made from scratch (files registered, a dataset, a
benchmark project) has nothing for an expert or a trainee to look at. Its truth is a synthetic
scene drawn from the item's data hash alone (and the ontology's object classes, and the image's
size): the same item always holds the same objects, whoever asks and in whatever order. Every
shape the ontology has is in every scene (boxes, rotated boxes, polygons, polylines, points,
skeletons, bitmasks), each object in a cell of its own (a 4 × 3 grid; a bitmask spans the lower
part of the image), so no two objects of the scene overlap but a mask.

Each object is an axis-aligned box (where it is) and the fixed detail of its shape (a polygon's
radii, a polyline's bends, a rotated box's angle): :meth:`TruthObject.coordinates` draws it in
Encord's form (what :func:`annotrain_tui.core.evaluation.labels.geometry_of` and the evaluation's
parser read); a trainee's copy (:func:`draw_like`) moves the box by their skill and draws it the same
way. The demo workspace's truth is its own gold (nothing here is used for it).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from annotrain_tui.core.backends.sandbox.demo import IMAGE_SIZE, encode_mask
from annotrain_tui.core.backends.sandbox.labels import object_entry

#: the shapes a truth scene draws (every shape the evaluation compares), in the order a scene holds them
SHAPES = ("bounding_box", "rotatable_bounding_box", "polygon", "polyline", "point", "skeleton", "bitmask")
#: shapes with an area: a planted error prefers them (the clearest to see, in the audit and the item view)
AREA_SHAPES = ("bounding_box", "rotatable_bounding_box", "polygon")
#: a skeleton class's keypoints (the sandbox's ontology holds no skeleton template): name and place
#: in the object's box
SKELETON_TEMPLATE = (("head", 0.5, 0.08), ("left hand", 0.1, 0.45), ("right hand", 0.9, 0.45),
                     ("left foot", 0.3, 0.95), ("right foot", 0.7, 0.95))
#: the grid the scene's objects are placed in, one per cell (columns, rows)
GRID = (4, 3)
#: at most this many objects besides one of every shape
MAX_EXTRA = 3


def _clamp(v: float, low: float = 0.0, high: float = 1.0) -> float:
    return min(high, max(low, v))


def image_size(width: Any, height: Any) -> tuple[int, int]:
    """The image's size in pixels as the sandbox stores it, or the demo images' size when unknown."""
    ok = all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 100_000 for v in (width, height))
    return (int(width), int(height)) if ok else IMAGE_SIZE


def keypoint_hash(cls: dict[str, Any], index: int) -> str:
    """The feature hash of a skeleton class's keypoint ``index`` (the same for the gold and every trainee)."""
    return f"{cls['featureNodeHash']}.kp{index}"


@dataclass(frozen=True)
class TruthObject:
    """One object of a scene: its class (an ontology object: ``name``, ``shape``, ``featureNodeHash``),
    its box ``x, y, w, h`` (normalised) and the detail of its shape."""

    object_hash: str
    cls: dict[str, Any]
    x: float
    y: float
    w: float
    h: float
    theta: float = 0.0  # rotated boxes: degrees
    form: tuple[float, ...] = ()  # polygons: (angle jitter, radius) per vertex; polylines: a bend per vertex

    @property
    def shape(self) -> str:
        return str(self.cls["shape"])

    @property
    def name(self) -> str:
        return str(self.cls["name"])

    def coordinates(self, size: tuple[int, int] = IMAGE_SIZE) -> dict[str, Any]:
        """The object's coordinates in Encord's form (the value under its shape's key)."""
        shape, x, y, w, h = self.shape, self.x, self.y, self.w, self.h
        if shape == "bounding_box":
            return {"x": x, "y": y, "w": w, "h": h}
        if shape == "rotatable_bounding_box":
            return {"x": x, "y": y, "w": w, "h": h, "theta": self.theta}
        if shape == "polygon":
            n = len(self.form) // 2
            cx, cy = x + w / 2, y + h / 2
            out = {}
            for k in range(n):
                a = 2 * math.pi * k / n + self.form[2 * k]
                r = self.form[2 * k + 1]
                out[str(k)] = {"x": _clamp(cx + r * w / 2 * math.cos(a)), "y": _clamp(cy + r * h / 2 * math.sin(a))}
            return out
        if shape == "polyline":
            n = len(self.form)
            return {str(k): {"x": _clamp(x + w * k / (n - 1)),
                             "y": _clamp(y + h * (1 - k / (n - 1)) + 0.15 * h * self.form[k])} for k in range(n)}
        if shape == "point":
            return {"0": {"x": _clamp(x + w / 2), "y": _clamp(y + h / 2)}}
        if shape == "skeleton":
            return {str(k): {"x": _clamp(x + fx * w), "y": _clamp(y + fy * h), "name": name,
                             "featureHash": keypoint_hash(self.cls, k)}
                    for k, (name, fx, fy) in enumerate(SKELETON_TEMPLATE)}
        if shape == "bitmask":
            return _ellipse(x, y, w, h, size)
        raise ValueError(f"the truth draws no {shape!r}")

    def entry(self, *, created_by: str, when: datetime | None = None, size: tuple[int, int] = IMAGE_SIZE,
              object_hash: str | None = None) -> dict[str, Any]:
        """The object as an Encord object entry on frame 0 (what the sandbox stores)."""
        return object_entry(object_hash=object_hash or self.object_hash, ontology_object=self.cls,
                            coordinates=self.coordinates(size), frame=0, created_by=created_by, created_at=when)


def _ellipse(x: float, y: float, w: float, h: float, size: tuple[int, int]) -> dict[str, Any]:
    """A whole-image mask (Encord's ``bitmask`` form) of the pixels inside the ellipse in the box."""
    import numpy as np

    width, height = size
    cx, cy, rx, ry = x + w / 2, y + h / 2, max(w / 2, 1e-6), max(h / 2, 1e-6)
    ys = (np.arange(height) + 0.5) / height
    xs = (np.arange(width) + 0.5) / width
    return encode_mask(((xs[None, :] - cx) / rx) ** 2 + ((ys[:, None] - cy) / ry) ** 2 <= 1.0)


def _rng(*parts: str) -> random.Random:
    digest = hashlib.sha256("\0".join(("annotrain-truth", *parts)).encode("utf-8", "backslashreplace")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def drawable(classes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ontology's object classes a scene can hold (a shape the truth draws, a feature hash)."""
    return [c for c in classes if isinstance(c, dict) and c.get("shape") in SHAPES
            and isinstance(c.get("featureNodeHash"), str) and isinstance(c.get("name"), str)]


def scene(data_hash: str, classes: list[dict[str, Any]]) -> list[TruthObject]:
    """The truth of the item ``data_hash``: one object of every shape the ontology has (of one of its
    classes of that shape), then up to :data:`MAX_EXTRA` more of the classes that are not masks or
    skeletons. Deterministic: the same item and ontology give the same objects (object hashes too)."""
    classes = drawable(classes)
    if not classes:
        return []
    rng = _rng(data_hash)
    by_shape: dict[str, list[dict[str, Any]]] = {}
    for c in classes:
        by_shape.setdefault(c["shape"], []).append(c)
    chosen = [rng.choice(by_shape[s]) for s in SHAPES if s in by_shape]
    extra_pool = [c for c in classes if c["shape"] not in ("bitmask", "skeleton")]
    if extra_pool:
        chosen += [rng.choice(extra_pool) for _ in range(rng.randint(0, MAX_EXTRA))]
    cols, rows = GRID
    cells = list(range(cols * rows))
    rng.shuffle(cells)
    out = []
    for n, cls in enumerate(chosen):
        object_hash = hashlib.sha256(f"{data_hash}\0{n}".encode("utf-8", "backslashreplace")).hexdigest()[:8]
        shape = cls["shape"]
        if shape == "bitmask":  # a surface across the lower part of the image
            w, h = rng.uniform(0.3, 0.5), rng.uniform(0.2, 0.3)
            out.append(TruthObject(object_hash, cls, rng.uniform(0.1, 0.9 - w), rng.uniform(0.6, 0.98 - h), w, h))
            continue
        cell = cells.pop() if cells else rng.randrange(cols * rows)
        cw, ch = 1 / cols, 1 / rows
        if shape == "point":
            w = h = 0.01
        else:
            w, h = cw * rng.uniform(0.45, 0.85), ch * rng.uniform(0.45, 0.85)
        x = (cell % cols) * cw + rng.uniform(0.05 * cw, 0.95 * cw - w)
        y = (cell // cols) * ch + rng.uniform(0.05 * ch, 0.95 * ch - h)
        theta = 0.0
        form: tuple[float, ...] = ()
        if shape == "rotatable_bounding_box":
            theta = rng.uniform(-30, 30)
        elif shape == "polygon":
            form = tuple(v for _ in range(rng.randint(4, 7)) for v in (rng.uniform(-0.2, 0.2), rng.uniform(0.75, 1.0)))
        elif shape == "polyline":
            form = tuple(rng.uniform(-1, 1) for _ in range(rng.randint(3, 6)))
        out.append(TruthObject(object_hash, cls, x, y, w, h, theta, form))
    return out


def entries(objects: list[TruthObject], *, created_by: str, when: datetime | None = None,
            size: tuple[int, int] = IMAGE_SIZE) -> list[dict[str, Any]]:
    return [o.entry(created_by=created_by, when=when, size=size) for o in objects]


# -- errors, as a careless expert makes them ----------------------------------------------------------

def misplaced(obj: TruthObject) -> TruthObject:
    """The object moved well off its place: beside where it is (sideways by more than its width), so
    it no longer overlaps itself."""
    step = max(obj.w, 0.1) + 0.05
    x = obj.x + step if obj.x + obj.w + step <= 1 else max(0.0, obj.x - step)
    if abs(x - obj.x) < obj.w:  # no room sideways (a wide mask): up or down instead
        step = max(obj.h, 0.1) + 0.05
        return replace(obj, y=obj.y - step if obj.y - step >= 0 else min(1 - obj.h, obj.y + step))
    return replace(obj, x=x)


def other_classes(obj: TruthObject, classes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ontology's other classes of the object's shape (what a class error can give it)."""
    return [c for c in drawable(classes) if c["shape"] == obj.shape and c["featureNodeHash"] != obj.cls["featureNodeHash"]]


# -- a trainee's copy -----------------------------------------------------------------------------

def draw_like(rng: random.Random, truth: list[TruthObject], classes: list[dict[str, Any]], *, skill: float,
              email: str, when: datetime | None = None, size: tuple[int, int] = IMAGE_SIZE) -> list[dict[str, Any]]:
    """What an annotator of ``skill`` (0..1) draws on an item whose truth is ``truth``: some objects
    missed, some given another class of the same shape, each moved (areas by a fraction of their size,
    lines and keypoints by a little of the image), sometimes an object that is not there. ``classes``
    are the training project's (an object whose class it lacks is not drawn)."""
    by_hash = {c["featureNodeHash"]: c for c in drawable(classes)}
    out = []
    for obj in truth:
        if rng.random() > 0.55 + 0.45 * skill:  # missed
            continue
        cls = by_hash.get(obj.cls["featureNodeHash"])
        if cls is None:
            continue
        if rng.random() > 0.7 + 0.3 * skill:  # another class of the same shape
            same = [c for c in by_hash.values() if c["shape"] == cls["shape"] and c is not cls]
            cls = rng.choice(same) if same else cls
        out.append(_moved(rng, replace(obj, cls=cls), skill).entry(
            created_by=email, when=when, size=size, object_hash=f"{rng.getrandbits(32):08x}"))
    extra = [c for c in by_hash.values() if c["shape"] in AREA_SHAPES or c["shape"] == "point"]
    if extra and rng.random() > 0.6 + 0.4 * skill:  # an object that is not in the picture
        cls = rng.choice(extra)
        w, h = (0.01, 0.01) if cls["shape"] == "point" else (rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.25))
        ghost = TruthObject("", cls, rng.uniform(0, 1 - w), rng.uniform(0, 1 - h), w, h,
                            rng.uniform(-30, 30) if cls["shape"] == "rotatable_bounding_box" else 0.0,
                            tuple(v for _ in range(5) for v in (0.0, 1.0)) if cls["shape"] == "polygon" else ())
        out.append(ghost.entry(created_by=email, when=when, size=size, object_hash=f"{rng.getrandbits(32):08x}"))
    return out


def _moved(rng: random.Random, obj: TruthObject, skill: float) -> TruthObject:
    if obj.shape in ("polyline", "point", "skeleton"):  # placed by a line or a keypoint: moved as a whole
        amount = 0.002 + 0.03 * (1 - skill)
        return replace(obj, x=_clamp(obj.x + rng.gauss(0, amount), 0, 1 - obj.w),
                       y=_clamp(obj.y + rng.gauss(0, amount), 0, 1 - obj.h))
    amount = 0.02 + 0.25 * (1 - skill)
    return replace(obj, x=_clamp(obj.x + rng.gauss(0, amount) * obj.w), y=_clamp(obj.y + rng.gauss(0, amount) * obj.h),
                   w=max(0.005, obj.w * (1 + rng.gauss(0, amount))), h=max(0.005, obj.h * (1 + rng.gauss(0, amount))),
                   theta=obj.theta + rng.gauss(0, 40 * amount) if obj.shape == "rotatable_bounding_box" else obj.theta)
