"""`annotrain evaluate`: score annotator training projects against the benchmark.

Offline form (label-row JSON files, as ``LabelRowV2.to_encord_dict()`` writes them, one list per file):

    annotrain evaluate --benchmark-labels BM.json --training-labels TR.json [TR2.json ...]
        [--matching seed|optimal] [--iou-threshold 0.5] [--low-overlap 0.8]
        [--shape SHAPE] [--min-items N]
        [--out FILE.csv] [--summary-json FILE] [--confusion-out FILE.csv] [--json]

Thresholds, pass marks and keypoint sigmas come from the config (per class too: class_thresholds,
class_sigmas, class_pass_f1); the flags override them for one run.

Online form (projects in the workspace): ``[--programme|--benchmark PROJECT] [--training PROJECT ... | --all]``:
without ``--programme`` the current programme, without ``--training`` every trainee's latest round.

``--check`` (for cron and CI): exit 1 when any annotator is not "passed" (below the mark, close,
uncertain or without enough work), each named on stderr; the outputs are written all the same.

Exit codes: 0 done; 2 usage, unreadable or invalid label files; 1 nothing to compare (or --check failed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from annotrain_tui.cli.common import (
    add_command,
    add_force_flag,
    add_json_flag,
    add_programme_option,
    emit_json,
    finite_float,
    path_arg,
    read_bytes,
    table,
)
from annotrain_tui.core.errors import UsageError
from annotrain_tui.core.text import shown

STATUS_PASSED = "passed"  # results.STATUS_PASSED, spelled out so --help imports no evaluation code
# The engine's list, spelled out here so `--help` imports no evaluation code (a test checks they agree).
_SHAPES = ("bounding_box", "rotatable_bounding_box", "polygon", "polyline", "point", "skeleton", "bitmask")
_HELP = "score annotator training projects against the benchmark (shapes, classes and answers)"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "evaluate", _HELP, run, epilog=(
        "Offline: --benchmark-labels BM.json --training-labels TR.json [...] (label-row JSON lists, as "
        "LabelRowV2.to_encord_dict() writes). Online (without --benchmark-labels): --programme PROJECT (default: "
        "the current programme) with --training PROJECT [...] or --all (the default: every trainee's latest round). "
        "Exit 0 ok, 2 usage or bad label files, 1 nothing to compare or, with --check, an annotator not passed."))
    src = p.add_argument_group("what to compare")
    bench = src.add_mutually_exclusive_group()  # offline or online, not both
    bench.add_argument("--benchmark-labels", metavar="FILE", type=path_arg, help="benchmark label rows (JSON list)")
    add_programme_option(bench, help_text=(  # type: ignore[arg-type]  # (a group adds arguments as a parser does)
        "online: the programme, its benchmark project's id or title (default: the current programme, the one used "
        "last, else the first benchmark)"))
    src.add_argument("--training-labels", metavar="FILE", nargs="+", action="extend", default=[], type=path_arg,
                     help="one label-row JSON file per training project")
    src.add_argument("--training", metavar="PROJECT", nargs="+", action="extend", default=[],
                     help="training project(s) in the workspace (online)")
    src.add_argument("--all", action="store_true",
                     help="every trainee's latest round (online; the default without --training)")
    src.add_argument("--include-incomplete", action="store_true",
                     help="offline: count rows of unfinished tasks too (by default only rows whose "
                          "annotation_task_status is COMPLETED count, as online; rows without one count)")

    how = p.add_argument_group("how to compare")
    how.add_argument("--matching", choices=["optimal", "seed"], default="optimal",
                     help="optimal: one-to-one, every frame and shape (default); seed: the published script, "
                          "exactly (best IoU per object, bounding boxes on frame 0 only)")
    how.add_argument("--iou-threshold", type=finite_float, default=None, metavar="X",
                     help="similarity a match needs, in (0, 1] (default: the config's iou_threshold, 0.5)")
    how.add_argument("--low-overlap", type=finite_float, default=None, metavar="X",
                     help="warn about matches below this similarity (default: the config's, 0.8)")
    how.add_argument("--class-matching", choices=["any", "same"], default=None,
                     help="any: objects match whatever their classes, class accuracy scores the classes; same: only "
                          "within a class (as CVAT), then a cross-class pass reports the pairs of other classes "
                          "(default: the config's class_matching, any)")
    how.add_argument("--shape", choices=_SHAPES, help="compare only this shape (seed: bounding_box only)")
    how.add_argument("--pass-f1", type=finite_float, default=None, metavar="X",
                     help="F1 needed to pass (default: the config's pass_f1, 0.8)")
    how.add_argument("--pass-class-accuracy", type=finite_float, default=None, metavar="X",
                     help="class accuracy needed to pass (default: the config's, 0.9)")
    how.add_argument("--pass-classification-accuracy", type=finite_float, default=None, metavar="X",
                     help="mean score of the classification answers needed to pass (default: the config's, 0.8)")
    how.add_argument("--pass-attribute-accuracy", type=finite_float, default=None, metavar="X",
                     help="mean score of the object attributes needed to pass (default: the config's, 0.8)")
    how.add_argument("--pass-confidence", type=finite_float, default=None, metavar="X",
                     help="confidence of the F1's interval: 'uncertain' when it straddles the mark, in [0, 1) "
                          "(0: off; default: the config's pass_confidence, 0.95)")
    how.add_argument("--min-items", type=int, default=None, metavar="N",
                     help="finished paired items an annotator needs before a status is given (default: the "
                          "config's pass_min_items, else every benchmark item)")

    out = p.add_argument_group("output")
    out.add_argument("--out", metavar="FILE.csv", type=path_arg,
                     help="per-object CSV (seed: the script's iou_results.csv columns; optimal: full rows)")
    out.add_argument("--summary-json", metavar="FILE", type=path_arg, help="write the per-annotator summary as JSON")
    out.add_argument("--confusion-out", metavar="FILE.csv", type=path_arg,
                     help="write the confusion counts (annotator, benchmark_class, annotator_class, count) as CSV")
    out.add_argument("--since", choices=["last"], default=None,
                     help="online, on a programme: what changed since its last evaluation, per annotator and round "
                          "(F1, status, the items behind it); never across two versions of the benchmark")
    out.add_argument("--check", action="store_true",
                     help="exit 1 when any annotator has not passed (below the mark, uncertain, not enough work), "
                          "each named on stderr; the outputs are written all the same (for cron and CI)")
    add_force_flag(out)
    add_json_flag(p)


def _settings(args: argparse.Namespace) -> Any:
    """The flags as the engine's one settings value (both the online and the file paths use it)."""
    from annotrain_tui.core.config import load_settings
    from annotrain_tui.core.evaluation import EvaluationSettings

    return EvaluationSettings.from_config(
        load_settings(), matching=args.matching, iou_threshold=args.iou_threshold, low_overlap=args.low_overlap,
        shape=args.shape, class_matching=args.class_matching, pass_f1=args.pass_f1, pass_class_accuracy=args.pass_class_accuracy,
        pass_min_items=args.min_items, pass_classification_accuracy=args.pass_classification_accuracy,
        pass_attribute_accuracy=args.pass_attribute_accuracy, pass_confidence=args.pass_confidence)


