"""FrameTable: a table over a pandas DataFrame (or :class:`~annotrain_tui.core.columns.Columns`,
numpy arrays without pandas) that renders only the visible rows.

Textual's DataTable measures every cell before its first paint (about 9 s at 100,000 × 6 here);
this widget uses the line API instead: a row is formatted only when it is on screen. Sorting is a
stable numpy argsort of one column (ties keep the frame's order in both directions; empty values
last); a new sort puts the cursor on the first row, while updates of the data keep the sort, the
cursor (by row key) and the scroll.
Cell text is untrusted: it is drawn as plain segments (never markup) made safe by the one policy,
``core.text.shown`` (controls, bidi, format characters and lone surrogates escaped visibly).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from annotrain_tui.core.columns import Columns
from annotrain_tui.core.text import shown

if TYPE_CHECKING:
    import pandas as pd

#: what a table shows: a pandas frame, or plain columns (a first view that imports no pandas)
Data = Union["pd.DataFrame", Columns]


def clean(text: str) -> str:
    """One printable line, by the one untrusted-text policy (:func:`annotrain_tui.core.text.shown`)."""
    return shown(text)


def fit(text: str, width: int, align: str) -> str:
    if width <= 0:
        return ""
    if len(text) > width:
        return text[: max(0, width - 1)] + "…" if width > 0 else ""
    return text.rjust(width) if align == "right" else text.ljust(width)


def _missing(value: Any) -> bool:
    """None, NaN or NaT: an empty cell (sorted last, either way)."""
    return value is None or (value != value if isinstance(value, float) or hasattr(value, "isoformat") else False)


def _object_order(values: np.ndarray, reverse: bool) -> np.ndarray:
    """The order of an object column: texts casefolded, other values (datetimes) as they compare, by a
    stable sort both ways (ties keep the table's order); empty cells last. Values that do not compare
    with each other are ordered by their text. (pandas 3 keeps a missing text missing through
    ``astype(str)``, and numpy cannot sort a NaN among texts: a column with an empty cell broke the sort.)"""
    items = values.tolist()
    present = [i for i, v in enumerate(items) if not _missing(v)]
    empty = [i for i, v in enumerate(items) if _missing(v)]
    keys = [items[i].casefold() if isinstance(items[i], str) else items[i] for i in present]
    try:
        ranked = sorted(range(len(present)), key=keys.__getitem__, reverse=reverse)  # stable, both ways
    except TypeError:
        keys = [str(k).casefold() for k in keys]
        ranked = sorted(range(len(present)), key=keys.__getitem__, reverse=reverse)
    return np.array([present[j] for j in ranked] + empty, dtype=np.int64)


@dataclass
class Column:
    key: str  # the frame's column
    label: str
    width: int | None = None  # None: measured from the header and a sample of values
    align: str = "left"
    format: Callable[[Any], str] | None = None
    style: Callable[[Any], Style | None] | None = None  # per-value style (e.g. red for low scores)


class FrameTable(ScrollView, can_focus=True):
    """Keys: arrows/PageUp/PageDown/Home/End move; Enter selects; s sorts by the cursor column."""

    DEFAULT_CSS = """
    FrameTable { height: 1fr; background: $surface; }
    FrameTable > .frametable--header { text-style: bold; background: $panel; }
    FrameTable > .frametable--cursor { background: $accent 40%; }
    FrameTable > .frametable--sorted { text-style: bold underline; background: $panel; }
    FrameTable > .frametable--zebra { background: $boost; }
    """
    COMPONENT_CLASSES = {"frametable--header", "frametable--cursor", "frametable--sorted", "frametable--zebra"}
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home", "edge(-1)", "First", show=False, id="table.first"),
        Binding("end", "edge(1)", "Last", show=False, id="table.last"),
        Binding("left", "column(-1)", "Column left", show=False, id="table.left"),
        Binding("right", "column(1)", "Column right", show=False, id="table.right"),
        Binding("enter", "select", "Open", id="table.select"),
        Binding("s", "sort_cursor_column", "Sort", id="table.sort"),
        Binding("S", "reverse", "Reverse", id="table.reverse"),
        Binding("i", "show_row", "Whole row", show=False, id="table.row"),
    ]
    HELP = ("A large table: only the rows on screen are drawn. Up/Down/PageUp/PageDown/Home/End move, Left/Right "
            "pick a column, s sorts by it (again: toggles), S reverses (the cursor goes to the first row), Enter opens "
            "the row, i shows the highlighted row whole (every column, wrapped).")

    cursor_row: reactive[int] = reactive(0, init=False)
    cursor_column: reactive[int] = reactive(0, init=False)

    class RowHighlighted(Message):
        """The cursor moved to the row with this key."""

        def __init__(self, table: FrameTable, key: Any) -> None:
            super().__init__()
            self.table, self.key = table, key

        @property
        def control(self) -> FrameTable:
            return self.table

    class RowSelected(RowHighlighted):
        """Enter on the row with this key."""

    def __init__(self, columns: Sequence[Column], *, key_column: str | None = None, empty: str = "No rows.",
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.key_column = key_column
        self.empty_text = empty
        self.data: Data = Columns({c.key: [] for c in self.columns})
        self.order = np.zeros(0, dtype=np.int64)  # display row → frame position
        self.sort_key: str | None = None
        self.sort_reverse = False
        self._widths: list[int] = []
        self._row_cache: dict[int, list[str]] = {}

    # -- data ---------------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """What the table shows, as a pandas frame (plain columns are converted: for tests and readers)."""
        data = self.data
        return data.to_pandas() if isinstance(data, Columns) else data

    def _column(self, key: str) -> np.ndarray:
        data = self.data
        return data[key] if isinstance(data, Columns) else data[key].to_numpy()

    def _value(self, key: str, pos: int) -> Any:
        data = self.data
        return data[key][pos] if isinstance(data, Columns) else data[key].iat[pos]

    def set_frame(self, frame: Data, *, keep_position: bool = True) -> None:
        """Show ``frame``; the sort, the cursor's row (by key) and the scroll are kept."""
        old_key = self.current_key() if keep_position else None
        old_offset = self.cursor_row - int(self.scroll_y)
        self.data = frame if isinstance(frame, Columns) else frame.reset_index(drop=True)
        self._row_cache.clear()
        self._measure()
        self._apply_sort()
        if old_key is not None and self.key_column is not None and len(self.data):
            pos = np.flatnonzero(self._column(self.key_column) == old_key)
            if len(pos):
                row = int(np.flatnonzero(self.order == pos[0])[0])
                self.cursor_row = row
                self.scroll_to(y=max(0, row - old_offset), animate=False, immediate=True)
        self.cursor_row = min(self.cursor_row, max(0, len(self.order) - 1))
        self.refresh()

    def current_key(self) -> Any:
        if not len(self.order) or self.key_column is None:
            return None
        return self._value(self.key_column, int(self.order[min(self.cursor_row, len(self.order) - 1)]))

    @property
    def row_count(self) -> int:
        return len(self.order)

    def _measure(self) -> None:
        widths = []
        data = self.data
        for c in self.columns:
            if c.width is not None:
                widths.append(c.width)
                continue
            longest = len(c.label) + (2 if c.align == "left" else 0)
            if len(data) and c.key in data:
                if isinstance(data, Columns):
                    longest = max(longest, *(len(self._format(c, v)) for v in data[c.key][:2000]))
                else:
                    values = data.head(2000)[c.key].map(lambda v, c=c: len(self._format(c, v)))
                    longest = max(longest, int(values.max()) if len(values) else 0)
            widths.append(min(longest, 48))
        self._widths = widths
        self.virtual_size = Size(sum(widths) + len(widths), len(self.data) + 1)

    def _format(self, column: Column, value: Any) -> str:
        if column.format is not None:
            try:
                return clean(column.format(value))
            except Exception:  # noqa: BLE001 - a bad value must not break drawing
                return "?"
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        return clean(str(value))

    # -- sorting ------------------------------------------------------------------------
    def sort_by(self, key: str, *, reverse: bool | None = None) -> None:
        if key not in self.data.columns:
            return
        if reverse is None:
            reverse = (not self.sort_reverse) if key == self.sort_key else False
        self.sort_key, self.sort_reverse = key, reverse
        self._apply_sort()
        self._row_cache.clear()
        # the first row of the new order, in view: the row the cursor was on may have moved anywhere,
        # and the view jumping to it showed a slice of the list (trial item 33)
        self.scroll_to(y=0, animate=False, immediate=True)
        if self.cursor_row != 0:
            self.cursor_row = 0
        elif len(self.order):
            self.post_message(self.RowHighlighted(self, self.current_key()))
        self.refresh()

    def _apply_sort(self) -> None:
        n = len(self.data)
        if self.sort_key is None or self.sort_key not in self.data.columns or n == 0:
            self.order = np.arange(n, dtype=np.int64)
            return
        data = self.data
        if isinstance(data, Columns):
            values = data[self.sort_key]
        else:
            import pandas as pd

            col = data[self.sort_key]
            text = col.dtype == object or isinstance(col.dtype, pd.StringDtype)
            values = col.to_numpy(dtype=object) if text else col.to_numpy()
        if values.dtype == object:  # texts (and datetimes, mixed values): by Python's sort
            self.order = _object_order(values, self.sort_reverse)
            return
        if self.sort_reverse:
            # descending by rank, stably: equal values keep the frame's order (``order[::-1]`` would
            # put ties backwards); NaNs are moved last below either way
            _, rank = np.unique(values, return_inverse=True)
            order = np.argsort(-rank.reshape(-1), kind="stable")
        else:
            order = np.argsort(values, kind="stable")
        if values.dtype.kind == "f":
            nan = np.isnan(values[order])
            order = np.concatenate([order[~nan], order[nan]])
        self.order = order.astype(np.int64)

    # -- drawing --------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            strip = self._header_strip(base)
        else:
            row = scroll_y + y - 1
            if not len(self.order):
                strip = Strip([Segment(" " + self.empty_text, base + Style(dim=True, italic=True))]) if y == 1 \
                    else Strip.blank(width, base)
                return strip.crop_extend(0, width, base)
            if row >= len(self.order):
                return Strip.blank(width, base)
            strip = self._row_strip(row, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _header_strip(self, base: Style) -> Strip:
        header = base + self.get_component_rich_style("frametable--header")
        sorted_style = base + self.get_component_rich_style("frametable--sorted")
        segs = []
        for c, w in zip(self.columns, self._widths):
            if c.key == self.sort_key:
                # the label is cut, never the arrow: "Clas…▲"
                arrow = "▼" if self.sort_reverse else "▲"
                label = fit(c.label, w - 1, "left").rstrip() + arrow
                text = label.rjust(w) if c.align == "right" else label.ljust(w)
                segs.append(Segment(text[:w] + " ", sorted_style))
            else:
                segs.append(Segment(fit(c.label, w, c.align) + " ", header))
        return Strip(segs)

    def _cells(self, row: int) -> list[str]:
        cached = self._row_cache.get(row)
        if cached is None:
            pos = int(self.order[row])
            data = self.data
            if isinstance(data, Columns):
                cached = [self._format(c, data[c.key][pos] if c.key in data else None) for c in self.columns]
            else:
                record = data.iloc[pos]
                cached = [self._format(c, record.get(c.key)) for c in self.columns]
            if len(self._row_cache) > 4000:
                self._row_cache.clear()
            self._row_cache[row] = cached
        return cached

    def _row_strip(self, row: int, base: Style) -> Strip:
        cells = self._cells(row)
        style = base
        if row % 2:
            style = base + self.get_component_rich_style("frametable--zebra")
        is_cursor = row == self.cursor_row
        cursor_style = base + self.get_component_rich_style("frametable--cursor")
        pos = int(self.order[row])
        segs = []
        for i, (c, w, text) in enumerate(zip(self.columns, self._widths, cells)):
            cell_style = style
            if c.style is not None:
                try:
                    extra = c.style(self._value(c.key, pos))
                except Exception:  # noqa: BLE001
                    extra = None
                if extra is not None:
                    cell_style = cell_style + extra
            if is_cursor:
                cell_style = cursor_style + (Style(underline=True) if i == self.cursor_column else Style())
            segs.append(Segment(fit(text, w, c.align) + " ", cell_style))
        return Strip(segs)

    # -- cursor ---------------------------------------------------------------------------
    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        if len(self.order):
            self.post_message(self.RowHighlighted(self, self.current_key()))

    def watch_cursor_column(self) -> None:
        self.refresh()

    def _scroll_cursor_into_view(self) -> None:
        visible = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def _move(self, row: int) -> None:
        if len(self.order):
            self.cursor_row = max(0, min(len(self.order) - 1, row))

    def action_cursor(self, step: int) -> None:
        self._move(self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self._move(self.cursor_row + step * max(1, self.size.height - 2))

    def action_edge(self, step: int) -> None:
        self._move(0 if step < 0 else len(self.order) - 1)

    def action_column(self, step: int) -> None:
        self.cursor_column = max(0, min(len(self.columns) - 1, self.cursor_column + step))
        left = sum(self._widths[: self.cursor_column]) + self.cursor_column
        right = left + self._widths[self.cursor_column]
        if left < self.scroll_x:
            self.scroll_to(x=left, animate=False)
        elif right > self.scroll_x + self.size.width:
            self.scroll_to(x=right - self.size.width, animate=False)

    def action_select(self) -> None:
        if len(self.order):
            self.post_message(self.RowSelected(self, self.current_key()))

    def action_sort_cursor_column(self) -> None:
        self.sort_by(self.columns[self.cursor_column].key)

    def action_reverse(self) -> None:
        if self.sort_key is not None:
            self.sort_by(self.sort_key, reverse=not self.sort_reverse)

    def row_record(self, row: int | None = None) -> list[tuple[str, str]]:
        """(column label, whole value) pairs of ``row`` (the cursor's by default), formatted, not cut."""
        row = self.cursor_row if row is None else row
        if not 0 <= row < len(self.order):
            return []
        return list(zip([c.label for c in self.columns], self._cells(row)))

    def action_show_row(self) -> None:
        from annotrain_tui.tui.widgets.detail import RowDetail

        record = self.row_record()
        if record:
            self.app.push_screen(RowDetail(record))

    def visible_rows(self) -> list[list[str]]:
        """The formatted rows on screen (for tests and copy)."""
        top = int(self.scroll_y)
        height = max(0, self.size.height - 1)
        return [self._cells(r) for r in range(top, min(len(self.order), top + height))]

    def rows_as_text(self, limit: int | None = None) -> list[list[str]]:
        n = len(self.order) if limit is None else min(limit, len(self.order))
        return [self._cells(r) for r in range(n)]
