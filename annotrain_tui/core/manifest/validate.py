"""Validate a registration manifest (JSON or CSV) against Encord's documented rules.

Fast path for the common case (a big, clean JSON file read from bytes): one plain
``json.loads``, the rules of :mod:`.rules` (whole-list operations in C; pydantic-core for
sections that are not plain), and a colon count that proves no key was repeated — json.loads
would keep the last of two equal keys silently. The text is decoded and walked for positions
(line/column/pointer) only when there is something to report.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from annotrain_tui.core.errors import UsageError
from annotrain_tui.core.files import read_user_bytes
from annotrain_tui.core.jsonread import JsonProblem, depth_problem, explain_json_error, loads, wide_encoding
from annotrain_tui.core.manifest.collector import DEFAULT_MAX_PER_CODE, Collector
from annotrain_tui.core.manifest.diagnostics import Code, Diagnostic, Format, ValidationResult, fix_data
from annotrain_tui.core.manifest.positions import LineIndex, locate, members, pointer
from annotrain_tui.core.manifest.rules import check_data
from annotrain_tui.core.manifest.spec import OBJECT_URL_N, SECTIONS
from annotrain_tui.core.manifest.urls import PROVIDERS
from annotrain_tui.core.startup import no_cyclic_gc

__all__ = ["DEFAULT_MAX_PER_CODE", "Collector", "Parsed", "check_data", "decode", "detect_format",
           "explain_json_error", "parse_path", "parse_text", "read_file", "validate_bytes", "validate_path",
           "validate_text"]


# ---------------------------------------------------------------------------------------------
# Public entry points.

def detect_format(text_or_bytes: str | bytes, path: str | FsPath | None = None) -> Format:
    """``csv`` for a .csv file, ``json`` for .json; otherwise by the first character."""
    if path is not None:
        suffix = FsPath(path).suffix.lower()
        if suffix == ".csv":
            return "csv"
        if suffix == ".json":
            return "json"
    head = text_or_bytes[:4096]
    if isinstance(head, bytes):
        head = head.decode("utf-8", "replace")
    head = head.lstrip("\ufeff \t\r\n")
    first_line = head.split("\n", 1)[0].lower()
    if "objecturl" in first_line and head[:1] not in ("{", "["):
        return "csv"
    return "csv" if head.startswith(("http://", "https://", "s3://", "gs://")) else "json"


def _check_provider(provider: str | None) -> None:
    if provider is not None and provider not in PROVIDERS:
        raise UsageError(f"unknown provider '{provider}'", hint=f"choose one of {', '.join(PROVIDERS)}")


def validate_path(path: str | FsPath, *, provider: str | None = None, format: Format | None = None,
                  max_per_code: int | None = DEFAULT_MAX_PER_CODE) -> ValidationResult:
    """Validate a manifest file. Raises UnreadableInput when it cannot be read at all."""
    data = read_file(path)
    return validate_bytes(data, path=str(path), provider=provider, format=format, max_per_code=max_per_code)


def read_file(path: str | FsPath) -> bytes:
    return read_user_bytes(path)


def decode(data: bytes) -> tuple[str | None, Diagnostic | None]:
    """UTF-8 text of a file, or an ``encoding`` diagnostic saying where and how to fix it."""
    wide = wide_encoding(data)
    if wide is not None:
        return None, Diagnostic(
            severity="error", code="encoding", line=1, column=1,
            message=f"the file is {wide} encoded: save it as UTF-8 (Encord reads UTF-8 only)")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data.count(b"\n", 0, start) + 1
        line_start = data.rfind(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", "replace")) + 1
        byte = data[start:start + 1].hex().upper()
        return None, Diagnostic(
            severity="error", code="encoding", line=line, column=column,
            message=f"byte 0x{byte} is not valid UTF-8 (a Latin-1 or Windows-1252 file?): "
                    "save the file as UTF-8")


def validate_bytes(data: bytes, *, path: str | None = None, provider: str | None = None,
                   format: Format | None = None,
                   max_per_code: int | None = DEFAULT_MAX_PER_CODE) -> ValidationResult:
    """Validate the raw bytes of a manifest (non-UTF-8 input is an ``encoding`` error).

    A big JSON file of one plain section goes through :mod:`.fastpath` (no dicts kept, the same
    diagnostics); anything else, and anything unusual in such a file, through the reference path."""
    if len(data) >= FAST_PATH_MIN_BYTES and (format or detect_format(data, path)) == "json":
        _check_provider(provider)
        from annotrain_tui.core.manifest.fastpath import validate_plain

        fast = validate_plain(data, path=path, provider=provider, max_per_code=max_per_code)
        if fast is not None:
            return fast
    return parse_bytes(data, path=path, provider=provider, format=format, max_per_code=max_per_code).result


#: JSON bytes from which validate_bytes tries the fast path: below, the reference path is as quick
#: (and msgspec's import is not paid). Tests lower it to compare the two paths on small files.
FAST_PATH_MIN_BYTES = 4 * 1024 * 1024


def validate_text(text: str, *, path: str | None = None, provider: str | None = None,
                  format: Format | None = None,
                  max_per_code: int | None = DEFAULT_MAX_PER_CODE) -> ValidationResult:
    """Validate a manifest held as text (JSON or CSV; guessed from ``path`` or the content)."""
    return parse_text(text, path=path, provider=provider, format=format, max_per_code=max_per_code).result


@dataclass
class Parsed:
    """A validated manifest: the JSON form of its content (``None`` when it cannot be read as one)."""

    result: ValidationResult
    data: dict[str, Any] | None
    text: str | None = None


def parse_text(text: str, *, path: str | None = None, provider: str | None = None,
               format: Format | None = None,
               max_per_code: int | None = DEFAULT_MAX_PER_CODE) -> Parsed:
    """Validate and keep the parsed content (a CSV comes back in its JSON form)."""
    _check_provider(provider)
    fmt = format or detect_format(text, path)
    if fmt == "csv":
        from annotrain_tui.core.manifest.csv import parse_csv

        return parse_csv(text, path=path, provider=provider, max_per_code=max_per_code)
    return _validate_json(_Body(text=text), path=path, provider=provider, max_per_code=max_per_code)


def parse_bytes(data: bytes, *, path: str | None = None, provider: str | None = None,
                format: Format | None = None,
                max_per_code: int | None = DEFAULT_MAX_PER_CODE) -> Parsed:
    """Validate and parse raw bytes. JSON is parsed from the bytes directly (no separate decode
    unless a diagnostic needs line/column positions)."""
    _check_provider(provider)
    fmt = format or detect_format(data, path)
    # json.loads(bytes) guesses UTF-16/32 from NULs in the first 4 bytes: such files are decoded here.
    if fmt == "json" and b"\x00" not in data[:4] and wide_encoding(data) is None:
        return _validate_json(_Body(raw=data), path=path, provider=provider, max_per_code=max_per_code)
    text, problem = decode(data)
    if text is None:
        assert problem is not None
        return Parsed(ValidationResult(path=path, format=fmt, diagnostics=[problem]), None)
    return parse_text(text, path=path, provider=provider, format=fmt, max_per_code=max_per_code)


def parse_path(path: str | FsPath, *, provider: str | None = None, format: Format | None = None,
               max_per_code: int | None = DEFAULT_MAX_PER_CODE) -> Parsed:
    """Read, validate and parse a manifest file (UnreadableInput when it cannot be read)."""
    return parse_bytes(read_file(path), path=str(path), provider=provider, format=format,
                       max_per_code=max_per_code)


# ---------------------------------------------------------------------------------------------
# JSON.



class _Body:
    """The JSON source, as text or as UTF-8 bytes; the text is made only when needed."""

    def __init__(self, *, text: str | None = None, raw: bytes | None = None) -> None:
        self.raw = raw
        self.bom = text.startswith("\ufeff") if text is not None else bool(raw and raw.startswith(codecs.BOM_UTF8))
        self._text = (text[1:] if self.bom else text) if text is not None else None

    @property
    def text(self) -> str:
        """The text without the BOM (positions are counted in it)."""
        if self._text is None:
            assert self.raw is not None
            self._text = self.raw.decode("utf-8-sig", "surrogatepass")
        return self._text

    def source(self) -> str | bytes:
        return self._text if self._text is not None else (self.raw or b"")

    def colons(self) -> int:
        if self._text is None and self.raw is not None:
            return self.raw.count(b":")
        return self.text.count(":")

    def blank(self) -> bool:
        if self._text is None and self.raw is not None:
            return not self.raw[len(codecs.BOM_UTF8) if self.bom else 0:].strip()
        return not self.text.strip()


def _validate_json(body: _Body, *, path: str | None, provider: str | None, max_per_code: int | None) -> Parsed:
    col = Collector(max_per_code)
    if body.bom:
        col.add("error", "json-bom",
                "the file starts with a UTF-8 byte order mark (BOM); the Encord SDK reads JSON manifests "
                "without removing it and fails: save the file as UTF-8 without BOM", line=1, column=1)
    result = ValidationResult(path=path, format="json")
    if body.blank():
        col.add("error", "json-syntax", 'the file is empty: a manifest is a JSON object such as '
                '{"images": [{"objectUrl": "https://…"}]}', line=1, column=1)
        result.diagnostics = col.finish(None)
        return Parsed(result, None, None)
    with no_cyclic_gc():  # half a million small dicts: the cyclic GC would rescan them again and again
        try:
            data = loads(body.source(), text=body._text)
        except UnicodeDecodeError:
            _, problem = decode(body.raw or b"")
            result.diagnostics = [problem] if problem else []
            return Parsed(result, None, None)
        except JsonProblem as exc:
            return _json_problem(exc, col, result, body)
        source = body.source()  # the bytes when we have them: no 64 MB text made just to look
        # half a character? (a backslash first: a one-byte search is ten times quicker than a two-byte one)
        if (b"\\" in source and b"\\u" in source) if isinstance(source, bytes) else ("\\" in source and "\\u" in source):
            for offset, escape in _lone_surrogates(body.text):
                col.add("error", "json-surrogate",
                        f"{escape} is half of a UTF-16 surrogate pair with no other half: it is no character, "
                        "and Encord stores text as UTF-8; write the whole character (both escapes) or remove it",
                        offset=offset)
        try:
            balance = check_data(data, col, provider=provider, result=result, count_keys=True)
            # json.loads keeps the last of two equal keys and says nothing. Every ':' in the text is
            # either a key's separator or inside a string, so without a lost key the colons add up
            # exactly; only when they do not is the text walked to find the repeated keys.
            maybe_duplicates = balance is None or body.colons() != balance
            needs_text = maybe_duplicates or any(p.path is not None or p.offset is not None for p in col.pending)
            diagnostics = col.finish(body.text if needs_text else None)
            if maybe_duplicates:
                diagnostics = _duplicate_key_diagnostics(body.text, diagnostics, provider=provider,
                                                         max_per_code=max_per_code)
        except RecursionError:  # json.loads followed it, a walker over the result could not
            return _json_problem(depth_problem(body.text), Collector(max_per_code), result, body)
    result.diagnostics = diagnostics
    return Parsed(result, data if isinstance(data, dict) else None, body._text)


_SURROGATE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)(\\u[dD][89a-fA-F][0-9a-fA-F]{2})")


def _lone_surrogates(text: str) -> list[tuple[int, str]]:
    """(offset, escape) of every ``\\udXXX`` escape in ``text`` that is not half of a high+low pair."""
    found = [(m.start(2), m.group(2)) for m in _SURROGATE_ESCAPE.finditer(text)]
    lone: list[tuple[int, str]] = []
    i = 0
    while i < len(found):
        offset, esc = found[i]
        high = esc[2].lower() == "d" and esc[3].lower() in "89ab"
        if high and i + 1 < len(found) and found[i + 1][0] == offset + 6 and found[i + 1][1][3].lower() in "cdef":
            i += 2  # a proper pair: one character
            continue
        lone.append((offset, esc))
        i += 1
    return lone


_TRAILING_COMMA = re.compile(r",\s*[}\]]")


def _json_problem(exc: JsonProblem, col: Collector, result: ValidationResult, body: _Body) -> Parsed:
    code: Code = "json-number" if exc.kind == "number" else "json-depth" if exc.kind == "depth" else "json-syntax"
    if exc.offset is None:
        col.add("error", code, exc.message, line=1, column=1)
    else:
        # The fact the quick fix needs, read from the text (not from the message): a comma at the
        # error, followed by the closing bracket.
        trailing = code == "json-syntax" and _TRAILING_COMMA.match(body.text, exc.offset) is not None
        col.add("error", code, exc.message, offset=exc.offset,
                data=fix_data("trailing-comma") if trailing else None)
    result.diagnostics = col.finish(body.text)
    return Parsed(result, None, body.text)


def _duplicate_key_diagnostics(body: str, diagnostics: list[Diagnostic], *, provider: str | None = None,
                               max_per_code: int | None = DEFAULT_MAX_PER_CODE) -> list[Diagnostic]:
    located = locate(body, (), find_duplicates=True)
    index = LineIndex(body)
    positions = index.positions([d.offset for d in located.duplicates] + [d.first_offset for d in located.duplicates])
    extra: list[Diagnostic] = []
    for dup in located.duplicates:
        line, column = positions[dup.offset]
        first_line = positions[dup.first_offset][0]
        where = "at the top level" if not dup.path else f"in {pointer(dup.path)}"
        if not dup.path and dup.key in SECTIONS:
            fix = (f'merge the two "{dup.key}" arrays into one (every item of the first one is dropped '
                   "as the file stands)")
        elif OBJECT_URL_N.fullmatch(dup.key):
            fix = "renumber the objectUrl_N keys 0, 1, 2, … (the first URL is dropped as the file stands)"
        else:
            fix = "keep one of them (the first value is dropped as the file stands)"
        extra.append(Diagnostic(
            severity="error", code="duplicate-key", line=line, column=column,
            pointer=pointer(dup.path + (dup.key,)),
            message=f'"{dup.key}" appears again {where} (first at line {first_line}); JSON keeps only the last '
                    f"value: {fix}",
            data={"key": dup.key, "object": pointer(dup.path), "first_line": first_line}))
    if any(not dup.path and dup.key in SECTIONS for dup in located.duplicates):
        extra.extend(_dropped_copies(body, index, provider=provider, max_per_code=max_per_code))
    merged = extra + diagnostics
    merged.sort(key=lambda d: (d.line is None, d.line or 0, d.column or 0))
    return merged


def _dropped_copies(body: str, index: LineIndex, *, provider: str | None,
                    max_per_code: int | None) -> list[Diagnostic]:
    """The items of every copy of a repeated top-level section but the last, checked too.

    A JSON reader (and Encord) keeps only the last copy, so these items would be dropped unchecked:
    each copy is validated on its own (the rules of items and URLs; nothing about the file as a
    whole), located where it is, and its diagnostics say which copy they are in. Their pointer is
    left out (a pointer names the last copy) and kept in ``data["dropped_pointer"]``: a quick fix
    that edits at a pointer must never land on the other copy.
    """
    start = _ws_match_end(body)
    if start >= len(body) or body[start] != "{":
        return []
    found = members(body, start)
    last: dict[str, int] = {}
    for n, (key, *_rest) in enumerate(found):
        last[key] = n
    out: list[Diagnostic] = []
    copy_number: dict[str, int] = {}
    for n, (key, key_start, _key_end, value_start, value_end) in enumerate(found):
        if key not in SECTIONS or last[key] == n:
            continue
        copy_number[key] = copy_number.get(key, 0) + 1
        snippet = "{" + body[key_start:value_end] + "}"
        try:
            value = loads(body[value_start:value_end], text=body[value_start:value_end])
        except JsonProblem:  # pragma: no cover - the whole text parsed, so each value does
            continue
        col = Collector(max_per_code)
        check_data({key: value}, col, provider=provider, items_only=True)
        if not col.pending:
            continue
        base_line, base_column = index.position(key_start)
        which = "the first" if copy_number[key] == 1 else f"copy {copy_number[key]} of the"
        note = f' (in {which} "{key}" array, which is dropped as the file stands)'
        for d in col.finish(snippet):
            if d.line is None:
                continue
            line = d.line + base_line - 1
            column = (d.column or 1) + (base_column - 2 if d.line == 1 else 0)
            data = dict(d.data or {})
            data["dropped_pointer"] = d.pointer
            message = d.message.replace(" (quick fix available)", "") + note  # fixes edit at pointers: the last copy
            out.append(d.model_copy(update={"line": line, "column": column, "pointer": None,
                                            "message": message, "data": data}))
    return out


_WS_RE = re.compile(r"[ \t\r\n]*")


def _ws_match_end(text: str) -> int:
    m = _WS_RE.match(text)
    return m.end() if m else 0
