"""Matching: seed mode is the published script row for row; optimal mode is per-group LSA."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation import evaluate
from annotrain_tui.core.evaluation.matching import make_blocks, optimal_matches, seed_best
from annotrain_tui.core.exports import write_csv
from tests.labelgen import (
    DEFAULT_CLASSES,
    box,
    make_label_row,
    make_object,
    make_programme,
    optimal_reference,
    published_seed,
)

CAR, PERSON = DEFAULT_CLASSES[0], DEFAULT_CLASSES[1]
ALL_SHAPES = ("bounding_box", "rotatable_bounding_box", "polygon")


@pytest.fixture(scope="module")
def programme():
    return make_programme(seed=11, n_items=40, shapes=ALL_SHAPES, video_every=6, group_every=7, frames=3,
                          late_start=0.3, objects_per_item=(2, 9), p_no_created_by=0.05)


def _csv(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()


# --- seed --------------------------------------------------------------------------------------

def test_seed_mode_equals_the_published_loop_row_for_row(programme, tmp_path):
    for name, rows in programme.training.items():
        expected = published_seed(programme.benchmark, rows)
        result = evaluate(programme.benchmark, [(name, rows)], matching="seed")
        got = result.seed_rows()
        assert len(expected) > 20
        assert got.to_dict(orient="records") == expected  # exact floats, same order, None emails included
        # and the file is byte for byte what the script writes
        out = tmp_path / "iou_results.csv"
        write_csv(out, got)
        assert out.read_bytes() == _csv(pd.DataFrame(expected))


@pytest.mark.parametrize("shape", ["rotatable_bounding_box", "polygon", "point", "skeleton"])
def test_seed_mode_is_the_published_script_boxes_only_and_says_so(programme, shape):
    name, rows = next(iter(programme.training.items()))
    with pytest.raises(InvalidInput, match="published script, which compares bounding boxes on frame 0 only"):
        evaluate(programme.benchmark, [(name, rows)], matching="seed", shape=shape)


def _row(data_hash, objects, label_hash="L", title="img.jpg"):
    return make_label_row(data_hash=data_hash, data_title=title, label_hash=label_hash, objects=objects)


def test_seed_ties_go_to_the_first_benchmark_object_and_zero_overlap_matches_nothing():
    bm = _row("d1", [
        make_object(PERSON, box(0.25, 0.25, 0.25, 0.25), object_hash="b1", created_by="r"),
        make_object(CAR, box(0.25, 0.25, 0.25, 0.25), object_hash="b2", created_by="r"),  # same box, later
    ])
    tr = _row("d1", [
        make_object(CAR, box(0.25, 0.25, 0.25, 0.25), object_hash="t1", created_by="a@x"),  # tie: b1 wins
        make_object(CAR, box(0.7, 0.7, 0.1, 0.1), object_hash="t2", created_by="a@x"),  # overlaps nothing
    ])
    rows = evaluate([bm], [("p", [tr])], matching="seed").seed_rows().to_dict(orient="records")
    assert rows == published_seed([bm], [tr])
    assert [(r["iou_score"], r["class_score"]) for r in rows] == [(1.0, 0.0), (0.0, 0.0)]


def test_seed_is_many_to_one_but_optimal_is_one_to_one():
    bm = _row("d1", [make_object(CAR, box(0.1, 0.1, 0.4, 0.4), object_hash="b1", created_by="r")])
    tr = _row("d1", [
        make_object(CAR, box(0.1, 0.1, 0.4, 0.38), object_hash="t1", created_by="a@x"),
        make_object(CAR, box(0.1, 0.1, 0.4, 0.36), object_hash="t2", created_by="a@x"),
    ])
    seed = evaluate([bm], [("p", [tr])], matching="seed")
    assert seed.annotators["a@x"].matched == 2 and seed.annotators["a@x"].missed == 0
    opt = evaluate([bm], [("p", [tr])], matching="optimal")
    a = opt.annotators["a@x"]
    assert (a.matched, a.extra, a.missed) == (1, 1, 0)
    assert opt.objects.set_index("object_hash").loc["t1", "outcome"] == "matched"  # the better of the two


# --- optimal -----------------------------------------------------------------------------------

def test_optimal_mode_agrees_with_a_linear_sum_assignment_reference(programme):
    for threshold in (0.5, 0.3):
        for name, rows in programme.training.items():
            expected = optimal_reference(programme.benchmark, rows, threshold)
            result = evaluate(programme.benchmark, [(name, rows)], iou_threshold=threshold)
            df = result.objects
            m = df[df["outcome"].isin(["matched", "low_overlap"])]
            got = {(r.label_hash, r.frame, r.object_hash, r.benchmark_object_hash): r.iou for r in m.itertuples()}
            want = {k[:4]: k[4] for k in expected}
            assert got.keys() == want.keys()
            np.testing.assert_allclose([got[k] for k in want], list(want.values()), rtol=0, atol=1e-9)
            # the totals are consistent with the rows
            n_bm = sum(1 for _ in expected)
            assert sum(a.matched for a in result.annotators.values()) == n_bm


def test_optimal_beats_greedy_where_greedy_is_wrong():
    # t1 overlaps b1 and b2 equally; t2 overlaps only b1. Greedy t1→b1 strands t2; optimal matches both.
    bm = _row("d1", [make_object(CAR, box(0.0, 0.0, 0.4, 0.4), object_hash="b1", created_by="r"),
                     make_object(CAR, box(0.12, 0.0, 0.4, 0.4), object_hash="b2", created_by="r")])
    tr = _row("d1", [make_object(CAR, box(0.06, 0.0, 0.4, 0.4), object_hash="t1", created_by="a@x"),
                     make_object(CAR, box(-0.04, 0.0, 0.4, 0.4), object_hash="t2", created_by="a@x")])
    res = evaluate([bm], [("p", [tr])])
    pairs = dict(zip(res.objects["object_hash"], res.objects["benchmark_object_hash"]))
    assert pairs == {"t1": "b2", "t2": "b1"}
    assert res.annotators["a@x"].matched == 2


def _random_blocks(seed: int, n_t: int, n_b: int, n_groups: int, levels: int | None = None, max_cells: int = 64):
    """Sorted random keys (shape code 0, one frame), blocks, and IoU filled from a random (t, b) table."""
    rng = np.random.default_rng(seed)
    t_key = np.sort(rng.integers(0, n_groups, n_t)) * 3  # pair = key // 3, shape 0, n_frames 1
    b_key = np.sort(rng.integers(0, n_groups, n_b)) * 3
    table = rng.uniform(0, 1, (n_t, n_b))
    if levels:
        table = np.floor(table * levels) / levels  # many ties and zeros
    blocks = make_blocks(t_key, b_key, 1, max_cells=max_cells)
    for blk in blocks:
        valid = blk.valid(n_t, n_b)
        iou = np.zeros(valid.shape)
        g, r, c = np.nonzero(valid)
        iou[g, r, c] = table[blk.t[g, r], blk.b[g, c]]
        blk.iou = iou
    return t_key, b_key, table, blocks


def test_blocks_hold_every_group_once_with_padding_sentinels():
    t_key, b_key, _, blocks = _random_blocks(3, 60, 45, 12, max_cells=40)
    assert len(blocks) > 1
    seen = {}
    for blk in blocks:
        for i in range(blk.t.shape[0]):
            ts = blk.t[i][blk.t[i] < 60].tolist()
            bs = blk.b[i][blk.b[i] < 45].tolist()
            assert len(ts) == blk.nt[i] and len(bs) == blk.nb[i]
            assert (blk.t[i][len(ts):] == 60).all() and (blk.b[i][len(bs):] == 45).all()
            key = int(t_key[ts[0]])
            assert key not in seen
            seen[key] = (ts, bs)
    both = set(t_key.tolist()) & set(b_key.tolist())
    assert set(seen) == both
    for key, (ts, bs) in seen.items():
        assert ts == np.flatnonzero(t_key == key).tolist() and bs == np.flatnonzero(b_key == key).tolist()
    assert make_blocks(t_key, np.empty(0, np.int64), 1) == []


def test_seed_best_equals_the_strict_scan_with_ties():
    t_key, b_key, table, blocks = _random_blocks(5, 80, 50, 8, levels=4)
    best_b, best_iou = seed_best(blocks, len(t_key))
    for i in range(len(t_key)):
        best, who = 0.0, -1
        for j in np.flatnonzero(b_key == t_key[i]):  # benchmark order within the group
            if table[i, j] > best:
                best, who = table[i, j], j
        assert (best_b[i], best_iou[i]) == (who, best)


def test_optimal_matches_equal_per_group_lsa_on_dense_conflicts():
    t_key, b_key, table, blocks = _random_blocks(9, 300, 260, 30, max_cells=200)
    table = np.round(table, 3)
    for blk in blocks:
        blk.iou = np.round(blk.iou, 3)
    match_b, match_iou, solved = optimal_matches(blocks, len(t_key), 0.5)
    assert solved > 0
    for key in np.unique(t_key):
        ts, bs = np.flatnonzero(t_key == key), np.flatnonzero(b_key == key)
        if len(bs) == 0:
            assert (match_b[ts] == -1).all()
            continue
        m = table[np.ix_(ts, bs)]
        m = np.where(m >= 0.5, m, 0.0)
        r, c = linear_sum_assignment(m, maximize=True)
        want = {int(ts[i]): int(bs[j]) for i, j in zip(r, c) if m[i, j] > 0}
        got = {int(i): int(match_b[i]) for i in ts if match_b[i] >= 0}
        assert got == want  # the same matrix as the reference, so the same pairs, ties included
        assert all(match_iou[i] == table[i, j] for i, j in got.items())
    used = match_b[match_b >= 0]
    assert len(used) == len(set(used.tolist()))  # one-to-one
    assert (match_iou[match_b >= 0] >= 0.5).all() and np.isnan(match_iou[match_b < 0]).all()


def test_optimal_needs_no_search_when_pairs_are_isolated():
    t_key = np.array([0, 0, 3])
    b_key = np.array([0, 0, 3])
    blocks = make_blocks(t_key, b_key, 1)
    table = np.array([[0.9, 0.1, 0], [0.2, 0.8, 0], [0, 0, 0.7]])
    for blk in blocks:
        valid = blk.valid(3, 3)
        blk.iou = np.zeros(valid.shape)
        g, r, c = np.nonzero(valid)
        blk.iou[g, r, c] = table[blk.t[g, r], blk.b[g, c]]
    match_b, match_iou, solved = optimal_matches(blocks, 3, 0.5)
    assert solved == 0
    assert match_b.tolist() == [0, 1, 2] and match_iou.tolist() == [0.9, 0.8, 0.7]
    with pytest.raises(ValueError):
        optimal_matches(blocks, 3, 0.0)


def _one_group(table: np.ndarray):
    n_t, n_b = table.shape
    blocks = make_blocks(np.zeros(n_t, dtype=np.int64), np.zeros(n_b, dtype=np.int64), 1)
    for blk in blocks:
        valid = blk.valid(n_t, n_b)
        blk.iou = np.zeros(valid.shape)
        g, r, c = np.nonzero(valid)
        blk.iou[g, r, c] = table[blk.t[g, r], blk.b[g, c]]
    return blocks


@pytest.mark.parametrize(("table", "searched"), [
    # conflicts (object 0 has two candidates), but every best is unique and unshared: no search
    (np.array([[0.9, 0.6, 0.0], [0.0, 0.8, 0.0], [0.0, 0.55, 0.7]]), 0),
    # object 0's two candidates tie: the answer is linear_sum_assignment's, so it must be asked
    (np.array([[0.7, 0.7], [0.0, 0.6]]), 1),
    # two objects share their best: greedy would be wrong, the search finds 0.85 + 0.8
    (np.array([[0.9, 0.8], [0.85, 0.0]]), 1),
])
def test_unique_bests_are_taken_without_search_and_anything_else_is_searched(table, searched):
    match_b, match_iou, solved = optimal_matches(_one_group(table), table.shape[0], 0.5)
    assert solved == searched
    m = np.where(table >= 0.5, table, 0.0)
    r, c = linear_sum_assignment(m, maximize=True)
    want = {int(i): int(j) for i, j in zip(r, c) if m[i, j] > 0}
    assert {i: int(j) for i, j in enumerate(match_b.tolist()) if j >= 0} == want
