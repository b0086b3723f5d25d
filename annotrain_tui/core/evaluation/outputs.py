"""Evaluation's per-object CSV files, written directly: the seed script's ``iou_results.csv`` and the
full per-object rows, one training set at a time.

The general writer (:func:`annotrain_tui.core.exports.write_csv`) takes one frame: for these files
that meant concatenating every training set's per-object frame, selecting the seed columns into
another frame, copying it again to neutralise its cells, and holding the whole text in memory
before writing. Here each set's rows go to the file as they come, through the ``csv`` module with
the dialect pandas' ``to_csv`` uses (so the bytes are the same: floats as numpy writes them, NaN
and None as empty cells), every string cell made safe by the one rule,
:func:`annotrain_tui.core.exports.neutralise` (computed once per distinct value: titles, label
hashes and emails repeat). The file is written atomically (:func:`~annotrain_tui.core.exports.atomic_write`).

A cell holding a line break other than LF (CR, VT, FF, NEL, U+2028, …) is quoted by the general
writer in a way the ``csv`` module alone does not: a file with such a cell is written by the
general writer instead, whole (one rule, one copy).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from annotrain_tui.core.evaluation.results import OBJECT_COLUMNS, SEED_COLUMNS, EvaluationResult, ProjectResult
from annotrain_tui.core.exports import LINE_BREAKS, atomic_write, neutralise, write_csv

__all__ = ["write_seed_csv", "write_objects_csv"]

_UNUSUAL_BREAK = re.compile("[" + re.escape(LINE_BREAKS.replace("\n", "")) + "]")
# the seed file's columns, from the per-object rows' (results.EvaluationResult.seed_rows)
_SEED_FROM = ("created_by", "data_title", "label_hash", "iou", "class_score")


class _Unusual(Exception):
    """A cell the csv module would not quote as the general writer does."""


def _project_rows(p: ProjectResult) -> Any:
    """One set's per-object frame, built for this write and not kept (the result's cache is left as
    it was: a frame already built is used, none is stored)."""
    built = p._objects  # noqa: SLF001 (results keeps the rows lazily; writing them must not keep them)
    if built is not None:
        return built
    build = p._build_objects  # noqa: SLF001
    return build() if build is not None else None


def _cells(values: np.ndarray, safe: Callable[[Any], str]) -> list[Any]:
    """A column's cells as pandas' to_csv writes them: floats and integers as numpy's text, NaN
    and None empty, strings neutralised."""
    kind = values.dtype.kind
    if kind == "f":  # repr is numpy's text of a float64 too (the shortest that reads back), 2× faster
        return ["" if v != v else repr(v) for v in values.tolist()]
    if kind in "iu":
        return [str(v) for v in values.tolist()]
    if kind == "b":
        return values.astype(str).tolist()
    return [safe(v) for v in values.tolist()]


def _safe_cells() -> Callable[[Any], str]:
    cache: dict[str, str] = {}

    def safe(v: Any) -> Any:
        if type(v) is str:
            out = cache.get(v)
            if out is None:
                if _UNUSUAL_BREAK.search(v):
                    raise _Unusual
                out = cache[v] = neutralise(v)
            return out
        if v is None or (type(v) is float and v != v):
            return ""
        return v

    return safe


def _write(path: str | Path, header: Sequence[str], chunks: Iterator[list[list[Any]]]) -> int:
    n = 0

    def write(tmp: str) -> None:
        nonlocal n
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh, lineterminator="\n")  # pandas' dialect: QUOTE_MINIMAL, '"' doubled
            out.writerow([neutralise(c) for c in header])
            for columns in chunks:
                rows = list(zip(*columns))
                out.writerows(rows)
                n += len(rows)

    atomic_write(path, write)
    return n


def _chunks(result: EvaluationResult, names: Sequence[str], seed: bool) -> Iterator[list[list[Any]]]:
    safe = _safe_cells()
    for p in result.projects:
        df = _project_rows(p)
        if df is None or not len(df):
            continue
        if seed:
            df = df[df["outcome"] != "missed"]
        yield [_cells(df[c].to_numpy(), safe) for c in names]


def write_seed_csv(path: str | Path, result: EvaluationResult) -> int:
    """The published script's ``iou_results.csv`` (:data:`~.results.SEED_COLUMNS`), byte for byte
    what ``write_csv(path, result.seed_rows())`` writes; the number of rows."""
    try:
        return _write(path, SEED_COLUMNS, _chunks(result, _SEED_FROM, seed=True))
    except _Unusual:
        rows = result.seed_rows()
        write_csv(path, rows)
        return len(rows)


def write_objects_csv(path: str | Path, result: EvaluationResult) -> int:
    """Every per-object row (:data:`~.results.OBJECT_COLUMNS`), byte for byte what
    ``write_csv(path, result.objects)`` writes; the number of rows."""
    try:
        return _write(path, OBJECT_COLUMNS, _chunks(result, OBJECT_COLUMNS, seed=False))
    except _Unusual:
        rows = result.objects
        assert rows is not None
        write_csv(path, rows)
        return len(rows)
