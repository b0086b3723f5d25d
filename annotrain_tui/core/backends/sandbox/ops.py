"""Sandbox-only operations: the annotator simulator, the expert who labels a benchmark (with planted
gold errors, for a rehearsal), and importing real label-row exports."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from annotrain_tui.core.backends.sandbox import truth
from annotrain_tui.core.backends.sandbox.backend import SandboxBackend, now_iso
from annotrain_tui.core.backends.sandbox.demo import GOLD_EMAIL, annotate_like
from annotrain_tui.core.backends.sandbox.labels import objects_of
from annotrain_tui.core.errors import InvalidInput, NotFound
from annotrain_tui.core.evaluation.labels import unit_of
from annotrain_tui.core.markers import parse_training_marker
from annotrain_tui.core.models import Project
from annotrain_tui.core.remedies import see
from annotrain_tui.core.text import shown

IMPORT_FOLDER = "Imported labels"


def _skill(email: str) -> float:
    digest = hashlib.sha256(email.lower().encode()).digest()
    return 0.5 + 0.5 * digest[0] / 255


#: who labels a benchmark in a rehearsal (the demo's gold is by the same expert)
EXPERT_EMAIL = GOLD_EMAIL
#: sandbox meta: the errors planted in benchmarks (a JSON list, see :class:`PlantedError`)
PLANTED_KEY = "planted_errors"
#: the kinds of planted gold error, planted in this order, in turn
ERROR_KINDS = ("missing", "misplaced", "class")


def _expert_key(benchmark_id: str) -> str:
    """Sandbox meta: the data hashes of a benchmark the expert labelled (from the truth), a JSON list."""
    return f"expert_labelled:{benchmark_id}"


def _json_meta(backend: SandboxBackend, key: str) -> Any:
    raw = backend.store.meta(key)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


@dataclass(frozen=True)
class PlantedError:
    """A deliberate error in a benchmark's gold: ``missing`` (the gold lacks the truth's object),
    ``misplaced`` (the gold's object is well off the truth's place) or ``class`` (the gold's object
    has another class of the same shape). ``object_hash`` is the gold's object (None: dropped),
    ``truth_object_hash`` the truth's, ``class_name`` the truth's class, ``gold_class`` the gold's."""

    benchmark_id: str
    kind: str
    data_hash: str
    object_hash: str | None
    truth_object_hash: str
    class_name: str
    gold_class: str | None
    shape: str

    def to_json(self) -> dict[str, Any]:
        return {"benchmark": self.benchmark_id, "kind": self.kind, "data_hash": self.data_hash,
                "object_hash": self.object_hash, "truth_object_hash": self.truth_object_hash,
                "class": self.class_name, "gold_class": self.gold_class, "shape": self.shape}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PlantedError:
        return cls(benchmark_id=str(d.get("benchmark") or ""), kind=str(d.get("kind") or ""),
                   data_hash=str(d.get("data_hash") or ""),
                   object_hash=d["object_hash"] if isinstance(d.get("object_hash"), str) else None,
                   truth_object_hash=str(d.get("truth_object_hash") or ""), class_name=str(d.get("class") or ""),
                   gold_class=d["gold_class"] if isinstance(d.get("gold_class"), str) else None,
                   shape=str(d.get("shape") or ""))


def planted_errors(backend: SandboxBackend, benchmark_id: str | None = None) -> list[PlantedError]:
    """The gold errors planted in the sandbox's benchmarks (``benchmark_id``'s alone when given), oldest first."""
    raw = _json_meta(backend, PLANTED_KEY)
    out = [PlantedError.from_json(d) for d in raw if isinstance(d, dict)] if isinstance(raw, list) else []
    return [e for e in out if benchmark_id is None or e.benchmark_id == benchmark_id]


def expert_labelled(backend: SandboxBackend, benchmark_id: str) -> set[str]:
    """The data hashes of the benchmark the expert labelled from the truth (empty: none, e.g. the demo's)."""
    raw = _json_meta(backend, _expert_key(benchmark_id))
    return {h for h in raw if isinstance(h, str)} if isinstance(raw, list) else set()


