"""`annotrain graduate` and `annotrain retake`: act on the recorded decisions, plan first, then apply."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import Any

from annotrain_tui.cli.common import (
    add_command,
    add_json_flag,
    add_programme_option,
    emit_json,
    programme_from_args,
    table,
)
from annotrain_tui.cli.context import workspace_from_args
from annotrain_tui.core.actions import (
    ROLES,
    ActionEntry,
    ActionOutcome,
    ActionPlan,
    apply_graduation,
    apply_retake,
    plan_graduation,
    plan_retake,
    programme_lock,
)
from annotrain_tui.core.errors import NotFound, UsageError
from annotrain_tui.core.text import shown

ACTION_WORDS = {"add": "will add", "create": "will create", "invite": "will invite", "done": "already done",
                "conflict": "CONFLICT"}
FAILED = ("failed", "conflict", "cancelled")


def _waiting(line: str) -> None:
    sys.stderr.write(f"annotrain: {shown(line)}\n")
    sys.stderr.flush()


def _graduate(args: argparse.Namespace) -> int:
    return _run(args, "graduate")


def _retake(args: argparse.Namespace) -> int:
    return _run(args, "retake")


def _run(args: argparse.Namespace, kind: str) -> int:
    ws = workspace_from_args(args)
    try:
        prog = programme_from_args(args, ws)
        hold = ExitStack()
        if not args.dry_run:
            # plan + apply under the programme's lock: a second run waits here, then plans afresh
            hold.enter_context(programme_lock(prog, paths=ws.paths, on_wait=_waiting, backend=ws.backend))
        with hold:
            if kind == "graduate":
                plan = plan_graduation(ws.backend, prog, args.production, args.role, only=args.annotator)
            else:
                plan = plan_retake(ws.backend, prog, only=args.annotator,
                                   default_template=ws.settings.default_template)
            if not plan.entries:
                stale = f" ({len(plan.notes)} decision(s) made on an earlier round no longer apply)" if plan.notes else ""
                raise NotFound(f"no annotator of programme '{shown(prog.title, limit=80)}' is decided '{kind}' on "
                               f"their current round{stale}", hint=f"decide first: annotrain decide EMAIL {kind}")
            return _plan_and_apply(args, ws, plan)
    finally:
        ws.close()


def _rows(plan: ActionPlan) -> tuple[list[list[str]], list[str]]:
    if plan.kind == "graduate":
        return ([[e.email, ACTION_WORDS[e.action], e.title, e.project_id or "", e.role, e.reason]
                 for e in plan.entries], ["EMAIL", "PLAN", "PRODUCTION PROJECT", "ID", "ROLE", "NOTE"])
    return ([[e.email, str(e.round), ACTION_WORDS[e.action], e.title, e.project_id or "", e.reason]
             for e in plan.entries], ["EMAIL", "ROUND", "PLAN", "TITLE", "PROJECT", "NOTE"])


def _question(plan: ActionPlan) -> str:
    if plan.kind == "graduate":
        people = len({e.email for e in plan.entries if e.action == "add"})
        return f"Add {people} annotator(s) to {plan.count('add')} production project place(s)? [y/N] "
    return (f"Create {plan.count('create')} round project(s) and invite "
            f"{plan.count('create') + plan.count('invite')} annotator(s)? [y/N] ")


def _entry_json(e: ActionEntry) -> dict[str, Any]:
    """A planned step, in the shape of an outcome (its status the planned action)."""
    return {"email": e.email, "status": e.action, "title": e.title, "project_id": e.project_id, "round": e.round,
            "role": e.role, "error": e.reason or None}


def _plan_and_apply(args: argparse.Namespace, ws: Any, plan: ActionPlan) -> int:
    prog = plan.programme
    if not args.json:
        print(f"Programme '{shown(prog.title)}' ({shown(prog.id)}): {plan.kind}")
        rows, headers = _rows(plan)
        print(table(rows, headers))
        for note in plan.notes:
            print(f"note: {shown(note)}")
    conflicts = any(e.action == "conflict" for e in plan.entries)
    if args.dry_run:
        if args.json:
            emit_json({"dry_run": True, "kind": plan.kind, "benchmark_id": prog.id,
                       "steps": [_entry_json(e) for e in plan.entries], "notes": plan.notes})
        return 1 if conflicts else 0
    if plan.has_work and not args.yes:
        if not sys.stdin.isatty():
            what = "graduating adds users to projects" if plan.kind == "graduate" else \
                "a retake creates projects and invites users"
            raise UsageError(what, hint="pass --yes to apply, or --dry-run to only see the plan")
        answer = input(_question(plan))
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing done.")
            return 1

    def progress(entry: ActionEntry, outcome: ActionOutcome) -> None:
        if not args.json and outcome.status in ("added", "created", "invited", "failed"):
            print(f"  {outcome.status:<8} {shown(outcome.email)}  {shown(outcome.title)}  "
                  f"{shown(outcome.project_id or '')}  {shown(outcome.error or '')}", flush=True)

    apply = apply_graduation if plan.kind == "graduate" else apply_retake
    outcomes = apply(ws.backend, plan, on_update=progress, paths=ws.paths, on_wait=_waiting)
    failed = [o for o in outcomes if o.status in FAILED]
    if args.json:
        doc: dict[str, Any] = {"kind": plan.kind, "benchmark_id": prog.id,
                               "steps": [o.to_json() for o in outcomes]}
        if plan.kind == "graduate":
            doc["graduated"] = sorted({o.email for o in outcomes} & prog.graduated)
        emit_json(doc)
    else:
        if plan.kind == "graduate":
            print(table([[o.email, o.status, o.title, o.project_id or "", o.role, o.error or ""] for o in outcomes],
                        ["EMAIL", "STATUS", "PRODUCTION PROJECT", "ID", "ROLE", "ERROR"]))
            graduated = sorted({o.email for o in outcomes} & prog.graduated)
            print(f"{len(outcomes) - len(failed)} done, {len(failed)} failed; graduated: "
                  f"{', '.join(shown(e) for e in graduated) or 'nobody'}")
        else:
            print(table([[o.email, str(o.round), o.status, o.title, o.project_id or "", o.error or ""]
                         for o in outcomes], ["EMAIL", "ROUND", "STATUS", "TITLE", "PROJECT", "ERROR"]))
            print(f"{len(outcomes) - len(failed)} done, {len(failed)} failed")
    return 1 if failed else 0


LOCK_EPILOG = ("A second run on the same programme (this machine, this user) waits for the first, saying whose it "
               "is (ANNOTRAIN_LOCK_TIMEOUT seconds, default 600; 0 refuses at once), then plans afresh and does "
               "only what is left. Every step is kept in the programme's record.")


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "graduate", "add the annotators decided 'graduate' to production projects (plan, then apply)",
                    _graduate, epilog=LOCK_EPILOG)
    add_programme_option(p)
    p.add_argument("--production", required=True, nargs="+", action="extend", metavar="PROJECT",
                   help="production project id or title (one or more)")
    p.add_argument("--role", default="annotator", choices=ROLES, help="their project role (default annotator)")
    p.add_argument("--annotator", nargs="+", action="extend", metavar="EMAIL", default=None,
                   help="only these annotators (default: every one decided 'graduate')")
    p.add_argument("--dry-run", action="store_true", help="show the plan only")
    p.add_argument("--yes", action="store_true", help="apply without asking")
    add_json_flag(p)

    p = add_command(sub, "retake", "give the annotators decided 'retake' a new round (plan, then apply)", _retake,
                    epilog="Each gets a new training project, '<round-1 title> (round N)', on the benchmark's "
                    "dataset and ontology, from their round-1 project's template, with its tasks assigned to them. "
                    + LOCK_EPILOG)
    add_programme_option(p)
    p.add_argument("--annotator", nargs="+", action="extend", metavar="EMAIL", default=None,
                   help="only these annotators (default: every one decided 'retake')")
    p.add_argument("--dry-run", action="store_true", help="show the plan only")
    p.add_argument("--yes", action="store_true", help="apply without asking")
    add_json_flag(p)
