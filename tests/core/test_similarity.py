"""Points, skeletons, polylines and bitmasks: the vectorised similarities agree with the plain
per-pair references of tests/reference_similarity.py (issue 15's definitions) to 1e-9; bitmasks
are encoded by the encord SDK itself, so the format tested is Encord's."""

from __future__ import annotations

import math

import numpy as np
import pytest
from encord.common.bitmask_operations import _rle_to_string, _string_to_rle, serialise_bitmask
from encord.objects.bitmask import BitmaskCoordinates
from encord.objects.coordinates import SkeletonCoordinate, SkeletonCoordinates, Visibility

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation import similarity as sim
from annotrain_tui.core.evaluation.labels import keypoint_present
from annotrain_tui.core.evaluation.similarity import (
    Bitmask,
    MaskSet,
    bitmask_iou_pairs,
    decode_rle,
    mask_iou_indexed,
    oks_pairs,
    point_similarity_pairs,
    polyline_buffers,
    polyline_iou_pairs,
)
from tests.reference_similarity import (
    ref_bitmask_iou,
    ref_mask,
    ref_mask_iou,
    ref_oks,
    ref_point,
    ref_polyline_iou,
)

TOL = 1e-9


def _sizes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    w = rng.integers(1, 4000, n).astype(float)
    h = rng.integers(1, 4000, n).astype(float)
    w[::17] = np.nan  # absent size: counts 1
    h[5::23] = np.nan
    w[3::29] = 0.0  # no pixel count: counts 1 too
    return w, h


