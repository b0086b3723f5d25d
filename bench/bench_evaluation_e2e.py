"""Benchmark: `annotrain evaluate` end to end, as a user runs it, against baselines run alongside.

    python bench/bench_evaluation_e2e.py [--images 1000] [--annotators 10] [--boxes 15]
                                         [--scaling 250,1000,4000] [--repeat 3] [--keep DIR]

Issue 14's evaluation rows, each a ratio against a baseline measured in the same run, every
command a separate process (interpreter start, imports, reading the files, writing the outputs:
what a user waits for), the best of ``--repeat`` runs:

1. ``evaluate --matching seed --out`` and ``evaluate --matching optimal --summary-json`` on
   ``--images`` × ``--annotators`` × ``--boxes`` (one benchmark file, one file per annotator,
   label-row JSON as ``LabelRowV2.to_encord_dict()`` writes it, from ``tests.synth``), against
   ``json.load`` of the same files as a process (goal: ≤ 1.0×);
2. the same against the published algorithm written plainly over ``json.load`` dicts, as a process
   (``tests/reference_script.py``'s loops over its light stand-ins, the CSV written with the csv
   module; goal: the CLI ≥ 4× faster);
3. the CLI's peak RSS (``wait4``'s ``ru_maxrss``) against the total size of the input files
   (goal: ≤ 1.5×);
4. ``evaluate --matching optimal --summary-json`` at each ``--scaling`` size, timed inside the process
   on its second run (reading, matching, writing; what is paid once, imports above all, is row 1's):
   time per image, the spread across the sizes (goal: within 10%).

The seed CSV is checked equal to the plain script's rows (same rows, IoU to 1e-12) once.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.synth import make_scene  # noqa: E402

PY = sys.executable
CLI = [PY, "-m", "annotrain_tui"]

_JSON_LOAD = "import json, sys\nfor p in sys.argv[1:]:\n    with open(p, 'rb') as fh:\n        json.load(fh)\n"
_PLAIN = """\
import csv, json, sys
sys.path.insert(0, {root!r})
from tests.reference_script import published_script, standins
bm_path, out, *trs = sys.argv[1:]
with open(bm_path, 'rb') as fh:
    bm = standins(json.load(fh))
with open(out, 'w', newline='') as fh:
    w = csv.DictWriter(fh, ['training_email', 'data_unit_name', 'label_id', 'iou_score', 'class_score'],
                       lineterminator='\\n')
    w.writeheader()
    for p in trs:
        with open(p, 'rb') as f:
            rows = json.load(f)
        w.writerows(published_script(bm, standins(rows)))
        del rows
"""


def generate(folder: Path, images: int, annotators: int, boxes: int) -> tuple[Path, list[Path]]:
    """One benchmark file and one training file per annotator (one project in memory at a time)."""
    folder.mkdir(parents=True, exist_ok=True)
    scene = make_scene(seed=1, n_items=images, objects_per_item=(boxes, boxes))
    bm = folder / "benchmark.json"
    bm.write_text(json.dumps(scene.benchmark_rows()))
    trs = []
    for i in range(annotators):
        p = folder / f"training_{i:02d}.json"
        p.write_text(json.dumps(scene.training_rows(f"annotator{i:02d}@example.com", seed=100 + i,
                                                    skill=(0.3, 1.0, 2.5)[i % 3])))
        trs.append(p)
    return bm, trs


# Runs one command and prints its wall time and peak RSS: a small, fresh launcher, so that the peak
# is the command's own (a child forked from this process would count this process's memory).
_MEASURE = """\
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
took = time.perf_counter() - start
if done.returncode:
    sys.stderr.write(done.stderr.decode(errors='replace')[-2000:])
    raise SystemExit(done.returncode)
print(took, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def run(cmd: list[str], repeat: int) -> tuple[float, int]:
    """(best wall time in seconds, largest peak RSS in bytes) of ``repeat`` runs of ``cmd``."""
    best, peak = float("inf"), 0
    for _ in range(repeat):
        done = subprocess.run([PY, "-c", _MEASURE, *cmd], capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[:4])}… failed ({done.returncode}): {done.stderr}")
        took, rss = done.stdout.split()
        best = min(best, float(took))
        peak = max(peak, int(rss))
    return best, peak


# The evaluation of one size in a process that has run it once already: the time of the run itself
# (reading, matching, writing), so that the cost per image is not the fixed cost of starting up.
_IN_PROCESS = """\
import sys, time
sys.path.insert(0, {root!r})
from annotrain_tui.cli import main
import annotrain_tui.core.evaluation.engine, annotrain_tui.core.evaluation.fastread, scipy.optimize  # noqa
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])  # the first run pays what is paid once (lazy imports, the config)
    start = time.perf_counter()
    code = code or main(sys.argv[1:])
    took = time.perf_counter() - start
if code:
    raise SystemExit(code)
sys.stderr.write(repr(took))
"""


def run_inside(cmd: list[str], repeat: int) -> float:
    """Best in-process time of ``annotrain`` with ``cmd``'s arguments, imports excluded."""
    best = float("inf")
    for _ in range(repeat):
        done = subprocess.run([PY, "-c", _IN_PROCESS.format(root=str(ROOT)), *cmd[len(CLI):]], capture_output=True,
                              text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"in-process evaluate failed ({done.returncode}): {done.stderr[-2000:]}")
        best = min(best, float(done.stderr.strip().splitlines()[-1]))
    return best


