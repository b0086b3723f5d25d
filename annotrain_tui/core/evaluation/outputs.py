"""Evaluation's per-object CSV files, written directly: the seed script's ``iou_results.csv`` and the
full per-object rows, one training set at a time.

The general writer (:func:`annotrain_tui.core.exports.write_csv`) takes one frame: for these files
that meant concatenating every training set's per-object frame, selecting the seed columns into
another frame, copying it again to neutralise its cells, and holding the whole text in memory
before writing. Here each set's rows go to the file as they come, in the dialect pandas' ``to_csv``
uses (the csv module's QUOTE_MINIMAL with ``"\\n"`` line ends; floats as numpy writes them, NaN and
None as empty cells: the same bytes), every string cell made safe by the one rule,
:func:`annotrain_tui.core.exports.neutralise` (computed once per distinct value: titles, label
hashes and emails repeat). The file is written atomically (:func:`~annotrain_tui.core.exports.atomic_write`).

A cell holding a line break other than LF (CR, VT, FF, NEL, U+2028, …) is quoted by the general
writer in a way the ``csv`` module alone does not: a file with such a cell is written by the
general writer instead, whole (one rule, one copy).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from annotrain_tui.core.evaluation.results import OBJECT_COLUMNS, SEED_COLUMNS, EvaluationResult, ProjectResult
from annotrain_tui.core.exports import LINE_BREAKS, atomic_write, neutralise, write_csv
from annotrain_tui.core.lazy import lazy_module

pd = lazy_module("pandas")  # the full per-object file factorises its text columns; the seed file does not

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


def _quoted(cell: str) -> str:
    """A cell as the csv module writes it with QUOTE_MINIMAL and ``lineterminator="\\n"`` (pandas'
    dialect): quoted when it holds the delimiter, the quote or the line terminator, quotes doubled."""
    if "," in cell or '"' in cell or "\n" in cell:
        return '"' + cell.replace('"', '""') + '"'
    return cell


class _Cells:
    """Columns to CSV cell text, as pandas' to_csv writes them: floats by their repr (numpy's text
    of a float64 too: the shortest that reads back), integers by str, NaN and None empty, strings
    neutralised (:func:`~annotrain_tui.core.exports.neutralise`) and quoted; each distinct string
    made once (titles, label hashes and emails repeat)."""

    def __init__(self) -> None:
        self.cache: dict[Any, str] = {}

    def text(self, value: Any) -> str:
        if type(value) is not str:  # not in the cache: 1, 1.0 and True are one key there
            return _quoted(str(value))
        out = self.cache.get(value)
        if out is None:
            if _UNUSUAL_BREAK.search(value):
                raise _Unusual
            out = self.cache[value] = _quoted(neutralise(value))
        return out

    def coded(self, vocabulary: np.ndarray, codes: np.ndarray) -> list[str]:
        """The cells of ``vocabulary[codes]``, each vocabulary entry formatted once."""
        cells = np.empty(len(vocabulary), dtype=object)
        cells[:] = ["" if v is None or (isinstance(v, float) and v != v) else self.text(v)
                    for v in vocabulary.tolist()]
        return cells[codes].tolist() if len(codes) else []

    def floats(self, values: np.ndarray) -> list[str]:
        """Float cells (NaN empty); a column of few distinct values (class scores: 0.0 and 1.0) is
        formatted once per value."""
        if len(values) > 64:
            distinct, inverse = np.unique(values, return_inverse=True)
            if len(distinct) * 4 < len(values):
                cells = np.empty(len(distinct), dtype=object)
                cells[:] = ["" if v != v else repr(v) for v in distinct.tolist()]
                return cells[inverse.ravel()].tolist()
        return _float_cells(values)

    def column(self, values: np.ndarray) -> list[str]:
        kind = values.dtype.kind
        if kind == "f":
            return _float_cells(values)
        if kind in "iu":
            return [str(v) for v in values.tolist()]
        if kind == "b":
            return values.astype(str).tolist()
        codes, uniques = pd.factorize(values)  # None and NaN: -1, an empty cell
        cells = np.empty(len(uniques) + 1, dtype=object)
        cells[:-1] = [self.text(u) for u in uniques.tolist()]
        cells[-1] = ""
        return cells[codes].tolist()


def _float_cells(values: np.ndarray) -> list[str]:
    """Float cells by their repr, NaN empty (without NaN, repr is mapped at C speed: the seed file's
    150,000 IoU cells are a tenth of its evaluation)."""
    floats = values.tolist()
    if not np.isnan(values).any():
        return list(map(repr, floats))
    return ["" if v != v else repr(v) for v in floats]


def _write(path: str | Path, header: Sequence[str], chunks: Iterator[list[list[str]]]) -> int:
    n = 0

    def write(tmp: str) -> None:
        nonlocal n
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(",".join(_quoted(neutralise(c)) for c in header) + "\n")
            for columns in chunks:
                lines = list(map(",".join, zip(*columns)))
                if lines:
                    fh.write("\n".join(lines))
                    fh.write("\n")
                n += len(lines)

    atomic_write(path, write)
    return n


def _chunks(result: EvaluationResult, names: Sequence[str], seed: bool) -> Iterator[list[list[str]]]:
    cells = _Cells()
    for p in result.projects:
        columns = p.seed_columns() if seed else None
        if columns is not None:  # numpy only: no frame, no pandas
            if len(columns.iou):
                yield [cells.coded(*columns.created_by), cells.coded(*columns.data_title),
                       cells.coded(*columns.label_hash), cells.floats(columns.iou), cells.floats(columns.class_score)]
            continue
        df = _project_rows(p)
        if df is None or not len(df):
            continue
        if seed:
            df = df[df["outcome"] != "missed"]
        yield [cells.column(df[c].to_numpy()) for c in names]


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
