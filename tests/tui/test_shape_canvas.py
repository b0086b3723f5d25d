"""ShapeCanvas: the braille rasteriser (pure) and the widget (Pilot)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.evaluation.labels import Skipped, geometry_of
from annotrain_tui.core.evaluation.shapes import Point
from annotrain_tui.core.evaluation.views import ItemShape
from annotrain_tui.tui.widgets.shape_canvas import (
    ANNOTATOR,
    BENCHMARK,
    LINK,
    PALETTE,
    Box,
    CanvasShape,
    Polygon,
    RotatedBox,
    ShapeCanvas,
    canvas_shapes,
    clean,
    palette_colour,
    rasterise,
    resolve_colours,
    summarise,
)


def bench(geometry, cls="Car", **kw) -> CanvasShape:
    return CanvasShape(BENCHMARK, cls, geometry, **kw)


def annot(geometry, cls="Car", **kw) -> CanvasShape:
    return CanvasShape(ANNOTATOR, cls, geometry, **kw)


def braille(*dots: tuple[int, int]) -> str:
    """The braille character with the given (row 0..3, column 0..1) dots set."""
    weights = {(0, 0): 0x01, (1, 0): 0x02, (2, 0): 0x04, (0, 1): 0x08, (1, 1): 0x10, (2, 1): 0x20,
               (3, 0): 0x40, (3, 1): 0x80}
    return chr(0x2800 + sum(weights[d] for d in dots))


# --- the rasteriser ---------------------------------------------------------------------------------

def test_box_outline_exact_dots_and_cells():
    # 20×10 cells = 40×40 dots; a square image fills it: u maps to dot floor(40·u)
    r = rasterise([bench(Box(0.25, 0.25, 0.5, 0.5))], 20, 10, aspect=1.0, labels=False)
    assert r.viewport == (0, 0, 40, 40)
    ys, xs = np.nonzero(r.dots)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (10, 30, 10, 30)
    expected = np.zeros((40, 40), dtype=bool)
    expected[10, 10:31] = expected[30, 10:31] = True
    expected[10:31, 10] = expected[10:31, 30] = True
    assert np.array_equal(r.dots, expected)
    lines = r.lines()
    # dot row 10 is row 2 of cell row 2; dot column 10 is the left column of cell 5, 30 that of cell 15
    assert lines[2][5] == braille((2, 0), (2, 1), (3, 0)) == "⡤"  # top-left corner
    assert lines[2][6:15] == braille((2, 0), (2, 1)) * 9  # top edge
    assert lines[2][15] == braille((2, 0), (3, 0)) == "⡄"  # top-right corner
    assert all(lines[row][5] == lines[row][15] == "⡇" for row in range(3, 7))  # left and right edges
    assert lines[7][5] == braille((0, 0), (1, 0), (2, 0), (2, 1)) == "⠧"  # bottom-left corner
    assert lines[7][15] == braille((0, 0), (1, 0), (2, 0)) == "⠇"  # bottom-right corner
    assert lines[0].strip() == lines[9].strip() == ""


def test_full_image_box_sits_on_the_last_dot_not_outside():
    r = rasterise([bench(Box(0, 0, 1, 1))], 20, 10, aspect=1.0, labels=False)
    assert r.dots[0, :].all() and r.dots[39, :].all() and r.dots[:, 0].all() and r.dots[:, 39].all()
    assert r.dots.sum() == 4 * 39


def test_shapes_outside_the_image_are_clipped_not_clamped():
    r = rasterise([bench(Box(-0.5, 0.25, 1.0, 0.5))], 20, 10, aspect=1.0, labels=False)
    ys, xs = np.nonzero(r.dots)
    assert xs.min() == 0 and xs.max() == 20  # the right edge at u = 0.5; nothing drawn at the left border
    assert not r.dots[11:30, 0].any()


@pytest.mark.parametrize("aspect", [1.0, 2.0, 16 / 9])
def test_rotated_box_at_90_degrees_is_the_swapped_box(aspect):
    # pixel space: w·aspect × h turned 90° about the centre = h × w·aspect, same centre
    x, y, w, h = 0.45, 0.3, 0.1, 0.4
    cx, cy = x + w / 2, y + h / 2
    w2, h2 = h / aspect, w * aspect
    swapped = Box(cx - w2 / 2, cy - h2 / 2, w2, h2)
    for theta in (90.0, -90.0, 270.0):
        turned = rasterise([bench(RotatedBox(x, y, w, h, theta))], 40, 10, aspect=aspect, labels=False)
        plain = rasterise([bench(swapped)], 40, 10, aspect=aspect, labels=False)
        assert turned.dots.any()
        assert np.array_equal(turned.dots, plain.dots), theta
    unturned = rasterise([bench(RotatedBox(x, y, w, h, 0.0))], 40, 10, aspect=aspect, labels=False)
    assert np.array_equal(unturned.dots, rasterise([bench(Box(x, y, w, h))], 40, 10, aspect=aspect,
                                                   labels=False).dots)
    assert not np.array_equal(unturned.dots, plain.dots)


def test_rotation_is_clockwise_on_screen():
    # encord: theta in degrees, clockwise in screen space (y down): a wide bar's right end goes down
    r = rasterise([bench(RotatedBox(0.2, 0.48, 0.6, 0.04, 20.0))], 40, 20, aspect=1.0, labels=False)
    ys, xs = np.nonzero(r.dots)
    assert ys[xs == xs.max()].mean() > ys[xs == xs.min()].mean() + 10


def test_polygon_outline_passes_through_its_vertices():
    pts = [(0.1, 0.1), (0.8, 0.2), (0.6, 0.9), (0.15, 0.7)]
    r = rasterise([bench(Polygon(pts))], 30, 15, aspect=1.0, labels=False)
    ox, oy, vw, vh = r.viewport
    assert (vw, vh) == (60, 60)
    for u, v in pts:
        assert r.dot(int(np.floor(ox + u * vw)), int(np.floor(oy + v * vh))), (u, v)
    # and along an edge: the midpoint of the first edge
    assert r.dot(int(ox + 0.45 * vw), int(oy + 0.15 * vh))
    # nothing inside (outlines only)
    assert not r.dot(int(ox + 0.4 * vw), int(oy + 0.5 * vh))


def test_polygon_extra_rings_are_drawn():
    outer = [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)]
    hole = [(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)]
    r = rasterise([bench(Polygon(outer, (hole,)))], 20, 10, aspect=1.0, labels=False)
    assert r.dot(16, 16) and r.dot(24, 20)  # 0.4·40, 0.6·40


def test_aspect_ratio_letterboxes_and_keeps_proportions():
    # 40×10 cells = 80×40 dots, physically 2:1; a 16:9 image is limited by height
    r = rasterise([bench(Box(0, 0, 1, 1))], 40, 10, aspect=16 / 9, labels=False)
    ox, oy, vw, vh = r.viewport
    assert (oy, vh) == (0, 40) and vw == round(40 * 16 / 9) and ox == (80 - vw) // 2
    ys, xs = np.nonzero(r.dots)
    assert (xs.min(), xs.max()) == (ox, ox + vw - 1)
    assert not r.dots[:, :ox].any() and not r.dots[:, ox + vw:].any()
    cells = r.cells()
    assert not cells[5][0].inside and cells[5][20].inside and not cells[5][39].inside
    # a tall image (1:2) leaves bands left and right; a wide one (4:1) above and below
    tall = rasterise([], 40, 10, aspect=0.5)
    assert tall.viewport == (30, 0, 20, 40)
    wide = rasterise([], 40, 10, aspect=4.0)
    assert wide.viewport == (0, 10, 80, 20)
    # a square box on a square image is square on screen (braille dots are square at 1:2 cells)
    sq = rasterise([bench(Box(0.25, 0.25, 0.5, 0.5))], 40, 10, aspect=1.0, labels=False)
    ys, xs = np.nonzero(sq.dots)
    assert xs.max() - xs.min() == ys.max() - ys.min()
    # square terminal cells make dots twice as wide as tall: a square image is 20 × 40 dots
    assert rasterise([], 40, 10, aspect=1.0, cell_aspect=1.0).viewport == (30, 0, 20, 40)


def test_bad_sizes_and_bad_geometry_do_not_break():
    assert rasterise([bench(Box(0, 0, 1, 1))], 0, 0).lines() == []
    r = rasterise([bench(Box(float("nan"), 0, 1, 1)), bench(Polygon([])),
                   bench(Polygon([(-1e12, 0.5), (1e12, 0.5), (0.5, 1e300)]))], 30, 8, aspect=float("nan"))
    assert r.viewport[2] > 0 and r.dots.any()
    assert len(rasterise([bench(Box(0, 0, 1, 1))], 1, 1).lines()) == 1


def test_colours_per_class_and_palette():
    shapes = [bench(Box(0.1, 0.1, 0.2, 0.2), "Car", color="#d33115"),
              annot(Box(0.6, 0.6, 0.2, 0.2), "Car", color="#D33115"),
              bench(Box(0.6, 0.1, 0.2, 0.2), "Person"),
              bench(Box(0.1, 0.6, 0.2, 0.2), "Truck", color="red; [bold]")]  # invalid → palette
    colours = resolve_colours(shapes)
    assert colours[0] == colours[1] == "#D33115"
    assert colours[2] in PALETTE and colours[3] in PALETTE and colours[2] != colours[3]
    assert palette_colour("Person") == palette_colour("Person")  # stable, not Python's salted hash
    r = rasterise(shapes, 20, 10, aspect=1.0, labels=False)
    by_shape = {}
    for line in r.cells():
        for cell in line:
            if cell.shape >= 0:
                by_shape.setdefault(cell.shape, set()).add(cell.color)
    assert by_shape == {0: {"#D33115"}, 1: {"#D33115"}, 2: {colours[2]}, 3: {colours[3]}}


def test_crossing_cells_take_the_benchmark_colour_and_mark_both_sides():
    shapes = [bench(Box(0.25, 0.25, 0.5, 0.5), "Car", color="#FF0000"),
              annot(Box(0.25, 0.25, 0.5, 0.5), "Bus", color="#0000FF")]
    r = rasterise(shapes, 20, 10, aspect=1.0, labels=False)
    assert r.owner[2, 5] == 0 and r.sides[2, 5] == 1 | 2
    cells = r.cells()
    assert cells[2][5].color == "#FF0000" and cells[2][5].side == BENCHMARK


def test_annotator_outlines_are_dashed_benchmark_solid():
    b = rasterise([bench(Box(0.25, 0.25, 0.5, 0.5))], 20, 10, aspect=1.0, labels=False)
    a = rasterise([annot(Box(0.25, 0.25, 0.5, 0.5))], 20, 10, aspect=1.0, labels=False)
    top_b, top_a = b.dots[10, 10:31], a.dots[10, 10:31]
    assert top_b.all()
    assert 0.4 < top_a.mean() < 0.8  # 3 on, 2 off
    assert not (a.dots & ~b.dots).any()  # on the same outline


def test_pairs_numbers_links_and_unmatched_marks():
    shapes = [bench(Box(0.1, 0.3, 0.2, 0.2), pair_id="p"),
              annot(Box(0.6, 0.3, 0.2, 0.2), pair_id="p", label="0.12"),
              bench(Box(0.1, 0.75, 0.1, 0.1), "Sign"),  # missed
              annot(Box(0.7, 0.75, 0.1, 0.1), "Bus"),  # extra
              annot(Box(0.4, 0.05, 0.1, 0.1), pair_id="lonely")]  # a pair id without partner: extra
    r = rasterise(shapes, 40, 20, aspect=1.0)
    labels = {}
    for (_row, _col), (ch, idx) in sorted(r.labels.items()):
        labels.setdefault(idx, []).append(ch)
    text = {idx: "".join(chars) for idx, chars in labels.items()}
    assert text == {0: "1", 1: "1 0.12", 2: "✗", 3: "+", 4: "+"}
    assert r.pair_numbers == {"p": 1}
    # the link: dots owned by LINK between the two centres (x 0.2 → 0.7, y 0.4)
    link_cells = np.argwhere(r.owner == LINK)
    assert len(link_cells) >= 5
    assert set(link_cells[:, 0]) == {int(0.4 * 80) // 4}
    no_link = rasterise(shapes, 40, 20, aspect=1.0, show_links=False)
    assert not (no_link.owner == LINK).any()
    # without matching at all, no marks
    plain = rasterise([bench(Box(0.1, 0.1, 0.2, 0.2))], 40, 20, aspect=1.0, mark_unmatched=False)
    assert plain.labels == {}
    s = summarise(shapes)
    assert (s.benchmark, s.annotator, s.pairs, s.missed, s.extra) == (2, 3, 1, 1, 2)
    assert [(c.name, c.benchmark, c.annotator) for c in s.classes] == [("Car", 1, 2), ("Sign", 1, 0), ("Bus", 0, 1)]


def test_labels_do_not_run_together():
    # top-left corners in neighbouring cells (dot 8 → cell 4, dot 10.4 → cell 5): labels keep a gap
    shapes = [bench(Box(0.1, 0.3, 0.3, 0.3), pair_id=1), annot(Box(0.13, 0.31, 0.3, 0.3), pair_id=1)]
    lines = rasterise(shapes, 40, 20, aspect=1.0).lines()
    assert not any("11" in line for line in lines)
    assert sum(line.count("1") for line in lines) == 2


def test_toggles_hide_shapes():
    shapes = [bench(Box(0.1, 0.1, 0.3, 0.3), pair_id=1), annot(Box(0.5, 0.5, 0.3, 0.3), pair_id=1)]
    both = rasterise(shapes, 30, 10, aspect=1.0)
    assert set(np.unique(both.sides)) >= {1, 2, 4}
    no_bench = rasterise(shapes, 30, 10, aspect=1.0, show_benchmark=False)
    assert not (no_bench.sides & 1).any() and not (no_bench.sides & 4).any()  # links need both shapes
    assert {idx for _, idx in no_bench.labels.values()} == {1}
    no_annot = rasterise(shapes, 30, 10, aspect=1.0, show_annotator=False)
    assert not (no_annot.sides & 2).any() and (no_annot.sides & 1).any()
    none = rasterise(shapes, 30, 10, aspect=1.0, show_benchmark=False, show_annotator=False)
    assert not none.dots.any() and none.labels == {}
    # pair numbers do not change when one side is hidden
    assert no_bench.pair_numbers == both.pair_numbers == {1: 1}


def test_hostile_text_is_shown_literally():
    assert clean("[bold]x[/]") == "[bold]x[/]"
    assert clean("\x1b[31mred") == "\\x1b[31mred"
    assert clean("a\nb\u202ec\x9b") == "a\\x0ab\\u202ec\\x9b"
    r = rasterise([bench(Box(0.2, 0.4, 0.3, 0.3), label="\x1b[2J[red]x")], 40, 10, aspect=1.0)
    row = "".join(ch for (_, _), (ch, _) in sorted(r.labels.items()))
    assert row == "✗ \\x1b[2J[red]x" and "\x1b" not in "".join(r.lines())


def test_wide_label_characters_keep_the_grid_aligned():
    r = rasterise([bench(Box(0.2, 0.4, 0.3, 0.3), "車", label="車両")], 30, 10, aspect=1.0)
    for chars in (r.row_chars(row) for row in range(r.height)):
        assert cell_len("".join(chars)) == r.width


def test_hundred_shapes_render():
    rng = np.random.default_rng(7)
    shapes = []
    for i in range(100):
        x, y = rng.random(2) * 0.8
        kind = i % 3
        geometry = (Box(x, y, 0.1, 0.1) if kind == 0 else
                    RotatedBox(x, y, 0.1, 0.05, float(rng.random() * 360)) if kind == 1 else
                    Polygon([(x, y), (x + 0.1, y), (x + 0.05, y + 0.12), (x - 0.02, y + 0.05)]))
        side = BENCHMARK if i % 2 else ANNOTATOR
        shapes.append(CanvasShape(side, f"C{i % 7}", geometry, pair_id=i // 2 if i % 5 else None, label=f"{i}"))
    r = rasterise(shapes, 200, 60)
    owners = set(np.unique(r.owner)) - {-1, LINK}
    assert len(owners) >= 90  # nearly every shape owns at least one cell
    assert len(r.lines()) == 60 and all(len(line) == 200 for line in r.lines())


def test_the_one_reader_gives_the_canvas_its_geometry():
    """Encord payloads are read by core.evaluation.labels (the canvas parses nothing itself)."""
    assert geometry_of({"boundingBox": {"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}}) == Box(0.1, 0.2, 0.3, 0.4)
    assert geometry_of({"rotatableBoundingBox": {"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4, "theta": 15}}) \
        == RotatedBox(0.1, 0.2, 0.3, 0.4, 15)
    legacy = geometry_of({"polygon": {"1": {"x": 0.5, "y": 0.5}, "0": {"x": 0.1, "y": 0.1},
                                      "2": {"x": 0.1, "y": 0.5}}})
    assert legacy == Polygon([(0.1, 0.1), (0.5, 0.5), (0.1, 0.5)])
    multi = geometry_of({"polygons": [[[0.1, 0.1, 0.5, 0.1, 0.3, 0.4], [0.2, 0.2, 0.3, 0.2, 0.25, 0.3]]]})
    assert multi.points == ((0.1, 0.1), (0.5, 0.1), (0.3, 0.4)) and len(multi.rings) == 1
    assert geometry_of({"point": {"0": {"x": 0.1, "y": 0.1}}}) == Point(0.1, 0.1)  # read, and drawn as a marker
    skipped = Skipped()
    assert geometry_of({"boundingBox": {"x": "nan", "y": 0, "w": 1, "h": 1}}, skipped=skipped) is None
    assert skipped.total == 1
    with pytest.raises(InvalidInput, match="not a number"):
        geometry_of({"boundingBox": {"x": "nan", "y": 0, "w": 1, "h": 1}}, strict=True)
    view = ItemShape("annotator", "Car", "#D33115", Box(0, 0, 1, 1), pair=3, label="0.91")
    assert canvas_shapes([view]) == [CanvasShape(ANNOTATOR, "Car", Box(0, 0, 1, 1), "#D33115", 3, "0.91")]
    with pytest.raises(ValueError):
        CanvasShape("reviewer", "Car", Box(0, 0, 1, 1))


def test_the_pure_canvas_parts_import_without_textual():
    import subprocess
    import sys

    code = ("import sys, annotrain_tui.tui.canvas.model, annotrain_tui.tui.canvas.raster; "
            "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- the widget ------------------------------------------------------------------------------------

class CanvasApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ShapeCanvas(id="canvas")


def demo_shapes() -> list[CanvasShape]:
    return [
        bench(Box(0.1, 0.2, 0.3, 0.4), "Car", color="#D33115", pair_id=1),
        annot(Box(0.13, 0.22, 0.3, 0.42), "Car", color="#D33115", pair_id=1, label="0.81"),
        bench(RotatedBox(0.55, 0.1, 0.2, 0.1, 30), "Sign", pair_id=2),
        annot(RotatedBox(0.56, 0.1, 0.2, 0.1, 20), "Sign", pair_id=2),
        bench(Polygon([(0.5, 0.9), (0.7, 0.5), (0.95, 0.95)]), "Road", color="#68BC00"),
        annot(Box(0.8, 0.1, 0.1, 0.3), "Person"),
        bench(Box(0.02, 0.7, 0.1, 0.2), "[bold]x[/] \x1b[31mevil"),
    ]


def screen_lines(canvas: ShapeCanvas) -> list[str]:
    return [canvas.render_line(y).text for y in range(canvas.size.height)]


async def test_pilot_keys_toggle_and_legend_follows():
    app = CanvasApp()
    async with app.run_test(size=(60, 20)) as pilot:
        canvas = app.query_one(ShapeCanvas)
        canvas.set_shapes(demo_shapes(), image_size=(1280, 720), title="street_001.jpg \x1b[2J")
        canvas.focus()
        await pilot.pause()
        lines = screen_lines(canvas)
        assert len(lines) == 20 and all(cell_len(line) == 60 for line in lines)
        assert "street_001.jpg \\x1b[2J" in lines[0] and "1280×720" in lines[0]
        # the legend wraps: the marks, then the classes over two lines (Road and the hostile name)
        assert lines[-3].lstrip().startswith("━")
        assert "■ Car 1/1" in lines[-2] and "evil" in lines[-1]
        raster = canvas.raster()
        assert (raster.width, raster.height) == (60, 16)
        assert (raster.sides & 1).any() and (raster.sides & 2).any() and (raster.owner == LINK).any()

        await pilot.press("b")
        assert canvas.show_benchmark is False
        raster = canvas.raster()
        assert not (raster.sides & 1).any() and (raster.sides & 2).any()
        assert "off" in screen_lines(canvas)[-3] or "hidden" in screen_lines(canvas)[-3]
        await pilot.press("b", "a")
        assert canvas.show_benchmark and not canvas.show_annotator
        assert not (canvas.raster().sides & 2).any()
        await pilot.press("a", "l")
        assert canvas.show_annotator and not canvas.show_links
        assert not (canvas.raster().owner == LINK).any()
        await pilot.press("b", "a")
        assert any("All shapes hidden" in line for line in screen_lines(canvas))

        ids = {b.id for b in ShapeCanvas.BINDINGS}
        assert ids == {"canvas.toggle_benchmark", "canvas.toggle_annotator", "canvas.toggle_links", "canvas.legend"}
        assert "benchmark" in ShapeCanvas.HELP and "annotator" in ShapeCanvas.HELP


async def test_pilot_hostile_class_names_shown_literally():
    app = CanvasApp()
    async with app.run_test(size=(100, 20)) as pilot:
        canvas = app.query_one(ShapeCanvas)
        canvas.set_shapes(demo_shapes(), image_size=(1280, 720))
        await pilot.pause()
        legend = canvas.render_line(19)
        assert "[bold]x[/] \\x1b[31mevil" in legend.text
        for y in range(20):
            for segment in canvas.render_line(y):
                assert "\x1b" not in segment.text
        # the class colour reaches the cells: Car's outline is drawn in #D33115
        colours = {str(seg.style.color.triplet.hex).upper() for seg in canvas.render_line(4)
                   if seg.style and seg.style.color and seg.style.color.triplet}
        assert "#D33115" in colours


async def test_pilot_resizes_small_and_big_and_empty():
    app = CanvasApp()
    async with app.run_test(size=(40, 12)) as pilot:
        canvas = app.query_one(ShapeCanvas)
        await pilot.pause()
        assert any("No objects on this item" in line for line in screen_lines(canvas))
        canvas.set_shapes(demo_shapes(), image_size=(640, 480))
        await pilot.pause()
        legend = len(canvas._legend_lines(40))
        assert legend > 2  # wrapped at 40 columns
        assert (canvas.raster().width, canvas.raster().height) == (40, 12 - 1 - min(legend, 5))
        assert all(cell_len(line) == 40 for line in screen_lines(canvas))
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert (canvas.raster().width, canvas.raster().height) == (120, 37)
        assert all(cell_len(line) == 120 for line in screen_lines(canvas))
        await pilot.resize_terminal(20, 4)
        await pilot.pause()
        assert canvas.raster().height == 2 and len(screen_lines(canvas)) == 4


# --- the legend: wrapped, never cut (trial: "bench/annot: ■ Car 1/1  ■ Pedestria" at 80 columns) --------

def many_classes(n: int, name: str = "Class {i:02d} long name") -> list[CanvasShape]:
    return [bench(Box(0.05 * i, 0.1, 0.04, 0.1), name.format(i=i)) for i in range(n)]


async def test_legend_wraps_long_names_and_a_name_wider_than_the_canvas_is_folded_not_cut():
    app = CanvasApp()
    async with app.run_test(size=(30, 30)) as pilot:
        canvas = app.query_one(ShapeCanvas)
        huge = "Pedestrian pushing a bicycle across the road"  # wider than the 30 columns
        canvas.set_shapes([*many_classes(3), bench(Box(0.1, 0.5, 0.2, 0.2), huge)])
        await pilot.pause()
        top, rows, legend_rows = canvas._rows()
        legend = screen_lines(canvas)[top + rows:]
        assert len(legend) == legend_rows == len(canvas._legend_lines(30)) and legend_rows > 3
        assert all(cell_len(line) == 30 for line in legend)
        for i in range(3):
            assert f"■ Class {i:02d} long name 1/0" in "\n".join(legend)
        assert huge in "".join(line[1:].rstrip() for line in legend)  # folded over lines, whole


async def test_a_legend_taller_than_half_the_canvas_names_the_key_that_shows_it_whole():
    app = CanvasApp()
    async with app.run_test(size=(40, 12)) as pilot:
        canvas = app.query_one(ShapeCanvas)
        canvas.set_shapes(many_classes(12))
        canvas.focus()
        await pilot.pause()
        top, rows, legend_rows = canvas._rows()
        assert legend_rows == (12 - 1) // 2 and rows == 12 - 1 - legend_rows  # the drawing keeps half
        lines = screen_lines(canvas)
        assert "k shows the whole legend" in lines[-1]
        assert canvas.raster().height == rows

        seen: list[str] = []
        for _ in range(10):  # k: page after page of the whole legend, then the drawing again
            await pilot.press("k")
            if canvas.legend_page is None:
                break
            seen += screen_lines(canvas)
        assert canvas.legend_page is None
        text = "\n".join(seen)
        assert "solid" in text and "dashed" in text and "how many shapes" in text
        for i in range(12):
            assert f"■ Class {i:02d} long name 1/0" in text
        assert "k shows the whole legend" in screen_lines(canvas)[-1]  # back on the drawing


def canvas_text(app) -> str:
    canvas = app.screen.query_one(ShapeCanvas)
    return "\n".join(canvas.render_line(y).text for y in range(canvas.size.height))


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_the_item_screen_legend_names_every_class_of_the_item(tmp_path, size):
    from tests.tui.helpers import make_app, settle

    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "enter")  # an annotator, then their first item
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        canvas = app.screen.query_one(ShapeCanvas)
        names = [cc.name for cc in canvas.summary.classes]
        assert len(names) >= 3
        text = canvas_text(app)
        entries = [f"■ {cc.name} {cc.benchmark}/{cc.annotator}" for cc in canvas.summary.classes]
        missing = [e for e in entries if e not in text]  # each with its counts: the legend, not the table
        if missing:  # more classes than a small canvas's legend rows: its last row says k shows them all
            assert re.search(r"\+\d+ line\(s\)", text)
            # the k pages (a narrow canvas folds a long entry over lines: compared without spaces)
            whole = "".join(line.plain for page in canvas._legend_pages() for line in page).replace(" ", "")
            assert all(e.replace(" ", "") in whole for e in missing)


@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
async def test_the_whole_legend_wraps_at_word_boundaries(size):
    """Trial: the k legend broke words ("the benchmark's shap|es", "o|n both", "num|ber"): each
    word shown at 60 or 80 columns is a whole word of the legend (as shown unwrapped at 400)."""
    app = CanvasApp()
    async with app.run_test(size=(400, 40)) as pilot:
        canvas = app.query_one(ShapeCanvas)
        canvas.set_shapes(demo_shapes(), image_size=(1280, 720))
        await pilot.pause()

        def words() -> list[str]:  # the explanation's words, before the legend lines themselves
            lines = [line.plain for page in canvas._legend_pages() for line in page[:-1]]
            lines = lines[:len(lines) - len(canvas._legend_lines(canvas.size.width))]
            return [w for line in lines for w in line.split()]

        whole = set(words())
        assert {"benchmark's", "shapes;", "on", "both", "then"} <= whole
        await pilot.resize_terminal(*size)
        await pilot.pause()
        shown = words()
        assert "number" in shown and "how" in shown
        assert [w for w in shown if w not in whole] == []
