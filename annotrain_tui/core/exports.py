"""Writers for files users open elsewhere: formula-safe CSV and JSON, both written atomically.

CSV cells are untrusted text (titles, emails, class names come from servers and files). A
spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as
a formula, so such *string* cells get a leading ``'`` (numbers are written as they are, negative
ones included) — at the start of the cell and right after every CR or LF inside it, since a
reader that splits lines first sees a cell start there. Every cell holding a CR or LF (a lone
``\r`` included, which Python's csv module leaves bare with ``\n`` line endings) is quoted, so it
stays one cell. Lone surrogates (undecodable bytes), terminal controls (C0 but tab, LF and CR; DEL;
C1: ``cat`` on the file must not replay an escape sequence) and bidi overrides and isolates (which
reorder what a viewer shows) are written as their visible escape (``\udc80``, ``\x1b``,
``\u202e``), never a traceback. Everything else is exactly what
``pandas.DataFrame.to_csv(index=False)`` writes: the CSV of a frame without such cells is
byte-identical to pandas' own (the seed script's ``iou_results.csv`` included).

This is the one CSV writer of the project: :func:`write_csv` (frames and mappings, to a file),
:func:`csv_text` (rows to a string: the roster and the manifest CSV use it).

Atomic: the file is written next to the target under a temporary name and moved over it with
``os.replace``, so a reader never sees half a file and a failure leaves the old file in place.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.files import display_path, real_target, refuse_non_regular, write_error
from annotrain_tui.core.lazy import lazy_module
from annotrain_tui.core.text import escape_char, json_text

if TYPE_CHECKING:
    import pandas as pd

    from annotrain_tui.core.evaluation.results import EvaluationResult
else:
    pd = lazy_module("pandas")  # a JSON export, a roster or a manifest CSV never builds a frame

__all__ = ["FORMULA_PREFIXES", "neutralise", "neutralise_frame", "safe_cell", "cell_changes", "csv_text", "write_csv",
           "write_json", "atomic_write", "write_confusion_csv", "CONFUSION_CSV_COLUMNS"]

#: the long form of a confusion matrix, one row per (annotator, benchmark class, annotator class)
CONFUSION_CSV_COLUMNS = ("annotator", "benchmark_class", "annotator_class", "count")

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Where a reader may see a line start: every break str.splitlines() knows (CR, LF, VT, FF, FS, GS,
# RS, NEL, LINE and PARAGRAPH SEPARATOR). A cell holding one is always quoted.
LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Where a reader that splits without honouring quotes may see a cell start: the separators of CSV,
# of European spreadsheets (;), of TSV and of pipes.
SEPARATORS = ",;\t|"
# A zero-width point where a reader may see a cell start (the cell's start, after a line break or a
# separator) followed by a formula prefix: a ``'`` goes there.
# What a spreadsheet may read as a formula's first character: the ASCII prefixes and their
# full-width forms (some applications fold them), after any run of spaces or invisible characters
# that an import may trim (NBSP and other spaces, zero-width and bidi marks, BOM).
_PREFIX_CHARS = "=+\\-@\t\r\uff1d\uff0b\uff0d\uff20"
_LEAD_IN = " \u00a0\u1680\u2000-\u200f\u202a-\u202f\u205f-\u206f\u3000\ufeff"
_FORMULA_AT_CELL_START = re.compile("(?:^|(?<=[" + re.escape(LINE_BREAKS + SEPARATORS) + "]))(?=[" + _LEAD_IN
                                    + "]*[" + _PREFIX_CHARS + "])")
_FORMULA_LEAD = re.compile("[" + _LEAD_IN + "]*[" + _PREFIX_CHARS + "]")
_BREAK_OR_SEPARATOR = re.compile("[" + re.escape(LINE_BREAKS + SEPARATORS) + "]")
_HAS_BREAK = re.compile("[" + re.escape(LINE_BREAKS) + "]")
_HAS_UNUSUAL_BREAK = re.compile("[" + re.escape(LINE_BREAKS.replace("\n", "")) + "]")
# What a cell never holds raw: lone surrogates, terminal controls (C0 but tab, LF and CR, which CSV
# quoting handles; DEL; C1) and the bidi overrides and isolates. Written as their escapes.
_UNSAFE = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape_surrogates(text: str) -> str:
    return _UNSAFE.sub(lambda m: escape_char(m.group()), text)


def _risky(value: str) -> bool:
    return (value.startswith(FORMULA_PREFIXES) or not value.isprintable()
            or _BREAK_OR_SEPARATOR.search(value) is not None or _FORMULA_LEAD.match(value) is not None)


def neutralise(value: Any) -> Any:
    """A string made safe for a CSV cell; anything else unchanged.

    ``'`` before a formula prefix at the start, after every line break (any of ``LINE_BREAKS``) and
    after every separator (``SEPARATORS``: a reader that ignores quotes sees a cell start there);
    lone surrogates, terminal controls and bidi controls escaped.
    """
    if not isinstance(value, str) or not _risky(value):
        return value
    if not value.isprintable():
        value = _escape_surrogates(value)
    return _FORMULA_AT_CELL_START.sub("'", value)


safe_cell = neutralise


def cell_changes(value: Any) -> tuple[bool, bool]:
    """What :func:`neutralise` does to a cell, for a report: (a ``'`` goes before a formula prefix,
    lone surrogates or control characters are written as their escape). Both False when the cell is written as it is."""
    if not isinstance(value, str) or not _risky(value):
        return False, False
    escaped = _escape_surrogates(value) if not value.isprintable() else value
    return _FORMULA_AT_CELL_START.search(escaped) is not None, escaped != value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with every formula-like string cell neutralised (numeric columns are untouched)."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            continue
        values = series.to_numpy(dtype=object)
        risky = np.fromiter((isinstance(v, str) and _risky(v) for v in values),
                            dtype=bool, count=len(values))
        if risky.any():
            values = values.copy()
            values[risky] = [neutralise(v) for v in values[risky]]
            out[col] = pd.Series(values, index=out.index, dtype=object)
    # Column names are cells too.
    out.columns = [neutralise(c) for c in out.columns]
    return out


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` for a temporary file beside ``path``, then move it over ``path``.

    A symlink is written through (its target is replaced, the link kept); an existing target that
    is not a regular file (a directory, ``/dev/null``, a FIFO) is refused, never replaced.
    OS failures become one error naming the file (``files.write_error``: exit 1 for a full disk or a
    read-only file system, 2 for a bad path).
    """
    given = Path(path)
    target = real_target(given)
    parent = target.parent if str(target.parent) else Path(".")
    refuse_non_regular(target, display_path(given))  # never replace /dev/null, a FIFO, a directory
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp")
    except FileNotFoundError:
        why = (f"{display_path(parent)} takes no new files" if parent.is_dir()  # /proc, /sys: kernel file systems
               else f"no such directory {display_path(parent)}")
        raise InvalidInput(f"{display_path(target)}: cannot write ({why})",
                           hint="choose a file in a directory of yours") from None
    except PermissionError:
        raise InvalidInput(f"{display_path(target)}: cannot write (permission denied)") from None
    except OSError as exc:
        raise write_error(target, exc) from None
    os.close(fd)
    try:
        write(tmp)
        mode = (target.stat().st_mode & 0o777) if target.exists() else 0o644
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        _unlink(tmp)
        raise write_error(target, exc) from None
    except BaseException:
        _unlink(tmp)
        raise
    return given


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_csv(path: str | Path, rows: pd.DataFrame | Iterable[Mapping[str, Any]],
              columns: Sequence[str] | None = None) -> Path:
    """Write rows (a DataFrame, or mappings) as CSV, formula-safe and atomically.

    Same bytes as ``pandas.DataFrame(rows).to_csv(path, index=False)`` apart from neutralised cells.
    """
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=columns)
    if columns is not None and isinstance(rows, pd.DataFrame):
        df = df.loc[:, list(columns)]
    text = frame_csv_text(df)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)

    return atomic_write(path, write)