def truth_of(backend: SandboxBackend, benchmark_id: str, data_hash: str) -> list[dict[str, Any]]:
    """The truth of a benchmark's item as Encord object entries: its scene (:func:`truth.scene`) where
    the expert labelled it, else the benchmark's gold as it is (the demo's truth is its gold)."""
    bench = backend.get_project(benchmark_id)
    if data_hash in expert_labelled(backend, bench.id):
        size = _item_sizes(backend, [data_hash]).get(data_hash, truth.IMAGE_SIZE)
        return truth.entries(truth.scene(data_hash, _benchmark_classes(backend, bench)), created_by=EXPERT_EMAIL,
                             size=size)
    got = backend.get_label_rows(bench.id, [data_hash])
    return objects_of(got[0]) if got else []


@dataclass
class BenchmarkLabelling:
    """What :func:`label_benchmark` did: the tasks it labelled (data hashes), those that were already
    finished, the errors it planted now, and every error planted in this benchmark so far."""

    benchmark_id: str
    title: str
    final_stage: str
    labelled: list[str] = field(default_factory=list)
    already_done: int = 0
    planted: list[PlantedError] = field(default_factory=list)
    planted_total: list[PlantedError] = field(default_factory=list)
    asked: int = 0  # planted errors asked for
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"benchmark": {"id": self.benchmark_id, "title": self.title}, "final_stage": self.final_stage,
                "labelled": len(self.labelled), "labelled_items": self.labelled, "already_done": self.already_done,
                "planted_now": [e.to_json() for e in self.planted],
                "planted_errors": [e.to_json() for e in self.planted_total], "notes": self.notes}


