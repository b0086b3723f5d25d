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

    def write_files(self, folder: Any) -> tuple[Any, list[str]]:
        """The programme as label-row exports in ``folder``: ``bm.json`` and ``tr0.json``, ``tr1.json``,
        … in training order; returns (the benchmark's path, the training paths as strings)."""
        import json
        from pathlib import Path

        folder = Path(folder)
        bm = folder / "bm.json"
        bm.write_text(json.dumps(self.benchmark))
        paths = []
        for n, rows in enumerate(self.training.values()):
            path = folder / f"tr{n}.json"
            path.write_text(json.dumps(rows))
            paths.append(str(path))
        return bm, paths


# --- every shape and answer (issue 15): a fast dict-level generator ------------------------------
#
# Added for issue 15; nothing above changes (the functions above keep their random streams). The
# ontology is plain data here (:data:`MIXED_CLASSES`, :data:`MIXED_CLASSIFICATIONS`,
# :data:`MIXED_SKELETON`) so that ``tests/sdk_programme.py`` builds the same ontology in the real SDK
# and writes the same scenes through ``LabelRowV2``; :func:`make_mixed_programme` writes them as
# dicts, in the form ``LabelRowV2.to_encord_dict()`` has (SDK 0.1.211), without the SDK:
#
# * point ``{"point": {"0": {"x", "y"}}}`` (``PointCoordinate.to_dict``), polyline ``{"polyline":
#   {"0": {"x", "y"}, …}}`` (``PolylineCoordinates.to_dict``), polygon ``"polygon"`` (the first
#   contour) plus ``"polygons"`` (polygons → contours → flat x, y list; ``PolygonCoordinates.to_dict``);
# * skeleton ``{"skeleton": {"0": {"x", "y", "name", "featureHash", "visibility"?}}}``
#   (``SkeletonCoordinates.to_dict``: one entry per keypoint given, ``visibility`` only when set);
# * bitmask ``{"bitmask": {"top": 0, "left": 0, "height", "width", "rleString"}}`` over the whole
#   image (``BitmaskCoordinates._from_array``): row-major run lengths starting with a run of zeros,
#   written in Encord's string form (``common/bitmask_operations``: ``_mask_to_rle``,
#   ``_rle_to_string``);
# * static object attributes in ``object_answers[objectHash]["classifications"]`` and classification
#   instances in ``classification_answers[hash]`` with ``range`` (inclusive ``[first, last]`` frame
#   pairs; ``[]`` for a global classification) and every frame's ``labels["classifications"]`` empty,
#   as the SDK writes them (``ontology_labels_impl._to_encord_label``: "classifications carry their
#   own ranges"); answers ``{"name", "value", "answers": [{"name", "value", "featureHash"}] | text,
#   "featureHash", "manualAnnotation"}`` (``encord/objects/answers.py``).

ALL_SHAPES: tuple[str, ...] = ("bounding_box", "rotatable_bounding_box", "polygon", "polyline", "point",
                               "skeleton", "bitmask")


@dataclass(frozen=True)
class SynthOption:
    name: str
    feature_hash: str
    nested: tuple[SynthQuestion, ...] = ()


@dataclass(frozen=True)
class SynthQuestion:
    """An attribute: ``kind`` "radio", "checklist" or "text" (options for the first two)."""

    name: str
    feature_hash: str
    kind: str
    options: tuple[SynthOption, ...] = ()


@dataclass(frozen=True)
class SynthObjectClass:
    name: str
    feature_hash: str
    shape: str
    color: str
    attributes: tuple[SynthQuestion, ...] = ()


@dataclass(frozen=True)
class SynthClassification:
    """A classification (one top question); ``is_global`` for a whole-item one."""

    feature_hash: str
    question: SynthQuestion
    is_global: bool = False


def _opts(*pairs: str) -> tuple[SynthOption, ...]:
    return tuple(SynthOption(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2))


