"""Provisioning: one training project per annotator, planned first, then applied.

Every training project uses the benchmark's dataset and ontology and the training workflow
template, and has its annotator invited with the project-level annotator role (Encord has no
per-stage assignment through the SDK). Projects are recognised by a marker in their description
(``core.markers``), not by title alone; every step is appended to a journal so a killed run
resumes without duplicates, and running again is a no-op.

Concurrent operators: ``apply_plan`` holds the provisioning lock of the benchmark
(``core.locks``, in the state dir) and the workspace's own operation lock (``Backend.operation_lock``:
on a sandbox file an flock on the file itself, so operators with different state dirs sharing one
file see it too), and recomputes the plan under them, so a second run waits for the first (saying
so, with the holder's pid) and then finds its work done. A workspace deleted or replaced under a
run (``WorkspaceGone``) stops it with that one error. Two machines on Encord share no lock: right before each create the server is asked again for a project
carrying the annotator's marker, and after the run every annotator with two marked projects is
reported (a conflict naming both projects, exit 1), never silently.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from annotrain_tui.core.backends.base import Backend, WorkspaceGone
from annotrain_tui.core.benchmark import DEFAULT_TEMPLATE_TITLE, check_workflow
from annotrain_tui.core.config import Paths
from annotrain_tui.core.errors import AnnotrainError, Cancelled, Conflict, InvalidInput, Unusable
from annotrain_tui.core.files import write_error
from annotrain_tui.core.locks import state_lock
from annotrain_tui.core.lookup import find_project, find_template, require_details
from annotrain_tui.core.markers import (
    current_rounds,
    parse_training_marker,
    training_description,
    training_marker,
    training_round,
)
from annotrain_tui.core.models import Project, StageCount, WorkflowTemplate
from annotrain_tui.core.overview import completeness
from annotrain_tui.core.remedies import Note, see
from annotrain_tui.core.roster import DEFAULT_TRAINING_TITLE, Roster, check_title_pattern, identity
from annotrain_tui.core.secrets import PRIVATE_DIR, private_opener
from annotrain_tui.core.text import shown

Action = Literal["create", "invite", "done", "conflict"]
#: the seed's rule for the benchmark (its setup page): provisioning refuses a benchmark until it holds
SEED_GATE = "This project must be completed before annotator training begins"
ROLE_NOTE = ("Annotators are invited with the project-level 'annotator' role and given every task of the "
             "annotation stage.")


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
    # what make_plan was given, so apply_plan can plan afresh under the lock (None: apply as is)
    recipe: dict[str, Any] | None = field(default=None, repr=False, compare=False)

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
    """Append-only JSON lines in the state dir; each line is flushed and fsynced before ``record``
    returns. Group commit: threads recording at once share one fsync (a line written before an
    fsync began is on disk when it ends), so concurrent steps do not queue one fsync each."""

    def __init__(self, path: Path, *, what: str = "provisioning journal",
                 after_failure: str = "running the command again resumes where it stopped") -> None:
        self.path = path
        self.what = what
        self.after_failure = after_failure  # what the user can do when a line could not be written
        self._lock = threading.Lock()  # appends, one at a time
        self._sync_lock = threading.Lock()  # one fsync at a time
        self._written = 0  # lines appended by this Journal
        self._synced = 0  # of those, the first this many are known to be on disk

    @classmethod
    def for_benchmark(cls, journal_dir: Path, benchmark_id: str) -> Journal:
        return cls(journal_dir / f"provision-{benchmark_id}.jsonl")

    def record(self, event: str, **data: Any) -> None:
        # backslashreplace: a lone surrogate (from a server's error text) becomes its JSON escape
        line = json.dumps({"ts": datetime.now(UTC).isoformat(), "event": event, **data},
                          ensure_ascii=False).encode("utf-8", errors="backslashreplace") + b"\n"
        try:
            with self._lock:
                self.path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
                fd = private_opener(str(self.path), os.O_RDWR | os.O_APPEND | os.O_CREAT)
                try:
                    self._append(fd, line)
                except BaseException:
                    os.close(fd)
                    raise
                self._written += 1
                mine = self._written
            try:
                self._sync(fd, mine)
            finally:
                os.close(fd)
        except OSError as exc:  # a full disk, a read-only state dir: one line naming the journal
            err = write_error(self.path, exc)
            raise type(err)(f"cannot write the {self.what}: {err.message}", hint=(
                (err.hint + "; " if err.hint else "") + self.after_failure)) from None

    @staticmethod
    def _append(fd: int, line: bytes) -> None:
        """``line`` at the end of the file, whole or not at all: after a line cut short (a kill, a
        full disk) it starts on a line of its own (glued to the cut one, both would be lost), and a
        write that fails half-way is taken back, so the file is as it was."""
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        view = memoryview(line)
        try:
            while view:
                view = view[os.write(fd, view):]
        except OSError:
            try:
                os.ftruncate(fd, size)
            except OSError:
                pass
            raise

    def _sync(self, fd: int, mine: int) -> None:
        """Line ``mine`` on disk: by an fsync begun after it was written, this thread's or another's."""
        with self._sync_lock:
            if self._synced >= mine:
                return  # another thread's fsync, begun after this line was written, covered it
            with self._lock:
                upto = self._written
            os.fsync(fd)
            self._synced = upto

    def events(self, *, strict: bool = False) -> list[dict[str, Any]]:
        """Every event, oldest first; a line cut by a kill, or not an object, is skipped. A file that
        exists but cannot be read is no events (the provisioning journal only speeds up a resume: the
        marker scan covers everything), or with ``strict`` (a journal that is the only copy of what
        it holds) an error naming it."""
        try:
            with open(self.path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return []
        except OSError as exc:
            if not strict:
                return []
            raise AnnotrainError(f"cannot read the {self.what} {shown(str(self.path), limit=300)}: "
                                 f"{exc.strerror or type(exc).__name__}",
                                 hint="check the file and its directory (the state dir); nothing was changed") from None
        out = []
        for raw in data.decode("utf-8", errors="replace").splitlines():
            try:
                event = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            if isinstance(event, dict):
                out.append(event)
        return out

    def created_projects(self) -> dict[str, str]:
        """email → project id of every create the journal saw succeed."""
        return {identity(e["email"]): e["project_id"] for e in self.events()
                if e.get("event") == "created" and isinstance(e.get("email"), str)
                and isinstance(e.get("project_id"), str)}


class BenchmarkIncomplete(Conflict):
    """The gate: provisioning refuses a benchmark that is not Complete (every task in a final
    stage; a benchmark without tasks is not), unless forced. ``completeness`` says how far it is."""

    def __init__(self, benchmark: Project, completeness: StageCount, *, hint: str | None = None) -> None:
        self.benchmark, self.completeness = benchmark, completeness
        super().__init__(gate_message(benchmark, completeness), hint=hint or (
            "finish the benchmark's labels first, or override the gate to provision anyway"),
            see=see("benchmark.status", project=benchmark.id))


def benchmark_complete(done: StageCount) -> bool:
    """Complete: it has tasks, and every one is in a final (DONE) stage."""
    return done.total > 0 and done.complete >= done.total


def gate_message(benchmark: Project, done: StageCount) -> str:
    """One line: which benchmark, how far it is, and the seed's rule."""
    name = f"benchmark '{shown(benchmark.title, limit=80)}'"
    how = (f"{name} has no tasks yet" if done.total == 0 else
           f"{name} is not Complete: only {done.complete} of {done.total} benchmark tasks are Complete")
    return f'{how}, and the seed says "{SEED_GATE}"'


