"""The evaluation screen's file source keeps no rows (issue 14: it held 536 MiB of dicts at 1,000
images): each file is parsed by the CLI's reader into its table, scored as the CLI scores it, and
its rows are read from the file when the item view asks."""

from __future__ import annotations

import json
from pathlib import Path

from annotrain_tui.core.evaluation import evaluate
from annotrain_tui.core.evaluation.session import EvaluationSession, FileRows
from tests.synth import make_mixed_programme, make_programme


def _close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], float) and isinstance(b[k], float):
            assert abs(a[k] - b[k]) < 1e-9, k
        elif isinstance(a[k], dict):
            _close(a[k], b[k])
        else:
            assert a[k] == b[k], k


def test_rows_are_read_when_asked_and_scored_as_the_cli_scores(tmp_path):
    prog = make_mixed_programme(seed=4, n_items=12, annotators=("ann@x.com", "bob@x.com"))
    bm, paths = prog.write_files(tmp_path)
    session = EvaluationSession.of_files(str(bm), paths)
    result = session.load()
    for src in session.sources.values():
        assert isinstance(src.rows, FileRows) and src.whole
        assert [p.name for p in result.projects] == paths  # each file one set, named the file (no block id)
    assert isinstance(session.bench_rows, FileRows)
    want = evaluate(prog.benchmark, [(p, json.loads(Path(p).read_text())) for p in paths])
    got, expected = result.summary_json()["annotators"], want.summary_json()["annotators"]
    assert got.keys() == expected.keys()
    for name in expected:
        _close(got[name], expected[name])
    # a row decodes on demand, whole: the item view draws it
    snap = session.snapshot()
    some = next(iter(next(iter(session.sources.values())).rows))
    view = snap.item_view(some, "ann@x.com")
    assert view.shapes


def test_a_file_the_split_refuses_is_read_by_the_dict_path(tmp_path):
    prog = make_programme(seed=2, n_items=4, annotators=("a@x.com",))
    bm, paths = prog.write_files(tmp_path)
    rows = json.loads(Path(paths[0]).read_text())
    with open(paths[0], "w", encoding="utf-8") as fh:  # a BOM: msgspec refuses it, the dict path reads it
        fh.write("\ufeff" + json.dumps(rows))
    session = EvaluationSession.of_files(str(bm), paths)
    result = session.load()
    assert result.paired_rows == 4
    rows = next(iter(session.sources.values())).rows
    assert isinstance(rows, FileRows)
    for h in rows:  # read again by the dict path too
        assert rows[h]["data_hash"] == h
