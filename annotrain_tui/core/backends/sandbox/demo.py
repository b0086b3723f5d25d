"""Demo workspace: a realistic annotator-training programme in mid-flight.

One integration per provider, nested folders, ~60 registered street-scene images, a training
dataset, an ontology with box, rotated-box, polygon, polyline (Lane), point (Traffic light) and
bitmask (Road surface) classes, an "Annotator Training" workflow
template, a "Benchmark Labels" project with Complete gold labels, a roster of six annotators and
three of them already provisioned with partial work of varying quality.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from annotrain_tui.core.backends.sandbox.backend import SandboxBackend
from annotrain_tui.core.backends.sandbox.labels import object_entry
from annotrain_tui.core.benchmark import DEFAULT_BENCHMARK_TITLE, DEFAULT_TEMPLATE_TITLE
from annotrain_tui.core.config import Paths
from annotrain_tui.core.files import atomic_write_text
from annotrain_tui.core.markers import training_description
from annotrain_tui.core.models import Provider
from annotrain_tui.core.roster import DEFAULT_TRAINING_TITLE

GOLD_EMAIL = "gold.expert@example.com"
BENCHMARK_TITLE = DEFAULT_BENCHMARK_TITLE
DATASET_TITLE = "Annotator Training Set"
TEMPLATE_TITLE = DEFAULT_TEMPLATE_TITLE  # what provisioning picks when nothing names a template

ONTOLOGY = [
    {"name": "Car", "shape": "bounding_box", "color": "#E6194B"},
    {"name": "Pedestrian", "shape": "bounding_box", "color": "#3CB44B"},
    {"name": "Cyclist", "shape": "bounding_box", "color": "#FFE119"},
    {"name": "Bus", "shape": "rotatable_bounding_box", "color": "#4363D8"},
    {"name": "Road sign", "shape": "polygon", "color": "#F58231"},
    # issue 15's shapes: their feature hashes are fixed, so adding them moves no other demo id
    {"name": "Lane", "shape": "polyline", "color": "#42D4F4", "featureNodeHash": "demoLane"},
    {"name": "Traffic light", "shape": "point", "color": "#F032E6", "featureNodeHash": "demoTrLt"},
    {"name": "Road surface", "shape": "bitmask", "color": "#911EB4", "featureNodeHash": "demoRdSf"},
]
#: the shapes of the first demo (boxes, rotated boxes, polygons): their labels come from the
#: demo's first random stream, unchanged; the others' from a stream of their own (:func:`_more_shapes`)
FIRST_SHAPES = ("bounding_box", "rotatable_bounding_box", "polygon")
#: the demo images' size in pixels (what the sandbox registers)
IMAGE_SIZE = (1280, 720)

ROSTER = [
    ("Alex Kim", "alex.kim@example.com"),
    ("Bea Santos", "bea.santos@example.com"),
    ("Chidi Okafor", "chidi.okafor@example.com"),
    ("Dana Müller", "dana.mueller@example.com"),
    ("Eitan Levi", "eitan.levi@example.com"),
    ("Fatima Zahra", "fatima.zahra@example.com"),
]

#: annotator email → (items completed, skill 0..1)
PROVISIONED = {
    "alex.kim@example.com": (60, 0.95),
    "bea.santos@example.com": (38, 0.8),
    "chidi.okafor@example.com": (14, 0.35),
}

N_IMAGES = 60


def roster_csv() -> str:
    from annotrain_tui.core.exports import csv_text  # the project's one CSV writer

    return csv_text([("name", "email"), *ROSTER])


def _clamp(v: float) -> float:
    return min(1.0, max(0.0, v))


def random_geometry(rng: random.Random, shape: str) -> dict[str, Any]:
    """A box, rotated box or polygon (:data:`FIRST_SHAPES`) somewhere on the image."""
    w, h = rng.uniform(0.05, 0.25), rng.uniform(0.05, 0.3)
    x, y = rng.uniform(0, 1 - w), rng.uniform(0, 1 - h)
    if shape == "bounding_box":
        return {"x": x, "y": y, "w": w, "h": h}
    if shape == "rotatable_bounding_box":
        return {"x": x, "y": y, "w": w, "h": h, "theta": rng.uniform(-30, 30)}
    # polygon: an irregular convex-ish ring around a centre
    cx, cy, r = x + w / 2, y + h / 2, min(w, h) / 2
    n = rng.randint(4, 7)
    points = []
    for k in range(n):
        a = 2 * math.pi * k / n + rng.uniform(-0.2, 0.2)
        rr = r * rng.uniform(0.75, 1.0)
        points.append({"x": _clamp(cx + rr * math.cos(a)), "y": _clamp(cy + rr * math.sin(a))})
    return {str(i): p for i, p in enumerate(points)}


def jitter(rng: random.Random, shape: str, coords: dict[str, Any], amount: float) -> dict[str, Any]:
    """Move a geometry by a fraction of its size, as a less careful annotator would (a polygon's,
    polyline's, point's or skeleton's vertices; a bitmask is copied as it is)."""
    if shape == "bitmask":
        return dict(coords)
    if shape in ("bounding_box", "rotatable_bounding_box"):
        out = dict(coords)
        out["x"] = _clamp(coords["x"] + rng.gauss(0, amount) * coords["w"])
        out["y"] = _clamp(coords["y"] + rng.gauss(0, amount) * coords["h"])
        out["w"] = max(0.005, coords["w"] * (1 + rng.gauss(0, amount)))
        out["h"] = max(0.005, coords["h"] * (1 + rng.gauss(0, amount)))
        if shape == "rotatable_bounding_box":
            out["theta"] = coords["theta"] + rng.gauss(0, 40 * amount)
        return out
    dx, dy = rng.gauss(0, amount) * 0.05, rng.gauss(0, amount) * 0.05
    # a vertex keeps its other keys (a skeleton keypoint's name and feature hash)
    return {k: {**p, "x": _clamp(p["x"] + dx + rng.gauss(0, amount) * 0.01),
                "y": _clamp(p["y"] + dy + rng.gauss(0, amount) * 0.01)} for k, p in coords.items()}


def gold_objects(rng: random.Random, classes: list[dict[str, Any]], created_by: str,
                 when: datetime) -> list[dict[str, Any]]:
    objs = []
    for _ in range(rng.randint(2, 6)):
        cls = rng.choices(classes, weights=[5, 3, 1, 1, 2][: len(classes)] or None)[0]
        objs.append(object_entry(object_hash=f"{rng.getrandbits(32):08x}", ontology_object=cls,
                                 coordinates=random_geometry(rng, cls["shape"]), frame=0,
                                 created_by=created_by, created_at=when))
    return objs


def annotate_like(rng: random.Random, gold: list[dict[str, Any]], classes: list[dict[str, Any]], *,
                  skill: float, email: str, when: datetime) -> list[dict[str, Any]]:
    """What an annotator of this skill draws on an image whose gold objects are ``gold``."""
    from annotrain_tui.core.backends.sandbox.labels import COORD_KEYS

    by_hash = {c["featureNodeHash"]: c for c in classes}
    out = []
    for g in gold:
        if rng.random() > 0.55 + 0.45 * skill:  # missed
            continue
        cls = by_hash.get(g["featureHash"])
        if cls is None:
            continue
        if rng.random() > 0.7 + 0.3 * skill:  # wrong class of the same shape
            same = [c for c in classes if c["shape"] == cls["shape"] and c is not cls]
            cls = rng.choice(same) if same else cls
        coords = jitter(rng, cls["shape"], g[COORD_KEYS[cls["shape"]]], 0.02 + 0.25 * (1 - skill))
        out.append(object_entry(object_hash=f"{rng.getrandbits(32):08x}", ontology_object=cls, coordinates=coords,
                                frame=g.get("frame", 0), created_by=email, created_at=when))
    if rng.random() > 0.6 + 0.4 * skill:  # an extra object that is not in the benchmark
        cls = rng.choice([c for c in classes if c["shape"] in FIRST_SHAPES] or classes)
        out.append(object_entry(object_hash=f"{rng.getrandbits(32):08x}", ontology_object=cls,
                                coordinates=random_geometry(rng, cls["shape"]), frame=0, created_by=email,
                                created_at=when))
    return out


def encode_mask(mask: Any) -> dict[str, Any]:
    """A whole-image bool mask (height × width, numpy) in Encord's ``bitmask`` form: ``top``/``left``
    0, the mask's ``height``/``width`` and the ``rleString`` of its row-major runs (first a run of
    0s), as the SDK writes it (``encord/common/bitmask_operations/bitmask_operations.py``:
    ``_mask_to_rle`` then ``_rle_to_string``: from the third run on, a run is written as its
    difference to the run two before; each value in 5-bit groups, least significant first, ``0x20``
    "more follow", ``48`` added; the inverse of ``core.evaluation.similarity.decode_rle``)."""
    import numpy as np

    flat = np.ascontiguousarray(mask, dtype=bool).ravel()
    runs: list[int] = []
    if len(flat):
        change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
        runs = np.diff(np.concatenate(([0], change, [len(flat)]))).tolist()
        if flat[0]:
            runs.insert(0, 0)
    chars = []
    for i, run in enumerate(runs):
        x = run - runs[i - 2] if i > 2 else run
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if c & 0x10 else (x != 0)
            chars.append(chr((c | 0x20 if more else c) + 48))
    return {"top": 0, "left": 0, "height": int(mask.shape[0]), "width": int(mask.shape[1]),
            "rleString": "".join(chars)}


def _surface_mask(spec: tuple[float, float, float, float]) -> dict[str, Any]:
    """A road surface: the pixels of the image (:data:`IMAGE_SIZE`) inside an ellipse (centre x,
    y and radii, normalised) and below its centre line's top (a road narrows to the horizon)."""
    import numpy as np

    cx, cy, rx, ry = spec
    width, height = IMAGE_SIZE
    ys = (np.arange(height) + 0.5) / height
    xs = (np.arange(width) + 0.5) / width
    inside = ((xs[None, :] - cx) / rx) ** 2 + ((ys[:, None] - cy) / ry) ** 2 <= 1.0
    return encode_mask(inside & (ys[:, None] >= cy - ry / 2))


def _lane(rng: random.Random) -> dict[str, Any]:
    """A lane marking: a polyline of 3 to 6 vertices from the bottom of the image towards the horizon."""
    x0, x1 = rng.uniform(0.1, 0.9), rng.uniform(0.35, 0.65)
    n = rng.randint(3, 6)
    return {str(k): {"x": _clamp(x0 + (x1 - x0) * k / (n - 1) + rng.uniform(-0.01, 0.01)),
                     "y": _clamp(0.98 - 0.5 * k / (n - 1))} for k in range(n)}


def _more_shapes(rng: random.Random, classes: list[dict[str, Any]],
                 item_ids: list[str]) -> dict[str, list[tuple[dict[str, Any], Any]]]:
    """Per item, the gold lanes (polylines), traffic lights (points) and road surfaces (bitmasks):
    (class, geometry spec) pairs, drawn by :func:`_more_objects`."""
    by_shape = {c["shape"]: c for c in classes}
    out: dict[str, list[tuple[dict[str, Any], Any]]] = {}
    for item_id in item_ids:
        specs: list[tuple[dict[str, Any], Any]] = []
        for _ in range(rng.choice((0, 1, 1, 2))):
            specs.append((by_shape["polyline"], _lane(rng)))
        for _ in range(rng.choice((0, 1, 2))):
            specs.append((by_shape["point"], (rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.5))))
        if rng.random() < 0.5:
            specs.append((by_shape["bitmask"], (rng.uniform(0.35, 0.65), rng.uniform(0.75, 0.9),
                                                rng.uniform(0.25, 0.45), rng.uniform(0.2, 0.3))))
        out[item_id] = specs
    return out


