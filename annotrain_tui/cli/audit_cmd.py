"""`annotrain audit`: the gold audit (issue 16, item 7), and the exclusions it leads to.

    annotrain audit [run] [--programme B] [--json]                 # the programme's gold and current rounds
    annotrain audit --benchmark-labels BM.json --training-labels T1.json T2.json ... [--json]
    annotrain audit exclude DATA_HASH --reason TEXT [--object OBJECT_HASH] [--programme B] [--json]
    annotrain audit include DATA_HASH [--reason TEXT] [--programme B] [--json]

Suspect gold: benchmark objects most trainees agree against (missing, misplaced, or of another
class); then the items the trainees agree on least among themselves (``core.audit``). An exclusion
leaves a whole benchmark item out of scoring for everyone, recorded in the programme's record with
its reason; ``exclude`` and ``include`` print each annotator's score change.

Exit codes: 0 done (suspects found is still 0); 1 nothing to audit, an unknown item; 2 usage or an
unreadable label file.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from annotrain_tui.cli.common import add_command, add_json_flag, emit_json, finite_float, path_arg, read_bytes, table
from annotrain_tui.core.errors import AnnotrainError, NotFound, UsageError
from annotrain_tui.core.text import shown

_HELP = "gold audit: benchmark objects the trainees agree against, items they disagree on"
_SHAPES = ("bounding_box", "rotatable_bounding_box", "polygon", "polyline", "point", "skeleton", "bitmask")
_LEAST = 10


def _programme_option(parser: argparse.ArgumentParser, *, inherit: bool) -> None:
    """``--programme``/``--benchmark``; an action's copy keeps what was given before the action."""
    parser.add_argument("--programme", "--benchmark", dest="benchmark", metavar="BENCHMARK",
                        default=argparse.SUPPRESS if inherit else None,
                        help="the programme (its benchmark's id or title); default: the current one")


