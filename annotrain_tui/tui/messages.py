"""Helpers every screen uses: literal text for untrusted strings, workers' error handling."""

from __future__ import annotations

from rich.text import Text


def lit(value: object, style: str = "") -> Text:
    """Untrusted text shown literally: never parsed as markup; control characters made visible."""
    text = "" if value is None else str(value)
    if any(not ch.isprintable() for ch in text):
        text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")
