"""Sandbox-only operations: the annotator simulator and importing real label-row exports."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from datetime import UTC, datetime
from typing import Any

from annotrain_tui.core.backends.sandbox.backend import SandboxBackend, now_iso
from annotrain_tui.core.backends.sandbox.demo import annotate_like
from annotrain_tui.core.backends.sandbox.labels import objects_of
from annotrain_tui.core.errors import InvalidInput, NotFound
from annotrain_tui.core.evaluation.labels import unit_of
from annotrain_tui.core.markers import parse_training_marker
from annotrain_tui.core.remedies import see
from annotrain_tui.core.text import shown

IMPORT_FOLDER = "Imported labels"


def _skill(email: str) -> float:
    digest = hashlib.sha256(email.lower().encode()).digest()
    return 0.5 + 0.5 * digest[0] / 255


def simulate(backend: SandboxBackend, *, rate: float = 2.0, duration: float | None = 10.0,
             seed: int | None = None, stop: threading.Event | None = None,
             on_step=None) -> int:
    """Annotators keep labelling: ``rate`` label rows a second move to Complete (or get revised).

    Runs for ``duration`` seconds (None: until ``stop`` is set). Returns the number of steps.
    """
    if rate <= 0:
        raise InvalidInput("--rate must be positive")
    rng = random.Random(seed)
    demo_bench = backend.store.meta("demo_benchmark")
    trainings = []
    for p in backend.list_projects():
        marker = parse_training_marker(p.description)
        if marker is None:
            continue
        bench_id, email = marker
        trainings.append((p, bench_id, email))
    if not trainings:
        raise NotFound("no training projects to simulate", hint="provision some first, or start over with a fresh "
                       "demo workspace", see=["provision.apply", see("sandbox.replace_demo", path=backend.store.path)])
    gold_cache: dict[tuple[str, str], list[dict[str, Any]]] = {}
    classes_cache: dict[str, list[dict[str, Any]]] = {}
    steps = 0
    start = time.monotonic()
    interval = 1.0 / rate
    while True:
        if stop is not None and stop.is_set():
            break
        if duration is not None and time.monotonic() - start >= duration:
            break
        project, bench_id, email = rng.choice(trainings)
        bench_id = bench_id or demo_bench or ""
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
        key = (bench_id, target.data_hash)
        if key not in gold_cache:
            try:
                got = backend.get_label_rows(bench_id, [target.data_hash])
            except NotFound:
                got = []
            gold_cache[key] = objects_of(got[0]) if got else []
        ontology_id = project.ontology_id or ""
        if ontology_id not in classes_cache:
            classes_cache[ontology_id] = backend.ontology_structure(ontology_id)["objects"] if ontology_id else []
        labels = annotate_like(rng, gold_cache[key], classes_cache[ontology_id], skill=_skill(email),
                               email=email, when=datetime.now(UTC))
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