def _vehicle_attributes(prefix: str) -> tuple[SynthQuestion, ...]:
    return (
        SynthQuestion("colour", f"{prefix}Col01", "radio", _opts("red", f"{prefix}Red01", "blue", f"{prefix}Blu01",
                                                                 "white", f"{prefix}Wht01")),
        SynthQuestion("extras", f"{prefix}Ext01", "checklist", _opts("roof rack", f"{prefix}Rck01", "tow bar",
                                                                     f"{prefix}Tow01", "spoiler", f"{prefix}Spl01")),
        SynthQuestion("plate", f"{prefix}Plt01", "text"),
    )


#: the skeleton template's keypoints: (name, feature hash, x, y in the template's unit square)
MIXED_SKELETON: tuple[tuple[str, str, float, float], ...] = (
    ("head", "kpHead01", 0.5, 0.08), ("left hand", "kpLHnd01", 0.1, 0.45), ("right hand", "kpRHnd01", 0.9, 0.45),
    ("left foot", "kpLFot01", 0.3, 0.95), ("right foot", "kpRFot01", 0.7, 0.95),
)
MIXED_SKELETON_NAME = "Person pose"

MIXED_CLASSES: tuple[SynthObjectClass, ...] = (
    SynthObjectClass("Car", "mxCar001", "bounding_box", "#D33115", _vehicle_attributes("car")),
    SynthObjectClass("Truck", "mxTrk001", "bounding_box", "#E27300", _vehicle_attributes("trk")),
    SynthObjectClass("Sign", "mxSgn001", "rotatable_bounding_box", "#FE9200"),
    SynthObjectClass("Road", "mxRod001", "polygon", "#68BC00", (
        SynthQuestion("surface", "rodSrf01", "radio", _opts("asphalt", "rodAsp01", "gravel", "rodGrv01")),
        SynthQuestion("markings", "rodMrk01", "checklist", _opts("centre line", "rodCtr01", "edge line",
                                                                 "rodEdg01", "zebra", "rodZeb01")),
        SynthQuestion("street", "rodStr01", "text"),
    )),
    SynthObjectClass("Lane", "mxLan001", "polyline", "#B0BC00"),
    SynthObjectClass("Eye", "mxEye001", "point", "#009CE0"),
    SynthObjectClass("Nose", "mxNos001", "point", "#7B64FF"),
    SynthObjectClass("Person", "mxPsn001", "skeleton", "#FA28FF"),
    SynthObjectClass("Puddle", "mxPud001", "bitmask", "#16406C"),
)

MIXED_CLASSIFICATIONS: tuple[SynthClassification, ...] = (
    SynthClassification("mxClWth1", SynthQuestion("weather", "clWthr01", "radio", (
        SynthOption("sunny", "clSun001", (SynthQuestion("strength", "clStr001", "radio",
                                                        _opts("weak", "clWeak01", "strong", "clStrg01")),)),
        SynthOption("cloudy", "clCld001"), SynthOption("rain", "clRain01"),
    ))),
    SynthClassification("mxClTag1", SynthQuestion("tags", "clTags01", "checklist",
                                                  _opts("people", "clPpl001", "vehicles", "clVeh001",
                                                        "animals", "clAni001", "night", "clNgt001"))),
    SynthClassification("mxClNot1", SynthQuestion("note", "clNote01", "text")),
    SynthClassification("mxClQly1", SynthQuestion("quality", "clQual01", "radio",
                                                  _opts("good", "clGood01", "poor", "clPoor01")), is_global=True),
)

_TEXTS = ("Main Street", "high street", "A 12", "B-7", "rue de la Paix", "kings road")


def ellipse_mask(spec: Mapping[str, float], width: int, height: int) -> np.ndarray:
    """The (height, width) bool mask of a bitmask spec (``cx``, ``cy``, ``rx``, ``ry`` normalised):
    pixel centres inside the ellipse."""
    ys = (np.arange(height) + 0.5) / height
    xs = (np.arange(width) + 0.5) / width
    return ((xs[None, :] - spec["cx"]) / spec["rx"]) ** 2 + ((ys[:, None] - spec["cy"]) / spec["ry"]) ** 2 <= 1.0