def evaluate_online(args: argparse.Namespace) -> int:
    """Evaluate projects of the workspace: their Complete label rows, paired by data hash."""
    from annotrain_tui.cli.context import report_backend_warnings, workspace_from_args
    from annotrain_tui.core.config import Paths
    from annotrain_tui.core.evaluation.session import EvaluationSession

    # The workspace file and the key are inputs too: --out must never replace them.
    paths = Paths.default()
    _check_outputs(args, inputs=[str(p) for p in (getattr(args, "sandbox", None), getattr(args, "ssh_key", None),
                                                  paths.default_sandbox, paths.config_file) if p])
    ws = workspace_from_args(args)
    try:
        if args.benchmark:  # as named (the session finds it, as before); naming it does not make it current
            bench_ref = args.benchmark
        else:
            from annotrain_tui.cli.provision_cmd import current_benchmark

            bench_ref = current_benchmark(args, ws).id
        # The programme's current rounds (no --training named): its gold audit's exclusions apply and
        # the evaluation is kept as a snapshot of its history (per item too: --since names the items).
        prog = None if args.training else ws.programme(bench_ref)
        args._prog = prog
        settings = _settings(args)
        if prog is not None:
            from annotrain_tui.core.decisions import settings_of

            settings = settings_of(prog, settings)
        session = EvaluationSession.of_workspace(ws.backend, bench_ref, args.training or None, settings,
                                                 keep_objects=bool(args.out) or prog is not None,
                                                 block_size=10**9)  # one block: rows keep their order
        result = session.load()
        if prog is not None and result.paired_rows:
            from annotrain_tui.core import history
            from annotrain_tui.core.errors import AnnotrainError

            try:  # the scores are the answer: a history that cannot be written is a warning, not a failure
                snapshot = history.remember(prog, result, ws.backend, gold=session.bench_rows.values())
            except AnnotrainError as err:
                result.warnings.append(f"this evaluation is not kept in the programme's history: {err}")
                if args.since:
                    raise
            else:
                if args.since:
                    args._since = (history.report_since_json(prog, snapshot), history.report_since(prog, snapshot))
    except BaseException:
        report_backend_warnings(ws)
        raise
    finally:
        ws.close()
    # What the backend noticed (a row deleted meanwhile, a project without access) belongs to the
    # result: in its --json document and printed once with its other warnings.
    result.warnings.extend(w for w in getattr(ws.raw, "warnings", None) or [] if w not in result.warnings)
    if result.paired_rows == 0:
        from annotrain_tui.core.errors import AnnotrainError

        raise AnnotrainError(session.why_nothing_paired())  # the real cause: the benchmark, or the trainees
    return _report(args, result)