def _item_sizes(backend: SandboxBackend, data_hashes: list[str]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for start in range(0, len(data_hashes), 500):
        chunk = data_hashes[start:start + 500]
        for r in backend.store.query(f"SELECT id, width, height FROM items WHERE id IN ({','.join('?' * len(chunk))})",
                                     tuple(chunk)):
            out[r["id"]] = truth.image_size(r["width"], r["height"])
    return out


def _benchmark_classes(backend: SandboxBackend, project: Project) -> list[dict[str, Any]]:
    if not project.ontology_id:
        return []
    objects = backend.ontology_structure(project.ontology_id).get("objects")
    return objects if isinstance(objects, list) else []


def _candidates(objects: list[truth.TruthObject], kind: str, classes: list[dict[str, Any]]) -> list[int]:
    """Which objects of a scene an error of ``kind`` may be planted on, the clearest first (areas,
    then lines and keypoints, a mask last)."""
    order = {s: n for n, s in enumerate((*truth.AREA_SHAPES, "point", "polyline", "skeleton", "bitmask"))}
    ok = [n for n, o in enumerate(objects) if kind != "class" or truth.other_classes(o, classes)]
    return sorted(ok, key=lambda n: order.get(objects[n].shape, 99))


def _plan_errors(rng: random.Random, benchmark_id: str, scenes: dict[str, list[truth.TruthObject]],
                 classes: list[dict[str, Any]], wanted: int, first_kind: int
                 ) -> dict[str, tuple[list[truth.TruthObject], PlantedError]]:
    """``wanted`` errors on distinct items of ``scenes``, of the kinds in turn from ``first_kind``
    (a kind no item can take, e.g. ``class`` where no shape has two classes, is passed over):
    data hash → (the gold's objects, the error)."""
    items = [dh for dh, objs in scenes.items() if objs]
    rng.shuffle(items)
    out: dict[str, tuple[list[truth.TruthObject], PlantedError]] = {}
    impossible: set[str] = set()
    turn = first_kind
    while len(out) < wanted and len(impossible) < len(ERROR_KINDS):
        kind = ERROR_KINDS[turn % len(ERROR_KINDS)]
        turn += 1
        if kind in impossible:
            continue
        for dh in items:
            if dh in out:
                continue
            objects = scenes[dh]
            picks = _candidates(objects, kind, classes)
            if not picks:
                continue
            n = picks[0]
            obj = objects[n]
            gold = list(objects)
            if kind == "missing":
                del gold[n]
                err = PlantedError(benchmark_id, kind, dh, None, obj.object_hash, obj.name, None, obj.shape)
            elif kind == "misplaced":
                gold[n] = truth.misplaced(obj)
                err = PlantedError(benchmark_id, kind, dh, obj.object_hash, obj.object_hash, obj.name, obj.name,
                                   obj.shape)
            else:
                other = rng.choice(truth.other_classes(obj, classes))
                gold[n] = replace(obj, cls=other)
                err = PlantedError(benchmark_id, kind, dh, obj.object_hash, obj.object_hash, obj.name,
                                   str(other["name"]), obj.shape)
            out[dh] = (gold, err)
            break
        else:
            impossible.add(kind)
    return out


def label_benchmark(backend: SandboxBackend, benchmark_id: str, *, plant_errors: int = 0,
                    seed: int | None = None) -> BenchmarkLabelling:
    """An expert labels every unfinished task of a benchmark with its items' truth
    (:func:`truth.scene`) and moves it to the final stage, in one transaction.

    With ``plant_errors=N``, N deliberate gold errors on distinct items (of those labelled now),
    of the kinds :data:`ERROR_KINDS` in turn, recorded in the sandbox's meta (:func:`planted_errors`)
    and returned. Idempotent: once every task is finished a call labels nothing and plants nothing
    (N counts the errors planted in this benchmark so far). Items the expert labelled are recorded
    (:func:`expert_labelled`): trainees then draw from their truth, not from the gold.
    """
    if isinstance(plant_errors, bool) or not isinstance(plant_errors, int) or plant_errors < 0:
        raise InvalidInput("--plant-errors must be a whole number, 0 or more")
    bench = backend.get_project(benchmark_id)
    if parse_training_marker(bench.description):
        raise InvalidInput(f"'{shown(bench.title, limit=80)}' is a training project, not a benchmark",
                           hint="name the benchmark project", see="projects.list")
    classes = _benchmark_classes(backend, bench)
    final = backend.final_stage(bench.id)
    result = BenchmarkLabelling(benchmark_id=bench.id, title=bench.title, final_stage=final, asked=plant_errors)
    rows = backend.list_label_rows(bench.id)
    todo = [r for r in rows if not r.done]
    result.already_done = len(rows) - len(todo)
    before = planted_errors(backend, bench.id)
    result.planted_total = before
    if not todo:
        return result
    if not truth.drawable(classes):
        raise InvalidInput(f"the ontology of '{shown(bench.title, limit=80)}' has no object class the sandbox can "
                           "draw (" + ", ".join(truth.SHAPES) + ")", hint="give the benchmark an ontology with object classes")
    scenes = {r.data_hash: truth.scene(r.data_hash, classes) for r in todo}
    rng = random.Random(seed) if seed is not None else random.Random(f"plant\0{bench.id}")
    plan = _plan_errors(rng, bench.id, scenes, classes, max(0, plant_errors - len(before)), len(before))
    sizes = _item_sizes(backend, [r.data_hash for r in todo])
    backend.add_users(bench.id, [EXPERT_EMAIL], "annotator")
    when = datetime.now(UTC)
    stamp = when.isoformat(timespec="microseconds")
    with backend.store.tx() as c:
        for r in todo:
            gold = plan[r.data_hash][0] if r.data_hash in plan else scenes[r.data_hash]
            objects = truth.entries(gold, created_by=EXPERT_EMAIL, when=when,
                                    size=sizes.get(r.data_hash, truth.IMAGE_SIZE))
            cur = c.execute("UPDATE label_rows SET body = ?, last_edited_at = ?, stage = ? "
                            "WHERE project_id = ? AND data_hash = ? AND stage = ?",
                            (json.dumps({"objects": objects}), stamp, final, bench.id, r.data_hash, r.stage))
            if cur.rowcount == 0:  # moved meanwhile (someone else finished it): theirs stands
                continue
            result.labelled.append(r.data_hash)
        written = set(result.labelled)
        planted = [err for dh, (_gold, err) in plan.items() if dh in written]  # in the order planned
        row = c.execute("SELECT value FROM meta WHERE key = ?", (_expert_key(bench.id),)).fetchone()
        known = _json_list(row[0] if row else None)
        c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                  (_expert_key(bench.id), json.dumps(sorted({*known, *result.labelled}))))
        if planted:
            row = c.execute("SELECT value FROM meta WHERE key = ?", (PLANTED_KEY,)).fetchone()
            c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                      (PLANTED_KEY, json.dumps([*_json_list(row[0] if row else None), *(e.to_json() for e in planted)])))
    result.planted = planted
    result.planted_total = [*before, *planted]
    if len(result.planted_total) < plant_errors:
        result.notes.append(f"{len(result.planted_total)} of the {plant_errors} gold error(s) asked for were planted: "
                            "each needs an item of its own, labelled now")
    return result


