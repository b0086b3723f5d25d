"""Validating a 500,000-image JSON manifest against plain ``json.loads`` of the same file.

Generates the manifest in a temp dir, then alternates runs of the baseline (read the file +
``json.loads``) and of ``validate_path`` (read + decode + parse with duplicate-key detection +
every rule + positions), and prints the median time of each, their ratio (goal <= 3x) and the
peak memory of each measured in its own subprocess (ru_maxrss). Also times a manifest where
1,000 items carry a bad URL (positions must then be computed) as a second data point.

    python bench/bench_manifest.py [--items 500000] [--runs 5] [--provider aws]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def generate(path: Path, items: int, bad: int = 0) -> int:
    """A manifest like a real one: objectUrl for every image, a title on every 10th."""
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
    text = json.dumps({"images": entries, "skip_duplicate_urls": True}, indent=2)
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


def time_pair(path: Path, runs: int, provider: str | None) -> tuple[float, float, object]:
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=500_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--provider", default="aws", help="validate with --provider (default aws; '' for none)")
    args = ap.parse_args()
    provider = args.provider or None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "clean.json"
        size = generate(clean, args.items)
        for prov in dict.fromkeys([None, provider]):
            b, o, result = time_pair(clean, args.runs, prov)
            assert result is not None and result.valid and result.items == args.items, result
            mem_b, mem_o = peak_kib(clean, "json.loads", prov), peak_kib(clean, "validate", prov)
            rows.append((f"clean, provider={prov}", size, b, o, mem_b, mem_o, len(result.diagnostics)))

        dirty = Path(tmp) / "dirty.json"
        size = generate(dirty, args.items, bad=1000)
        b, o, result = time_pair(dirty, max(3, args.runs // 2), provider)
        assert result is not None and not result.valid
        mem_b, mem_o = peak_kib(dirty, "json.loads", provider), peak_kib(dirty, "validate", provider)
        rows.append((f"1,000 bad URLs, provider={provider}", size, b, o, mem_b, mem_o, len(result.diagnostics)))

    print(f"{args.items:,} images, median of {args.runs} alternating runs (baseline: read + json.loads)\n")
    print("| manifest | size | json.loads | validate | ratio | peak RSS json.loads | peak RSS validate | diagnostics |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, size, b, o, mb, mo, nd in rows:
        print(f"| {name} | {size / 1e6:.1f} MB | {b:.2f} s | {o:.2f} s | {o / b:.2f}× | {mb / 1024:.0f} MiB | "
              f"{mo / 1024:.0f} MiB | {nd:,} |")
    ratio = max(r[3] / r[2] for r in rows if r[0].startswith("clean"))
    print(f"\nclean-file ratio (worst of the provider settings) {ratio:.2f}× (goal <= 3×): "
          f"{'OK' if ratio <= 3 else 'OVER'}")
    return 0 if ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
