"""`annotrain evaluate` contract: outputs, files written, exit codes and one-line errors."""

from __future__ import annotations

import csv
import json

import pytest

from annotrain_tui.cli import main
from tests.labelgen import published_seed
from tests.synth import DEFAULT_CLASSES, box, make_label_row, make_object, make_programme


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def programme():
    return make_programme(seed=21, n_items=15, annotators=("zoe@example.com", "adam@example.com"),
                          shapes=("bounding_box", "polygon"), video_every=5)


@pytest.fixture
def files(tmp_path, programme):
    bm = tmp_path / "BM.json"
    bm.write_text(json.dumps(programme.benchmark))
    trs = []
    for i, rows in enumerate(programme.training.values()):
        p = tmp_path / f"TR{i}.json"
        p.write_text(json.dumps(rows))
        trs.append(p)
    return bm, trs


def test_offline_optimal_prints_a_table_sorted_by_annotator(capsys, files):
    bm, trs = files
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", *trs)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Compared 30 paired label row(s)") and "optimal matching" in lines[0]
    assert lines[1].split()[:3] == ["ANNOTATOR", "STATUS", "OBJECTS"]
    names = [ln.split()[0] for ln in lines[3:5]]
    assert names == ["adam@example.com", "zoe@example.com"]


def test_json_output_is_one_document_with_the_summary(capsys, files):
    bm, trs = files
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", *trs, "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc["annotators"]) == {"adam@example.com", "zoe@example.com"}
    a = doc["annotators"]["zoe@example.com"]
    for key in ("objects", "benchmark_objects", "matched", "missed", "extra", "precision", "recall", "f1",
                "mean_iou", "class_accuracy", "status"):
        assert key in a
    assert doc["settings"]["matching"] == "optimal" and doc["paired_rows"] == 30


def test_seed_mode_out_writes_the_published_csv(capsys, files, programme, tmp_path):
    bm, trs = files
    out_csv, summary = tmp_path / "iou_results.csv", tmp_path / "summary.json"
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", trs[0],
                         "--matching", "seed", "--out", out_csv, "--summary-json", summary)
    assert code == 0, err
    with open(out_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = published_seed(programme.benchmark, list(programme.training.values())[0])
    assert list(rows[0]) == ["training_email", "data_unit_name", "label_id", "iou_score", "class_score"]
    assert [(r["label_id"], float(r["iou_score"]), float(r["class_score"])) for r in rows] == \
        [(e["label_id"], e["iou_score"], e["class_score"]) for e in expected]
    doc = json.loads(summary.read_text())
    assert list(doc) == ["annotators"]
    assert list(doc["annotators"]["zoe@example.com"]) == [
        "objects", "benchmark_objects", "matched", "missed", "extra", "precision", "recall", "f1", "mean_iou",
        "class_accuracy", "by_shape", "by_class", "classifications", "classification_accuracy", "attributes",
        "attribute_accuracy", "class_mismatches", "items", "precision_interval", "recall_interval", "f1_interval"]
    assert list(doc["annotators"]["zoe@example.com"]["by_shape"]) == ["bounding_box"]  # seed: boxes only
    assert f"Wrote {len(rows)} row(s) to {out_csv}" in out


def test_optimal_out_writes_full_object_rows(capsys, files, tmp_path):
    bm, trs = files
    out_csv = tmp_path / "objects.csv"
    code, _, _ = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", *trs, "--out", out_csv,
                     "--shape", "polygon")
    assert code == 0
    with open(out_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["shape"] for r in rows} == {"polygon"}
    assert {r["outcome"] for r in rows} <= {"matched", "low_overlap", "missed", "extra"}
    assert "benchmark_object_hash" in rows[0]


