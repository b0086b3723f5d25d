"""Untrusted text on screen: the rich wrapper over the one policy (core.text) and the last-line filter."""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.color import Color
from textual.filter import LineFilter

from annotrain_tui.core.text import is_clean, shown

#: what the line filter draws for a raw character a widget let through (one per cell it took)
REPLACEMENT = "\ufffd"


def lit(value: object, style: str = "", *, multiline: bool = False, limit: int | None = None) -> Text:
    """Untrusted text shown literally: never parsed as markup; made safe by the one policy,
    :func:`annotrain_tui.core.text.shown` (controls, bidi, format characters and lone surrogates
    escaped visibly; LF kept only when ``multiline``)."""
    return Text(shown(value, multiline=multiline, limit=limit), style=style, no_wrap=not multiline,
                overflow="ellipsis")


def _unraw(text: str) -> str:
    return "".join(ch if is_clean(ch) else REPLACEMENT * cell_len(ch) for ch in text)


class RawTextFilter(LineFilter):
    """The app's last line of defence, applied to every line every widget renders.

    Text reaches the screen through ``lit()``/``shown()``, which escape raw characters visibly. A
    widget that forgot to (a screen written tomorrow, a third-party widget) would send an escape
    sequence, a bidi override or a lone surrogate to the terminal; this filter replaces any such
    character (the policy's own test, :func:`core.text.is_clean`) by U+FFFD in as many cells as it
    took, so the layout is unchanged and nothing raw is ever written.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if all(seg.control or is_clean(seg.text) for seg in segments):
            return segments
        return [seg if seg.control or is_clean(seg.text) else Segment(_unraw(seg.text), seg.style, seg.control)
                for seg in segments]


def typed_path(widget, text: str):
    """A path the user typed into a field, expanded the one way (``core.files.user_path``): ``~nonuser``
    or a NUL becomes a toast on ``widget`` and None, never an exception in an event handler."""
    from annotrain_tui.core.errors import AnnotrainError
    from annotrain_tui.core.files import user_path

    try:
        return user_path(text.strip())
    except AnnotrainError as err:
        widget.notify(str(err), title="Path", severity="error", markup=False)
        return None
