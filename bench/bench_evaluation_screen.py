"""Benchmark: the evaluation screen on label-row files, against the CLI on the same files.

    python bench/bench_evaluation_screen.py [--images 1000] [--annotators 10] [--boxes 15]
                                            [--repeat 1] [--keep DIR]

Issue 14's row "evaluation screen, 1,000 × 10: memory | the CLI on the same files | ≤ 1.5×; the UI
heartbeat never stalls over 100 ms while loading". The files are ``bench_evaluation_e2e.py``'s (one
benchmark file and one label-row file per annotator, from ``tests.synth``); each measurement is its
own process, its peak RSS the launcher's ``RUSAGE_CHILDREN`` (as in the e2e script):

1. the baseline: ``annotrain evaluate --benchmark-labels BM --training-labels TR… --summary-json OUT``;
2. the screen: this script with ``--child`` starts the real app headless (``AnnotrainApp`` on a
   sandbox workspace the parent seeded with the demo data, opened as ``annotrain tui --sandbox``
   opens it, ``start_screen="evaluation"`` with the files as its offline options,
   ``run_test(size=(120, 40))``); the child imports nothing of the parent's (the generator, the
   seeding), so its memory is the app's. A heartbeat (``set_interval(0.005)``)
   is installed in the app's ``on_mount``, before the evaluation screen is pushed and so before its
   load starts, and records the gaps between beats until the beat that sees the screen's snapshot
   published (that gap includes the ``Published`` handler filling the table). The child writes
   the load time, the longest gaps, whether pandas was imported and its own peak RSS to a JSON file.

The child also times every cyclic garbage collection (``gc.callbacks``); ``--where`` adds a watchdog
thread that notes what each thread runs during a stall. ``--gc-off-too`` runs the screen once more with ``gc.disable()`` in the child, to say how much of a
stall is the cyclic garbage collector rescanning the heap the load grows.

Where the memory at mount goes: the child notes its RSS as it imports (Python itself, Textual and the
app, the evaluation screen's own modules) and at mount (the running app). A snapshot
does not build the per-object rows (the annotator table needs none); ``--drill-too`` runs the screen
once more and, once the snapshot is shown, asks for them as the drill-down, a filter or an export
does, to say what that costs (its own run: the headline peak is the screen as it opens).

Every process gets fresh XDG config, data, state and cache folders (no user config, no recent values).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# the parent's (the files, the CLI baseline): the child imports none of it, so its memory is the app's

#: the heartbeat's period and the goals of the row
BEAT = 0.005
STALL_GOAL = 0.100
RSS_GOAL = 1.5
#: a load that has not published after this long is reported as failed, not waited on for ever
LOAD_TIMEOUT = 1800.0


def _rss_now() -> int:
    """This process's resident set now, in bytes (Linux; 0 where /proc is not there)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _peak_self() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _gc_timer(beats: dict[str, Any]) -> None:
    """Every cyclic collection while the app runs: the longest one, their total time, the count."""
    began = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
            return
        took = time.perf_counter() - began[0]
        beats["gc_total"] += took
        beats["gc_count"] += 1
        beats["gc_longest"] = max(beats["gc_longest"], (took, info["generation"]))

    beats.update(gc_total=0.0, gc_count=0, gc_longest=(0.0, 0))
    gc.callbacks.append(callback)


def _where(frame: Any) -> str:
    """What a thread runs: its innermost frame and the innermost one of the project (``idle`` when
    it waits); a thread inside a cyclic collection (this script's GC callback) is said to be."""
    stack = traceback.extract_stack(frame)
    inner = stack[-1]
    if inner.filename.endswith(("selectors.py", "threading.py", os.sep + "thread.py")):
        return "idle"
    root = str(ROOT) + os.sep
    own = next((fs for fs in reversed(stack) if fs.filename.startswith(root + "annotrain_tui")), None)

    def at(fs: traceback.FrameSummary) -> str:
        return f"{fs.filename.replace(root, '')}:{fs.lineno} {fs.name}"

    gc_now = inner.filename == __file__ and inner.name == "callback" and len(stack) > 1
    what = f"a cyclic GC collection, from {at(stack[-2])}" if gc_now else at(inner)
    return what + (f" (in {at(own)})" if own is not None and own is not inner else "")