def encode_mask(mask: np.ndarray) -> dict[str, Any]:
    """A whole-image bool mask in Encord's ``bitmask`` form (see the section comment; no SDK)."""
    flat = np.ascontiguousarray(mask, dtype=bool).ravel()
    if len(flat) == 0:
        runs: list[int] = []
    else:
        change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
        runs = np.diff(np.concatenate(([0], change, [len(flat)]))).tolist()
        if flat[0]:
            runs.insert(0, 0)
    chars = []
    for i, x in enumerate(runs):
        if i > 2:
            x -= runs[i - 2]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if c & 0x10 else (x != 0)
            if more:
                c |= 0x20
            chars.append(chr(c + 48))
    return {"top": 0, "left": 0, "height": int(mask.shape[0]), "width": int(mask.shape[1]),
            "rleString": "".join(chars)}


@dataclass
class MixedObject:
    """One object of a scene: its class, its geometry spec per frame and its attribute answers."""

    cls: SynthObjectClass
    frames: dict[int, dict[str, Any]]
    answers: dict[str, str | tuple[str, ...]]  # attribute feature hash -> text, or chosen option hashes
    object_hash: str


@dataclass
class MixedClassification:
    cls: SynthClassification
    frames: tuple[int, ...] | None  # None: global
    answers: dict[str, str | tuple[str, ...]]
    classification_hash: str


@dataclass
class MixedItem:
    """One data unit of a mixed scene (``sizes``: (width, height) per frame for image groups, one
    entry otherwise)."""

    kind: str
    data_hash: str
    title: str
    n_frames: int
    sizes: tuple[tuple[int, int], ...]
    objects: list[MixedObject]
    classifications: list[MixedClassification]
    label_hash: str = ""

    def size(self, frame: int) -> tuple[int, int]:
        return self.sizes[frame] if self.kind == "img_group" else self.sizes[0]


def _question_answer(g: _Gen, q: SynthQuestion, out: dict[str, str | tuple[str, ...]]) -> None:
    """A benchmark answer to ``q`` (and its nested questions) into ``out``. Checklists always get two
    options, so a reader that tells checklists from radios by the answers sees them."""
    rng = g.rng
    if q.kind == "text":
        out[q.feature_hash] = _TEXTS[int(rng.integers(0, len(_TEXTS)))]
    elif q.kind == "radio":
        opt = q.options[int(rng.integers(0, len(q.options)))]
        out[q.feature_hash] = (opt.feature_hash,)
        for nq in opt.nested:
            _question_answer(g, nq, out)
    else:
        pick = rng.choice(len(q.options), 2, replace=False)
        out[q.feature_hash] = tuple(q.options[int(i)].feature_hash for i in sorted(pick))


def _perturbed_answers(g: _Gen, questions: Sequence[SynthQuestion], answers: Mapping[str, str | tuple[str, ...]],
                       p_wrong: float, p_missing: float) -> dict[str, str | tuple[str, ...]]:
    """An annotator's answers: each benchmark answer kept, changed (``p_wrong``) or left out."""
    rng = g.rng
    out: dict[str, str | tuple[str, ...]] = {}

    def walk(q: SynthQuestion) -> None:
        if q.feature_hash not in answers:
            return
        if rng.random() < p_missing:
            return
        value = answers[q.feature_hash]
        wrong = rng.random() < p_wrong
        if q.kind == "text":
            assert isinstance(value, str)
            if wrong:
                out[q.feature_hash] = value + " x"
            elif rng.random() < 0.3:
                out[q.feature_hash] = f"  {value.upper()} "  # the same after trimming and case-folding
            else:
                out[q.feature_hash] = value
            return
        if q.kind == "radio":
            chosen = value[0]
            if wrong:
                chosen = q.options[int(rng.integers(0, len(q.options)))].feature_hash
            out[q.feature_hash] = (chosen,)
            for opt in q.options:
                if opt.feature_hash == chosen:
                    for nq in opt.nested:
                        if nq.feature_hash in answers:
                            walk(nq)
                        else:
                            sub: dict[str, str | tuple[str, ...]] = {}
                            _question_answer(g, nq, sub)
                            out.update(sub)
            return
        picked = set(value)
        if wrong:
            flip = q.options[int(rng.integers(0, len(q.options)))].feature_hash
            picked ^= {flip}
            if not picked:
                picked = {q.options[0].feature_hash}
        out[q.feature_hash] = tuple(o.feature_hash for o in q.options if o.feature_hash in picked)

    for q in questions:
        walk(q)
    return out


