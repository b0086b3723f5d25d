"""Deterministic generator of Encord label rows, for tests and benchmarks (test data: not shipped in the package).

Rows have the shape ``LabelRowV2.to_encord_dict()`` writes (SDK 0.1.x): top-level identity keys,
``object_answers``/``classification_answers`` and ``data_units`` whose ``labels`` hold the frame
objects (``{"objects": [...]}`` for images and image-group units, ``{"<frame>": {"objects": [...]}}``
for videos). The tests feed these rows through the real SDK (``LabelRowV2.from_labels_dict``) to
prove the shape is faithful.

Two levels:

* :func:`make_label_row` builds one row from objects you give it (use :func:`make_object` with
  :func:`box`, :func:`rotated_box` or :func:`polygon` for the geometry);
* :func:`make_programme` builds a benchmark project and one training project per annotator, with
  jitter, wrong classes, misses, extras, videos and image groups, all from one seed.

Nothing here imports the SDK or textual; only numpy.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "SynthClass",
    "DEFAULT_CLASSES",
    "Programme",
    "box",
    "rotated_box",
    "polygon",
    "polyline",
    "make_object",
    "make_label_row",
    "make_programme",
    "make_scene",
    "project_name",
    "Scene",
]

_NAMESPACE = uuid.UUID("6f1c2f4e-0000-4000-8000-616e6e6f7472")  # fixed: hashes are reproducible
_ALPHABET = np.array(list("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
_TIMESTAMP = "Thu, 01 May 2025 09:00:00 UTC"


@dataclass(frozen=True)
class SynthClass:
    """One ontology object class."""

    name: str
    feature_hash: str
    shape: str
    color: str = "#D33115"

    @property
    def value(self) -> str:
        return "_".join(self.name.lower().split())


DEFAULT_CLASSES: tuple[SynthClass, ...] = (
    SynthClass("Car", "c4rF3a7u", "bounding_box", "#D33115"),
    SynthClass("Person", "p3rS0nFh", "bounding_box", "#E27300"),
    SynthClass("Bicycle", "b1cYc1eF", "bounding_box", "#16406C"),
    SynthClass("Sign", "s1gNfH01", "rotatable_bounding_box", "#FE9200"),
    SynthClass("Plate", "p1aTefH1", "rotatable_bounding_box", "#FCDC00"),
    SynthClass("Road", "r0aDfH01", "polygon", "#68BC00"),
    SynthClass("Building", "bU1ldFh1", "polygon", "#009CE0"),
    SynthClass("Lane", "l4neFh01", "polyline", "#B0BC00"),
)


# --- geometry payloads -------------------------------------------------------------------------

def box(x: float, y: float, w: float, h: float) -> dict[str, Any]:
    """An axis-aligned box, normalised 0..1 (top-left corner, width, height)."""
    return {"boundingBox": {"h": float(h), "w": float(w), "x": float(x), "y": float(y)}}


def rotated_box(x: float, y: float, w: float, h: float, theta: float) -> dict[str, Any]:
    """A rotatable box: the unrotated box (top-left, size), turned ``theta`` degrees about its centre."""
    return {"rotatableBoundingBox": {"h": float(h), "w": float(w), "x": float(x), "y": float(y),
                                     "theta": float(theta)}}


def polygon(points: Sequence[tuple[float, float]] | np.ndarray) -> dict[str, Any]:
    """A single-contour polygon in both the legacy (``polygon``) and current (``polygons``) forms."""
    pts = [(float(x), float(y)) for x, y in points]
    return {
        "polygon": {str(i): {"x": x, "y": y} for i, (x, y) in enumerate(pts)},
        "polygons": [[[c for p in pts for c in p]]],
    }


def polyline(points: Sequence[tuple[float, float]]) -> dict[str, Any]:
    return {"polyline": {str(i): {"x": float(x), "y": float(y)} for i, (x, y) in enumerate(points)}}


def make_object(
    cls: SynthClass,
    geometry: Mapping[str, Any],
    *,
    object_hash: str,
    created_by: str | None,
    created_at: str = _TIMESTAMP,
    confidence: float = 1.0,
) -> dict[str, Any]:
    """One frame object as the SDK writes it (key order included)."""
    obj: dict[str, Any] = {
        "name": cls.name,
        "color": cls.color,
        "shape": cls.shape,
        "value": cls.value,
        "createdAt": created_at,
        "createdBy": created_by,
        "confidence": confidence,
        "objectHash": object_hash,
        "featureHash": cls.feature_hash,
        "manualAnnotation": True,
    }
    obj.update(geometry)
    return obj


def _unit_hash(data_hash: str, index: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{data_hash}/{index}"))


def make_label_row(
    *,
    data_hash: str,
    data_title: str,
    label_hash: str | None,
    objects: Sequence[Mapping[str, Any]] | Mapping[int, Sequence[Mapping[str, Any]]] = (),
    data_type: str = "image",
    width: int = 1280,
    height: int = 720,
    dataset_hash: str = "00000000-0000-0000-0000-000000000000",
    dataset_title: str = "Training dataset",
    classifications: int = 0,
    n_frames: int | None = None,
) -> dict[str, Any]:
    """One label row in ``LabelRowV2.to_encord_dict()`` form.

    ``objects`` is a list of frame objects (frame 0), or a mapping ``frame -> objects``. For
    ``data_type="video"`` the frames go under one data unit's ``labels`` keyed by frame number; for
    ``"img_group"`` each frame becomes its own data unit (``data_sequence`` = frame as a string,
    hash derived from ``data_hash``; ``n_frames`` units, default one past the last labelled frame);
    for ``"image"`` only frame 0 is allowed.
    ``classifications`` adds that many (empty) root classification answers, which evaluation counts
    as not compared.
    """
    frames: dict[int, list[dict[str, Any]]]
    if isinstance(objects, Mapping):
        frames = {int(f): [dict(o) for o in objs] for f, objs in objects.items()}
    else:
        frames = {0: [dict(o) for o in objects]}
    object_hashes: list[str] = []
    for f in sorted(frames):
        for o in frames[f]:
            if o["objectHash"] not in object_hashes:
                object_hashes.append(o["objectHash"])

    mime = {"image": "image/jpeg", "img_group": "image/jpeg", "video": "video/mp4"}.get(data_type, "image/jpeg")
    units: dict[str, Any] = {}
    if data_type == "image":
        if set(frames) - {0}:
            raise ValueError("an image has only frame 0")
        units[data_hash] = {
            "data_hash": data_hash, "data_title": data_title, "data_link": "", "data_type": mime,
            "data_sequence": 0, "width": width, "height": height,
            "labels": {"objects": frames.get(0, []), "classifications": []},
        }
    elif data_type == "img_group":
        n_units = n_frames if n_frames is not None else max(frames, default=0) + 1
        for idx in range(n_units):
            h = _unit_hash(data_hash, idx)
            units[h] = {
                "data_hash": h, "data_title": f"{data_title}/{idx:03d}.jpg", "data_link": "",
                "data_type": mime, "data_sequence": str(idx), "width": width, "height": height,
                "labels": {"objects": frames.get(idx, []), "classifications": []},
            }
    elif data_type == "video":
        units[data_hash] = {
            "data_hash": data_hash, "data_title": data_title, "data_link": "", "data_type": mime,
            "data_sequence": 0, "width": width, "height": height,
            "labels": {str(f): {"objects": frames[f], "classifications": []} for f in sorted(frames) if frames[f]},
            "data_duration": 10.0, "data_fps": 25.0,
        }
    else:
        raise ValueError(f"unsupported data_type {data_type!r} (image, img_group or video)")

    classification_answers = {
        f"cl{idx:06d}": {"classificationHash": f"cl{idx:06d}", "featureHash": "clsFh001", "classifications": []}
        for idx in range(classifications)
    }
    return {
        "label_hash": label_hash,
        "branch_name": "main",
        "created_at": _TIMESTAMP,
        "last_edited_at": _TIMESTAMP,
        "data_hash": data_hash,
        "dataset_hash": dataset_hash,
        "dataset_title": dataset_title,
        "data_title": data_title,
        "data_type": data_type,
        "annotation_task_status": "COMPLETED",
        "is_shadow_data": False,
        "object_answers": {h: {"classifications": [], "objectHash": h} for h in object_hashes},
        "classification_answers": classification_answers,
        "object_actions": {},
        "label_status": "LABELLED",
        "data_units": units,
        "spaces": {},
    }


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def token(self, n: int = 8) -> str:
        return "".join(_ALPHABET[self.rng.integers(0, len(_ALPHABET), n)])

    def uuid(self) -> str:
        return str(uuid.UUID(bytes=self.rng.bytes(16), version=4))


def _random_geometry(g: _Gen, shape: str) -> dict[str, Any]:
    rng = g.rng
    w, h = rng.uniform(0.05, 0.3, 2)
    x, y = rng.uniform(0.0, 1.0 - w), rng.uniform(0.0, 1.0 - h)
    spec: dict[str, Any] = {"x": x, "y": y, "w": w, "h": h}
    if shape == "rotatable_bounding_box":
        spec["theta"] = float(rng.uniform(0.0, 360.0))
    elif shape in ("polygon", "polyline"):
        n = int(rng.integers(4, 9))
        angles = np.sort(rng.uniform(0.0, 2 * np.pi, n))
        radii = rng.uniform(0.6, 1.0, n)
        cx, cy = x + w / 2, y + h / 2
        spec["points"] = np.column_stack([cx + radii * np.cos(angles) * w / 2, cy + radii * np.sin(angles) * h / 2])
    return spec


def _jittered(g: _Gen, spec: dict[str, Any], amount: float) -> dict[str, Any]:
    if amount <= 0:
        return dict(spec)
    d = g.rng.normal(0.0, amount, 5)
    out = dict(spec)
    out["x"] = spec["x"] + d[0] * spec["w"]
    out["y"] = spec["y"] + d[1] * spec["h"]
    out["w"] = spec["w"] * float(np.exp(d[2]))
    out["h"] = spec["h"] * float(np.exp(d[3]))
    if "theta" in spec:
        out["theta"] = (spec["theta"] + 40.0 * d[4]) % 360.0
    if "points" in spec:
        pts = spec["points"]
        out["points"] = pts + g.rng.normal(0.0, amount, pts.shape) * np.array([spec["w"], spec["h"]])
    return out


def _moved(spec: dict[str, Any], dx: float, dy: float) -> dict[str, Any]:
    out = dict(spec)
    out["x"] = spec["x"] + dx
    out["y"] = spec["y"] + dy
    if "points" in spec:
        out["points"] = spec["points"] + np.array([dx, dy])
    return out


def _geometry(shape: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    if shape == "bounding_box":
        return box(spec["x"], spec["y"], spec["w"], spec["h"])
    if shape == "rotatable_bounding_box":
        return rotated_box(spec["x"], spec["y"], spec["w"], spec["h"], spec["theta"])
    if shape == "polygon":
        return polygon(spec["points"])
    if shape == "polyline":
        return polyline(spec["points"])
    raise ValueError(f"synth cannot draw shape {shape!r}")


# --- a whole programme -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Item:
    kind: str
    data_hash: str
    title: str
    n_frames: int
    objects: tuple[tuple[SynthClass, dict[int, dict[str, Any]]], ...]


@dataclass
class Scene:
    """The benchmark's ground truth, from which benchmark and training rows are drawn."""

    items: list[_Item]
    shapes: tuple[str, ...]
    classes: tuple[SynthClass, ...]
    seed: int
    reviewer: str = "reviewer@example.com"

    def benchmark_rows(self) -> list[dict[str, Any]]:
        g = _Gen(self.seed + 7_919)
        rows = []
        for it in self.items:
            frames_map: dict[int, list[dict[str, Any]]] = {}
            for cls, per_frame in it.objects:
                oh = g.token()
                for f, spec in per_frame.items():
                    frames_map.setdefault(f, []).append(
                        make_object(cls, _geometry(cls.shape, spec), object_hash=oh, created_by=self.reviewer))
            rows.append(make_label_row(data_hash=it.data_hash, data_title=it.title, label_hash=g.uuid(),
                                       objects=frames_map, data_type=it.kind, n_frames=it.n_frames))
        return rows

    def training_rows(
        self,
        email: str,
        *,
        seed: int,
        skill: float = 1.0,
        jitter: float = 0.04,
        p_miss: float = 0.08,
        p_wrong_class: float = 0.08,
        p_extra: float = 0.08,
        p_no_created_by: float = 0.0,
    ) -> list[dict[str, Any]]:
        """One annotator's training project: the scene redrawn with mistakes (scaled by ``skill``)."""
        g = _Gen(seed)
        rng = g.rng
        by_shape = {s: [c for c in self.classes if c.shape == s] for s in self.shapes}
        rows = []
        for it in self.items:
            mine: list[tuple[SynthClass, dict[int, dict[str, Any]]]] = []
            for cls, per_frame in it.objects:
                if rng.random() < p_miss * skill:
                    continue
                if rng.random() < p_wrong_class * skill:
                    others = [c for c in by_shape[cls.shape] if c != cls]
                    if others:
                        cls = others[int(rng.integers(0, len(others)))]
                mine.append((cls, {f: _jittered(g, s, jitter * skill) for f, s in per_frame.items()}))
            for _ in range(int(rng.poisson(p_extra * skill * max(len(it.objects), 1)))):
                shape = self.shapes[int(rng.integers(0, len(self.shapes)))]
                cls = by_shape[shape][int(rng.integers(0, len(by_shape[shape])))]
                spec0 = _random_geometry(g, shape)
                mine.append((cls, {f: spec0 for f in range(it.n_frames)}))
            frames_map: dict[int, list[dict[str, Any]]] = {}
            for j in rng.permutation(len(mine)):
                cls, per_frame = mine[int(j)]
                oh = g.token()
                for f, spec in per_frame.items():
                    who = None if (p_no_created_by and rng.random() < p_no_created_by) else email
                    frames_map.setdefault(f, []).append(
                        make_object(cls, _geometry(cls.shape, spec), object_hash=oh, created_by=who))
            rows.append(make_label_row(data_hash=it.data_hash, data_title=it.title, label_hash=g.uuid(),
                                       objects=frames_map, data_type=it.kind, n_frames=it.n_frames))
        return rows


