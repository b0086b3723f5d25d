"""`annotrain doctor`: one preflight of a workspace, on either backend (issue 12, part 3).

Each check is a :class:`Check` record: ok / warn / fail / skipped, a message saying what is wrong
(or what was found), a hint saying how to fix it, and detail data for ``--json``. Every check runs
inside its own try: an ``AnnotrainError`` becomes a fail carrying its message and hint, and one
failing check never stops the others. When the workspace cannot be reached at all (the first check
fails, or a call still fails after the retry layer's attempts) the remaining checks are "skipped"
with that reason. The doctor only reads: it polls no registration job and creates nothing.

The checks, in order:

1. ``connection``: the workspace opens / the key is accepted (``Backend.check``);
2. ``roles``: the caller's role on every project annotrain manages (benchmarks and their training
   projects); a warning where it is neither admin nor team manager, or where details are refused;
3. ``template``: the configured workflow template exists and its workflow can carry training (sandbox:
   the template's stages; Encord lists no template's stages, so the workflows of existing training
   projects are checked instead, and the message says so);
4. ``integration``: at least one cloud integration is visible (Settings names none to look for);
5. ``benchmark`` (per benchmark): complete, exactly one dataset, an ontology, a workflow that fits;
6. ``annotators`` (per benchmark): every marked training project has its annotator among its users;
7. ``folders`` (per benchmark): folders holding items of the benchmark's dataset whose other items
   are not in it (files added to a folder later are not added to its datasets by themselves);
8. ``jobs``: this workspace's registration jobs pending in the job list for longer than
   :data:`PENDING_AFTER`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from annotrain_tui.core.backends.base import Backend
from annotrain_tui.core.errors import AnnotrainError, NotFound, Transient
from annotrain_tui.core.lookup import find_project, with_details
from annotrain_tui.core.models import JobStatus, Project, stages_from_titles
from annotrain_tui.core.remedies import See, refs, see
from annotrain_tui.core.text import shown

OK, WARN, FAIL, SKIPPED = "ok", "warn", "fail", "skipped"
STATUSES = (OK, WARN, FAIL, SKIPPED)

#: A registration job still pending in the job list after this long is reported.
PENDING_AFTER = timedelta(hours=2)

#: Roles that may read and change a project's datasets and users (Encord: project admin, team manager).
MANAGING_ROLES = ("admin", "team_manager")

#: Titles of the checks, by id (the fronts show these).
TITLES = {
    "connection": "Workspace and key",
    "roles": "Your role on annotrain's projects",
    "template": "Workflow template",
    "integration": "Cloud integration",
    "benchmark": "Benchmark",
    "annotators": "Annotators in their training projects",
    "folders": "Folders and the benchmark dataset",
    "jobs": "Registration jobs",
}

#: The fix: ``core.benchmark.link_folder`` (only what the dataset lacks).
LINK_HINT = ("link the folder into the dataset: only the missing files are linked; every project on the dataset "
             "then gets a task for each, which the benchmark must label")


@dataclass
class Check:
    id: str
    name: str
    status: str
    message: str
    hint: str = ""  # what fixes it, in words (no front's command or key)
    detail: dict[str, Any] = field(default_factory=dict)
    benchmark_id: str | None = None
    see: tuple[See, ...] = ()  # the actions that fix it (core.remedies); each front renders them

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "status": self.status, "message": self.message,
                "hint": self.hint or None, "see": [{"action": r.action, **dict(r.args)} for r in self.see],
                "benchmark_id": self.benchmark_id, "detail": self.detail}


@dataclass
class DoctorReport:
    backend: str
    checks: list[Check] = field(default_factory=list)
    benchmarks: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for c in self.checks if c.status == status)

    @property
    def ok(self) -> bool:
        return self.count(FAIL) == 0

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in STATUSES if self.count(s)]
        return ", ".join(parts) or "no checks"

    def to_json(self) -> dict[str, Any]:
        return {"backend": self.backend, "ok": self.ok,
                "counts": {s: self.count(s) for s in STATUSES},
                "benchmarks": self.benchmarks, "checks": [c.to_json() for c in self.checks]}


def _title(p: Project) -> str:
    return f"'{shown(p.title, limit=80)}' ({shown(p.id, limit=64)})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class _Unreachable(Exception):
    """The workspace stopped answering: every later check is skipped with ``reason``."""

    def __init__(self, message: str, hint: str = "", see: tuple[See, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.see = see


class _Doctor:
    def __init__(self, backend: Backend, *, settings: Any, paths: Any, benchmark_ref: str | None,
                 now: Callable[[], datetime], pending_after: timedelta, warnings: Sequence[str]) -> None:
        self.backend = backend
        self.settings = settings
        self.paths = paths
        self.benchmark_ref = benchmark_ref
        self.now = now
        self.pending_after = pending_after
        self.warnings = list(warnings)
        self.kind = getattr(backend, "name", "") or ""
        self._projects: list[Project] | None = None
        self._listing_error: BaseException | None = None
        self._crashes: dict[int, tuple[str, Any]] = {}
        self._details: dict[str, Project] = {}
        self.skip_reason: str | None = None
        self.report = DoctorReport(backend=self._describe())

    def _describe(self) -> str:
        try:
            return str(self.backend.describe())
        except Exception:  # noqa: BLE001 - only a label
            return self.kind or "workspace"

    # -- shared reads (each made once) ---------------------------------------------------------
    def projects(self) -> list[Project]:
        """The one project listing, read once; a listing that failed fails each check that needs it
        with the same error (and at most one crash log)."""
        if self._listing_error is not None:
            raise self._listing_error
        if self._projects is None:
            try:
                self._projects = list(self.backend.list_projects())
            except Exception as exc:
                self._listing_error = exc
                raise
        return self._projects

    def details(self, project: Project) -> Project:
        if project.id not in self._details:
            self._details[project.id] = with_details(self.backend, project)
        return self._details[project.id]

    def benchmarks(self) -> list[Project]:
        from annotrain_tui.core.overview import benchmark_ids

        projects = self.projects()
        if self.benchmark_ref:
            found = find_project(self.backend, self.benchmark_ref)
            return [next((p for p in projects if p.id == found.id), found)]
        by_id = {p.id: p for p in projects}
        return [by_id[i] for i in benchmark_ids(projects)]

    def training_of(self, bench: Project) -> list[Project]:
        from annotrain_tui.core.overview import training_projects_of

        return training_projects_of(self.projects(), bench.id)

    # -- running ---------------------------------------------------------------------------------
    def run_one(self, check_id: str, fn: Callable[[], Check | list[Check]], *, benchmark: Project | None = None,
                name: str | None = None) -> None:
        named = name
        name = name or TITLES[check_id]
        if self.skip_reason is not None:
            self.report.checks.append(Check(check_id, name, SKIPPED, self.skip_reason,
                                            benchmark_id=benchmark.id if benchmark else None))
            return
        try:
            result = fn()
        except _Unreachable as gone:
            self.skip_reason = f"skipped: the workspace cannot be reached ({gone.message})"
            result = Check(check_id, name, FAIL, gone.message, gone.hint, see=gone.see)
        except Transient as err:  # still failing after the retry layer's attempts: the rest cannot run
            self.skip_reason = f"skipped: the workspace stopped answering ({err.message})"
            result = Check(check_id, name, FAIL, err.message, err.hint or "the service may be down; try again later",
                           see=err.see)
        except AnnotrainError as err:
            result = Check(check_id, name, FAIL, err.message, err.hint or "", see=err.see)
        except Exception as exc:  # noqa: BLE001 - one broken check must not stop the others
            result = self._crashed(check_id, name, exc)
        for check in result if isinstance(result, list) else [result]:
            if benchmark is not None and check.benchmark_id is None:
                check.benchmark_id = benchmark.id
            if named:
                check.name = named
            self.report.checks.append(check)

    def _crashed(self, check_id: str, name: str, exc: BaseException) -> Check:
        """An unexpected error (a bug, an SDK change): a fail naming its crash log, one log per error."""
        if id(exc) not in self._crashes:
            from annotrain_tui.core import crashlog

            self._crashes[id(exc)] = crashlog.report(exc, state_dir=getattr(self.paths, "state_dir", None),
                                                     where=f"doctor {check_id}")
        line, path = self._crashes[id(exc)]
        return Check(check_id, name, FAIL, f"this check could not run: {line}", "report it with the crash log",
                     {"crash_log": str(path) if path else None})

    def run(self) -> DoctorReport:
        self.run_one("connection", self.check_connection)
        self.run_one("roles", self.check_roles)
        self.run_one("template", self.check_template)
        self.run_one("integration", self.check_integration)
        benches: list[Project] = []
        if self.skip_reason is None:
            try:
                benches = self.benchmarks()
            except Transient as err:
                self.skip_reason = f"skipped: the workspace stopped answering ({err.message})"
                self.report.checks.append(Check("benchmark", TITLES["benchmark"], FAIL, err.message, err.hint or ""))
            except AnnotrainError as err:
                self.report.checks.append(Check("benchmark", TITLES["benchmark"], FAIL, err.message, err.hint or ""))
                self._skip_benchmark_checks(f"skipped: {err.message}")
                benches = []
            except Exception as exc:  # noqa: BLE001 - as in run_one
                self.report.checks.append(self._crashed("benchmark", TITLES["benchmark"], exc))
                self._skip_benchmark_checks("skipped: the benchmark could not be found")
                benches = []
            else:
                if not benches:
                    self.report.checks.append(Check(
                        "benchmark", TITLES["benchmark"], FAIL, "no benchmark project in this workspace",
                        "create one on the training dataset and its ontology, or name the project that is your benchmark",
                        see=refs("benchmark.create")))
                    self._skip_benchmark_checks("skipped: no benchmark project")
        else:
            for check_id in ("benchmark", "annotators", "folders"):
                self.run_one(check_id, lambda: [])
        self.report.benchmarks = [b.id for b in benches]
        several = len(benches) > 1
        for bench in benches:
            suffix = f" {_title(bench)}" if several else ""
            self.run_one("benchmark", partial(self.check_benchmark, bench, named=several), benchmark=bench,
                         name=TITLES["benchmark"] + suffix)
            self.run_one("annotators", partial(self.check_annotators, bench), benchmark=bench,
                         name=TITLES["annotators"] + suffix)
            self.run_one("folders", partial(self.check_folders, bench), benchmark=bench,
                         name=TITLES["folders"] + suffix)
        self.run_one("jobs", self.check_jobs)
        return self.report

    def _skip_benchmark_checks(self, reason: str) -> None:
        for check_id in ("annotators", "folders"):
            self.report.checks.append(Check(check_id, TITLES[check_id], SKIPPED, reason))

    # -- 1. the workspace opens, the key is accepted ---------------------------------------------
    def check_connection(self) -> Check:
        name = TITLES["connection"]
        try:
            who = self.backend.check()
        except AnnotrainError as err:
            hint = err.hint or ("check the key (ssh_key_path in the settings) and the domain (encord_domain)"
                                if self.kind == "encord" else "")
            raise _Unreachable(err.message, hint, err.see or (refs("config.show") if self.kind == "encord" else ())
                               ) from None
        if self.kind == "encord":
            message = f"the key is accepted ({shown(who, limit=120)})"
        else:
            message = f"the workspace opens ({shown(self._describe(), limit=300)})"
        detail = {"who": who, "backend": self.kind, "warnings": self.warnings}
        if self.warnings:
            return Check("connection", name, WARN, message + "; " + "; ".join(self.warnings),
                         "see the warning", detail)
        return Check("connection", name, OK, message, "", detail)

    # -- 2. the caller's role on the projects annotrain manages ----------------------------------
    def check_roles(self) -> Check:
        name = TITLES["roles"]
        projects = self.projects()
        try:
            benches = self.benchmarks()
        except NotFound as err:  # a --benchmark that names nothing: the benchmark check reports it
            return Check("roles", name, SKIPPED, f"skipped: {err.message}")
        managed: list[tuple[str, Project]] = []
        seen: set[str] = set()
        for b in benches:
            for kind, p in [("benchmark", b)] + [("training", t) for t in self.training_of(b)]:
                if p.id not in seen:
                    seen.add(p.id)
                    managed.append((kind, p))
        if not managed:
            return Check("roles", name, SKIPPED, f"no benchmark or training project yet "
                         f"({_plural(len(projects), 'project')} in the workspace)")
        rows, weak, refused, unknown = [], [], [], []
        for kind, p in managed:
            rows.append({"project_id": p.id, "title": p.title, "kind": kind, "role": p.caller_role,
                         "details_refused": p.details_refused})
            if p.details_refused:
                refused.append(p)
            elif p.caller_role is None:
                unknown.append(p)
            elif p.caller_role not in MANAGING_ROLES:
                weak.append(p)
        detail = {"projects": rows}
        problems = []
        if weak:
            problems.append("you are not admin or team manager on " + ", ".join(
                f"{_title(p)} (you are {shown(p.caller_role or '?', limit=40)})" for p in weak[:5])
                + (f" and {len(weak) - 5} more" if len(weak) > 5 else "")
                + ": its datasets and users will be refused")
        if refused:
            problems.append("the datasets and users of " + ", ".join(_title(p) for p in refused[:5])
                            + (f" and {len(refused) - 5} more" if len(refused) > 5 else "")
                            + " are refused with this key")
        if problems:
            return Check("roles", name, WARN, "; ".join(problems),
                         "ask a workspace admin for the project admin or team manager role on these projects", detail)
        roles = sorted({p.caller_role for _, p in managed if p.caller_role})
        message = (f"{' / '.join(roles) or 'role not reported'} on the {_plural(len(managed), 'project')} "
                   "annotrain manages")
        if unknown:
            message += f" (the listing did not say your role on {len(unknown)} of them)"
        return Check("roles", name, OK, message, "", detail)

    # -- 3. the workflow template ----------------------------------------------------------------
    def check_template(self) -> Check:
        from annotrain_tui.core.benchmark import DEFAULT_TEMPLATE_TITLE
        from annotrain_tui.core.provisioning import resolve_template

        name = TITLES["template"]
        default = getattr(self.settings, "default_template", None) if self.settings is not None else None
        configured = dict(getattr(self.settings, "workflow_templates", None) or {}) if self.settings is not None else {}
        template = resolve_template(self.backend, None, default)  # NotFound (with did-you-mean) becomes a fail
        wanted = default or DEFAULT_TEMPLATE_TITLE
        hash_see = see("config.set", key=f'workflow_templates."{wanted}"', value="TEMPLATE_HASH")
        pick_see = see("config.set", key="default_template", value="TITLE")
        if template is None:
            return Check("template", name, WARN, f"no workflow template titled '{shown(wanted, limit=80)}': "
                         "training projects would get the default workflow",
                         "name its hash in the settings (workflow_templates)" if self.kind == "encord" else
                         "create the template, or pick another as default_template in the settings",
                         {"wanted": wanted, "configured": configured},
                         see=(hash_see,) if self.kind == "encord" else (pick_see, See("templates.list")))
        detail: dict[str, Any] = {"template": {"id": template.id, "title": template.title}}
        if self.kind != "encord":
            stages = stages_from_titles(list(template.stages))
            problems = Project(id=template.id, title=template.title, stages=stages).workflow_problems()
            detail["stages"] = [{"title": s.title, "kind": s.kind} for s in stages]
            flow = " → ".join(shown(s, limit=40) for s in template.stages)
            if problems:
                return Check("template", name, FAIL, f"template '{shown(template.title, limit=80)}' ({flow}) has "
                             + "; ".join(problems), "add the missing stages to the template, or pick another "
                             "as default_template in the settings", detail, see=(pick_see,))
            return Check("template", name, OK, f"template '{shown(template.title, limit=80)}': {flow}", "", detail)
        # Encord: no call lists a template or its stages; the workflows of existing training projects
        # are what can be checked.
        training = []
        try:
            benches = self.benchmarks()
        except NotFound:
            benches = []
        for b in benches:
            training += self.training_of(b)
        checked = [p for p in training if p.stages]
        bad = [(p, p.workflow_problems()) for p in checked if p.workflow_problems()]
        detail["checked_projects"] = [{"project_id": p.id, "title": p.title,
                                       "stages": [{"title": s.title, "kind": s.kind} for s in p.stages],
                                       "problems": p.workflow_problems()} for p in checked]
        note = ("Encord has no call that shows a template by its hash, so the workflows of "
                f"{_plural(len(checked), 'existing training project')} were checked instead (a wrong hash shows "
                "at the next create)")
        if bad:
            return Check("template", name, FAIL, f"template '{shown(template.title, limit=80)}' "
                         f"({shown(template.id, limit=64)}): " + "; ".join(
                             f"{_title(p)} has " + "; ".join(problems) for p, problems in bad[:3]) + f" ({note})",
                         "fix the template in Encord (an Annotate stage and a Complete stage), or name another "
                         "hash in the settings (workflow_templates)", detail,
                         see=(see("config.set", key=f'workflow_templates."{wanted}"', value="HASH"),))
        if not checked:
            return Check("template", name, OK, f"template '{shown(template.title, limit=80)}' "
                         f"({shown(template.id, limit=64)}) is configured; Encord has no call that lists a "
                         "template's stages and no training project exists yet, so its workflow is checked when "
                         "the first one is created", "", detail)
        return Check("template", name, OK, f"template '{shown(template.title, limit=80)}' "
                     f"({shown(template.id, limit=64)}): {note}, and each has an annotation and a final stage",
                     "", detail)

    # -- 4. a cloud integration is visible -------------------------------------------------------
    def check_integration(self) -> Check:
        name = TITLES["integration"]
        found = self.backend.list_integrations()
        detail = {"integrations": [{"id": i.id, "title": i.title, "provider": i.provider.value} for i in found]}
        if not found:
            return Check("integration", name, FAIL, "no cloud integration is visible with this key",
                         "create one in Encord (Integrations > + New integration) or ask its owner to share it "
                         "with you", detail)
        names = ", ".join(f"'{shown(i.title, limit=60)}'" for i in found[:4]) + (
            f" and {len(found) - 4} more" if len(found) > 4 else "")
        return Check("integration", name, OK, f"{_plural(len(found), 'integration')} visible: {names} "
                     "(a registration uses the one you pick)", "", detail)

    # -- 5. the benchmark: complete, one dataset -------------------------------------------------
    def check_benchmark(self, bench: Project, *, named: bool = False) -> Check:
        """``named``: the check's name already says which benchmark (there are several), so its
        message does not say it again."""
        from annotrain_tui.core.benchmark import benchmark_status

        name = TITLES["benchmark"]
        status = benchmark_status(self.backend, bench)
        project = status.project
        self._details[project.id] = project
        done = status.completeness
        detail = {"project_id": project.id, "title": project.title, "complete": done.complete, "total": done.total,
                  "dataset_ids": project.dataset_ids, "ontology_id": project.ontology_id,
                  "details_refused": project.details_refused, "warnings": status.warnings}
        fails: list[str] = []
        hints: list[str] = []
        sees: list[See] = []
        if project.dataset_ids is not None and len(project.dataset_ids) != 1:
            fails.append(f"it has {_plural(len(project.dataset_ids), 'dataset')}: attach ONLY the training dataset")
            hints.append("create the benchmark again on the one training dataset")
            sees.append(See("benchmark.create"))
        if status.ontology is None:
            fails.append("it has no ontology")
            hints.append("the benchmark needs the ontology the training projects share")
        problems = project.workflow_problems()
        if problems:
            fails.append("its workflow has " + "; ".join(problems))
        if done.total == 0:
            fails.append("it has no tasks: link files to its dataset")
        elif done.complete < done.total:
            fails.append(f"only {done.complete} of {done.total} tasks are Complete")
            hints.append("finish the benchmark labels before training starts")
            sees.append(see("benchmark.status", project=project.id))
        head = "" if named else f"{_title(project)}: "
        if fails:
            return Check("benchmark", name, FAIL, head + "; ".join(fails), "; ".join(hints), detail, see=tuple(sees))
        if project.dataset_ids is None:
            return Check("benchmark", name, WARN, head + f"{done.complete}/{done.total} tasks Complete, but its "
                         "datasets cannot be read with this key" + (f" ({project.details_refused})"
                                                                    if project.details_refused else ""),
                         "ask for the project admin or team manager role on it", detail)
        dataset_id = project.dataset_ids[0]
        dataset_title = next((d.title for d in self.backend.list_datasets() if d.id == dataset_id), None)
        return Check("benchmark", name, OK, head + f"{done.complete}/{done.total} tasks Complete, one dataset "
                     + (f"'{shown(dataset_title, limit=80)}'" if dataset_title is not None
                        else f"({shown(dataset_id, limit=64)})"), "", detail)

    # -- 6. annotators missing from their training projects --------------------------------------
    def check_annotators(self, bench: Project) -> Check:
        from annotrain_tui.core.provisioning import duplicate_message, marked_projects
        from annotrain_tui.core.roster import identity

        name = TITLES["annotators"]
        marked = marked_projects(self.projects(), bench.id)
        if not marked:
            return Check("annotators", name, OK, "no training projects for this benchmark yet "
                         "(provision a roster)", "", {"projects": []}, see=refs("provision.apply"))
        rows: list[dict[str, Any]] = []
        missing: list[tuple[Project, str]] = []
        refused: list[tuple[Project, str]] = []
        duplicates: list[tuple[list[Project], str]] = []
        from annotrain_tui.core.markers import parse_training_marker

        for email_id, projects in marked.items():
            if len(projects) > 1:
                duplicates.append((projects, email_id))
            for p in projects:
                marker = parse_training_marker(p.description)
                email = marker[1] if marker else email_id
                try:
                    full = self.details(p)
                except AnnotrainError as err:
                    if isinstance(err, Transient):
                        raise
                    refused.append((p, err.message))
                    rows.append({"project_id": p.id, "title": p.title, "annotator": email, "present": None,
                                 "refused": err.message})
                    continue
                if full.users is None:
                    refused.append((p, full.details_refused or "refused"))
                    rows.append({"project_id": p.id, "title": p.title, "annotator": email, "present": None,
                                 "refused": full.details_refused or "refused"})
                    continue
                present = any(identity(u.email) == identity(email) for u in full.users)
                rows.append({"project_id": p.id, "title": p.title, "annotator": email, "present": present,
                             "refused": None})
                if not present:
                    missing.append((p, email))
        detail = {"projects": rows}
        parts = []
        if missing:
            parts.append("; ".join(f"{shown(email, limit=120)} is not a user of {_title(p)}"
                                   for p, email in missing[:5])
                         + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
        if refused:
            parts.append("the users of " + ", ".join(_title(p) for p, _ in refused[:5]) + " cannot be read"
                         + f" ({shown(refused[0][1], limit=120)})")
        if duplicates:
            parts += [duplicate_message(email, projects) for projects, email in duplicates[:3]]
        if missing:
            return Check("annotators", name, FAIL, "; ".join(parts),
                         "provision again with the roster: it invites annotators missing from their projects", detail,
                         see=(see("provision.apply", benchmark=bench.id),))
        if parts:
            return Check("annotators", name, WARN, "; ".join(parts),
                         "ask for the project admin or team manager role on those projects" if refused
                         else "keep one project per annotator and archive the others", detail)
        return Check("annotators", name, OK, f"every annotator is a user of their training project "
                     f"({_plural(sum(len(v) for v in marked.values()), 'project')})", "", detail)

    # -- 7. folders whose items are not all in the benchmark's dataset ---------------------------
    def check_folders(self, bench: Project) -> Check:
        name = TITLES["folders"]
        project = self.details(bench)
        if project.dataset_ids is None:
            return Check("folders", name, SKIPPED, "skipped: the benchmark's datasets cannot be read with this key")
        if not project.dataset_ids:
            return Check("folders", name, SKIPPED, "skipped: the benchmark has no dataset")
        titles = {d.id: d.title for d in self.backend.list_datasets()}
        folders = [f for f in self.backend.list_folders() if f.item_count != 0]
        items_of: dict[str, list[Any]] = {}
        rows, short = [], []
        for dataset_id in project.dataset_ids:
            have = {r.item_id or r.data_hash for r in self.backend.list_data_rows(dataset_id)}
            for f in folders:
                if f.id not in items_of:
                    items_of[f.id] = list(self.backend.list_items(f.id))
                items = items_of[f.id]
                inside = [i for i in items if i.id in have]
                if not inside:
                    continue
                outside = [i for i in items if i.id not in have]
                rows.append({"dataset_id": dataset_id, "dataset": titles.get(dataset_id), "folder_id": f.id,
                             "path": f.path, "items": len(items), "in_dataset": len(inside),
                             "missing": len(outside), "examples": [i.name for i in outside[:5]]})
                if outside:
                    short.append((f, dataset_id, outside))
        detail = {"folders": rows}
        if not rows:
            return Check("folders", name, WARN, "no storage folder holds an item of the benchmark's dataset",
                         "the dataset's files may be in folders this key cannot see", detail)
        if short:
            parts = []
            for f, dataset_id, outside in short[:5]:
                examples = ", ".join(f"'{shown(i.name, limit=60)}'" for i in outside[:3])
                verb = "is" if len(outside) == 1 else "are"
                parts.append(f"{_plural(len(outside), 'item')} of folder '{shown(f.path, limit=120)}' "
                             f"{verb} not in dataset '{shown(titles.get(dataset_id) or dataset_id, limit=80)}' "
                             f"(e.g. {examples})")
            f, dataset_id, _ = short[0]
            return Check("folders", name, WARN, "; ".join(parts), LINK_HINT, detail,
                         see=(see("benchmark.link_folder", dataset=dataset_id, folder=f.path),))
        return Check("folders", name, OK, f"every item of the {_plural(len(rows), 'folder')} holding the "
                     "benchmark's files is in its dataset", "", detail)

    # -- 8. registration jobs pending for hours --------------------------------------------------
    def check_jobs(self) -> Check:
        from annotrain_tui.core.registration import JobStore, jobs_of_workspace

        name = TITLES["jobs"]
        if self.paths is None:
            return Check("jobs", name, SKIPPED, "skipped: no state dir to read the job list from")
        split = jobs_of_workspace(self.backend, JobStore(self.paths))
        now = self.now()
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        pending = [r for r in split.mine if r.status == JobStatus.PENDING]
        stale = [r for r in pending if now - _aware(r.created_at) > self.pending_after]
        hours = self.pending_after.total_seconds() / 3600
        limit = f"{hours:g} h"
        detail = {"jobs": len(split.mine), "pending": len(pending), "pending_after_hours": hours,
                  "stale": [{"id": r.id, "folder": r.folder_path, "manifest": r.manifest_path,
                             "created_at": r.created_at.isoformat(), "updated_at": r.updated_at.isoformat(),
                             "hours": round((now - _aware(r.created_at)).total_seconds() / 3600, 1)}
                            for r in stale]}
        if stale:
            listed = ", ".join(f"{shown(r.id[:8])} into '{shown(r.folder_path, limit=80)}' "
                               f"({(now - _aware(r.created_at)).total_seconds() / 3600:.0f} h)" for r in stale[:5])
            return Check("jobs", name, WARN, f"{_plural(len(stale), 'registration job')} pending for more than "
                         f"{limit}: {listed}",
                         "poll them; one still pending may have stalled on the server: "
                         "look at it in Encord, or register its files again", detail, see=refs("jobs.list"))
        if not split.mine:
            return Check("jobs", name, OK, "no registration jobs for this workspace", "", detail)
        return Check("jobs", name, OK, f"{_plural(len(split.mine), 'registration job')}, none pending for more "
                     f"than {limit}" + (f" ({len(pending)} pending)" if pending else ""), "", detail)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def run_doctor(backend: Backend, *, settings: Any = None, paths: Any = None, benchmark_ref: str | None = None,
               now: Callable[[], datetime] | None = None, pending_after: timedelta = PENDING_AFTER,
               warnings: Sequence[str] = ()) -> DoctorReport:
    """Every check against ``backend`` (``settings``: the template settings; ``paths``: the state dir
    of the job list; ``benchmark_ref``: one benchmark by id or title, default every one found;
    ``now``: the clock; ``warnings``: what opening the workspace warned about)."""
    return _Doctor(backend, settings=settings, paths=paths, benchmark_ref=benchmark_ref,
                   now=now or (lambda: datetime.now(UTC)), pending_after=pending_after,
                   warnings=warnings).run()


def unopened_report(error: AnnotrainError, *, backend: str = "") -> DoctorReport:
    """The report when the workspace could not even be opened (no key, a key refused, no sandbox
    file): the connection check fails with the error, every other check is skipped."""
    report = DoctorReport(backend=backend or "workspace")
    report.checks.append(Check("connection", TITLES["connection"], FAIL, error.message, error.hint or "",
                               see=error.see))
    reason = "skipped: the workspace could not be opened"
    for check_id in ("roles", "template", "integration", "benchmark", "annotators", "folders", "jobs"):
        report.checks.append(Check(check_id, TITLES[check_id], SKIPPED, reason))
    return report
