"""Issue 14, "must show": the fast end-to-end path changes no output.

`annotrain evaluate` now reads label files by the typed decode and writes its CSVs directly. On
bench-like data (the bench's generator, smaller), with hostile titles and emails, objects without
``createdBy`` and unfinished rows, its files must equal what the engine wrote before through the
dict path and the frame writer (``read_label_rows`` + ``finished_rows`` + ``parse_label_rows``,
``evaluate``, ``write_csv(result.seed_rows())`` / ``write_csv(result.objects)``,
``write_json(result.summary_json())``): the seed CSV byte for byte, the full CSV byte for byte,
the summaries equal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from annotrain_tui.cli import main
from annotrain_tui.core.config import load_settings
from annotrain_tui.core.evaluation import EvaluationSettings, evaluate, parse_label_rows, read_label_rows
from annotrain_tui.core.evaluation.labels import finished_rows
from annotrain_tui.core.exports import write_csv, write_json
from tests.synth import make_scene

HOSTILE_TITLES = ["=HYPERLINK(\"http://x\")", "a,b", 'say "hi"', "two\nlines", "-1+1", "@SUM(A1)", " padded ",
                  "tab\tin", "semi;colon", "pipe|x", "ünïcødé", ""]


def _files(tmp_path: Path, *, images: int = 40, annotators: int = 3, odd_break: bool = False) -> tuple[Path, list[Path]]:
    scene = make_scene(seed=1, n_items=images, objects_per_item=(15, 15), video_every=9, group_every=7)
    bm_rows = scene.benchmark_rows()
    bm = tmp_path / "benchmark.json"
    bm.write_text(json.dumps(bm_rows))
    trs = []
    for i in range(annotators):
        email = ["=cmd|'/C calc'!A0@example.com", "ann,one@example.com", "plain@example.com"][i % 3]
        rows = scene.training_rows(email, seed=100 + i, skill=(0.3, 1.0, 2.5)[i % 3], p_no_created_by=0.1)
        for j, row in enumerate(rows):
            row["data_title"] = HOSTILE_TITLES[(i + j) % len(HOSTILE_TITLES)] + row["data_title"]
        rows[1]["annotation_task_status"] = "IN_PROGRESS"
        if odd_break:
            rows[2]["data_title"] = "line\u2028separator"
        p = tmp_path / f"training_{i:02d}.json"
        p.write_text(json.dumps(rows))
        trs.append(p)
    return bm, trs


def _before(bm: Path, trs: list[Path], matching: str) -> Any:
    """The engine as it ran before: dict path, frames."""
    def rows(path: Path) -> list[Any]:
        return finished_rows(read_label_rows(path.read_bytes(), source=str(path)), source=str(path)).rows

    settings = EvaluationSettings.from_config(load_settings(), matching=matching)
    benchmark = parse_label_rows(rows(bm), source=str(bm))
    return evaluate(benchmark, ((str(p), rows(p)) for p in trs), settings, benchmark_source=str(bm),
                    keep_objects=True)


def _cli(capsys: Any, *argv: Any) -> None:
    code = main([str(a) for a in argv])
    _, err = capsys.readouterr()
    assert code == 0, err


@pytest.mark.parametrize("matching", ["seed", "optimal"])
def test_csv_and_summary_are_unchanged(tmp_path, capsys, matching):
    bm, trs = _files(tmp_path)
    result = _before(bm, trs, matching)
    want_csv, want_summary = tmp_path / "before.csv", tmp_path / "before.json"
    write_csv(want_csv, result.seed_rows() if matching == "seed" else result.objects)
    write_json(want_summary, result.summary_json())

    got_csv, got_summary = tmp_path / "after.csv", tmp_path / "after.json"
    _cli(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", *trs, "--matching", matching,
         "--out", got_csv, "--summary-json", got_summary)
    assert got_csv.read_bytes() == want_csv.read_bytes()
    assert json.loads(got_summary.read_text()) == json.loads(want_summary.read_text())
    assert got_summary.read_bytes() == want_summary.read_bytes()
    text = got_csv.read_text()
    assert "'=HYPERLINK" in text and "'=cmd" in text  # formula-safe, as before
    assert len(text.splitlines()) > 40 * 15  # a real file, not an empty one equal to another


def test_a_cell_with_another_line_break_is_written_by_the_general_writer(tmp_path, capsys):
    bm, trs = _files(tmp_path, images=12, annotators=2, odd_break=True)
    result = _before(bm, trs, "seed")
    want = tmp_path / "before.csv"
    write_csv(want, result.seed_rows())
    got = tmp_path / "after.csv"
    _cli(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", *trs, "--matching", "seed", "--out", got)
    assert got.read_bytes() == want.read_bytes()
    assert '"line\u2028separator' in got.read_text()  # quoted: one cell


def test_no_training_object_writes_the_header_only(tmp_path, capsys):
    bm, trs = _files(tmp_path, images=3, annotators=1)
    rows = json.loads(trs[0].read_text())
    for row in rows:
        for unit in row["data_units"].values():
            labels = unit["labels"]
            if "objects" in labels:
                labels["objects"] = []
            else:
                for frame in labels.values():
                    frame["objects"] = []
    trs[0].write_text(json.dumps(rows))
    want = tmp_path / "before.csv"
    write_csv(want, _before(bm, trs, "seed").seed_rows())
    got = tmp_path / "after.csv"
    _cli(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", *trs, "--matching", "seed", "--out", got)
    assert got.read_bytes() == want.read_bytes() == b"training_email,data_unit_name,label_id,iou_score,class_score\n"


def test_the_screens_seed_csv_is_the_clis_byte_for_byte_on_files(tmp_path, capsys):
    """The TUI's Seed CSV (the session's seed rows over the files it read) in the CLI's row order:
    each file's own order (the session once sorted a file's rows by data hash)."""
    from annotrain_tui.core.evaluation.session import EvaluationSession

    bm, trs = _files(tmp_path)
    cli = tmp_path / "cli.csv"
    _cli(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", *trs, "--matching", "seed", "--out", cli)
    session = EvaluationSession.of_files(str(bm), [str(p) for p in trs],
                                         EvaluationSettings.from_config(load_settings()))
    session.load()
    screen = tmp_path / "screen.csv"
    write_csv(screen, session.seed_rows())
    assert screen.read_bytes() == cli.read_bytes()