def _mixed_geometry(g: _Gen, shape: str) -> dict[str, Any]:
    rng = g.rng
    w, h = (float(v) for v in rng.uniform(0.08, 0.3, 2))
    x, y = float(rng.uniform(0.0, 1.0 - w)), float(rng.uniform(0.0, 1.0 - h))
    if shape in ("bounding_box", "rotatable_bounding_box"):
        spec: dict[str, Any] = {"x": x, "y": y, "w": w, "h": h}
        if shape == "rotatable_bounding_box":
            spec["theta"] = float(rng.uniform(0.0, 360.0))
        return spec
    cx, cy = x + w / 2, y + h / 2
    if shape == "polygon":
        parts = []
        n = int(rng.integers(5, 9))
        ang = np.sort(rng.uniform(0.0, 2 * np.pi, n))
        rad = rng.uniform(0.75, 1.0, n)
        outer = [(float(cx + r * np.cos(a) * w / 2), float(cy + r * np.sin(a) * h / 2)) for a, r in zip(ang, rad)]
        rings = [outer]
        if rng.random() < 0.35:  # a hole, well inside (the outer ring's radii are ≥ 0.75)
            rings.append([(cx + 0.3 * w / 2 * float(np.cos(a)), cy + 0.3 * h / 2 * float(np.sin(a)))
                          for a in np.linspace(2 * np.pi, 0, 5, endpoint=False)])
        parts.append(rings)
        if rng.random() < 0.3:  # a second part, to the right of the first
            x2 = x + w * 1.15
            parts.append([[(x2, y), (x2 + w * 0.4, y), (x2 + w * 0.4, y + h * 0.5), (x2, y + h * 0.5)]])
        return {"polygons": parts}
    if shape == "polyline":
        n = int(rng.integers(2, 7))
        pts = np.column_stack([np.linspace(x, x + w, n), y + rng.uniform(0, h, n)])
        return {"points": [(float(a), float(b)) for a, b in pts]}
    if shape == "point":
        return {"x": cx, "y": cy}
    if shape == "skeleton":
        kps = {}
        for _name, fh, tx, ty in MIXED_SKELETON:
            vis = "invisible" if rng.random() < 0.12 else ("occluded" if rng.random() < 0.1 else None)
            kps[fh] = (x + tx * w, y + ty * h, vis)
        return {"keypoints": kps}
    if shape == "bitmask":
        return {"cx": cx, "cy": cy, "rx": w / 2, "ry": h / 2}
    raise ValueError(f"no geometry for shape {shape!r}")


def _mixed_moved(spec: Mapping[str, Any], dx: float, dy: float) -> dict[str, Any]:
    out = dict(spec)
    for kx, ky in (("x", "y"), ("cx", "cy")):
        if kx in spec:
            out[kx], out[ky] = spec[kx] + dx, spec[ky] + dy
    if "polygons" in spec:
        out["polygons"] = [[[(px + dx, py + dy) for px, py in ring] for ring in part] for part in spec["polygons"]]
    if "points" in spec:
        out["points"] = [(px + dx, py + dy) for px, py in spec["points"]]
    if "keypoints" in spec:
        out["keypoints"] = {k: (px + dx, py + dy, v) for k, (px, py, v) in spec["keypoints"].items()}
    return out


