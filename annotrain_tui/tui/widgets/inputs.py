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

from textual.widgets import Input

from annotrain_tui.core.text import shown


class SafeInput(Input):
    def validate_value(self, value: Any) -> str:
        return shown(value)
