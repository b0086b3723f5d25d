"""`annotrain benchmark …`, `annotrain roster check`, `annotrain provision`, `annotrain progress`."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack

from annotrain_tui.cli.common import (
    add_command,
    add_json_flag,
    add_programme_option,
    emit_json,
    path_arg,
    positive_int,
    table,
)
from annotrain_tui.cli.context import workspace_from_args
from annotrain_tui.core.benchmark import (
    DEFAULT_BENCHMARK_TITLE,
    DEFAULT_TEMPLATE_TITLE,
    benchmark_status,
    create_benchmark_project,
    create_training_dataset,
    verify_dataset,
)
from annotrain_tui.core.errors import Conflict, NotFound, UsageError
from annotrain_tui.core.lookup import find_project
from annotrain_tui.core.models import Project
from annotrain_tui.core.overview import default_benchmark
from annotrain_tui.core.provisioning import (
    BenchmarkIncomplete,
    Journal,
    apply_plan,
    make_plan,
    provisioning_lock,
    training_progress,
)
from annotrain_tui.core.roster import DEFAULT_TRAINING_TITLE, RosterInvalid, read_roster, title_pattern_problem
from annotrain_tui.core.text import shown

ACTION_WORDS = {"create": "will create", "invite": "will invite", "done": "already done", "conflict": "CONFLICT"}


def title_pattern_arg(text: str) -> str:
    """argparse type of --title: the one title-pattern check (core.roster), refused before anything runs."""
    problem = title_pattern_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def _print_problems(err: RosterInvalid) -> None:
    for p in err.roster.problems:
        sys.stderr.write(p.render(err.roster.source) + "\n")


def _roster_check(args: argparse.Namespace) -> int:
    roster = read_roster(args.file, title_pattern=args.title)
    if args.json:
        emit_json({"path": args.file, "valid": roster.ok, "annotators": len(roster.entries),
                   "problems": [{"line": p.line, "column": p.column, "message": p.message} for p in roster.problems]})
    else:
        for p in roster.problems:
            print(p.render(roster.source))
        print(f"{len(roster.entries)} annotator(s), {len(roster.problems)} problem(s)")
    return 0 if roster.ok else 1  # problems in what was read: a domain failure, as a manifest's errors


#: the help of --programme/--benchmark on provision and progress
PROGRAMME_HELP = ("the programme: its benchmark project's id or title (default: the current programme, the one "
                  "used last, else the first benchmark)")


def current_benchmark(args: argparse.Namespace, ws) -> Project:
    """The benchmark ``--programme``/``--benchmark`` names (found as before), else the current
    programme's (``Workspace.programme``'s rule: the one used last while it is a benchmark, else the
    first), without reading every trainee's rows. Naming one does not make it current."""
    if args.benchmark:
        bench = find_project(ws.backend, args.benchmark)
    else:
        found = default_benchmark(ws.backend, preferred=ws.recent().get("benchmark"))
        if found is None:
            raise NotFound("the workspace has no programme yet: no benchmark project",
                           hint="set up a benchmark project first",
                           see="benchmark.create")
        bench = found
    return bench


def _provision(args: argparse.Namespace) -> int:
    roster = read_roster(args.roster, title_pattern=args.title)
    if not roster.ok:
        _print_problems(RosterInvalid(roster))
        raise RosterInvalid(roster)
    ws = workspace_from_args(args)

    def waiting(line: str) -> None:
        sys.stderr.write(f"annotrain: {shown(line)}\n")
        sys.stderr.flush()

    try:
        bench = current_benchmark(args, ws)
        journal = Journal.for_benchmark(ws.paths.journal_dir, bench.id)
        hold = ExitStack()
        if not args.dry_run:
            # plan + apply under the benchmark's lock: a second run waits here, then plans afresh
            hold.enter_context(provisioning_lock(bench, paths=ws.paths, on_wait=waiting, backend=ws.backend))
        with hold:
            return _plan_and_apply(args, ws, roster, bench, journal, waiting)
    finally:
        ws.close()