def test_csv_cells_are_formula_safe(capsys, tmp_path):
    car = DEFAULT_CLASSES[0]
    title = '=HYPERLINK("http://x","click")'
    bm = make_label_row(data_hash="d", data_title=title, label_hash="B",
                        objects=[make_object(car, box(0.25, 0.25, 0.25, 0.25), object_hash="A", created_by="r")])
    tr = make_label_row(data_hash="d", data_title=title, label_hash="T",
                        objects=[make_object(car, box(0.25, 0.25, 0.25, 0.25), object_hash="a", created_by="@evil")])
    (tmp_path / "b.json").write_text(json.dumps([bm]))
    (tmp_path / "t.json").write_text(json.dumps([tr]))
    out_csv = tmp_path / "o.csv"
    code, out, _ = run(capsys, "evaluate", "--benchmark-labels", tmp_path / "b.json", "--training-labels",
                       tmp_path / "t.json", "--matching", "seed", "--out", out_csv)
    assert code == 0
    line = out_csv.read_text().splitlines()[1]
    assert line == "'@evil,\"'=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\",T,1.0,1.0"


@pytest.mark.parametrize("content, message", [
    ('[{"data_hash": "d", "data_units": {', "invalid JSON at line 1 column"),
    ('{"data_hash": "d"}', "expected a JSON list of label rows"),
    ('[{"data_units": {}}]', "row 0 (label_hash None) is missing 'data_hash'"),
    ('[{"data_hash": "d", "data_type": "image", "data_units": {"d": {"data_sequence": 0, "labels": {"objects": ['
     '{"objectHash": "o", "featureHash": "f", "shape": "bounding_box", "boundingBox": {"x": NaN, "y": 0, "w": 1,'
     ' "h": 1}}]}}}}]', "bounding box has NaN coordinate 'x'"),
])
def test_bad_label_files_exit_2_with_one_line(capsys, files, tmp_path, content, message):
    bm, trs = files
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", trs[0], bad)
    assert code == 2
    assert out == "" and err.count("\n") == 1 and err.startswith(f"annotrain: error: {bad}:")
    assert message in err


def test_truncated_benchmark_reports_line_and_column(capsys, files, tmp_path):
    bm, trs = files
    cut = tmp_path / "cut.json"
    text = json.dumps(json.loads(bm.read_text()), indent=2)
    cut.write_text(text[: len(text) * 2 // 3])
    code, _, err = run(capsys, "evaluate", "--benchmark-labels", cut, "--training-labels", trs[0])
    assert code == 2 and "invalid JSON at line" in err and "truncated" in err


def test_unknown_shapes_are_skipped_with_a_warning(capsys, files, tmp_path, programme):
    bm, trs = files
    rows = json.loads(trs[0].read_text())
    units = rows[0]["data_units"]
    first = next(iter(units.values()))["labels"]
    objs = first["objects"] if "objects" in first else next(iter(first.values()))["objects"]
    objs[0]["shape"] = "hologram"
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(rows))
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", odd)
    assert code == 0
    assert "unknown shape 'hologram' skipped" in err and "unknown:hologram 1" in out


def test_missing_file_exits_2(capsys, files, tmp_path):
    bm, _ = files
    code, _, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tmp_path / "none.json")
    assert code == 2 and "no such file" in err


def test_nothing_paired_exits_1(capsys, files, tmp_path):
    bm, _ = files
    other = tmp_path / "other.json"
    other.write_text(json.dumps(make_programme(seed=99, n_items=2, annotators=("x@y",)).benchmark))
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", other)
    assert code == 1 and out == ""
    assert "nothing to compare" in err and "data_hash" in err