def run(args: argparse.Namespace) -> int:
    _check_numbers(args)
    if args.since and (args.benchmark_labels is not None or args.training):
        raise UsageError("--since compares a programme's evaluations: use it online, on the programme's trainees "
                         "(no --benchmark-labels, no --training)")
    if args.benchmark_labels is None:
        if args.training_labels:
            raise UsageError("--training-labels goes with --benchmark-labels; online use --training or --all")
        if args.training and args.all:
            raise UsageError("give --training PROJECT ... or --all, not both")
        return evaluate_online(args)
    if args.training or args.all:
        raise UsageError("--training and --all go with --benchmark; with --benchmark-labels use --training-labels")
    if not args.training_labels:
        raise UsageError("--benchmark-labels needs --training-labels FILE [FILE ...]")
    return _run_offline(args)


def _check_numbers(args: argparse.Namespace) -> None:
    for flag, value, low_open in (("--iou-threshold", args.iou_threshold, True),
                                  ("--low-overlap", args.low_overlap, False),
                                  ("--pass-f1", args.pass_f1, False),
                                  ("--pass-class-accuracy", args.pass_class_accuracy, False),
                                  ("--pass-classification-accuracy", args.pass_classification_accuracy, False),
                                  ("--pass-attribute-accuracy", args.pass_attribute_accuracy, False)):
        if value is not None and (not (0.0 <= value <= 1.0) or (low_open and value == 0.0)):
            raise UsageError(f"{flag} must be in {'(0' if low_open else '[0'}, 1], got {value}")
    if args.pass_confidence is not None and not (0.0 <= args.pass_confidence < 1.0):
        raise UsageError(f"--pass-confidence must be in [0, 1) (0 turns uncertainty off), got {args.pass_confidence}")
    if args.min_items is not None and args.min_items < 1:
        raise UsageError(f"--min-items must be a whole number ≥ 1, got {args.min_items}")
    if args.matching == "seed" and args.class_matching == "same":
        raise UsageError("--matching seed is the published script, which matches whatever the classes: use "
                         "--matching optimal with --class-matching same")
    if args.matching == "seed" and args.shape not in (None, "bounding_box"):
        raise UsageError(f"--matching seed is the published script, which compares bounding boxes on frame 0 only: "
                         f"use --matching optimal for --shape {args.shape}")


