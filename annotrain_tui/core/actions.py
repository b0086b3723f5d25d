"""Acting on decisions: graduate and retake, each planned first, then applied.

**Graduate** adds every annotator whose latest decision is 'graduate' (on their current round) to the
named production projects with a project role. **Retake** gives every annotator decided 'retake' on
round r a new training project, round r+1: "<round-1 title> (round r+1)", on the benchmark's dataset
and ontology, from the template of their round-1 project, its marker naming the round
(``core.markers``), the annotator invited and given the annotation stage's tasks. The new round is
then the trainee's current round (``core.programme`` reads the markers).

As robust as provisioning (``core.provisioning``): the plan is made again under the programme's
lock (in the state dir, and the workspace's own operation lock), so a second run waits, then finds
the first one's work done; every step is appended to the programme's record (an fsynced log) before
the next; a create is preceded by a look on the server for a project with that round's marker, and
after the run an annotator with two projects of one round is a conflict naming both (annotrain never
deletes). Adding users is idempotent, so a run killed anywhere resumes exactly: running again does
only what is left, and a run with nothing left is all 'done'.

Record events: ``graduate-planned`` / ``graduate-added`` / ``graduate-failed`` per production
project, one ``graduate-done`` per annotator once every project of their plan is done (what
``programme.graduated_emails`` reads); ``retake-planned`` / ``retake-found`` / ``retake-created`` /
``retake-invited`` / ``retake-failed`` / ``retake-duplicate`` per annotator and round.

A retake is always a new project: moving only the items a trainee got wrong back to annotation in
the same project is not built. The SDK can move a Complete task (``FinalStageTask.move``, encord
0.1.211), but the Backend protocol has no such call, and a round kept in one project would mix two
rounds' labels in one score.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from annotrain_tui.core.backends.base import Backend, WorkspaceGone
from annotrain_tui.core.benchmark import check_workflow
from annotrain_tui.core.config import Paths
from annotrain_tui.core.errors import AnnotrainError, Cancelled, Conflict, InvalidInput, NotFound, Unusable
from annotrain_tui.core.lookup import find_project, require_details
from annotrain_tui.core.markers import (
    is_benchmark_marked,
    parse_training_marker,
    training_description,
    training_marker,
    training_round,
)
from annotrain_tui.core.models import Project
from annotrain_tui.core.programme import Programme
from annotrain_tui.core.provisioning import marked_projects, name_projects, resolve_template, work_lock
from annotrain_tui.core.roster import identity
from annotrain_tui.core.text import shown

__all__ = [
    "ROLES", "ActionEntry", "ActionOutcome", "ActionPlan", "apply_graduation", "apply_retake",
    "plan_graduation", "plan_retake", "programme_lock",
]

#: the project roles Encord has (what ``Backend.add_users`` accepts)
ROLES = ("admin", "team_manager", "reviewer", "annotator", "annotator_reviewer")
#: the default title of a retake's project: the round-1 project's title and the round
DEFAULT_RETAKE_TITLE = "{title} (round {round})"

Kind = Literal["graduate", "retake"]
Step = Literal["add", "create", "invite", "done", "conflict"]
_ROUND_SUFFIX = re.compile(r" \(round [0-9]+\)$")
_NAME = re.compile(r" for (?P<name>[^<>]+?) <[^<>]*>\. \[annotrain:training ")


@dataclass
class ActionEntry:
    """One step of a plan. Graduate: one annotator and one production project (``title``, ``ref`` as
    the user named it, ``round`` the round decided on). Retake: one annotator's new round (``title``
    the project's, ``round`` the new round's number)."""

    email: str
    action: Step
    title: str
    project_id: str | None = None
    round: int = 1
    role: str = "annotator"
    reason: str = ""
    name: str = ""  # retake: the trainee's name, for the new project's description
    template_id: str | None = None  # retake: the new project's workflow template

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "action": self.action, "title": self.title, "project_id": self.project_id,
                "round": self.round, "role": self.role, "reason": self.reason or None}


@dataclass
class ActionPlan:
    kind: Kind
    programme: Programme
    entries: list[ActionEntry]
    notes: list[str] = field(default_factory=list)
    # what the plan was made from, so the apply can plan afresh under the lock (None: apply as is)
    recipe: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def count(self, action: Step) -> int:
        return sum(1 for e in self.entries if e.action == action)

    @property
    def has_work(self) -> bool:
        return any(e.action in ("add", "create", "invite") for e in self.entries)

    @property
    def emails(self) -> list[str]:
        return list(dict.fromkeys(e.email for e in self.entries))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "benchmark_id": self.programme.id, "entries": [e.to_json() for e in self.entries],
                "notes": list(self.notes)}


@dataclass
class ActionOutcome:
    email: str
    status: str  # added, created, invited, done, failed, conflict, cancelled, skipped
    title: str
    project_id: str | None
    round: int
    role: str
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- the lock ---------------------------------------------------------------------------------

@contextmanager
def programme_lock(prog: Programme, *, paths: Paths | None = None, timeout: float | None = None,
                   on_wait: Callable[[str], None] | None = None, cancel: threading.Event | None = None,
                   backend: Backend | None = None) -> Iterator[None]:
    """The lock held across plan + apply of a programme's actions (key: its benchmark's id), in the
    state dir, and, with ``backend``, the workspace's own operation lock (on a sandbox file an flock
    every operator of it sees). Waits like ``provisioning_lock`` (``on_wait`` gets one line naming the
    holder; ``core.locks.LockBusy`` after ``timeout``); re-entrant in the holding thread."""
    what = f"work on programme '{shown(prog.title, limit=80)}' ({shown(prog.id, limit=64)})"
    with work_lock(f"programme-{prog.id}", what, paths=paths, timeout=timeout, on_wait=on_wait, cancel=cancel,
                   backend=backend):
        yield


# -- what the plans share -----------------------------------------------------------------------

def _rounds(projects: list[Project], benchmark_id: str) -> dict[str, dict[int, list[Project]]]:
    """email → round → the training projects of this benchmark carrying that round's marker."""
    out: dict[str, dict[int, list[Project]]] = {}
    for p in projects:
        marker = parse_training_marker(p.description)
        if marker and marker[0] == benchmark_id:
            out.setdefault(identity(marker[1]), {}).setdefault(training_round(p.description), []).append(p)
    return out


