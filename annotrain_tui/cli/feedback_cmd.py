"""`annotrain feedback`: write a feedback pack per annotator (self-contained HTML and Markdown).

    annotrain feedback --annotator EMAIL [--annotator EMAIL ...] | --all --out DIR
        [--programme BENCHMARK] [--round N] [--audit] [--top N] [--force] [--json]
    annotrain feedback --annotator EMAIL | --all --out DIR
        --benchmark-labels BM.json --training-labels TR.json [...] [--include-incomplete]

Online, each trainee's pack scores their latest round with finished work (a Complete task), so a
trainee given a retake still gets the pack of the round they were scored on; ``--round N`` scores
round N instead. Those rounds are scored as the programme's decisions are (the config's thresholds
and pass marks, the programme's gold exclusions left out: ``core.feedback.rounds_session``); a
trainee without such a round gets no pack, one line on stderr each saying why. Each pack says which
round it scores ("Round 1 of 2") and how the trainee's other rounds went (the programme's history).
``--audit`` runs the gold audit first: an item whose gold it suspects (not excluded, not reviewed)
leaves the "worst items" ranking and is listed after it, marked "the gold may be wrong here: under
review". Offline, label-row exports.
``DIR`` is made when missing; an existing pack file is refused without ``--force``.

Exit codes: 0 written; 2 usage, unreadable label files or an existing file without --force;
1 nothing to compare, or no annotator asked for has scores.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from annotrain_tui.cli.common import (
    add_command,
    add_force_flag,
    add_json_flag,
    add_programme_option,
    emit_json,
    path_arg,
    positive_int,
)
from annotrain_tui.core.errors import UsageError
from annotrain_tui.core.text import shown

_HELP = "write a feedback pack per annotator (self-contained HTML and Markdown)"


def _top(text: str) -> int:
    """argparse type of --top: a whole number ≥ 0 (0: no drawings)."""
    if text.strip() == "0":
        return 0
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)} is not a whole number >= 0") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "feedback", _HELP, run, epilog=(
        "Online: the current programme (--programme chooses another), each trainee's latest round with finished "
        "work (--round N: that round). Offline: --benchmark-labels BM.json --training-labels TR.json [...]. Writes "
        "DIR/<email>.html and DIR/<email>.md per annotator. Exit 0 written, 2 usage, bad label files or an existing "
        "file without --force, 1 nothing to compare or no annotator asked for with scores."))
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--annotator", metavar="EMAIL", action="append", default=None,
                     help="the annotator a pack is for (repeat for several)")
    who.add_argument("--all", action="store_true", help="a pack for every annotator scored")
    p.add_argument("--out", metavar="DIR", type=path_arg, required=True,
                   help="the directory the packs are written in (made when missing)")
    p.add_argument("--top", metavar="N", type=_top, default=None,
                   help="how many worst items each pack draws (default 6)")
    add_programme_option(p)
    p.add_argument("--round", metavar="N", type=positive_int, default=None,
                   help="online: score each trainee's round N (default: their latest round with finished work)")
    p.add_argument("--audit", action="store_true",
                   help="online: run the gold audit first; items whose gold it suspects are marked and left out "
                        "of the worst items' ranking")
    files = p.add_argument_group("offline (label-row exports instead of the workspace)")
    files.add_argument("--benchmark-labels", metavar="FILE", type=path_arg, help="benchmark label rows (JSON list)")
    files.add_argument("--training-labels", metavar="FILE", nargs="+", action="extend", default=[], type=path_arg,
                       help="one label-row JSON file per training project")
    files.add_argument("--include-incomplete", action="store_true",
                       help="offline: count rows of unfinished tasks too (as evaluate's flag)")
    add_force_flag(p, "pack files")
    add_json_flag(p)


def _settings() -> Any:
    from annotrain_tui.core.config import load_settings
    from annotrain_tui.core.evaluation import EvaluationSettings

    return EvaluationSettings.from_config(load_settings())


def run(args: argparse.Namespace) -> int:
    from annotrain_tui.core.feedback import DEFAULT_TOP

    top = DEFAULT_TOP if args.top is None else args.top
    annotators = None if args.all else list(args.annotator)
    if args.benchmark_labels is not None:
        if args.benchmark is not None:
            raise UsageError("--programme works on the workspace; with --benchmark-labels give the files only")
        if not args.training_labels:
            raise UsageError("--benchmark-labels needs --training-labels FILE [FILE ...]")
        if args.round is not None:
            raise UsageError("--round is a round of the workspace's programme; label files are one round each")
        if args.audit:
            raise UsageError("--audit works on the workspace's programme (offline: run 'annotrain audit' "
                             "on the same files)")
        return _offline(args, annotators, top)
    if args.training_labels:
        raise UsageError("--training-labels goes with --benchmark-labels")
    if args.include_incomplete:
        raise UsageError("--include-incomplete is for label files (online, only Complete tasks count)")
    return _online(args, annotators, top)


def _check_session(session: Any) -> None:
    result = session.result
    if result is None or result.paired_rows == 0:
        from annotrain_tui.core.errors import AnnotrainError

        raise AnnotrainError(session.why_nothing_paired())


def _online(args: argparse.Namespace, annotators: list[str] | None, top: int) -> int:
    from annotrain_tui.cli.common import programme_from_args
    from annotrain_tui.cli.context import report_backend_warnings, workspace_from_args
    from annotrain_tui.core.config import Paths
    from annotrain_tui.core.feedback import choose_rounds, round_facts, rounds_session, write_session_packs

    paths = Paths.default()
    inputs = [str(p) for p in (getattr(args, "sandbox", None), getattr(args, "ssh_key", None),
                               paths.default_sandbox, paths.config_file) if p]
    ws = workspace_from_args(args)
    warnings: list[str] = []
    try:
        prog = programme_from_args(args, ws)
        settings = _settings()
        # per trainee the round to score: their latest with finished work (a retake's new round may have none)
        choice = choose_rounds(prog, round=args.round, annotators=annotators)
        left_out = dict(choice.left_out)
        session = rounds_session(ws.backend, prog, choice, settings)  # the programme's gold exclusions applied
        session.load()
        _check_session(session)
        names = _scored(session.result, choice.rounds, left_out)
        suspects = _suspects(ws.backend, prog, settings, warnings) if args.audit else None
        rounds = round_facts(prog, {n: choice.rounds[_trainee_of(n, choice.rounds)] for n in names},
                             _history(prog, warnings))
        written = write_session_packs(session, args.out, names, force=args.force, top=top, inputs=inputs,
                                      suspects=suspects, rounds=rounds)
    except BaseException:
        report_backend_warnings(ws)
        raise
    finally:
        ws.close()
    return _report(args, names, written, session, source={"programme": prog.id, "title": session.title},
                   left_out=left_out, warnings=warnings, rounds=rounds, suspects=suspects)


def _trainee_of(name: str, rounds: dict[str, Any]) -> str:
    from annotrain_tui.core.roster import identity

    return next(e for e in rounds if identity(e) == identity(name))


def _scored(result: Any, rounds: dict[str, Any], left_out: dict[str, str]) -> list[str]:
    """The result's names of the trainees whose round was scored; the others join ``left_out``
    (their round's Complete tasks paired with no benchmark item). None scored: an error."""
    from annotrain_tui.core.errors import AnnotrainError
    from annotrain_tui.core.roster import identity

    by_identity = {identity(a): a for a in result.annotators}
    names = []
    for email, r in rounds.items():
        name = by_identity.get(identity(email))
        if name is None:
            left_out[email] = (f"{shown(email, limit=120)}: round {r.round} has no scores (none of its Complete "
                               "tasks is a benchmark item)")
        else:
            names.append(name)
    if not names:
        raise AnnotrainError("no pack to write: " + "; ".join(left_out.values()))
    return names


def _suspects(backend: Any, prog: Any, settings: Any, warnings: list[str]) -> dict[str, str]:
    """The gold audit's suspect items not reviewed yet (data hash → why), its warnings kept."""
    from annotrain_tui.core.audit import audit_programme
    from annotrain_tui.core.feedback import suspect_items

    audit = audit_programme(backend, prog, settings)
    warnings.extend(f"gold audit: {w}" for w in audit.warnings)
    return suspect_items(audit, prog.record)


def _history(prog: Any, warnings: list[str]) -> list[dict[str, Any]]:
    """The programme's evaluation snapshots (how earlier rounds went); one that cannot be read is
    a warning: the packs then say only which round they score."""
    from annotrain_tui.core.errors import AnnotrainError
    from annotrain_tui.core.history import snapshots

    try:
        return snapshots(prog.record)
    except (AnnotrainError, OSError) as err:
        warnings.append(f"the programme's history cannot be read ({err}): the packs do not say how earlier "
                        "rounds went")
        return []


def _offline(args: argparse.Namespace, annotators: list[str] | None, top: int) -> int:
    from annotrain_tui.core.evaluation.session import EvaluationSession
    from annotrain_tui.core.feedback import resolve_annotators, write_session_packs
    from annotrain_tui.core.files import check_input_file, same_file

    for path in [args.benchmark_labels, *args.training_labels]:
        check_input_file(path)
    if any(same_file(p, args.benchmark_labels) for p in args.training_labels):
        raise UsageError(f"{shown(args.benchmark_labels)} is given as the benchmark and as a training file: "
                         "the benchmark would be scored against itself",
                         hint="give the trainees' exports to --training-labels")
    session = EvaluationSession.of_files(args.benchmark_labels, list(args.training_labels), _settings(),
                                         keep_objects=True, include_incomplete=args.include_incomplete)
    result = session.load()
    _check_session(session)
    names = resolve_annotators(result, annotators)
    written = write_session_packs(session, args.out, names, force=args.force, top=top,
                                  inputs=[args.benchmark_labels, *args.training_labels])
    return _report(args, names, written, session, source={"benchmark_labels": args.benchmark_labels,
                                                          "training_labels": list(args.training_labels)})


def _report(args: argparse.Namespace, names: list[str], written: list[Path], session: Any,
            source: dict[str, Any], *, left_out: dict[str, str] | None = None, warnings: list[str] | None = None,
            rounds: dict[str, Any] | None = None, suspects: dict[str, str] | None = None) -> int:
    from annotrain_tui.cli.common import note_line

    result = session.result
    rounds = rounds or {}
    left_out = left_out or {}
    by_annotator: list[dict[str, Any]] = []
    pairs = [written[i:i + 2] for i in range(0, len(written), 2)]
    for annotator, (html_path, md_path) in zip(names, pairs):  # the order packs are written in
        score = result.annotators[annotator]
        r = rounds.get(annotator)
        by_annotator.append({"annotator": annotator, "status": score.status, "html": str(html_path),
                             "markdown": str(md_path), "round": r.round if r is not None else None,
                             "rounds": r.rounds if r is not None else None})
    if args.json:
        emit_json({"out": args.out, **source, "packs": by_annotator,
                   "files": [str(p) for p in written],
                   "left_out": [{"annotator": e, "reason": why} for e, why in left_out.items()],
                   "audited": suspects is not None,
                   "gold_under_review": sorted(suspects) if suspects is not None else [],
                   "warnings": list(result.warnings) + list(warnings or [])})
    else:
        print(f"Wrote {len(by_annotator)} feedback pack(s) to {shown(args.out)}:")
        for entry in by_annotator:
            at = f", round {entry['round']} of {entry['rounds']}" if entry["round"] is not None else ""
            print(f"  {shown(entry['annotator'])} ({entry['status']}{at}): {shown(entry['html'])}, "
                  f"{shown(entry['markdown'])}")
        if suspects is not None:
            print(f"Gold audit: {len(suspects)} item(s) with suspect gold under review, marked in the packs and "
                  "left out of their worst items' ranking." if suspects else
                  "Gold audit: no suspect gold under review.")
    for why in left_out.values():
        sys.stderr.write(f"annotrain: no pack: {why}\n")
    for warning in [*result.warnings, *(warnings or [])]:
        sys.stderr.write(f"annotrain: warning: {shown(note_line(warning))}\n")
    return 0