def _run_offline(args: argparse.Namespace) -> int:
    from annotrain_tui.core.evaluation import evaluate
    from annotrain_tui.core.files import check_input_file, unique_files

    # Inputs that are missing or not regular files (FIFOs, /dev/zero) are refused before any work.
    for path in [args.benchmark_labels, *args.training_labels]:
        check_input_file(path)
    # One file given twice (any spelling: ./x, a symlink, a hard link) counts once.
    given = list(args.training_labels)
    args.training_labels = [str(p) for p in unique_files(given)]
    if len(args.training_labels) != len(given):
        n = len(given) - len(args.training_labels)
        sys.stderr.write(f"annotrain: warning: {n} --training-labels file{'s are' if n != 1 else ' is'} given "
                         "twice (the same file under another name); each file counts once\n")
    from annotrain_tui.core.files import same_file

    if any(same_file(p, args.benchmark_labels) for p in args.training_labels):
        raise UsageError(f"{shown(args.benchmark_labels)} is given as the benchmark and as a training file: "
                         "the benchmark would be scored against itself",
                         hint="give the trainees' exports to --training-labels")
    _check_outputs(args, inputs=[args.benchmark_labels, *args.training_labels])

    from annotrain_tui.core.evaluation.fastread import load_table

    said: list[str] = []  # the one rule of the TUI's file source too: only finished tasks count

    def table(path: str) -> Any:
        """The file's table by the typed decode (the dict path for a file it cannot take as it is)."""
        loaded = load_table(read_bytes(path), source=path, include_incomplete=args.include_incomplete)
        said.extend(loaded.warnings)
        return loaded.table

    def training_sets() -> Iterator[tuple[str, Any]]:
        for path in args.training_labels:  # one file in memory at a time, and only its arrays
            yield path, table(path)

    # No cyclic GC over the run (as the manifest validator): what it holds is arrays and records
    # without cycles, and a collector rescanning the growing heap made the cost per image grow
    # with the run (4,000 images: 5.8 s with it, 2.5 s without; 1,000: 0.83 s, 0.57 s).
    from annotrain_tui.core.startup import no_cyclic_gc

    with no_cyclic_gc():
        benchmark = table(args.benchmark_labels)
        result = evaluate(benchmark, training_sets(), _settings(args), benchmark_source=args.benchmark_labels,
                          keep_objects=bool(args.out))
    result.warnings[:0] = said

    return _report(args, result)


def _check_outputs(args: argparse.Namespace, *, inputs: list[str]) -> None:
    """--out and --summary-json, checked before any work: never an input, a device, each other,
    or an existing file without --force (core/files.py ``check_output``)."""
    from annotrain_tui.core.files import check_distinct_outputs, check_output

    check_distinct_outputs({"--out": args.out or None, "--summary-json": args.summary_json or None,
                            "--confusion-out": args.confusion_out or None})
    for value in (args.out, args.summary_json, args.confusion_out):
        if value:
            check_output(value, inputs=inputs, force=args.force)


