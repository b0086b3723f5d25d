"""TextPane: a few lines of text that may be longer than the room the screen gives them.

A plain ``Static`` with a ``max-height`` cuts what does not fit (trial: a roster with 5 bad rows
showed 3 problems at 80×24, Register's "3 warning(s)" showed the first). A TextPane is a scroll
container around one ``Static`` (the text, with its own id, so a screen and its tests still read
``#problems`` as a Static): it takes the focus (Tab) and scrolls: ↑/↓ a line, PgUp/PgDn a page,
Home/End the first and last line, so every line is readable at any terminal size. It renders what
it is given (screens build it with ``lit()``), wrapped.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static


class TextPane(VerticalScroll):
    """Text that scrolls when it is taller than its room (at most ``max_lines`` rows); focusable
    (Tab), ↑↓ PgUp PgDn Home End."""

    HELP = ("A list that may be longer than its room: ↑/↓ scroll a line, PgUp/PgDn a page, Home/End go to the "
            "first and last line.")

    DEFAULT_CSS = """
    TextPane { height: auto; scrollbar-size-vertical: 1; }
    TextPane:focus { background: $boost; }
    TextPane > Static { padding: 0 1; }
    """

    def __init__(self, text: Text | None = None, *, text_id: str, max_lines: int = 6, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = text if text is not None else Text("")
        self._text_id = text_id
        # inline: the app's stylesheet (not a widget's DEFAULT_CSS) sizes the panes it knows by id
        self.styles.height = "auto"
        self.styles.max_height = max_lines

    def compose(self) -> ComposeResult:
        inner = Static(self._text, id=self._text_id)
        # the text is as tall as it is: the pane, not the text, has the height limit (a max-height
        # the stylesheet gives the text's id would cut it again)
        inner.styles.height = "auto"
        inner.styles.max_height = 100_000
        yield inner

    @property
    def text(self) -> Static:
        return self.query_one(f"#{self._text_id}", Static)

    def update(self, text: Text) -> None:
        """Show ``text`` from its first line."""
        self.text.update(text)
        self.scroll_home(animate=False)

    @property
    def overflowing(self) -> bool:
        """True when some of the text is out of view (the pane must be scrolled to read it)."""
        return self.max_scroll_y > 0