def resolve_template(backend: Backend, ref: str | None, default: str | None = None) -> WorkflowTemplate | None:
    if ref:
        return find_template(backend, ref)
    templates = backend.list_workflow_templates()
    wanted = default or DEFAULT_TEMPLATE_TITLE
    for t in templates:
        if t.title == wanted:
            return t
    if default:
        return find_template(backend, default)
    return None


def marked_projects(projects: list[Project], benchmark_id: str, round: int = 1) -> dict[str, list[Project]]:
    """annotator email → the projects whose marker names that annotator and this benchmark, in that
    round (provisioning makes round 1; a retake's round 2, 3 ... is its own project, never a duplicate)."""
    ours: dict[str, list[Project]] = {}
    for p in projects:
        marker = parse_training_marker(p.description)
        if marker and marker[0] == benchmark_id and training_round(p.description) == round:
            ours.setdefault(identity(marker[1]), []).append(p)
    return ours


def name_projects(projects: list[Project]) -> str:
    """'Title A' (id-a) and 'Title B' (id-b): every project named, for a message."""
    names = [f"'{shown(p.title, limit=80)}' ({shown(p.id, limit=64)})" for p in projects]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def duplicate_message(email: str, projects: list[Project]) -> str:
    return (f"{len(projects)} training projects carry the marker of {shown(email, limit=120)} for this benchmark: "
            f"{name_projects(projects)}; keep one and archive the others (annotrain never deletes)")