def _run_options(p: argparse.ArgumentParser, *, inherit: bool) -> None:
    """The run's options; an action's copy (``audit run``) keeps what was given before the action."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if inherit else value

    _programme_option(p, inherit=inherit)
    files = p.add_argument_group("exported label files (instead of a programme)")
    files.add_argument("--benchmark-labels", metavar="FILE", type=path_arg, default=default(None),
                       help="benchmark label rows (JSON list)")
    files.add_argument("--training-labels", metavar="FILE", nargs="+", action="extend", type=path_arg,
                       default=default([]), help="one label-row JSON file per trainee")
    files.add_argument("--include-incomplete", action="store_true", default=default(False),
                       help="count rows of unfinished tasks too (by default only COMPLETED rows count)")
    how = p.add_argument_group("how to compare")
    how.add_argument("--iou-threshold", type=finite_float, metavar="X", default=default(None),
                     help="similarity two objects need to agree, in (0, 1] (default: the config's iou_threshold)")
    how.add_argument("--shape", choices=_SHAPES, default=default(None), help="audit only this shape")
    p.add_argument("--json", action="store_true", default=default(False), help="print one JSON document on stdout")


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "audit", _HELP, _run, epilog=(
        "'audit' alone is 'audit run'. Exit 0 done (suspects found too), 1 nothing to audit or an unknown item, "
        "2 usage or unreadable label files."))
    _run_options(p, inherit=False)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    r = add_command(actions, "run", "list suspect gold and the items the trainees agree on least (the default)", _run)
    _run_options(r, inherit=True)
    e = add_command(actions, "exclude", "leave a benchmark item out of scoring, with a reason (recorded); "
                                        "print the score changes", _exclude)
    e.add_argument("data_hash", metavar="DATA_HASH", help="the benchmark item (its data hash, as the audit lists it)")
    e.add_argument("--reason", required=True, help="why the gold is suspect (kept in the programme's record)")
    e.add_argument("--object", dest="object_hash", metavar="OBJECT_HASH",
                   help="the suspect benchmark object that led to it")
    _programme_option(e, inherit=True)
    add_json_flag(e)
    i = add_command(actions, "include", "score an excluded benchmark item again (recorded); print the score "
                                        "changes", _include)
    i.add_argument("data_hash", metavar="DATA_HASH", help="the excluded benchmark item")
    i.add_argument("--reason", default="", help="why it counts again (kept in the record)")
    _programme_option(i, inherit=True)
    add_json_flag(i)


def _settings(args: argparse.Namespace) -> Any:
    from annotrain_tui.core.config import load_settings
    from annotrain_tui.core.evaluation.results import EvaluationSettings

    threshold = getattr(args, "iou_threshold", None)
    if threshold is not None and not 0.0 < threshold <= 1.0:
        raise UsageError(f"--iou-threshold must be in (0, 1], got {threshold}")
    return EvaluationSettings.from_config(load_settings(), iou_threshold=threshold, shape=getattr(args, "shape", None),
                                          matching="optimal")


# -- run --------------------------------------------------------------------------------------

def _run(args: argparse.Namespace) -> int:
    bench_file = getattr(args, "benchmark_labels", None)
    training = list(getattr(args, "training_labels", None) or [])
    if bench_file is None and training:
        raise UsageError("--training-labels goes with --benchmark-labels")
    if bench_file is not None:
        if args.benchmark is not None:
            raise UsageError("give a programme (--programme) or exported files (--benchmark-labels), not both")
        if not training:
            raise UsageError("--benchmark-labels needs --training-labels FILE FILE [...] (two trainees or more)")
        result, title, prog_id = _offline(args, bench_file, training), bench_file, None
    else:
        from annotrain_tui.cli.common import programme_from_args
        from annotrain_tui.cli.context import workspace_from_args
        from annotrain_tui.core.audit import audit_programme

        settings = _settings(args)
        ws = workspace_from_args(args)
        try:
            prog = programme_from_args(args, ws)
            if len(prog.trainees) < 2:
                raise AnnotrainError(f"nothing to audit: {shown(prog.title, limit=120)} has "
                                     f"{len(prog.trainees)} trainee(s), and the audit compares trainees with each other",
                                     hint="provision at least two annotators (annotrain provision)")
            result = audit_programme(ws.backend, prog, settings)
        finally:
            ws.close()
        title, prog_id = prog.title, prog.id
    if result.audited_items == 0:
        raise AnnotrainError("nothing to audit: no benchmark item was finished by two trainees or more",
                             hint="the audit compares trainees' finished (Complete) work on the benchmark's items")
    if getattr(args, "json", False):
        emit_json({"programme": prog_id, "benchmark": title, **result.to_json()})
    else:
        _print_run(result, shown(title), prog_id is not None)
    for warning in result.warnings:
        sys.stderr.write(f"annotrain: warning: {shown(warning)}\n")
    return 0


def _offline(args: argparse.Namespace, bench_file: str, training: list[str]) -> Any:
    from annotrain_tui.core.audit import audit
    from annotrain_tui.core.evaluation.fastread import load_table
    from annotrain_tui.core.files import check_input_file, same_file, unique_files

    for path in [bench_file, *training]:
        check_input_file(path)  # missing, a directory, a FIFO: refused before any work
    files = [str(p) for p in unique_files(training)]
    if len(files) != len(training):
        sys.stderr.write("annotrain: warning: a --training-labels file is given twice (under another name); "
                         "it counts once\n")
    if any(same_file(p, bench_file) for p in files):
        raise UsageError(f"{shown(bench_file)} is given as the benchmark and as a training file",
                         hint="give the trainees' exports to --training-labels")
    if len(files) < 2:
        raise UsageError("the audit compares trainees with each other: give two --training-labels files or more")
    settings = _settings(args)
    said: list[str] = []

    def table(path: str) -> Any:
        loaded = load_table(read_bytes(path), source=path, include_incomplete=args.include_incomplete)
        said.extend(loaded.warnings)
        return loaded.table

    from annotrain_tui.core.startup import no_cyclic_gc

    with no_cyclic_gc():  # arrays and records without cycles: a collector rescanning the heap only costs
        bench = table(bench_file)
        tables = {path: table(path) for path in files}
        return audit(bench, tables, settings, warnings=said)


def _class_change(benchmark: str | None, trainees: str) -> str:
    return f"- → {trainees}" if benchmark is None else f"{benchmark} → {trainees}"


def _print_run(result: Any, title: str, on_programme: bool) -> None:
    print(f"Gold audit of {title}: {len(result.trainees)} trainee(s); {result.audited_items} of "
          f"{result.benchmark_items} benchmark item(s) finished by two or more "
          f"[IoU ≥ {result.settings.iou_threshold:g}, {', '.join(result.settings.shapes)}]")
    if result.suspects:
        print(f"{len(result.suspects)} suspect gold object(s): most trainees agree with each other, not with the gold")
        rows = [[x.kind, shown(x.data_title, limit=40), x.data_hash,
                 str(x.frame) + (f" (+{len(x.frames) - 1})" if len(x.frames) > 1 else ""),
                 x.benchmark_object_hash or "-", shown(_class_change(x.benchmark_class, x.trainee_class), limit=60),
                 f"{x.agree}/{x.finished}", "excluded" if x.excluded is not None else ""] for x in result.suspects]
        print(table(rows, ["KIND", "ITEM", "DATA HASH", "FRAME", "OBJECT", "BENCHMARK → TRAINEES", "AGREE", ""]))
        for x in result.suspects:
            print(f"  {shown(x.data_title, limit=40)}: {shown(x.explanation)}")
    else:
        print("No suspect gold: wherever most trainees agree with each other, the gold agrees with them.")
    least = result.least_agreed(_LEAST)
    if least:
        print(f"The {len(least)} item(s) the trainees agree on least (mean pairwise F1):")
        print(table([[shown(i.data_title, limit=40), i.data_hash, f"{i.agreement:.3f}", str(i.pairs),
                      "excluded" if i.excluded is not None else ""] for i in least],
                    ["ITEM", "DATA HASH", "AGREEMENT", "PAIRS", ""]))
    if result.excluded:
        print(f"{len(result.excluded)} item(s) are excluded from scoring now (annotrain audit include DATA_HASH "
              "scores one again).")
    if on_programme and result.suspects:
        print("To leave an item out of scoring: annotrain audit exclude DATA_HASH --reason TEXT [--object OBJECT_HASH]")


# -- exclude / include --------------------------------------------------------------------------

def _summary(score: Any) -> dict[str, Any]:
    return {"f1": score.f1, "status": score.status, "items_done": score.items_done,
            "items_required": score.items_required, "benchmark_objects": score.benchmark_objects}


def _changes(before: Any, after: Any) -> list[dict[str, Any]]:
    """Per annotator whose score moved: the score before and after (a summary of each)."""
    out = []
    for name in sorted(set(before.annotators) | set(after.annotators)):
        b, a = before.annotators.get(name), after.annotators.get(name)
        sb, sa = (_summary(b) if b else None), (_summary(a) if a else None)
        if sb != sa:
            out.append({"annotator": name, "before": sb, "after": sa})
    return out


def _f1(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _change_line(change: dict[str, Any]) -> str:
    b, a = change["before"], change["after"]
    if b is None or a is None:
        return f"{shown(change['annotator'])}: {'no score' if b is None else 'scored'} → {'scored' if a else 'no score'}"
    parts = [f"F1 {_f1(b['f1'])} → {_f1(a['f1'])}"]
    if b["status"] != a["status"]:
        parts.append(f"{b['status']} → {a['status']}")
    if (b["items_done"], b["items_required"]) != (a["items_done"], a["items_required"]):
        parts.append(f"items {b['items_done']}/{b['items_required']} → {a['items_done']}/{a['items_required']}")
    return f"{shown(change['annotator'])}: " + ", ".join(parts)


def _rescored(args: argparse.Namespace, change: Any) -> int:
    """Score the programme, make ``change(prog)`` to its record, score again; print what moved."""
    from annotrain_tui.cli.common import programme_from_args
    from annotrain_tui.cli.context import workspace_from_args
    from annotrain_tui.core.decisions import session_of, settings_of

    settings = _settings(argparse.Namespace())
    ws = workspace_from_args(args)
    try:
        prog = programme_from_args(args, ws)
        _check_item(ws.backend, prog, args)
        session = session_of(ws.backend, prog, settings)
        before = None
        if prog.trainees:
            try:
                before = session.load()
            except AnnotrainError as err:  # nothing finished yet: the record changes all the same
                sys.stderr.write(f"annotrain: warning: not scored: {shown(str(err))}\n")
        done = change(prog)
        after = session.rescore(settings_of(prog, settings)) if before is not None else None
    finally:
        ws.close()
    changes = _changes(before, after) if before is not None and after is not None else []
    said = done.pop("said")
    if args.json:
        emit_json({"programme": prog.id, **done, "excluded_now": sorted(prog.record.exclusions()),
                   "scored": before is not None, "changes": changes})
        return 0
    print(said)
    if before is None:
        print("Not scored (nothing to compare yet): the scores will leave it out once there are some.")
    elif not changes:
        print("No annotator's score changed.")
    for c in changes:
        print(f"  {_change_line(c)}")
    return 0


def _check_item(backend: Any, prog: Any, args: argparse.Namespace) -> None:
    """The data hash must be one of the benchmark's items (an exclusion of a typo would do nothing)."""
    if args.action == "include":
        return  # an exclusion recorded for an item since removed can still be undone
    if not any(i.data_hash == args.data_hash for i in backend.list_label_rows(prog.id)):
        raise NotFound(f"{shown(args.data_hash, limit=80)} is not an item of the benchmark {shown(prog.title, limit=120)}",
                       hint="copy the DATA HASH from 'annotrain audit'")
    if args.object_hash:
        from annotrain_tui.core.evaluation.labels import frame_objects

        rows = backend.get_label_rows(prog.id, [args.data_hash])
        hashes = {obj.get("objectHash") for row in rows for _u, _f, obj in frame_objects(row)}
        if args.object_hash not in hashes:
            raise NotFound(f"the benchmark item {shown(args.data_hash, limit=80)} has no object "
                           f"{shown(args.object_hash, limit=80)}", hint="copy the OBJECT from 'annotrain audit'")


def _exclude(args: argparse.Namespace) -> int:
    if not args.reason.strip():
        raise UsageError("--reason must say why the gold is suspect")

    def change(prog: Any) -> dict[str, Any]:
        again = args.data_hash in prog.record.exclusions()
        made = prog.record.exclude(args.data_hash, object_hash=args.object_hash, reason=args.reason)
        said = (f"{'Excluded again (reason updated)' if again else 'Excluded'}: {shown(args.data_hash)} is left out of "
                f"scoring for everyone; reason: {shown(made.reason)}")
        return {"exclusion": made.to_json(), "said": said}

    return _rescored(args, change)


def _include(args: argparse.Namespace) -> int:
    def change(prog: Any) -> dict[str, Any]:
        if args.data_hash not in prog.record.exclusions():
            raise NotFound(f"{shown(args.data_hash, limit=80)} is not excluded from scoring",
                           hint="'annotrain audit' lists the excluded items")
        prog.record.include(args.data_hash, reason=args.reason)
        return {"inclusion": {"data_hash": args.data_hash, "reason": args.reason},
                "said": f"Included: {shown(args.data_hash)} is scored again"}

    return _rescored(args, change)