def _mixed_jittered(g: _Gen, shape: str, spec: Mapping[str, Any], amount: float) -> dict[str, Any]:
    """The annotator's redrawing: moved and reshaped by ``amount`` (relative to the object's size);
    skeleton keypoints moved one by one, some left out or marked invisible."""
    rng = g.rng
    out = dict(spec)
    if amount <= 0:
        return out
    if shape in ("bounding_box", "rotatable_bounding_box"):
        d = rng.normal(0.0, amount, 5)
        out.update(x=spec["x"] + d[0] * spec["w"], y=spec["y"] + d[1] * spec["h"],
                   w=spec["w"] * float(np.exp(d[2])), h=spec["h"] * float(np.exp(d[3])))
        if "theta" in spec:
            out["theta"] = (spec["theta"] + 40.0 * d[4]) % 360.0
    elif shape == "polygon":
        xs = [px for part in spec["polygons"] for px, _ in part[0]]
        size = max(xs) - min(xs)
        sx, sy = rng.normal(0.0, amount * size, 2)
        out["polygons"] = [[[(px + sx + float(rng.normal(0, amount * size * 0.3)),
                              py + sy + float(rng.normal(0, amount * size * 0.3))) for px, py in ring]
                            for ring in part] for part in spec["polygons"]]
    elif shape == "polyline":
        out["points"] = [(px + float(rng.normal(0, amount * 0.1)), py + float(rng.normal(0, amount * 0.1)))
                         for px, py in spec["points"]]
    elif shape == "point":
        d = rng.normal(0.0, amount * 0.6, 2)
        out.update(x=spec["x"] + float(d[0]), y=spec["y"] + float(d[1]))
    elif shape == "skeleton":
        kps = {}
        xs = [p[0] for p in spec["keypoints"].values()]
        size = max(xs) - min(xs)  # OKS is relative to the skeleton's size: so is the annotator's error
        sx, sy = rng.normal(0.0, amount * 0.2 * size, 2)
        for k, (px, py, vis) in spec["keypoints"].items():
            if rng.random() < 0.1:
                continue  # left out
            nvis = "invisible" if rng.random() < 0.06 else vis
            kps[k] = (px + sx + float(rng.normal(0, amount * 0.3 * size)),
                      py + sy + float(rng.normal(0, amount * 0.3 * size)), nvis)
        out["keypoints"] = kps
    elif shape == "bitmask":
        d = rng.normal(0.0, amount, 4)
        out.update(cx=spec["cx"] + d[0] * spec["rx"], cy=spec["cy"] + d[1] * spec["ry"],
                   rx=spec["rx"] * float(np.exp(d[2])), ry=spec["ry"] * float(np.exp(d[3])))
    return out


@dataclass
class MixedScene:
    """Benchmark items of every shape and answer, and each annotator's redrawing of them."""

    benchmark: list[MixedItem]
    training: dict[str, list[MixedItem]]  # project name -> items
    annotators: dict[str, str]  # project name -> email
    reviewer: str


_MIXED_SIZES = ((160, 120), (128, 96), (200, 100), (96, 128))