def frame_csv_text(df: pd.DataFrame) -> str:
    """The CSV text of a frame: ``to_csv(index=False)`` of its neutralised copy, every CR/LF cell quoted."""
    safe = neutralise_frame(df)
    unusual = any(isinstance(c, str) and _HAS_UNUSUAL_BREAK.search(c) for c in safe.columns) or any(
        series.dtype == object and any(isinstance(v, str) and _HAS_UNUSUAL_BREAK.search(v) for v in series.to_numpy())
        for _, series in safe.items())
    if not unusual:
        return safe.to_csv(index=False)
    # The csv module quotes only cells holding the delimiter, the quote or a character of the
    # line terminator: with every line break in the terminator, every cell holding one is quoted.
    # Row ends (the terminator outside quotes) then go back to "\n": the rest is pandas' bytes.
    return _rows_to_lf(safe.to_csv(index=False, lineterminator=_ALL_BREAKS_TERMINATOR), _ALL_BREAKS_TERMINATOR)


# Starts with CRLF so that the csv module's own handling stays conventional; holds every break.
_ALL_BREAKS_TERMINATOR = "\r\n" + LINE_BREAKS.replace("\r", "").replace("\n", "")


def _rows_to_lf(text: str, terminator: str) -> str:
    parts = text.split('"')
    # Even parts are outside quotes (a doubled "" inside a quoted cell toggles twice).
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace(terminator, "\n")
    return '"'.join(parts)


