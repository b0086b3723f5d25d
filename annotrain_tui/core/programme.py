"""The training programme as one object: a benchmark project with its training dataset, ontology,
trainees (their training projects, found by marker, one per round), pass policy, decisions,
exclusions and history.

What the server holds (projects, their markers, label rows) is read each time; what only annotrain
knows (decisions, the gold audit's exclusions, evaluation snapshots, the actions taken) is the
programme's *record*: an append-only, fsynced JSON-lines log in the state dir, one file per
programme (:class:`ProgrammeRecord`). A programme's key names the workspace, the benchmark's id
and its creation time, so a sandbox rebuilt with the same (seeded) ids starts a new record.

    progs = list_programmes(backend, record_dir)            # every benchmark of the workspace
    prog = load_programme(backend, "Cohort A benchmark", record_dir)
    prog.state, prog.next_step                               # "training", "wait for ... then evaluate"
    prog.record.decide("ann@x.com", "graduate", note="ready", status="passed", reason="", round=1)
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from annotrain_tui.core.backends.base import Backend
from annotrain_tui.core.errors import InvalidInput, NotFound, Unusable
from annotrain_tui.core.lookup import find_project, with_details
from annotrain_tui.core.markers import parse_training_marker, training_round
from annotrain_tui.core.models import LabelRowInfo, Project, StageCount
from annotrain_tui.core.overview import benchmark_ids, preferred_of
from annotrain_tui.core.provisioning import Journal
from annotrain_tui.core.remedies import see
from annotrain_tui.core.roster import identity
from annotrain_tui.core.text import shown

__all__ = [
    "DECISIONS", "STATES", "SETTING_UP", "BENCHMARK_INCOMPLETE", "TRAINING", "READY", "CLOSED",
    "Decision", "Exclusion", "TrainingRound", "Trainee", "Programme", "ProgrammeRecord",
    "benchmark_version", "list_programmes", "load_programme", "programme_key",
]

DecisionKind = Literal["graduate", "retake", "hold"]
DECISIONS: tuple[DecisionKind, ...] = ("graduate", "retake", "hold")

SETTING_UP = "setting up"
BENCHMARK_INCOMPLETE = "benchmark incomplete"
TRAINING = "training"
READY = "ready for decisions"
CLOSED = "closed"
STATES = (SETTING_UP, BENCHMARK_INCOMPLETE, TRAINING, READY, CLOSED)


@dataclass(frozen=True)
class Decision:
    """A person's decision on one annotator (the latest one counts; the record keeps them all)."""

    email: str
    decision: DecisionKind
    round: int
    status: str = ""  # the computed status it was made on ("passed", "uncertain", ...)
    reason: str = ""  # that status's reason
    note: str = ""
    by: str = ""
    ts: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "decision": self.decision, "round": self.round, "status": self.status,
                "reason": self.reason, "note": self.note, "by": self.by, "ts": self.ts}


@dataclass(frozen=True)
class Exclusion:
    """A benchmark item left out of scoring by the gold audit (the whole item, for every trainee),
    with the suspect object that led to it and the reason a person gave."""

    data_hash: str
    object_hash: str | None
    reason: str
    by: str = ""
    ts: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"data_hash": self.data_hash, "object_hash": self.object_hash, "reason": self.reason,
                "by": self.by, "ts": self.ts}


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name (a container without /etc/passwd entry): still a decision
        return ""


def _text(value: Any, limit: int = 2000) -> str:
    return value[:limit] if isinstance(value, str) else ""