def make_scene(
    *,
    seed: int = 0,
    n_items: int = 12,
    objects_per_item: tuple[int, int] = (3, 8),
    shapes: Sequence[str] = ("bounding_box",),
    classes: Sequence[SynthClass] = DEFAULT_CLASSES,
    video_every: int = 0,
    group_every: int = 0,
    frames: int = 3,
    late_start: float = 0.0,
    reviewer: str = "reviewer@example.com",
) -> Scene:
    """The ground truth for ``n_items`` data units (see :func:`make_programme` for the options)."""
    g = _Gen(seed)
    rng = g.rng
    shapes = tuple(shapes)
    by_shape = {s: [c for c in classes if c.shape == s] for s in shapes}
    for s, cs in by_shape.items():
        if not cs:
            raise ValueError(f"no class in the ontology has shape {s!r}")
    items = []
    for i in range(n_items):
        kind = "image"
        if video_every and i % video_every == video_every - 1:
            kind = "video"
        elif group_every and i % group_every == group_every - 1:
            kind = "img_group"
        n_frames = frames if kind != "image" else 1
        title = f"item_{i:05d}" + {"video": ".mp4", "img_group": "", "image": ".jpg"}[kind]
        data_hash = g.uuid()
        objs = []
        for _ in range(int(rng.integers(objects_per_item[0], objects_per_item[1] + 1))):
            shape = shapes[int(rng.integers(0, len(shapes)))]
            cls = by_shape[shape][int(rng.integers(0, len(by_shape[shape])))]
            spec0 = _random_geometry(g, shape)
            first = 1 if (n_frames > 1 and late_start and rng.random() < late_start) else 0
            vel = rng.normal(0.0, 0.01, 2)
            objs.append((cls, {f: _moved(spec0, vel[0] * f, vel[1] * f) for f in range(first, n_frames)}))
        items.append(_Item(kind, data_hash, title, n_frames, tuple(objs)))
    return Scene(items=items, shapes=shapes, classes=tuple(classes), seed=seed, reviewer=reviewer)