def _plan_and_apply(args, ws, roster, bench, journal, waiting) -> int:
    try:
        plan = make_plan(ws.backend, roster, bench.id, template_ref=args.template, title_pattern=args.title,
                         default_template=ws.settings.default_template, journal=journal, force=args.force)
    except BenchmarkIncomplete as err:  # the gate, with this front's override named
        raise BenchmarkIncomplete(err.benchmark, err.completeness, hint=(
            "finish the benchmark's labels first, or pass --force to provision anyway")) from None
    if not args.json:
        print(f"Benchmark '{shown(plan.benchmark.title)}' ({shown(plan.benchmark.id)}); template "
              f"{shown(plan.template.title) if plan.template else '(default workflow)'!r}")
        print(table([[e.name, e.email, ACTION_WORDS[e.action], e.title, e.project_id or "", e.reason]
                     for e in plan.entries], ["NAME", "EMAIL", "PLAN", "TITLE", "PROJECT", "NOTE"]))
        for r in plan.removed:
            print(f"not in roster (kept, never deleted): {shown(r['email'])} → {shown(r['title'])} "
                  f"({shown(r['project_id'])})")
        for note in plan.notes:
            print(f"note: {shown(note)}")
    if args.dry_run:
        if args.json:
            emit_json({"dry_run": True, "annotators": [
                {"name": e.name, "email": e.email, "status": e.action, "project_id": e.project_id,
                 "title": e.title, "error": e.reason or None} for e in plan.entries],
                "removed": plan.removed, "notes": plan.notes})
        return 0 if not any(e.action == "conflict" for e in plan.entries) else 1
    if plan.has_work and not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("provisioning creates projects and invites users", hint="pass --yes to apply, "
                             "or --dry-run to only see the plan")
        answer = input(f"Create {plan.count('create')} project(s) and invite {plan.count('create') + plan.count('invite')} "
                       "annotator(s)? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing done.")
            return 1

    def progress(entry, outcome):
        if not args.json and outcome.status in ("created", "invited", "failed"):
            print(f"  {outcome.status:<8} {shown(outcome.email)}  {shown(outcome.project_id or '')}  "
                  f"{shown(outcome.error or '')}", flush=True)

    outcomes = apply_plan(ws.backend, plan, concurrency=args.concurrency, journal=journal, on_update=progress,
                          paths=ws.paths, on_wait=waiting)
    failed = [o for o in outcomes if o.status in ("failed", "conflict")]
    if args.json:
        emit_json({"annotators": [{"name": o.name, "email": o.email, "status": o.status,
                                   "project_id": o.project_id, "title": o.title, "error": o.error}
                                  for o in outcomes], "removed": plan.removed})
    else:
        print(table([[o.name, o.email, o.status, o.project_id or "", o.title, o.error or ""] for o in outcomes],
                    ["NAME", "EMAIL", "STATUS", "PROJECT", "TITLE", "ERROR"]))
        print(f"{len(outcomes) - len(failed)} done, {len(failed)} failed")
    return 1 if failed else 0


def _progress(args: argparse.Namespace) -> int:
    ws = workspace_from_args(args)
    try:
        bench, rows = training_progress(ws.backend, current_benchmark(args, ws).id)
        status = benchmark_status(ws.backend, bench)
    finally:
        ws.close()
    if args.json:
        emit_json({"benchmark": status.to_json(), "annotators": [r.to_json() for r in rows]})
        return 0
    print(f"Benchmark '{shown(bench.title)}': {status.completeness.complete}/{status.completeness.total} Complete")
    for w in status.warnings:
        print(f"warning: {shown(w)}")
    if not rows:
        print("No training projects for this benchmark yet: run 'annotrain provision'.")
        return 0
    print(table([[r.email, f"{r.complete}/{r.total}" if not r.error else "?",
                  f"{100 * r.complete / r.total:.0f}%" if r.total else "-",
                  "unreadable" if r.error else r.last_activity.strftime("%Y-%m-%d %H:%M") if r.last_activity else "never",
                  r.title]
                 for r in rows], ["ANNOTATOR", "COMPLETE", "", "LAST ACTIVITY", "PROJECT"]))
    for r in rows:
        if r.error:
            print(f"annotrain: warning: {shown(r.email)}: {shown(r.error)}", file=sys.stderr)
    return 0