@contextmanager
def provisioning_lock(benchmark: Project, *, paths: Paths | None = None, timeout: float | None = None,
                      on_wait: Callable[[str], None] | None = None, cancel: threading.Event | None = None,
                      backend: Backend | None = None) -> Iterator[None]:
    """The lock held across plan + apply of one benchmark (key: its id), in the state dir, and, with
    ``backend``, that workspace's own operation lock too (``Backend.operation_lock``: on a sandbox file,
    an flock every operator of the file sees, whatever their state dir; on Encord nothing).

    A second holder waits (``on_wait`` gets one line naming the holder), then goes on; after
    ``timeout`` seconds it gets ``core.locks.LockBusy``. Re-entrant in the holding thread. Always
    the state-dir lock first, then the workspace's: no two runs take them in the other order.
    """
    what = f"provisioning of benchmark '{shown(benchmark.title, limit=80)}' ({shown(benchmark.id, limit=64)})"
    with work_lock(f"provision-{benchmark.id}", what, paths=paths, timeout=timeout, on_wait=on_wait, cancel=cancel,
                   backend=backend):
        yield


@contextmanager
def work_lock(key: str, what: str, *, paths: Paths | None = None, timeout: float | None = None,
              on_wait: Callable[[str], None] | None = None, cancel: threading.Event | None = None,
              backend: Backend | None = None) -> Iterator[None]:
    """The state-dir lock ``key`` and then, with ``backend``, the workspace's own operation lock: what
    provisioning and the programme's actions hold across plan and apply (``what`` names the work to
    whoever waits)."""
    paths = paths or Paths.default()
    with state_lock(paths.state_dir, key, what=what, timeout=timeout, on_wait=on_wait, cancel=cancel):
        operation_lock = getattr(backend, "operation_lock", None) if backend is not None else None
        if operation_lock is None:
            yield
            return
        with operation_lock(what, timeout=timeout, on_wait=on_wait, cancel=cancel):
            yield