def _json_list(raw: str | None) -> list[Any]:
    try:
        value = json.loads(raw) if raw else []
    except ValueError:
        return []
    return value if isinstance(value, list) else []


# -- trainees ---------------------------------------------------------------------------------------

def training_projects(backend: SandboxBackend, benchmark_id: str | None) -> list[tuple[Project, str, str]]:
    """Every training project (of every round), of ``benchmark_id`` when given: (project, benchmark, email)."""
    demo_bench = backend.store.meta("demo_benchmark") or ""
    out = []
    for p in backend.list_projects():
        marker = parse_training_marker(p.description)
        if marker is None:
            continue
        bench_id, email = marker
        bench_id = bench_id or demo_bench
        if benchmark_id is None or bench_id == benchmark_id:
            out.append((p, bench_id, email))
    return out


class _Drawer:
    """A trainee's labels for a task: from the item's truth where the expert labelled the benchmark
    (so trainees agree with each other where its gold is wrong), else from the benchmark's gold."""

    def __init__(self, backend: SandboxBackend) -> None:
        self.backend = backend
        self.gold: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.classes: dict[str, list[dict[str, Any]]] = {}
        self.expert: dict[str, set[str]] = {}
        self.bench_classes: dict[str, list[dict[str, Any]]] = {}
        self.sizes: dict[str, tuple[int, int]] = {}

    def _classes(self, ontology_id: str) -> list[dict[str, Any]]:
        if ontology_id not in self.classes:
            objects = self.backend.ontology_structure(ontology_id).get("objects") if ontology_id else []
            self.classes[ontology_id] = objects if isinstance(objects, list) else []
        return self.classes[ontology_id]

    def draw(self, rng: random.Random, project: Project, bench_id: str, data_hash: str, *, skill: float,
             email: str, when: datetime) -> list[dict[str, Any]]:
        classes = self._classes(project.ontology_id or "")
        if bench_id not in self.expert:
            self.expert[bench_id] = expert_labelled(self.backend, bench_id) if bench_id else set()
        if data_hash in self.expert[bench_id]:
            if bench_id not in self.bench_classes:
                try:
                    self.bench_classes[bench_id] = _benchmark_classes(self.backend, self.backend.get_project(bench_id))
                except NotFound:
                    self.bench_classes[bench_id] = classes
            if data_hash not in self.sizes:
                self.sizes.update(_item_sizes(self.backend, [data_hash]))
            scene = truth.scene(data_hash, self.bench_classes[bench_id])
            return truth.draw_like(rng, scene, classes, skill=skill, email=email, when=when,
                                   size=self.sizes.get(data_hash, truth.IMAGE_SIZE))
        key = (bench_id, data_hash)
        if key not in self.gold:
            try:
                got = self.backend.get_label_rows(bench_id, [data_hash]) if bench_id else []
            except NotFound:
                got = []
            self.gold[key] = objects_of(got[0]) if got else []
        return annotate_like(rng, self.gold[key], classes, skill=skill, email=email, when=when)