class ProgrammeRecord:
    """What only annotrain knows about one programme: an append-only log of events, each line
    fsynced before the call returns (``provisioning.Journal``), read back tolerantly (a line cut by
    a kill is skipped). Events: ``decision``, ``exclusion``, ``inclusion`` and the actions' own
    (``graduate-*``, ``retake-*``, written by ``core.actions``); the ``snapshot`` of each evaluation
    goes to the history file beside it (``<key>.history.jsonl``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        nothing = "nothing was recorded"
        self.journal = Journal(path, what="programme record", after_failure=nothing)
        # the snapshots (a line per evaluation, with per-item counts: large) in a file of their own,
        # so reading the decisions never parses the whole history
        self.history_path = path.with_name(path.stem + ".history.jsonl")
        self.history = Journal(self.history_path, what="programme history", after_failure=nothing)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every event, oldest first (a line cut by a kill, or not an object, is skipped). Unlike the
        provisioning journal (a speed-up: the markers cover it), the record is the only copy of the
        decisions: a record that exists but cannot be read is an error, never an empty programme."""
        return _of_kind(self.journal.events(strict=True), kind)

    def record(self, event: str, **data: Any) -> None:
        (self.history if event == "snapshot" else self.journal).record(event, **data)

    # -- decisions --------------------------------------------------------------------------
    def decide(self, email: str, decision: str, *, round: int, status: str = "", reason: str = "",
               note: str = "") -> Decision:
        if decision not in DECISIONS:
            raise InvalidInput(f"unknown decision {shown(decision, limit=40)!r}: use graduate, retake or hold")
        made = Decision(email=identity(email), decision=decision, round=round, status=status, reason=reason,
                        note=note, by=_who())
        self.record("decision", **{k: v for k, v in made.to_json().items() if k != "ts"})
        return made

    def decisions(self) -> dict[str, Decision]:
        """email → the latest decision made on that annotator."""
        out: dict[str, Decision] = {}
        for e in self.events("decision"):
            email, kind = e.get("email"), e.get("decision")
            if not isinstance(email, str) or kind not in DECISIONS:
                continue
            rnd = e.get("round")
            out[identity(email)] = Decision(
                email=identity(email), decision=kind, round=rnd if isinstance(rnd, int) and rnd > 0 else 1,
                status=_text(e.get("status")), reason=_text(e.get("reason")), note=_text(e.get("note")),
                by=_text(e.get("by"), 200), ts=_text(e.get("ts"), 64))
        return out

    # -- exclusions (the gold audit) -------------------------------------------------------
    def exclude(self, data_hash: str, *, object_hash: str | None, reason: str) -> Exclusion:
        if not reason.strip():
            raise InvalidInput("an exclusion needs a reason", hint="say why this gold is suspect (--reason TEXT)")
        made = Exclusion(data_hash=data_hash, object_hash=object_hash, reason=reason.strip(), by=_who())
        self.record("exclusion", **{k: v for k, v in made.to_json().items() if k != "ts"})
        return made

    def include(self, data_hash: str, *, reason: str = "") -> None:
        """Undo an exclusion: the item is scored again (the record keeps both)."""
        self.record("inclusion", data_hash=data_hash, reason=reason, by=_who())

    def exclusions(self) -> dict[str, Exclusion]:
        """data hash → its exclusion, for the items excluded now (an inclusion after it undoes it)."""
        out: dict[str, Exclusion] = {}
        for e in self.events():
            kind, dh = e.get("event"), e.get("data_hash")
            if not isinstance(dh, str):
                continue
            if kind == "exclusion":
                oh = e.get("object_hash")
                out[dh] = Exclusion(data_hash=dh, object_hash=oh if isinstance(oh, str) else None,
                                    reason=_text(e.get("reason")), by=_text(e.get("by"), 200),
                                    ts=_text(e.get("ts"), 64))
            elif kind == "inclusion":
                out.pop(dh, None)
        return out

    # -- history ---------------------------------------------------------------------------
    def snapshots(self) -> list[dict[str, Any]]:
        """Every evaluation snapshot, oldest first (``core.history`` writes and reads them)."""
        return [e for e in _of_kind(self.history.events(strict=True), "snapshot")
                if isinstance(e.get("annotators"), dict)]


def _of_kind(events: list[dict[str, Any]], kind: str | None) -> list[dict[str, Any]]:
    return events if kind is None else [e for e in events if e.get("event") == kind]


def programme_key(workspace_key: str, benchmark: Project) -> str:
    """The file name of a programme's record: the benchmark's id and creation time, which the
    workspace itself holds (a sandbox rebuilt with the same seeded ids has a new benchmark, so a
    new record), and the kind of backend (with Encord's domain). Never how the workspace was named:
    a sandbox file reached by another path, a symlink, or moved or copied, keeps its programme's
    record (trial 16 #2: each spelling had a record of its own)."""
    kind = workspace_key.partition(":")[0]
    scope = kind if kind == "sandbox" else workspace_key
    made = benchmark.created_at.isoformat() if benchmark.created_at else ""
    return hashlib.sha256(f"{scope}\0{benchmark.id}\0{made}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class TrainingRound:
    """One round of one annotator: its training project and how far it is."""

    email: str
    round: int
    project: Project
    complete: int = 0
    total: int = 0
    last_activity: datetime | None = None
    error: str | None = None  # the project could not be read

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.complete >= self.total

    def to_json(self) -> dict[str, Any]:
        return {"round": self.round, "project_id": self.project.id, "title": self.project.title,
                "complete": self.complete, "total": self.total, "finished": self.finished,
                "last_activity": self.last_activity.isoformat() if self.last_activity else None,
                "error": self.error}


@dataclass
class Trainee:
    email: str
    rounds: list[TrainingRound]  # oldest first
    decision: Decision | None = None

    @property
    def current(self) -> TrainingRound:
        return self.rounds[-1]

    @property
    def round(self) -> int:
        return self.current.round

    @property
    def decided(self) -> bool:
        """Decided on the current round (a decision on an earlier round was acted on already)."""
        return self.decision is not None and self.decision.round == self.round

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "round": self.round, "current": self.current.to_json(),
                "rounds": [r.to_json() for r in self.rounds],
                "decision": self.decision.to_json() if self.decision else None}


