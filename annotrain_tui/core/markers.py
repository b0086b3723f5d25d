"""Stable markers that let re-runs recognise what annotrain created (not by title alone)."""

from __future__ import annotations

import re

_TRAINING = re.compile(r"\[annotrain:training benchmark=(?P<benchmark>[^\s\]]+) annotator=(?P<email>[^\s\]]+)\]")


def training_marker(benchmark_id: str, email: str) -> str:
    return f"[annotrain:training benchmark={benchmark_id} annotator={email.strip().lower()}]"


def training_description(name: str, email: str, benchmark_id: str) -> str:
    return f"Annotator training project for {name} <{email}>. {training_marker(benchmark_id, email)}"


#: what a benchmark annotrain created carries in its description, so it is a benchmark before any
#: training project names it and whatever its title (trial: "Cohort A Bench" was not one)
BENCHMARK_MARKER = "[annotrain:benchmark]"


def benchmark_description(description: str) -> str:
    """``description`` with the benchmark marker (once)."""
    text = (description or "").strip()
    return text if BENCHMARK_MARKER in text else f"{text} {BENCHMARK_MARKER}".strip()


def is_benchmark_marked(description: str | None) -> bool:
    return BENCHMARK_MARKER in (description or "")


def parse_training_marker(description: str) -> tuple[str, str] | None:
    """(benchmark id, annotator email) from a project description, or None."""
    m = _TRAINING.search(description or "")
    return (m["benchmark"], m["email"]) if m else None
