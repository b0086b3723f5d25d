"""CSV registration manifests: parse (with line/column of every cell), validate, and write.

The documented format: case-insensitive headers; an ``ObjectUrl`` column plus one title column
that says the data type (``Video title``, ``Image title``, ``Image group title`` with ``Create
video``, ``Dicom title`` or ``Series title``); a header row repeated further down starts a new
section; a lone ``ObjectUrl`` column means videos; at most 10,000 entries; URLs without whitespace.
A CSV is checked by converting it to the JSON form and applying the JSON rules, with every
finding mapped back to its cell.
"""

from __future__ import annotations

import difflib
import io
import re
from dataclasses import dataclass, field
from typing import Any

from annotrain_tui.core.manifest.collector import DEFAULT_MAX_PER_CODE, Collector
from annotrain_tui.core.manifest.diagnostics import OVER_THE_LIMITS, ValidationResult, fix_data
from annotrain_tui.core.manifest.positions import Path
from annotrain_tui.core.manifest.rules import check_data
from annotrain_tui.core.manifest.spec import MAX_CSV_ENTRIES
from annotrain_tui.core.manifest.validate import Parsed
from annotrain_tui.core.remedies import Note
from annotrain_tui.core.text import shown

# Header (normalised: lower case, single spaces) → role.
TITLE_HEADERS: dict[str, str] = {
    "video title": "videos",
    "image title": "images",
    "image group title": "image_groups",
    "dicom title": "dicom_series",
    "series title": "dicom_series",
}
URL_HEADER = "objecturl"
CREATE_VIDEO_HEADER = "create video"
KNOWN_HEADERS = (URL_HEADER, CREATE_VIDEO_HEADER, *TITLE_HEADERS)
DISPLAY = {"objecturl": "ObjectUrl", "create video": "Create video", "video title": "Video title",
           "image title": "Image title", "image group title": "Image group title", "dicom title": "Dicom title",
           "series title": "Series title"}
# Section → the title header written for it.
TITLE_FOR_SECTION = {"videos": "Video title", "images": "Image title", "image_groups": "Image group title",
                     "dicom_series": "Dicom title"}


@dataclass
class Cell:
    value: str
    line: int
    column: int


@dataclass
class Record:
    cells: list[Cell]
    line: int

    def blank(self) -> bool:
        return all(c.value.strip() == "" for c in self.cells)


class CsvSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line, self.column = line, column


_UNQUOTED = re.compile(r"[^,\r\n]*")
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')


def read_records(text: str) -> list[Record]:
    """RFC 4180 records with the line/column where each cell starts (CRLF, LF or CR line ends)."""
    records: list[Record] = []
    pos, n = 0, len(text)
    line, line_start = 1, 0
    while pos < n:
        cells: list[Cell] = []
        rec_line = line
        while True:
            col = pos - line_start + 1
            cell_line = line
            if pos < n and text[pos] == '"':
                m = _QUOTED.match(text, pos)
                if m is None:
                    raise CsvSyntaxError("this quoted cell is never closed: add the closing double quote",
                                         line, col)
                value = m.group(1).replace('""', '"')
                raw = m.group(0)
                nl = raw.count("\n") + raw.count("\r") - raw.count("\r\n")
                if nl:
                    line += nl
                    last = max(raw.rfind("\n"), raw.rfind("\r"))
                    line_start = pos + last + 1
                cells.append(Cell(value, cell_line, col))
                pos = m.end()
                if pos < n and text[pos] not in ",\r\n":
                    raise CsvSyntaxError("text after a closing quote: put the whole cell in quotes and double "
                                         'any quote inside it ("")', line, pos - line_start + 1)
            else:
                m = _UNQUOTED.match(text, pos)
                assert m is not None
                cells.append(Cell(m.group(0), line, col))
                pos = m.end()
            if pos >= n:
                break
            ch = text[pos]
            if ch == ",":
                pos += 1
                continue
            # end of record
            pos += 2 if text.startswith("\r\n", pos) else 1
            line += 1
            line_start = pos
            break
        records.append(Record(cells, rec_line))
    return records


def _norm(header: str) -> str:
    return " ".join(header.strip().lower().split())


