"""The manifest editor's dialogs: save / discard / cancel for unsaved edits, where a template goes,
the quick-fix picker and the whole message of one problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, OptionList, Static
from textual.widgets.option_list import Option

from annotrain_tui.core.manifest.diagnostics import Diagnostic
from annotrain_tui.core.manifest.fixes import Fix
from annotrain_tui.core.text import shown
from annotrain_tui.tui.widgets.dialogs import Dialog, PathDialog


def one_line(value: object, style: str = "") -> Text:
    """Untrusted text (from the file, its name, the user) as a one-line rich Text, never markup:
    escaped by the one policy, :func:`annotrain_tui.core.text.shown`."""
    return Text(shown(value), style=style, no_wrap=True, overflow="ellipsis")


class SaveAsDialog(PathDialog):
    """The editor's Save as: the app's path dialog (stays open on a bad path, starts in the folder last
    saved to), except that a path typed into the editor's path field but not opened is where it starts
    (what the user meant by pressing Ctrl+S)."""

    def __init__(self, *, typed: Path | None, name: str, start_dir: Path | None,
                 check: Callable[[Path], str | None] | None = None) -> None:
        super().__init__("Save the manifest as", typed.name if typed is not None else name, recent_key="save_dir",
                         label="File (.json or .csv)", check=check, start_dir=start_dir)
        self._typed = typed

    def start_directory(self) -> Path:
        return self._typed.parent if self._typed is not None else super().start_directory()


class UnsavedDialog(Dialog[str]):
    """Save / save as / discard / cancel, for unsaved edits (Save as: when the open file cannot be
    written, the edits can still go elsewhere before going on)."""

    BINDINGS = [
        Binding("s", "choose('save')", "Save", id="unsaved.save"),
        Binding("a", "choose('save_as')", "Save as", id="unsaved.save_as"),
        Binding("d", "choose('discard')", "Discard", id="unsaved.discard"),
        Binding("escape,c", "choose('cancel')", "Cancel", id="unsaved.cancel"),
    ]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self._title, self._body = title, body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title), classes="dialog-title")
            yield Static(self._body)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Discard (d)", id="discard", variant="error")
                yield Button("Save as (a)", id="save_as")
                yield Button("Save (s)", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class TemplateDialog(Dialog[str]):
    """Ctrl+T with text in the editor: replace it with the template, start a new untitled manifest,
    or cancel (a template never replaces an open file's text without asking)."""

    BINDINGS = [
        Binding("r", "choose('replace')", "Replace", id="template.replace"),
        Binding("n", "choose('new')", "New manifest", id="template.new"),
        Binding("escape,c", "choose('cancel')", "Cancel", id="template.cancel"),
    ]

    def __init__(self, body: Text) -> None:
        super().__init__()
        self._body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Template"), classes="dialog-title")
            yield Static(self._body)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Replace the text (r)", id="replace", variant="warning")
                yield Button("New manifest (n)", id="new", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#new", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class MessageDialog(Dialog[None]):
    """The whole message of one problem, wrapped (the list and the detail pane cut long ones)."""

    DEFAULT_CSS = """
    MessageDialog > Vertical { width: 90; }
    MessageDialog .dialog-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape,enter,f3", "close", "Close", id="message.close")]

    def __init__(self, diagnostic: Diagnostic, how: str = "") -> None:
        """``how``: the TUI's rendering of what helps (``tui.remedies.remedy_text`` of its ``see``)."""
        super().__init__()
        self._diagnostic = diagnostic
        self._how = how

    def compose(self) -> ComposeResult:
        d = self._diagnostic
        where = f" at {d.line}:{d.column or 1}" if d.line is not None else ""
        with Vertical():
            yield Static(Text(f"{d.severity.capitalize()} {shown(d.code)}{where}"), classes="dialog-title")
            message = one_line(d.said(self._how))
            message.no_wrap, message.overflow = False, "fold"
            yield Static(message, id="message-text")
            yield Static(Text("Enter or Esc closes · F4 offers a quick fix"), classes="dialog-keys")

    def action_close(self) -> None:
        self.dismiss(None)


class FixOptions(OptionList):
    """The fix list: Enter applies the highlighted fix, and the footer says so."""

    BINDINGS = [Binding("enter", "select", "Apply fix", id="fix.apply")]
    HELP = "Up/Down pick a fix, Enter applies it (Ctrl+Z undoes it), Escape cancels."

    def action_select(self) -> None:
        if self.option_count:
            super().action_select()
        elif isinstance(self.screen, FixPicker):  # nothing to pick: the dialog's Enter (close it)
            self.screen.action_apply()


class FixPicker(Dialog["str | None"]):
    """The quick fixes available for one diagnostic; Enter applies the highlighted one.

    Pushed at once on F4 (``fixes=None``: "looking…") and filled in when the fixes are found, so a
    key meant for the dialog (Enter above all) always reaches the dialog, never the file; while it
    looks, Enter does nothing. Its keys are written in it and shown by the footer. When there is no
    fix (or no problem at the cursor: ``diagnostic=None``) it says so and stays until Enter or Esc.
    """

    DEFAULT_CSS = """
    FixPicker OptionList { height: auto; max-height: 10; margin-top: 1; }
    FixPicker .dialog-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("enter", "apply", "Apply fix", show=False, id="fix.apply-waiting"),
        Binding("escape", "cancel", "Cancel", id="fix.cancel"),
    ]
    KEYS = "Enter applies the highlighted fix · ↑/↓ choose · Esc cancels · then Ctrl+Z undoes it"

    def __init__(self, diagnostic: Diagnostic | None, fixes: list[Fix] | None = None, *,
                 none: str | None = None) -> None:
        super().__init__()
        self._none = none  # the "no fix" message to show at once
        self._diagnostic = diagnostic
        self._fixes: list[Fix] | None = None
        self._initial = fixes

    def compose(self) -> ComposeResult:
        d = self._diagnostic
        where = f" at {d.line}:{d.column or 1}" if d is not None and d.line is not None else ""
        with Vertical():
            yield Static(Text(f"Quick fix: {shown(d.code)}{where}" if d is not None else "Quick fix"),
                         classes="dialog-title")
            message = one_line(d.message if d is not None else "")
            message.no_wrap, message.overflow = False, "fold"
            yield Static(message)
            yield Static(Text("Looking for fixes…"), id="fix-status")
            yield FixOptions(id="fix-options")
            yield Static(Text(self.KEYS), classes="dialog-keys", id="fix-keys")
        yield Footer()

    def on_mount(self) -> None:
        if self._none is not None:
            self.show_none(self._none)
            return
        self.query_one(OptionList).focus()
        if self._initial is not None:
            self.show_fixes(self._initial)

    @property
    def fixes(self) -> list[Fix] | None:
        """The fixes shown (None while they are looked for)."""
        return self._fixes

    def show_fixes(self, fixes: list[Fix]) -> None:
        self._fixes = list(fixes)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(one_line(f.title), id=f.id) for f in self._fixes])
        options.highlighted = 0 if self._fixes else None
        self.query_one("#fix-status", Static).display = False
        options.focus()

    def show_none(self, message: str) -> None:
        """No fix to offer: say so; Enter or Esc closes the dialog (the key never reaches the file)."""
        self._fixes = []
        self.query_one("#fix-status", Static).update(one_line(message, "yellow"))
        self.query_one("#fix-status", Static).display = True
        options = self.query_one(OptionList)
        options.display, options.disabled = False, True  # never focused again: Enter is the dialog's
        self.query_one("#fix-keys", Static).update(Text("Enter or Esc closes"))
        self.set_focus(None)

    def fix(self, fix_id: str | None) -> Fix | None:
        return next((f for f in self._fixes or [] if f.id == fix_id), None)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self._fixes is not None:
            self.dismiss(event.option.id)

    def action_apply(self) -> None:
        """Enter when the list does not take it (still looking): apply the highlighted fix, or nothing."""
        options = self.query_one(OptionList)
        if self._fixes == []:  # nothing to offer: Enter closes
            self.dismiss(None)
        elif self._fixes and options.highlighted is not None:
            self.dismiss(self._fixes[options.highlighted].id)

    def action_cancel(self) -> None:
        self.dismiss(None)

