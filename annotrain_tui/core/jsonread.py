"""The one strict JSON reader for user files (manifests, label rows): what ``json.loads`` absorbs or
crashes on becomes one located :class:`JsonProblem`.

``json.loads`` alone lets bad input through or fails in ways that are not a syntax error:

- ``1e400`` (any literal out of float range) is read as ``inf`` without a word, and ``1e-400``
  (a non-zero literal below the smallest float) as ``0.0``, which changes the data silently;
- ``NaN``, ``Infinity`` and ``-Infinity`` are accepted although JSON has no such values;
- an integer literal over ``sys.get_int_max_str_digits()`` digits (4,300 by default) raises a plain
  ``ValueError``, not a ``JSONDecodeError``, so it has no position;
- deep nesting (``[[[[…``) raises ``RecursionError``, again with no position;
- the message of a control character in a string is "Invalid control character", whatever the
  character (a NUL is not a line break).

:func:`loads` turns each of these into a :class:`JsonProblem` with the character offset (in the
text without its BOM) and a message that says what is wrong and how to fix it. Finite numbers
are checked through ``parse_float`` (called only for literals with a fraction or an exponent), so
a clean file costs about what ``json.loads`` costs. :func:`wide_encoding` tells UTF-16/UTF-32
files apart from UTF-8 files that merely hold NUL bytes.
"""

from __future__ import annotations

import codecs
import json
import re
import sys
import unicodedata
from typing import Any

from annotrain_tui.core.text import shown

__all__ = ["JsonProblem", "MAX_DEPTH_SHOWN", "depth_problem", "explain_json_error", "loads", "wide_encoding", "char_name",
           "FLOAT_MAX_TEXT"]

# Nesting is reported at the first bracket this deep (Python's parser gives up near 1,000).
MAX_DEPTH_SHOWN = 500


class JsonProblem(ValueError):
    """Why a JSON text cannot be read: ``offset`` into the text (``None`` when unknown), ``message``."""

    def __init__(self, message: str, offset: int | None, *, kind: str = "syntax") -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.kind = kind  # syntax | constant | number | depth


class _NonStandard(ValueError):
    pass


class _NonFinite(ValueError):
    pass