@dataclass
class _Section:
    kind: str                    # videos | images | image_groups | dicom_series
    url_col: int
    title_col: int | None
    create_col: int | None
    header_line: int
    lone: bool
    width: int = 0


@dataclass
class _Row:
    record: Record
    section: _Section

    def cell(self, index: int | None) -> Cell | None:
        if index is None or index >= len(self.record.cells):
            return None
        return self.record.cells[index]


@dataclass
class _Build:
    data: dict[str, Any] = field(default_factory=dict)
    where: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_where: dict[Path, tuple[int, int]] = field(default_factory=dict)
    lone_paths: set[Path] = field(default_factory=set)
    entries: int = 0


def _is_header(record: Record) -> bool:
    names = [_norm(c.value) for c in record.cells if c.value.strip()]
    return bool(names) and URL_HEADER in names


def _parse_header(record: Record, col: Collector) -> _Section | None:
    url_col = title_col = create_col = None
    kind: str | None = None
    guessed: str | None = None  # the type a misspelt title column probably meant
    unknown = False
    ok = True
    for index, cell in enumerate(record.cells):
        name = _norm(cell.value)
        where: dict[str, Any] = {"line": cell.line, "column": cell.column}
        if name == "":
            continue
        if name == URL_HEADER:
            if url_col is not None:
                col.add("error", "csv-header", "a second ObjectUrl column: keep one", **where)
                ok = False
            url_col = index
        elif name == CREATE_VIDEO_HEADER:
            create_col = index
        elif name in TITLE_HEADERS:
            if kind is not None and TITLE_HEADERS[name] != kind:
                col.add("error", "csv-header",
                        f"a second title column '{cell.value.strip()}': a header row names one data type; start a "
                        "new header row for the next type", **where)
                ok = False
            kind, title_col = TITLE_HEADERS[name], index
        else:
            unknown = True
            match = difflib.get_close_matches(name, KNOWN_HEADERS, n=1, cutoff=0.6)
            if match and match[0] in TITLE_HEADERS:
                guessed = TITLE_HEADERS[match[0]]
            hint = f": did you mean '{DISPLAY[match[0]]}'?" if match else (
                f"; the columns are ObjectUrl, one title column ({', '.join(DISPLAY[h] for h in TITLE_HEADERS)}) "
                "and Create video")
            col.add("error", "csv-header", f"unknown column '{_show(cell.value.strip())}'{hint}", **where)
    if url_col is None:
        return None
    if not ok:
        return None
    lone = kind is None and create_col is None and not unknown
    kind = kind or guessed
    if kind is None and create_col is not None:
        col.add("error", "csv-header",
                "a 'Create video' column without an 'Image group title' column: add the group title column",
                line=record.line, column=1)
        return None
    width = max((i + 1 for i, c in enumerate(record.cells) if c.value.strip()), default=1)
    return _Section(kind or "videos", url_col, title_col, create_col, record.line, lone, width)


def _show(text: str, limit: int = 60) -> str:
    return shown(text, limit=limit)


def _nul_cells(body: str, col: Collector) -> bool:
    """Report each line holding a NUL character (with its line:column); True when there is one.

    A NUL in a CSV cell is binary damage (or a file that is not text): it is its own error, not
    a URL problem, and nothing else in the file is checked until it is gone.
    """
    if "\0" not in body:
        return False
    line, line_start, last_line = 1, 0, 0
    for m in _LINE_END_OR_NUL.finditer(body):
        if m.group() != "\0":
            line += 1
            line_start = m.end()
            continue
        if line == last_line:
            continue
        last_line = line
        col.add("error", "csv-nul",
                "a NUL character (U+0000) in this cell: the file holds binary data or is damaged (or is not a CSV "
                "text file); remove it", line=line, column=m.start() - line_start + 1)
    return True


_LINE_END_OR_NUL = re.compile(r"\r\n|[\r\n\0]")


