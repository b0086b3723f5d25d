"""Exports: formula-safe CSV that is otherwise byte-identical to pandas, atomic CSV and JSON writes."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pandas as pd
import pytest

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.exports import neutralise, neutralise_frame, write_csv, write_json


def _pandas_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()


@pytest.mark.parametrize("value, expected", [
    ("=SUM(A1:A9)", "'=SUM(A1:A9)"), ("+1", "'+1"), ("-1", "'-1"), ("@cmd", "'@cmd"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("a=b", "a=b"), ("alice@example.com", "alice@example.com"),
    ("", ""), (-1.5, -1.5), (-3, -3), (None, None),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_csv_without_risky_cells_is_byte_identical_to_pandas(tmp_path):
    rows = [
        {"training_email": "a@x.com", "data_unit_name": "Image3.jpg", "label_id": "a4a3d707", "iou_score": 0.0,
         "class_score": 0.0},
        {"training_email": None, "data_unit_name": 'comma, "quote"\nnewline', "label_id": "be53b547",
         "iou_score": 0.5506647634569868, "class_score": 1.0},
        {"training_email": "b@x.com", "data_unit_name": "ünïcode ✓", "label_id": "c", "iou_score": 1e-05,
         "class_score": 1.0},
    ]
    out = tmp_path / "iou_results.csv"
    write_csv(out, rows)
    assert out.read_bytes() == _pandas_bytes(pd.DataFrame(rows))
    assert b',"comma, ""quote""\nnewline",be53b547,0.5506647634569868,1.0\n' in out.read_bytes()
    df = pd.DataFrame({"n": np.arange(3), "f": [0.1, np.nan, -2.0], "s": ["x", None, "y"], "b": [True, False, True]})
    write_csv(out, df)
    assert out.read_bytes() == _pandas_bytes(df)


def test_csv_neutralises_only_formula_like_strings(tmp_path):
    df = pd.DataFrame({"title": ["=HYPERLINK(\"http://evil\")", "plain", "-rf", "@SUM(1)"],
                       "score": [-0.5, 0.25, -1.0, 2.0]})
    out = tmp_path / "x.csv"
    write_csv(out, df)
    got = out.read_text().splitlines()
    want = _pandas_bytes(df).decode().splitlines()
    assert got[0] == want[0]
    assert got[1] == "\"'=HYPERLINK(\"\"http://evil\"\")\",-0.5"
    assert got[2] == want[2] == "plain,0.25"
    assert got[3] == "'-rf,-1.0" and got[4] == "'@SUM(1),2.0"
    assert df["title"].iloc[0].startswith("=")  # the caller's frame is untouched
    assert list(neutralise_frame(pd.DataFrame(columns=["=x"])).columns) == ["'=x"]


def test_writes_are_atomic(tmp_path, monkeypatch):
    out = tmp_path / "r.csv"
    out.write_text("old\n")
    os.chmod(out, 0o640)

    def boom(self, *a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(RuntimeError):
        write_csv(out, [{"a": 1}])
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]  # no temp file left behind
    monkeypatch.undo()
    write_csv(out, [{"a": 1}])
    assert out.read_text() == "a\n1\n" and (out.stat().st_mode & 0o777) == 0o640


def test_write_errors_are_one_clear_invalid_input(tmp_path):
    with pytest.raises(InvalidInput, match="no such directory"):
        write_csv(tmp_path / "nope" / "x.csv", [{"a": 1}])
    with pytest.raises(InvalidInput, match="is a directory"):
        write_json(tmp_path, {"a": 1})


def test_write_json(tmp_path):
    out = tmp_path / "s.json"
    write_json(out, {"annotators": {"ä@x": {"f1": float("nan"), "n": np.int64(3), "r": 0.5}}})
    text = out.read_text(encoding="utf-8")
    assert json.loads(text) == {"annotators": {"ä@x": {"f1": None, "n": 3, "r": 0.5}}}
    assert "ä@x" in text and text.endswith("\n")


def test_the_confusion_csv_is_the_long_form_sorted_with_unmatched_last_and_formula_safe(tmp_path):
    import csv

    from annotrain_tui.core.evaluation import evaluate
    from annotrain_tui.core.exports import write_confusion_csv
    from tests.labelgen import make_programme

    prog = make_programme(seed=5, n_items=12, annotators=("a@x", "b@x"))
    result = evaluate(prog.benchmark, prog.training_sets())
    path = tmp_path / "confusion.csv"
    n = write_confusion_csv(path, result)
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[0] == ["annotator", "benchmark_class", "annotator_class", "count"]
    assert n == len(rows) - 1 == int((result.confusion_counts["count"] > 0).sum())
    back = {(a, b, t): int(c) for a, b, t, c in rows[1:]}
    assert back == {k: v for k, v in result.confusion_totals.items() if v}
    keys = [(a, b == "unmatched", b, t == "unmatched", t) for a, b, t, _c in rows[1:]]
    assert keys == sorted(keys)
    one = write_confusion_csv(path, result, annotator="b@x")
    assert one and {r[0] for r in csv.reader(path.read_text().splitlines()[1:])} == {"b@x"}
    # class names are untrusted: a formula in one is neutralised
    hostile = pd.DataFrame({"annotator": ["a@x"], "benchmark_class": ["=HYPERLINK(1)"],
                            "annotator_class": ["unmatched"], "count": [3]})
    write_confusion_csv(path, hostile)
    assert path.read_text().splitlines()[1] == "a@x,'=HYPERLINK(1),unmatched,3"
