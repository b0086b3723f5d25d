"""The one untrusted-text policy: how any string from a file, a server or the user is made safe to show.

Every front shows untrusted strings (titles, emails, class names, file paths, server messages,
parts of a user's file) through :func:`shown`. It escapes, visibly and reversibly:

- C0 and C1 control characters (NUL, ESC, CSI ``\\x9b``, BEL, DEL, and CR/LF/TAB in one-line
  fields), so no escape sequence (CSI, OSC 0/2 window title, OSC 52 clipboard) reaches a terminal;
- bidi embeddings, overrides, isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F,
  U+061C), so text cannot be shown in another order than it is stored;
- every other format character (zero-width space and joiners, soft hyphen, BOM), line and
  paragraph separators, unassigned and private-use code points;
- lone surrogates (``\\udc80``, as ``surrogateescape`` leaves undecodable bytes), which no
  terminal, clipboard or UTF-8 file can carry.

Escapes look like Python's: ``\\x1b``, ``\\u202e``, ``\\udc80``, ``\\U000e0001``. A backslash is
left as it is (the output is for reading, not for parsing back). Markup is never interpreted
here: the TUI wraps the result in ``rich.text.Text`` (see ``tui.text.lit``), never in markup.

It also removes key text (``core.secrets.redact``) before anything else, so a private key pasted
where a path or a name belongs is never shown, not even cut to a column's width.

Pure Python, no imports beyond the standard library: the CLI imports it on every start.
"""

from __future__ import annotations

import unicodedata

from annotrain_tui.core.secrets import redact

__all__ = ["shown", "shown_lines", "is_clean", "escape_char", "truncate", "json_text", "output_text"]

# Space separators are safe to show as they are (one cell wide, no terminal effect); the rest of
# what str.isprintable() rejects (Cc, Cf, Cs, Co, Cn, Zl, Zp) is escaped.
_SAFE_CATEGORIES = frozenset({"Zs"})
# Shorter text cannot hold a key body line (secrets._MIN_BLOB) unless it has armour ("-----") or
# starts a public key ("ssh-ed25519 AAAA…"): so shown(x) removes all that secrets.redact(x) would.
_KEY_TEXT_MIN = 60


def escape_char(ch: str) -> str:
    """The visible escape of one character: ``\\x1b``, ``\\u202e``, ``\\udc80``, ``\\U000e0001``."""
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _keep(ch: str, multiline: bool) -> bool:
    if ch.isprintable():
        return True
    if multiline and ch == "\n":
        return True
    return unicodedata.category(ch) in _SAFE_CATEGORIES


def is_clean(text: str, *, multiline: bool = False) -> bool:
    """True when :func:`shown` would return ``text`` unchanged."""
    if text.isprintable():
        return True
    return all(_keep(ch, multiline) for ch in text)


def refuse_hidden_characters(text: str, what: str) -> None:
    """Refuse (InvalidInput) a name annotrain would send to a server that holds a character
    :func:`shown` would escape (a control, bidi or format character), naming it as ``U+XXXX NAME``."""
    import unicodedata

    from annotrain_tui.core.errors import InvalidInput

    for ch in text:
        if not _keep(ch, False):
            raise InvalidInput(f"{what} '{shown(text, limit=80)}' contains the character U+{ord(ch):04X} "
                               f"{unicodedata.name(ch, 'control character')}",
                               hint="retype the name (hidden characters come in with pasted text)")


def shown(value: object, *, multiline: bool = False, limit: int | None = None) -> str:
    """``value`` as text that is safe to put on a terminal, in a title, a toast or the clipboard.

    ``multiline`` keeps LF (one-line fields escape it, like CR and TAB, which are always escaped).
    ``limit`` truncates the result to that many characters, ending it with ``…``.
    ``None`` is shown as the empty string. Non-strings go through ``str()`` first; a ``bytes``
    value is decoded as UTF-8 with undecodable bytes escaped.
    """
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("utf-8", "surrogateescape")
    else:
        try:
            text = str(value)
        except Exception:  # a hostile __str__ must not take the front down
            text = f"<{type(value).__name__}>"
    if len(text) >= _KEY_TEXT_MIN or "-----" in text or "AAAA" in text:  # what secrets.redact can find
        text = redact(text)  # key text never shows, whole or cut (redacted before any truncation)
    if not text.isprintable():
        pieces = [ch if _keep(ch, multiline) else escape_char(ch) for ch in text]
        if limit is not None and sum(map(len, pieces)) > limit:  # cut between escapes, never inside one
            kept, size = [], 0
            for piece in pieces:
                if size + len(piece) > limit - 1:
                    break
                kept.append(piece)
                size += len(piece)
            return "".join(kept) + "…" if limit > 0 else ""
        text = "".join(pieces)
    if limit is not None:
        text = truncate(text, limit)
    return text


def shown_lines(value: object, *, limit: int | None = None) -> str:
    """:func:`shown` for multi-line text: LF kept, CRLF and lone CR turned into LF first."""
    text = value if isinstance(value, str) else shown(value, multiline=True)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return shown(text, multiline=True, limit=limit)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one ``…`` when something was cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code > 0xFFFF:  # JSON escapes astral characters as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_text(text: str) -> str:
    """JSON text (as ``json.dumps(..., ensure_ascii=False)`` writes it) made safe to print: every
    character :func:`shown` would escape becomes a JSON ``\\uXXXX`` escape. The document means
    exactly the same (a reader gets the same strings back, lone surrogates included); only what a
    terminal would act on — C1 controls, bidi, format characters, surrogates — no longer appears raw.
    C0 controls are escaped by ``json.dumps`` already; structure (LF, spaces) is kept."""
    if text.isascii():
        return text.replace("\x7f", "\\u007f")
    return _escape_unsafe(text, "\n", _json_escape)


def output_text(text: str) -> str:
    """The last gate before a terminal: what a front writes to stdout/stderr, with LF and TAB (its
    own layout) kept and everything else :func:`shown` would escape escaped. Text that went
    through :func:`shown` or :func:`json_text` passes unchanged; a line a command forgot to pass
    through them cannot carry an escape sequence, a bidi override or a lone surrogate."""
    if text.isascii() and text.isprintable():
        return text
    return _escape_unsafe(text, "\n\t", escape_char)


def _escape_unsafe(text: str, layout: str, escape) -> str:  # noqa: ANN001 - escape: str -> str
    """``text`` with what :func:`shown` would escape passed through ``escape``; printable ASCII and
    the ``layout`` characters (LF, TAB) kept as they are."""
    return "".join(ch if (" " <= ch <= "~" or ch in layout or (not ch.isascii() and _keep(ch, False)))
                   else escape(ch) for ch in text)