def parse_csv(text: str, *, path: str | None = None, provider: str | None = None,
              max_per_code: int | None = DEFAULT_MAX_PER_CODE) -> Parsed:
    """Validate a CSV manifest; ``Parsed.data`` is its JSON form when it could be read."""
    col = Collector(max_per_code)
    result = ValidationResult(path=path, format="csv")
    body = text[1:] if text.startswith("\ufeff") else text
    if _nul_cells(body, col):
        result.diagnostics = col.finish(None)
        return Parsed(result, None, text)
    try:
        records = read_records(body)
    except CsvSyntaxError as exc:
        col.add("error", "csv-row", str(exc), line=exc.line, column=exc.column)
        result.diagnostics = col.finish(None)
        return Parsed(result, None, text)
    build = _build(records, col)
    if build is None:
        result.diagnostics = col.finish(None)
        return Parsed(result, None, text)
    check_data(build.data, col, provider=provider, result=result, csv_mode=True)
    for p in col.pending:
        if p.code != "extension-mismatch" or p.path is None:
            continue
        kind = (p.data or {}).get("kind", "other")
        wanted = TITLE_FOR_SECTION.get(_section_for_kind(kind))
        if p.path[:2] in build.lone_paths:
            p.message = (f"a CSV section with only an ObjectUrl column registers videos, and Encord rejects this "
                         f"file with \"Expected a video, got a file of type {kind}\": add the matching title column "
                         f"('{wanted or 'Image title'}') to the header")
        else:
            here = TITLE_FOR_SECTION.get(str(p.path[0]), str(p.path[0]))
            move = f"put it in a section headed '{wanted}'" if wanted else "keep it in a JSON manifest"
            p.message = (f"this is {'an' if kind[:1] in 'aeiou' else 'a'} {kind} file, but its row is in a "
                         f"section headed '{here}': {move} (Encord rejects a file whose type does not match)")

    def resolve(p: Path, at_key: bool) -> tuple[int, int] | None:
        for cut in range(len(p), -1, -1):
            found = build.where.get(p[:cut])
            if found is not None:
                return found
        return (1, 1)

    result.diagnostics = col.finish(None, resolver=resolve, pointers=False)
    return Parsed(result, build.data, text)


def _section_for_kind(kind: str) -> str:
    return {"image": "images", "video": "videos", "dicom": "dicom_series"}.get(kind, "")


