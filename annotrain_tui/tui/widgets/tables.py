"""SafeDataTable: Textual's DataTable with every string cell and label shown literally.

DataTable parses a ``str`` cell (and a ``str`` column or row label) as markup; a title from a
server such as ``[link=…]x[/link]`` would become a live hyperlink and a stray ``[`` an error.
SafeDataTable turns every ``str`` it is given into ``lit()`` text (the one untrusted-text policy:
never markup, raw characters escaped visibly), whichever screen adds the row. Rich ``Text`` cells
are taken as they are (screens build them with ``lit()``); anything else is DataTable's.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from annotrain_tui.tui.text import lit


def _safe(value: Any) -> Any:
    return lit(value) if isinstance(value, str) else value


class SafeDataTable(DataTable):
    def add_column(self, label: Any, *, width: int | None = None, key: str | None = None,
                   default: Any = None):
        return super().add_column(_safe(label), width=width, key=key, default=_safe(default))

    def add_row(self, *cells: Any, height: int | None = 1, key: str | None = None,
                label: Any = None):
        return super().add_row(*[_safe(c) for c in cells], height=height, key=key, label=_safe(label))

    def update_cell(self, row_key: Any, column_key: Any, value: Any, *,
                    update_width: bool = False) -> None:
        super().update_cell(row_key, column_key, _safe(value), update_width=update_width)
