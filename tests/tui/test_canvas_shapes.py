"""Issue 15: every shape Encord has is drawn on the item canvas: points and skeleton keypoints as
markers (an invisible keypoint hollow), polylines as open lines, bitmasks by the outline of their
pixels (decoded with core.evaluation.similarity.decode_rle, downsampled to the dot grid)."""

from __future__ import annotations

import numpy as np
import pytest
from encord.common.bitmask_operations.bitmask_operations import serialise_bitmask
from textual.app import App, ComposeResult

from annotrain_tui.core.evaluation.shapes import DRAWABLE, Bitmask, Point, Polygon, Polyline, Skeleton
from annotrain_tui.tui.canvas.model import ANNOTATOR, BENCHMARK, CanvasShape
from annotrain_tui.tui.canvas.raster import rasterise
from annotrain_tui.tui.widgets.shape_canvas import ShapeCanvas

# 40×20 cells = 80×80 dots; a square image fills them: normalised u is dot column floor(80·u)
W, H = 40, 20


def draw(*shapes: CanvasShape, image_size=None):
    return rasterise(shapes, W, H, aspect=1.0, mark_unmatched=False, labels=False, image_size=image_size)


def on(raster) -> set[tuple[int, int]]:
    ys, xs = np.nonzero(raster.dots)
    return set(zip(xs.tolist(), ys.tolist()))


def test_every_shape_is_drawable():
    assert set(DRAWABLE) >= {Point, Polyline, Skeleton, Bitmask, Polygon}


def test_a_point_is_a_plus_for_the_benchmark_and_a_cross_for_the_annotator():
    r = draw(CanvasShape(BENCHMARK, "Nose", Point(0.5, 0.5)))
    assert on(r) == {(40, 40), (39, 40), (41, 40), (40, 39), (40, 41)}
    r = draw(CanvasShape(ANNOTATOR, "Nose", Point(0.5, 0.5)))
    assert on(r) == {(40, 40), (39, 39), (41, 39), (39, 41), (41, 41)}
    assert (r.owner >= 0).sum() > 0 and r.sides.max() == 2


def test_skeleton_keypoints_are_markers_and_an_invisible_one_is_hollow():
    sk = Skeleton(points=((0.25, 0.25), (0.75, 0.75)), visible=(True, False), names=("head", "tail"))
    dots = on(draw(CanvasShape(BENCHMARK, "Person", sk)))
    assert {(20, 20), (19, 20), (21, 20), (20, 19), (20, 21)} <= dots  # visible: the whole plus
    assert {(59, 60), (61, 60), (60, 59), (60, 61)} <= dots and (60, 60) not in dots  # invisible: no centre
    assert len(dots) == 9
    with pytest.raises(ValueError):
        Skeleton(points=((0.1, 0.1),), visible=())


def test_a_polyline_is_open_where_the_same_points_as_a_polygon_close():
    pts = [(0.1, 0.1), (0.1, 0.9), (0.9, 0.9), (0.9, 0.1)]
    line = on(draw(CanvasShape(BENCHMARK, "Lane", Polyline(pts))))
    ring = on(draw(CanvasShape(BENCHMARK, "Lane", Polygon(pts))))
    top = {(x, 8) for x in range(9, 72)}  # the edge from the last point back to the first, inside its ends
    assert top <= ring and not top & line
    assert line == ring - top  # the rest is the same lines
    assert (8, 40) in line and (40, 72) in line


def mask_rle(mask: np.ndarray) -> str:
    """The rleString the encord SDK writes for a mask (row-major bytes, its own encoder)."""
    return serialise_bitmask(mask.astype(np.uint8).ravel().tobytes())


def reference_outline(mask: np.ndarray, vw: int, vh: int) -> set[tuple[int, int]]:
    """The dots a mask's pixels fall in, then the filled dots with an empty 4-neighbour (plain loops)."""
    h, w = mask.shape
    filled = set()
    for r in range(h):
        for c in range(w):
            if mask[r, c]:
                filled.add((c * vw // w, r * vh // h))
    return {(x, y) for x, y in filled
            if any((x + dx, y + dy) not in filled for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)))}


def test_a_bitmask_is_drawn_by_the_outline_of_its_pixels_downsampled():
    mask = np.zeros((160, 160), dtype=bool)
    mask[20:60, 40:120] = True  # a rectangle
    yy, xx = np.ogrid[:160, :160]
    mask |= (yy - 115) ** 2 + (xx - 60) ** 2 < 30 ** 2  # and a disc
    g = Bitmask(top=0, left=0, height=160, width=160, rle=mask_rle(mask))
    dots = on(draw(CanvasShape(BENCHMARK, "Road", g), image_size=(160, 160)))
    assert dots == reference_outline(mask, 80, 80)
    assert (40, 20) not in dots  # the rectangle's inside is not filled
    # without the image's size the mask's own box is the image (as the SDK writes it)
    assert on(draw(CanvasShape(BENCHMARK, "Road", g))) == dots
    # the annotator's outline is dashed: a part of the same dots
    dashed = on(draw(CanvasShape(ANNOTATOR, "Road", g), image_size=(160, 160)))
    assert dashed < dots and len(dashed) > len(dots) // 2


def test_a_bitmask_is_placed_by_its_box_on_the_image():
    mask = np.ones((40, 40), dtype=bool)
    g = Bitmask(top=80, left=40, height=40, width=40, rle=mask_rle(mask))
    dots = on(draw(CanvasShape(BENCHMARK, "Spot", g), image_size=(160, 160)))
    xs, ys = zip(*dots)
    assert (min(xs), max(xs), min(ys), max(ys)) == (20, 39, 40, 59)


def test_a_bitmask_that_cannot_be_decoded_shows_its_box():
    g = Bitmask(top=0, left=0, height=80, width=80, rle="not an rle ~~~")
    dots = on(draw(CanvasShape(BENCHMARK, "Bad", g), image_size=(160, 160)))
    assert {(x, 0) for x in range(0, 41)} <= dots and (20, 20) not in dots  # the box's outline


class CanvasApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ShapeCanvas(id="canvas")


async def test_the_canvas_draws_every_shape_and_its_legend_counts_them():
    mask = np.zeros((72, 128), dtype=bool)
    mask[10:40, 10:60] = True
    shapes = [
        CanvasShape(BENCHMARK, "Nose", Point(0.8, 0.2), pair_id=1),
        CanvasShape(ANNOTATOR, "Nose", Point(0.81, 0.21), pair_id=1, label="0.97"),
        CanvasShape(BENCHMARK, "Lane", Polyline([(0.1, 0.9), (0.5, 0.6), (0.9, 0.9)])),
        CanvasShape(BENCHMARK, "Person", Skeleton(((0.3, 0.3), (0.35, 0.5)), (True, False))),
        CanvasShape(ANNOTATOR, "Puddle", Bitmask(0, 0, 72, 128, mask_rle(mask))),
    ]
    app = CanvasApp()
    async with app.run_test(size=(80, 24)) as pilot:
        canvas = app.query_one(ShapeCanvas)
        canvas.set_shapes(shapes, image_size=(128, 72), title="mixed.jpg")
        await pilot.pause()
        raster = canvas.raster()
        owners = set(np.unique(raster.owner).tolist())
        assert set(range(len(shapes))) <= owners  # every shape owns at least one cell
        text = "\n".join(canvas.render_line(y).text for y in range(canvas.size.height))
        for name in ("Nose 1/1", "Lane 1/0", "Person 1/0", "Puddle 0/1"):
            assert name in text
        assert "1" in "".join(ch for (_r, _c), (ch, _i) in raster.labels.items())  # the pair's number
