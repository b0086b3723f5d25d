"""Quick fixes: pure text → text edits for a diagnostic, shared by the editor's F4 and ``manifest fix``.

Every fix rewrites only the characters it has to (keys, one value, a comma, one CSV cell or row)
and leaves the rest of the author's formatting alone: every byte outside the edit is kept. Fixes
that need the document structure require valid JSON and raise InvalidInput otherwise;
``fixes_for`` only offers a fix that applies to the diagnostic. JSON fixes find their place by
the diagnostic's pointer, CSV fixes by its line and column (the cell where the problem is).

``apply_fixes`` is the one loop that applies them without a person choosing: the first fix each
diagnostic offers, again and again until nothing fixable is left. The CLI's ``manifest fix`` and
the editor's "fix every …" options both run it.
"""

from __future__ import annotations

import functools
import json
import json.decoder
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.jsonread import JsonProblem, loads
from annotrain_tui.core.manifest.diagnostics import Diagnostic
from annotrain_tui.core.manifest.positions import (
    Path,
    elements,
    locate,
    members,
    parse_pointer,
)
from annotrain_tui.core.manifest.spec import GROUP_SECTIONS, SECTION_BY_KIND, SECTIONS
from annotrain_tui.core.manifest.urls import ABSOLUTE_URL_RE

_WS = re.compile(r"[ \t\n\r]*")
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Fix:
    """One available fix: ``apply(text)`` returns the fixed text.

    ``local``: the fix rewrites one value in place and never adds, removes or moves an item or a
    line of CSV records, so several local fixes found in one validation can be applied one after
    the other from the end of the text (the others' pointers and positions stay true).
    """

    id: str
    title: str
    apply: Callable[[str], str]
    local: bool = False
    # A JSON fix that only changes the string at a pointer: (pointer, change of the value), so the
    # loop can locate many of them in one pass over a large text.
    string_edit: tuple[str, Callable[[str], str | None]] | None = None


# ---------------------------------------------------------------------------------------------
# Helpers.

def _parse(text: str) -> None:
    try:
        loads(text)
    except JsonProblem as exc:
        raise InvalidInput("this fix needs valid JSON: fix the syntax error first") from exc


def _root(text: str) -> int:
    start = len(text) - len(text.lstrip(" \t\n\r"))
    if text[start:start + 1] != "{":
        raise InvalidInput("this fix needs a manifest whose top level is a JSON object")
    return start