def make_mixed_scene(
    *,
    seed: int = 0,
    n_items: int = 12,
    annotators: Sequence[str] = ("alice@example.com", "bob@example.com"),
    objects_per_item: tuple[int, int] = (3, 9),
    shapes: Sequence[str] = ALL_SHAPES,
    data_types: Sequence[str] = ("image", "img_group", "video"),
    frames: int = 3,
    sizes: Sequence[tuple[int, int]] = _MIXED_SIZES,
    classifications: bool = True,
    attributes: bool = True,
    skill: Sequence[float] | None = None,
    jitter: float = 0.06,
    p_miss: float = 0.1,
    p_wrong_class: float = 0.12,
    p_extra: float = 0.1,
    p_wrong_answer: float = 0.15,
    p_missing_answer: float = 0.1,
    p_twin: float = 0.25,
    reviewer: str = "reviewer@example.com",
) -> MixedScene:
    """The abstract scene both writers draw (this module's dicts, ``tests/sdk_programme.py``'s SDK
    rows). Item ``i`` is ``data_types[i % len(data_types)]``; image groups and videos have
    ``frames`` frames; image sizes cycle through ``sizes`` (image-group images differ in size).
    Each annotator misses, adds, mis-classes (only where another class has the shape), jitters,
    and answers wrong or not at all; ``skill[i]`` scales every rate (default cycles 0.5, 1.0, 2.0).
    ``p_twin`` is the chance a benchmark object has a neighbour of its shape close by (so that
    candidates compete and the assignment matters)."""
    g = _Gen(seed * 7 + 424_242)
    rng = g.rng
    shapes = tuple(shapes)
    classes = [c for c in MIXED_CLASSES if c.shape in shapes]
    by_shape = {s: [c for c in MIXED_CLASSES if c.shape == s] for s in shapes}
    bench: list[MixedItem] = []
    for i in range(n_items):
        kind = data_types[i % len(data_types)]
        n_frames = frames if kind in ("img_group", "video") else 1
        n_sizes = n_frames if kind == "img_group" else 1
        item_sizes = tuple((int(sizes[(i + k) % len(sizes)][0]), int(sizes[(i + k) % len(sizes)][1]))
                           for k in range(n_sizes))
        title = f"mixed_{i:05d}" + {"video": ".mp4", "img_group": "", "image": ".jpg"}[kind]
        objs = []
        for _ in range(int(rng.integers(objects_per_item[0], objects_per_item[1] + 1))):
            cls = classes[int(rng.integers(0, len(classes)))]
            spec0 = _mixed_geometry(g, cls.shape)
            vel = rng.normal(0.0, 0.01, 2)
            first = int(rng.integers(0, n_frames)) if (n_frames > 1 and rng.random() < 0.25) else 0
            per_frame = {f: _mixed_moved(spec0, float(vel[0]) * f, float(vel[1]) * f) for f in range(first, n_frames)}
            ans: dict[str, str | tuple[str, ...]] = {}
            if attributes:
                for q in cls.attributes:
                    if q.kind == "text" and rng.random() < 0.2:
                        continue  # not every attribute is answered
                    _question_answer(g, q, ans)
            objs.append(MixedObject(cls, per_frame, ans, g.token()))
            if rng.random() < p_twin:  # a neighbour close by: candidates compete for the same match
                cls2 = by_shape[cls.shape][int(rng.integers(0, len(by_shape[cls.shape])))]
                d = rng.normal(0.0, 0.03, 2)
                ans2: dict[str, str | tuple[str, ...]] = {}
                for q in cls2.attributes if attributes else ():
                    _question_answer(g, q, ans2)
                objs.append(MixedObject(cls2, {f: _mixed_moved(s, float(d[0]), float(d[1])) for f, s in per_frame.items()},
                                        ans2, g.token()))
        cls_list: list[MixedClassification] = []
        if classifications:
            for c in MIXED_CLASSIFICATIONS:
                if c.is_global:
                    spans: list[tuple[int, ...] | None] = [None]
                elif kind == "video" and n_frames > 1 and rng.random() < 0.5:
                    cut = int(rng.integers(1, n_frames))
                    spans = [tuple(range(0, cut)), tuple(range(cut, n_frames))]
                elif kind == "img_group":
                    spans = [(f,) for f in range(n_frames) if rng.random() < 0.8]
                else:
                    spans = [tuple(range(n_frames))] if rng.random() < 0.85 else []
                for span in spans:
                    ans = {}
                    _question_answer(g, c.question, ans)
                    cls_list.append(MixedClassification(c, span, ans, g.token()))
        bench.append(MixedItem(kind, g.uuid(), title, n_frames, item_sizes, objs, cls_list, g.uuid()))

    skills = list(skill) if skill is not None else [(0.5, 1.0, 2.0)[i % 3] for i in range(len(annotators))]
    training: dict[str, list[MixedItem]] = {}
    names: dict[str, str] = {}
    for a, (email, k) in enumerate(zip(annotators, skills)):
        ga = _Gen(seed * 1_000 + 77 + a)
        ra = ga.rng
        items = []
        for it in bench:
            mine: list[MixedObject] = []
            for o in it.objects:
                if ra.random() < p_miss * k:
                    continue
                cls = o.cls
                if ra.random() < p_wrong_class * k:
                    others = [c for c in by_shape[cls.shape] if c != cls]
                    if others:
                        cls = others[int(ra.integers(0, len(others)))]
                per_frame = {f: _mixed_jittered(ga, cls.shape, s, jitter * k) for f, s in o.frames.items()
                             if not (len(o.frames) > 1 and ra.random() < 0.1 * k)}  # a frame left out
                if not per_frame:
                    continue
                if cls == o.cls:
                    ans = _perturbed_answers(ga, cls.attributes, o.answers, p_wrong_answer * k, p_missing_answer * k)
                else:  # another class has its own questions: answered afresh
                    ans = {}
                    for q in cls.attributes:
                        _question_answer(ga, q, ans)
                mine.append(MixedObject(cls, per_frame, ans, ga.token()))
            for _ in range(int(ra.poisson(p_extra * k * max(len(it.objects), 1)))):
                cls = classes[int(ra.integers(0, len(classes)))]
                spec0 = _mixed_geometry(ga, cls.shape)
                ans = {}
                for q in cls.attributes:
                    _question_answer(ga, q, ans)
                mine.append(MixedObject(cls, {f: dict(spec0) for f in range(it.n_frames)}, ans, ga.token()))
            order = ra.permutation(len(mine))
            mine = [mine[int(j)] for j in order]
            cls_list = []
            for bc in it.classifications:
                answers = _perturbed_answers(ga, [bc.cls.question], bc.answers, p_wrong_answer * k,
                                             p_missing_answer * k)
                if answers:
                    cls_list.append(MixedClassification(bc.cls, bc.frames, answers, ga.token()))
            items.append(MixedItem(it.kind, it.data_hash, it.title, it.n_frames, it.sizes, mine, cls_list, ga.uuid()))
        name = project_name(email)
        names[name] = email
        training[name] = items
    return MixedScene(benchmark=bench, training=training, annotators=names, reviewer=reviewer)


