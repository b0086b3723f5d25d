"""Help: the keys of the screen you came from, global keys, and help for the focused widget."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from annotrain_tui.tui.text import lit
from annotrain_tui.tui.screens.base import SafeTitles


class HelpScreen(SafeTitles, ModalScreen[None]):
    """Every text here (a screen's title, key names from the user's keymap, help) goes through ``lit()``."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $accent;
        background: $surface; padding: 0 1; }
    HelpScreen .help-title { text-style: bold; color: $accent; margin-top: 1; }
    """

    def __init__(self, screen_title: str, bindings: list[tuple[str, str, str]], widget_help: str | None,
                 screen_help: str | None) -> None:
        super().__init__()
        self._screen_title = screen_title
        self._key_rows = bindings
        self._widget_help = widget_help
        self._screen_help = screen_help

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(lit(f"Help: {self._screen_title}"), classes="help-title")
            if self._screen_help:
                yield Static(lit(self._screen_help, multiline=True))
            if self._widget_help:
                yield Static(Text("Focused widget"), classes="help-title")
                yield Static(lit(self._widget_help, multiline=True))
            yield Static(Text("Keys"), classes="help-title")
            table = Table(show_header=True, header_style="bold", box=None, expand=True)
            table.add_column("Key", no_wrap=True)
            table.add_column("Action")
            table.add_column("Binding id", style="dim", no_wrap=True)
            for key, desc, bid in self._key_rows:
                table.add_row(lit(key), lit(desc), lit(bid))
            yield Static(table)
            yield Static(Text("Rebind any key in config.toml under [keymap] by its binding id, e.g. "
                              "\"app.help\" = \"f2\". Ctrl+P opens the command palette.", style="dim"))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