def _edit(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply (start, end, replacement) edits; they must not overlap. Edits starting at one offset
    land in reverse order of the list (as if applied one by one from the end)."""
    if not edits:
        return text
    ordered = sorted(enumerate(edits), key=lambda ie: (ie[1][0], -ie[0]))
    pieces: list[str] = []
    pos = 0
    for _, (start, end, new) in ordered:
        pieces.append(text[pos:start])
        pieces.append(new)
        pos = max(pos, end)
    pieces.append(text[pos:])
    return "".join(pieces)


def _span(text: str, ptr: str) -> tuple[Path, Any]:
    path = parse_pointer(ptr)
    spans = locate(text, {path}).spans
    if path not in spans:
        raise InvalidInput(f"nothing at {ptr} in this text")
    return path, spans[path]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Fixes.

def strip_bom(text: str) -> str:
    """Remove a leading byte order mark."""
    return text[1:] if text.startswith("\ufeff") else text


_TRAILING = re.compile(r'"(?:[^"\\]|\\.)*"|,(\s*[}\]])', re.DOTALL)


def remove_trailing_commas(text: str) -> str:
    """Remove commas directly before '}' or ']' (outside strings)."""
    return _TRAILING.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(0), text)


_URL_KEY = re.compile(r"objectUrl(?:_(\d+))?$|objectUrl_.*", re.DOTALL)


def renumber_object_urls(text: str, ptr: str | None = None) -> str:
    """Renumber the objectUrl_N keys of every image group / DICOM series to 0 … n-1.

    Keeps the files' order: by their current number, and in document order for equal numbers
    (a repeated key) or unnumbered keys (``objectUrl`` stays after the key before it). With
    ``ptr`` (a pointer into one item) only that item is renumbered.
    """
    _parse(text)
    only: Path | None = parse_pointer(ptr)[:2] if ptr else None
    root = _root(text)
    edits: list[tuple[int, int, str]] = []
    for key, _, _, value_start, _ in members(text, root):
        if key not in GROUP_SECTIONS or text[value_start] != "[":
            continue
        for i, (el_start, _) in enumerate(elements(text, value_start)):
            if only is not None and only != (key, i):
                continue
            if text[el_start] != "{":
                continue
            found: list[tuple[float, int, int, int]] = []  # (number, doc index, key start, key end)
            last = -1.0
            for doc_index, (k, k_start, k_end, _, _) in enumerate(members(text, el_start)):
                m = _URL_KEY.fullmatch(k)
                if not m:
                    continue
                digits = re.fullmatch(r"objectUrl_([0-9]{1,300})", k)  # ASCII digits; int() of 300 is cheap
                number = float(int(digits.group(1))) if digits else last + 0.5
                last = number if digits else last
                found.append((number, doc_index, k_start, k_end))
            for new_index, (_, _, k_start, k_end) in enumerate(sorted(found)):
                new_key = f'"objectUrl_{new_index}"'
                if text[k_start:k_end] != new_key:
                    edits.append((k_start, k_end, new_key))
    return _edit(text, edits)


def rename_key(text: str, ptr: str, new_key: str) -> str:
    """Rename the key the pointer ends with (e.g. a typo: /images/0/titel → title)."""
    _parse(text)
    _, span = _span(text, ptr)
    if span.key_start is None:
        raise InvalidInput(f"{ptr} is not an object member")
    _, key_end = _scanstring(text, span.key_start + 1)
    return _edit(text, [(span.key_start, key_end, _dumps(new_key))])


def replace_value(text: str, ptr: str, value: Any) -> str:
    """Replace the value at the pointer with ``value`` (written as compact JSON)."""
    _parse(text)
    _, span = _span(text, ptr)
    return _edit(text, [(span.value_start, span.value_end, _dumps(value))])


def _string_at(text: str, ptr: str) -> tuple[Any, str]:
    _parse(text)
    _, span = _span(text, ptr)
    value = json.loads(text[span.value_start:span.value_end])
    if not isinstance(value, str):
        raise InvalidInput(f"the value at {ptr} is not a string")
    return span, value


def trim_url(text: str, ptr: str) -> str:
    """Remove whitespace around the URL at the pointer."""
    span, value = _string_at(text, ptr)
    return _edit(text, [(span.value_start, span.value_end, _dumps(value.strip()))])


def strip_angle_brackets(text: str, ptr: str) -> str:
    """``"<https://…>"`` or ``"<https://…"`` → ``"https://…"``."""
    span, value = _string_at(text, ptr)
    return _edit(text, [(span.value_start, span.value_end, _dumps(value.strip().strip("<>").strip()))])


def set_boolean(text: str, ptr: str) -> str:
    """``"true"`` / ``"false"`` (a string) at the pointer → the JSON boolean."""
    span, value = _string_at(text, ptr)
    low = value.strip().lower()
    if low not in ("true", "false"):
        raise InvalidInput(f"the value at {ptr} is not 'true' or 'false'")
    return _edit(text, [(span.value_start, span.value_end, low)])


def unquote_number(text: str, ptr: str) -> str:
    """``"1280"`` (a string) at the pointer → ``1280``."""
    span, value = _string_at(text, ptr)
    try:
        number: int | float = int(value.strip())
    except ValueError:
        try:
            number = float(value.strip())
        except ValueError:
            raise InvalidInput(f"the value at {ptr} is not a number") from None
    return _edit(text, [(span.value_start, span.value_end, _dumps(number))])


def set_skip_duplicate_urls(text: str, value: bool = True) -> str:
    """Set ``"skip_duplicate_urls"`` at the top level (added after the last member when absent)."""
    _parse(text)
    root = _root(text)
    found = [m for m in members(text, root) if m[0] == "skip_duplicate_urls"]
    literal = "true" if value else "false"
    if found:
        return _edit(text, [(m[3], m[4], literal) for m in found])
    all_members = members(text, root)
    if not all_members:
        return _edit(text, [(root + 1, root + 1, f'"skip_duplicate_urls": {literal}')])
    last = all_members[-1]
    indent = _indent_of(text, last[1])
    return _edit(text, [(last[4], last[4], f',\n{indent}"skip_duplicate_urls": {literal}' if indent is not None
                         else f', "skip_duplicate_urls": {literal}')])


def _indent_of(text: str, offset: int) -> str | None:
    """The indentation of the line at ``offset`` when only whitespace precedes it, else None."""
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    return prefix if prefix.strip() == "" and line_start > 0 else None


def remove_element(text: str, ptr: str) -> str:
    """Remove one array element (e.g. a repeated entry), with the comma that separates it."""
    _parse(text)
    path = parse_pointer(ptr)
    if not path or not isinstance(path[-1], int):
        raise InvalidInput(f"{ptr} is not an array element")
    parent = path[:-1]
    spans = locate(text, {parent}).spans
    if parent not in spans:
        raise InvalidInput(f"nothing at {ptr} in this text")
    items = elements(text, spans[parent].value_start)
    i = path[-1]
    if i >= len(items):
        raise InvalidInput(f"nothing at {ptr} in this text")
    start, end = items[i]
    if i > 0:
        start = items[i - 1][1]                         # from the end of the previous element
    elif len(items) > 1:
        end = items[1][0]                               # up to the next element
    else:
        start = spans[parent].value_start + 1
        end = spans[parent].value_end - 1
    return _edit(text, [(start, end, "")])


def remove_duplicate_keys(text: str) -> str:
    """Keep only the last of repeated keys in every object (what json.loads reads anyway)."""
    _parse(text)
    located = locate(text, (), find_duplicates=True)
    if not located.duplicates:
        return text
    edits: list[tuple[int, int, str]] = []
    objects = {d.path for d in located.duplicates}
    spans = locate(text, objects).spans
    for path in objects:
        span = spans[path]
        ms = members(text, span.value_start)
        last_of: dict[str, int] = {}
        for index, m in enumerate(ms):
            last_of[m[0]] = index
        for index, m in enumerate(ms):
            if last_of[m[0]] == index:
                continue
            # remove this member and the comma after it
            edits.append((m[1], ms[index + 1][1], ""))
    return _edit(text, edits)


def merge_duplicate_sections(text: str) -> str:
    """Merge repeated top-level section arrays (two "image_groups" …) into the first one."""
    _parse(text)
    root = _root(text)
    ms = members(text, root)
    by_key: dict[str, list[int]] = {}
    for index, m in enumerate(ms):
        by_key.setdefault(m[0], []).append(index)
    edits: list[tuple[int, int, str]] = []
    for key, indices in by_key.items():
        if key not in SECTIONS or len(indices) < 2:
            continue
        if any(text[ms[i][3]] != "[" for i in indices):
            continue
        first = ms[indices[0]]
        first_elements = elements(text, first[3])
        moved: list[str] = []
        for i in indices[1:]:
            moved.extend(text[s:e] for s, e in elements(text, ms[i][3]))
            edits.append((ms[i - 1][4], ms[i][4], ""))  # drop ', "key": [...]'
        if not moved:
            continue
        if first_elements:
            last_start, last_end = first_elements[-1]
            indent = _indent_of(text, last_start)
            sep = f",\n{indent}" if indent is not None else ", "
            edits.append((last_end, last_end, sep + sep.join(moved)))
        else:
            edits.append((first[3] + 1, first[3] + 1, ", ".join(moved)))
    # The removal ranges end where a later insertion may start only if adjacent members are both
    # duplicates; _edit applies from the end, so non-overlapping ranges are enough.
    return _edit(text, edits)


# ---------------------------------------------------------------------------------------------
# Values: a JSON string at a pointer, or a CSV cell at a line and column.

MAX_TITLE = 300
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")
_SCHEME_HOST = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*|(?:https://)?arn:aws[a-z-]*:s3::[0-9]+:accesspoint/")


def encode_url(url: str) -> str | None:
    """``url`` with every character a URL cannot hold raw percent-encoded (UTF-8), after the host.

    Whitespace around the URL is kept (trimming is its own fix); a '%' that does not start an
    escape becomes %25. None when nothing can be encoded: no scheme and host, a problem in the
    host itself, or half of a surrogate pair (no bytes to encode).
    """
    from urllib.parse import quote

    from annotrain_tui.core.manifest.urls import FORBIDDEN_RE

    lead = len(url) - len(url.lstrip())
    body = url.strip()
    tail = url[lead + len(body):]
    m = _SCHEME_HOST.match(body)
    if not m or FORBIDDEN_RE.search(m.group()):
        return None
    out: list[str] = [m.group()]
    rest = body[m.end():]
    for i, ch in enumerate(rest):
        if ch == "%" and not _HEX2.match(rest, i + 1):
            out.append("%25")
        elif FORBIDDEN_RE.match(ch):
            if "\ud800" <= ch <= "\udfff" or ch == "\u2026":  # no bytes / a '…' placeholder: not ours to encode
                return None
            out.append(quote(ch, safe=""))
        else:
            out.append(ch)
    return url[:lead] + "".join(out) + tail


def shorten_middle(value: str, limit: int = MAX_TITLE) -> str:
    """At most ``limit`` characters, keeping the start and the end (file names end in what tells
    them apart) with '…' between them."""
    if len(value) <= limit:
        return value
    tail = min(100, limit // 3)
    return value[:limit - tail - 1].rstrip() + "…" + value[len(value) - tail:].lstrip()


_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}\Z")


def truncate(value: str, limit: int = MAX_TITLE) -> str:
    """The first ``limit`` characters (trailing whitespace of the cut dropped), keeping a file
    extension at the end (the seeds' titles are file names: ``my-custom-audio-file-title.mp3``)."""
    if len(value) <= limit:
        return value
    ext = _EXTENSION.search(value)
    suffix = ext.group(0) if ext and len(ext.group(0)) < limit // 2 else ""
    cut = value[:limit - len(suffix)]
    return (cut.rstrip() or cut) + suffix


def edit_json_string(text: str, ptr: str, change: Callable[[str], str | None]) -> str:
    """Replace the JSON string at ``ptr`` with ``change(value)`` (unchanged when it gives None)."""
    span, value = _string_at(text, ptr)
    new = change(value)
    if new is None or new == value:
        return text
    return _edit(text, [(span.value_start, span.value_end, _dumps(new))])


@dataclass(frozen=True)
class CsvCell:
    start: int        # offset in the text (the opening quote of a quoted cell)
    end: int
    value: str
    quoted: bool


@dataclass(frozen=True)
class CsvRecord:
    start: int
    end: int          # where the record's line end starts
    next: int         # where the next record starts (after the line end)
    line: int         # first line (1-based)
    last_line: int
    cells: tuple[CsvCell, ...]

    def blank(self) -> bool:
        return all(c.value.strip() == "" for c in self.cells)


_UNQUOTED = re.compile(r"[^,\r\n]*")
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')


def csv_records(text: str) -> list[CsvRecord]:
    """The RFC 4180 records of a CSV text with the offset of every cell (a BOM is skipped).

    The same reading as the validator's (``csv.read_records``); raises InvalidInput on a quote
    that is never closed or text after a closing quote (fix the syntax first).
    """
    records: list[CsvRecord] = []
    pos = 1 if text.startswith("\ufeff") else 0
    n, line = len(text), 1
    while pos < n:
        start, first_line = pos, line
        cells: list[CsvCell] = []
        while True:
            if text[pos:pos + 1] == '"':
                m = _QUOTED.match(text, pos)
                if m is None:
                    raise InvalidInput(f"line {line}: a quoted cell is never closed: fix the CSV first")
                raw = m.group(0)
                line += raw.count("\n") + raw.count("\r") - raw.count("\r\n")
                cells.append(CsvCell(pos, m.end(), m.group(1).replace('""', '"'), True))
                pos = m.end()
                if pos < n and text[pos] not in ",\r\n":
                    raise InvalidInput(f"line {line}: text after a closing quote: fix the CSV first")
            else:
                m = _UNQUOTED.match(text, pos)
                assert m is not None
                cells.append(CsvCell(pos, m.end(), m.group(0), False))
                pos = m.end()
            if pos >= n:
                records.append(CsvRecord(start, pos, pos, first_line, line, tuple(cells)))
                return records
            if text[pos] == ",":
                pos += 1
                continue
            end = pos
            pos += 2 if text.startswith("\r\n", pos) else 1
            records.append(CsvRecord(start, end, pos, first_line, line, tuple(cells)))
            line += 1
            break
    return records


def _offset_of(text: str, line: int, column: int) -> int:
    """The offset of 1-based (line, column) as the CSV reader counts them (after a BOM on line 1)."""
    pos = 1 if text.startswith("\ufeff") else 0
    for _ in range(line - 1):
        m = re.compile(r"\r\n|\r|\n").search(text, pos)
        if m is None:
            raise InvalidInput(f"there is no line {line} in this text")
        pos = m.end()
    return pos + column - 1


def _csv_cell_at(text: str, line: int, column: int) -> tuple[list[CsvRecord], int, int]:
    """(records, record index, cell index) of the cell starting at (line, column)."""
    records = csv_records(text)
    offset = _offset_of(text, line, column)
    for r, record in enumerate(records):
        if record.start <= offset <= record.end:
            for c, cell in enumerate(record.cells):
                if cell.start == offset:
                    return records, r, c
    raise InvalidInput(f"no CSV cell starts at line {line}, column {column}")


def csv_cell_text(value: str, quoted: bool = False) -> str:
    """A cell as written: quoted when it was, or when it holds a separator, a quote or a line break."""
    if quoted or any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def edit_csv_cell(text: str, line: int, column: int, change: Callable[[str], str | None]) -> str:
    """Replace the value of the CSV cell at (line, column) with ``change(value)``."""
    records, r, c = _csv_cell_at(text, line, column)
    cell = records[r].cells[c]
    new = change(cell.value)
    if new is None or new == cell.value:
        return text
    return _edit(text, [(cell.start, cell.end, csv_cell_text(new, cell.quoted))])


def _edit_value(text: str, diagnostic: Diagnostic, change: Callable[[str], str | None]) -> str:
    if diagnostic.pointer is not None:
        return edit_json_string(text, diagnostic.pointer, change)
    if diagnostic.line is None:
        raise InvalidInput("the problem has no position in the text")
    return edit_csv_cell(text, diagnostic.line, diagnostic.column or 1, change)


# ---------------------------------------------------------------------------------------------
# CSV sections (a header row starts one).

@dataclass(frozen=True)
class _CsvSection:
    header: int               # record index of the header row
    kind: str                 # videos | images | image_groups | dicom_series
    url_col: int
    title_col: int | None
    width: int


def _csv_sections(records: list[CsvRecord]) -> list[_CsvSection]:
    from annotrain_tui.core.manifest.csv import CREATE_VIDEO_HEADER, TITLE_HEADERS, URL_HEADER

    out: list[_CsvSection] = []
    for r, record in enumerate(records):
        names = [" ".join(c.value.strip().lower().split()) for c in record.cells]
        if URL_HEADER not in names:
            continue
        kind, title_col = None, None
        for i, name in enumerate(names):
            if name in TITLE_HEADERS:
                kind, title_col = TITLE_HEADERS[name], i
        if kind is None and CREATE_VIDEO_HEADER in names:
            continue
        width = max((i + 1 for i, name in enumerate(names) if name), default=1)
        out.append(_CsvSection(r, kind or "videos", names.index(URL_HEADER), title_col, width))
    return out


def _section_of(sections: list[_CsvSection], r: int) -> _CsvSection:
    found = [s for s in sections if s.header < r]
    if not found:
        raise InvalidInput("this row is not under a header row")
    return found[-1]


def _line_end(text: str) -> str:
    m = re.search(r"\r\n|\r|\n", text)
    return m.group() if m else "\n"


def _remove_record(text: str, records: list[CsvRecord], r: int) -> tuple[int, int]:
    """The range that removes record ``r`` with one line end."""
    record = records[r]
    if record.next > record.end or r == 0:
        return record.start, record.next
    return records[r - 1].end, record.end  # the last record without a line end: take the one before it


def csv_remove_row(text: str, line: int, column: int = 1) -> str:
    """Remove the CSV record holding (line, column) (e.g. a repeated URL)."""
    records = csv_records(text)
    offset = _offset_of(text, line, column)
    for r, record in enumerate(records):
        if record.start <= offset <= record.end:
            start, end = _remove_record(text, records, r)
            return _edit(text, [(start, end, "")])
    raise InvalidInput(f"no CSV row at line {line}")


def _record_at_line(records: list[CsvRecord], line: int) -> int:
    for r, record in enumerate(records):
        if record.line <= line <= record.last_line:
            return r
    raise InvalidInput(f"no CSV row at line {line}")


def _extra_cells(text: str, line: int) -> tuple[CsvRecord, _CsvSection, int]:
    records = csv_records(text)
    r = _record_at_line(records, line)
    section = _section_of(_csv_sections(records), r)
    record = records[r]
    last = max((i for i, c in enumerate(record.cells) if c.value.strip()), default=-1)
    if last < section.width:
        raise InvalidInput(f"the row at line {line} has no more cells than its header")
    return record, section, last


def csv_join_extra_cells(text: str, line: int) -> str:
    """A row with more cells than its header (a title with an unquoted comma): the extra cells
    go back into the title column (or the last one), quoted, commas included."""
    record, section, last = _extra_cells(text, line)
    extra = last + 1 - section.width
    into = section.title_col if section.title_col is not None and section.title_col < section.width \
        else section.width - 1
    first, final = record.cells[into], record.cells[into + extra]
    value = ",".join(c.value for c in record.cells[into:into + extra + 1])
    return _edit(text, [(first.start, final.end, csv_cell_text(value, quoted=True))])


def csv_drop_extra_cells(text: str, line: int) -> str:
    """Remove the cells of a row beyond its header's columns."""
    record, section, last = _extra_cells(text, line)
    return _edit(text, [(record.cells[section.width - 1].end, record.cells[last].end, "")])


def csv_set_title(text: str, line: int, column: int, change: Callable[[str], str]) -> str:
    """Change the title cell at (line, column) and, in its section, every row with the same title
    (rows with one title form one image group or DICOM series, so they change together)."""
    records, r, c = _csv_cell_at(text, line, column)
    section = _section_of(_csv_sections(records), r)
    old = records[r].cells[c].value
    new = change(old.strip())
    if new == old.strip():
        return text
    stop = next((s.header for s in _csv_sections(records) if s.header > r), len(records))
    edits = []
    for record in records[section.header + 1:stop]:
        if c < len(record.cells) and record.cells[c].value.strip() == old.strip():
            cell = record.cells[c]
            edits.append((cell.start, cell.end, csv_cell_text(new, cell.quoted)))
    return _edit(text, edits)


def csv_move_row(text: str, line: int, column: int, target: str) -> str:
    """Move the row at (line, column) to the last section of ``target`` (videos or images), or to a
    new section with its own header row at the end; the URL and title cells are kept as written."""
    from annotrain_tui.core.manifest.csv import TITLE_FOR_SECTION

    records, r, _ = _csv_cell_at(text, line, column)
    sections = _csv_sections(records)
    source = _section_of(sections, r)
    if source.kind not in ("videos", "images") or target not in ("videos", "images") or source.kind == target:
        raise InvalidInput("only a row of a videos or images section moves to the other one")
    record = records[r]
    url = record.cells[source.url_col]
    title = record.cells[source.title_col] if source.title_col is not None and source.title_col < len(
        record.cells) else None
    nl = _line_end(text)
    remove = _remove_record(text, records, r)
    into = [s for s in sections if s.kind == target]
    if into:
        dest = into[-1]
        cells = [""] * dest.width
        cells[dest.url_col] = text[url.start:url.end]
        if dest.title_col is not None and title is not None:
            cells[dest.title_col] = text[title.start:title.end]
        row = ",".join(cells)
        stop = next((s.header for s in sections if s.header > dest.header), len(records))
        last = max((i for i in range(dest.header, stop) if not records[i].blank() and i != r), default=dest.header)
        at = records[last].end
        insert = (at, at, nl + row)
    else:
        row = text[url.start:url.end] + ("," + text[title.start:title.end] if title is not None else ",")
        header = f"ObjectUrl,{TITLE_FOR_SECTION[target]}"
        at = len(text)
        ends = text.endswith(("\n", "\r"))
        insert = (at, at, ("" if ends else nl) + header + nl + row + (nl if ends else ""))
    start, end = remove
    at, _, row_text = insert
    removed = text[:start] + text[end:]
    at = at - (end - start) if at >= end else at
    return removed[:at] + row_text + removed[at:]


# ---------------------------------------------------------------------------------------------
# JSON structure: move an item, remove a group's URL, keep one copy of a repeated key.

def move_item(text: str, ptr: str, target: str) -> str:
    """Move the item at ``ptr`` (``/images/3`` or a pointer inside it) to the end of section ``target``
    (created after the last top-level member when absent); the item's text is kept as written."""
    _parse(text)
    path = parse_pointer(ptr)
    if len(path) < 2 or not isinstance(path[1], int) or path[0] not in SECTIONS:
        raise InvalidInput(f"{ptr} is not an item of a section")
    if target not in SECTIONS or target == path[0]:
        raise InvalidInput(f"cannot move the item to {target!r}")
    item_ptr = "/" + "/".join(str(p) for p in path[:2])
    _, span = _span(text, item_ptr)
    item = text[span.value_start:span.value_end]
    removed = remove_element(text, item_ptr)
    root = _root(removed)
    ms = members(removed, root)
    targets = [m for m in ms if m[0] == target and removed[m[3]] == "["]
    if targets:
        value_start = targets[-1][3]
        items = elements(removed, value_start)
        if items:
            last_start, last_end = items[-1]
            indent = _indent_of(removed, last_start)
            sep = f",\n{indent}" if indent is not None else ", "
            return _edit(removed, [(last_end, last_end, sep + item)])
        return _edit(removed, [(value_start + 1, value_start + 1, item)])
    if not ms:
        return _edit(removed, [(root + 1, root + 1, f"{_dumps(target)}: [{item}]")])
    last = ms[-1]
    indent = _indent_of(removed, last[1])
    item_indent = _indent_of(text, span.value_start)
    if indent is None or item_indent is None:
        return _edit(removed, [(last[4], last[4], f", {_dumps(target)}: [{item}]")])
    nl = "\r\n" if "\r\n" in text else "\n"
    return _edit(removed, [(last[4], last[4],
                            f",{nl}{indent}{_dumps(target)}: [{nl}{item_indent}{item}{nl}{indent}]")])


def _member_removals(ms: list[tuple[str, int, int, int, int]], remove: set[int]) -> list[tuple[int, int, str]]:
    """Edits removing the members ``remove`` (indices into ``ms``) with their commas; one is kept."""
    kept = [i for i in range(len(ms)) if i not in remove]
    if not kept:
        raise InvalidInput("at least one member must stay")
    edits: list[tuple[int, int, str]] = []
    last_kept = kept[-1]
    for i in sorted(remove):
        if i < last_kept:
            edits.append((ms[i][1], ms[i + 1][1], ""))           # up to the next member's key
    if last_kept < len(ms) - 1:
        edits.append((ms[last_kept][4], ms[-1][4], ""))          # every member after the last kept one
    return edits


def keep_copy(text: str, object_ptr: str, key: str, keep: int) -> str:
    """Of a key repeated in the object at ``object_ptr``, keep copy ``keep`` (0-based, in document
    order) and remove the others."""
    _parse(text)
    path = parse_pointer(object_ptr)
    if path:
        spans = locate(text, {path}).spans
        if path not in spans:
            raise InvalidInput(f"nothing at {object_ptr} in this text")
        start = spans[path].value_start
    else:
        start = _root(text)
    if text[start] != "{":
        raise InvalidInput(f"{object_ptr or 'the top level'} is not an object")
    ms = members(text, start)
    copies = [i for i, m in enumerate(ms) if m[0] == key]
    if len(copies) < 2 or not 0 <= keep < len(copies):
        raise InvalidInput(f'"{key}" is not repeated there')
    return _edit(text, _member_removals(ms, set(copies) - {copies[keep]}))


def _copies(text: str, object_ptr: str, key: str) -> list[tuple[int, str]]:
    """(line, description) of every copy of a repeated key."""
    path = parse_pointer(object_ptr)
    if path:
        spans = locate(text, {path}).spans
        start = spans[path].value_start
    else:
        start = _root(text)
    out = []
    for m in members(text, start):
        if m[0] != key:
            continue
        raw = text[m[3]:m[4]]
        if raw.startswith("["):
            n = len(elements(text, m[3]))
            what = f"{n:,} item{'s' if n != 1 else ''}"
        elif raw.startswith("{"):
            n = len(members(text, m[3]))
            what = f"{n:,} key{'s' if n != 1 else ''}"
        else:
            what = raw if len(raw) <= 40 else raw[:39] + "…"
        out.append((text.count("\n", 0, m[1]) + 1, what))
    return out


def remove_group_url(text: str, ptr: str) -> str:
    """Remove one objectUrl_N of an image group or DICOM series and renumber the rest 0 … n-1."""
    _parse(text)
    path = parse_pointer(ptr)
    if len(path) != 3 or path[0] not in GROUP_SECTIONS or not isinstance(path[1], int):
        raise InvalidInput(f"{ptr} is not a file of an image group or DICOM series")
    item_path = path[:2]
    spans = locate(text, {item_path}).spans
    if item_path not in spans:
        raise InvalidInput(f"nothing at {ptr} in this text")
    ms = members(text, spans[item_path].value_start)
    urls = [i for i, m in enumerate(ms) if _URL_KEY.fullmatch(m[0])]
    mine = [i for i in urls if ms[i][0] == path[2]]
    if len(urls) < 2 or not mine:
        raise InvalidInput("the group would have no file left")
    removed = _edit(text, _member_removals(ms, {mine[-1]}))
    return renumber_object_urls(removed, "/" + "/".join(str(p) for p in item_path))


# ---------------------------------------------------------------------------------------------
# Which fixes apply to a diagnostic.

def _csv_format(diagnostic: Diagnostic, text: str | None, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    if diagnostic.pointer is not None or text is None:
        return False
    from annotrain_tui.core.manifest.validate import detect_format

    return detect_format(text) == "csv"


def fixes_for(diagnostic: Diagnostic, text: str | None = None, *, format: str | None = None,
              context: str | None = None) -> list[Fix]:
    """The fixes offered for ``diagnostic``, the one to apply without asking first.

    ``format`` is the manifest's ("json" or "csv"); without it a diagnostic without a pointer in a
    text that reads as CSV is taken for CSV. With ``text``, only fixes that change it are offered.
    """
    if _csv_format(diagnostic, text, format):
        out = _csv_fixes(diagnostic)
    else:  # ``context``: the text, to choose among fixes, without checking that each changes it
        out = _json_fixes(diagnostic, text if text is not None else context)
    if text is not None:
        out = [f for f in out if _applies(f, text)]
    return out


def _url_fixes(diagnostic: Diagnostic) -> list[Fix]:
    data = diagnostic.data or {}
    url = data.get("url")
    out: list[Fix] = []
    if not isinstance(url, str):
        return out
    fix = data.get("fix")  # what the validator saw (diagnostics.FixKind), never the message's words
    if url != url.strip() and fix == "trim-url":
        out.append(_value_fix(diagnostic, "trim-url", "Remove the whitespace around the URL", str.strip))
    inner = url.strip().strip("<>").strip()
    if inner != url.strip() and ABSOLUTE_URL_RE.fullmatch(inner) and fix == "angle-brackets":
        out.append(_value_fix(diagnostic, "strip-angle-brackets", "Remove the angle brackets",
                              lambda v: v.strip().strip("<>").strip()))
    encoded = encode_url(url)
    if fix == "percent-encode" and encoded is not None and encoded != url \
            and ABSOLUTE_URL_RE.fullmatch(encoded.strip()):
        out.append(_value_fix(diagnostic, "percent-encode-url", f"Percent-encode it: {encoded.strip()}", encode_url))
    return out


def _value_fix(diagnostic: Diagnostic, fix_id: str, title: str, change: Callable[[str], str | None]) -> Fix:
    """A local fix rewriting the value the diagnostic points at (a JSON string or a CSV cell)."""
    def apply(text: str) -> str:
        return _edit_value(text, diagnostic, change)

    edit = (diagnostic.pointer, change) if diagnostic.pointer is not None else None
    return Fix(fix_id, title, apply, local=True, string_edit=edit)


def _title_fixes(diagnostic: Diagnostic, csv: bool) -> list[Fix]:
    if csv:
        if diagnostic.line is None:
            return []
        line, column = diagnostic.line, diagnostic.column or 1
        return [Fix("truncate-title", f"Cut the title to its first {MAX_TITLE} characters",
                    partial(csv_set_title, line=line, column=column, change=truncate)),
                Fix("shorten-title", f"Shorten the title to {MAX_TITLE} characters, keeping its start and end",
                    partial(csv_set_title, line=line, column=column, change=shorten_middle))]
    return [_value_fix(diagnostic, "truncate-title", f"Cut the title to its first {MAX_TITLE} characters", truncate),
            _value_fix(diagnostic, "shorten-title",
                       f"Shorten the title to {MAX_TITLE} characters, keeping its start and end", shorten_middle)]


def _csv_fixes(diagnostic: Diagnostic) -> list[Fix]:
    code, data = diagnostic.code, diagnostic.data or {}
    line, column = diagnostic.line, diagnostic.column or 1
    if line is None:
        return []
    if code == "url-not-absolute":
        return _url_fixes(diagnostic)
    if code == "title-too-long":
        return _title_fixes(diagnostic, csv=True)
    if code == "duplicate-url":
        return [Fix("remove-row", "Remove this repeated row", partial(csv_remove_row, line=line, column=column))]
    if code == "csv-row" and data.get("fix") == "extra-cells":
        return [Fix("join-extra-cells", "Put the extra cells back into the title column, quoted (a comma in a title)",
                    partial(csv_join_extra_cells, line=line), local=True),
                Fix("drop-extra-cells", "Remove the cells beyond the header's columns",
                    partial(csv_drop_extra_cells, line=line), local=True)]
    if code == "extension-mismatch":
        target = SECTION_BY_KIND.get(str(data.get("kind")))
        if target in ("videos", "images"):
            return [Fix("move-item", f'Move the row to a section headed "{_csv_title(target)}"',
                        partial(csv_move_row, line=line, column=column, target=target))]
    if code == "json-bom":
        return [Fix("strip-bom", "Remove the byte order mark", strip_bom)]
    return []


@functools.lru_cache(maxsize=1)
def _document(text: str) -> Any:
    """The parsed text (the last one asked: every duplicate of one round asks about the same text)."""
    return json.loads(strip_bom(text))


def _which_copy_to_remove(text: str | None, path: Sequence[Any], first_ptr: str | None) -> str | None:
    """Which copy of a repeated entry can go without losing what the user wrote: "later" when the
    repeat holds nothing the first copy lacks (or only its URL), "earlier" when the first holds only
    its URL, None when each carries something of its own (or the text cannot be read)."""
    if text is None or not first_ptr:
        return None  # cannot tell: nothing the user wrote is removed on a guess
    try:
        doc = _document(text)
        first = parse_pointer(first_ptr)
        later_item = doc[path[0]][path[1]]
        first_item = doc[first[0]][first[1]] if len(first) == 3 and isinstance(first[1], int) else None
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    if not isinstance(later_item, dict):
        return None

    def own(item: dict) -> dict:
        return {k: v for k, v in item.items() if not str(k).startswith("objectUrl")}

    if not own(later_item) or (isinstance(first_item, dict) and own(later_item) == own(first_item)):
        return "later"
    if isinstance(first_item, dict) and not own(first_item) and first[0] == path[0]:
        return "earlier"
    return None


def _csv_title(section: str) -> str:
    from annotrain_tui.core.manifest.csv import TITLE_FOR_SECTION

    return f"ObjectUrl,{TITLE_FOR_SECTION[section]}"


def _json_fixes(diagnostic: Diagnostic, text: str | None) -> list[Fix]:
    code, ptr, data = diagnostic.code, diagnostic.pointer, diagnostic.data or {}
    out: list[Fix] = []
    if code == "json-bom":
        out.append(Fix("strip-bom", "Remove the byte order mark", strip_bom))
    elif code == "json-syntax" and data.get("fix") == "trailing-comma":
        out.append(Fix("remove-trailing-commas", "Remove trailing commas", remove_trailing_commas))
    elif code == "url-index":
        item = ptr
        out.append(Fix("renumber-object-urls", "Renumber objectUrl_N keys 0…n-1 in this item",
                       partial(renumber_object_urls, ptr=item)))
        out.append(Fix("renumber-all-object-urls", "Renumber objectUrl_N keys in every item", renumber_object_urls))
    elif code == "duplicate-key" and ptr is not None:
        path = parse_pointer(ptr)
        key = data.get("key", path[-1] if path else "")
        if len(path) == 1 and key in SECTIONS:
            out.append(Fix("merge-sections", f'Merge the repeated "{key}" arrays', merge_duplicate_sections))
        elif len(path) == 3 and path[0] in GROUP_SECTIONS and str(key).startswith("objectUrl"):
            out.append(Fix("renumber-object-urls", "Renumber objectUrl_N keys (keeps both URLs)",
                           partial(renumber_object_urls, ptr=ptr)))
        out.extend(_keep_one(text, data.get("object", pointer_of(path[:-1])), str(key)))
        out.append(Fix("keep-last", "Keep only the last of repeated keys (in every object)", remove_duplicate_keys))
    elif code == "unknown-key" and ptr and data.get("suggestion"):
        new = data["suggestion"]
        out.append(Fix("rename-key", f'Rename to "{new}"', partial(rename_key, ptr=ptr, new_key=new), local=True))
    elif code == "url-not-absolute" and ptr:
        out.extend(_url_fixes(diagnostic))
    elif code == "title-too-long" and ptr:
        out.extend(_title_fixes(diagnostic, csv=False))
    elif code == "extension-mismatch" and ptr:
        path = parse_pointer(ptr)
        target = SECTION_BY_KIND.get(str(data.get("kind")))
        if len(path) == 3 and path[0] not in GROUP_SECTIONS and target and target not in GROUP_SECTIONS:
            out.append(Fix("move-item", f'Move the item to "{target}"', partial(move_item, ptr=ptr, target=target)))
    elif code == "duplicate-url" and ptr:
        path = parse_pointer(ptr)
        if len(path) == 3 and path[0] not in GROUP_SECTIONS and isinstance(path[1], int):
            item_ptr = "/" + "/".join(str(p) for p in path[:2])
            keep = _which_copy_to_remove(text, path, data.get("first"))
            if keep == "later":
                out.append(Fix("remove-entry", "Remove this repeated entry", partial(remove_element, ptr=item_ptr)))
            elif keep == "earlier":
                first = parse_pointer(data["first"])
                out.append(Fix("remove-earlier-entry", "Remove the earlier copy (it holds only the URL; this one "
                               "has the title and metadata)",
                               partial(remove_element, ptr="/" + "/".join(str(p) for p in first[:2]))))
            # else: both copies carry something of their own: nothing is removed for the user
        elif len(path) == 3 and path[0] in GROUP_SECTIONS:
            out.append(Fix("remove-group-url", "Remove this repeated file from its group (the others renumbered)",
                           partial(remove_group_url, ptr=ptr)))
        out.append(Fix("skip-duplicate-urls", 'Set "skip_duplicate_urls": true', set_skip_duplicate_urls))
    elif code == "wrong-type" and ptr and (ptr.endswith("/createVideo") or ptr in ("/skip_duplicate_urls",
                                                                                   "/upsert_metadata")):
        if data.get("fix") == "unquote-boolean":
            out.append(Fix("to-boolean", "Write it as a JSON boolean", partial(set_boolean, ptr=ptr), local=True))
    elif code == "metadata-type" and ptr and data.get("fix") == "unquote-number":
        out.append(Fix("to-number", "Write it as a number", partial(unquote_number, ptr=ptr), local=True))
    return out


def pointer_of(path: Path) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _keep_one(text: str | None, object_ptr: str, key: str) -> list[Fix]:
    """"Keep one of them": one fix per copy of the repeated key, the last one (what JSON readers
    use as the file stands) first."""
    if text is None:
        return []
    try:
        _parse(text)
        copies = _copies(text, object_ptr, key)
    except (InvalidInput, KeyError, IndexError):
        return []
    if len(copies) < 2:
        return []
    out = []
    n = len(copies)
    for k in [n - 1, *range(n - 1)]:
        line, what = copies[k]
        now = ", what JSON reads now" if k == n - 1 else ""
        out.append(Fix(f"keep-copy-{k + 1}", f'Keep copy {k + 1} of {n} of "{key}" (line {line}: {what}{now})',
                       partial(keep_copy, object_ptr=object_ptr, key=key, keep=k)))
    return out


def _applies(fix: Fix, text: str) -> bool:
    try:
        return fix.apply(text) != text
    except InvalidInput:
        return False


# ---------------------------------------------------------------------------------------------
# Applying fixes without a person choosing: `annotrain manifest fix` and the editor's "fix every …".

@dataclass(frozen=True)
class Applied:
    """One fix applied: the diagnostic it fixed (its position in the text as it was then)."""

    code: str
    fix: str
    title: str
    line: int | None
    column: int | None
    pointer: str | None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "fix": self.fix, "title": self.title, "line": self.line,
                "column": self.column, "pointer": self.pointer}


@dataclass
class FixRun:
    """What ``apply_fixes`` did: the text after, each fix applied, and the diagnostics left."""

    text: str
    format: str
    applied: list[Applied]
    remaining: list[Diagnostic]

    @property
    def changed(self) -> bool:
        return bool(self.applied)

    @property
    def errors_left(self) -> list[Diagnostic]:
        return [d for d in self.remaining if d.severity == "error"]

    def fixable_left(self) -> list[Diagnostic]:
        """Diagnostics left that still offer a fix (another code than the one asked for, or a fix
        that needs a choice the loop does not make, such as which copy of a key to keep)."""
        return [d for d in self.remaining if fixes_for(d, self.text, format=self.format)]


MAX_ROUNDS = 10_000


def apply_fixes(text: str, *, codes: set[str] | frozenset[str] | None = None, path: str | None = None,
                provider: str | None = None, format: str | None = None) -> FixRun:
    """Apply the first fix of every diagnostic whose code is in ``codes`` (every code: None) until
    none is left that a fix changes; validate again after each round.

    In a round every local fix (one value rewritten in place) is applied, from the end of the text
    backwards, then at most one structural fix (an item moved, a row removed) before validating
    again, so pointers and positions are always those of the text being edited. A text seen
    before ends the loop (two fixes undoing each other cannot run forever).
    """
    from annotrain_tui.core.manifest.validate import detect_format, validate_text

    fmt = format or detect_format(text, path)
    applied: list[Applied] = []
    seen = {hash(text)}

    def record(d: Diagnostic, fix: Fix) -> None:
        applied.append(Applied(d.code, fix.id, fix.title, d.line, d.column, d.pointer))

    def validate(current: str) -> list[Diagnostic]:
        return validate_text(current, path=path, provider=provider, format=fmt,  # type: ignore[arg-type]
                             max_per_code=None).diagnostics

    diagnostics = validate(text)
    if fmt == "json" and text.startswith("\ufeff"):
        # Every other JSON fix locates its text after the mark: it goes first, or nothing can be fixed.
        bom = next((d for d in diagnostics if d.code == "json-bom"), None)
        if codes is not None and "json-bom" not in codes:
            raise InvalidInput("this file starts with a byte order mark, which the other fixes cannot work "
                               "around: add json-bom to --code (or use --all)")
        if bom is not None:
            text = strip_bom(text)
            record(bom, Fix("strip-bom", "Remove the byte order mark", strip_bom))
            seen.add(hash(text))
            diagnostics = validate(text)
    for _ in range(MAX_ROUNDS):
        wanted = [d for d in diagnostics if codes is None or d.code in codes]
        candidates = [(d, fixes_for(d, format=fmt, context=text)) for d in wanted]
        offered = [(d, fixes[0]) for d, fixes in candidates if fixes]
        progress = False
        local = [(d, f) for d, f in offered if f.local]
        local.sort(key=lambda df: (df[0].line or 0, df[0].column or 0), reverse=True)
        if fmt == "json":
            text, done = _string_edits(text, [(d, f) for d, f in local if f.string_edit is not None])
            for d, fix in done:
                record(d, fix)
            progress = bool(done)
            local = [(d, f) for d, f in local if f.string_edit is None]
        for d, fix in local:
            try:
                new = fix.apply(text)
            except InvalidInput:
                continue
            if new != text:
                text, progress = new, True
                record(d, fix)
        if not progress:
            for d, fix in offered:
                if fix.local:
                    continue
                try:
                    new = fix.apply(text)
                except InvalidInput:
                    continue
                if new != text and hash(new) not in seen:
                    text, progress = new, True
                    record(d, fix)
                    break
        if not progress:
            break
        seen.add(hash(text))
        diagnostics = validate(text)
    remaining = validate_text(text, path=path, provider=provider, format=fmt).diagnostics  # type: ignore[arg-type]
    return FixRun(text, fmt, applied, remaining)


def _string_edits(text: str, fixes: list[tuple[Diagnostic, Fix]]) -> tuple[str, list[tuple[Diagnostic, Fix]]]:
    """Apply many JSON string rewrites found in one validation with one pass over the text (the
    changes for one pointer composed in the order of its diagnostics)."""
    if not fixes:
        return text, []
    _parse(text)
    by_ptr: dict[str, list[tuple[Diagnostic, Fix]]] = {}
    for d, fix in sorted(fixes, key=lambda df: (df[0].line or 0, df[0].column or 0)):
        assert fix.string_edit is not None
        by_ptr.setdefault(fix.string_edit[0], []).append((d, fix))
    paths = {ptr: parse_pointer(ptr) for ptr in by_ptr}
    spans = locate(text, set(paths.values())).spans
    edits: list[tuple[int, int, str]] = []
    done: list[tuple[Diagnostic, Fix]] = []
    for ptr, items in by_ptr.items():
        span = spans.get(paths[ptr])
        if span is None:
            continue
        value = json.loads(text[span.value_start:span.value_end])
        if not isinstance(value, str):
            continue
        new = value
        for d, fix in items:
            assert fix.string_edit is not None
            changed = fix.string_edit[1](new)
            if changed is not None and changed != new:
                new = changed
                done.append((d, fix))
        if new != value:
            edits.append((span.value_start, span.value_end, _dumps(new)))
    return _edit(text, edits), done


def fix_all(text: str, *, codes: set[str] | frozenset[str] | None = None, path: str | None = None,
            provider: str | None = None, format: str | None = None) -> str:
    """``apply_fixes`` for a front that only wants the text (the editor's "fix every …")."""
    return apply_fixes(text, codes=codes, path=path, provider=provider, format=format).text


def batch_fixes(diagnostic: Diagnostic, *, path: str | None = None, provider: str | None = None,
                format: str | None = None) -> list[Fix]:
    """The editor's "fix every problem of this code" and "apply every quick fix" options: the
    same loop as ``annotrain manifest fix --code CODE`` and ``--all``."""
    return [Fix(f"all-{diagnostic.code}", f"Fix every {diagnostic.code} problem the same way "
                f"(manifest fix --code {diagnostic.code})",
                partial(fix_all, codes=frozenset({diagnostic.code}), path=path, provider=provider, format=format)),
            Fix("all", "Apply every quick fix (manifest fix --all)",
                partial(fix_all, path=path, provider=provider, format=format))]
