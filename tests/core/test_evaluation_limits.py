"""Shapes no one draws cannot make an evaluation run for minutes or take all memory (a trial's
zig-zag polyline of 20,000 vertices took 16 GB; 100,000 keypoints took 52 s). Both readers (the
dict path and the typed fast path) apply the same limits."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation import evaluate
from annotrain_tui.core.evaluation.fastread import load_table
from annotrain_tui.core.evaluation.parse import parse_label_rows
from annotrain_tui.core.evaluation.similarity import MAX_POLYLINE_VERTICES, polyline_buffers


def _row(objects, status="COMPLETED"):
    return {"data_hash": "d", "data_type": "image", "label_hash": "L", "annotation_task_status": status,
            "data_units": {"d": {"data_sequence": 0, "width": 1280, "height": 720, "labels": {"objects": objects}}}}


def _line(n, h="p", by="a@x", amplitude=0.01):
    x = np.linspace(0.1, 0.9, n)
    y = np.where(np.arange(n) % 2 == 0, 0.2, 0.2 + amplitude)
    return {"objectHash": h, "featureHash": "f", "shape": "polyline", "name": "Lane", "createdBy": by,
            "polyline": {str(i): {"x": float(a), "y": float(b)} for i, (a, b) in enumerate(zip(x, y))}}


def _both(rows):
    """The table from the dict path and from the fast path (which must agree)."""
    data = json.dumps(rows).encode()
    return parse_label_rows(rows, source="f.json"), load_table(data, source="f.json").table


def test_a_line_over_the_limit_overlaps_nothing_and_is_said_by_both_readers():
    slow, fast = _both([_row([_line(MAX_POLYLINE_VERTICES + 1)])])
    for t in (slow, fast):
        assert len(t.geom[0]) == 0
        assert any(f"more than {MAX_POLYLINE_VERTICES:,} vertices overlap nothing" in w for w in t.warnings)
    bench = [_row([{**_line(2, h="q", by="g"), "polyline": {"0": {"x": 0.1, "y": 0.2}, "1": {"x": 0.9, "y": 0.2}}}])]
    start = time.perf_counter()
    r = evaluate(bench, [("t", [_row([_line(MAX_POLYLINE_VERTICES + 1)])])])
    assert r.annotators["a@x"].matched == 0 and r.annotators["a@x"].extra == 1
    assert time.perf_counter() - start < 30  # not minutes (the work is bounded; this is a loose sanity bound)


def test_a_long_zig_zag_is_buffered_as_its_segments_union_the_same_set():
    n = 2000
    x = np.linspace(0.1, 0.9, n)
    y = np.where(np.arange(n) % 2 == 0, 0.2, 0.21)
    lines = np.empty(1, dtype=object)
    lines[0] = np.c_[x, y]
    segmented = polyline_buffers(lines, 1280, 720)[0]
    import shapely

    direct = shapely.buffer(shapely.LineString(np.c_[x * 1280, y * 720]), 12.8, quad_segs=16)
    assert abs(segmented.area - direct.area) / direct.area < 1e-3
    assert shapely.symmetric_difference(segmented, direct).area / direct.area < 2e-3


def test_a_skeleton_of_a_hundred_thousand_keypoints_is_one_clear_error_at_once():
    sk = {"objectHash": "s", "featureHash": "g", "shape": "skeleton", "createdBy": "a@x",
          "skeleton": {str(i): {"x": 0.1, "y": 0.1, "featureHash": f"k{i}"} for i in range(100_000)}}
    start = time.perf_counter()
    with pytest.raises(InvalidInput, match="skeleton has 100,000 keypoints; a skeleton template holds at most 1,000"):
        parse_label_rows([_row([sk])], source="f.json")
    with pytest.raises(InvalidInput, match="skeleton has 100,000 keypoints"):
        load_table(json.dumps([_row([sk])]).encode(), source="f.json")
    assert time.perf_counter() - start < 10  # it took 52 s: the duplicate check was quadratic


def test_many_skeletons_naming_too_many_keypoint_kinds_are_refused():
    sks = [{"objectHash": f"s{j}", "featureHash": "g", "shape": "skeleton", "createdBy": "a@x",
            "skeleton": {str(i): {"x": 0.1, "y": 0.1, "featureHash": f"k{j}-{i}"} for i in range(900)}}
           for j in range(12)]
    with pytest.raises(InvalidInput, match="name more than 10,000 different keypoints"):
        parse_label_rows([_row(sks)], source="f.json")


def test_a_self_crossing_polygon_is_repaired_and_said_by_both_readers():
    bowtie = {"objectHash": "b", "featureHash": "f", "shape": "polygon", "name": "Road", "createdBy": "a@x",
              "polygons": [[[0.1, 0.1, 0.5, 0.5, 0.5, 0.1, 0.1, 0.5]]]}
    for t in _both([_row([bowtie])]):
        assert t.geom[0].is_valid and t.geom[0].area > 0
        assert any("1 polygon(s) cross themselves: repaired (shapely make_valid)" in w for w in t.warnings)
