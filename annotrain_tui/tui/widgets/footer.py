"""KeyFooter: the keys of the screen, by priority, on one line that never loses F1 or the palette.

Textual's ``Footer`` lays every shown binding out left to right and lets the line run off the
screen: at 80 columns F1, Esc and half the actions were cut, sometimes in the middle of a key
(``f▏``). KeyFooter draws one line itself:

- on the right, always: the help key and the command palette key (whatever the keymap made them);
- on the left, whole keys only, as many as fit, in this order: the screen's own bindings (in the
  order they are declared), Escape when it does something, the focused widget's bindings, the app's
  (Quit), and last the bindings the screen lists in ``FOOTER_SECONDARY`` (by id or action name);
- while a text field has the focus, no key the field takes as typed text (``c``, ``/``, space):
  pressing it types, so showing it as an action would be a lie.

Every key is also in the command palette and in F1, so a key that does not fit is never lost.
``AppScreen`` puts a KeyFooter where a screen composes Textual's ``Footer``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.keys import key_to_character
from textual.widget import Widget
from textual.widgets import Input

from annotrain_tui.core.text import shown


def _editable_text_area(widget: Widget | None) -> bool:
    """A TextArea that takes typing, without importing TextArea (with its tree-sitter and document
    modules) for a screen that has none: no widget can be one while its module is not loaded."""
    module = sys.modules.get("textual.widgets._text_area")
    return module is not None and isinstance(widget, module.TextArea) and not widget.read_only


SEPARATOR = "  "
HELP_ACTIONS = {"help", "app.help"}
PALETTE_ACTIONS = {"command_palette", "app.command_palette"}


@dataclass(frozen=True)
class FooterItem:
    key: str  # the key to simulate on a click
    display: str  # how the key is shown
    description: str

    @property
    def text(self) -> str:
        return f"{self.display} {self.description}" if self.description else self.display

    @property
    def width(self) -> int:
        return cell_len(self.text)


class KeyFooter(Widget, can_focus=False):
    DEFAULT_CSS = """
    KeyFooter { dock: bottom; height: 1; background: $footer-background; color: $footer-foreground; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: object) -> None:
        self.refresh()

    # -- what is shown ------------------------------------------------------------------------
    def _display(self, binding: Binding) -> str:
        return shown(self.app.get_key_display(binding))

    def fixed_items(self) -> list[FooterItem]:
        """The help and palette keys (always shown, on the right)."""
        items: dict[str, FooterItem] = {}
        for key, active in self.screen.active_bindings.items():
            action = active.binding.action
            if action in HELP_ACTIONS and "help" not in items:
                items["help"] = FooterItem(key, self._display(active.binding), "Help")
            elif action in PALETTE_ACTIONS and "palette" not in items:
                items["palette"] = FooterItem(key, self._display(active.binding), "palette")
        return [items[k] for k in ("help", "palette") if k in items]

    def ranked_items(self) -> list[FooterItem]:
        """Every other shown key, most important first (see the module docstring)."""
        screen, app = self.screen, self.app
        secondary: set[str] = set(getattr(screen, "FOOTER_SECONDARY", ()) or ())
        own: list[FooterItem] = []
        escape: list[FooterItem] = []
        widgets: list[FooterItem] = []
        app_keys: list[FooterItem] = []
        low: list[FooterItem] = []
        seen: set[tuple[int, str]] = set()
        focused = screen.focused
        typing = isinstance(focused, Input) or _editable_text_area(focused)
        for key, active in screen.active_bindings.items():
            binding, node = active.binding, active.node
            action = binding.action
            if action in HELP_ACTIONS or action in PALETTE_ACTIONS:
                continue
            char = key_to_character(key) if typing else None
            if char is not None and char.isprintable() and node is not focused:
                continue  # the field takes this key as text (Escape's "\x1b" types nothing: it stays)
            if key == "escape":
                if binding.description and (node is not app or len(app.screen_stack) > 2):
                    escape.append(FooterItem(key, self._display(binding), binding.description))
                continue
            if not binding.show or not binding.description:
                continue
            if (id(node), action) in seen:  # a second key of the same action
                continue
            seen.add((id(node), action))
            item = FooterItem(key, self._display(binding), shown(binding.description))
            node_secondary = set(getattr(node, "FOOTER_SECONDARY", ()) or ())
            if {binding.id or "", action} & (secondary | node_secondary):
                low.append(item)
            elif node is screen:
                own.append(item)
            elif node is app:
                app_keys.append(item)
            else:
                widgets.append(item)
        return [*own, *escape, *widgets, *app_keys, *low]

    def layout_items(self, width: int) -> tuple[list[FooterItem], list[FooterItem]]:
        """(left items that fit whole, right items) for a line of ``width`` cells."""
        right = self.fixed_items()
        right_width = sum(i.width for i in right) + len(SEPARATOR) * max(0, len(right) - 1)
        room = width - right_width - 2  # a space at each end
        left: list[FooterItem] = []
        used = 0
        for item in self.ranked_items():
            need = item.width + (len(SEPARATOR) if left else 0)
            if used + need > room - len(SEPARATOR):
                continue  # a shorter, later key may still fit
            left.append(item)
            used += need
        return left, right

    def render(self) -> Text:
        width = self.size.width
        left, right = self.layout_items(width)
        key_style = Style(bold=True, color=self.app.current_theme.accent) if self.app.current_theme else Style(bold=True)
        text = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, str]] = []

        def put(items: list[FooterItem]) -> None:
            for n, item in enumerate(items):
                if n:
                    text.append(SEPARATOR)
                start = text.cell_len
                text.append(item.display, key_style)
                if item.description:
                    text.append(" " + item.description)
                spans.append((start, text.cell_len, item.key))

        text.append(" ")
        put(left)
        right_width = sum(i.width for i in right) + len(SEPARATOR) * max(0, len(right) - 1)
        text.append(" " * max(1, width - text.cell_len - right_width - 1))
        put(right)
        self._spans = spans
        return text

    @property
    def plain(self) -> str:
        """The footer's text as drawn at its current width (for tests)."""
        return self.render().plain

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