def make_plan(backend: Backend, roster: Roster, benchmark_ref: str, *, template_ref: str | None = None,
              title_pattern: str = DEFAULT_TRAINING_TITLE, default_template: str | None = None,
              journal: Journal | None = None, force: bool = False) -> Plan:
    """What provisioning would do for each annotator of ``roster``. Refuses (:class:`BenchmarkIncomplete`)
    a benchmark that is not Complete unless ``force`` (then the plan's notes say it was forced)."""
    check_title_pattern(title_pattern)  # the one check (the CLI's --title and the setting use it too)
    roster.raise_if_invalid()
    bench = require_details(backend, find_project(backend, benchmark_ref), "provision from this benchmark")
    bench_datasets = bench.dataset_ids or []  # loaded: require_details
    if len(bench_datasets) != 1:
        raise Conflict(f"benchmark {bench.title!r} has {len(bench_datasets)} datasets; a benchmark project "
                       "must have exactly one (the training dataset)")
    if not bench.ontology_id:
        raise Conflict(f"benchmark {bench.title!r} has no ontology")
    done = completeness(backend, bench.id)
    if not benchmark_complete(done) and not force:
        raise BenchmarkIncomplete(bench, done)
    template = resolve_template(backend, template_ref, default_template)
    projects = backend.list_projects()
    ours = marked_projects(projects, bench.id)
    by_title: dict[str, list[Project]] = {}
    for p in projects:
        by_title.setdefault(identity(p.title), []).append(p)
    journaled = journal.created_projects() if journal else {}
    entries: list[PlanEntry] = []
    for r in roster.entries:
        email = identity(r.email)
        title = r.project_title(title_pattern)
        mine = ours.get(email, [])
        if not mine and email in journaled:  # created, but the listing does not show it yet
            mine = [p for p in projects if p.id == journaled[email]]
        if len(mine) > 1:
            entries.append(PlanEntry(r.name, r.email, title, "conflict", mine[0].id, duplicate_message(email, mine)))
            continue
        if mine:
            try:
                p = require_details(backend, mine[0], "check the training project of " + shown(r.email, limit=120))
            except Unusable as err:  # that one row cannot be planned; the others can
                entries.append(PlanEntry(r.name, r.email, mine[0].title, "conflict", mine[0].id, str(err)))
                continue
            diffs = []
            if sorted(p.dataset_ids or []) != sorted(bench_datasets):
                diffs.append("dataset")
            if p.ontology_id != bench.ontology_id:
                diffs.append("ontology")
            if template and p.template_id and p.template_id != template.id:
                diffs.append("workflow template")
            if diffs:
                entries.append(PlanEntry(r.name, r.email, p.title, "conflict", p.id,
                                         f"project {p.title!r} has a different {', '.join(diffs)} than the benchmark"))
            elif p.workflow_problems():
                entries.append(PlanEntry(r.name, r.email, p.title, "conflict", p.id,
                                         f"project {p.title!r}: its workflow has " + "; ".join(p.workflow_problems())))
            elif not _invited(p, email):
                entries.append(PlanEntry(r.name, r.email, p.title, "invite", p.id, "annotator not invited yet"))
            else:
                entries.append(PlanEntry(r.name, r.email, p.title, "done", p.id))
            continue
        clash = by_title.get(identity(title), [])
        if clash:
            entries.append(PlanEntry(r.name, r.email, title, "conflict", clash[0].id,
                                     f"a project titled {title!r} exists but was not created for this annotator "
                                     "and benchmark; rename it or give the annotator a 'title' in the roster"))
            continue
        entries.append(PlanEntry(r.name, r.email, title, "create"))
    listed = {identity(r.email) for r in roster.entries}
    removed = [{"email": email, "project_id": ps[0].id, "title": ps[0].title}
               for email, ps in sorted(ours.items()) if email not in listed]
    notes = [ROLE_NOTE]
    if not benchmark_complete(done):
        notes.append(f"Forced: {gate_message(bench, done)}; provisioning goes ahead as asked, and the "
                     "trainees are scored against the benchmark as it is when they are evaluated.")
    if template is None:
        notes.append(Note("No training workflow template found: projects get the default workflow. Name a template "
                          "for the run, or set default_template (on Encord, name templates in config: "
                          "workflow_templates).", see=(see("config.set", key="default_template"),)))
    if removed:
        notes.append(f"{len(removed)} annotator(s) have a training project but are not in the roster; they are "
                     "reported, never deleted.")
    # planning afresh (under the lock) keeps what the user saw: the same roster, template and titles
    recipe = dict(roster=roster, template_ref=template.id if template else None, title_pattern=title_pattern,
                  default_template=None if template else default_template, journal=journal, force=force)
    return Plan(benchmark=bench, template=template, entries=entries, removed=removed, notes=notes, recipe=recipe)


