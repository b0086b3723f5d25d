"""Columns: a small table as named numpy arrays of one length, without pandas.

What a screen's first view shows (the evaluation screen's annotator table: one row per annotator)
needs no frame library; importing pandas for it cost the screen 0.3 s and 32 MiB before anything
was drawn (issue 14). A view that needs a frame (the per-object rows, a class filter, exports)
still builds one: :meth:`Columns.to_pandas`, :meth:`Columns.of`. ``widgets.frame_table`` draws
either.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Columns"]


def _array(values: Any) -> np.ndarray:
    """``values`` as a 1-d array; a list of texts (or of anything not a number) as an object array,
    each value as it is (numpy would make texts fixed-width strings and datetimes its own)."""
    if isinstance(values, np.ndarray):
        return values
    items = list(values)
    if items and all(isinstance(v, (bool, int, float, np.number)) for v in items):
        return np.asarray(items)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


class Columns:
    """Named columns of equal length; ``len`` is the number of rows, ``t[name]`` a column (an array)."""

    __slots__ = ("_data", "_n")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = {str(k): _array(v) for k, v in data.items()}
        lengths = {len(v) for v in self._data.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")
        self._n = lengths.pop() if lengths else 0

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Columns:
        """A pandas frame's columns (each ``to_numpy()``: a datetime column as its values)."""
        return cls({str(c): frame[c].to_numpy() for c in frame.columns})

    def __len__(self) -> int:
        return self._n

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __getitem__(self, key: str) -> np.ndarray:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    @property
    def columns(self) -> list[str]:
        return list(self._data)

    def where(self, mask: np.ndarray) -> Columns:
        """The rows ``mask`` (a boolean array of this length) keeps, in order."""
        keep = np.asarray(mask, dtype=bool)
        return Columns({k: v[keep] for k, v in self._data.items()})

    def assign(self, **columns: Any) -> Columns:
        """These columns added (or replaced), as ``DataFrame.assign``."""
        return Columns({**self._data, **columns})

    def to_pandas(self, *, infer: tuple[str, ...] = ()) -> pd.DataFrame:
        """The same as a pandas frame; the ``infer`` columns are built as pandas infers a list (a
        column of datetimes and None becomes ``datetime64`` with NaT, as a Series of them would)."""
        import pandas as pd

        data: dict[str, Any] = {}
        for k, v in self._data.items():
            data[k] = pd.Series(v.tolist(), dtype=None if len(v) else object) if k in infer else v
        return pd.DataFrame(data, columns=list(self._data))