_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def _build(records: list[Record], col: Collector) -> _Build | None:
    build = _Build()
    section: _Section | None = None
    groups: dict[tuple[str, str], dict[str, Any]] = {}  # (section, title) → JSON item
    group_index: dict[tuple[str, str], int] = {}
    group_create_cell: dict[tuple[str, str], Cell] = {}
    single_count: dict[str, int] = {}
    first = True
    for record in records:
        if record.blank():
            continue
        if _is_header(record):
            section = _parse_header(record, col)
            if section is None and not col.has_errors():
                return None
            first = False
            continue
        if first:
            first = False
            if len(record.cells) == 1 and re.search(r"objecturl[;\t|]", record.cells[0].value.lower()):
                col.add("error", "csv-header", "the cells are not separated by commas: Encord expects a "
                        "comma-separated file (ObjectUrl,Image title,…)", line=record.line, column=1)
            else:
                col.add("error", "csv-header",
                        "the first row must be a header naming the columns, e.g. ObjectUrl,Image title "
                        "(headers are case-insensitive)", line=record.line, column=1)
            return None
        if section is None:
            continue  # the header of this part was wrong (already reported)
        build.entries += 1
        if build.entries == MAX_CSV_ENTRIES + 1:
            col.add("error", "too-many-items",
                    f"Encord accepts at most {MAX_CSV_ENTRIES:,} entries in a CSV file; this is entry "
                    f"{build.entries:,}: split the file, register it in batches or use JSON", see=OVER_THE_LIMITS,
                    line=record.line, column=1)
        row = _Row(record, section)
        width = section.width
        extra = [c for c in record.cells[width:] if c.value.strip()]
        if extra:
            col.add("error", "csv-row",
                    f"this row has {len(record.cells)} cells but the header (line {section.header_line}) has "
                    f"{width}: quote cells that contain commas", line=extra[0].line, column=extra[0].column,
                    data=fix_data("extra-cells"))
        url_cell = row.cell(section.url_col)
        if url_cell is None or url_cell.value == "":
            col.add("error", "missing-url", "no ObjectUrl in this row: every row needs the full URL of a file",
                    line=record.line, column=url_cell.column if url_cell else 1)
            continue
        url = url_cell.value  # whitespace and other URL problems are reported by the shared rules
        title_cell = row.cell(section.title_col)
        title = title_cell.value.strip() if title_cell else ""
        create_cell = row.cell(section.create_col)
        create_raw = _norm(create_cell.value) if create_cell else None
        where_url = (url_cell.line, url_cell.column)
        if section.kind in ("videos", "images"):
            if create_cell is not None and create_raw not in _FALSE:
                col.add("warning", "create-video",
                        f"'Create video' is {'blank (which means true)' if not create_raw else repr(create_cell.value)}"
                        " on a row that is not an image group: the docs require false for every file that is not "
                        "part of an image sequence — write false", line=create_cell.line, column=create_cell.column)
            entries = build.data.setdefault(section.kind, [])
            item: dict[str, Any] = {"objectUrl": url}
            if title:
                item["title"] = title
            i = len(entries)
            entries.append(item)
            single_count[section.kind] = i + 1
            build.where[(section.kind, i)] = (record.line, 1)
            build.where[(section.kind, i, "objectUrl")] = where_url
            if title_cell is not None:
                build.where[(section.kind, i, "title")] = (title_cell.line, title_cell.column)
            if section.lone:
                build.lone_paths.add((section.kind, i))
            continue
        # image groups / sequences and DICOM series: rows with the same title form one item
        kind = section.kind
        if kind == "image_groups":
            if not title:
                col.add("error", "missing-title",
                        "the 'Image group title' is empty: it decides which image group the file belongs to",
                        line=record.line, column=title_cell.column if title_cell else 1)
                continue
            if create_cell is None:
                create = section.create_col is not None  # no column → image group
            elif create_raw == "":
                create = True  # documented default
            elif create_raw in _TRUE:
                create = True
            elif create_raw in _FALSE:
                create = False
            else:
                col.add("error", "create-video",
                        f"'Create video' must be true or false (blank means true), not '{_show(create_cell.value)}'",
                        line=create_cell.line, column=create_cell.column)
                create = True
        else:
            create = None
            if not title:
                title = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or url  # docs: the file name is used
                title = f"\0{title}"  # a blank title never joins a series with a real title
        key = (kind, title)
        entries = build.data.setdefault(kind, [])
        group = groups.get(key)
        if group is None:
            group = {"title": title.lstrip("\0")}
            if create is not None:
                group["createVideo"] = create
            groups[key] = group
            group_index[key] = len(entries)
            entries.append(group)
            g = group_index[key]
            build.where[(kind, g)] = (record.line, 1)
            if title_cell is not None:
                build.where[(kind, g, "title")] = (title_cell.line, title_cell.column)
            if create_cell is not None:
                group_create_cell[key] = create_cell
        elif create is not None and group.get("createVideo") is not create:
            first_cell = group_create_cell.get(key)
            first_at = f" (line {first_cell.line})" if first_cell else ""
            col.add("error", "create-video",
                    f"'Create video' is {str(create).lower()} here but {str(group.get('createVideo')).lower()} on the "
                    f"first row of image group '{_show(title)}'{first_at}: a group is either an image sequence (true) "
                    "or an image group (false) — make the rows agree",
                    line=create_cell.line if create_cell else record.line,
                    column=create_cell.column if create_cell else 1)
        g = group_index[key]
        n = sum(1 for k in group if k.startswith("objectUrl_"))
        group[f"objectUrl_{n}"] = url
        build.where[(kind, g, f"objectUrl_{n}")] = where_url
    if first and not col.has_errors():
        col.add("error", "no-items", "the file is empty: a CSV manifest starts with a header row such as "
                "ObjectUrl,Image title, then one row per file", line=1, column=1)
    elif build.entries == 0 and not col.has_errors():
        col.add("error", "no-items", "the CSV has a header but no rows: add one row per file", line=1, column=1)
    return build


# ---------------------------------------------------------------------------------------------
# Writing.

