"""What the evaluation screen keeps, kept smaller (issue 14: 310 MiB against the CLI's 81 at 1,000 × 10):
the file source's rows compressed, and the per-object rows built when a view asks, not with every
snapshot. These pin that nothing shown or exported changes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd

from annotrain_tui.core.evaluation.session import EvaluationSession, RawRows
from annotrain_tui.core.evaluation.views import MATCHED, Filter, sparkline
from tests.synth import make_mixed_programme, make_programme


def _session(tmp_path: Path, seed: int = 4, n_items: int = 12, **kw):
    prog = make_mixed_programme(seed=seed, n_items=n_items, annotators=("ann@x.com", "bob@x.com"))
    bm, paths = prog.write_files(tmp_path)
    session = EvaluationSession.of_files(str(bm), paths, **kw)
    session.load()
    return prog, bm, paths, session


def test_the_kept_rows_decode_to_exactly_the_rows_of_the_file(tmp_path):
    _prog, bm, paths, session = _session(tmp_path)
    for path, rows in [(str(bm), session.bench_rows), *((p, session.sources[p].rows) for p in paths)]:
        assert isinstance(rows, RawRows)
        in_file = {json.loads(bytes(r))["data_hash"]: bytes(r)
                   for r in msgspec.json.decode(Path(path).read_bytes(), type=list[msgspec.Raw])}
        assert set(rows) == set(in_file)
        for h, raw in in_file.items():
            assert rows.raw(h) == raw  # the very bytes of the file's row
            assert rows[h] == json.loads(raw) == rows.get(h)
            assert dict.__getitem__(rows, h) != raw  # what is kept is not the JSON itself
        assert [r["data_hash"] for r in rows.values()] == list(rows)
        assert rows.get("no such hash") is None


def test_the_kept_rows_are_a_fraction_of_the_json(tmp_path):
    prog = make_programme(seed=3, n_items=60, annotators=("a@x.com",))
    bm, paths = prog.write_files(tmp_path)
    session = EvaluationSession.of_files(str(bm), paths)
    session.load()
    rows = session.sources[paths[0]].rows
    assert isinstance(rows, RawRows)
    kept = sum(len(dict.__getitem__(rows, h)) for h in rows)
    json_bytes = sum(len(rows.raw(h)) for h in rows)
    assert kept * 3 < json_bytes


def test_a_row_put_or_copied_reads_back_the_same():
    rows = RawRows()
    first = {"data_hash": "d1", "data_title": "é.jpg", "data_units": {"d1": {"labels": {"objects": []}}}}
    rows["d1"] = first
    rows.put_raw("d2", json.dumps({"data_hash": "d2", "data_title": "b"}).encode())
    twin = rows.copy()
    assert isinstance(twin, RawRows)
    assert twin["d1"] == first and twin["d2"] == {"data_hash": "d2", "data_title": "b"}
    assert dict.__getitem__(twin, "d1") is dict.__getitem__(rows, "d1")  # the bytes are shared
    assert dict(twin.items()) == dict(rows.items())


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
    _prog, _bm, _paths, session = _session(tmp_path, seed=5, n_items=16)
    result = session.result
    assert result is not None
    combined = result.objects
    one_by_one = pd.concat([p.objects for p in result.projects], ignore_index=True)
    pd.testing.assert_frame_equal(combined, one_by_one)
    assert all(p._objects is not None for p in result.projects)  # asked one by one: each keeps its own
    again = session.compute_result()  # the same sets, some frames kept already: joined by concat
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


def test_a_rescore_keeps_the_benchmark_rows_compressed_and_scores_as_a_fresh_load(tmp_path):
    _prog, bm, paths, session = _session(tmp_path, seed=8, n_items=16)
    settings = session.with_iou(0.6)
    rescored = session.rescore(settings)
    assert isinstance(session.bench_rows, RawRows)
    fresh = EvaluationSession.of_files(str(bm), paths, settings)
    assert rescored.to_json() == fresh.load().to_json()
    pd.testing.assert_frame_equal(rescored.objects, fresh.result.objects)
    seed = session.seed_rows()  # its own evaluation, the rows read one at a time
    assert isinstance(session.bench_rows, RawRows)
    pd.testing.assert_frame_equal(seed, fresh.seed_rows())


def test_a_row_json_cannot_say_is_kept_as_it_is():
    from datetime import datetime

    rows = RawRows()
    odd = {"data_hash": "d", "when": datetime(2026, 1, 1)}
    rows["d"] = odd
    assert rows["d"] is odd and rows.get("d") is odd