def _watchdog(beats: dict[str, Any], stop: threading.Event) -> None:
    """``--where``: once per stall (a beat 50 ms late), what every other thread is running, taken
    when this thread next gets the interpreter (so after a long C call, often the line that made it)."""
    seen = None
    me = threading.get_ident()
    while not stop.wait(0.01):
        last = beats["last"]
        if last is None or last == seen or time.perf_counter() - last < 0.05:
            continue
        seen = last
        names = {t.ident: t.name for t in threading.enumerate()}
        where = [f"{names.get(ident, ident)}: {_where(frame)}" for ident, frame in sys._current_frames().items()
                 if ident != me]
        beats["where"].append((last - beats["start"], where))


# -- the child: the real app, headless, with a heartbeat ------------------------------------------
async def _drive(bm: str, trs: list[str], workspace: Path, where: bool, drill: bool = False) -> dict[str, Any]:
    imports = [("Python and this script", _rss_now())]
    from textual.worker import Worker, WorkerState

    from annotrain_tui.tui.app import AnnotrainApp
    imports.append(("Textual and the app", _rss_now()))
    from annotrain_tui.tui.screens.evaluation import EvaluationScreen
    imports.append(("the evaluation screen's modules (numpy, msgspec, core)", _rss_now()))
    from annotrain_tui.core.config import Paths, Settings
    from annotrain_tui.core.workspace import open_workspace

    # the sandbox the parent seeded, opened as ``annotrain tui --sandbox PATH`` opens it
    ws = open_workspace(Paths.default(), Settings().replace(sandbox_path=workspace, retry_base_delay=0))
    done = asyncio.Event()
    beats: dict[str, Any] = {"gaps": [], "failed": "", "last": None, "where": []}
    _gc_timer(beats)
    stop = threading.Event()
    if where:
        threading.Thread(target=_watchdog, args=(beats, stop), name="watchdog", daemon=True).start()

    class HeartbeatApp(AnnotrainApp):
        # a CSS_PATH is read relative to the module of the app's class: AnnotrainApp's, not this one
        CSS_PATH = str(Path(inspect.getfile(AnnotrainApp)).parent / str(AnnotrainApp.CSS_PATH))

        def on_mount(self) -> None:
            # Textual calls each class's on_mount, this subclass's first: the heartbeat runs before
            # AnnotrainApp.on_mount pushes the evaluation screen (whose on_mount starts the load).
            beats["start"] = beats["last"] = time.perf_counter()
            beats["rss_mount"], beats["peak_mount"] = _rss_now(), _peak_self()
            self.set_interval(BEAT, self.beat)

        def beat(self) -> None:
            now = time.perf_counter()
            beats["gaps"].append((now - beats["last"], beats["last"] - beats["start"]))
            beats["last"] = now
            screen = self.screen_stack[-1] if self.screen_stack else None  # none yet: a beat may come first
            if not isinstance(screen, EvaluationScreen) or done.is_set():
                return
            beats.setdefault("screen", now - beats["start"])
            if screen.snapshot is not None:
                beats["published"] = now - beats["start"]
                done.set()

        def report_worker_state(self, event: Worker.StateChanged) -> None:
            # every screen hands its workers' state changes to this method (they do not bubble)
            super().report_worker_state(event)
            if event.worker.group == "evaluation-load" and event.state == WorkerState.ERROR:
                beats["failed"] = f"the load failed: {event.worker.error}"
                done.set()

    app = HeartbeatApp(ws, start_screen="evaluation", screen_options={"benchmark_labels": bm,
                                                                       "training_labels": trs})
    annotators = 0
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.perf_counter() + LOAD_TIMEOUT
        while not done.is_set():  # woken by the beat that sees the snapshot (or the app gone, or too long)
            if app.return_code is not None:
                beats["failed"] = f"the app exited ({app.return_code}) before the snapshot was published"
                break
            if time.perf_counter() > deadline:
                beats["failed"] = f"no snapshot after {LOAD_TIMEOUT:.0f} s"
                break
            try:
                await asyncio.wait_for(done.wait(), 0.5)
            except TimeoutError:
                pass
        rss_loaded = _rss_now()
        pandas_loaded = "pandas" in sys.modules
        screen = app.screen
        drilled: dict[str, float] = {}
        if isinstance(screen, EvaluationScreen) and screen.snapshot is not None:
            result = screen.snapshot.result
            annotators = len(result.annotators) if result is not None else 0
            if drill:  # what a drill-down asks first: the per-object rows (in a thread, as its worker)
                snap = screen.snapshot
                t0 = time.perf_counter()
                rows = await asyncio.to_thread(lambda: snap.objects)
                drilled = {"took": time.perf_counter() - t0, "rss": _rss_now(),
                           "rows": len(rows) if rows is not None else 0}
        stop.set()
        await pilot.pause()
    gaps = sorted(beats["gaps"], reverse=True)
    notes = dict(beats["where"])
    return {
        "failed": beats["failed"],
        "screen": beats.get("screen"),
        "published": beats.get("published"),
        "beats": len(gaps),
        "longest": gaps[:5],  # (gap, when it began, from the heartbeat's start), longest first
        "annotators": annotators,
        "rss_mount": beats["rss_mount"],
        "peak_mount": beats["peak_mount"],
        "rss_loaded": rss_loaded,
        "pandas": pandas_loaded,
        "imports": imports,
        "drill": drilled,
        "peak": _peak_self(),
        "gc_total": beats["gc_total"], "gc_count": beats["gc_count"], "gc_longest": beats["gc_longest"],
        "where": [[began, notes[began]] for _gap, began in gaps[:5] if began in notes],
    }