@dataclass
class Programme:
    benchmark: Project  # with details
    completeness: StageCount
    trainees: dict[str, Trainee]  # by email, sorted
    record: ProgrammeRecord
    ontology_title: str | None = None
    problems: list[str] = field(default_factory=list)  # why it is still being set up
    graduated: set[str] = field(default_factory=set)  # emails whose graduation was applied

    @property
    def id(self) -> str:
        return self.benchmark.id

    @property
    def title(self) -> str:
        return self.benchmark.title

    @property
    def dataset_id(self) -> str | None:
        ids = self.benchmark.dataset_ids or []
        return ids[0] if len(ids) == 1 else None

    @property
    def ontology_id(self) -> str | None:
        return self.benchmark.ontology_id

    @property
    def benchmark_complete(self) -> bool:
        return self.completeness.total > 0 and self.completeness.complete >= self.completeness.total

    @property
    def state(self) -> str:
        if self.problems:
            return SETTING_UP
        if not self.benchmark_complete:
            return BENCHMARK_INCOMPLETE
        if not self.trainees:
            return SETTING_UP
        if all(t.decided and t.decision is not None and t.decision.decision == "graduate"
               and t.email in self.graduated for t in self.trainees.values()):
            return CLOSED
        if any(t.current.finished and not t.decided for t in self.trainees.values()):
            return READY
        return TRAINING

    @property
    def next_step(self) -> str:
        state = self.state
        if state == SETTING_UP:
            if self.problems:
                return self.problems[0]
            return "provision the trainees from a roster"
        if state == BENCHMARK_INCOMPLETE:
            c = self.completeness
            return f"finish the benchmark: {c.complete} of {c.total} task(s) Complete"
        if state == READY:
            n = sum(1 for t in self.trainees.values() if t.current.finished and not t.decided)
            return f"evaluate and decide on {n} trainee(s) who finished their round"
        if state == CLOSED:
            return "nothing: every trainee has graduated"
        pending = [t for t in self.trainees.values() if t.decided and t.decision is not None
                   and (t.decision.decision == "graduate" and t.email not in self.graduated
                        or t.decision.decision == "retake")]
        if pending:
            return f"apply the decisions of {len(pending)} trainee(s): graduate or retake"
        working = sum(1 for t in self.trainees.values() if not t.current.finished)
        return f"wait for {working} trainee(s) to finish their round"

    def trainee(self, email: str) -> Trainee:
        t = self.trainees.get(identity(email))
        if t is None:
            raise NotFound(f"{shown(email, limit=120)} is not a trainee of the programme '{shown(self.title, limit=80)}'",
                           hint="check the email against the programme's trainees",
                           see=see("programmes.show", benchmark=self.title))
        return t

    def to_json(self) -> dict[str, Any]:
        return {"benchmark_id": self.id, "title": self.title, "state": self.state, "next_step": self.next_step,
                "dataset_id": self.dataset_id, "ontology_id": self.ontology_id, "ontology": self.ontology_title,
                "benchmark_complete": self.completeness.complete, "benchmark_total": self.completeness.total,
                "problems": list(self.problems),
                "trainees": [t.to_json() for t in self.trainees.values()],
                "decisions": {e: d.to_json() for e, d in sorted(self.record.decisions().items())},
                "graduated": sorted(self.graduated),
                "exclusions": [x.to_json() for x in self.record.exclusions().values()],
                "record": str(self.record.path)}


def _count(rows: list[LabelRowInfo]) -> tuple[int, int, datetime | None]:
    touched = [r.last_edited_at for r in rows if r.started and r.last_edited_at]
    return sum(1 for r in rows if r.done), len(rows), max(touched) if touched else None


def _rounds(backend: Backend, projects: Iterable[Project], benchmark_id: str) -> dict[str, Trainee]:
    by_email: dict[str, list[TrainingRound]] = {}
    for p in projects:
        marker = parse_training_marker(p.description)
        if not marker or marker[0] != benchmark_id:
            continue
        email = identity(marker[1])
        try:
            done, total, last = _count(backend.list_label_rows(p.id))
            tr = TrainingRound(email=email, round=training_round(p.description), project=p, complete=done,
                               total=total, last_activity=last)
        except Unusable as err:
            tr = TrainingRound(email=email, round=training_round(p.description), project=p, error=str(err))
        by_email.setdefault(email, []).append(tr)
    return {e: Trainee(email=e, rounds=sorted(rs, key=lambda r: r.round)) for e, rs in sorted(by_email.items())}


