"""Writers for files users open elsewhere: formula-safe CSV and JSON, both written atomically.

CSV cells are untrusted text (titles, emails, class names come from servers and files). A
spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as
a formula, so such *string* cells get a leading ``'`` (numbers are written as they are, negative
ones included). Everything else is exactly what ``pandas.DataFrame.to_csv(index=False)`` writes:
the CSV of a frame without such cells is byte-identical to pandas' own (the seed script's
``iou_results.csv`` included).

Atomic: the file is written next to the target under a temporary name and moved over it with
``os.replace``, so a reader never sees half a file and a failure leaves the old file in place.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from annotrain_tui.core.errors import InvalidInput

__all__ = ["FORMULA_PREFIXES", "neutralise", "neutralise_frame", "write_csv", "write_json", "atomic_write"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``'`` before a string that a spreadsheet would read as a formula; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with every formula-like string cell neutralised (numeric columns are untouched)."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            continue
        values = series.to_numpy(dtype=object)
        risky = np.fromiter((isinstance(v, str) and v.startswith(FORMULA_PREFIXES) for v in values),
                            dtype=bool, count=len(values))
        if risky.any():
            values = values.copy()
            values[risky] = ["'" + v for v in values[risky]]
            out[col] = pd.Series(values, index=out.index, dtype=object)
    # Column names are cells too.
    out.columns = [neutralise(c) for c in out.columns]
    return out


def _display(path: Path) -> str:
    text = str(path)
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` for a temporary file beside ``path``, then move it over ``path``.

    OS failures become one :class:`InvalidInput` naming the file (exit 2 in the CLI).
    """
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InvalidInput(f"{_display(target)}: is a directory, expected a file name")
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp")
    except FileNotFoundError:
        raise InvalidInput(f"{_display(target)}: cannot write (no such directory {_display(parent)})") from None
    except PermissionError:
        raise InvalidInput(f"{_display(target)}: cannot write (permission denied)") from None
    except OSError as exc:
        raise InvalidInput(f"{_display(target)}: cannot write ({exc.strerror or type(exc).__name__})") from None
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
        raise InvalidInput(f"{_display(target)}: cannot write ({exc.strerror or type(exc).__name__})") from None
    except BaseException:
        _unlink(tmp)
        raise
    return target


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
    safe = neutralise_frame(df)
    return atomic_write(path, lambda tmp: safe.to_csv(tmp, index=False))


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
    text = json.dumps(_json_safe(document), ensure_ascii=False, indent=2, allow_nan=False, default=str) + "\n"

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    return atomic_write(path, write)
