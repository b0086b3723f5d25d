"""`annotrain sandbox init|reset|simulate|import-labels`."""

from __future__ import annotations

import argparse
import os
import sys

from annotrain_tui.cli.common import (
    add_command,
    add_json_flag,
    emit_json,
    finite_float,
    path_arg,
    positive_float,
    read_bytes,
)
from annotrain_tui.cli.context import settings_from_args, workspace_from_args
from annotrain_tui.core.errors import Conflict, UsageError
from annotrain_tui.core.files import shell_word
from annotrain_tui.core.lookup import find_project
from annotrain_tui.core.text import shown
from annotrain_tui.core.workspace import sandbox_path


def _sandbox_only(args) -> None:
    _, settings = settings_from_args(args)
    if settings.backend != "sandbox":
        raise UsageError("this command works on the sandbox only", hint="pass --backend sandbox")


def _ours(path) -> None:
    """Refuse (one line, the file untouched) unless ``path`` is an annotrain workspace."""
    from annotrain_tui.core.backends.sandbox.store import recognise

    recognise(path)


def _init(args: argparse.Namespace) -> int:
    _sandbox_only(args)
    paths, settings = settings_from_args(args)
    path = sandbox_path(paths, settings)
    exists = os.path.lexists(path)
    if exists:
        _ours(path)  # --force replaces our workspace, never another program's file
        if not args.force:
            raise Conflict(f"a sandbox workspace already exists at {shown(str(path))}",
                           hint="pass --force to replace it; its contents are lost")
    # Built beside the target and moved into place once complete: a failure, a full disk or a kill
    # half-way leaves no workspace (or the old one, with --force).
    if args.demo and args.starter:
        raise UsageError("--demo and --starter are two different workspaces: give one")
    if args.demo:
        from annotrain_tui.core.backends.sandbox.demo import create_demo_workspace

        ids = create_demo_workspace(path, paths, replace=exists)
    elif args.starter:
        from annotrain_tui.core.backends.sandbox.starter import create_starter_workspace

        ids = create_starter_workspace(path, replace=exists)
    else:
        from annotrain_tui.core.backends.sandbox import SandboxBackend

        SandboxBackend.build(path, replace=exists)
        ids = {}
    if args.json:
        emit_json({"path": str(path), "demo": bool(args.demo), "starter": bool(args.starter), **ids})
    else:
        kind = "with demo data " if args.demo else "with the starter set (integration, ontology, templates) " \
            if args.starter else ""
        print(f"Sandbox workspace {kind}created at {shown(str(path))}")
        if ids.get("roster"):
            print(f"Demo roster: {shown(ids['roster'])}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    _sandbox_only(args)
    paths, settings = settings_from_args(args)
    path = sandbox_path(paths, settings)
    if not os.path.lexists(path):
        print(f"No sandbox workspace at {shown(str(path))}; nothing to reset.")
        return 0
    _ours(path)  # never delete a file that is not ours
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"resetting deletes {shown(str(path))}", hint="pass --yes to confirm")
        answer = input(f"Delete the sandbox workspace at {shown(str(path))}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Kept.")
            return 1
    # Never under a running operation: provisioning holds the workspace file's own lock (an flock
    # every process opening the file sees); reset tries it at once and refuses while it is held.
    # Held while deleting, so a run waiting for it finds the file gone and stops with one line.
    from annotrain_tui.core.backends.sandbox.store import remove_files
    from annotrain_tui.core.locks import LockBusy, file_lock

    try:
        with file_lock(path, what=f"a reset of {shown(str(path))}", timeout=0):
            remove_files(path)
    except LockBusy as busy:
        raise Conflict(f"not reset: the sandbox workspace {shown(str(path))} is in use by {busy.holder}; "
                       "nothing was deleted", hint="let that run finish, then reset") from None
    print(f"Deleted {shown(str(path))}. For a fresh demo workspace run: "
          f"annotrain --sandbox {shell_word(path)} sandbox init --demo")
    return 0


