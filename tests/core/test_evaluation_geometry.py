"""IoU: boxes bit-identical to the published formula, polygons equal to shapely, rotated boxes right."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from annotrain_tui.core.evaluation.geometry import (
    box_iou_matrix,
    box_iou_pairs,
    polygon_iou_pairs,
    rotated_box_polygons,
    rotated_iou_pairs,
)
from tests.labelgen import BBox, calculate_iou


def test_box_iou_is_bit_identical_to_the_published_formula():
    rng = np.random.default_rng(1)
    n = 4000
    a = rng.uniform(0, 1, (n, 4)) * [1, 1, 0.4, 0.4]
    b = a + rng.normal(0, 0.08, (n, 4))
    b[:, 2:] = np.abs(b[:, 2:])
    b[::7] = a[::7]  # identical boxes
    b[1::7, 0] = a[1::7, 0] + a[1::7, 2]  # touching edges
    b[2::7, 2:] = 0.0  # zero area
    got = box_iou_pairs(*a.T, *b.T)
    want = [calculate_iou(BBox(*x), BBox(*y)) for x, y in zip(a.tolist(), b.tolist())]
    assert got.tolist() == want  # exact, not approx: ties break the same way as the script


def test_box_iou_matrix_broadcasts():
    a = np.array([[0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]])
    b = np.array([[0.0, 0.0, 0.5, 0.5], [0.25, 0.0, 0.5, 0.5], [0.9, 0.9, 0.1, 0.1]])
    m = box_iou_matrix(a, b)
    assert m.shape == (2, 3)
    assert m[0].tolist() == [1.0, pytest.approx(1 / 3), 0.0]
    assert m[1].tolist() == [0.0, 0.0, pytest.approx(0.01 / 0.25)]


def _random_polygon(rng, cx, cy, r, n):
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(0.3, 1.0, n) * r
    return shapely.Polygon(np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))


def test_polygon_iou_agrees_with_shapely():
    rng = np.random.default_rng(2)
    ga, gb = [], []
    for i in range(300):
        a = _random_polygon(rng, 0.5, 0.5, 0.3, int(rng.integers(3, 12)))
        b = _random_polygon(rng, 0.5 + rng.normal(0, 0.1), 0.5 + rng.normal(0, 0.1), 0.3, int(rng.integers(3, 12)))
        if i % 10 == 0:  # with a hole
            a = shapely.Polygon(a.exterior.coords, [shapely.box(0.45, 0.45, 0.55, 0.55).exterior.coords])
        if i % 10 == 1:  # a multipolygon
            b = shapely.MultiPolygon([b, shapely.box(0.0, 0.0, 0.1, 0.1)])
        if i % 10 == 2:  # far apart
            b = shapely.affinity.translate(b, 5, 5)
        ga.append(shapely.make_valid(a))
        gb.append(shapely.make_valid(b))
    got = polygon_iou_pairs(np.array(ga, dtype=object), np.array(gb, dtype=object))
    want = [a.intersection(b).area / a.union(b).area for a, b in zip(ga, gb)]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert (got[2::10] == 0).all() and (got > 0).sum() > 200


def test_polygon_iou_of_empty_geometry_is_zero():
    got = polygon_iou_pairs(np.array([shapely.Polygon(), shapely.box(0, 0, 1, 1)], dtype=object),
                            np.array([shapely.box(0, 0, 1, 1), shapely.Polygon()], dtype=object))
    assert got.tolist() == [0.0, 0.0]


def test_rotated_at_zero_degrees_is_the_axis_aligned_iou():
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 1, (200, 4)) * [1, 1, 0.4, 0.4]
    b = a + rng.normal(0, 0.05, (200, 4))
    b[:, 2:] = np.abs(b[:, 2:])
    zero = np.zeros(200)
    got = rotated_iou_pairs(*a.T, zero, *b.T, zero, 640.0, 480.0)
    np.testing.assert_allclose(got, box_iou_pairs(*a.T, *b.T), rtol=0, atol=1e-12)


def test_square_against_itself_turned_45_degrees():
    # unit square ∩ the same square turned 45° = a regular octagon of area 2(√2 − 1)
    inter = 2 * (math.sqrt(2) - 1)
    want = inter / (2 - inter)
    got = rotated_iou_pairs([0.25], [0.25], [0.5], [0.5], [0.0], [0.25], [0.25], [0.5], [0.5], [45.0], 1.0, 1.0)
    assert got[0] == pytest.approx(want, abs=1e-12)
    assert rotated_iou_pairs([0.25], [0.25], [0.5], [0.5], [90.0], [0.25], [0.25], [0.5], [0.5], [0.0])[0] == \
        pytest.approx(1.0)


def test_rotation_happens_in_pixel_space_not_normalised_space():
    # 0.25 × 0.5 of a 200 × 100 image is a 50 × 50 px square: turning it 90° changes nothing.
    got = rotated_iou_pairs([0.2], [0.2], [0.25], [0.5], [90.0], [0.2], [0.2], [0.25], [0.5], [0.0], 200.0, 100.0)
    assert got[0] == pytest.approx(1.0)
    # In normalised space it would be a 0.25 × 0.5 rectangle turned upright: IoU 1/3.
    flat = rotated_iou_pairs([0.2], [0.2], [0.25], [0.5], [90.0], [0.2], [0.2], [0.25], [0.5], [0.0], 1.0, 1.0)
    assert flat[0] == pytest.approx(1 / 3)
    # unknown image size (NaN) falls back to the normalised square
    nan = rotated_iou_pairs([0.2], [0.2], [0.25], [0.5], [90.0], [0.2], [0.2], [0.25], [0.5], [0.0],
                            np.array([np.nan]), np.array([np.nan]))
    assert nan[0] == pytest.approx(1 / 3)


def test_theta_turns_clockwise_on_screen():
    # y grows downwards on screen: turning +90° clockwise takes the right-hand edge's midpoint down.
    (poly,) = rotated_box_polygons(np.array([0.0]), np.array([0.4]), np.array([1.0]), np.array([0.2]),
                                   np.array([90.0]))
    coords = np.asarray(poly.exterior.coords)[:4]
    # corners are (−hw, −hh), (hw, −hh), (hw, hh), (−hw, hh) about the centre (0.5, 0.5), hw 0.5, hh 0.1
    np.testing.assert_allclose(coords, [[0.6, 0.0], [0.6, 1.0], [0.4, 1.0], [0.4, 0.0]], atol=1e-12)


def test_rotated_iou_agrees_with_shapely_on_random_boxes():
    rng = np.random.default_rng(4)
    n = 300
    a = np.column_stack([rng.uniform(0, 0.7, n), rng.uniform(0, 0.7, n), rng.uniform(0.05, 0.3, (n, 2)),
                         rng.uniform(0, 360, n)])
    b = a + np.column_stack([rng.normal(0, 0.03, (n, 4)), rng.normal(0, 20, n)])
    b[:, 2:4] = np.abs(b[:, 2:4])
    got = rotated_iou_pairs(*a.T, *b.T, 1280.0, 720.0)

    def poly(x, y, w, h, t):
        cx, cy, hw, hh = (x + w / 2) * 1280, (y + h / 2) * 720, w * 1280 / 2, h * 720 / 2
        r = math.radians(t)
        return shapely.Polygon([(cx + dx * math.cos(r) - dy * math.sin(r), cy + dx * math.sin(r) + dy * math.cos(r))
                                for dx, dy in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh))])

    want = []
    for p, q in zip(a.tolist(), b.tolist()):
        pa, pb = poly(*p), poly(*q)
        want.append(pa.intersection(pb).area / pa.union(pb).area)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    assert (got > 0.3).sum() > 100
