"""Modal dialogs: a yes/no confirmation and a small form. Text is always shown literally, through
the one untrusted-text policy (``lit()``); form fields are ``SafeInput``s."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from annotrain_tui.core.text import shown
from annotrain_tui.tui.screens.base import SafeTitles
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.inputs import SafeInput

DIALOG_CSS = """
{cls} {{ align: center middle; }}
{cls} > Vertical {{ width: 70; max-width: 95%; height: auto; max-height: 90%; border: round $accent;
    background: $surface; padding: 0 1; }}
{cls} .dialog-title {{ text-style: bold; color: $accent; }}
{cls} .dialog-buttons {{ height: auto; align-horizontal: right; margin-top: 1; }}
{cls} .dialog-buttons Button {{ margin-left: 1; min-width: 10; }}
{cls} Input {{ margin-bottom: 0; }}
{cls} .field-error {{ color: $error; height: auto; }}
"""


class ConfirmDialog(SafeTitles, ModalScreen[bool]):
    """Yes (y) or no (n, Escape); Enter presses the focused button: No at first, Yes when
    ``enter_says_yes`` (a question the user just asked for, such as "overwrite the file I named?")."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="ConfirmDialog")
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: str | Text, *, yes: str = "Yes", no: str = "No",
                 enter_says_yes: bool = False) -> None:
        super().__init__()
        self._title, self._body, self._yes, self._no = title, body, yes, no
        self._enter_says_yes = enter_says_yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(lit(self._title), classes="dialog-title")
            yield Static(self._body if isinstance(self._body, Text) else lit(self._body, multiline=True))
            with Horizontal(classes="dialog-buttons"):
                yield Button(lit(f"{self._no} (n)"), id="no")
                yield Button(lit(f"{self._yes} (y)"), id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#yes" if self._enter_says_yes else "#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class FormDialog(SafeTitles, ModalScreen["dict[str, str] | None"]):
    """Fields are (key, label, initial value). ``validate`` returns an error message or None.

    An initial value is shown through the policy (escaped visibly); a field the user did not
    edit gives back its initial value as it was, so opening and saving a form never rewrites a
    value that held a control character."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="FormDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form.cancel")]

    def __init__(self, title: str, fields: list[tuple[str, str, str]], *, validate=None, submit: str = "Save") -> None:
        super().__init__()
        self._title, self._fields, self._validate, self._submit = title, fields, validate, submit

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(lit(self._title), classes="dialog-title")
            for key, label, value in self._fields:
                yield Label(lit(label))
                yield SafeInput(value=value, id=f"field-{key}")
            yield Static(Text(""), classes="field-error", id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button(lit(f"{self._submit} (enter)"), id="submit", variant="primary")

    def values(self) -> dict[str, str]:
        out = {}
        for key, _, initial in self._fields:
            value = self.query_one(f"#field-{key}", SafeInput).value
            out[key] = initial if initial is not None and value == shown(initial) else value
        return out

    def _submit_form(self) -> None:
        values = self.values()
        error = self._validate(values) if self._validate else None
        if error:
            self.query_one("#form-error", Static).update(lit(error, multiline=True))
            return
        self.dismiss(values)

    def on_input_submitted(self, event: SafeInput.Submitted) -> None:
        event.stop()
        self._submit_form()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self._submit_form()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