def _bench_dataset(args: argparse.Namespace) -> int:
    ws = workspace_from_args(args)
    try:
        check = create_training_dataset(ws.backend, args.folder, args.title)
    finally:
        ws.close()
    return _report_check(args, check, created=True)


def _bench_link(args: argparse.Namespace) -> int:
    from annotrain_tui.core.benchmark import link_folder

    ws = workspace_from_args(args)
    try:
        result = link_folder(ws.backend, args.folder, args.dataset)
    finally:
        ws.close()
    if args.json:
        emit_json(result.to_json())
        return 0 if result.check.ok else 1
    print(f"Linked {result.linked_now} new file(s) from the folder" if result.linked_now
          else "Every file of the folder was already in the dataset")
    return _report_check(args, result.check)


def _report_check(args, check, created=False) -> int:
    if args.json:
        emit_json(check.to_json())
    else:
        verb = "Created" if created else "Dataset"
        print(f"{verb} '{shown(check.dataset.title)}' ({shown(check.dataset.id)}): {check.linked} file(s) linked, "
              f"{check.expected} expected")
        for m in check.missing:
            print(f"missing: {shown(m)}")
        for x in check.extra:
            print(f"extra:   {shown(x)}")
    return 0 if check.ok else 1


def _bench_verify(args: argparse.Namespace) -> int:
    urls = None
    if args.manifest:
        from annotrain_tui.core.benchmark import manifest_urls

        urls = manifest_urls(args.manifest)
    if not args.folder and urls is None:
        raise UsageError("verify needs --folder or --manifest")
    ws = workspace_from_args(args)
    try:
        check = verify_dataset(ws.backend, args.dataset, folder_ref=args.folder, urls=urls)
    finally:
        ws.close()
    return _report_check(args, check)


def _bench_create(args: argparse.Namespace) -> int:
    ws = workspace_from_args(args)
    try:
        try:
            project = create_benchmark_project(ws.backend, args.title or DEFAULT_BENCHMARK_TITLE,
                                               dataset_ref=args.dataset, ontology_ref=args.ontology,
                                               template_ref=args.template)
        except Conflict as err:
            if args.title is not None or "already exists" not in err.message:
                raise
            raise Conflict(err.message, hint=f"'{DEFAULT_BENCHMARK_TITLE}' is the default title: give another "
                                             "with --title TITLE") from None
        ws.recent().set(benchmark=project.id)  # a new benchmark starts a programme: the current one now
        status = benchmark_status(ws.backend, project)
    finally:
        ws.close()
    if args.json:
        emit_json(status.to_json())
    else:
        print(f"Created benchmark project '{shown(project.title)}' ({shown(project.id)}) with ONLY dataset "
              f"{shown(status.project.dataset_ids[0]) if status.project.dataset_ids else '?'} and ontology '{shown(status.ontology.title) if status.ontology else '?'}'")
        for w in status.warnings:
            print(f"warning: {shown(w)}")
    return 0