def apply_plan(backend: Backend, plan: Plan, *, concurrency: int = 4, journal: Journal | None = None,
               on_update: Callable[[PlanEntry, Outcome], None] | None = None,
               cancel: threading.Event | None = None, only: set[str] | None = None,
               paths: Paths | None = None, on_wait: Callable[[str], None] | None = None,
               lock_timeout: float | None = None) -> list[Outcome]:
    """Carry the plan out with bounded concurrency. ``only``: emails to (re)try, the rest untouched.

    Holds the benchmark's provisioning lock (``paths``: whose state dir; ``on_wait``: one line when
    another run holds it) and plans afresh under it, so what another run made meanwhile is done,
    not made again. Each create is preceded by a look for the annotator's marker on the server;
    afterwards, an annotator with two marked projects gets a conflict naming both.
    """
    if concurrency < 1:
        raise InvalidInput("--concurrency must be at least 1")
    with provisioning_lock(plan.benchmark, paths=paths, timeout=lock_timeout, on_wait=on_wait, cancel=cancel,
                           backend=backend):
        if plan.recipe is not None:
            recipe = dict(plan.recipe)
            if journal is not None:
                recipe["journal"] = journal
            plan = make_plan(backend, recipe.pop("roster"), plan.benchmark.id, **recipe)
        return _apply_locked(backend, plan, concurrency=concurrency, journal=journal, on_update=on_update,
                             cancel=cancel, only=only)


def _invited(project: Project, email: str) -> bool:
    return any(identity(u.email) == email and u.role in ("annotator", "annotator_reviewer")
               for u in project.users or ())


def _apply_locked(backend: Backend, plan: Plan, *, concurrency: int, journal: Journal | None,
                  on_update: Callable[[PlanEntry, Outcome], None] | None, cancel: threading.Event | None,
                  only: set[str] | None) -> list[Outcome]:
    bench = plan.benchmark
    if journal:
        journal.record("start", benchmark=bench.id, annotators=len(plan.entries), pid=os.getpid())

    wanted = None if only is None else {identity(o) for o in only}
    lost: list[WorkspaceGone] = []  # the workspace went away: the run stops, with that one error

    def one(entry: PlanEntry) -> Outcome:
        base = dict(name=entry.name, email=entry.email, title=entry.title)
        email = identity(entry.email)
        if wanted is not None and email not in wanted:
            return Outcome(status="skipped", project_id=entry.project_id, **base)
        if entry.action == "done":
            return Outcome(status="done", project_id=entry.project_id, **base)
        if entry.action == "conflict":
            return Outcome(status="conflict", project_id=entry.project_id, error=entry.reason, **base)
        if (cancel is not None and cancel.is_set()) or lost:
            return Outcome(status="cancelled", project_id=entry.project_id, **base)
        project_id = entry.project_id
        try:
            status = "invited"
            if entry.action == "create":
                # Another machine (no shared lock) may have made it since the plan: ask the server again.
                # Only the projects carrying this annotator's marker: on Encord no project's users and
                # datasets are loaded but theirs. (A marker edited by hand is caught after the run.)
                marker = training_marker(bench.id, entry.email)
                found = marked_projects(backend.list_projects(description_contains=marker), bench.id).get(email, [])
                if found:
                    project = require_details(backend, found[0], "check the training project found")
                    if journal:
                        journal.record("found", email=email, project_id=project.id, title=project.title)
                    if _invited(project, email):
                        return Outcome(status="done", project_id=project.id, **{**base, "title": project.title})
                    base["title"] = project.title
                else:
                    # make_plan refused a benchmark without exactly one dataset or without an ontology
                    assert bench.dataset_ids is not None and bench.ontology_id is not None
                    project = backend.create_project(
                        entry.title, description=training_description(entry.name, entry.email, bench.id),
                        dataset_ids=bench.dataset_ids, ontology_id=bench.ontology_id,
                        template_id=plan.template.id if plan.template else None)
                    status = "created"
                    if journal:
                        journal.record("created", email=email, project_id=project.id, title=entry.title)
                    check_workflow(project, plan.template)
                project_id = project.id
            assert project_id is not None  # an invite names the project found by the plan
            backend.add_users(project_id, [entry.email], "annotator")
            # The seed adds the trainee "to the annotation stage": each Annotate-stage task is theirs.
            assigned = backend.assign_tasks(project_id, entry.email)
            if journal:
                journal.record("invited", email=email, project_id=project_id, tasks_assigned=assigned)
            return Outcome(status=status, project_id=project_id, **base)
        except WorkspaceGone as err:
            lost.append(err)
            return Outcome(status="cancelled", project_id=project_id, error=str(err), **base)
        except AnnotrainError as err:
            if journal:
                journal.record("failed", email=email, project_id=project_id, error=str(err))
            return Outcome(status="failed", project_id=project_id, error=str(err), **base)
        except Exception as err:  # noqa: BLE001 - one annotator's surprise must not stop the others
            return Outcome(status="failed", project_id=project_id,
                           error=f"unexpected {type(err).__name__}; see the log", **base)

    def run(entry: PlanEntry) -> Outcome:
        outcome = one(entry)
        if on_update is not None and not lost:
            on_update(entry, outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="provision") as pool:
        outcomes = list(pool.map(run, plan.entries))
    if lost:
        raise lost[0]
    outcomes = _report_duplicates(backend, plan, outcomes, journal=journal, on_update=on_update)
    if journal:
        journal.record("finish", benchmark=bench.id,
                       failed=sum(1 for o in outcomes if o.status in ("failed", "conflict")))
    if cancel is not None and cancel.is_set():
        raise Cancelled("provisioning cancelled; run again to finish (nothing is created twice)")
    return outcomes