@pytest.mark.parametrize("argv, message", [
    (["--benchmark", "BM", "--training", "T", "--all"], "not both"),
    (["--benchmark", "BM", "--training-labels", "x.json"], "--training-labels goes with --benchmark-labels"),
    (["--benchmark-labels", "BM.json"], "--benchmark-labels needs --training-labels"),
    (["--benchmark-labels", "BM.json", "--training", "T"], "--training and --all go with --benchmark"),
    (["--benchmark-labels", "BM.json", "--training-labels", "a", "--iou-threshold", "0"], "--iou-threshold"),
    (["--benchmark-labels", "BM.json", "--training-labels", "a", "--low-overlap", "2"], "--low-overlap"),
])
def test_usage_errors_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "evaluate", *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_argparse_level_usage_errors_exit_2(capsys):
    for argv in (["evaluate", "--benchmark-labels", "a", "--benchmark", "b"],
                 ["evaluate", "--benchmark-labels", "a", "--programme", "b"],
                 ["evaluate", "--benchmark-labels", "a", "--training-labels", "b", "--matching", "greedy"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    capsys.readouterr()


def test_online_form_calls_evaluate_online(capsys, monkeypatch):
    from annotrain_tui.cli import evaluate_cmd

    seen = {}

    def fake(args):
        seen.update(benchmark=args.benchmark, training=args.training, all=args.all)
        return 0

    monkeypatch.setattr(evaluate_cmd, "evaluate_online", fake)
    code, _, _ = run(capsys, "evaluate", "--benchmark", "BM", "--training", "T1", "T2", "--training", "T3")
    assert code == 0 and seen == {"benchmark": "BM", "training": ["T1", "T2", "T3"], "all": False}


def test_untrusted_annotator_text_is_printed_literally(capsys, tmp_path):
    car = DEFAULT_CLASSES[0]
    bm = make_label_row(data_hash="d", data_title="t", label_hash="B",
                        objects=[make_object(car, box(0.1, 0.1, 0.2, 0.2), object_hash="A", created_by="r")])
    tr = make_label_row(data_hash="d", data_title="t", label_hash="T", objects=[
        make_object(car, box(0.1, 0.1, 0.2, 0.2), object_hash="a", created_by="[bold]x\x1b[2J@y")])
    (tmp_path / "b.json").write_text(json.dumps([bm]))
    (tmp_path / "t.json").write_text(json.dumps([tr]))
    code, out, _ = run(capsys, "evaluate", "--benchmark-labels", tmp_path / "b.json", "--training-labels",
                       tmp_path / "t.json")
    assert code == 0 and "\x1b" not in out and "[bold]x\\x1b[2J@y" in out


def test_online_evaluate_all_training_projects_of_the_demo(capsys, tmp_path):
    import json as _json

    from annotrain_tui.cli import main as _main

    assert _main(["sandbox", "init", "--demo"]) == 0
    capsys.readouterr()
    out_csv = tmp_path / "iou_results.csv"
    code = _main(["evaluate", "--benchmark", "Benchmark Labels", "--all", "--matching", "seed",
                  "--out", str(out_csv), "--json"])
    doc = _json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(doc["annotators"]) == {"alex.kim@example.com", "bea.santos@example.com", "chidi.okafor@example.com"}
    assert out_csv.read_text().splitlines()[0] == "training_email,data_unit_name,label_id,iou_score,class_score"
    code = _main(["evaluate", "--benchmark", "Benchmark Labels", "--training", "Annotator Training - Alex Kim"])
    out = capsys.readouterr().out
    assert code == 0 and "alex.kim@example.com" in out and "bea.santos" not in out


def test_shape_flag_offers_every_shape_the_engine_compares():
    from annotrain_tui.cli import evaluate_cmd
    from annotrain_tui.core.evaluation import COMPARED_SHAPES

    assert evaluate_cmd._SHAPES == COMPARED_SHAPES


def test_seed_matching_refuses_other_shapes_in_one_line(capsys, files):
    bm, trs = files
    code, _out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", trs[0],
                          "--matching", "seed", "--shape", "polygon")
    assert code == 2
    assert err.count("\n") == 1 and "published script, which compares bounding boxes on frame 0 only" in err


def test_confusion_out_writes_the_long_form(capsys, files, tmp_path):
    bm, trs = files
    out = tmp_path / "confusion.csv"
    code, text, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", *trs,
                          "--confusion-out", out)
    assert code == 0, err
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["annotator", "benchmark_class", "annotator_class", "count"]
    assert {r["annotator"] for r in rows} == {"zoe@example.com", "adam@example.com"}
    assert f"Wrote {len(rows)} confusion row(s) to {out}" in text
