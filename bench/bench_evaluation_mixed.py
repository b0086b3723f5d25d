"""Benchmark: evaluation of every shape and answer (issue 15) against a plain reference, same data.

    python bench/bench_evaluation_mixed.py [--images 500] [--annotators 5] [--objects 12]
                                           [--baseline-items 60] [--repeat 3]

Data: ``tests.synth.make_mixed_programme``: images, image groups and videos at 1280×720 holding
boxes, rotated boxes, polygons (holes, several parts), polylines, points, skeletons and bitmasks,
with classifications (radio, checklist, text, nested, global) and object attributes; trainees
jitter, drop, add, confuse classes and answer wrongly.

Baseline: ``tests/reference_eval.py``, the plain reference the tests check the engine against to
1e-9 (per pair in Python: shapely for areas and lines, the SDK's decoder for masks, numpy per
keypoint; ``linear_sum_assignment`` per frame group), timed on the first ``--baseline-items``
items of every project and scaled linearly to all. The published script has no counterpart: it
compares boxes only (``bench_evaluation.py`` keeps that figure). The engine's result on the
subsample is checked against the reference's, field by field.

Engine: ``parse`` (label-row dicts → arrays, masks decoded) and optimal matching + aggregation
(per shape, per class, answers), end to end from dicts; the share of each shape in the similarity
time is measured by evaluating each shape alone.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from annotrain_tui.core.evaluation import COMPARED_SHAPES, Evaluator, evaluate, parse_label_rows  # noqa: E402
from tests.reference_eval import reference_evaluation  # noqa: E402
from tests.synth import make_mixed_programme  # noqa: E402


def _best(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _same(engine: dict[str, Any], reference: dict[str, Any], path: str = "") -> None:
    """Every field of the reference equals the engine's (floats to 1e-9)."""
    for key, want in reference.items():
        got = engine.get(key)
        where = f"{path}.{key}"
        if isinstance(want, dict):
            assert isinstance(got, dict), where
            _same(got, want, where)
        elif isinstance(want, float) and isinstance(got, float):
            assert math.isclose(got, want, rel_tol=0, abs_tol=1e-9), (where, got, want)
        else:
            assert got == want, (where, got, want)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=500, help="items (images, image groups and videos)")
    ap.add_argument("--annotators", type=int, default=5)
    ap.add_argument("--objects", type=int, default=12, help="objects per item (at most)")
    ap.add_argument("--baseline-items", type=int, default=60, help="items of each project the reference runs on")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    emails = [f"annotator{i:02d}@example.com" for i in range(args.annotators)]
    t0 = time.perf_counter()
    prog = make_mixed_programme(seed=5, n_items=args.images, annotators=emails,
                                objects_per_item=(max(1, args.objects // 2), args.objects), sizes=((1280, 720),))
    print(f"# Mixed-shape evaluation benchmark: {args.images} items × {args.annotators} annotators, up to "
          f"{args.objects} objects each (generated in {time.perf_counter() - t0:.1f} s)")
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPU(s), one core used; fastest of {args.repeat}\n")
    sets = list(prog.training.items())
    n_rows = sum(len(rows) for _, rows in sets)

    bm_secs, bm = _best(lambda: parse_label_rows(prog.benchmark, source="benchmark"), args.repeat)
    parse_secs = 0.0
    tables = []
    for name, rows in sets:
        secs, table = _best(lambda rows=rows, name=name: parse_label_rows(rows, source=name), args.repeat)
        parse_secs += secs
        tables.append((name, table))
    n_objects = sum(len(t) for _, t in tables)

    def evaluate_all(shape: str | None = None) -> Any:
        ev = Evaluator(bm, shape=shape)
        for name, table in tables:
            ev.add(name, table)
        return ev.result()

    match_secs, result = _best(evaluate_all, args.repeat)
    per_shape = {s: _best(lambda s=s: evaluate_all(s), args.repeat)[0] for s in COMPARED_SHAPES}

    k = min(args.baseline_items, args.images)
    sub_bm = prog.benchmark[:k]
    sub_sets = [(name, rows[:k]) for name, rows in sets]
    ref_secs, reference = _best(lambda: reference_evaluation(sub_bm, sub_sets), 1)
    scaled = ref_secs * args.images / k
    engine_sub = evaluate(sub_bm, sub_sets).to_json()["annotators"]
    for name, want in reference.items():
        _same(engine_sub[name], want, name)
    print(f"engine checked against the reference on {k} items × {len(sub_sets)} projects: equal to 1e-9\n")

    total = bm_secs + parse_secs + match_secs
    print("| step | time | label rows/s | vs the plain reference |")
    print("|---|---:|---:|---:|")
    print(f"| plain reference (baseline; timed on {k} of {args.images} items, scaled) | {scaled:.2f} s | "
          f"{n_rows / scaled:,.0f} | 1× |")
    print(f"| engine: parse label-row dicts (benchmark + {len(sets)} projects, {n_objects:,} annotator objects) | "
          f"{bm_secs + parse_secs:.2f} s | {n_rows / (bm_secs + parse_secs):,.0f} | — |")
    print(f"| engine: optimal match + aggregate (every shape, answers) | {match_secs:.2f} s | "
          f"{n_rows / match_secs:,.0f} | {scaled / match_secs:,.0f}× |")
    print(f"| engine end to end | {total:.2f} s | {n_rows / total:,.0f} | **{scaled / total:,.1f}×** |\n")
    print("match + aggregate with one shape at a time: " + ", ".join(
        f"{s} {secs * 1000:.0f} ms" for s, secs in per_shape.items()))
    statuses = sorted({a.status for a in result.annotators.values()})
    print(f"(sanity: {len(result.annotators)} annotators; statuses {statuses})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
