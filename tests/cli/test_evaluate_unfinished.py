"""Issue 15 item 3: offline evaluation counts only finished work, as online does. A trial's export
of 38 COMPLETED and 22 unfinished rows scored recall 0.567 offline and 0.897 online."""

from __future__ import annotations

import json

from annotrain_tui.cli import main
from annotrain_tui.core.evaluation.labels import finished_rows
from annotrain_tui.core.evaluation.session import EvaluationSession
from tests.synth import make_programme


def programme_files(tmp_path, *, unfinished: int, drop_status: int = 0):
    prog = make_programme(seed=7, n_items=12, annotators=("zoe@example.com",))
    bm = tmp_path / "bm.json"
    bm.write_text(json.dumps(prog.benchmark))
    rows = json.loads(json.dumps(next(iter(prog.training.values()))))
    for row in rows[:unfinished]:
        row["annotation_task_status"] = "ASSIGNED"
        for unit in row["data_units"].values():  # the unfinished work: nothing labelled yet
            unit["labels"] = {"objects": [], "classifications": []} if "objects" in unit["labels"] else {
                k: {"objects": [], "classifications": []} for k in unit["labels"]}
    for row in rows[unfinished:unfinished + drop_status]:
        row.pop("annotation_task_status", None)
    tr = tmp_path / "tr.json"
    tr.write_text(json.dumps(rows))
    return bm, tr


def summary(capsys, tmp_path, bm, tr, *extra):
    out = tmp_path / f"s{len(extra)}.json"
    code = main(["evaluate", "--benchmark-labels", str(bm), "--training-labels", str(tr),
                 "--summary-json", str(out), "--force", *extra])
    err = capsys.readouterr().err
    assert code == 0, err
    return json.loads(out.read_text())["annotators"]["zoe@example.com"], err


def test_unfinished_rows_are_left_out_offline_and_said(capsys, tmp_path):
    bm, tr = programme_files(tmp_path, unfinished=5)
    counted, err = summary(capsys, tmp_path, bm, tr)
    assert "5 row(s) of unfinished tasks (ASSIGNED 5) are left out" in err
    everything, err_all = summary(capsys, tmp_path, bm, tr, "--include-incomplete")
    assert "mixes finished and unfinished tasks" in err_all
    # counting the empty unfinished rows would count their items' benchmark objects as missed
    recall = next(k for k in counted if "recall" in k)
    assert counted[recall] > everything[recall]


def test_rows_without_a_status_count_with_a_warning(tmp_path):
    bm, tr = programme_files(tmp_path, unfinished=0, drop_status=3)
    rows = json.loads(tr.read_text())
    kept = finished_rows(rows, source="tr.json")
    assert len(kept.rows) == len(rows) and kept.left_out == 0
    assert kept.warnings == ["tr.json: 3 row(s) carry no annotation_task_status and are counted as finished"]


def test_the_tuis_file_session_follows_the_same_rule(tmp_path):
    bm, tr = programme_files(tmp_path, unfinished=5)
    session = EvaluationSession.of_files(str(bm), [str(tr)])
    result = session.load()
    assert any("are left out" in w for w in result.warnings)
    assert sum(len(s.rows) for s in session.sources.values()) == len(json.loads(tr.read_text())) - 5
    every = EvaluationSession.of_files(str(bm), [str(tr)], include_incomplete=True).load()
    assert any("mixes finished" in w for w in every.warnings)