#: ``--benchmark`` given without a project: the current programme's
_CURRENT = "\0current"


def skill_arg(text: str) -> tuple[str, float]:
    """argparse type of ``--skill EMAIL=SKILL``: an annotator's skill, a number from 0 to 1."""
    email, sep, value = text.rpartition("=")
    if not sep or not email.strip() or "@" not in email:
        raise argparse.ArgumentTypeError(f"{shown(text, limit=80)!s} is not EMAIL=SKILL (e.g. a@example.com=0.9)")
    try:
        skill = finite_float(value)
    except argparse.ArgumentTypeError:
        skill = -1.0
    if not 0 <= skill <= 1:
        raise argparse.ArgumentTypeError(f"the skill in {shown(text, limit=80)!s} must be a number from 0 to 1")
    return email.strip(), skill


def _count(text: str) -> int:
    """argparse type of ``--plant-errors``: a whole number, 0 or more."""
    stripped = text.strip()
    if not stripped.isdigit() or len(stripped) > 6:
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} is not a whole number >= 0")
    return int(stripped)


def _simulate(args: argparse.Namespace) -> int:
    _sandbox_only(args)
    from annotrain_tui.core.backends.sandbox.ops import label_benchmark, simulate

    if args.plant_errors and args.benchmark is None:
        raise UsageError("--plant-errors plants errors in the gold the expert labels: it needs --benchmark")
    label = args.benchmark is not None
    # With --benchmark the trainees label too only when asked (--until-done, --for or --rate).
    trainees = not label or args.until_done or args.duration is not None or args.rate is not None
    ws = workspace_from_args(args)
    done: list[dict[str, str]] = []
    labelling = None
    steps = 0
    note = None
    try:
        bench_id = None
        if label:
            prog = ws.programme(None if args.benchmark == _CURRENT else args.benchmark)
            bench_id = prog.id
            labelling = label_benchmark(ws.sandbox, prog.id, plant_errors=args.plant_errors, seed=args.seed)
            if not args.json:
                _say_labelling(ws, labelling)

        def report(project, row):
            done.append({"project_id": project.id, "project": project.title, "data_hash": row.data_hash,
                         "data_title": row.data_title})
            if not args.quiet and not args.json:
                print(f"{shown(project.title)}: {shown(row.data_title)} → Complete", flush=True)

        if trainees:
            from annotrain_tui.core.backends.sandbox.ops import training_projects

            if label and not training_projects(ws.sandbox, bench_id):
                note = "no training projects of this benchmark yet: provision them, then simulate again"
            else:
                steps = simulate(ws.sandbox, rate=args.rate or 2.0, duration=args.duration or 10.0, seed=args.seed,
                                 on_step=report, benchmark_id=bench_id, until_done=args.until_done,
                                 skills=dict(args.skill or []))
    finally:
        ws.close()
    if args.json:
        emit_json({"expert": labelling.to_json() if labelling is not None else None, "steps": steps,
                   "labelled": done, "note": note})
        return 0
    if note:
        print(f"Trainees: {note}.")
    elif trainees:
        print(f"Simulated {steps} labelling step(s).")
    return 0


def _say_labelling(ws, result) -> None:
    titles = {r.data_hash: r.data_title for r in ws.sandbox.list_label_rows(result.benchmark_id)}
    print(f"Expert labelled {len(result.labelled)} task(s) of '{shown(result.title)}' → "
          f"{shown(result.final_stage)} ({result.already_done} already finished).")
    for e in result.planted:
        what = {"missing": "object dropped", "misplaced": "object moved off its place",
                "class": f"given class '{shown(e.gold_class or '')}'"}.get(e.kind, shown(e.kind))
        print(f"  planted {shown(e.kind)}: {shown(titles.get(e.data_hash, e.data_hash))}, the "
              f"{shown(e.class_name)} {shown(e.shape)} {shown(e.truth_object_hash)}: {what}")
    if not result.planted and result.planted_total:
        print(f"  {len(result.planted_total)} gold error(s) planted earlier; none now.")
    for line in result.notes:
        print(f"  {shown(line)}")