def _quote_cell(cell: str, lineterminator: str, quote_padded: bool) -> str:
    if cell == "":
        return cell
    if ("," in cell or '"' in cell or _HAS_BREAK.search(cell)
            or any(ch in cell for ch in lineterminator)
            or (quote_padded and cell.strip() != cell)):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def csv_text(rows: Iterable[Sequence[Any]], *, lineterminator: str = "\n", quote_padded: bool = False) -> str:
    """Rows of cells as CSV text, by the same rules as :func:`write_csv`.

    Cells are neutralised (formula prefixes at a cell start and after CR/LF, lone surrogates
    escaped) and quoted like Python's ``csv`` module with ``QUOTE_MINIMAL`` — except that every
    cell holding a CR or LF is quoted whatever the line terminator. ``quote_padded`` also quotes
    cells with leading or trailing whitespace (for readers that strip unquoted cells).
    ``None`` is written as an empty cell; other non-strings as ``str(value)``.
    """
    lines: list[str] = []
    for row in rows:
        cells = ["" if c is None else neutralise(c if isinstance(c, str) else str(c)) for c in row]
        if len(cells) == 1 and cells[0] == "":
            lines.append('""' + lineterminator)  # as the csv module: an empty row would be lost
            continue
        lines.append(",".join(_quote_cell(c, lineterminator, quote_padded) for c in cells) + lineterminator)
    return "".join(lines)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


def write_json(path: str | Path, document: Any) -> Path:
    """Write one JSON document (UTF-8, indented; NaN and infinities as null) atomically."""
    # The untrusted-text policy for JSON (core.text.json_text): a lone surrogate (undecodable bytes
    # in a title or an email), C1 controls and bidi are written as \uXXXX escapes, which read back
    # as the same strings: never a traceback, nothing raw for whoever cats the file.
    text = json_text(json.dumps(_json_safe(document), ensure_ascii=False, indent=2, allow_nan=False,
                                default=str)) + "\n"

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    return atomic_write(path, write)


def write_confusion_csv(path: str | Path, result: EvaluationResult | pd.DataFrame,
                        annotator: str | None = None) -> int:
    """Write an evaluation's confusion in long form (:data:`CONFUSION_CSV_COLUMNS`: annotator,
    benchmark_class, annotator_class, count; ``unmatched`` for a missed or extra object's other
    side), formula-safe and atomically like every CSV here; one annotator's rows, or everyone's.

    ``result`` is an :class:`~annotrain_tui.core.evaluation.results.EvaluationResult` (its
    ``confusion_counts``) or a long-form frame already narrowed (the TUI's view under a filter).
    Rows sorted by annotator, then benchmark class, then annotator class, ``unmatched`` last;
    only nonzero counts. Returns the number of rows written.
    """
    counts = result if isinstance(result, pd.DataFrame) else result.confusion_counts
    counts = counts.loc[:, list(CONFUSION_CSV_COLUMNS)]
    if annotator is not None:
        counts = counts[counts["annotator"] == annotator]
    counts = counts[counts["count"].to_numpy() > 0]

    keys = pd.DataFrame({"a": counts["annotator"].astype(str).to_numpy(dtype=object),
                         "bu": (counts["benchmark_class"] == "unmatched").to_numpy(dtype=bool),
                         "b": counts["benchmark_class"].astype(str).to_numpy(dtype=object),
                         "tu": (counts["annotator_class"] == "unmatched").to_numpy(dtype=bool),
                         "t": counts["annotator_class"].astype(str).to_numpy(dtype=object)})
    order = keys.sort_values(["a", "bu", "b", "tu", "t"], kind="stable").index.to_numpy()
    counts = counts.iloc[order]
    out = pd.DataFrame({c: counts[c].to_numpy(dtype=object) for c in CONFUSION_CSV_COLUMNS[:3]})
    out["count"] = counts["count"].to_numpy(dtype=np.int64)
    write_csv(path, out)
    return len(out)