def _role_of(project: Project, email: str) -> str | None:
    return next((u.role for u in project.users or () if identity(u.email) == email), None)


def _chosen(prog: Programme, kind: Kind, rounds: dict[str, dict[int, list[Project]]],
            only: list[str] | set[str] | None) -> tuple[list[tuple[str, int]], list[tuple[str, str]], list[str]]:
    """The annotators a plan of ``kind`` acts on: ([(email, round decided on)], [(email, why not)] for
    the ones ``only`` named that cannot be acted on, notes on decisions that no longer apply)."""
    decisions = prog.record.decisions()
    wanted = None if only is None else list(dict.fromkeys(identity(e) for e in only))
    emails = sorted(decisions) if wanted is None else wanted
    act: list[tuple[str, int]] = []
    refused: list[tuple[str, str]] = []
    notes: list[str] = []
    for email in emails:
        mine = rounds.get(email)
        d = decisions.get(email)
        who = shown(email, limit=120)
        if mine is None:
            if wanted is not None:
                refused.append((email, f"{who} has no training project in this programme"))
            continue
        current = max(mine)
        if d is None or d.decision != kind:
            if wanted is not None:
                said = f"decided '{d.decision}' on round {d.round}" if d else "not decided yet"
                refused.append((email, f"{who} is {said}, not '{kind}': record a '{kind}' decision first"))
            continue
        # a retake decided on round r is done when round r+1 exists: still planned (then 'done')
        applies = d.round == current or (kind == "retake" and d.round + 1 == current)
        if not applies:
            why = (f"{who} was decided '{kind}' on round {d.round} but is on round {current} now: "
                   "decide again on the current round")
            if wanted is not None:
                refused.append((email, why))
            else:
                notes.append(why)
            continue
        act.append((email, d.round))
    return act, refused, notes


def _programme_projects(projects: list[Project]) -> set[str]:
    """Ids of every benchmark a training marker names, and of every project annotrain made as one."""
    out = {p.id for p in projects if is_benchmark_marked(p.description) and not parse_training_marker(p.description)}
    for p in projects:
        marker = parse_training_marker(p.description)
        if marker:
            out.add(marker[0])
    return out


