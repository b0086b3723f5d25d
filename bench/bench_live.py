"""Live evaluation benchmarks (issue 7).

(a) Refresh cost: a sandbox with ANNOTRAIN_SANDBOX_LATENCY_MS=20 per call, a benchmark and training
    projects with 2,000 Complete training label rows in all; one row changes; the refresh is timed
    against the first full load in the same run (goal: at most 5%). Medians of 5 loads (fresh
    sessions) and of 5 refreshes (one more row changed before each).
(b) The per-object drill-down at 100,000 rows: time to first paint, and the longest event-loop
    stall (a 5 ms heartbeat timer on the UI) while loading, sorting and refreshing the table,
    compared with Textual's DataTable loading the same rows in the same run.

    python bench/bench_live.py [--rows 2000] [--objects 100000] [--skip-datatable]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd


def build_workspace(tmp: Path, rows: int, annotators: int):
    from annotrain_tui.core.backends.sandbox import SandboxBackend
    from annotrain_tui.core.backends.sandbox.demo import annotate_like, gold_objects
    from annotrain_tui.core.markers import training_description

    sb = SandboxBackend(tmp / "live.db")
    integ = sb.add_integration("S3", "aws")
    folder = sb.create_folder("Bench")
    per = rows // annotators
    manifest = {"images": [{"objectUrl": f"https://b.s3.amazonaws.com/i{i}.jpg"} for i in range(per)]}
    os.environ["ANNOTRAIN_SANDBOX_JOB_SECONDS"] = "0"
    sb.get_registration_result(folder.id, sb.start_registration(folder.id, integ.id, manifest))
    items = sb.list_items(folder.id)
    ds = sb.create_dataset("Bench set")
    sb.link_items(ds.id, [i.id for i in items])
    onto = sb.add_ontology("O", [{"name": "Car", "shape": "bounding_box"}, {"name": "Person", "shape": "bounding_box"},
                                 {"name": "Bus", "shape": "rotatable_bounding_box"}, {"name": "Sign", "shape": "polygon"}])
    classes = sb.ontology_structure(onto.id)["objects"]
    bench = sb.create_project("Benchmark", description="", dataset_ids=[ds.id], ontology_id=onto.id)
    rng = random.Random(0)
    now = datetime.now(UTC)
    gold = {}
    for item in items:
        gold[item.id] = gold_objects(rng, classes, "gold@x.com", now)
        sb.save_labels(bench.id, item.id, gold[item.id], stage="Complete")
    projects = []
    for a in range(annotators):
        email = f"a{a}@x.com"
        p = sb.create_project(f"T{a}", description=training_description(f"A{a}", email, bench.id),
                              dataset_ids=[ds.id], ontology_id=onto.id)
        for item in items:
            sb.save_labels(p.id, item.id, annotate_like(rng, gold[item.id], classes, skill=0.8, email=email,
                                                        when=now), stage="Complete")
        projects.append(p)
    return sb, bench, projects, items, gold, classes


def bench_refresh(rows: int, annotators: int, latency_ms: float, repeat: int = 5) -> dict:
    """Median of ``repeat`` first full loads (fresh sessions) and of ``repeat`` refreshes, each
    after one more label row changed."""
    from annotrain_tui.core.backends.faults import FaultInjector
    from annotrain_tui.core.backends.sandbox.demo import annotate_like
    from annotrain_tui.core.evaluation.session import EvaluationSession

    with tempfile.TemporaryDirectory() as d:
        sb, bench, projects, items, gold, classes = build_workspace(Path(d), rows, annotators)
        slow = FaultInjector(sb, latency_ms=latency_ms)
        loads = []
        for _ in range(repeat):
            live = EvaluationSession.of_workspace(slow, bench.id)
            t0 = time.perf_counter()
            live.load()
            live.annotator_frame()
            loads.append(time.perf_counter() - t0)
        rng = random.Random(1)
        per = len(items) // annotators  # each project holds its own slice of the items
        refreshes, checks = [], []
        for k in range(repeat):
            target = items[(per // 2 + k) % per]
            sb.save_labels(projects[0].id, target.id,
                           annotate_like(rng, gold[target.id], classes, skill=0.2, email="a0@x.com",
                                         when=datetime.now(UTC)), stage="Complete")
            t0 = time.perf_counter()
            report = live.refresh(include_new_projects=False, check_benchmark=False)
            live.annotator_frame()
            refreshes.append(time.perf_counter() - t0)
            assert report.changed_rows == 1, report
            t0 = time.perf_counter()
            live.refresh()  # the periodic full check: new projects and benchmark edits too
            checks.append(time.perf_counter() - t0)
    return {"full": float(np.median(loads)), "refresh": float(np.median(refreshes)),
            "refresh_max": max(refreshes), "full_check": float(np.median(checks))}


async def bench_table(n: int, with_datatable: bool) -> dict:
    from textual.app import App
    from textual.widgets import DataTable

    from annotrain_tui.tui.widgets.frame_table import Column, FrameTable

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "row_id": np.arange(n), "data_title": [f"scene_{i % 5000:05d}.jpg" for i in range(n)],
        "frame": rng.integers(0, 10, n), "shape": rng.choice(["bounding_box", "polygon"], n),
        "class": rng.choice(["Car", "Person", "Bus"], n), "iou": rng.random(n)})
    columns = [Column("data_title", "Item"), Column("frame", "Frame"), Column("shape", "Shape"),
               Column("class", "Class"), Column("iou", "IoU", format=lambda v: f"{v:.3f}")]

    class Bench(App):
        def compose(self):
            yield FrameTable(columns, key_column="row_id", id="t")

    out: dict = {}
    app = Bench()
    async with app.run_test(size=(120, 40)) as pilot:
        gaps: list[float] = []
        last = [time.perf_counter()]

        def beat():
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

        app.set_interval(0.005, beat)
        await pilot.pause(0.1)
        table = app.query_one(FrameTable)

        async def phase(name, fn):
            gaps.clear()
            last[0] = time.perf_counter()
            t0 = time.perf_counter()
            fn()
            await pilot.pause()  # one paint
            out[f"{name}_paint"] = time.perf_counter() - t0
            await pilot.pause(0.05)
            out[f"{name}_stall"] = max(gaps) if gaps else out[f"{name}_paint"]

        await phase("load", lambda: table.set_frame(frame))
        await phase("sort", lambda: table.sort_by("iou"))
        await phase("refresh", lambda: table.set_frame(frame.assign(iou=frame["iou"] * 0.9)))
    if with_datatable:
        class DT(App):
            def compose(self):
                yield DataTable(id="dt")

        dt_app = DT()
        async with dt_app.run_test(size=(120, 40)) as pilot:
            dt = dt_app.query_one(DataTable)
            dt.add_columns("Item", "Frame", "Shape", "Class", "IoU")
            t0 = time.perf_counter()
            dt.add_rows(frame[["data_title", "frame", "shape", "class", "iou"]].itertuples(index=False, name=None))
            await pilot.pause()
            out["datatable_paint"] = time.perf_counter() - t0
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--annotators", type=int, default=4)
    ap.add_argument("--latency-ms", type=float, default=20)
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--skip-datatable", action="store_true")
    args = ap.parse_args()
    print(f"| (a) {args.rows:,} training label rows, {args.latency_ms:g} ms per call, median of 5 | "
          "first full load (baseline) | refresh after 1 changed row | periodic full check |")
    print("|---|---|---|---|")
    for projects in sorted({1, args.annotators}):
        r = bench_refresh(args.rows, projects, args.latency_ms)
        print(f"| {projects} training project(s) | {r['full'] * 1000:.0f} ms (100%) | {r['refresh'] * 1000:.0f} ms "
              f"({100 * r['refresh'] / r['full']:.1f}%; slowest {100 * r['refresh_max'] / r['full']:.1f}%) | "
              f"{r['full_check'] * 1000:.0f} ms ({100 * r['full_check'] / r['full']:.1f}%) |")
    t = asyncio.run(bench_table(args.objects, not args.skip_datatable))
    print()
    print(f"| (b) per-object table, {args.objects:,} rows | first paint | longest event-loop stall |")
    print("|---|---|---|")
    for name in ("load", "sort", "refresh"):
        print(f"| FrameTable {name} | {t[name + '_paint'] * 1000:.0f} ms | {t[name + '_stall'] * 1000:.0f} ms |")
    if "datatable_paint" in t:
        print(f"| Textual DataTable load (baseline) | {t['datatable_paint'] * 1000:.0f} ms | "
              f"{t['datatable_paint'] * 1000:.0f} ms | ")
        print(f"\nFrameTable first paint is {t['datatable_paint'] / t['load_paint']:.0f}x faster than DataTable's.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
