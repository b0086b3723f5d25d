"""RowDetail: one table row shown whole, one ``column: value`` per line, wrapped and scrollable.

A long cell (a provision conflict note, a failed URL's reason, a diagnostic's how-to-fix, a job's
start time) is cut to its column in a table; every table of the app (``SafeDataTable`` and
``FrameTable``) opens its highlighted row here, so nothing cut off is out of reach. Every value is
untrusted and goes through ``lit()``.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.dialogs import Dialog


def record_text(record: list[tuple[str, str]]) -> Text:
    """``column: value`` lines (the column bold), every part through the policy, values wrapped."""
    text = Text(no_wrap=False, overflow="fold")
    for n, (column, value) in enumerate(record):
        if n:
            text.append("\n")
        text.append_text(lit(column or "(no name)", "bold"))
        text.append(": ")
        text.append_text(lit(value, multiline=True))
    text.no_wrap = False
    return text


class RowDetail(Dialog[None]):
    BINDINGS = [Binding("escape,enter,q,i", "close", "Close", id="detail.close")]
    DEFAULT_CSS = """
    RowDetail > Vertical { width: 90%; max-width: 110; max-height: 90%; }
    RowDetail VerticalScroll { height: auto; max-height: 20; }
    """

    def __init__(self, record: list[tuple[str, str]], title: str = "Row") -> None:
        super().__init__()
        self.record = record
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(lit(f"{self._title} (Esc closes)"), classes="dialog-title")
            with VerticalScroll():
                yield Static(record_text(self.record), id="detail-body")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
