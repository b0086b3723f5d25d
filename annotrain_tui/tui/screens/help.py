"""Help: the keys of the screen you came from, global keys, and help for the focused widget."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from annotrain_tui.tui.screens.base import SafeTitles
from annotrain_tui.tui.text import lit

#: the title AnnotrainApp.help_sections gives the focused widget's keys
WIDGET_SECTION = "Keys of the focused widget"
#: the title AnnotrainApp.help_sections gives the screen's own keys
SCREEN_SECTION = "Keys of this screen"


Section = tuple[str, list[tuple[str, str, str]]]


def one_row_per_key(sections: list[Section]) -> list[Section]:
    """Each key said once. In a section, a key that a described binding of ours (one with an id)
    has is left out of a row without an id: Textual's own ``tab Focus Next`` goes where the app's
    priority ``tab Next field`` is what Tab does. A focused widget's row whose keys and action the
    screen's keys already list (the item screen's b/a/l and its canvas's) is left out too. A key
    the screen binds is left out of the app's keys: the screen's binding is what it does there
    (Evaluation's ``esc`` is ``evaluation.back``, not ``app.back`` again). A row whose keys are all
    left out goes; sections keep their order, and a section left empty goes."""
    said = {(keys, desc) for title, rows in sections if not title.startswith(WIDGET_SECTION)
            for keys, desc, _bid in rows}
    screens = {key for title, rows in sections if title == SCREEN_SECTION
               for keys, _desc, _bid in rows for key in keys.split(", ")}
    out: list[Section] = []
    for title, rows in sections:
        ours = {key for keys, _desc, bid in rows if bid for key in keys.split(", ")}
        won = screens if title != SCREEN_SECTION and not title.startswith(WIDGET_SECTION) else set()
        kept = []
        for keys, desc, bid in rows:
            if title.startswith(WIDGET_SECTION) and (keys, desc) in said:
                continue
            left = [k for k in keys.split(", ") if k not in won and (bid or k not in ours)]
            if left:
                kept.append((", ".join(left), desc, bid))
        if kept:
            out.append((title, kept))
    return out


class HelpScreen(SafeTitles, ModalScreen[None]):
    """Every text here (a screen's title, key names from the user's keymap, help) goes through ``lit()``."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $accent;
        background: $surface; padding: 0 1; }
    HelpScreen .help-title { text-style: bold; color: $accent; margin-top: 1; }
    """

    def __init__(self, screen_title: str, sections: list[tuple[str, list[tuple[str, str, str]]]],
                 widget_help: str | None, screen_help: str | None) -> None:
        """``sections``: (title, rows of (keys, action, binding id)), in the order shown: the screen's
        own keys, the app's, the focused widget's (see ``AnnotrainApp.help_sections``)."""
        super().__init__()
        self._screen_title = screen_title
        self._sections = sections
        self._widget_help = widget_help
        self._screen_help = screen_help

    @property
    def key_rows(self) -> list[tuple[str, str, str]]:
        """Every (keys, action, binding id) row, in the order shown."""
        return [row for _title, rows in self._sections for row in rows]

    _key_rows = key_rows  # the name older tests read

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(lit(f"Help: {self._screen_title}"), classes="help-title")
            if self._screen_help:
                yield Static(lit(self._screen_help, multiline=True))
            widget_keys: list[tuple[str, str, str]] = []
            for n, (title, rows) in enumerate(self._sections):
                if title.startswith(WIDGET_SECTION):
                    widget_keys = rows  # last, and short: one wrapped paragraph
                    continue
                yield Static(lit(title), classes="help-title")
                table = Table(show_header=n == 0, header_style="bold", box=None, expand=True)
                table.add_column("Key", no_wrap=True, min_width=10)
                table.add_column("Action", ratio=1)
                table.add_column("Binding id", style="dim", no_wrap=True)
                for key, desc, bid in rows:
                    action = lit(desc)
                    action.no_wrap, action.overflow = False, "fold"  # wrapped, never cut with "…"
                    table.add_row(lit(key), action, lit(bid))
                yield Static(table, classes="help-keys")
            if self._widget_help or widget_keys:
                yield Static(Text("Focused widget"), classes="help-title")
            if self._widget_help:
                yield Static(lit(self._widget_help, multiline=True))
            if widget_keys:
                line = Text(style="dim")
                for n, (key, desc, _bid) in enumerate(widget_keys):
                    if n:
                        line.append("  ·  ")
                    line.append_text(lit(key, "bold"))
                    line.append(" ")
                    line.append_text(lit(desc))
                line.no_wrap = False
                yield Static(line, classes="help-widget-keys")
            yield Static(Text("Rebind any key in config.toml under [keymap] by its binding id, e.g. "
                              "\"app.help\" = \"f2\". Ctrl+P opens the command palette (every action above "
                              "is there too).", style="dim"))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
