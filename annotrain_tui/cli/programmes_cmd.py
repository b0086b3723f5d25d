"""`annotrain programmes list|show|use` and `annotrain decide`.

A programme is a benchmark with its trainees, pass policy, decisions and history
(``core.programme``); the current one is the last used (``programmes use``, or any command given
``--programme``), else the first.
"""

from __future__ import annotations

import argparse
import sys

from annotrain_tui.cli.common import (
    add_command,
    add_json_flag,
    add_programme_option,
    emit_json,
    programme_from_args,
    table,
)
from annotrain_tui.cli.context import workspace_from_args
from annotrain_tui.core.errors import AnnotrainError, UsageError
from annotrain_tui.core.text import shown

_PROGRAMMES_HELP = "every programme (benchmark) with its state and next step; the current one"
_DECIDE_HELP = "record a decision on an annotator: graduate, retake or hold (with a note)"


def _list(args: argparse.Namespace) -> int:
    ws = workspace_from_args(args)
    try:
        progs = ws.programmes()
        current = ws.programme(None).id if progs else None
    finally:
        ws.close()
    if args.json:
        emit_json({"current": current, "programmes": [{**p.to_json(), "current": p.id == current} for p in progs]})
        return 0
    if not progs:
        print("No programme yet: set up a benchmark project ('annotrain benchmark create', or key 3 in the app).")
        return 0
    rows = []
    for p in progs:
        decided = sum(1 for t in p.trainees.values() if t.decided)
        rows.append(["*" if p.id == current else "", p.title, p.state, f"{p.completeness.complete}/{p.completeness.total}",
                     str(len(p.trainees)), f"{decided}/{len(p.trainees)}", p.next_step])
    print(table(rows, ["", "BENCHMARK", "STATE", "GOLD", "TRAINEES", "DECIDED", "NEXT STEP"]))
    return 0


def _show(args: argparse.Namespace) -> int:
    from annotrain_tui.core.decisions import decision_rows, score_programme

    ws = workspace_from_args(args)
    try:
        prog = programme_from_args(args, ws)
        result = None
        if args.scores and prog.trainees and prog.benchmark_complete:
            try:
                result = score_programme(ws.backend, prog)
            except AnnotrainError as err:  # no finished work yet: the programme is still shown
                sys.stderr.write(f"annotrain: warning: not scored: {shown(str(err))}\n")
        rows = decision_rows(prog, result)
    finally:
        ws.close()
    if args.json:
        emit_json({**prog.to_json(), "rows": [r.to_json() for r in rows]})
        return 0
    print(f"{shown(prog.title)} [{prog.state}]  gold {prog.completeness.complete}/{prog.completeness.total} Complete"
          + (f"  ontology {shown(prog.ontology_title)}" if prog.ontology_title else ""))
    print(f"Next step: {shown(prog.next_step)}")
    for problem in prog.problems:
        print(f"  to fix: {shown(problem)}")
    if rows:
        print(table([[r.email, str(r.round), f"{r.complete}/{r.total}", r.status,
                      "-" if r.f1 is None else f"{r.f1:.3f}", r.suggested or "-",
                      (r.decision.decision if r.decided and r.decision else "") + (" (applied)" if r.graduated else "")]
                     for r in rows], ["ANNOTATOR", "ROUND", "DONE", "STATUS", "F1", "SUGGESTED", "DECISION"]))
        for r in rows:
            if r.reason:
                print(f"  {shown(r.email)}: {shown(r.reason)}")
    else:
        print("No trainees yet: provision them from a roster (annotrain provision --roster FILE).")
    exclusions = prog.record.exclusions()
    if exclusions:
        print(f"{len(exclusions)} benchmark item(s) excluded from scoring by the gold audit (annotrain audit).")
    return 0


def _use(args: argparse.Namespace) -> int:
    ws = workspace_from_args(args)
    try:
        prog = ws.programme(args.programme_ref)
        ws.recent().set(benchmark=prog.id)
    finally:
        ws.close()
    if args.json:
        emit_json({"current": prog.id, "title": prog.title})
    else:
        print(f"Current programme: {shown(prog.title)} ({shown(prog.id)})")
    return 0


def _decide(args: argparse.Namespace) -> int:
    from annotrain_tui.core.decisions import confirm_all, decide, score_programme

    if args.confirm_suggestions and (args.annotator or args.decision):
        raise UsageError("--confirm-suggestions records every suggestion: give no annotator or decision with it")
    if not args.confirm_suggestions and not (args.annotator and args.decision):
        raise UsageError("give an annotator and a decision (graduate, retake or hold), or --confirm-suggestions")
    ws = workspace_from_args(args)
    try:
        prog = programme_from_args(args, ws)
        result = None
        if prog.trainees and prog.benchmark_complete:
            try:
                result = score_programme(ws.backend, prog)
            except AnnotrainError as err:
                if args.confirm_suggestions:
                    raise
                sys.stderr.write(f"annotrain: warning: decided without a score: {shown(str(err))}\n")
        if args.confirm_suggestions:
            assert result is not None or not prog.trainees
            made = confirm_all(prog, result) if result is not None else []
        else:
            made = [decide(prog, args.annotator, args.decision, result=result, note=args.note or "")]
    finally:
        ws.close()
    if args.json:
        emit_json({"programme": prog.id, "decisions": [d.to_json() for d in made]})
        return 0
    if not made:
        print("Nothing to confirm: every trainee who finished their round has a decision.")
    for d in made:
        on = f" (status: {d.status})" if d.status else " (not scored yet)"
        print(f"Recorded: {shown(d.email)} round {d.round} → {d.decision}{on}" + (f"; note: {shown(d.note)}" if d.note else ""))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("programmes", help=_PROGRAMMES_HELP, description=_PROGRAMMES_HELP)
    from annotrain_tui.cli import add_backend_options

    add_backend_options(group)
    add_json_flag(group)
    group.set_defaults(func=_list)
    gs = group.add_subparsers(dest="action", metavar="ACTION")
    p = add_command(gs, "list", "every programme with its state (setting up, benchmark incomplete, training, "
                                "ready for decisions, closed) and next step", _list)
    add_json_flag(p)
    p = add_command(gs, "show", "one programme: its trainees, their rounds, statuses and decisions", _show)
    add_programme_option(p)
    p.add_argument("--no-scores", dest="scores", action="store_false",
                   help="do not evaluate (faster: statuses are not shown)")
    add_json_flag(p)
    p = add_command(gs, "use", "make a programme the current one (what commands and screens open)", _use)
    p.add_argument("programme_ref", metavar="BENCHMARK", help="the benchmark's id or title")
    add_json_flag(p)

    p = add_command(sub, "decide", _DECIDE_HELP, _decide)
    p.add_argument("annotator", nargs="?", help="the annotator's email")
    p.add_argument("decision", nargs="?", choices=["graduate", "retake", "hold"],
                   help="graduate (to production), retake (a new round) or hold (wait)")
    p.add_argument("--note", help="why (kept with the decision)")
    p.add_argument("--confirm-suggestions", action="store_true",
                   help="record the suggested decision of every trainee who finished their round and has none")
    add_programme_option(p)
    add_json_flag(p)
