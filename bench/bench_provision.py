"""Provisioning 200 annotators on the sandbox with 50 ms latency per call.

Prints wall time at concurrency 1 (the baseline, same run) and 8, their ratio (goal >= 5x), and a
run with ANNOTRAIN_SANDBOX_FAULTS=0.2 that must end with exactly 200 projects, none twice.

    python bench/bench_provision.py [--annotators 200] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from annotrain_tui.core.backends.faults import FaultInjector
from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.demo import seed_demo
from annotrain_tui.core.markers import parse_training_marker
from annotrain_tui.core.provisioning import Journal, apply_plan, make_plan
from annotrain_tui.core.retry import RetryingBackend, RetryPolicy
from annotrain_tui.core.roster import parse_roster


def fresh(tmp: Path, name: str):
    backend = SandboxBackend(tmp / f"{name}.db")
    ids = seed_demo(backend)
    return backend, ids


def run(tmp: Path, name: str, n: int, latency: float, concurrency: int, faults: float = 0.0, seed: int = 1):
    raw, ids = fresh(tmp, name)
    roster = parse_roster("name,email\n" + "".join(f"Trainee {i},t{i}@example.com\n" for i in range(n)))
    inner = FaultInjector(raw, fault_rate=faults, latency_ms=latency, seed=seed)
    backend = RetryingBackend(inner, RetryPolicy(attempts=10, base_delay=0.01))
    journal = Journal(tmp / f"{name}.jsonl")
    start = time.perf_counter()
    plan = make_plan(backend, roster, ids["benchmark"], journal=journal)
    outcomes = apply_plan(backend, plan, concurrency=concurrency, journal=journal)
    elapsed = time.perf_counter() - start
    titles = Counter(p.title for p in raw.list_projects()
                     if (parse_training_marker(p.description) or ("", ""))[1].startswith("t"))
    statuses = Counter(o.status for o in outcomes)
    return elapsed, titles, statuses, inner.injected


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--annotators", type=int, default=200)
    ap.add_argument("--latency-ms", type=float, default=50)
    args = ap.parse_args()
    n, lat = args.annotators, args.latency_ms
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t1, titles1, _, _ = run(tmp, "c1", n, lat, 1)
        t8, titles8, _, _ = run(tmp, "c8", n, lat, 8)
        tf, titlesf, statf, injected = run(tmp, "faults", n, lat, 8, faults=0.2)
    ok = lambda titles: len(titles) == n and set(titles.values()) == {1}  # noqa: E731
    print(f"| provisioning {n} annotators, {lat:.0f} ms latency per call | wall time | ratio |")
    print("|---|---|---|")
    print(f"| concurrency 1 (baseline) | {t1:.1f} s | 1.0x |")
    print(f"| concurrency 8 | {t8:.1f} s | {t1 / t8:.1f}x faster |")
    print(f"| concurrency 8, ANNOTRAIN_SANDBOX_FAULTS=0.2 | {tf:.1f} s | {t1 / tf:.1f}x faster |")
    print()
    print(f"projects: c1={len(titles1)} unique={ok(titles1)}, c8={len(titles8)} unique={ok(titles8)}, "
          f"faults={len(titlesf)} unique={ok(titlesf)} (faults injected: {injected['before']} before acting, "
          f"{injected['after']} after acting; outcomes {dict(statf)})")
    return 0 if ok(titles1) and ok(titles8) and ok(titlesf) else 1


if __name__ == "__main__":
    sys.exit(main())