def to_csv(data: dict[str, Any]) -> tuple[str, list[str]]:
    """The CSV form of a JSON manifest, and what it cannot carry (one sentence each).

    Sections CSV cannot express (audio, pdfs, text, nifti) are left out and reported.
    """
    from annotrain_tui.core.exports import cell_changes, csv_text

    lost: list[str] = []  # Note where an action helps
    out = io.StringIO()
    rows = 0
    neutralised = 0
    escaped = 0

    def write(cells: list[str]) -> None:
        # The project's one CSV writer: CR/LF cells quoted, formula prefixes neutralised, lone
        # surrogates escaped; padded cells quoted too (Encord strips unquoted whitespace). The
        # report counts what the writer really changed, each change for its own reason.
        nonlocal neutralised, escaped
        for cell in cells:
            formula, surrogate = cell_changes(cell)
            neutralised += formula
            escaped += surrogate
        out.write(csv_text([cells], lineterminator="\r\n", quote_padded=True))

    for name in ("audio", "pdfs", "text", "nifti"):
        entries = data.get(name)
        if isinstance(entries, list) and entries:
            lost.append(f'the {len(entries):,} "{name}" entries are left out: the CSV format has no column for '
                        f"{name} (keep them in a JSON manifest)")
    for key in ("skip_duplicate_urls", "upsert_metadata"):
        if key in data:
            lost.append(f'"{key}": {str(data[key]).lower()} is dropped: the CSV format has no such setting')
    meta_items = 0
    client_items = 0
    for name in ("videos", "images", "image_groups", "dicom_series"):
        entries = data.get(name)
        if not isinstance(entries, list) or not entries:
            continue
        header = ["ObjectUrl", TITLE_FOR_SECTION[name]]
        if name == "image_groups":
            header.append("Create video")
        write(header)
        titles_seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            if "clientMetadata" in entry:
                client_items += 1
            if any(k.endswith("Metadata") and k != "clientMetadata" for k in entry):
                meta_items += 1
            if name in ("videos", "images"):
                url = entry.get("objectUrl")
                if isinstance(url, str):
                    write([url, str(entry.get("title") or "")])
                    rows += 1
                continue
            title = str(entry.get("title") or "")
            if title in titles_seen:
                lost.append(f'{name} entries {titles_seen[title]} and {i} share the title "{_show(title)}": in CSV '
                            "rows with one title form one item, so they would be merged")
            titles_seen.setdefault(title, i)
            indexed = sorted((int(k[len("objectUrl_"):]), v) for k, v in entry.items()
                             if re.fullmatch(r"objectUrl_(0|[1-9][0-9]*)", k) and isinstance(v, str))
            create = entry.get("createVideo")
            for _, url in indexed:
                cells = [url, title]
                if name == "image_groups":
                    cells.append("true" if create is True else "false")
                write(cells)
                rows += 1
    if client_items:
        lost.append(f"clientMetadata of {client_items:,} item{'s' if client_items != 1 else ''} is dropped: "
                    "CSV has no metadata column")
    if meta_items:
        lost.append(f"media metadata (videoMetadata, imageMetadata, …) of {meta_items:,} "
                    f"item{'s' if meta_items != 1 else ''} is dropped: Encord will read those files instead")
    if neutralised:
        lost.append(f"{neutralised:,} cell{'s' if neutralised != 1 else ''} that a spreadsheet would run as a "
                    "formula (starting with = + - @, a tab or CR, also after a line break or a separator) "
                    f"{'are' if neutralised != 1 else 'is'} written with a ' before it")
    if escaped:
        lost.append(f"{escaped:,} cell{'s' if escaped != 1 else ''} "
                    f"{'hold' if escaped != 1 else 'holds'} half of a UTF-16 surrogate pair (no character; "
                    "undecodable text?), written as its escape (\\udXXX as six characters, which Encord "
                    "would store as they are): write the whole character in the manifest, or remove it")
    if rows > MAX_CSV_ENTRIES:
        lost.append(Note(f"the CSV has {rows:,} entries; Encord accepts at most {MAX_CSV_ENTRIES:,} per CSV "
                         "file: split it first", see="manifest.split"))
    return out.getvalue(), lost