def _coordinates(shape: str, spec: Any) -> dict[str, Any]:
    if shape == "point":
        return {"0": {"x": _clamp(spec[0]), "y": _clamp(spec[1])}}
    if shape == "bitmask":
        return _surface_mask(spec)
    return spec  # a polyline's vertices


def _drawn_like(rng: random.Random, shape: str, spec: Any, skill: float) -> Any:
    """A trainee's copy of a gold spec: moved more the lower the skill."""
    amount = 0.004 + 0.04 * (1 - skill)
    if shape == "point":
        return (spec[0] + rng.gauss(0, amount), spec[1] + rng.gauss(0, amount))
    if shape == "bitmask":
        cx, cy, rx, ry = spec
        return (cx + rng.gauss(0, amount), cy + rng.gauss(0, amount / 2), rx * (1 + rng.gauss(0, 2 * amount)),
                ry * (1 + rng.gauss(0, 2 * amount)))
    dx = rng.gauss(0, amount / 2)
    return {k: {"x": _clamp(p["x"] + dx + rng.gauss(0, amount / 3)), "y": p["y"]} for k, p in spec.items()}


def _more_objects(rng: random.Random, specs: list[tuple[dict[str, Any], Any]], *, skill: float | None, email: str,
                  when: datetime) -> list[dict[str, Any]]:
    """The objects of ``specs``: the gold's (``skill`` None) or a trainee's of that skill (some
    missed, each moved, sometimes an extra traffic light)."""
    out = []
    for cls, spec in specs:
        if skill is not None:
            if rng.random() > 0.6 + 0.4 * skill:  # missed
                continue
            spec = _drawn_like(rng, cls["shape"], spec, skill)
        out.append(object_entry(object_hash=f"{rng.getrandbits(32):08x}", ontology_object=cls,
                                coordinates=_coordinates(cls["shape"], spec), frame=0, created_by=email,
                                created_at=when))
    lights = [c for c, _ in specs if c["shape"] == "point"]
    if skill is not None and lights and rng.random() > 0.7 + 0.3 * skill:  # a light that is not there
        out.append(object_entry(object_hash=f"{rng.getrandbits(32):08x}", ontology_object=lights[0],
                                coordinates=_coordinates("point", (rng.uniform(0, 1), rng.uniform(0, 0.5))),
                                frame=0, created_by=email, created_at=when))
    return out


