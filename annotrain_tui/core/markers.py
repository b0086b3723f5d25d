"""Stable markers that let re-runs recognise what annotrain created (not by title alone)."""

from __future__ import annotations

import re
from typing import Any

_TRAINING = re.compile(r"\[annotrain:training benchmark=(?P<benchmark>[^\s\]]+) annotator=(?P<email>[^\s\]]+)"
                       r"(?: round=(?P<round>[1-9][0-9]{0,3}))?\]")


def training_marker(benchmark_id: str, email: str, round: int = 1) -> str:
    """The marker of an annotator's training project for a benchmark; a retake's round (2, 3, ...)
    is named in it, round 1 keeps the form every earlier version wrote."""
    tail = f" round={round}" if round > 1 else ""
    return f"[annotrain:training benchmark={benchmark_id} annotator={email.strip().lower()}{tail}]"


def training_description(name: str, email: str, benchmark_id: str, round: int = 1) -> str:
    what = "Annotator training project" + (f" (round {round})" if round > 1 else "")
    return f"{what} for {name} <{email}>. {training_marker(benchmark_id, email, round)}"


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
    """(benchmark id, annotator email) from a project description, or None (any round)."""
    m = _TRAINING.search(description or "")
    return (m["benchmark"], m["email"]) if m else None


def training_round(description: str) -> int:
    """The round a training project's marker names (1 when it names none, or has no marker)."""
    m = _TRAINING.search(description or "")
    return int(m["round"]) if m and m["round"] else 1


def current_rounds(projects: list[Any], benchmark_id: str) -> list[Any]:
    """Of the training projects of a benchmark among ``projects`` (anything with a ``description``),
    each annotator's latest round, in listing order: what an evaluation of the programme scores now."""
    latest: dict[str, tuple[int, int]] = {}  # email -> (round, index)
    for n, p in enumerate(projects):
        marker = parse_training_marker(p.description)
        if not marker or marker[0] != benchmark_id:
            continue
        r = training_round(p.description)
        if marker[1] not in latest or r > latest[marker[1]][0]:
            latest[marker[1]] = (r, n)
    keep = {n for _, n in latest.values()}
    return [p for n, p in enumerate(projects) if n in keep]