def _report_duplicates(backend: Backend, plan: Plan, outcomes: list[Outcome], *, journal: Journal | None,
                       on_update: Callable[[PlanEntry, Outcome], None] | None) -> list[Outcome]:
    """After the run: every annotator of the plan with two marked projects becomes a conflict naming both.

    Two machines provisioning at once (or a project copied by hand) can leave two; annotrain never
    deletes, so the user is told which ones, and the run fails (exit 1).
    """
    try:
        ours = marked_projects(backend.list_projects(), plan.benchmark.id)
    except AnnotrainError as err:
        raise AnnotrainError(f"provisioning ran, but the check for duplicate training projects failed: {err}",
                        hint="plan again: duplicates show as conflicts", see="provision.plan") from None
    out = []
    for entry, outcome in zip(plan.entries, outcomes):
        mine = ours.get(identity(entry.email), [])
        if len(mine) > 1:
            message = duplicate_message(entry.email, mine)
            if journal and outcome.error != message:
                journal.record("duplicate", email=identity(entry.email), project_ids=[p.id for p in mine])
            if outcome.status != "conflict" or outcome.error != message:
                outcome = Outcome(name=outcome.name, email=outcome.email, status="conflict",
                                  project_id=outcome.project_id or mine[0].id, title=outcome.title, error=message)
                if on_update is not None:
                    on_update(entry, outcome)
        out.append(outcome)
    return out


@dataclass
class TraineeProgress:
    email: str
    project_id: str
    title: str
    complete: int
    total: int
    last_activity: datetime | None
    error: str | None = None  # the project could not be read (no access, or the SDK cannot load it)

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "project_id": self.project_id, "title": self.title,
                "complete": self.complete, "total": self.total,
                "last_activity": self.last_activity.isoformat() if self.last_activity else None,
                "error": self.error}


def training_progress(backend: Backend, benchmark_ref: str) -> tuple[Project, list[TraineeProgress]]:
    bench = find_project(backend, benchmark_ref)
    out = []
    for p in current_rounds(backend.list_projects(), bench.id):  # a retake's round stands for its trainee
        marker = parse_training_marker(p.description)
        if not marker:
            continue
        try:
            rows = backend.list_label_rows(p.id)
        except Unusable as err:  # one unreadable project: said on its row, the others still shown
            out.append(TraineeProgress(email=marker[1], project_id=p.id, title=p.title, complete=0, total=0,
                                       last_activity=None, error=str(err)))
            continue
        done = [r for r in rows if r.done]
        # activity = edits to tasks that left the annotation stage (creation stamps every row)
        touched = [r.last_edited_at for r in rows if r.started and r.last_edited_at]
        out.append(TraineeProgress(email=marker[1], project_id=p.id, title=p.title, complete=len(done),
                                   total=len(rows), last_activity=max(touched) if touched else None))
    out.sort(key=lambda t: t.email)
    return bench, out
