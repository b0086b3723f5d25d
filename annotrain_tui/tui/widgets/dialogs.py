"""Modal dialogs: the ``Dialog`` base (one look for every dialog), a yes/no confirmation, a small
form, a path form that stays open on a bad path and starts in the last directory used, and a
choice list. Text is always shown literally, through the one untrusted-text policy (``lit()``);
form fields are ``SafeInput``s.

Escape in a dialog is always Cancel, even from a field holding text (``SafeInput`` steps aside in
a modal); outside dialogs Escape in a field clears it first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, ScreenResultType
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from annotrain_tui.core.text import shown
from annotrain_tui.tui.screens.base import SafeTitles
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.inputs import SafeInput


class Dialog(SafeTitles, ModalScreen[ScreenResultType]):
    """The base of every dialog: its DEFAULT_CSS styles each subclass (Textual's type selectors match
    subclasses), so a dialog is a ``Vertical`` with a ``.dialog-title``, its body and a
    ``.dialog-buttons`` row, and looks like the others without copying CSS."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical { width: 70; max-width: 95%; height: auto; max-height: 90%; border: round $accent;
        background: $surface; padding: 0 1; }
    Dialog > OptionList { width: 60; max-width: 95%; height: auto; max-height: 80%; border: round $accent; }
    Dialog .dialog-title { text-style: bold; color: $accent; }
    Dialog .dialog-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    Dialog .dialog-buttons Button { margin-left: 1; min-width: 10; }
    Dialog Input { margin-bottom: 0; }
    Dialog .field-error { color: $error; height: auto; }
    """


class ConfirmDialog(Dialog[bool]):
    """Yes (y) or no (n, Escape); Enter presses the focused button: No at first, Yes when
    ``enter_says_yes`` (a question the user just asked for, such as "overwrite the file I named?")."""

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


class _Form(Dialog[ScreenResultType]):
    """A dialog of labelled fields, an error line and Cancel/Submit: Enter in a field or the submit
    button runs ``_submit_form`` (which answers, or shows an error and stays open), Escape or
    Cancel answers None. Subclasses give the fields (``field_rows``) and ``_submit_form``."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form.cancel")]
    _title: str
    _submit: str

    def field_rows(self) -> list[tuple[str, str, str]]:
        """(id, label, initial value) of each field, in order."""
        raise NotImplementedError

    def _submit_form(self) -> None:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(lit(self._title), classes="dialog-title")
            for key, label, value in self.field_rows():
                yield Label(lit(label))
                yield SafeInput(value=value, id=f"field-{key}")
            yield Static(Text(""), classes="field-error", id="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button(lit(f"{self._submit} (enter)"), id="submit", variant="primary")

    def show_error(self, error: str) -> None:
        """Say what is wrong under the fields; the dialog stays open with what was typed."""
        self.query_one("#form-error", Static).update(lit(error, multiline=True))

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


class FormDialog(_Form["dict[str, str] | None"]):
    """Fields are (key, label, initial value). ``validate`` returns an error message or None.

    An initial value is shown through the policy (escaped visibly); a field the user did not
    edit gives back its initial value as it was, so opening and saving a form never rewrites a
    value that held a control character."""

    def __init__(self, title: str, fields: list[tuple[str, str, str]], *, validate=None, submit: str = "Save") -> None:
        super().__init__()
        self._title, self._fields, self._validate, self._submit = title, fields, validate, submit

    def field_rows(self) -> list[tuple[str, str, str]]:
        return self._fields

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
            self.show_error(error)
            return
        self.dismiss(values)


class PathDialog(_Form["Path | None"]):
    """A form asking for one file path (Save as, Export to).

    - It starts in the directory the user last saved or exported to (``recent_key``: "save_dir" or
      "export_dir", remembered per workspace), not in the process's working directory.
    - ``check(path)`` returns an error line or None; on an error the dialog stays open, says so
      under the field and keeps what was typed (trial item 35: the error closed the dialog and the
      path had to be typed again). A path that cannot be expanded (``~nobody``), a directory, or a
      missing parent directory is such an error before ``check`` runs.
    - It answers with the expanded ``Path`` (None when cancelled); the directory is remembered once
      the path is accepted.
    """

    def __init__(self, title: str, default_name: str, *, recent_key: str, label: str = "File",
                 check: Callable[[Path], str | None] | None = None, submit: str = "Save",
                 start_dir: Path | None = None) -> None:
        super().__init__()
        self._title, self._label, self._submit = title, label, submit
        self._recent_key = recent_key
        self._check = check
        self._start_dir = start_dir
        self._default_name = default_name

    def _recent(self):  # noqa: ANN202 - core.recent.Recent, or None off a workspace
        recent = getattr(getattr(self.app, "workspace", None), "recent", None)
        return recent() if callable(recent) else None

    def start_directory(self) -> Path:
        """Where the dialog starts: the remembered directory when it still exists, else the given
        one, else the working directory."""
        recent = self._recent()
        remembered = recent.get(self._recent_key) if recent is not None else None
        for candidate in (remembered, self._start_dir):
            if candidate and Path(candidate).is_dir():
                return Path(candidate)
        return Path.cwd()

    def field_rows(self) -> list[tuple[str, str, str]]:
        start = self.start_directory()
        return [("path", self._label, str(start / self._default_name) if self._default_name else str(start) + "/")]

    def on_mount(self) -> None:
        field = self.query_one("#field-path", SafeInput)
        field.cursor_position = len(field.value)
        field.focus()

    def checked(self, text: str) -> tuple[Path | None, str | None]:
        """(the path, None) when ``text`` is a usable file path, else (None, the error line)."""
        from annotrain_tui.core.errors import AnnotrainError
        from annotrain_tui.core.files import user_path

        text = text.strip()
        if not text:
            return None, "Type a file path."
        try:
            path = user_path(text)
        except AnnotrainError as err:
            return None, str(err)
        if path.is_dir():
            return None, f"{shown(path)} is a directory: add a file name."
        if not path.parent.is_dir():
            return None, f"No directory {shown(path.parent)}: create it first, or choose another."
        error = self._check(path) if self._check is not None else None
        return (None, error) if error else (path, None)

    def _submit_form(self) -> None:
        path, error = self.checked(self.query_one("#field-path", SafeInput).value)
        if path is None:
            self.show_error(error or "")
            return
        recent = self._recent()
        if recent is not None:
            recent.set(**{self._recent_key: str(path.parent)})
        self.dismiss(path)


class ChoiceDialog(Dialog["str | None"]):
    """Pick one of ``choices`` (key, label): Enter answers the key, Escape None. The cursor starts
    on ``current`` (a key of ``choices``, e.g. the setting in force), else on the first."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]], current: str | None = None) -> None:
        super().__init__()
        self._title, self._choices, self._current = title, choices, current

    def compose(self) -> ComposeResult:
        ol = OptionList(*[Option(lit(label), id=key) for key, label in self._choices])
        ol.border_title = lit(self._title)
        keys = [key for key, _label in self._choices]
        if self._current in keys:
            ol.highlighted = keys.index(self._current)
        yield ol

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
