"""core/evaluation/outputs.py writes the bytes the general writer writes (exports.write_csv of one
frame: pandas' to_csv of the neutralised copy), whatever the cells."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from annotrain_tui.core.evaluation.outputs import write_objects_csv, write_seed_csv
from annotrain_tui.core.evaluation.results import OBJECT_COLUMNS, EvaluationResult, ProjectResult
from annotrain_tui.core.exports import write_csv

CELLS = ["plain", "a,b", 'say "hi"', "two\nlines", "=SUM(A1)", "+1", "-1", "@x", "\tlead", " padded ", "",
         None, math.nan, "semi;colon", "pipe|x", "ünïcødé", "a\udc80b", "=1\n=2", "x,\"y\"\nz", "１", "\u200b=x"]
FLOATS = [0.0, 1.0, 0.1 + 0.2, 1e-05, 3.4e-07, 1e16, 123456789.123, -0.0, -2.5, math.nan, 5e-324, 0.5]


def _frame(n: int, seed: int, *, missed: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = lambda values: pd.Series([values[int(i)] for i in rng.integers(0, len(values), n)], dtype=object)  # noqa: E731
    cols = {c: pick(CELLS) for c in OBJECT_COLUMNS}
    cols["frame"] = rng.integers(0, 10**6, n).astype(np.int64)
    cols["iou"] = np.array([FLOATS[int(i)] for i in rng.integers(0, len(FLOATS), n)]) * (rng.random(n) if seed else 1)
    cols["class_score"] = np.array([FLOATS[int(i)] for i in rng.integers(0, len(FLOATS), n)])
    cols["outcome"] = pick(["matched", "low_overlap", "extra", "class_mismatch"] + (["missed"] if missed else []))
    return pd.DataFrame(cols, columns=list(OBJECT_COLUMNS))


def _result(frames: list[pd.DataFrame]) -> EvaluationResult:
    projects = [ProjectResult(name=f"p{i}", rows=0, paired_rows=0, unpaired_rows=0, frames=0,
                              stats=None, confusion=[], not_compared={}, warnings=[],  # type: ignore[arg-type]
                              _build_objects=(lambda f=f: f)) for i, f in enumerate(frames)]
    return EvaluationResult(settings=None, annotators={}, projects=projects, confusion_totals={},  # type: ignore[arg-type]
                            not_compared={}, warnings=[], benchmark_rows=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seed_and_full_rows_are_the_general_writers_bytes(tmp_path, seed):
    frames = [_frame(200, seed), _frame(0, seed + 10), _frame(57, seed + 20)]
    result = _result(frames)
    write_seed_csv(tmp_path / "first.csv", result)
    assert all(p._objects is None for p in result.projects)  # written, not kept
    for name, write, rows in (("seed", write_seed_csv, result.seed_rows), ("full", write_objects_csv,
                                                                         lambda: result.objects)):
        want, got = tmp_path / f"{name}-want.csv", tmp_path / f"{name}-got.csv"
        write_csv(want, rows())
        assert write(got, result) == len(rows())
        assert got.read_bytes() == want.read_bytes(), name


def test_other_line_breaks_go_to_the_general_writer(tmp_path):
    frame = _frame(30, 5)
    frame.loc[3, "data_title"] = "cr\rhere"
    frame.loc[4, "created_by"] = "ls\u2028here"
    frame.loc[3:4, "outcome"] = "matched"
    result = _result([frame])
    want, got = tmp_path / "want.csv", tmp_path / "got.csv"
    write_csv(want, result.seed_rows())
    write_seed_csv(got, result)
    assert got.read_bytes() == want.read_bytes()
    assert b'"cr\rhere' in got.read_bytes()


def test_a_float_column_of_few_values_is_formatted_as_value_by_value():
    import numpy as np

    from annotrain_tui.core.evaluation.outputs import _Cells

    rng = np.random.default_rng(5)
    few = rng.choice([0.0, 1.0, np.nan, 0.1 + 0.2], size=500)
    many = rng.random(500)
    for values in (few, many, np.array([np.nan] * 100), np.array([], dtype=float)):
        assert _Cells().floats(values) == ["" if v != v else repr(v) for v in values.tolist()]