# -- graduate --------------------------------------------------------------------------------------

def _base(entry: ActionEntry) -> dict[str, Any]:
    return dict(email=entry.email, title=entry.title, project_id=entry.project_id, round=entry.round,
                role=entry.role)


def _settled(entry: ActionEntry, base: dict[str, Any], cancel: threading.Event | None,
             lost: list[WorkspaceGone]) -> ActionOutcome | None:
    """The outcome of a step that needs no call (done, a conflict, or cancelled before it began)."""
    if entry.action == "done":
        return ActionOutcome(status="done", **base)
    if entry.action == "conflict":
        return ActionOutcome(status="conflict", error=entry.reason, **base)
    if (cancel is not None and cancel.is_set()) or lost:
        return ActionOutcome(status="cancelled", **base)
    return None


def plan_graduation(backend: Backend, prog: Programme, production_refs: list[str], role: str = "annotator",
                    only: list[str] | set[str] | None = None) -> ActionPlan:
    """For every annotator decided 'graduate' on their current round (``only``: those emails), for
    every production project named: ``add`` (not in it yet), ``done`` (in it with that role) or
    ``conflict`` (in it with another role, which Encord keeps when a user is added again; the project
    unknown, or the benchmark, or a training project, or a benchmark of a programme)."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {shown(role, limit=40)!r}", hint="one of " + ", ".join(ROLES))
    refs = [r.strip() for r in dict.fromkeys(production_refs) if r.strip()]
    if not refs:
        raise InvalidInput("name at least one production project to graduate into (--production PROJECT)")
    projects = backend.list_projects()
    rounds = _rounds(projects, prog.id)
    act, refused, notes = _chosen(prog, "graduate", rounds, only)
    trainings = {p.id for p in projects if parse_training_marker(p.description)}
    benchmarks = _programme_projects(projects) | {prog.id}
    targets: list[tuple[str, Project | None, str]] = []  # (title, project, why it cannot be used)
    seen: set[str] = set()
    for ref in refs:
        try:
            p = find_project(backend, ref)
        except NotFound as err:
            targets.append((ref, None, f"{err.message} (named as a production project)"))
            continue
        except AnnotrainError as err:  # two projects with that title, a refusal: that one project
            targets.append((ref, None, str(err)))
            continue
        if p.id in seen:
            continue
        seen.add(p.id)
        named = f"'{shown(p.title, limit=80)}' ({shown(p.id, limit=64)})"
        if p.id == prog.id:
            targets.append((p.title, p, f"{named} is this programme's benchmark, not a production project"))
        elif p.id in trainings:
            targets.append((p.title, p, f"{named} is a training project, not a production project"))
        elif p.id in benchmarks:
            targets.append((p.title, p, f"{named} is the benchmark of a programme, not a production project"))
        else:
            try:
                targets.append((p.title, require_details(backend, p, "graduate annotators into it"), ""))
            except Unusable as err:
                targets.append((p.title, p, str(err)))
    entries: list[ActionEntry] = []
    for email, why in refused:
        entries.append(ActionEntry(email, "conflict", "", role=role, reason=why))
    for email, decided in act:
        for title, target, problem in targets:
            base: dict[str, Any] = dict(email=email, title=title, project_id=target.id if target else None,
                                        round=decided, role=role)
            if problem:
                entries.append(ActionEntry(action="conflict", reason=problem, **base))
                continue
            assert target is not None
            has = _role_of(target, email)
            if has is None:
                entries.append(ActionEntry(action="add", reason=f"add as {role}", **base))
            elif has == role:
                entries.append(ActionEntry(action="done", **base))
            else:
                entries.append(ActionEntry(action="conflict", reason=(
                    f"{shown(email, limit=120)} is in '{shown(target.title, limit=80)}' as {has} already; Encord keeps a user's role when "
                    f"they are added again: change it in Encord, or graduate with --role {has}"),
                    **base))
    recipe = dict(production_refs=refs, role=role, only=None if only is None else list(only))
    return ActionPlan(kind="graduate", programme=prog, entries=entries, notes=notes, recipe=recipe)


def apply_graduation(backend: Backend, plan: ActionPlan, *, concurrency: int = 4,
                     on_update: Callable[[ActionEntry, ActionOutcome], None] | None = None,
                     cancel: threading.Event | None = None, paths: Paths | None = None,
                     on_wait: Callable[[str], None] | None = None, lock_timeout: float | None = None
                     ) -> list[ActionOutcome]:
    """Carry a graduation plan out under the programme's lock, planned afresh there. Each add is
    recorded before (``graduate-planned``) and after (``graduate-added`` / ``graduate-failed``); an
    annotator every project of whose plan is done gets one ``graduate-done``."""
    if plan.kind != "graduate":
        raise InvalidInput("apply_graduation applies a graduation plan")
    if concurrency < 1:
        raise InvalidInput("--concurrency must be at least 1")
    prog = plan.programme
    with programme_lock(prog, paths=paths, timeout=lock_timeout, on_wait=on_wait, cancel=cancel, backend=backend):
        if plan.recipe is not None:
            plan = plan_graduation(backend, prog, **plan.recipe)
        record = prog.record
        for e in plan.entries:
            if e.action == "add":
                record.record("graduate-planned", email=e.email, project_id=e.project_id, role=e.role, round=e.round)
        lost: list[WorkspaceGone] = []

        def add(entry: ActionEntry, base: dict[str, Any]) -> ActionOutcome:
            assert entry.project_id is not None  # an add names the project the plan found
            backend.add_users(entry.project_id, [entry.email], entry.role)
            record.record("graduate-added", email=entry.email, project_id=entry.project_id, role=entry.role,
                          round=entry.round)
            return ActionOutcome(status="added", **base)

        outcomes = _run(plan.entries, add, concurrency, on_update, lost, cancel=cancel, record=record,
                        failed_event="graduate-failed")
        by_email: dict[str, list[ActionOutcome]] = {}
        for o in outcomes:
            by_email.setdefault(o.email, []).append(o)
        already = prog.record.events("graduate-done")
        for email, mine in by_email.items():
            if not mine or any(o.status not in ("added", "done") for o in mine):
                continue
            ids = sorted(o.project_id for o in mine if o.project_id)
            if any(e.get("email") == email and e.get("role") == mine[0].role and isinstance(e.get("project_ids"), list)
                   and set(ids) <= set(e["project_ids"]) for e in already):
                continue  # recorded by an earlier run
            record.record("graduate-done", email=email, project_ids=ids, role=mine[0].role, round=mine[0].round,
                          pid=os.getpid())
        prog.graduated = prog.graduated | {e for e, mine in by_email.items()
                                           if mine and all(o.status in ("added", "done") for o in mine)}
    if cancel is not None and cancel.is_set():
        raise Cancelled("graduation cancelled; run again to finish (nobody is added twice)")
    return outcomes


# -- retake ----------------------------------------------------------------------------------------

def _trainee_name(project: Project, email: str) -> str:
    m = _NAME.search(project.description or "")
    return m["name"].strip() if m else email.split("@", 1)[0]


def _retake_title(pattern: str, *, title: str, name: str, email: str, round: int) -> str:
    try:
        return pattern.format(title=title, name=name, email=email, round=round)
    except (KeyError, IndexError, ValueError) as exc:
        raise InvalidInput(f"retake title pattern {shown(pattern, limit=80)!r} is not usable ({type(exc).__name__}: "
                           f"{shown(str(exc), limit=80)})", hint="use {title}, {name}, {email} and {round}") from None


def _check_pattern(pattern: str) -> None:
    title = _retake_title(pattern, title="T", name="N", email="e@x", round=2)
    if not title.strip():
        raise InvalidInput(f"retake title pattern {shown(pattern, limit=80)!r} gives an empty title")
    if "{round}" not in pattern:
        raise InvalidInput(f"retake title pattern {shown(pattern, limit=80)!r} does not name the round",
                           hint="put {round} in it: every round's project needs its own title")


def _journaled(prog: Programme) -> dict[tuple[str, int], str]:
    """(email, round) → project id of every retake the record saw created."""
    out = {}
    for e in prog.record.events("retake-created"):
        email, rnd, pid = e.get("email"), e.get("round"), e.get("project_id")
        if isinstance(email, str) and isinstance(rnd, int) and isinstance(pid, str):
            out[(identity(email), rnd)] = pid
    return out


def _invited_rounds(prog: Programme) -> set[tuple[str, str]]:
    """(email, project id) of every retake whose invite and task assignment the record saw finish."""
    return {(identity(e["email"]), e["project_id"]) for e in prog.record.events("retake-invited")
            if isinstance(e.get("email"), str) and isinstance(e.get("project_id"), str)}


def _duplicates(email: str, round: int, projects: list[Project]) -> str:
    return (f"{len(projects)} training projects carry the round-{round} marker of {shown(email, limit=120)}: "
            f"{name_projects(projects)}; keep one and archive the others (annotrain never deletes)")


def plan_retake(backend: Backend, prog: Programme, only: list[str] | set[str] | None = None,
                title_pattern: str | None = None, default_template: str | None = None) -> ActionPlan:
    """For every annotator decided 'retake' on their current round r (``only``: those emails): round
    r+1 to ``create`` (titled by ``title_pattern``: {title} the round-1 project's, {name}, {email},
    {round}; default "<round-1 title> (round r+1)"), to ``invite`` (it exists, its annotator not
    invited and given its tasks yet) or ``done``; ``conflict`` for two projects of that round, a
    title another project has, a round project on another dataset or ontology."""
    pattern = title_pattern or DEFAULT_RETAKE_TITLE
    _check_pattern(pattern)
    bench = prog.benchmark
    datasets = bench.dataset_ids or []
    if len(datasets) != 1:
        raise Conflict(f"benchmark '{shown(bench.title, limit=80)}' has {len(datasets)} datasets; a benchmark "
                       "project must have exactly one (the training dataset)")
    if not bench.ontology_id:
        raise Conflict(f"benchmark '{shown(bench.title, limit=80)}' has no ontology")
    projects = backend.list_projects()
    rounds = _rounds(projects, prog.id)
    act, refused, notes = _chosen(prog, "retake", rounds, only)
    by_title: dict[str, list[Project]] = {}
    for p in projects:
        by_title.setdefault(identity(p.title), []).append(p)
    by_id = {p.id: p for p in projects}
    journaled = _journaled(prog)
    finished = _invited_rounds(prog)
    fallback = None  # the template for projects whose round 1 names none (on Encord: always)
    entries = [ActionEntry(email, "conflict", "", reason=why) for email, why in refused]
    for email, decided in act:
        mine = rounds[email]
        new = decided + 1
        first = (mine.get(1) or mine[min(mine)])[0]
        name = _trainee_name(first, email)
        base_title = first.title if 1 in mine else _ROUND_SUFFIX.sub("", first.title)
        title = _retake_title(pattern, title=base_title, name=name, email=email, round=new)
        made = list(mine.get(new, []))
        if not made and (email, new) in journaled and journaled[(email, new)] in by_id:
            made = [by_id[journaled[(email, new)]]]  # created, but the marker lookup does not show it yet
        base: dict[str, Any] = dict(email=email, round=new, role="annotator", name=name)
        if len(made) > 1:
            entries.append(ActionEntry(action="conflict", title=made[0].title, project_id=made[0].id,
                                       reason=_duplicates(email, new, made), **base))
            continue
        if made:
            try:
                p = require_details(backend, made[0], f"check the round-{new} project of {shown(email, limit=120)}")
            except Unusable as err:
                entries.append(ActionEntry(action="conflict", title=made[0].title, project_id=made[0].id,
                                           reason=str(err), **base))
                continue
            diffs = [what for what, same in (("dataset", sorted(p.dataset_ids or []) == sorted(datasets)),
                                             ("ontology", p.ontology_id == bench.ontology_id)) if not same]
            if diffs:
                entries.append(ActionEntry(action="conflict", title=p.title, project_id=p.id, reason=(
                    f"project '{shown(p.title, limit=80)}' has a different {', '.join(diffs)} than the benchmark"),
                    **base))
            elif p.workflow_problems():
                entries.append(ActionEntry(action="conflict", title=p.title, project_id=p.id, reason=(
                    f"project '{shown(p.title, limit=80)}': its workflow has " + "; ".join(p.workflow_problems())),
                    **base))
            elif _role_of(p, email) in ("annotator", "annotator_reviewer") and (email, p.id) in finished:
                entries.append(ActionEntry(action="done", title=p.title, project_id=p.id, **base))
            else:
                entries.append(ActionEntry(action="invite", title=p.title, project_id=p.id,
                                           reason="annotator not invited and given the tasks yet",
                                           **base))
            continue
        clash = by_title.get(identity(title), [])
        if clash:
            entries.append(ActionEntry(action="conflict", title=title, project_id=clash[0].id, reason=(
                f"a project titled '{shown(title, limit=80)}' exists but is not round {new} of this annotator; "
                "rename it, or give the retake another title"), **base))
            continue
        template_id = first.template_id
        if template_id is None:
            if fallback is None:
                tpl = resolve_template(backend, None, default_template)
                fallback = tpl.id if tpl else ""
                if not tpl:
                    notes.append("No training workflow template known: the new rounds get the default workflow "
                                 "(set default_template).")
            template_id = fallback or None
        entries.append(ActionEntry(action="create", title=title, template_id=template_id,
                                   reason=f"round {new} on the benchmark's dataset and ontology", **base))
    recipe = dict(only=None if only is None else list(only), title_pattern=title_pattern,
                  default_template=default_template)
    return ActionPlan(kind="retake", programme=prog, entries=entries, notes=notes, recipe=recipe)


def apply_retake(backend: Backend, plan: ActionPlan, *, concurrency: int = 4,
                 on_update: Callable[[ActionEntry, ActionOutcome], None] | None = None,
                 cancel: threading.Event | None = None, paths: Paths | None = None,
                 on_wait: Callable[[str], None] | None = None, lock_timeout: float | None = None
                 ) -> list[ActionOutcome]:
    """Carry a retake plan out under the programme's lock, planned afresh there. Before each create
    the server is asked for a project with that round's marker; every step is recorded; afterwards an
    annotator with two projects of the round is a conflict naming both."""
    if plan.kind != "retake":
        raise InvalidInput("apply_retake applies a retake plan")
    if concurrency < 1:
        raise InvalidInput("--concurrency must be at least 1")
    prog = plan.programme
    with programme_lock(prog, paths=paths, timeout=lock_timeout, on_wait=on_wait, cancel=cancel, backend=backend):
        if plan.recipe is not None:
            plan = plan_retake(backend, prog, **plan.recipe)
        outcomes = _apply_retake_locked(backend, plan, concurrency=concurrency, on_update=on_update, cancel=cancel)
    if cancel is not None and cancel.is_set():
        raise Cancelled("retake cancelled; run again to finish (nothing is created twice)")
    return outcomes


def _apply_retake_locked(backend: Backend, plan: ActionPlan, *, concurrency: int,
                         on_update: Callable[[ActionEntry, ActionOutcome], None] | None,
                         cancel: threading.Event | None) -> list[ActionOutcome]:
    prog = plan.programme
    bench = prog.benchmark
    record = prog.record
    for e in plan.entries:
        if e.action in ("create", "invite"):
            record.record("retake-planned", email=e.email, round=e.round, action=e.action, title=e.title,
                          project_id=e.project_id, pid=os.getpid())
    lost: list[WorkspaceGone] = []

    def create_or_invite(entry: ActionEntry, base: dict[str, Any]) -> ActionOutcome:
        status = "invited"
        if entry.action == "create":
            # another machine (no shared lock) may have made it since the plan: ask the server again
            marker = training_marker(bench.id, entry.email, round=entry.round)
            found = marked_projects(backend.list_projects(description_contains=marker), bench.id,
                                    round=entry.round).get(entry.email, [])
            if found:
                project = found[0]
                record.record("retake-found", email=entry.email, round=entry.round, project_id=project.id,
                              title=project.title)
                base["title"] = project.title
            else:
                assert bench.dataset_ids is not None and bench.ontology_id is not None  # plan_retake refused less
                project = backend.create_project(
                    entry.title, description=training_description(entry.name, entry.email, bench.id,
                                                                  round=entry.round),
                    dataset_ids=bench.dataset_ids, ontology_id=bench.ontology_id, template_id=entry.template_id)
                status = "created"
                base["project_id"] = project.id
                record.record("retake-created", email=entry.email, round=entry.round, project_id=project.id,
                              title=entry.title)
                check_workflow(project)
            base["project_id"] = project.id
        project_id = base["project_id"]
        assert isinstance(project_id, str)  # an invite names the project the plan found
        backend.add_users(project_id, [entry.email], "annotator")
        assigned = backend.assign_tasks(project_id, entry.email)
        record.record("retake-invited", email=entry.email, round=entry.round, project_id=project_id,
                      tasks_assigned=assigned)
        return ActionOutcome(status=status, **base)

    outcomes = _run(plan.entries, create_or_invite, concurrency, on_update, lost, cancel=cancel, record=record,
                    failed_event="retake-failed")
    return _report_duplicates(backend, plan, outcomes, on_update=on_update)


def _report_duplicates(backend: Backend, plan: ActionPlan, outcomes: list[ActionOutcome], *,
                       on_update: Callable[[ActionEntry, ActionOutcome], None] | None) -> list[ActionOutcome]:
    """After the run: an annotator of the plan with two projects of their new round is a conflict
    naming both (two machines at once, or a project copied by hand; annotrain never deletes)."""
    try:
        rounds = _rounds(backend.list_projects(), plan.programme.id)
    except AnnotrainError as err:
        raise AnnotrainError(f"the retake ran, but the check for duplicate round projects failed: {err}",
                             hint="plan again: duplicates show as conflicts", see="retake.plan") from None
    out = []
    for entry, outcome in zip(plan.entries, outcomes):
        mine = rounds.get(entry.email, {}).get(entry.round, [])
        if len(mine) > 1:
            message = _duplicates(entry.email, entry.round, mine)
            if outcome.error != message:
                plan.programme.record.record("retake-duplicate", email=entry.email, round=entry.round,
                                             project_ids=[p.id for p in mine])
                outcome = ActionOutcome(email=outcome.email, status="conflict", title=outcome.title,
                                        project_id=outcome.project_id or mine[0].id, round=outcome.round,
                                        role=outcome.role, error=message)
                if on_update is not None:
                    on_update(entry, outcome)
        out.append(outcome)
    return out


# -- running -----------------------------------------------------------------------------------

def _failed(record: Any, event: str, entry: ActionEntry, base: dict[str, Any], error: str) -> ActionOutcome:
    try:
        record.record(event, email=entry.email, project_id=base.get("project_id"), role=entry.role,
                      round=entry.round, error=error)
    except AnnotrainError:
        pass  # the record cannot be written: the outcome still says what failed
    return ActionOutcome(status="failed", error=error, **base)


def _run(entries: list[ActionEntry], step: Callable[[ActionEntry, dict[str, Any]], ActionOutcome], concurrency: int,
         on_update: Callable[[ActionEntry, ActionOutcome], None] | None, lost: list[WorkspaceGone], *,
         cancel: threading.Event | None, record: Any, failed_event: str) -> list[ActionOutcome]:
    """Each entry's ``step`` with bounded concurrency: a step that needs no call is settled first
    (``_settled``); a step's failure is its outcome (recorded as ``failed_event``), never the run's,
    but the workspace gone stops every step not begun. ``step`` may update the outcome's ``base``
    as it goes (the project a create made), which a failure then names."""
    def run(entry: ActionEntry) -> ActionOutcome:
        base = _base(entry)
        outcome = _settled(entry, base, cancel, lost)
        if outcome is None:
            try:
                outcome = step(entry, base)
            except WorkspaceGone as err:
                lost.append(err)
                outcome = ActionOutcome(status="cancelled", error=str(err), **base)
            except AnnotrainError as err:
                outcome = _failed(record, failed_event, entry, base, str(err))
            except Exception as err:  # noqa: BLE001 - one annotator's surprise must not stop the others
                outcome = _failed(record, failed_event, entry, base, f"unexpected {type(err).__name__}; see the log")
        if on_update is not None and not lost:
            on_update(entry, outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="actions") as pool:
        outcomes = list(pool.map(run, entries))
    if lost:
        raise lost[0]
    return outcomes
