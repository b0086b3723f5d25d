"""`annotrain feedback`: write a feedback pack per annotator (self-contained HTML and Markdown).

    annotrain feedback --annotator EMAIL [--annotator EMAIL ...] | --all --out DIR
        [--programme BENCHMARK] [--top N] [--force] [--json]
    annotrain feedback --annotator EMAIL | --all --out DIR
        --benchmark-labels BM.json --training-labels TR.json [...] [--include-incomplete]

Online, the programme's current rounds (each annotator's latest training project) are scored as
its decisions are (the config's thresholds and pass marks, the programme's gold exclusions left
out: ``core.decisions.session_of``); offline, label-row exports.
``DIR`` is made when missing; an existing pack file is refused without ``--force``.

Exit codes: 0 written; 2 usage, unreadable label files or an existing file without --force;
1 nothing to compare, or an annotator without scores.
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
        "Online: the current programme's rounds (--programme chooses another). Offline: --benchmark-labels BM.json "
        "--training-labels TR.json [...]. Writes DIR/<email>.html and DIR/<email>.md per annotator. Exit 0 written, "
        "2 usage, bad label files or an existing file without --force, 1 nothing to compare or an unknown annotator."))
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--annotator", metavar="EMAIL", action="append", default=None,
                     help="the annotator a pack is for (repeat for several)")
    who.add_argument("--all", action="store_true", help="a pack for every annotator scored")
    p.add_argument("--out", metavar="DIR", type=path_arg, required=True,
                   help="the directory the packs are written in (made when missing)")
    p.add_argument("--top", metavar="N", type=_top, default=None,
                   help="how many worst items each pack draws (default 6)")
    add_programme_option(p)
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
    from annotrain_tui.core.decisions import session_of
    from annotrain_tui.core.feedback import write_session_packs

    paths = Paths.default()
    inputs = [str(p) for p in (getattr(args, "sandbox", None), getattr(args, "ssh_key", None),
                               paths.default_sandbox, paths.config_file) if p]
    ws = workspace_from_args(args)
    try:
        prog = programme_from_args(args, ws)
        # the programme's current rounds with its gold exclusions applied: the scores decisions are made on
        session = session_of(ws.backend, prog, _settings(), keep_objects=True)
        session.load()
        _check_session(session)
        written = write_session_packs(session, args.out, annotators, force=args.force, top=top, inputs=inputs)
    except BaseException:
        report_backend_warnings(ws)
        raise
    finally:
        ws.close()
    return _report(args, written, session, source={"programme": prog.id, "title": session.title})


def _offline(args: argparse.Namespace, annotators: list[str] | None, top: int) -> int:
    from annotrain_tui.core.evaluation.session import EvaluationSession
    from annotrain_tui.core.feedback import write_session_packs
    from annotrain_tui.core.files import check_input_file, same_file

    for path in [args.benchmark_labels, *args.training_labels]:
        check_input_file(path)
    if any(same_file(p, args.benchmark_labels) for p in args.training_labels):
        raise UsageError(f"{shown(args.benchmark_labels)} is given as the benchmark and as a training file: "
                         "the benchmark would be scored against itself",
                         hint="give the trainees' exports to --training-labels")
    session = EvaluationSession.of_files(args.benchmark_labels, list(args.training_labels), _settings(),
                                         keep_objects=True, include_incomplete=args.include_incomplete)
    session.load()
    _check_session(session)
    written = write_session_packs(session, args.out, annotators, force=args.force, top=top,
                                  inputs=[args.benchmark_labels, *args.training_labels])
    return _report(args, written, session, source={"benchmark_labels": args.benchmark_labels,
                                                   "training_labels": list(args.training_labels)})


def _report(args: argparse.Namespace, written: list[Path], session: Any, source: dict[str, Any]) -> int:
    result = session.result
    by_annotator: list[dict[str, Any]] = []
    pairs = [written[i:i + 2] for i in range(0, len(written), 2)]
    from annotrain_tui.core.feedback import resolve_annotators

    order = resolve_annotators(result, None if args.all else args.annotator)  # the order packs are written in
    for annotator, (html_path, md_path) in zip(order, pairs):
        score = result.annotators[annotator]
        by_annotator.append({"annotator": annotator, "status": score.status, "html": str(html_path),
                             "markdown": str(md_path)})
    if args.json:
        emit_json({"out": args.out, **source, "packs": by_annotator,
                   "files": [str(p) for p in written], "warnings": list(result.warnings)})
    else:
        print(f"Wrote {len(by_annotator)} feedback pack(s) to {shown(args.out)}:")
        for entry in by_annotator:
            print(f"  {shown(entry['annotator'])} ({entry['status']}): {shown(entry['html'])}, "
                  f"{shown(entry['markdown'])}")
    from annotrain_tui.cli.common import note_line

    for warning in result.warnings:
        sys.stderr.write(f"annotrain: warning: {shown(note_line(warning))}\n")
    return 0