def _import(args: argparse.Namespace) -> int:
    _sandbox_only(args)
    from annotrain_tui.core.backends.sandbox.ops import import_labels
    from annotrain_tui.core.evaluation.parse import parse_label_rows, read_label_rows

    # The one reader of label files (located errors: encodings, 4,300-digit numbers, nesting), and
    # the evaluation's own checks, so a row that evaluation would refuse is refused before import.
    rows = read_label_rows(read_bytes(args.file), source=args.file)
    table = parse_label_rows(rows, source=args.file)
    for warning in table.warnings:  # the same warnings offline 'evaluate' gives for this file
        sys.stderr.write(f"annotrain: warning: {shown(warning)}\n")
    ws = workspace_from_args(args)
    try:
        project = find_project(ws.backend, args.project)
        n = import_labels(ws.sandbox, project.id, rows, source=args.file, add_items=args.add_items)
    finally:
        ws.close()
    if args.json:
        emit_json({"project_id": project.id, "imported": n})
    else:
        print(f"Imported {n} label row(s) into '{shown(project.title)}' (stage Complete).")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("sandbox", help="the embedded sandbox workspace (init, reset, simulate, import)",
                           description="Manage the embedded sandbox workspace.")
    gs = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = add_command(gs, "init", "create the sandbox workspace", _init)
    p.add_argument("--demo", action="store_true", help="seed a realistic demo programme")
    p.add_argument("--starter", action="store_true",
                   help="only what a new Encord account has after its admin's first visit (an integration, the "
                        "ontology, the training and QA templates, a production project): rehearse a programme "
                        "from scratch")
    p.add_argument("--force", action="store_true", help="replace an existing workspace")
    add_json_flag(p)
    p = add_command(gs, "reset", "delete the sandbox workspace", _reset)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = add_command(gs, "simulate", "annotators keep labelling, so live views change", _simulate,
                    epilog="With --benchmark an expert first labels every unfinished task of the benchmark from "
                           "its items' truth (a synthetic scene per item); the trainees then label too only with "
                           "--until-done, --for or --rate. A rehearsal: --benchmark --plant-errors 3, provision, "
                           "then --until-done.")
    p.add_argument("--rate", type=positive_float, default=None, help="label rows per second (default 2)")
    p.add_argument("--for", dest="duration", type=positive_float, default=None, metavar="SECONDS",
                   help="how long to run (default 10)")
    p.add_argument("--until-done", action="store_true",
                   help="label every unfinished task of the training projects at once, then stop (--rate and "
                        "--for are not used)")
    p.add_argument("--benchmark", nargs="?", const=_CURRENT, default=None, metavar="PROJECT",
                   help="an expert labels the benchmark (id or title; default: the current programme's) and "
                        "moves it to Complete")
    p.add_argument("--plant-errors", type=_count, default=0, metavar="N",
                   help="with --benchmark: N deliberate gold errors on distinct items (missing, misplaced, "
                        "wrong class, in turn), for the gold audit to find")
    p.add_argument("--skill", type=skill_arg, action="append", metavar="EMAIL=SKILL",
                   help="an annotator's skill from 0 to 1 (repeatable; default: one from their email)")
    p.add_argument("--seed", type=int, default=None, help="random seed (repeatable runs)")
    p.add_argument("--quiet", action="store_true", help="no line per step")
    add_json_flag(p)
    p = add_command(gs, "import-labels", "load Encord label-row JSON exports into a sandbox project", _import)
    p.add_argument("project", help="project id or title")
    p.add_argument("file", type=path_arg, help="JSON list of label rows (LabelRowV2.to_encord_dict())")
    p.add_argument("--add-items", action="store_true",
                   help="add rows whose data units are not in the project's dataset (every project on that "
                        "dataset gets their tasks)")
    add_json_flag(p)