def _report(args: argparse.Namespace, result: Any) -> int:
    from annotrain_tui.core.files import check_output

    if not any(a.objects or a.benchmark_objects or a.classifications or a.attributes
               for a in result.annotators.values()):  # rows paired, nothing in them to compare: a domain failure
        from annotrain_tui.core.errors import AnnotrainError

        shapes = " or ".join(result.settings.shapes) if len(result.settings.shapes) < 3 else "compared"
        raise AnnotrainError(f"nothing to compare: the {result.paired_rows} paired label row(s) hold no {shapes} "
                             "objects and no answers",
                             hint="--shape chooses one shape; without it every shape is compared")

    inputs = [p for p in [getattr(args, "benchmark_labels", None), *getattr(args, "training_labels", [])] if p]
    written: dict[str, Any] = {}
    # Checked again right before writing (a file may have appeared during a long evaluation).
    real_out = check_output(args.out, inputs=inputs, force=args.force) if args.out else None
    real_summary = check_output(args.summary_json, inputs=inputs, force=args.force) if args.summary_json else None
    if args.out:
        written["out"] = _write_rows(result, str(real_out), seed=args.matching == "seed")
        written["out"]["path"] = args.out
    if real_summary is not None:
        from annotrain_tui.core.exports import write_json

        write_json(real_summary, result.summary_json())
        written["summary_json"] = args.summary_json
    if args.confusion_out:
        from annotrain_tui.core.exports import write_confusion_csv

        real_confusion = check_output(args.confusion_out, inputs=inputs, force=args.force)
        written["confusion_out"] = {"path": args.confusion_out,
                                    "rows": int(write_confusion_csv(Path(str(real_confusion)), result))}

    failing, graduated = _check(args, result)
    if args.json:
        check = {"check": {"ok": not failing, "failing": failing, "graduated": graduated}} if args.check else {}
        since = {"since": args._since[0]} if getattr(args, "_since", None) else {}
        emit_json({**result.to_json(), **({"written": written} if written else {}), **check, **since})
    else:
        _print_human(result, written)
        if getattr(args, "_since", None):
            print("Since the last evaluation:")
            for line in args._since[1] or ["nothing to compare it with yet (the first evaluation of this round)"]:
                print(f"  {line}")
    from annotrain_tui.cli.common import note_line

    for warning in result.warnings:
        sys.stderr.write(f"annotrain: warning: {shown(note_line(warning))}\n")
    for f in failing:  # --check: one line per annotator who has not passed
        sys.stderr.write(f"annotrain: check: {shown(f['annotator'])} {f['status']}"
                         + (f": {shown(f['reason'])}" if f["reason"] else "") + "\n")
    checked = len(result.annotators) + sum(1 for f in failing if f["annotator"] not in result.annotators) \
        - len(graduated)
    if args.check and not args.json:
        print((f"Check: {len(failing)} of {checked} annotator(s) not passed" if failing
               else f"Check: all {checked} annotator(s) passed")
              + (f" ({len(graduated)} graduated already, not checked)" if graduated else ""))
    return 1 if failing else 0


def _check(args: argparse.Namespace, result: Any) -> tuple[list[dict[str, str]], list[str]]:
    """--check: every annotator who has not passed (annotator, status, reason); on a programme also
    each trainee whose current round is not scored yet (not started: a cron check must name them),
    and apart, never failing, those a person graduated already (the decision was made and applied:
    the check does not stay red for it). Trial 16 #7, #8."""
    if not args.check:
        return [], []
    prog = getattr(args, "_prog", None)
    graduated = sorted(prog.graduated) if prog is not None else []
    failing = [{"annotator": a.annotator, "status": a.status, "reason": a.reason}
               for a in result.annotators.values() if a.status != STATUS_PASSED and a.annotator not in graduated]
    if prog is not None:
        from annotrain_tui.core.roster import identity

        scored = {identity(name) for name in result.annotators}
        for t in prog.trainees.values():
            if t.email not in scored and t.email not in prog.graduated:
                failing.append({"annotator": t.email, "status": "not started",
                                "reason": f"round {t.round}: {t.current.complete} of {t.current.total} task(s) "
                                          "Complete, nothing scored yet"})
    return failing, [g for g in graduated if g in result.annotators or g in prog.trainees] if prog else []


def _write_rows(result: Any, path: str, *, seed: bool) -> dict[str, Any]:
    """The per-object CSV, each training set's rows written as they come (no frame of them all)."""
    from annotrain_tui.core.evaluation.outputs import write_objects_csv, write_seed_csv

    n = write_seed_csv(Path(path), result) if seed else write_objects_csv(Path(path), result)
    return {"path": path, "rows": int(n)}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _detail_lines(a: Any, same_class: bool = False) -> list[str]:
    """What the table leaves out for one annotator: why the status, and the breakdowns and answers
    when there is more than one shape, or any answer, to tell apart."""
    out = []
    if a.reason:
        out.append(f"{a.status}: {shown(a.reason)}")
    if a.class_mismatches:
        out.append(f"class mismatches: {a.class_mismatches} object(s) on a benchmark object of another class"
                   + (" (counted as missed and extra, and once in the confusion)" if same_class else
                      " (matched, with the wrong class)"))
    if len(a.by_shape) > 1:
        out.append("by shape: " + ", ".join(f"{k} F1 {_fmt(b.f1)} (mean similarity {_fmt(b.mean_similarity)})"
                                            for k, b in a.by_shape.items()))
    f1_interval, p_interval, r_interval = a.f1_interval, a.precision_interval, a.recall_interval
    if f1_interval is not None and p_interval is not None and r_interval is not None:
        out.append(f"F1 {a.f1:.3f}, {a.confidence * 100:g}% interval {f1_interval[0]:.3f}–{f1_interval[1]:.3f} "
                   f"(precision {p_interval[0]:.3f}–{p_interval[1]:.3f}, recall {r_interval[0]:.3f}–{r_interval[1]:.3f})")
    for label, totals, overall in (("classifications", a.classifications, a.classification_accuracy),
                                   ("attributes", a.attributes, a.attribute_accuracy)):
        if totals:
            out.append(f"{label} {_fmt(overall)}: " + ", ".join(
                f"{shown(q.label, limit=60)} {_fmt(q.accuracy)} ({q.compared})" for q in totals.values()))
    return out


