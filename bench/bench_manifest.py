"""Validating manifests (issue 14): 500,000 items against ``json.load``, and start-up against ``python -c pass``.

Rows, each the ratio of two medians over ``--runs`` alternating runs of whole processes (the
baseline, then the command, ...), so both see the same machine load:

* ``annotrain manifest validate`` of a 500,000-image manifest (63.8 MB) against
  ``python -c "import json; json.load(open(F))"`` of the same file (goal <= 1.5x), with and
  without ``--provider``, the same file with 1,000 bad URLs (positions are then computed), and the
  clean file in shuffled order (a listing is sorted: the shortcuts of an ordered URL list do not apply);
* ``annotrain manifest validate`` of a 100-item manifest against ``python -c pass`` (goal <= 4x).

``python`` is the interpreter running this script (the venv's, the one ``annotrain`` runs on),
with PYTHONDONTWRITEBYTECODE unset (a warm-up run writes the bytecode, as an install has it), as
bench/bench_startup.py does. Also printed: the in-process times (read + ``json.loads`` against
``validate_path``) and each process's peak memory (VmHWM).

    python bench/bench_manifest.py [--items 500000] [--runs 5] [--provider aws]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _process import annotrain_command, bench_env  # bench/: the script's own folder

CHILD = r"""
import json, sys
path, mode, provider = sys.argv[1], sys.argv[2], (sys.argv[3] or None)
if mode == "validate":
    from annotrain_tui.core.manifest.validate import validate_path  # imported first: same baseline RSS
if mode == "json.loads":
    data = json.loads(open(path, "rb").read())
else:
    result = validate_path(path, provider=provider)
# VmHWM: this process's peak resident set (ru_maxrss would include the parent's peak, kept across exec).
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""


def generate(path: Path, items: int, bad: int = 0, shuffled: bool = False) -> int:
    """A manifest like a real one: objectUrl for every image, a title on every 10th, in listing order
    (or shuffled)."""
    host = "https://encord-integration.s3.eu-west-2.amazonaws.com/images"
    step = items // bad if bad else 0
    entries = []
    for i in range(items):
        url = f"{host}/batch-{i // 1000:04d}/image-{i:07d}.jpg"
        if step and i % step == step - 1:
            url = f"<{url}>"
        entry = {"objectUrl": url}
        if i % 10 == 0:
            entry["title"] = f"image-{i:07d}.jpg"
        entries.append(entry)
    if shuffled:
        random.Random(14).shuffle(entries)
    text = json.dumps({"images": entries, "skip_duplicate_urls": True}, indent=2)
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


def time_pair(path: Path, runs: int, provider: str | None) -> tuple[float, float, Any]:
    from annotrain_tui.core.manifest.validate import validate_path

    def baseline() -> float:
        start = time.perf_counter()
        json.loads(path.read_bytes())
        return time.perf_counter() - start

    result = None

    def ours() -> float:
        nonlocal result
        start = time.perf_counter()
        result = validate_path(path, provider=provider)
        return time.perf_counter() - start

    baseline(), ours()  # warm-up: page cache, pydantic schema build, regex compilation
    base_times, our_times = [], []
    for _ in range(runs):
        base_times.append(baseline())
        our_times.append(ours())
    return statistics.median(base_times), statistics.median(our_times), result


def peak_kib(path: Path, mode: str, provider: str | None) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), mode, provider or ""],
                         check=True, capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1])


def run_once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: the manifest has errors (the dirty file)
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode()[-300:]}")
    return took