def _objects(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


# ---------------------------------------------------------------------------------------------
# points
# ---------------------------------------------------------------------------------------------

def test_point_similarity_agrees_with_the_reference_on_random_pairs():
    rng = np.random.default_rng(15)
    n = 3000
    t = rng.uniform(0, 1, (n, 2))
    b = t + rng.normal(0, rng.choice([0.001, 0.01, 0.05, 0.3], n)[:, None], (n, 2))
    b[::11] = t[::11]
    w, h = _sizes(rng, n)
    sigma = rng.choice([0.02, 0.05, 0.1], n)
    got = point_similarity_pairs(t[:, 0], t[:, 1], b[:, 0], b[:, 1], w, h, sigma)
    ref = np.array([ref_point(t[i], b[i], w[i], h[i], sigma[i]) for i in range(n)])
    assert np.abs(got - ref).max() < TOL
    assert np.all(got[::11] == 1.0)
    assert 0.05 < got.mean() < 0.95  # the sample spans near and far


def test_point_similarity_scalar_sigma_and_sizes_and_its_limits():
    got = point_similarity_pairs(np.array([0.5, 0.0, 0.5]), np.array([0.5, 0.0, 0.5]),
                                 np.array([0.5, 1.0, 0.51]), np.array([0.5, 1.0, 0.5]), 1000.0, 500.0)
    assert got[0] == 1.0
    assert got[1] < 1e-100  # opposite corners
    assert got[2] == pytest.approx(ref_point((0.5, 0.5), (0.51, 0.5), 1000, 500))
    # the definition, by hand: d = 10 px, A = 1000·500, σ = 0.05
    assert got[2] == pytest.approx(math.exp(-100 / (2 * 0.05**2 * 500_000)))


def test_point_similarity_is_finite_in_0_1_for_bad_input():
    nan, inf = math.nan, math.inf
    tx = np.array([nan, 0.5, inf, 0.5, 0.5, 1e308])
    got = point_similarity_pairs(tx, np.full(6, 0.5), np.full(6, 0.5), np.full(6, 0.5),
                                 np.array([100, 100, 100, 100, inf, 1e308]), 100.0,
                                 np.array([0.05, 0.0, 0.05, nan, 0.05, 0.05]))
    assert np.all(np.isfinite(got)) and np.all((got >= 0) & (got <= 1))
    assert got.tolist()[:4] == [0.0, 0.0, 0.0, 0.0]  # NaN/inf coordinate, σ 0, σ NaN
    assert got[4] == 1.0  # same point, an infinite width counts as 1


# ---------------------------------------------------------------------------------------------
# skeletons
# ---------------------------------------------------------------------------------------------

def _skeleton_batch(rng: np.random.Generator, n: int, k: int):
    b = rng.uniform(0.1, 0.9, (n, 1, 2)) + rng.normal(0, 0.08, (n, k, 2))
    t = b + rng.normal(0, rng.choice([0.002, 0.01, 0.05], n)[:, None, None], (n, k, 2))
    b_vis = rng.uniform(size=(n, k)) < 0.8  # invisible benchmark keypoints
    b_absent = rng.uniform(size=(n, k)) < 0.05  # keypoints of the template the benchmark lacks
    b[b_absent] = np.nan
    left_out = rng.uniform(size=(n, k)) < 0.1
    t[left_out] = np.nan
    b_vis[3::10] = False  # skeletons with no present keypoint at all
    b_vis[4::10] = False
    b_vis[4::10, 0] = True  # ... or exactly one (Aₒ = 1)
    t[7::10] = b[7::10]  # identical
    return t, b, b_vis


def _kps(xy: np.ndarray, vis: np.ndarray | None = None) -> dict:
    return {f"kp{j}": (xy[j, 0], xy[j, 1], True if vis is None else bool(vis[j]))
            for j in range(len(xy)) if not np.isnan(xy[j, 0])}


def test_oks_agrees_with_the_reference_on_random_skeletons():
    rng = np.random.default_rng(16)
    n, k = 2000, 17
    t, b, b_vis = _skeleton_batch(rng, n, k)
    w, h = _sizes(rng, n)
    got = oks_pairs(t[..., 0], t[..., 1], b[..., 0], b[..., 1], b_vis, w, h)
    ref = np.array([ref_oks(_kps(t[i]), _kps(b[i], b_vis[i]), w[i], h[i]) for i in range(n)])
    assert np.abs(got - ref).max() < TOL
    assert np.all(got[3::10] == 0.0)  # Σvᵢ = 0 scores 0
    assert np.all(np.isfinite(got)) and np.all((got >= 0) & (got <= 1))
    assert np.all(got[7::10] == 1.0)  # identical skeletons


def test_oks_per_pair_and_per_keypoint_sigma():
    rng = np.random.default_rng(17)
    n, k = 300, 5
    t, b, b_vis = _skeleton_batch(rng, n, k)
    sigma = rng.choice([0.025, 0.05, 0.1], n)
    got = oks_pairs(t[..., 0], t[..., 1], b[..., 0], b[..., 1], b_vis, 640.0, 480.0, sigma)
    ref = np.array([ref_oks(_kps(t[i]), _kps(b[i], b_vis[i]), 640, 480, sigma[i]) for i in range(n)])
    assert np.abs(got - ref).max() < TOL
    # a per-keypoint sigma equal in every column is the per-pair one
    full = oks_pairs(t[..., 0], t[..., 1], b[..., 0], b[..., 1], b_vis, 640.0, 480.0,
                     np.repeat(sigma[:, None], k, axis=1))
    assert np.array_equal(full, got)


def test_oks_left_out_and_invisible_keypoints_by_hand():
    bx = np.array([[0.2, 0.4, 0.6, 0.8]])
    by = np.array([[0.2, 0.4, 0.6, 0.8]])
    vis = np.array([[True, True, True, False]])  # the last one invisible: not counted
    tx = bx.copy()
    ty = by.copy()
    tx[0, 1] = np.nan  # the annotator left the second out: it counts 0
    tx[0, 3] = 0.0  # far off, but the benchmark's keypoint is invisible: it does not matter
    got = oks_pairs(tx, ty, bx, by, vis, 100.0, 100.0)
    assert got[0] == pytest.approx(2 / 3)
    assert got[0] == pytest.approx(ref_oks({"a": (0.2, 0.2, True), "c": (0.6, 0.6, True), "d": (0.0, 0.8, True)},
                                           {"a": (0.2, 0.2, True), "b": (0.4, 0.4, True), "c": (0.6, 0.6, True),
                                            "d": (0.8, 0.8, False)}, 100, 100))


def test_oks_area_is_the_present_keypoints_bounding_box_at_least_1():
    # present keypoints span 40 × 20 px: Aₒ = 800; one annotator keypoint off by 10 px
    bx, by = np.array([[0.1, 0.5]]), np.array([[0.1, 0.3]])
    tx, ty = np.array([[0.1, 0.6]]), np.array([[0.1, 0.3]])
    got = oks_pairs(tx, ty, bx, by, np.array([[True, True]]), 100.0, 100.0)
    assert got[0] == pytest.approx((1 + math.exp(-100 / (2 * 0.05**2 * 800))) / 2)
    one = oks_pairs(tx, ty, bx, by, np.array([[False, True]]), 100.0, 100.0)  # one present: Aₒ = 1
    assert one[0] == pytest.approx(math.exp(-100 / (2 * 0.05**2 * 1)))


def test_keypoint_presence_counts_every_sdk_visibility_but_invisible():
    # the reader's rule (labels.keypoint_present), on every SDK value
    assert {v.value: keypoint_present({"x": 0, "y": 0, "visibility": v.value}) for v in Visibility} == {
        "visible": True, "invisible": False, "occluded": True, "selfOccluded": True}
    assert keypoint_present({"x": 0, "y": 0}) is True
    # a skeleton as the SDK serialises it
    coords = SkeletonCoordinates(values=[
        SkeletonCoordinate(x=0.1, y=0.1, name="a", visibility=Visibility.INVISIBLE),
        SkeletonCoordinate(x=0.2, y=0.2, name="b", visibility=Visibility.OCCLUDED),
        SkeletonCoordinate(x=0.3, y=0.3, name="c"),
    ], name="s").to_dict()
    assert [keypoint_present(p) for p in coords.values()] == [False, True, True]
    # older rows: a true boolean key named after the state wins, as in the SDK's reader
    assert keypoint_present({"x": 0, "y": 0, "invisible": True, "visibility": "visible"}) is False
    assert keypoint_present({"x": 0, "y": 0, "occluded": True}) is True


# ---------------------------------------------------------------------------------------------
# polylines
# ---------------------------------------------------------------------------------------------

def _random_line(rng: np.random.Generator) -> np.ndarray:
    k = int(rng.integers(2, 9))
    start = rng.uniform(0, 1, 2)
    return start + np.cumsum(rng.normal(0, 0.05, (k, 2)), axis=0)


def test_polyline_iou_agrees_with_the_reference_on_random_pairs():
    rng = np.random.default_rng(18)
    n = 1500
    t_lines, b_lines = [], []
    for i in range(n):
        a = _random_line(rng)
        b = a + rng.normal(0, rng.choice([0.0005, 0.003, 0.02]), a.shape)
        kind = i % 10
        if kind == 1:  # repeated points
            a = np.repeat(a, rng.integers(1, 3, len(a)), axis=0)
        elif kind == 2:  # one vertex, against a line through it or a point
            a = a[:1]
            b = b[:1] if i % 20 == 2 else b
        elif kind == 3:  # all vertices equal: a point too
            a = np.repeat(a[:1], 4, axis=0)
        elif kind == 4:  # no vertex
            a = a[:0]
        elif kind == 5:
            b = a.copy()
        elif kind == 6:
            b = _random_line(rng)
        t_lines.append(a)
        b_lines.append(b)
    w, h = _sizes(rng, n)
    got = polyline_iou_pairs(_objects(t_lines), _objects(b_lines), w, h)
    ref = np.array([ref_polyline_iou(t_lines[i].tolist(), b_lines[i].tolist(), w[i], h[i]) for i in range(n)])
    assert np.abs(got - ref).max() < TOL
    assert np.all(got[4::10] == 0.0)
    assert np.allclose(got[5::10], 1.0, atol=1e-12)
    assert np.all(np.isfinite(got)) and np.all((got >= 0) & (got <= 1))


def test_polyline_iou_edge_cases():
    line = np.array([[0.1, 0.1], [0.5, 0.5], [0.9, 0.1]])
    far = np.array([[0.1, 0.9], [0.3, 0.95]])
    dot = np.array([[0.5, 0.5]])
    dup = np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    nan_line = np.array([[0.1, np.nan], [0.2, 0.2]])
    t = _objects([line, line, dot, dup, dot, nan_line, line])
    b = _objects([line.copy(), far, dot.copy(), dot, np.array([[0.505, 0.5]]), line, np.zeros((0, 2))])
    got = polyline_iou_pairs(t, b, 1000.0, 1000.0)
    assert got[0] == pytest.approx(1.0, abs=1e-12)
    assert got[1] == 0.0
    assert got[2] == pytest.approx(1.0, abs=1e-12)
    assert got[3] == pytest.approx(1.0, abs=1e-12)  # a line of one repeated vertex is the point
    # two discs of radius 10 px, centres 5 px apart
    assert got[4] == pytest.approx(ref_polyline_iou([(0.5, 0.5)], [(0.505, 0.5)], 1000, 1000), abs=TOL)
    assert 0.4 < got[4] < 0.6
    assert got[5] == 0.0 and got[6] == 0.0  # NaN vertex, no vertex


def test_polyline_buffers_are_round_and_sized_by_the_larger_side():
    g = polyline_buffers([np.array([[0.5, 0.5]]), np.zeros((0, 2))], 2000.0, 500.0)
    r = 0.01 * 2000
    assert g[1] is None
    assert g[0].area == pytest.approx(math.pi * r * r, rel=0.01)
    minx, miny, maxx, maxy = g[0].bounds
    assert (maxx - minx) == pytest.approx(2 * r) and (maxy - miny) == pytest.approx(2 * r)
    g2 = polyline_buffers([np.array([[0.5, 0.5]])], 2000.0, 500.0, radius_fraction=0.02)
    assert g2[0].area == pytest.approx(4 * g[0].area)


# ---------------------------------------------------------------------------------------------
# bitmasks
# ---------------------------------------------------------------------------------------------

def _random_mask(rng: np.random.Generator, h: int, w: int, kind: int) -> np.ndarray:
    m = np.zeros((h, w), dtype=bool)
    if kind == 0:
        m = rng.uniform(size=(h, w)) < rng.uniform(0.05, 0.95)
    elif kind == 1:
        m[:] = True
    elif kind == 2:
        pass  # empty
    elif kind == 3:  # touching the edges: first and last pixel, borders
        m[0, :] = True
        m[:, -1] = True
        m[-1, rng.integers(0, w):] = True
    elif kind == 4:  # a blob near the bottom right corner
        m[h // 2:, w // 2:] = rng.uniform(size=(h - h // 2, w - w // 2)) < 0.7
    else:  # rectangles
        for _ in range(int(rng.integers(1, 4))):
            r0, c0 = rng.integers(0, h), rng.integers(0, w)
            m[r0:r0 + rng.integers(1, h + 1), c0:c0 + rng.integers(1, w + 1)] = True
    return m


def _sdk_dict(m: np.ndarray, top: int = 0, left: int = 0) -> dict:
    d = BitmaskCoordinates(m).to_dict()  # the SDK's own encoder
    d["top"], d["left"] = top, left
    return d


def test_decode_rle_equals_the_sdk_decoder():
    rng = np.random.default_rng(19)
    for i in range(400):
        h, w = (37, 53) if i % 4 == 0 else (int(rng.integers(1, 70)), int(rng.integers(1, 70)))
        m = _random_mask(rng, h, w, i % 6)
        s = serialise_bitmask(m.tobytes())
        got = decode_rle(s, h * w)
        assert got.tolist() == _string_to_rle(s)
        assert got.dtype == np.int64 and int(got.sum()) == h * w
    big = np.zeros((720, 1280), dtype=bool)
    big[700:, 1279] = True
    s = serialise_bitmask(big.tobytes())
    assert decode_rle(s, big.size).tolist() == _string_to_rle(s)
    # large runs and negative differences (their encoding sets the sign bit)
    runs = [0, 5, 3_000_000, 2, 1, 7_000_000, 40]
    assert decode_rle(_rle_to_string(runs)).tolist() == runs


def test_decode_rle_rejects_what_is_not_an_rle_string():
    with pytest.raises(InvalidInput, match=r"^row 3, object ab: .*'p' at 1"):
        decode_rle("0p", where="row 3, object ab")
    with pytest.raises(InvalidInput, match="ends inside a value"):
        decode_rle("0P")  # 'P' = 48 + 32: more follows, nothing does
    with pytest.raises(InvalidInput, match="not ASCII"):
        decode_rle("0é")
    with pytest.raises(InvalidInput, match="covers 26 pixels, not height × width = 10"):
        decode_rle("1:?", 10)
    with pytest.raises(InvalidInput, match="negative run"):
        decode_rle(_rle_to_string([5, 3, 2, -1]))
    with pytest.raises(InvalidInput, match="longer than"):
        decode_rle("_" * 9 + "0")
    with pytest.raises(InvalidInput, match="not a string"):
        decode_rle(None)  # type: ignore[arg-type]
    assert decode_rle("", 0).size == 0
    with pytest.raises(InvalidInput):
        decode_rle("", 4)


def test_bitmask_from_dict_checks_its_fields():
    good = _sdk_dict(np.eye(4, dtype=bool))
    bm = Bitmask.from_dict(good, where="w")
    assert (bm.top, bm.left, bm.height, bm.width, bm.area) == (0, 0, 4, 4, 4)
    for key, value, why in [("height", 5, "covers 16 pixels"), ("width", "4", "not a whole number"),
                            ("top", -1, "outside"), ("left", True, "not a whole number"),
                            ("rleString", None, "is missing"), ("rleString", 3, "not a string")]:
        d = dict(good, **{key: value})
        with pytest.raises(InvalidInput, match=f"^row 1: .*{why}"):
            Bitmask.from_dict(d, where="row 1")
    with pytest.raises(InvalidInput, match="not an object"):
        Bitmask.from_dict([1, 2], where="row 1")


def test_bitmask_iou_agrees_with_the_reference_on_random_pairs():
    rng = np.random.default_rng(20)
    dicts: list[dict] = []
    for i in range(240):
        h, w = (37, 53) if i % 3 == 0 else (int(rng.integers(1, 60)), int(rng.integers(1, 60)))
        top, left = (0, 0) if i % 2 == 0 else (int(rng.integers(0, 9)), int(rng.integers(0, 9)))
        dicts.append(_sdk_dict(_random_mask(rng, h, w, i % 6), top, left))
    # pairs on the same 37×53 image (the common case), and pairs of any size and offset
    same_size = [i for i, d in enumerate(dicts) if (d["height"], d["width"], d["top"], d["left"]) == (37, 53, 0, 0)]
    ia = np.concatenate([rng.choice(same_size, 800), rng.integers(0, len(dicts), 1200)])
    ib = np.concatenate([rng.choice(same_size, 800), rng.integers(0, len(dicts), 1200)])
    ib[::9] = ia[::9]  # identical masks
    masks = [Bitmask.from_dict(d) for d in dicts]
    ms = MaskSet.pack(masks)
    got = mask_iou_indexed(ms, ia, ms, ib)
    ref = np.array([ref_bitmask_iou(dicts[a], dicts[b]) for a, b in zip(ia, ib)])
    assert np.abs(got - ref).max() < TOL
    same = ia[::9]
    assert np.all(got[::9][ms.area[same] > 0] == 1.0) and np.all(got[::9][ms.area[same] == 0] == 0.0)
    assert 0.1 < (got > 0).mean() < 0.95
    # the list form, and the reference's dense masks, agree as well
    pairs = bitmask_iou_pairs([masks[a] for a in ia[:800]], [masks[b] for b in ib[:800]])
    assert np.array_equal(pairs, got[:800])
    dense = np.array([ref_mask_iou(ref_mask(dicts[a]), ref_mask(dicts[b])) for a, b in zip(ia[:800], ib[:800])])
    assert np.abs(pairs - dense).max() < TOL


def test_bitmask_iou_on_a_full_hd_image_and_its_limits():
    rng = np.random.default_rng(21)
    h, w = 720, 1280
    base = np.zeros((h, w), dtype=bool)
    base[100:400, 200:900] = True
    shifted = np.roll(base, (30, -50), axis=(0, 1))
    noisy = base ^ (rng.uniform(size=(h, w)) < 0.01)
    full, empty = np.ones((h, w), dtype=bool), np.zeros((h, w), dtype=bool)
    far = np.zeros((h, w), dtype=bool)
    far[600:, 1000:] = True
    left = [base, base, base, full, empty, base, full]
    right = [shifted, noisy, far, full, empty, base, empty]
    got = bitmask_iou_pairs([Bitmask.from_dict(_sdk_dict(m)) for m in left],
                            [Bitmask.from_dict(_sdk_dict(m)) for m in right])
    ref = [ref_mask_iou(a, b) for a, b in zip(left, right)]
    assert np.abs(got - ref).max() < TOL
    assert got[2] == 0.0 and got[3] == 1.0 and got[4] == 0.0 and got[5] == 1.0 and got[6] == 0.0
    assert got[0] == pytest.approx((270 * 650) / (2 * 300 * 700 - 270 * 650))


def test_bitmask_iou_far_offsets_and_small_chunks_give_the_same_answer(monkeypatch):
    """Masks placed 2³¹ pixels apart take the ranked-row path; tiny chunks split the pairs."""
    rng = np.random.default_rng(22)
    far = 2**31 - 100
    dicts = [_sdk_dict(_random_mask(rng, 37, 53, i % 6), top=far if i % 2 else 0, left=far if i % 4 == 1 else 3)
             for i in range(40)]
    ia, ib = rng.integers(0, 40, 300), rng.integers(0, 40, 300)
    ms = MaskSet.pack([Bitmask.from_dict(d) for d in dicts])
    ref = np.array([ref_bitmask_iou(dicts[a], dicts[b]) for a, b in zip(ia, ib)])
    got = mask_iou_indexed(ms, ia, ms, ib)
    assert np.abs(got - ref).max() < TOL and (got > 0).any()
    monkeypatch.setattr(sim, "_CHUNK_SEGMENTS", 50)
    assert np.array_equal(mask_iou_indexed(ms, ia, ms, ib), got)


def test_empty_inputs_give_empty_results():
    empty = np.zeros((0, 17))
    assert point_similarity_pairs(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), 1.0, 1.0).shape == (0,)
    assert oks_pairs(empty, empty, empty, empty, empty.astype(bool), 1.0, 1.0).shape == (0,)
    assert polyline_iou_pairs(_objects([]), _objects([]), 1.0, 1.0).shape == (0,)
    assert bitmask_iou_pairs([], []).shape == (0,)


@pytest.mark.parametrize("value, said", [(float("inf"), "infinite"), (float("nan"), "NaN"),
                                         (10**500, "a whole number of 501 digits"), (1.5, "1.5"), ("3", "'3'")])
def test_a_bitmask_size_that_is_no_pixel_count_is_one_clear_error(value, said):
    from annotrain_tui.core.errors import InvalidInput
    from annotrain_tui.core.evaluation.similarity import Bitmask

    with pytest.raises(InvalidInput) as exc:
        Bitmask.from_dict({"top": 0, "left": 0, "height": value, "width": 4, "rleString": "0"}, where="row 3")
    assert str(exc.value).startswith(f"row 3: the bitmask's height is {said}") and len(str(exc.value)) < 200