def _mixed_payload(shape: str, spec: Mapping[str, Any], size: tuple[int, int]) -> dict[str, Any]:
    if shape == "bounding_box":
        return box(spec["x"], spec["y"], spec["w"], spec["h"])
    if shape == "rotatable_bounding_box":
        return rotated_box(spec["x"], spec["y"], spec["w"], spec["h"], spec["theta"])
    if shape == "polygon":
        parts = spec["polygons"]
        return {"polygon": {str(i): {"x": float(x), "y": float(y)} for i, (x, y) in enumerate(parts[0][0])},
                "polygons": [[[float(c) for p in ring for c in p] for ring in part] for part in parts]}
    if shape == "polyline":
        return polyline(spec["points"])
    if shape == "point":
        return {"point": {"0": {"x": float(spec["x"]), "y": float(spec["y"])}}}
    if shape == "skeleton":
        names = {fh: name for name, fh, _x, _y in MIXED_SKELETON}
        out = {}
        for i, (fh, (x, y, vis)) in enumerate(spec["keypoints"].items()):
            kp: dict[str, Any] = {"x": float(x), "y": float(y), "name": names[fh], "featureHash": fh}
            if vis is not None:
                kp["visibility"] = vis
            out[str(i)] = kp
        return {"skeleton": out}
    if shape == "bitmask":
        return {"bitmask": encode_mask(ellipse_mask(spec, *size))}
    raise ValueError(f"synth cannot draw shape {shape!r}")


def _questions_by_hash() -> dict[str, SynthQuestion]:
    out: dict[str, SynthQuestion] = {}

    def walk(q: SynthQuestion) -> None:
        out[q.feature_hash] = q
        for o in q.options:
            for nq in o.nested:
                walk(nq)

    for c in MIXED_CLASSES:
        for q in c.attributes:
            walk(q)
    for cl in MIXED_CLASSIFICATIONS:
        walk(cl.question)
    return out