def alternate(runs: int, baseline: list[str], measured: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Medians of ``runs`` runs of each process, alternated (one warm-up of each first, not counted)."""
    run_once(baseline, env), run_once(measured, env)
    base, meas = [], []
    for _ in range(runs):
        base.append(run_once(baseline, env))
        meas.append(run_once(measured, env))
    return statistics.median(base), statistics.median(meas)


def manifest_100(path: Path) -> None:
    """The 100-item manifest of bench/bench_startup.py."""
    generate(path, 100)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=500_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--provider", default="aws", help="validate with --provider (default aws; '' for none)")
    ap.add_argument("--no-in-process", action="store_true", help="leave out the in-process table and memory")
    args = ap.parse_args()
    provider = args.provider or None
    py = sys.executable
    validate = [*annotrain_command(), "manifest", "validate"]
    load = [py, "-c", "import json, sys; json.load(open(sys.argv[1], encoding='utf-8'))"]
    goals: list[tuple[str, str, float, float, float]] = []  # what, baseline, base s, measured s, goal
    rows = []
    with tempfile.TemporaryDirectory(prefix="annotrain-bench-") as tmp:
        root = Path(tmp)
        env = bench_env(root)
        small = root / "m100.json"
        manifest_100(small)
        goals.append(("manifest validate, 100 items", "python -c pass",
                      *alternate(max(args.runs, 15), [py, "-c", "pass"], [*validate, str(small)], env), 4.0))
        clean = root / "clean.json"
        size = generate(clean, args.items)
        dirty = root / "dirty.json"
        dirty_size = generate(dirty, args.items, bad=1000)
        shuffled = root / "shuffled.json"
        generate(shuffled, args.items, shuffled=True)
        for prov in dict.fromkeys([None, provider]):
            flag = ["--provider", prov] if prov else []
            goals.append((f"manifest validate, {args.items:,} items{', --provider ' + prov if prov else ''}",
                          "json.load, a process",
                          *alternate(args.runs, [*load, str(clean)], [*validate, *flag, str(clean)], env), 1.5))
        flag = ["--provider", provider] if provider else []
        goals.append((f"  the same, 1,000 bad URLs{', --provider ' + provider if provider else ''}",
                      "json.load, a process",
                      *alternate(max(3, args.runs // 2), [*load, str(dirty)], [*validate, *flag, str(dirty)], env), 1.5))
        goals.append((f"  the same, shuffled{', --provider ' + provider if provider else ''}",
                      "json.load, a process",
                      *alternate(max(3, args.runs // 2), [*load, str(shuffled)], [*validate, *flag, str(shuffled)],
                                 env), 1.5))

        if not args.no_in_process:
            for prov in dict.fromkeys([None, provider]):
                b, o, result = time_pair(clean, args.runs, prov)
                assert result is not None and result.valid and result.items == args.items, result
                mem_b, mem_o = peak_kib(clean, "json.loads", prov), peak_kib(clean, "validate", prov)
                rows.append((f"clean, provider={prov}", size, b, o, mem_b, mem_o, len(result.diagnostics)))
            b, o, result = time_pair(dirty, max(3, args.runs // 2), provider)
            assert result is not None and not result.valid
            mem_b, mem_o = peak_kib(dirty, "json.loads", provider), peak_kib(dirty, "validate", provider)
            rows.append((f"1,000 bad URLs, provider={provider}", dirty_size, b, o, mem_b, mem_o,
                         len(result.diagnostics)))
            b, o, result = time_pair(shuffled, max(3, args.runs // 2), provider)
            assert result is not None and result.valid and result.items == args.items, result
            rows.append((f"clean, shuffled, provider={provider}", size, b, o, 0, 0, len(result.diagnostics)))

    print(f"python: {py}; medians of alternating runs of whole processes\n")
    print("| what | baseline | baseline | measured | ratio | goal | met |")
    print("|---|---|---:|---:|---:|---:|---|")
    met_all = True
    for what, baseline, base, meas, goal in goals:
        ratio = meas / base
        met = ratio <= goal
        met_all &= met or what.startswith("  ")  # the dirty and shuffled files are data points, not goals
        print(f"| {what.strip()} | {baseline} | {base * 1000:.0f} ms | {meas * 1000:.0f} ms | {ratio:.2f}x | "
              f"<= {goal:g}x | {'yes' if met else 'NO'} |")
    if rows:
        print(f"\nIn process: {args.items:,} images, median of {args.runs} alternating runs (baseline: read + json.loads)\n")
        print("| manifest | size | json.loads | validate | ratio | peak RSS json.loads | peak RSS validate | diagnostics |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, size_, b, o, mb, mo, nd in rows:
            memory = f"{mb / 1024:.0f} MiB | {mo / 1024:.0f} MiB" if mb else "— | —"
            print(f"| {name} | {size_ / 1e6:.1f} MB | {b:.2f} s | {o:.2f} s | {o / b:.2f}x | {memory} | {nd:,} |")
    return 0 if met_all else 1


if __name__ == "__main__":
    sys.exit(main())