def _print_human(result: Any, written: dict[str, Any]) -> None:
    s = result.settings
    frames = "frame 0" if s.frame0_only else "every frame"
    areas = set(s.shapes) <= {"bounding_box", "rotatable_bounding_box", "polygon", "bitmask"}
    measure = "IoU" if areas else "similarity"  # points, skeletons and lines have their own similarity
    print(f"Compared {result.paired_rows} paired label row(s), {result.frames} frame(s) "
          f"[{s.matching} matching{', within a class' if s.class_matching == 'same' else ''}, {measure} ≥ "
          f"{s.iou_threshold:g}, {', '.join(s.shapes)}, {frames}]")
    rows = []
    for name, a in result.annotators.items():  # sorted by annotator
        rows.append([name, a.status, str(a.objects), str(a.benchmark_objects), str(a.matched), str(a.missed),
                     str(a.extra), _fmt(a.precision), _fmt(a.recall), _fmt(a.f1), _fmt(a.mean_iou),
                     _fmt(a.class_accuracy), str(a.low_overlap)])
    if rows:
        low = "LOW IOU" if areas else "LOW SIM"
        print(table(rows, ["ANNOTATOR", "STATUS", "OBJECTS", "BENCHMARK", "MATCHED", "MISSED", "EXTRA",
                           "PRECISION", "RECALL", "F1", f"MEAN {'IOU' if areas else 'SIM'}", "CLASS ACC", low]))
    else:
        print("No annotator objects or benchmark objects of the compared shapes in the paired rows.")
    for name, a in result.annotators.items():
        lines = _detail_lines(a, s.class_matching == "same")
        if lines:
            print(f"{shown(name)}:")
            for line in lines:
                print(f"  {line}")
    pm = s.pass_mark
    need = "every benchmark item finished" if pm.min_items is None else f"at least {pm.min_items} item(s) finished"
    print(f"Pass mark: {need}, F1 ≥ {pm.f1:g}, class accuracy ≥ {pm.class_accuracy:g}, answers ≥ "
          f"{pm.classification_accuracy:g} and attributes ≥ {pm.attribute_accuracy:g} where compared (close: within "
          f"{pm.margin:g}" + (f"; uncertain: the F1's {pm.confidence * 100:g}% interval straddles the mark"
                              if pm.confidence else "")
          + f"); {'LOW IOU' if areas else 'LOW SIM'} = matches below {s.low_overlap:g}"
          + ("." if areas else " (similarity: IoU for areas, buffered IoU for lines, OKS for keypoints)."))
    nc = {k: v for side in ("benchmark", "training") for k, v in result.not_compared[side].items()}
    if nc:
        parts = []
        for side in ("benchmark", "training"):
            counts = result.not_compared[side]
            if counts:
                parts.append(f"{side}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        print("Not compared: " + "; ".join(parts))
    if "out" in written:
        print(f"Wrote {written['out']['rows']} row(s) to {shown(written['out']['path'])}")
    if "confusion_out" in written:
        print(f"Wrote {written['confusion_out']['rows']} confusion row(s) to {shown(written['confusion_out']['path'])}")
    if "summary_json" in written:
        print(f"Wrote the summary to {shown(written['summary_json'])}")
