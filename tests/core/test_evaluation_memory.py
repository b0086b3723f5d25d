"""What the evaluation screen keeps, kept smaller (issue 14: 310 MiB against the CLI's 81 at 1,000 × 10):
the file source keeps no rows (each file's table, read from the file when the item view asks), and
the per-object rows built when a view asks, not with every snapshot. These pin that nothing shown or
exported changes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd

from annotrain_tui.core.errors import Unusable
from annotrain_tui.core.evaluation.session import EvaluationSession, FileRows
from annotrain_tui.core.evaluation.views import MATCHED, Filter, sparkline
from tests.synth import make_mixed_programme, make_programme


def _session(tmp_path: Path, seed: int = 4, n_items: int = 12, **kw):
    prog = make_mixed_programme(seed=seed, n_items=n_items, annotators=("ann@x.com", "bob@x.com"))
    bm, paths = prog.write_files(tmp_path)
    session = EvaluationSession.of_files(str(bm), paths, **kw)
    session.load()
    return prog, bm, paths, session


def test_the_rows_are_read_from_the_file_exactly_as_it_holds_them(tmp_path):
    _prog, bm, paths, session = _session(tmp_path)
    for path, rows in [(str(bm), session.bench_rows), *((p, session.sources[p].rows) for p in paths)]:
        assert isinstance(rows, FileRows)  # it holds the hashes, not the rows
        assert set(vars(rows)) == {"path", "stamp", "include_incomplete", "_keys"}
        assert set(rows._keys.values()) == {None}
        in_file = {json.loads(bytes(r))["data_hash"]: json.loads(bytes(r))
                   for r in msgspec.json.decode(Path(path).read_bytes(), type=list[msgspec.Raw])}
        assert list(rows) == list(in_file) and len(rows) == len(in_file)
        for h, row in in_file.items():
            assert rows[h] == row == rows.get(h)
        assert [r["data_hash"] for r in rows.values()] == list(rows)
        assert dict(rows.items()) == in_file
        assert rows.get("no such hash") is None and "no such hash" not in rows


def test_the_row_read_is_the_last_finished_one_of_its_hash(tmp_path):
    prog = make_programme(seed=3, n_items=3, annotators=("a@x.com",))
    bm, paths = prog.write_files(tmp_path)
    rows = json.loads(Path(paths[0]).read_text())
    first = dict(rows[0], data_title="the first")
    unfinished = dict(rows[0], data_title="not finished", annotation_task_status="IN_PROGRESS")
    Path(paths[0]).write_text(json.dumps([first, *rows[1:], dict(rows[0], data_title="the last"), unfinished]))
    session = EvaluationSession.of_files(str(bm), paths)
    session.load()
    kept = session.sources[paths[0]].rows
    assert kept[rows[0]["data_hash"]]["data_title"] == "the last"


def test_a_file_changed_since_it_was_scored_is_said_not_drawn(tmp_path):
    _prog, _bm, paths, session = _session(tmp_path)
    rows = session.sources[paths[0]].rows
    some = next(iter(rows))
    assert rows[some]
    Path(paths[0]).write_text("[]")
    try:
        rows[some]
    except Unusable as e:
        assert "changed since it was scored" in str(e) and e.hint
    else:
        raise AssertionError("a changed file was read as if scored")


def test_the_snapshot_builds_no_object_rows_until_a_view_asks(tmp_path):
    _prog, _bm, _paths, session = _session(tmp_path)
    snap = session.snapshot()
    assert snap.result is not None and not snap.result.objects_built
    assert snap.has_objects
    who = str(snap.frame["annotator"].iloc[0])
    snap.scores()
    snap.annotators()
    snap.detail(who)
    snap.confusion_counts()
    assert not snap.result.objects_built  # nothing unfiltered needs them
    assert len(snap.objects_of(who))
    assert snap.result.objects_built


def test_the_iou_column_is_the_sparkline_of_the_object_rows(tmp_path):
    _prog, _bm, _paths, session = _session(tmp_path, seed=7, n_items=20)
    for matching in ("optimal", "same", "seed"):
        session.rescore(session.with_matching(matching))
        snap = session.snapshot()
        o = snap.objects
        assert o is not None
        ok = o[o["outcome"].isin(MATCHED)]
        want = {str(a): sparkline(g.to_numpy(dtype=float)) for a, g in ok.groupby("annotator", sort=False)["iou"]}
        got = dict(zip(snap.frame["annotator"], snap.frame["iou_dist"]))
        assert want and all(want.get(a, "") == got[a] for a in got), matching
        assert any(got.values())


def test_the_combined_rows_are_the_projects_rows_end_to_end(tmp_path):
    from annotrain_tui.core.evaluation.engine import Evaluator

    _prog, bm, paths, _session_ = _session(tmp_path, seed=5, n_items=16)
    evaluator = Evaluator(json.loads(Path(bm).read_text()))
    for p in paths:
        evaluator.add(p, json.loads(Path(p).read_text()))
    result = evaluator.result()
    combined = result.objects
    one_by_one = pd.concat([p.objects for p in result.projects], ignore_index=True)
    pd.testing.assert_frame_equal(combined, one_by_one)
    assert all(p._objects is not None for p in result.projects)  # asked one by one: each keeps its own
    again = evaluator.result()  # the same sets, some frames kept already: joined by concat
    assert again is not result and not again.objects_built
    pd.testing.assert_frame_equal(again.objects, combined)
    assert combined["frame"].dtype == np.int64 and combined["iou"].dtype == combined["class_score"].dtype == np.float64
    assert all(combined[c].dtype == object for c in combined.columns if c not in ("frame", "iou", "class_score"))


def test_the_rows_are_built_once_whoever_asks(tmp_path):
    _prog, _bm, _paths, session = _session(tmp_path)
    snap = session.snapshot()
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(snap.objects)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(g) for g in got}) == 1


def test_a_class_filter_still_counts_on_the_rows(tmp_path):
    _prog, _bm, _paths, session = _session(tmp_path, seed=6, n_items=20)
    snap = session.snapshot()
    f = Filter(class_name="car")
    kept = snap.filtered_objects(f)
    assert snap.result is not None and snap.result.objects_built
    assert len(kept) and np.all([("car" in str(c).casefold()) or ("car" in str(b).casefold())
                                 for c, b in zip(kept["class"], kept["benchmark_class"])])


def test_narrowed_indices_and_scores_keep_their_values():
    from annotrain_tui.core.evaluation.engine import _narrow, _narrow_float

    for values, dtype in (([-1, 0, 127], np.int8), ([-1, 300], np.int16), ([0, 70_000], np.int32),
                          ([0, 2**40], np.int64)):
        got = _narrow(np.array(values, dtype=np.int64))
        assert got.dtype == dtype and got.tolist() == values
    assert _narrow(np.zeros(0, dtype=np.int64)).dtype == np.int64
    scores = np.array([0.0, 1.0, np.nan])
    assert _narrow_float(scores).dtype == np.float32
    assert np.array_equal(_narrow_float(scores).astype(np.float64), scores, equal_nan=True)
    exact = np.array([0.1, 1 / 3])
    assert _narrow_float(exact) is exact  # float32 would change them: kept as they are


def test_packed_texts_read_back_equal():
    from annotrain_tui.core.evaluation.engine import _Texts

    hashes = np.array(["a1B2c3D4", "é\u00a0x", "\ud800lone", "", "z" * 300], dtype=object)
    assert _Texts.of(hashes).values().tolist() == hashes.tolist()
    assert _Texts.of(np.empty(0, dtype=object)).values().tolist() == []
    odd = np.array(["a", None, 3], dtype=object)
    assert _Texts.of(odd).values() is odd  # not all strings: kept as they are


def test_a_file_session_keeps_totals_only_and_builds_the_rows_from_the_files(tmp_path):
    _prog, bm, paths, session = _session(tmp_path, seed=8, n_items=16)
    result = session.result
    assert result is not None and result.keep_objects and not result.objects_built
    # what stays after the load: each set's totals, no per-object rows nor what builds them
    assert all(p._build_objects is None and p._build_seed is None and p._objects is None for p in result.projects)
    assert [p.name for p in result.projects] == paths
    settings = session.with_iou(0.6)
    rescored = session.rescore(settings)  # the files read again
    seed = session.seed_rows()  # its own evaluation of the files
    fresh = EvaluationSession.of_files(str(bm), paths, settings)
    assert rescored.to_json() == fresh.load().to_json()
    pd.testing.assert_frame_equal(rescored.objects, fresh.result.objects)
    pd.testing.assert_frame_equal(seed, fresh.seed_rows())
    # the rows are the engine's own, as a session that kept them would give them
    from annotrain_tui.core.evaluation.engine import Evaluator

    kept = Evaluator(json.loads(Path(bm).read_text()), settings)
    for p, src in session.sources.items():
        kept.add(p, json.loads(Path(p).read_text()), annotator=src.annotator)
    pd.testing.assert_frame_equal(rescored.objects, kept.result().objects)


def test_rows_asked_after_a_file_changed_are_refused_not_mixed(tmp_path):
    _prog, _bm, paths, session = _session(tmp_path, seed=8, n_items=16)
    snap = session.snapshot()
    rows = json.loads(Path(paths[0]).read_text())
    Path(paths[0]).write_text(json.dumps(rows[:-1]))
    for ask in (lambda: snap.objects, session.seed_rows):
        try:
            ask()
        except Unusable as e:
            assert "changed since it was scored" in str(e) and "press r" in (e.hint or "")
        else:
            raise AssertionError("rows of a changed file were given for the scores of the old one")
    session.refresh()  # read again: the rows follow
    assert len(session.snapshot().objects)


def test_a_file_gone_since_it_was_scored_is_one_line_and_r_says_it_too(tmp_path):
    import os

    from annotrain_tui.core.errors import AnnotrainError

    _prog, _bm, paths, session = _session(tmp_path, seed=8, n_items=16)
    snap = session.snapshot()
    os.remove(paths[1])
    for ask in (lambda: snap.objects, session.seed_rows,
                lambda: snap.item_view(next(iter(session.sources[paths[1]].rows)), session.sources[paths[1]].annotator)):
        try:
            ask()
        except Unusable as e:
            assert "changed since it was scored (or is gone)" in str(e)
        else:
            raise AssertionError("rows were given for a file that is gone")
    settings = session.settings
    try:
        session.rescore(session.with_iou(0.6))  # a fresh read: the file's own line
    except AnnotrainError as e:
        assert "no such file" in str(e) and session.settings == settings  # the session as it was
    else:
        raise AssertionError("a rescore read a file that is gone")
    try:
        session.refresh()  # r: the file is gone, and the load says where
    except AnnotrainError as e:
        assert paths[1].rsplit("/", 1)[-1] in str(e) and not isinstance(e, Unusable)
    else:
        raise AssertionError("a refresh with a file gone did not say so")


def test_a_change_that_keeps_the_mtime_is_still_read_again_by_r(tmp_path):
    import os

    _prog, _bm, paths, session = _session(tmp_path, seed=8, n_items=16)
    before = os.stat(paths[0])
    rows = json.loads(Path(paths[0]).read_text())
    Path(paths[0]).write_text(json.dumps(rows[:-1]))
    os.utime(paths[0], ns=(before.st_atime_ns, before.st_mtime_ns))  # what cp -p and rsync -t do
    report = session.refresh()
    assert report.changed_projects == [paths[0]]
    assert len(session.sources[paths[0]].rows) == len(rows) - 1 and len(session.snapshot().objects)


def test_an_item_view_reads_the_benchmark_file_and_the_annotators_only(tmp_path, monkeypatch):
    prog = make_programme(seed=5, n_items=6, annotators=("a@x.com", "b@x.com", "c@x.com"))
    bm, paths = prog.write_files(tmp_path)
    session = EvaluationSession.of_files(str(bm), paths)
    session.load()
    snap = session.snapshot()
    last = session.sources[paths[-1]]
    some = next(iter(last.rows))
    assert snap.objects is not None  # built first: the item view reads rows, not the whole evaluation
    read: list[str] = []
    original = FileRows._read
    monkeypatch.setattr(FileRows, "_read", lambda self, wanted: read.append(self.path) or original(self, wanted))
    view = snap.item_view(some, last.annotator)
    assert view.shapes
    assert sorted(read) == sorted([str(bm), paths[-1]])  # not every training file before the annotator's