def project_name(email: str) -> str:
    """The training project's title for an annotator, as the seed doc suggests ("Annotator Training - Alex")."""
    return f"Annotator Training - {email.split('@')[0].title()}"


def make_programme(
    *,
    seed: int = 0,
    n_items: int = 12,
    annotators: Sequence[str] = ("alice@example.com", "bob@example.com", "carol@example.com"),
    objects_per_item: tuple[int, int] = (3, 8),
    shapes: Sequence[str] = ("bounding_box",),
    classes: Sequence[SynthClass] = DEFAULT_CLASSES,
    video_every: int = 0,
    group_every: int = 0,
    frames: int = 3,
    jitter: float = 0.04,
    p_miss: float = 0.08,
    p_wrong_class: float = 0.08,
    p_extra: float = 0.08,
    skill: Sequence[float] | None = None,
    p_no_created_by: float = 0.0,
    late_start: float = 0.0,
    reviewer: str = "reviewer@example.com",
) -> Programme:
    """A benchmark project plus one training project per annotator (deterministic for a seed).

    * ``n_items`` data units; every ``video_every``-th is a video and every ``group_every``-th an
      image group with ``frames`` frames (0 disables); the rest are images.
    * Each item holds ``objects_per_item`` (inclusive range) benchmark objects of ``shapes``.
    * Annotator ``i`` copies them with ``jitter`` (relative to object size), drops each with
      ``p_miss``, picks a wrong class (same shape) with ``p_wrong_class`` and adds about
      ``p_extra`` × objects extra objects; ``skill[i]`` multiplies all four (default: cycles
      0.3, 1.0, 2.5 so that some annotators pass and some need feedback).
    * ``p_no_created_by`` drops an annotator object's ``createdBy``; ``late_start`` is the chance a
      video/image-group object first appears on frame 1 rather than 0.
    """
    scene = make_scene(seed=seed, n_items=n_items, objects_per_item=objects_per_item, shapes=shapes,
                       classes=classes, video_every=video_every, group_every=group_every, frames=frames,
                       late_start=late_start, reviewer=reviewer)
    skills = list(skill) if skill is not None else [(0.3, 1.0, 2.5)[i % 3] for i in range(len(annotators))]
    if len(skills) != len(annotators):
        raise ValueError("skill needs one factor per annotator")
    training: dict[str, list[dict[str, Any]]] = {}
    names: dict[str, str] = {}
    for i, (email, k) in enumerate(zip(annotators, skills)):
        name = project_name(email)
        names[name] = email
        training[name] = scene.training_rows(email, seed=seed * 1_000 + i + 1, skill=k, jitter=jitter,
                                             p_miss=p_miss, p_wrong_class=p_wrong_class, p_extra=p_extra,
                                             p_no_created_by=p_no_created_by)
    return Programme(benchmark=scene.benchmark_rows(), training=training, annotators=names)


@dataclass
class Programme:
    """A benchmark project and one training project per annotator, as label-row lists."""

    benchmark: list[dict[str, Any]]
    training: dict[str, list[dict[str, Any]]]  # project name -> rows
    annotators: dict[str, str] = field(default_factory=dict)  # project name -> email

    def training_sets(self) -> Iterable[tuple[str, list[dict[str, Any]]]]:
        return iter(self.training.items())