def _answer_entries(answers: Mapping[str, str | tuple[str, ...]]) -> list[dict[str, Any]]:
    qs = _questions_by_hash()
    out = []
    for fh, value in answers.items():
        q = qs[fh]
        if isinstance(value, str):
            ans: Any = value
        else:
            opts = {o.feature_hash: o for o in q.options}
            ans = [{"name": opts[v].name, "value": "_".join(opts[v].name.lower().split()), "featureHash": v}
                   for v in value]
        out.append({"name": q.name, "value": "_".join(q.name.lower().split()), "answers": ans,
                    "featureHash": fh, "manualAnnotation": True})
    out.reverse()  # the SDK writes a node's answers last question first (nested before their parent)
    return out


def _ranges(frames: Sequence[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for f in sorted(frames):
        if out and out[-1][1] == f - 1:
            out[-1][1] = f
        else:
            out.append([f, f])
    return out


def mixed_label_row(item: MixedItem, created_by: str) -> dict[str, Any]:
    """One item as a label row dict (the SDK's ``to_encord_dict()`` form, see the section comment)."""
    frames_map: dict[int, list[dict[str, Any]]] = {}
    for o in item.objects:
        cls = o.cls
        base = SynthClass(cls.name, cls.feature_hash, cls.shape, cls.color)
        for f in sorted(o.frames):
            frames_map.setdefault(f, []).append(
                make_object(base, _mixed_payload(cls.shape, o.frames[f], item.size(f)), object_hash=o.object_hash,
                            created_by=created_by))
    w, h = item.sizes[0]
    row = make_label_row(data_hash=item.data_hash, data_title=item.title, label_hash=item.label_hash,
                         objects=frames_map, data_type=item.kind, width=w, height=h,
                         n_frames=item.n_frames if item.kind == "img_group" else None)
    if item.kind == "img_group":
        for unit in row["data_units"].values():
            unit["width"], unit["height"] = item.size(int(unit["data_sequence"]))
    row["object_answers"] = {o.object_hash: {"classifications": _answer_entries(o.answers), "objectHash": o.object_hash}
                             for o in item.objects}
    row["classification_answers"] = {
        c.classification_hash: {
            "classifications": _answer_entries(c.answers), "classificationHash": c.classification_hash,
            "featureHash": c.cls.feature_hash, "spaces": {},
            "range": [] if c.frames is None else _ranges(c.frames), "createdBy": created_by,
            "createdAt": _TIMESTAMP, "lastEditedBy": None, "lastEditedAt": _TIMESTAMP, "confidence": 1.0,
            "manualAnnotation": True,
        } for c in item.classifications}
    return row


def make_mixed_programme(
    seed: int = 0,
    n_items: int = 12,
    annotators: Sequence[str] = ("alice@example.com", "bob@example.com"),
    objects_per_item: tuple[int, int] = (3, 9),
    **options: Any,
) -> Programme:
    """A benchmark and one training project per annotator with every shape, classification kind
    and object attribute (the options of :func:`make_mixed_scene`), as label-row dicts; fast: no SDK."""
    scene = make_mixed_scene(seed=seed, n_items=n_items, annotators=annotators, objects_per_item=objects_per_item,
                             **options)
    bench = [mixed_label_row(it, scene.reviewer) for it in scene.benchmark]
    training = {name: [mixed_label_row(it, scene.annotators[name]) for it in items]
                for name, items in scene.training.items()}
    return Programme(benchmark=bench, training=training, annotators=dict(scene.annotators))


__all__ += ["ALL_SHAPES", "SynthOption", "SynthQuestion", "SynthObjectClass", "SynthClassification",
            "MIXED_CLASSES", "MIXED_CLASSIFICATIONS", "MIXED_SKELETON", "MIXED_SKELETON_NAME", "MixedScene",
            "MixedItem", "MixedObject", "MixedClassification", "make_mixed_scene", "mixed_label_row",
            "make_mixed_programme", "ellipse_mask", "encode_mask"]