def graduated_emails(record: ProgrammeRecord) -> set[str]:
    """Annotators whose graduation was applied (``core.actions`` records ``graduate-done``)."""
    return {identity(e["email"]) for e in record.events("graduate-done") if isinstance(e.get("email"), str)}


def _programme(backend: Backend, bench: Project, projects: list[Project], record_dir: Path,
               workspace_key: str, ontologies: dict[str, str]) -> Programme:
    bench = with_details(backend, bench)
    problems = []
    if bench.dataset_ids is not None and len(bench.dataset_ids) != 1:
        problems.append(f"attach exactly one dataset (the training dataset) to the benchmark; it has "
                        f"{len(bench.dataset_ids)}")
    if not bench.ontology_id:
        problems.append("give the benchmark an ontology")
    problems += bench.workflow_problems()
    done, total, _ = _count(backend.list_label_rows(bench.id))
    if total == 0 and not problems:
        problems.append("link the training files to the benchmark's dataset: it has no tasks")
    record = ProgrammeRecord(record_dir / f"{programme_key(workspace_key, bench)}.jsonl")
    trainees = _rounds(backend, projects, bench.id)
    decisions = record.decisions()
    for t in trainees.values():
        t.decision = decisions.get(t.email)
    return Programme(benchmark=bench, completeness=StageCount(complete=done, total=total), trainees=trainees,
                     record=record, ontology_title=ontologies.get(bench.ontology_id or ""), problems=problems,
                     graduated=graduated_emails(record))


def list_programmes(backend: Backend, record_dir: Path, workspace_key: str) -> list[Programme]:
    """Every programme of the workspace (one per benchmark, in ``overview.benchmark_ids`` order)."""
    projects = backend.list_projects()
    by_id = {p.id: p for p in projects}
    ontologies = {o.id: o.title for o in backend.list_ontologies()}
    return [_programme(backend, by_id[b], projects, record_dir, workspace_key, ontologies)
            for b in benchmark_ids(projects)]


def load_programme(backend: Backend, ref: str | None, record_dir: Path, workspace_key: str, *,
                   preferred: str | None = None) -> Programme:
    """The programme of benchmark ``ref`` (an id or title); None: ``preferred`` (the remembered one)
    while it is a benchmark, else the first. NotFound when the workspace has none."""
    projects = backend.list_projects()
    if ref:
        bench = find_project(backend, ref)
        marker = parse_training_marker(bench.description)
        if marker:  # a training project names its programme
            bench = find_project(backend, marker[0])
    else:
        ids = benchmark_ids(projects)
        by_id = {p.id: p for p in projects}
        chosen = preferred_of(ids, {i: by_id[i].title for i in ids}, preferred)
        if chosen is None:
            raise NotFound("the workspace has no programme yet: no benchmark project",
                           hint="set up a benchmark project first", see="benchmark.create")
        bench = by_id[chosen]
    ontologies = {o.id: o.title for o in backend.list_ontologies()}
    return _programme(backend, bench, projects, record_dir, workspace_key, ontologies)


def benchmark_version(backend: Backend, benchmark_id: str) -> str:
    """A short digest of the benchmark's gold as it is now (each row's data hash, label hash, stage
    and last edit): two evaluations with different versions were scored against different golds."""
    rows = sorted(backend.list_label_rows(benchmark_id), key=lambda r: r.data_hash)
    h = hashlib.sha256()
    for r in rows:
        h.update(f"{r.data_hash}\0{r.label_hash}\0{r.stage}\0{r.last_edited_at.isoformat() if r.last_edited_at else ''}\n"
                 .encode("utf-8", "backslashreplace"))
    return h.hexdigest()[:12]


#: what a label row carries that is not the gold itself (when and where it was saved, its task's
#: state): left out of ``gold_version``, so saving the same gold again is the same version
_NOT_GOLD = frozenset({"last_edited_at", "created_at", "annotation_task_status", "label_status", "branch_name",
                       "is_shadow_data"})


def gold_version(rows: Iterable[Mapping[str, Any]]) -> str:
    """A short digest of the gold's content: the benchmark's label rows (the Complete ones an
    evaluation compared against), each without what only says when it was saved. The same labels
    saved again (a re-import, a save without an edit) keep the version; any change of an object,
    answer or row makes a new one (trial 16 #11: the edit-time digest called every re-save a new gold)."""
    h = hashlib.sha256()
    for row in sorted(rows, key=lambda r: str(r.get("data_hash"))):
        body = {k: v for k, v in row.items() if k not in _NOT_GOLD}
        h.update(json.dumps(body, sort_keys=True, default=str, ensure_ascii=True).encode("ascii"))
        h.update(b"\n")
    return h.hexdigest()[:12]