def _bench_status(args: argparse.Namespace) -> int:
    ws = workspace_from_args(args)
    try:
        status = benchmark_status(ws.backend, find_project(ws.backend, args.project))
    finally:
        ws.close()
    if args.json:
        emit_json(status.to_json())
    else:
        print(f"'{shown(status.project.title)}': {status.completeness.complete}/{status.completeness.total} Complete")
        if status.ontology:
            for c in status.ontology.objects:
                print(f"  class {shown(c.name)} ({shown(c.shape)})")
        for w in status.warnings:
            print(f"warning: {shown(w)}")
    return 0 if not status.warnings else 1


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("benchmark", help="training dataset and benchmark project",
                           description="Set up the benchmark: training dataset, then the benchmark project.")
    gs = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add_command(gs, "create-dataset", "create the training dataset from a storage folder (links every item)",
                    _bench_dataset)
    p.add_argument("--folder", required=True, help="folder id, path or name")
    p.add_argument("--title", required=True, help="dataset title")
    add_json_flag(p)
    p = add_command(gs, "verify", "compare a dataset with a folder or a manifest (missing / extra files)",
                    _bench_verify)
    p.add_argument("dataset", help="dataset id or title")
    p.add_argument("--folder", help="folder id, path or name")
    p.add_argument("--manifest", type=path_arg, help="registration manifest (JSON or CSV)")
    add_json_flag(p)
    p = add_command(gs, "link-folder", "link a folder's files into an existing dataset (only those it lacks)",
                    _bench_link)
    p.add_argument("dataset", help="dataset id or title")
    p.add_argument("--folder", required=True, help="folder id, path or name")
    add_json_flag(p)
    p = add_command(gs, "create", "create the benchmark project (the ontology and ONLY the training dataset)",
                    _bench_create)
    p.add_argument("--title", default=None,
                   help=f"title of the benchmark project (default: '{DEFAULT_BENCHMARK_TITLE}')")
    p.add_argument("--dataset", required=True, help="dataset id or title")
    p.add_argument("--ontology", required=True, help="ontology id or title")
    p.add_argument("--template", help="workflow template id or title (optional)")
    add_json_flag(p)
    p = add_command(gs, "status", "ontology classes and completeness of a benchmark project", _bench_status)
    p.add_argument("project", help="benchmark project id or title")
    add_json_flag(p)

    group = sub.add_parser("roster", help="check a roster file", description="Check a roster CSV (name,email).")
    gs = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add_command(gs, "check", "list every problem of a roster", _roster_check, workspace=False)
    p.add_argument("file", type=path_arg)
    p.add_argument("--title", default=DEFAULT_TRAINING_TITLE, type=title_pattern_arg,
                   help="project title pattern ({name}, {email})")
    add_json_flag(p)

    p = add_command(sub, "provision", "one training project per annotator of a roster (plan, then apply)",
                    _provision, epilog="A second run on the same benchmark (this machine, this user) waits for "
                    "the first, saying whose it is (ANNOTRAIN_LOCK_TIMEOUT seconds, default 600; 0 refuses at once), "
                    "then plans afresh and creates only what is left.")
    p.add_argument("--roster", required=True, type=path_arg, help="CSV with name,email (optional: title, notes)")
    add_programme_option(p, help_text=PROGRAMME_HELP)
    p.add_argument("--template", help=f"training workflow template (default: the setting default_template, else '{DEFAULT_TEMPLATE_TITLE}')")
    p.add_argument("--title", default=DEFAULT_TRAINING_TITLE, type=title_pattern_arg,
                   help="project title pattern ({name}, {email})")
    p.add_argument("--dry-run", action="store_true", help="show the plan only")
    p.add_argument("--yes", action="store_true", help="apply without asking")
    p.add_argument("--concurrency", type=positive_int, default=4, help="parallel requests (default 4)")
    p.add_argument("--force", action="store_true",
                   help="provision from a benchmark that is not Complete yet (refused without it: the seed says "
                        "the benchmark must be completed before annotator training begins)")
    add_json_flag(p)

    p = add_command(sub, "progress", "training progress per annotator: tasks Complete / total, last activity",
                    _progress)
    add_programme_option(p, help_text=PROGRAMME_HELP)
    add_json_flag(p)