class _Underflow(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NonStandard(name)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value - value != 0.0:  # inf - inf is NaN
        raise _NonFinite(literal)
    if value == 0.0 and _NONZERO_DIGIT.search(literal.partition("e")[0].partition("E")[0]):
        raise _Underflow(literal)  # 1e-400 reads as 0.0: a value the user did not write
    return value


_NONZERO_DIGIT = re.compile("[1-9]")

#: The largest finite float (``sys.float_info.max``), as messages name it.
FLOAT_MAX_TEXT = repr(sys.float_info.max)  # 1.7976931348623157e+308
#: The smallest non-zero float (a subnormal), as messages name it.
FLOAT_MIN_TEXT = repr(5e-324)


def char_name(ch: str) -> str:
    """``U+0000 (NUL)``, ``U+200B (ZERO WIDTH SPACE)``: a character named by code point."""
    name = unicodedata.name(ch, "")
    if not name:
        name = {0: "NUL", 9: "TAB", 10: "LINE FEED", 13: "CARRIAGE RETURN", 27: "ESCAPE", 127: "DELETE"}.get(
            ord(ch), "control character" if unicodedata.category(ch) == "Cc" else "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def loads(source: str | bytes, *, text: str | None = None, finite: bool = True) -> Any:
    """Parse strict JSON; raise :class:`JsonProblem` (located) for anything that is not.

    ``source`` may be UTF-8 bytes (``UnicodeDecodeError`` is left to the caller, who knows how to
    say where the bad byte is). ``text`` is the decoded text when the caller has it already.
    Finite also means representable: a literal with a non-zero digit that reads as ``0.0``
    (``1e-400``, below the smallest float) is refused, naming the literal, as ``1e400`` is.
    ``finite=False`` lets ``NaN``, ``Infinity`` and out-of-range literals through as floats, for a
    reader that checks every number it uses and can then name the object holding a bad one (label
    rows: Python's ``json.dump`` writes ``NaN``); over-long integers and deep nesting are errors
    either way.
    """
    try:
        if not finite:
            return json.loads(source)
        return json.loads(source, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        body = text if text is not None else _text_of(source)
        offset, message = explain_json_error(body, exc)
        raise JsonProblem(message, offset) from None
    except _NonStandard as exc:
        body = text if text is not None else _text_of(source)
        token = str(exc)
        raise JsonProblem(f"{token} is not valid JSON: write a number, or null",
                          _find_token(body, lambda tok: tok == token), kind="constant") from None
    except _NonFinite as exc:
        body = text if text is not None else _text_of(source)
        literal = str(exc)
        raise JsonProblem(f"the number {shown(literal, limit=40)} is too large to be a number (it would be read as "
                          f"infinity): write a finite value (at most {FLOAT_MAX_TEXT.replace('e+', 'e')}), "
                          "or a string", _find_token(body, lambda tok: tok == literal), kind="number") from None
    except _Underflow as exc:
        body = text if text is not None else _text_of(source)
        literal = str(exc)
        raise JsonProblem(f"the number {shown(literal, limit=40)} is too small to be a number: it is not 0, but it "
                          f"would be read as 0.0 (non-zero numbers go down to about {FLOAT_MIN_TEXT}): write 0, a "
                          "larger value, or a string",
                          _find_token(body, lambda tok: tok == literal), kind="number") from None
    except RecursionError:
        raise depth_problem(text if text is not None else _text_of(source)) from None
    except ValueError as exc:  # an integer literal longer than sys.get_int_max_str_digits()
        if "integer string conversion" not in str(exc) and "digits" not in str(exc):
            raise
        body = text if text is not None else _text_of(source)
        limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300
        at = _find_token(body, lambda tok: len(tok.lstrip("-").split(".")[0].split("e")[0].split("E")[0]) > limit)
        digits = ""
        if at is not None:
            m = _NUMBER.match(body, at)
            if m:
                digits = f" of {len(m.group().lstrip('-')):,} digits"
        raise JsonProblem(f"a number{digits} here is longer than the {limit:,} digits a JSON reader accepts "
                          "(Python and the Encord SDK refuse it): write it as a string, or shorten it",
                          at, kind="number") from None


def depth_problem(text: str) -> JsonProblem:
    """The located error for JSON nested deeper than a reader can follow (json.loads itself, or a
    walker over what it returned): the same message wherever the depth ran out."""
    offset, depth = _deep_point(text)
    return JsonProblem(f"the JSON is nested {depth:,} levels deep here ([ or {{ inside one another): "
                       "no manifest or label file is; is this the right file?", offset, kind="depth")


def _text_of(source: str | bytes) -> str:
    if isinstance(source, str):
        return source
    return source.decode("utf-8-sig", "surrogatepass")


_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_TOKENS = re.compile(_STRING + r"|(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|-?Infinity|NaN)", re.S)
_BRACKETS = re.compile(_STRING + r"|([\[\]{}])", re.S)


def _find_token(text: str, wanted: Any) -> int | None:
    """Offset of the first number or constant token (outside strings) for which ``wanted`` is true."""
    for m in _TOKENS.finditer(text):
        tok = m.group(1)
        if tok is not None and wanted(tok):
            return m.start(1)
    return None


def _deep_point(text: str) -> tuple[int | None, int]:
    """(offset of the first bracket at depth MAX_DEPTH_SHOWN, or the deepest one; that depth)."""
    depth = best = 0
    best_at: int | None = None
    for m in _BRACKETS.finditer(text):
        b = m.group(1)
        if b is None:
            continue
        if b in "[{":
            depth += 1
            if depth > best:
                best, best_at = depth, m.start(1)
                if depth >= MAX_DEPTH_SHOWN:
                    return best_at, depth
        else:
            depth -= 1
    return best_at, best


def _control_here(ch: str) -> bool:
    return bool(ch) and ch not in " \t\r\n" and unicodedata.category(ch) in ("Cc", "Cf", "Cs")


def explain_json_error(text: str, exc: json.JSONDecodeError) -> tuple[int, str]:
    """The offset to report and a message saying how to fix a JSON syntax error."""
    pos = exc.pos
    msg = exc.msg
    ahead = text[pos:pos + 200]  # enough for a quoted word to be recognised as key text before it is cut
    prev = pos - 1
    while prev >= 0 and text[prev] in " \t\r\n":
        prev -= 1
    prev_char = text[prev] if prev >= 0 else ""
    if msg.startswith("Invalid control character"):
        ch = text[pos:pos + 1]
        if ch == "\n" or ch == "\r":
            return pos, "a raw line break inside a string: write it as \\n, or remove it"
        if ch == "\t":
            return pos, "a raw tab inside a string: write it as \\t, or remove it"
        if ch == "\0":
            return pos, ("a NUL character (U+0000) inside a string: the file holds binary data or is damaged; "
                         "remove it")
        return pos, (f"the control character {char_name(ch)} inside a string: remove it, or write it as "
                     f"\\u{ord(ch):04x}" if ch else "a control character inside a string: remove it")
    if _control_here(ahead[:1]):
        ch = ahead[0]
        if ch == "\0":
            return pos, ("a NUL character (U+0000) here: the file holds binary data or is damaged, not JSON text; "
                         "save it as UTF-8 text")
        return pos, f"the invisible character {char_name(ch)} here is not JSON: remove it"
    if msg.startswith("Expecting property name") and ahead[:1] == "}" and prev_char == ",":
        return prev, "trailing comma before '}': JSON does not allow a comma after the last member — remove it"
    if msg == "Expecting value" and ahead[:1] == "]" and prev_char == ",":
        return prev, "trailing comma before ']': JSON does not allow a comma after the last element — remove it"
    if msg.startswith("Expecting property name") and ahead[:1] == "'":
        return pos, "keys must be in double quotes (\"key\"), not single quotes"
    if msg.startswith("Expecting property name"):
        return pos, "expected a key in double quotes here (a stray character, or a missing '}'?)"
    if msg == "Expecting value":
        if ahead.startswith(("//", "/*")):
            return pos, "JSON does not allow comments: remove them"
        if ahead[:1] == "'":
            return pos, "strings must be in double quotes (\"…\"), not single quotes"
        if pos >= len(text.rstrip()):
            return pos, "the JSON ends too early: a value, ']' or '}' is missing"
        word = re.match(r"[^\s,\]}\"]+", ahead)
        if word:
            return pos, (f"'{shown(word.group(), limit=30)}' is not a JSON value: write a number, true, false, null "
                         "or a string in double quotes (replace the template placeholder)")
        return pos, "expected a value here (a number, true, false, null, a \"string\", [ … ] or { … })"
    if msg == "Expecting ',' delimiter":
        return pos, "a comma is missing before this (between two members or elements), or a bracket is unbalanced"
    if msg == "Expecting ':' delimiter":
        return pos, "a ':' is missing between the key and its value"
    if msg.startswith("Unterminated string"):
        return pos, "this string is never closed: add the closing double quote"
    if msg.startswith("Invalid \\escape") or msg.startswith("Invalid \\u"):
        return pos, "invalid backslash escape in a string: write a backslash as \\\\ (or use forward slashes)"
    if msg == "Extra data":
        return pos, "there is text after the end of the JSON document: remove it, or wrap everything in one object"
    return pos, f"{msg[0].lower()}{msg[1:]}" if msg else "invalid JSON"


# ---------------------------------------------------------------------------------------------
# UTF-16 / UTF-32 files.

_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def wide_encoding(data: bytes) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` when ``data`` is text in one of them, else None.

    By a byte order mark, or (no BOM) by the NUL pattern ASCII text has in them — every other byte
    (UTF-16) or three bytes in four (UTF-32) — over the first 64 bytes, confirmed by decoding the
    whole file. A few NUL bytes in a UTF-8 file (binary damage) are not a wide encoding.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if b"\x00" not in data[:64]:
        return None
    head = data[:64]
    n4 = len(head) - len(head) % 4
    if n4 >= 8:
        units = [head[i:i + 4] for i in range(0, n4, 4)]
        if all(u[1:] == b"\0\0\0" and u[0] for u in units) and _decodes(data, "utf-32-le"):
            return "UTF-32"
        if all(u[:3] == b"\0\0\0" and u[3] for u in units) and _decodes(data, "utf-32-be"):
            return "UTF-32"
    n2 = len(head) - len(head) % 2
    if n2 >= 4:
        even, odd = head[0:n2:2], head[1:n2:2]
        if not odd.strip(b"\0") and b"\0" not in even and _decodes(data, "utf-16-le"):
            return "UTF-16"
        if not even.strip(b"\0") and b"\0" not in odd and _decodes(data, "utf-16-be"):
            return "UTF-16"
    return None


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True
