"""SafeInput: a text field whose value is always safe to draw.

Textual's Input draws its value as it is: a value set from a file name, a roster cell, a command
line option or a paste could put an escape sequence, a bidi override or a lone surrogate on the
terminal. SafeInput's value goes through the one untrusted-text policy (core.text.shown) on
every assignment (typed, pasted or set by code), so what is drawn is what is stored and every raw
character is escaped visibly. Forms that must hand back a raw value the user did not edit (see
``FormDialog``) compare with ``shown(original)``.
"""

from __future__ import annotations

from typing import Any

from textual.actions import SkipAction
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input

from annotrain_tui.core.text import shown


class SafeInput(Input):
    """Keys, the same in every field of the app:

    - Escape clears the field when it holds text; in an empty field it leaves the field (the focus
      moves on, as with Tab), so a second Escape is the screen's (Back). It never leaves the screen
      with what was typed (trial item 27: Escape in the Pick filter went back to Home). In a modal
      dialog Escape is always the dialog's Cancel (the field's text goes with the dialog).
    - Enter submits (``Input.Submitted``; FormDialog and the screens act on it).
    - Focusing a field does not select its text, so typing after Tab appends to a prefilled value
      instead of replacing it (trial item 26).
    """

    BINDINGS = [Binding("escape", "clear_or_leave", "Clear field", show=False, id="field.escape")]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)

    def action_clear_or_leave(self) -> None:
        if isinstance(self.screen, ModalScreen):
            raise SkipAction()  # the dialog's Escape: Cancel
        if self.value:
            self.clear()
        else:
            self.screen.focus_next()

    def validate_value(self, value: Any) -> str:
        return shown(value)
