"""Provisioning: one training project per annotator, planned first, then applied.

Every training project uses the benchmark's dataset and ontology and the training workflow
template, and has its annotator invited with the project-level annotator role (Encord has no
per-stage assignment through the SDK). Projects are recognised by a marker in their description
(``core.markers``), not by title alone; every step is appended to a journal so a killed run
resumes without duplicates, and running again is a no-op.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from annotrain_tui.core.errors import AnnotrainError, Cancelled, Conflict, InvalidInput
from annotrain_tui.core.lookup import find_project, find_template
from annotrain_tui.core.markers import parse_training_marker, training_description
from annotrain_tui.core.models import Project, WorkflowTemplate
from annotrain_tui.core.roster import DEFAULT_TITLE, Roster

Action = Literal["create", "invite", "done", "conflict"]
ROLE_NOTE = ("Annotators are invited with the project-level 'annotator' role: the Encord SDK cannot assign a "
             "user to one workflow stage.")


@dataclass
class PlanEntry:
    name: str
    email: str
    title: str
    action: Action
    project_id: str | None = None
    reason: str = ""


@dataclass
class Plan:
    benchmark: Project
    template: WorkflowTemplate | None
    entries: list[PlanEntry]
    removed: list[dict[str, str]] = field(default_factory=list)  # in a training project, not in the roster
    notes: list[str] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for e in self.entries if e.action == action)

    @property
    def has_work(self) -> bool:
        return any(e.action in ("create", "invite") for e in self.entries)


@dataclass
class Outcome:
    name: str
    email: str
    status: str  # created, invited, done, failed, conflict, cancelled
    project_id: str | None
    title: str
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    """Append-only JSON lines in the state dir; each line is flushed and fsynced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def for_benchmark(cls, journal_dir: Path, benchmark_id: str) -> "Journal":
        return cls(journal_dir / f"provision-{benchmark_id}.jsonl")

    def record(self, event: str, **data: Any) -> None:
        line = json.dumps({"ts": datetime.now(timezone.utc).isoformat(), "event": event, **data},
                          ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
                os.fsync(fh.fileno())

    def events(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for raw in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(raw))
            except json.JSONDecodeError:
                continue  # a line cut by a kill: the marker scan covers it
        return out

    def created_projects(self) -> dict[str, str]:
        """email → project id of every create the journal saw succeed."""
        return {e["email"]: e["project_id"] for e in self.events() if e.get("event") == "created"}


def resolve_template(backend: Any, ref: str | None, default: str | None = None) -> WorkflowTemplate | None:
    if ref:
        return find_template(backend, ref)
    templates = backend.list_workflow_templates()
    wanted = default or "Annotator Training"
    for t in templates:
        if t.title == wanted:
            return t
    if default:
        return find_template(backend, default)
    return None


def make_plan(backend: Any, roster: Roster, benchmark_ref: str, *, template_ref: str | None = None,
              title_pattern: str = DEFAULT_TITLE, default_template: str | None = None,
              journal: Journal | None = None) -> Plan:
    roster.raise_if_invalid()
    bench = find_project(backend, benchmark_ref)
    if len(bench.dataset_ids) != 1:
        raise Conflict(f"benchmark {bench.title!r} has {len(bench.dataset_ids)} datasets; a benchmark project "
                       "must have exactly one (the training dataset)")
    if not bench.ontology_id:
        raise Conflict(f"benchmark {bench.title!r} has no ontology")
    template = resolve_template(backend, template_ref, default_template)
    projects = backend.list_projects()
    ours: dict[str, list[Project]] = {}
    for p in projects:
        marker = parse_training_marker(p.description)
        if marker and marker[0] == bench.id:
            ours.setdefault(marker[1], []).append(p)
    by_title: dict[str, list[Project]] = {}
    for p in projects:
        by_title.setdefault(p.title.casefold(), []).append(p)
    journaled = journal.created_projects() if journal else {}
    entries: list[PlanEntry] = []
    for r in roster.entries:
        email = r.email.strip().lower()
        title = r.project_title(title_pattern)
        mine = ours.get(email, [])
        if not mine and email in journaled:  # created, but the listing does not show it yet
            mine = [p for p in projects if p.id == journaled[email]]
        if len(mine) > 1:
            ids = ", ".join(p.id for p in mine)
            entries.append(PlanEntry(r.name, r.email, title, "conflict", mine[0].id,
                                     f"{len(mine)} training projects exist for this annotator ({ids}); keep one"))
            continue
        if mine:
            p = mine[0]
            diffs = []
            if sorted(p.dataset_ids) != sorted(bench.dataset_ids):
                diffs.append("dataset")
            if p.ontology_id != bench.ontology_id:
                diffs.append("ontology")
            if template and p.template_id and p.template_id != template.id:
                diffs.append("workflow template")
            if diffs:
                entries.append(PlanEntry(r.name, r.email, p.title, "conflict", p.id,
                                         f"project {p.title!r} has a different {', '.join(diffs)} than the benchmark"))
            elif not any(u.email.lower() == email and u.role in ("annotator", "annotator_reviewer") for u in p.users):
                entries.append(PlanEntry(r.name, r.email, p.title, "invite", p.id, "annotator not invited yet"))
            else:
                entries.append(PlanEntry(r.name, r.email, p.title, "done", p.id))
            continue
        clash = by_title.get(title.casefold(), [])
        if clash:
            entries.append(PlanEntry(r.name, r.email, title, "conflict", clash[0].id,
                                     f"a project titled {title!r} exists but was not created for this annotator "
                                     "and benchmark; rename it or give the annotator a 'title' in the roster"))
            continue
        entries.append(PlanEntry(r.name, r.email, title, "create"))
    listed = {r.email.strip().lower() for r in roster.entries}
    removed = [{"email": email, "project_id": ps[0].id, "title": ps[0].title}
               for email, ps in sorted(ours.items()) if email not in listed]
    notes = [ROLE_NOTE]
    if template is None:
        notes.append("No training workflow template found: projects get the default workflow. Pass --template or "
                     "set default_template (on Encord, name templates in config: workflow_templates).")
    if removed:
        notes.append(f"{len(removed)} annotator(s) have a training project but are not in the roster; they are "
                     "reported, never deleted.")
    return Plan(benchmark=bench, template=template, entries=entries, removed=removed, notes=notes)


def apply_plan(backend: Any, plan: Plan, *, concurrency: int = 4, journal: Journal | None = None,
               on_update: Callable[[PlanEntry, Outcome], None] | None = None,
               cancel: threading.Event | None = None, only: set[str] | None = None) -> list[Outcome]:
    """Carry the plan out with bounded concurrency. ``only``: emails to (re)try, the rest untouched."""
    if concurrency < 1:
        raise InvalidInput("--concurrency must be at least 1")
    bench = plan.benchmark
    if journal:
        journal.record("start", benchmark=bench.id, annotators=len(plan.entries))

    def one(entry: PlanEntry) -> Outcome:
        base = dict(name=entry.name, email=entry.email, title=entry.title)
        if only is not None and entry.email.lower() not in only:
            return Outcome(status="skipped", project_id=entry.project_id, **base)
        if entry.action == "done":
            return Outcome(status="done", project_id=entry.project_id, **base)
        if entry.action == "conflict":
            return Outcome(status="conflict", project_id=entry.project_id, error=entry.reason, **base)
        if cancel is not None and cancel.is_set():
            return Outcome(status="cancelled", project_id=entry.project_id, **base)
        project_id = entry.project_id
        try:
            status = "invited"
            if entry.action == "create":
                project = backend.create_project(
                    entry.title, description=training_description(entry.name, entry.email, bench.id),
                    dataset_ids=bench.dataset_ids, ontology_id=bench.ontology_id,
                    template_id=plan.template.id if plan.template else None)
                project_id = project.id
                status = "created"
                if journal:
                    journal.record("created", email=entry.email.lower(), project_id=project_id, title=entry.title)
            backend.add_users(project_id, [entry.email], "annotator")
            if journal:
                journal.record("invited", email=entry.email.lower(), project_id=project_id)
            return Outcome(status=status, project_id=project_id, **base)
        except AnnotrainError as err:
            if journal:
                journal.record("failed", email=entry.email.lower(), project_id=project_id, error=str(err))
            return Outcome(status="failed", project_id=project_id, error=str(err), **base)
        except Exception as err:  # noqa: BLE001 - one annotator's surprise must not stop the others
            return Outcome(status="failed", project_id=project_id,
                           error=f"unexpected {type(err).__name__}; see the log", **base)

    def run(entry: PlanEntry) -> Outcome:
        outcome = one(entry)
        if on_update is not None:
            on_update(entry, outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="provision") as pool:
        outcomes = list(pool.map(run, plan.entries))
    if journal:
        journal.record("finish", benchmark=bench.id,
                       failed=sum(1 for o in outcomes if o.status in ("failed", "conflict")))
    if cancel is not None and cancel.is_set():
        raise Cancelled("provisioning cancelled; run again to finish (nothing is created twice)")
    return outcomes


@dataclass
class TraineeProgress:
    email: str
    project_id: str
    title: str
    complete: int
    total: int
    last_activity: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "project_id": self.project_id, "title": self.title,
                "complete": self.complete, "total": self.total,
                "last_activity": self.last_activity.isoformat() if self.last_activity else None}


def training_progress(backend: Any, benchmark_ref: str) -> tuple[Project, list[TraineeProgress]]:
    bench = find_project(backend, benchmark_ref)
    out = []
    for p in backend.list_projects():
        marker = parse_training_marker(p.description)
        if not marker or marker[0] != bench.id:
            continue
        rows = backend.list_label_rows(p.id)
        done = [r for r in rows if r.stage == "Complete"]
        # activity = edits to tasks that left the first stage (creation stamps every row)
        touched = [r.last_edited_at for r in rows if r.stage != "Annotate" and r.last_edited_at]
        out.append(TraineeProgress(email=marker[1], project_id=p.id, title=p.title, complete=len(done),
                                   total=len(rows), last_activity=max(touched) if touched else None))
    out.sort(key=lambda t: t.email)
    return bench, out