def create_demo_workspace(path: Path, paths: Paths | None = None, *, replace: bool = False,
                          **options: Any) -> dict[str, str]:
    """A new workspace at ``path`` with the demo programme, all or nothing.

    The roster file is written first (atomically, complete or absent); the workspace is seeded
    in a temporary file beside ``path`` and moved into place only once complete, so a failure,
    a full disk or a kill half-way leaves no workspace at ``path`` (and a rerun needs no --force).
    ``replace`` replaces an existing workspace, only once the new one is complete.
    """
    if paths is not None:
        write_demo_roster(paths)
    return SandboxBackend.build(path, lambda backend: seed_demo(backend, paths, _write_roster=False, **options),
                                replace=replace)


def demo_roster_path(paths: Paths) -> Path:
    return paths.data_dir / "demo-roster.csv"


def write_demo_roster(paths: Paths) -> bool:
    """Write the demo roster unless a file (or a link, even a dangling one) is there already: it may
    hold the user's edits, or point at a file of theirs. True when written."""
    import os

    path = demo_roster_path(paths)
    if os.path.lexists(path):
        return False
    atomic_write_text(path, roster_csv(), make_parents=True)
    return True


def seed_demo(backend: SandboxBackend, paths: Paths | None = None, *, seed: int = 7,
              deterministic_ids: bool = False, now: datetime | None = None,
              _write_roster: bool = True) -> dict[str, str]:
    """Fill an empty sandbox with the demo programme. Returns ids of the main pieces.

    ``deterministic_ids`` (screenshots, snapshot tests) makes every id repeatable. To create a
    new demo workspace all or nothing, use :func:`create_demo_workspace`.
    """
    backend.seed_ids(seed if deterministic_ids else None)
    try:
        return _seed(backend, paths, seed, now or datetime.now(UTC), _write_roster)
    finally:
        backend.seed_ids(None)


