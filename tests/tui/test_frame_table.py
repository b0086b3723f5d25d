"""FrameTable: a stable sort both ways, the arrow kept in a narrow column, the cursor on the first
row after a sort, and a row readable whole (trial items 24, 33; design review §2, Comments)."""

from __future__ import annotations

import pandas as pd
from textual.app import App, ComposeResult

from annotrain_tui.tui.widgets.detail import RowDetail
from annotrain_tui.tui.widgets.frame_table import Column, FrameTable


class TableApp(App[None]):
    def __init__(self, frame: pd.DataFrame, columns: list[Column]) -> None:
        super().__init__()
        self._frame, self._columns = frame, columns

    def compose(self) -> ComposeResult:
        yield FrameTable(self._columns, key_column="name", id="t")

    def on_mount(self) -> None:
        table = self.query_one(FrameTable)
        table.set_frame(self._frame)
        table.focus()


def frame(n: int = 60) -> pd.DataFrame:
    return pd.DataFrame({"name": [f"p{i:02d}" for i in range(n)], "score": [i % 3 for i in range(n)],
                         "note": ["a long note that does not fit its column " * 3] * n})


COLUMNS = [Column("name", "Name"), Column("score", "Score", width=5, align="right"),
           Column("note", "Note", width=12)]


async def test_reverse_keeps_ties_in_their_original_order():
    app = TableApp(frame(9), COLUMNS)
    async with app.run_test(size=(80, 24)):
        table = app.query_one(FrameTable)
        table.sort_by("score", reverse=False)
        up = [table.frame["name"].iat[i] for i in table.order]
        assert up == ["p00", "p03", "p06", "p01", "p04", "p07", "p02", "p05", "p08"]
        table.sort_by("score", reverse=True)
        down = [table.frame["name"].iat[i] for i in table.order]
        assert down == ["p02", "p05", "p08", "p01", "p04", "p07", "p00", "p03", "p06"]  # not p08, p05, p02


async def test_reverse_puts_empty_values_last_too():
    app = TableApp(pd.DataFrame({"name": ["a", "b", "c", "d"], "x": [2.0, float("nan"), 1.0, 2.0]}),
                   [Column("name", "Name"), Column("x", "X")])
    async with app.run_test(size=(80, 24)):
        table = app.query_one(FrameTable)
        table.sort_by("x", reverse=True)
        assert [table.frame["name"].iat[i] for i in table.order] == ["a", "d", "c", "b"]
        table.sort_by("x", reverse=False)
        assert [table.frame["name"].iat[i] for i in table.order] == ["c", "a", "d", "b"]


async def test_the_sort_arrow_survives_a_narrow_column_and_the_cursor_goes_to_the_first_row():
    app = TableApp(frame(), [Column("name", "Name"), Column("score", "Precision", width=5, align="right"),
                             Column("note", "Note", width=12)])
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FrameTable)
        await pilot.press("end")
        assert table.cursor_row == 59 and table.scroll_y > 0
        await pilot.press("right", "s")
        header = "".join(seg.text for seg in table.render_line(0))
        assert "Pre…▲" in header
        assert table.cursor_row == 0 and table.scroll_y == 0
        await pilot.press("S")
        header = "".join(seg.text for seg in table.render_line(0))
        assert "Pre…▼" in header and table.cursor_row == 0


async def test_i_shows_the_highlighted_row_whole():
    app = TableApp(frame(), COLUMNS)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "i")
        assert isinstance(app.screen, RowDetail)
        assert app.screen.record[0] == ("Name", "p01")
        assert app.screen.record[2][1].startswith("a long note that does not fit its column a long note")
        await pilot.press("escape")
        assert not isinstance(app.screen, RowDetail)


async def test_plain_columns_draw_and_sort_as_the_same_frame_does():
    """The annotator table is given plain columns (no pandas): the same rows drawn, the same orders
    (texts casefolded, ties kept both ways, empty values last), the same key under the cursor."""
    from annotrain_tui.core.columns import Columns

    data = pd.DataFrame({"name": ["b", "A", "c", "a", None], "x": [2.0, float("nan"), 1.0, 2.0, 0.5],
                         "n": [3, 1, 2, 3, 0]})
    columns = [Column("name", "Name"), Column("x", "X", align="right"), Column("n", "N", align="right")]
    got: dict[str, list] = {}
    for label, given in (("frame", data), ("columns", Columns.of(data))):
        app = TableApp(given, columns)
        async with app.run_test(size=(80, 24)):
            table = app.query_one(FrameTable)
            seen = [table.rows_as_text()]
            for key in ("name", "x", "n"):
                for reverse in (False, True):
                    table.sort_by(key, reverse=reverse)
                    seen.append(table.rows_as_text())
            table.action_cursor(2)
            seen.append([table.current_key()])
            got[label] = seen
    assert got["frame"] == got["columns"]
    by_name = [r[0] for r in got["columns"][1]]
    assert by_name == ["A", "a", "b", "c", ""]  # casefolded, ties in the table's order, the empty cell last
    assert [r[0] for r in got["columns"][2]] == ["c", "b", "A", "a", ""]  # reversed: ties still in order
    assert [r[1] for r in got["columns"][4]] == ["2.0", "2.0", "1.0", "0.5", ""]  # NaN last, reversed too