def child(argv: list[str]) -> int:
    if "--gc-off" in argv[:2]:  # the diagnosis: how much of the stall is the cyclic collector
        gc.disable()
    where = "--where" in argv[:2]
    drill = "--drill" in argv[:2]
    argv = [a for a in argv[:2] if a not in ("--gc-off", "--where", "--drill")] + argv[2:]
    result_path, workspace, bm, *trs = argv
    out = asyncio.run(_drive(bm, trs, Path(workspace), where, drill))
    Path(result_path).write_text(json.dumps(out))
    if out["failed"]:
        print(f"evaluation screen: {out['failed']}", file=sys.stderr)
        return 1
    return 0


# -- the parent ----------------------------------------------------------------------------------
def isolate(work: Path) -> None:
    """Fresh XDG folders for this process and every child (platformdirs reads them on Linux)."""
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        folder = work / "xdg" / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        os.environ[f"XDG_{name}_HOME"] = str(folder)


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    from bench_evaluation_e2e import PY, evaluate_cmd, generate, run

    from tests.tui.helpers import demo_workspace
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--annotators", type=int, default=10)
    ap.add_argument("--boxes", type=int, default=15)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the best time, the worst RSS and stall")
    ap.add_argument("--gc-off-too", action="store_true",
                    help="also run the screen with the cyclic garbage collector off (where the stall comes from)")
    ap.add_argument("--drill-too", action="store_true",
                    help="also run the screen and build the per-object rows once the snapshot is shown (a drill-down)")
    ap.add_argument("--where", action="store_true",
                    help="a watchdog thread notes what each thread runs during the longest stalls (adds a little load)")
    ap.add_argument("--keep", metavar="DIR", help="generate into (and keep) this folder; reuse files already there")
    args = ap.parse_args(argv)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="annotrain-screen-"))
    try:
        isolate(work)
        print(f"# Evaluation screen: {args.images} images × {args.annotators} annotators × {args.boxes} boxes")
        print(f"Python {platform.python_version()}, {os.cpu_count()} CPU(s); each run its own process, "
              f"{args.repeat} run(s) of each\n")
        folder = work / f"{args.images}x{args.annotators}x{args.boxes}"
        bm = folder / "benchmark.json"
        if bm.exists():
            trs = sorted(folder.glob("training_*.json"))
        else:
            t0 = time.perf_counter()
            bm, trs = generate(folder, args.images, args.annotators, args.boxes)
            print(f"generated in {time.perf_counter() - t0:.1f} s")
        size = sum(p.stat().st_size for p in [bm, *trs])
        print(f"input: {1 + len(trs)} files, {size / 1e6:.1f} MB\n")

        t_cli, rss_cli = run(evaluate_cmd(bm, trs, work / "summary.json", seed=False), args.repeat)

        def screen_runs(tag: str, flags: list[str]) -> tuple[float, int, list[dict[str, Any]]]:
            """(best time, worst peak RSS, each run's record) of the screen process."""
            best, peak, runs = float("inf"), 0, []
            for i in range(args.repeat):
                result = work / f"screen{tag}_{i}.json"
                db = work / f"ws{tag}_{i}.db"
                demo_workspace(db)  # seeded here: the child opens it as the app does
                cmd = [PY, str(Path(__file__).resolve()), "--child", *flags, str(result),
                       str(db), str(bm), *map(str, trs)]
                took, rss = run(cmd, 1)
                got = json.loads(result.read_text())
                if got["annotators"] != len(trs):
                    raise SystemExit(f"the screen shows {got['annotators']} annotators, not {len(trs)}")
                best, peak = min(best, took), max(peak, rss)
                runs.append(got)
            return best, peak, runs

        t_screen, rss_screen, runs = screen_runs("", ["--where"] if args.where else [])
        worst = max(runs, key=lambda r: r["longest"][0][0])
        stall = worst["longest"][0][0]
        load = min(r["published"] - r["screen"] for r in runs)

        print(f"CLI evaluate --summary-json      {t_cli:6.2f} s  peak {mib(rss_cli)}")
        print(f"screen process (start to exit)   {t_screen:6.2f} s  peak {mib(rss_screen)}")
        print(f"  at app mount, before the load:  RSS {mib(worst['rss_mount'])}")
        steps, before = [], 0
        for what, rss in [*worst["imports"], ("the running app at mount", worst["rss_mount"])]:
            steps.append(f"{what} {mib(rss - before)}")
            before = rss
        print("    of which " + ", ".join(steps))
        print(f"  after the snapshot is shown:    RSS {mib(worst['rss_loaded'])} (what the screen keeps); "
              f"pandas {'imported' if worst['pandas'] else 'not imported'}")
        print(f"  load: screen up at {worst['screen']:.2f} s, snapshot published at {worst['published']:.2f} s "
              f"after the heartbeat started (best load {load:.2f} s)")
        print(f"  heartbeat: {worst['beats']} beats; longest gaps "
              + ", ".join(f"{g * 1e3:.0f} ms at {at:.2f} s" for g, at in worst["longest"]))
        gc_took, gc_gen = worst["gc_longest"]
        print(f"  cyclic GC: {worst['gc_count']} collections, {worst['gc_total']:.2f} s in all, the longest "
              f"{gc_took * 1e3:.0f} ms (generation {gc_gen})")
        for began, threads in worst["where"]:
            print(f"  during the stall at {began:.2f} s:")
            for line in threads:
                print(f"    {line}")
        print()

        if args.gc_off_too:
            _t, rss_off, off = screen_runs("_gc_off", ["--gc-off"])
            w = max(off, key=lambda r: r["longest"][0][0])
            print(f"with the cyclic GC off in the screen process: peak {mib(rss_off)}, best load "
                  f"{min(r['published'] - r['screen'] for r in off):.2f} s; longest gaps "
                  + ", ".join(f"{g * 1e3:.0f} ms at {at:.2f} s" for g, at in w["longest"]) + "\n")

        if args.drill_too:
            _t, rss_drill, drilled = screen_runs("_drill", ["--drill"])
            d = max(drilled, key=lambda r: r["drill"].get("rss", 0))
            print(f"with the per-object rows built after the snapshot (what the drill-down, a class filter or an "
                  f"export asks first): {d['drill'].get('rows', 0):,} rows in {d['drill'].get('took', 0):.2f} s, "
                  f"RSS {mib(d['drill'].get('rss', 0))}, peak {mib(rss_drill)}\n")

        ratio = rss_screen / rss_cli
        rows = ["| what | figure | goal | |", "|---|---|---|---|",
                f"| screen peak RSS / CLI peak RSS ({mib(rss_screen)} / {mib(rss_cli)}) | {ratio:.2f}× | "
                f"≤ {RSS_GOAL}× | {'met' if ratio <= RSS_GOAL else 'NOT met'} |",
                f"| longest heartbeat stall while loading | {stall * 1e3:.0f} ms | ≤ {STALL_GOAL * 1e3:.0f} ms | "
                f"{'met' if stall <= STALL_GOAL else 'NOT met'} |",
                f"| load time: screen / CLI process ({load:.2f} s / {t_cli:.2f} s) | {load / t_cli:.2f}× | — | |"]
        print("\n".join(rows))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