def _seed(backend: SandboxBackend, paths: Paths | None, seed: int, now: datetime,
          write_roster: bool = True) -> dict[str, str]:
    rng = random.Random(seed)
    integrations = {}
    for provider, title in [
        (Provider.AWS, "AWS S3 - street-scenes"), (Provider.GCP, "GCP - ml-datasets"),
        (Provider.AZURE, "Azure Blob - vision"), (Provider.OTC, "OTC OBS - eu-de"),
        (Provider.WASABI, "Wasabi - archive"), (Provider.ORACLE, "Oracle OCI - frankfurt"),
        (Provider.DIRECT, "Direct access (public URLs)"),
    ]:
        integrations[provider] = backend.add_integration(title, provider)

    root = backend.create_folder("Training Data", description="Files for the annotator training programme",
                                 metadata={"team": "data-ops", "programme": "Q4 annotator onboarding"})
    scenes = backend.create_folder("Street Scenes", description="Benchmark images (registered from S3)",
                                   metadata={"source": "s3://street-scenes-training/2026-q4/"}, parent_id=root.id)
    backend.create_folder("Incoming", description="New batches waiting for review", parent_id=root.id)
    backend.create_folder("Archive", description="Previous programmes", metadata={"retention": "1y"})

    manifest = {"images": [
        {"objectUrl": f"https://street-scenes-training.s3.eu-west-1.amazonaws.com/2026-q4/scene_{i:03d}.jpg",
         "title": f"scene_{i:03d}.jpg", "clientMetadata": {"split": "training", "camera": f"cam{i % 4}"}}
        for i in range(1, N_IMAGES + 1)], "skip_duplicate_urls": True}
    job = backend.start_registration(scenes.id, integrations[Provider.AWS].id, manifest)
    backend._process_job(job)
    items = backend.list_items(scenes.id)

    dataset = backend.create_dataset(DATASET_TITLE, description="Street scenes for the annotator training programme")
    backend.link_items(dataset.id, [i.id for i in items])
    ontology = backend.add_ontology("Street Scene Objects", ONTOLOGY)
    every_class = backend.ontology_structure(ontology.id)["objects"]
    classes = [c for c in every_class if c["shape"] in FIRST_SHAPES]  # the first demo's, its stream
    more_rng = random.Random(seed * 1000 + 15)  # lanes, traffic lights and road surfaces: their own stream
    more = _more_shapes(more_rng, [c for c in every_class if c["shape"] not in FIRST_SHAPES],
                        [i.id for i in items])
    training_tpl = backend.add_template(TEMPLATE_TITLE, ["Annotate", "Complete"])
    qa_tpl = backend.add_template("Benchmark QA", ["Annotate", "Review", "Complete"])

    bench = backend.create_project(BENCHMARK_TITLE, description="Gold-standard labels by a trusted expert",
                                   dataset_ids=[dataset.id], ontology_id=ontology.id, template_id=qa_tpl.id)
    backend.add_users(bench.id, [GOLD_EMAIL], "annotator")
    gold: dict[str, list[dict[str, Any]]] = {}
    for n, item in enumerate(items):
        when = now - timedelta(days=6, minutes=10 * (N_IMAGES - n))
        gold[item.id] = gold_objects(rng, classes, GOLD_EMAIL, when)
        extra = _more_objects(more_rng, more[item.id], skill=None, email=GOLD_EMAIL, when=when)
        backend.save_labels(bench.id, item.id, gold[item.id] + extra, stage="Complete", edited_at=when)

    for name, email in ROSTER:
        if email not in PROVISIONED:
            continue
        done, skill = PROVISIONED[email]
        project = backend.create_project(
            DEFAULT_TRAINING_TITLE.format(name=name, email=email), description=training_description(name, email, bench.id),
            dataset_ids=[dataset.id], ontology_id=ontology.id, template_id=training_tpl.id)
        backend.add_users(project.id, [email], "annotator")
        backend.assign_tasks(project.id, email)  # as provisioning does: the annotation stage's tasks are theirs
        for n, item in enumerate(items[:done]):
            when = now - timedelta(hours=30 - 0.4 * n, minutes=rng.randint(0, 30))
            labels = annotate_like(rng, gold[item.id], classes, skill=skill, email=email, when=when)
            labels += _more_objects(more_rng, more[item.id], skill=skill, email=email, when=when)
            backend.save_labels(project.id, item.id, labels, stage="Complete", edited_at=when)
        if done < len(items):  # one item in progress
            item = items[done]
            labels = annotate_like(rng, gold[item.id], classes, skill=skill, email=email, when=now)
            backend.save_labels(project.id, item.id, labels, edited_at=now - timedelta(minutes=5))

    roster_path = None
    if paths is not None:
        roster_path = demo_roster_path(paths)
        if write_roster:
            write_demo_roster(paths)
    with backend.store.tx() as c:
        for key, value in [("demo_benchmark", bench.id), ("demo_dataset", dataset.id),
                           ("demo_roster", str(roster_path or "")), ("demo_seeded_at", now.isoformat())]:
            c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
    return {"benchmark": bench.id, "dataset": dataset.id, "ontology": ontology.id, "folder": scenes.id,
            "template": training_tpl.id, "roster": str(roster_path or "")}