def evaluate_cmd(bm: Path, trs: list[Path], out: Path, seed: bool) -> list[str]:
    cmd = [*CLI, "evaluate", "--benchmark-labels", str(bm), "--training-labels", *map(str, trs), "--force"]
    if seed:
        return cmd + ["--matching", "seed", "--out", str(out)]
    return cmd + ["--matching", "optimal", "--summary-json", str(out)]


def check_seed(seed_csv: Path, plain_csv: Path) -> None:
    with open(seed_csv, newline="") as a, open(plain_csv, newline="") as b:
        got, want = list(csv.reader(a)), list(csv.reader(b))
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got[1:], want[1:]):
        assert g[:3] == w[:3] and abs(float(g[3]) - float(w[3])) <= 1e-12 and float(g[4]) == float(w[4]), (g, w)


def line(what: str, ratio: float, goal: str, met: bool) -> str:
    return f"| {what} | {ratio:.2f}× | {goal} | {'met' if met else 'NOT met'} |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--annotators", type=int, default=10)
    ap.add_argument("--boxes", type=int, default=15)
    ap.add_argument("--scaling", default="250,1000,4000", help="image counts for the time-per-image row")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", metavar="DIR", help="generate into (and keep) this folder; reuse files already there")
    args = ap.parse_args(argv)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="annotrain-e2e-"))
    try:
        print(f"# Evaluation end to end: {args.images} images × {args.annotators} annotators × {args.boxes} boxes")
        print(f"Python {platform.python_version()}, {os.cpu_count()} CPU(s); every time is the best of "
              f"{args.repeat} runs, each command its own process\n")

        def data(images: int) -> tuple[Path, list[Path]]:
            folder = work / f"{images}x{args.annotators}x{args.boxes}"
            bm = folder / "benchmark.json"
            if bm.exists():
                return bm, sorted(folder.glob("training_*.json"))
            t0 = time.perf_counter()
            out = generate(folder, images, args.annotators, args.boxes)
            print(f"generated {images} images in {time.perf_counter() - t0:.1f} s")
            return out

        bm, trs = data(args.images)
        size = sum(p.stat().st_size for p in [bm, *trs])
        files = list(map(str, [bm, *trs]))
        print(f"input: {len(files)} files, {size / 1e6:.1f} MB\n")

        t_json, rss_json = run([PY, "-c", _JSON_LOAD, *files], args.repeat)
        plain_csv = work / "plain.csv"
        t_plain, _ = run([PY, "-c", _PLAIN.format(root=str(ROOT)), str(bm), str(plain_csv), *map(str, trs)],
                         args.repeat)
        seed_csv, summary = work / "seed.csv", work / "summary.json"
        t_seed, rss_seed = run(evaluate_cmd(bm, trs, seed_csv, seed=True), args.repeat)
        t_opt, rss_opt = run(evaluate_cmd(bm, trs, summary, seed=False), args.repeat)
        check_seed(seed_csv, plain_csv)
        t_pass, rss_pass = run([PY, "-c", "pass"], args.repeat)

        print(f"python -c pass              {t_pass:6.2f} s  {rss_pass / 2**20:6.0f} MiB")
        print(f"json.load of the files      {t_json:6.2f} s  {rss_json / 2**20:6.0f} MiB")
        print(f"plain published algorithm   {t_plain:6.2f} s")
        print(f"evaluate seed --out         {t_seed:6.2f} s  {rss_seed / 2**20:6.0f} MiB  (seed CSV equal to the plain "
              "script's)")
        print(f"evaluate optimal --summary  {t_opt:6.2f} s  {rss_opt / 2**20:6.0f} MiB\n")

        rows = ["| what | ratio | goal | |", "|---|---|---|---|"]
        for name, t in (("seed --out", t_seed), ("optimal --summary-json", t_opt)):
            rows.append(line(f"{name} / json.load as a process", t / t_json, "≤ 1.0×", t <= t_json))
            rows.append(line(f"plain algorithm / {name} (speed-up)", t_plain / t, "≥ 4×", t_plain / t >= 4))
        for name, rss in (("seed --out", rss_seed), ("optimal --summary-json", rss_opt)):
            rows.append(line(f"{name} peak RSS / input size", rss / size, "≤ 1.5×", rss <= 1.5 * size))

        sizes = [int(s) for s in args.scaling.split(",") if s]
        per_image = []
        for n in sizes:
            b, t = data(n)
            secs = run_inside(evaluate_cmd(b, t, work / f"summary_{n}.json", seed=False), args.repeat)
            per_image.append(secs / n)
            print(f"optimal at {n:>5} images: {secs:6.2f} s (second run in the process), {secs / n * 1e3:.3f} ms per image")
        if per_image:
            spread = max(per_image) / min(per_image)
            rows.append(line(f"time per image, {'/'.join(map(str, sizes))} images (largest / smallest)",
                             spread, "≤ 1.10×", spread <= 1.10))
        print()
        print("\n".join(rows))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