def _skills(skills: Mapping[str, float] | None) -> dict[str, float]:
    out = {}
    for email, value in (skills or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise InvalidInput(f"the skill of {shown(email, limit=80)} must be a number from 0 to 1, got "
                               f"{shown(repr(value), limit=40)}")
        out[email.strip().casefold()] = float(value)
    return out


def simulate(backend: SandboxBackend, *, rate: float = 2.0, duration: float | None = 10.0,
             seed: int | None = None, stop: threading.Event | None = None,
             on_step=None, benchmark_id: str | None = None, until_done: bool = False,
             skills: Mapping[str, float] | None = None) -> int:
    """Annotators keep labelling: ``rate`` label rows a second move to Complete (or get revised).

    Runs for ``duration`` seconds (None: until ``stop`` is set). Returns the number of steps.
    Every training project of every round takes part (``benchmark_id``'s alone when given). Each
    annotator's skill is :func:`_skill` of their email unless ``skills`` (email → 0..1) names it.

    ``until_done`` labels every unfinished task of those projects at once, in listing order, and
    returns (``rate`` and ``duration`` are not used): repeatable, each task's labels drawn from the
    seed (0 when none), the project and the item alone.
    """
    if rate <= 0:
        raise InvalidInput("--rate must be positive")
    chosen = _skills(skills)
    trainings = training_projects(backend, benchmark_id)
    if not trainings:
        raise NotFound("no training projects to simulate", hint="provision some first, or start over with a fresh "
                       "demo workspace", see=["provision.apply", see("sandbox.replace_demo", path=backend.store.path)])
    drawer = _Drawer(backend)

    def skill_of(email: str) -> float:
        return chosen.get(email.casefold(), _skill(email))

    if until_done:
        steps = 0
        for project, bench_id, email in trainings:
            final = backend.final_stage(project.id)
            for task in backend.list_label_rows(project.id):
                if task.done:
                    continue
                if stop is not None and stop.is_set():
                    return steps
                rng = random.Random(f"{0 if seed is None else seed}\0{project.id}\0{task.data_hash}")
                labels = drawer.draw(rng, project, bench_id, task.data_hash, skill=skill_of(email), email=email,
                                     when=datetime.now(UTC))
                backend.save_labels(project.id, task.data_hash, labels, stage=final)
                steps += 1
                if on_step is not None:
                    on_step(project, task)
        return steps
    rng = random.Random(seed)
    steps = 0
    start = time.monotonic()
    interval = 1.0 / rate
    while True:
        if stop is not None and stop.is_set():
            break
        if duration is not None and time.monotonic() - start >= duration:
            break
        project, bench_id, email = rng.choice(trainings)
        rows = backend.list_label_rows(project.id)
        final = backend.final_stage(project.id)
        todo = [r for r in rows if not r.done]
        target = todo[0] if todo else rng.choice(rows) if rows else None
        if target is None:  # nothing to label in that project: wait a step, never spin
            steps_skipped = min(interval, 0.5)
            if stop is not None and stop.wait(steps_skipped):
                break
            if stop is None:
                time.sleep(steps_skipped)
            continue
        labels = drawer.draw(rng, project, bench_id, target.data_hash, skill=skill_of(email), email=email,
                             when=datetime.now(UTC))
        backend.save_labels(project.id, target.data_hash, labels, stage=final)
        steps += 1
        if on_step is not None:
            on_step(project, target)
        now = time.monotonic()
        wait = start + steps * interval - now
        if duration is not None:  # never past --for, however slow the rate
            wait = min(wait, start + duration - now)
        if wait > 0:
            if stop is not None:
                if stop.wait(wait):
                    break
            else:
                time.sleep(wait)
    return steps


def _pixels(value: Any) -> int | None:
    """An image dimension as the sandbox stores it: a whole number of pixels, or unknown (None)
    for anything else a file may hold (a string, an object, 1e30, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not (0 < value <= 1_000_000):  # NaN fails this too
        return None
    return int(value)


def import_labels(backend: SandboxBackend, project_id: str, rows: list[Any], *, source: str = "file",
                  add_items: bool = False) -> int:
    """Load label rows (Encord's label-row JSON) into a sandbox project as Complete tasks.

    Rows with the same data hash land on the same data unit, across projects, so an imported
    benchmark and imported training exports pair up as they do in Encord.

    A row whose data unit is not in the project's dataset would add a new item to that dataset, and
    so a task to every project sharing it (a Complete benchmark would no longer be): that is refused,
    naming the rows, unless ``add_items`` says the user wants it.
    """
    project = backend.get_project(project_id)
    if not isinstance(rows, list):
        raise InvalidInput(f"{source}: expected a JSON list of label rows, got {type(rows).__name__}")
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInput(f"{source}: row {n}: expected an object, got {type(row).__name__}")
        if not isinstance(row.get("data_hash"), str) or not row["data_hash"]:
            raise InvalidInput(f"{source}: row {n}: missing 'data_hash'", hint="export with LabelRowV2.to_encord_dict()")
    final = backend.final_stage(project.id)
    if project.dataset_ids and not add_items:
        dataset_id = project.dataset_ids[0]
        known = {r["item_id"] for r in backend.store.query(
            "SELECT item_id FROM dataset_items WHERE dataset_id = ?", (dataset_id,))}
        unknown = [row["data_hash"] for row in rows if row["data_hash"] not in known]
        sharing = [r["project_id"] for r in backend.store.query(
            "SELECT project_id FROM project_datasets WHERE dataset_id = ? AND project_id != ?", (dataset_id, project.id))]
        if unknown and sharing:
            raise InvalidInput(
                f"{source}: {len(unknown)} row(s) (the first with data_hash {shown(unknown[0], limit=64)}) are not "
                f"in the dataset of '{shown(project.title, limit=80)}', which {len(sharing)} other project(s) share: "
                "importing them would add items, and tasks, to all of them",
                hint="export the rows from a project on the same dataset, or pass --add-items to add them anyway")
    folder = next((f for f in backend.list_folders(search=IMPORT_FOLDER) if f.name == IMPORT_FOLDER), None)
    if folder is None:
        folder = backend.create_folder(IMPORT_FOLDER, description="Data units created by 'sandbox import-labels'")
    with backend.store.tx() as c:
        if project.dataset_ids:
            dataset_id = project.dataset_ids[0]
        else:
            dataset_id = f"imported-{project.id}"
            c.execute("INSERT OR IGNORE INTO datasets VALUES (?,?,?,?)",
                      (dataset_id, f"Imported - {project.title}", "", now_iso()))
            c.execute("INSERT OR IGNORE INTO project_datasets VALUES (?,?)", (project.id, dataset_id))
        stamp = now_iso()
        for row in rows:
            dh = row["data_hash"]
            kind = {"img_group": "image_group", "video": "video", "dicom": "dicom_series"}.get(
                str(row.get("data_type")), "image")
            unit = unit_of(row, dh)  # the one label-row reader
            c.execute("INSERT OR IGNORE INTO items VALUES (?,?,?,?,?,?,?,?,?,?)",
                      (dh, folder.id, str(row.get("data_title") or dh), kind, str(unit.get("data_link") or ""),
                       "{}", _pixels(unit.get("width")), _pixels(unit.get("height")), 1, stamp))
            c.execute("INSERT OR IGNORE INTO dataset_items VALUES (?,?,?)", (dataset_id, dh, stamp))
        for (pid,) in c.execute("SELECT project_id FROM project_datasets WHERE dataset_id = ?",
                                (dataset_id,)).fetchall():
            backend._ensure_label_rows(c, pid)
        for row in rows:
            c.execute("UPDATE label_rows SET body = ?, stage = ?, last_edited_at = ?, "
                      "label_hash = COALESCE(?, label_hash) WHERE project_id = ? AND data_hash = ?",
                      (json.dumps({"raw": row}), final, stamp, row.get("label_hash"), project.id,
                       row["data_hash"]))
    return len(rows)
