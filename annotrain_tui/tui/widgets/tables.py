"""SafeDataTable: Textual's DataTable with every string cell and label shown literally.

DataTable parses a ``str`` cell (and a ``str`` column or row label) as markup; a title from a
server such as ``[link=…]x[/link]`` would become a live hyperlink and a stray ``[`` an error.
SafeDataTable turns every ``str`` it is given into ``lit()`` text (the one untrusted-text policy:
never markup, raw characters escaped visibly), whichever screen adds the row. Rich ``Text`` cells
are taken as they are (screens build them with ``lit()``); anything else is DataTable's.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable

from annotrain_tui.tui.text import lit


def _safe(value: Any) -> Any:
    return lit(value) if isinstance(value, str) else value


class SafeDataTable(DataTable):
    """Keys as in every table of the app (FrameTable too): Home/End go to the first/last row (a stock
    DataTable scrolls sideways: trial item 8, an edit landed on the wrong person); Ctrl+Home/Ctrl+End
    go to the first/last column; i shows the highlighted row whole (every cell, wrapped)."""

    BINDINGS = [
        Binding("home", "scroll_top", "First row", show=False, id="table.first"),
        Binding("end", "scroll_bottom", "Last row", show=False, id="table.last"),
        Binding("ctrl+home", "scroll_home", "First column", show=False, id="table.first_column"),
        Binding("ctrl+end", "scroll_end", "Last column", show=False, id="table.last_column"),
        Binding("i", "show_row", "Whole row", show=False, id="table.row"),
    ]

    def row_record(self, row: int | None = None) -> list[tuple[str, str]]:
        """The (column, value) pairs of ``row`` (the cursor's row by default), as plain text."""
        row = self.cursor_row if row is None else row
        if not self.row_count or not 0 <= row < self.row_count:
            return []
        cells = self.get_row_at(row)
        labels = [str(getattr(c.label, "plain", c.label)) for c in self.ordered_columns]
        return [(label, str(getattr(v, "plain", v))) for label, v in zip(labels, cells)]

    def action_show_row(self) -> None:
        from annotrain_tui.tui.widgets.detail import RowDetail

        record = self.row_record()
        if record:
            self.app.push_screen(RowDetail(record))

    def clear(self, columns: bool = False):  # noqa: ANN201 - Self
        """Also forget how wide the old rows made each column: a stock DataTable keeps an auto
        column as wide as its widest row ever, so after a roster with a 66-character name the next
        roster's Email and Plan columns stayed off-screen."""
        super().clear(columns)
        for column in self.columns.values():
            if column.auto_width:
                column.content_width = column.label.cell_len
        return self

    def add_column(self, label: Any, *, width: int | None = None, key: str | None = None,
                   default: Any = None):
        return super().add_column(_safe(label), width=width, key=key, default=_safe(default))

    def add_row(self, *cells: Any, height: int | None = 1, key: str | None = None,
                label: Any = None):
        """Cells through the untrusted-text policy; and each auto column widened at once: a stock
        DataTable widens it on its next idle, and until then (a table filled at once from a
        worker's result, drawn under load) every column is as narrow as its label."""
        safe = [_safe(c) for c in cells]
        row_key = super().add_row(*safe, height=height, key=key, label=_safe(label))
        for column, cell in zip(self.ordered_columns, safe):
            if column.auto_width:
                column.content_width = max(column.content_width, _cell_width(cell))
        return row_key

    def update_cell(self, row_key: Any, column_key: Any, value: Any, *,
                    update_width: bool = False) -> None:
        super().update_cell(row_key, column_key, _safe(value), update_width=update_width)


def _cell_width(cell: Any) -> int:
    """How many columns a cell's content takes on one line (its widest line)."""
    from rich.text import Text

    text = cell if isinstance(cell, Text) else Text(str(cell))
    return max((line.cell_len for line in text.split("\n")), default=0)
