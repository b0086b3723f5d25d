"""ShapeCanvas: the widget that draws one item's benchmark and annotator shapes in braille.

The drawing itself is pure and lives in :mod:`annotrain_tui.tui.canvas` (the model: shapes,
colours, pairs and counts; the rasteriser and its drawing rules). Keys ``b``/``a``/``l`` toggle the
benchmark, the annotator and the pair links (binding ids ``canvas.toggle_benchmark``,
``canvas.toggle_annotator``, ``canvas.toggle_links``); ``k`` (``canvas.legend``) shows the whole
legend in place of the drawing. The legend under the drawing wraps; nothing in it is cut. Text is drawn as plain segments or
:class:`rich.text.Text`, never through markup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.color import Color
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from annotrain_tui.tui.canvas.model import (
    ANNOTATOR,
    BENCHMARK,
    EXTRA_MARK,
    LINK,
    MISSED_MARK,
    PALETTE,
    Box,
    CanvasShape,
    CanvasSummary,
    ClassCount,
    Polygon,
    RotatedBox,
    canvas_shapes,
    clean,
    palette_colour,
    resolve_colours,
    summarise,
)
from annotrain_tui.tui.canvas.raster import Raster, RasterCell, rasterise

__all__ = [  # the widget, and the model's names its callers use
    "ShapeCanvas", "BENCHMARK", "ANNOTATOR", "LINK", "PALETTE", "Box", "RotatedBox", "Polygon", "CanvasShape",
    "ClassCount", "CanvasSummary", "Raster", "RasterCell", "rasterise", "summarise", "resolve_colours",
    "palette_colour", "clean", "canvas_shapes",
]


# --- the widget --------------------------------------------------------------------------------------

class ShapeCanvas(Widget, can_focus=True):
    """Benchmark and annotator shapes of one image. Keys: b, a, l toggle benchmark, annotator, links;
    k shows the whole legend."""

    DEFAULT_CSS = """
    ShapeCanvas { height: 1fr; min-height: 3; background: $surface; }
    ShapeCanvas > .shapecanvas--title { text-style: bold; }
    ShapeCanvas:focus > .shapecanvas--title { background: $accent 30%; }
    ShapeCanvas > .shapecanvas--legend { color: $text-muted; }
    ShapeCanvas > .shapecanvas--letterbox { background: $panel; }
    ShapeCanvas > .shapecanvas--link { color: $text-muted; }
    ShapeCanvas > .shapecanvas--empty { color: $text-muted; text-style: italic; }
    """
    COMPONENT_CLASSES = {"shapecanvas--title", "shapecanvas--legend", "shapecanvas--letterbox",
                         "shapecanvas--link", "shapecanvas--empty"}
    BINDINGS = [
        Binding("b", "toggle_benchmark", "Benchmark", id="canvas.toggle_benchmark"),
        Binding("a", "toggle_annotator", "Annotator", id="canvas.toggle_annotator"),
        Binding("l", "toggle_links", "Links", id="canvas.toggle_links"),
        Binding("k", "legend", "Legend", id="canvas.legend"),
    ]
    HELP = ("Shapes of one image: the benchmark drawn solid and bold, the annotator dashed and fainter, "
            "each in its class colour (where outlines cross, the benchmark's colour shows): boxes, rotated "
            "boxes, polygons, polylines (open lines), bitmasks (their outline), points and skeleton keypoints "
            "(a dotted plus for the benchmark, a cross for the annotator; an invisible keypoint hollow). Matched pairs "
            "carry the same number and a dotted link between their centres; ✗ marks a benchmark shape "
            "the annotator missed, + an extra annotator shape. The legend under the drawing counts shapes "
            "per class as benchmark/annotator (\"■ Car 2/1\": 2 benchmark cars, 1 annotator car), wrapped "
            "over as many lines as it needs up to half the height; k shows the whole legend, explained, in "
            "place of the drawing (k again: its next page, then the drawing). b hides or shows the "
            "benchmark, a the annotator, l the pair links.")

    shapes: reactive[tuple[CanvasShape, ...]] = reactive((), init=False)
    show_benchmark: reactive[bool] = reactive(True, init=False)
    show_annotator: reactive[bool] = reactive(True, init=False)
    show_links: reactive[bool] = reactive(True, init=False)
    #: the whole legend's page shown in place of the drawing (the legend key), or None: the drawing
    legend_page: reactive[int | None] = reactive(None, init=False)

    def __init__(self, shapes: Iterable[CanvasShape] = (), *, image_size: tuple[float, float] | None = None,
                 title: str | None = None, empty: str = "No objects on this item",
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title_text = clean(title) if title else ""
        self.image_size = _valid_size(image_size)
        self.empty_text = clean(empty)
        self._version = 0
        self._cache_key: tuple | None = None
        self._raster: Raster | None = None
        self._summary: CanvasSummary | None = None
        self._legend_cache: tuple[tuple, list[Text]] | None = None
        self.set_reactive(ShapeCanvas.shapes, tuple(shapes))

    # -- data -------------------------------------------------------------------------------------
    def set_shapes(self, shapes: Iterable[CanvasShape], image_size: tuple[float, float] | None = None,
                   title: str | None = None) -> None:
        """Show ``shapes`` on an image of ``image_size`` (width, height in pixels; None: 16:9)."""
        self.image_size = _valid_size(image_size)
        self.title_text = clean(title) if title else ""
        self._version += 1
        self.shapes = tuple(shapes)
        self.refresh()

    def watch_shapes(self) -> None:
        self._version += 1
        self._summary = None

    @property
    def aspect(self) -> float:
        if self.image_size is None:
            return 16 / 9
        return self.image_size[0] / self.image_size[1]

    @property
    def summary(self) -> CanvasSummary:
        if self._summary is None:
            self._summary = summarise(self.shapes)
        return self._summary

    # -- keys -------------------------------------------------------------------------------------
    def action_toggle_benchmark(self) -> None:
        self.show_benchmark = not self.show_benchmark

    def action_toggle_annotator(self) -> None:
        self.show_annotator = not self.show_annotator

    def action_toggle_links(self) -> None:
        self.show_links = not self.show_links

    def action_legend(self) -> None:
        """Show the whole legend, explained, in place of the drawing; again: its next page, then the
        drawing again (the legend under the drawing may not have room for every class)."""
        pages = len(self._legend_pages())
        page = -1 if self.legend_page is None else self.legend_page
        self.legend_page = page + 1 if page + 1 < pages else None

    # -- layout -----------------------------------------------------------------------------------
    def _rows(self) -> tuple[int, int, int]:
        """(title rows, canvas rows, legend rows) for the current size: the legend takes the lines
        it needs, wrapped at the width, up to half the height (the drawing keeps the rest)."""
        h = self.size.height
        if h < 3:
            return 0, h, 0
        needed = len(self._legend_lines(self.size.width))
        rows = max(1, min(needed, (h - 1) // 2))
        return 1, h - 1 - rows, rows

    def raster(self) -> Raster:
        """The raster for the current size and toggles (cached; redone on resize or change)."""
        _, canvas_rows, _ = self._rows()
        key = (self.size.width, canvas_rows, self._version, self.image_size, self.show_benchmark,
               self.show_annotator, self.show_links)
        if self._raster is None or key != self._cache_key:
            self._raster = rasterise(self.shapes, self.size.width, canvas_rows, self.aspect,
                                     show_benchmark=self.show_benchmark, show_annotator=self.show_annotator,
                                     show_links=self.show_links, image_size=self.image_size)
            self._cache_key = key
        return self._raster

    def on_resize(self) -> None:
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        top, canvas_rows, legend_rows = self._rows()
        if y < top:
            title_style = base + self.get_component_rich_style("shapecanvas--title")
            return self._text_strip(self._title_text(), width, title_style)
        legend_style = base + self.get_component_rich_style("shapecanvas--legend")
        if self.legend_page is not None:  # the whole legend in place of the drawing
            lines = self._legend_page(self.legend_page)
            line = y - top
            return self._text_strip(lines[line] if line < len(lines) else Text(""), width, legend_style)
        if y >= top + canvas_rows:
            line = y - top - canvas_rows
            legend = self._legend(width, legend_rows)
            text = legend[line] if line < len(legend) else Text("")
            return self._text_strip(text, width, legend_style)
        row = y - top
        if not self.shapes or not (self.show_benchmark or self.show_annotator):
            if row == canvas_rows // 2:
                msg = self.empty_text if not self.shapes else "All shapes hidden: press b or a to show them"
                pad = max(0, (width - len(msg)) // 2)
                return self._text_strip(Text(" " * pad + msg), width,
                                        base + self.get_component_rich_style("shapecanvas--empty"))
            return Strip.blank(width, base)
        return self._canvas_strip(self.raster(), row, width, base)

    def _text_strip(self, text: Text, width: int, style: Style) -> Strip:
        segments = list(text.render(self.app.console))
        return Strip(Segment.apply_style(segments, style)).crop_extend(0, width, style)

    def _canvas_strip(self, raster: Raster, row: int, width: int, base: Style) -> Strip:
        if row >= raster.height:
            return Strip.blank(width, base)
        c0, r0, c1, r1 = raster.viewport_cells
        letterbox = base + self.get_component_rich_style("shapecanvas--letterbox")
        link = base + self.get_component_rich_style("shapecanvas--link")
        bg = Color.from_rich_color(base.bgcolor) if base.bgcolor is not None else None
        styles: dict[tuple, Style] = {}

        def style_for(idx: int, is_label: bool, inside: bool) -> Style:
            key = (idx, is_label, inside)
            st = styles.get(key)
            if st is None:
                under = base if inside else letterbox
                if idx == LINK:
                    st = link if inside else letterbox + Style(color=link.color)
                elif idx < 0:
                    st = under
                else:
                    colour = Color.parse(raster.colors[idx])
                    if raster.shapes[idx].side == BENCHMARK:
                        st = under + Style(color=colour.rich_color, bold=True)
                    else:
                        faded = colour.blend(bg, 0.3) if (bg is not None and not is_label) else colour
                        st = under + Style(color=faded.rich_color, bold=False, italic=is_label)
                styles[key] = st
            return st

        chars = raster.row_chars(row)
        inside_row = r0 <= row < r1
        segments: list[Segment] = []
        run: list[str] = []
        run_style: Style | None = None
        for col in range(raster.width):
            hit = raster.labels.get((row, col))
            if hit is not None:
                st = style_for(hit[1], True, inside_row and c0 <= col < c1)
            else:
                st = style_for(int(raster.owner[row, col]), False, inside_row and c0 <= col < c1)
            if st is not run_style and run:
                segments.append(Segment("".join(run), run_style))
                run = []
            run_style = st
            run.append(chars[col])
        if run:
            segments.append(Segment("".join(run), run_style))
        return Strip(segments).crop_extend(0, width, base)

    def _title_text(self) -> Text:
        text = Text(" " + (self.title_text or "Benchmark vs annotator"))
        if self.image_size is not None:
            w, h = self.image_size
            text.append(f"  {w:g}×{h:g} px", Style(bold=False, dim=True))
        return text

    def _legend_key(self) -> str:
        """The key that shows the whole legend, as the user has it (a keymap may rebind it)."""
        keymap: dict[str, str] = getattr(self.app, "_keymap", {}) or {}
        key = keymap.get("canvas.legend", "k").split(",")[0].strip() or "k"
        return self.app.get_key_display(Binding(key, "legend"))

    def _key_entries(self, width: int) -> list[Text]:
        """The line that says what is drawn (sides, pairs, missed, extra): long words when they fit
        on one line, short ones otherwise (then wrapped)."""
        s = self.summary
        long: list[Text] = []
        short: list[Text] = []
        parts = [("━", "benchmark", "bench", s.benchmark, self.show_benchmark, True),
                 ("┄", "annotator", "annot", s.annotator, self.show_annotator, False)]
        for glyph, name, abbrev, count, shown, bold in parts:
            style = Style(bold=bold) if shown else Style(dim=True, strike=True)
            long.append(Text(f"{glyph} {name} {count}" + ("" if shown else " (hidden)"), style))
            short.append(Text(f"{glyph}{abbrev} {count if shown else 'off'}", style))
        if s.pairs:
            link_style = Style() if self.show_links else Style(dim=True, strike=True)
            long.append(Text(f"┈ {s.pairs} pair{'s' if s.pairs != 1 else ''}"
                             + ("" if self.show_links else " (links hidden)"), link_style))
            short.append(Text(f"┈{s.pairs}" + ("" if self.show_links else " off"), link_style))
        if s.missed:
            long.append(Text(f"{MISSED_MARK} {s.missed} missed"))
            short.append(Text(f"{MISSED_MARK}{s.missed}"))
        if s.extra:
            long.append(Text(f"{EXTRA_MARK} {s.extra} extra"))
            short.append(Text(f"{EXTRA_MARK}{s.extra}"))
        return long if len(_pack(long, width, sep=2)) == 1 else short

    def _class_entries(self, width: int) -> list[Text]:
        """One entry per class (its colour, its whole name, benchmark/annotator counts), after a
        head that says what the counts are (in full when every class fits on the line)."""
        s = self.summary
        entries = []
        for cc in s.classes:
            entry = Text("■ ", Style(color=Color.parse(cc.color).rich_color))
            entry.append(cc.name)
            entry.append(f" {cc.benchmark}/{cc.annotator}", Style(dim=True))
            entries.append(entry)
        if not entries:
            return []
        head = Text("per class, benchmark/annotator:", Style(dim=True))
        if len(_pack([head, *entries], width, sep=2)) > 1:
            head = Text("bench/annot:", Style(dim=True))
        return [head, *entries]

    def _legend_lines(self, width: int) -> list[Text]:
        """The legend under the drawing, wrapped at ``width``: nothing is cut, a long class name
        goes on over the next line (cached per size, shapes and toggles)."""
        key = (width, self._version, self.show_benchmark, self.show_annotator, self.show_links)
        if self._legend_cache is not None and self._legend_cache[0] == key:
            return self._legend_cache[1]
        if not self.shapes:
            lines = _pack([Text("b/a/l: benchmark, annotator, links")], width)
        else:
            lines = _pack(self._key_entries(width), width, sep=2) + _pack(self._class_entries(width), width, sep=2)
        self._legend_cache = (key, lines)
        return lines

    def _legend(self, width: int, rows: int) -> list[Text]:
        """The legend lines that fit in ``rows``; when some do not, the last row says which key shows
        the whole legend."""
        if rows <= 0:
            return []
        lines = self._legend_lines(width)
        if len(lines) <= rows:
            return lines
        more = len(lines) - rows + 1
        hint = Text(f" +{more} line(s): {self._legend_key()} shows the whole legend", Style(italic=True))
        return [*lines[:rows - 1], hint]

    def _legend_pages(self) -> list[list[Text]]:
        """The whole legend with what each mark means, in pages of the widget's height (the last
        line of each page says what the legend key does next)."""
        width = self.size.width
        rows = max(1, self.size.height - (1 if self.size.height >= 3 else 0) - 1)
        s = self.summary
        about = [
            "━ solid, bold: the benchmark's shapes; ┄ dashed: the annotator's.",
            "Points and skeleton keypoints: a dotted plus for the benchmark, a cross for the annotator (a "
            "keypoint marked invisible drawn hollow); polylines as open lines; masks by their outline.",
            "A matched pair carries one number on both shapes (the table's # column), the annotator's "
            "with its IoU, and a dotted link ┈ between them.",
            f"{MISSED_MARK}: a benchmark shape the annotator missed; {EXTRA_MARK}: an annotator shape "
            "with no benchmark partner.",
            "Each class: its colour, its name, then how many shapes the benchmark has / the annotator has.",
        ]
        # wrapped at word boundaries (each word an entry): only a word wider than the line is folded
        lines = [line for text in about for line in _pack([Text(w) for w in text.split()], width)]
        lines += self._legend_lines(width) if s.classes or not self.shapes else []
        pages = [lines[i:i + rows] for i in range(0, len(lines), rows)] or [[]]
        key = self._legend_key()
        for n, page in enumerate(pages):
            last = n == len(pages) - 1
            page.append(Text(f" {key}: back to the drawing" if last else
                             f" {key}: more ({n + 1}/{len(pages)})", Style(italic=True)))
        return pages

    def _legend_page(self, page: int) -> list[Text]:
        pages = self._legend_pages()
        return pages[min(page, len(pages) - 1)]


def _pack(entries: list[Text], width: int, *, sep: int = 1) -> list[Text]:
    """Lay ``entries`` out on lines of ``width`` cells after a one-cell margin, ``sep`` spaces
    apart, never splitting one unless it is wider than a whole line (then it is folded)."""
    room = max(1, width - 1)
    lines: list[Text] = []
    line: Text | None = None
    for entry in entries:
        if line is not None and line.cell_len + sep + entry.cell_len <= room:
            line.append(" " * sep)
            line.append_text(entry)
            continue
        if line is not None:
            lines.append(Text(" ") + line)
        line = None
        while entry.cell_len > room:  # fold a name wider than the line
            cut = _cut_at(entry, room)
            head, entry = entry[:cut], entry[cut:]
            lines.append(Text(" ") + head)
        line = entry.copy()
    if line is not None:
        lines.append(Text(" ") + line)
    return lines


def _cut_at(text: Text, cells: int) -> int:
    """The number of characters of ``text`` that fill at most ``cells`` cells (at least one)."""
    from rich.cells import cell_len

    used = 0
    for i, ch in enumerate(text.plain):
        used += cell_len(ch)
        if used > cells:
            return max(1, i)
    return len(text.plain)


def _valid_size(size: Any) -> tuple[float, float] | None:
    try:
        w, h = (float(v) for v in size)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0):
        return None
    return (w, h)
