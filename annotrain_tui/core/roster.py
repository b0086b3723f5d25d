"""Rosters: the CSV of annotators a programme trains (``name,email`` plus optional columns).

Headers are case-insensitive; UTF-8 with or without BOM; blank lines ignored. Every problem is
reported at once, per line, and a roster with any problem provisions nothing.
Optional columns: ``title`` (this annotator's project title, overriding the pattern) and
``notes`` (kept, shown in the TUI). Other columns are kept as ``extra``.

Comparing: every comparison of names, emails and titles (duplicates here, existing projects and
users in provisioning) goes through :func:`identity`: Unicode NFKC, then case folding, so
``Ａｌｉｃｅ``/``alice`` and ``ﬁ``/``fi`` are the same. Refused, per line, naming the character by
code point: an invisible character (zero-width space or joiner, soft hyphen, BOM, bidi mark,
embedding, override or isolate: Unicode category Cf, plus line/paragraph separators and the
Hangul fillers) or a control character (Cc) in a name, an email or a title; and an email that
NFKC changes (fullwidth letters, ``＠``): Encord compares addresses as written, so it must be
written plainly. Names are kept as written.

Lossless: every non-blank line below the header becomes an entry, rows with problems included
(the problems are attached by line, so an editor can show them and let the user fix them), and
each entry keeps its row as written (``cells``: every cell, unstripped, extra cells, cells under
an empty or repeated column name). :func:`roster_to_csv` with the roster's ``columns`` writes the
rows back from those cells, so an unedited roster is written back cell for cell. What cannot be
written back — undecodable bytes, a first line that is not a ``name,email`` header (a comment, a
title line), malformed CSV quoting, a cell the one CSV writer would change (its formula guard) —
is listed in ``Roster.unkept`` (line, why), checked by writing the roster and reading it back;
a roster with anything unkept is not ``lossless`` and must never be saved over its file.

Templates: ``{name}`` and ``{email}`` are placeholders only in the title *pattern* (``--title``),
expanded in one pass; a name, an email or a ``title`` cell is literal text, so a name that
contains ``{email}`` stays as it is.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.files import read_user_bytes
from annotrain_tui.core.text import shown

# Pragmatic address check: one @, a dot in the domain, no spaces or angle brackets.
EMAIL = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"'.]{2,}$")
KNOWN = ("name", "email", "title", "notes")
DEFAULT_TITLE = "Annotator Training - {name}"
PREAMBLE_LINES = 10  # how many non-blank lines above the header (a title, a comment) are looked past
PLACEHOLDER = re.compile(r"\{(name|email)\}")
# Invisible characters that are not in category Cf: line/paragraph separators, Hangul fillers.
_INVISIBLE_EXTRA = frozenset("\u2028\u2029\u115f\u1160\u3164\uffa0")


def identity(text: str) -> str:
    """The form in which names, emails and titles are compared: NFKC, case-folded (NFKC again,
    as case folding can leave compatibility characters), outer whitespace removed."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).strip()


def expand_title(pattern: str, name: str, email: str) -> str:
    """``pattern`` with ``{name}`` and ``{email}`` replaced in one pass (values are never expanded)."""
    values = {"name": name, "email": email}
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], pattern)


def char_name(ch: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: a character by code point (and name, when it has one)."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def hidden_char(text: str) -> tuple[int, str, str] | None:
    """(0-based index, character, "invisible" | "control") of the first hidden character, or None."""
    if text.isprintable():
        return None
    for i, ch in enumerate(text):
        cat = unicodedata.category(ch)
        if cat == "Cc":
            return i, ch, "control"
        if cat in ("Cf", "Cs", "Co", "Cn") or ch in _INVISIBLE_EXTRA:
            return i, ch, "invisible"
    return None


@dataclass(frozen=True)
class RosterEntry:
    line: int
    name: str
    email: str
    title: str | None = None
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # the row as written (unstripped, every cell, aligned with Roster.columns); () for a new entry
    cells: tuple[str, ...] = ()

    def project_title(self, pattern: str = DEFAULT_TITLE) -> str:
        if self.title:
            return self.title
        return expand_title(pattern, self.name, self.email)


@dataclass(frozen=True)
class RosterProblem:
    line: int
    message: str
    column: int | None = None

    def render(self, source: str) -> str:
        where = f"{shown(source)}:{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {shown(self.message)}"


@dataclass
class Roster:
    source: str
    entries: list[RosterEntry]
    problems: list[RosterProblem]
    # the header row as written; None when the file has no usable header (then written as name,email,…)
    columns: list[str] | None = None
    # why writing this roster back would not reproduce the file (line, reason); empty: lossless
    unkept: list[RosterProblem] = field(default_factory=list)
    newline: str = "\n"
    bom: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def lossless(self) -> bool:
        """Every line of the file is represented: writing the entries back loses nothing."""
        return not self.unkept

    def unkept_summary(self) -> str:
        """``line 1: why`` for the first unkept line (and how many more), '' when lossless."""
        if not self.unkept:
            return ""
        first = self.unkept[0]
        where = f"line {first.line}" + (f":{first.column}" if first.column else "")
        more = f"; and {len(self.unkept) - 1} more" if len(self.unkept) > 1 else ""
        return f"{where}: {shown(first.message, limit=160)}{more}"

    def to_csv(self, entries: list[RosterEntry] | None = None) -> str:
        """``entries`` (default: this roster's) written in this roster's layout (columns, line ends, BOM)."""
        return roster_to_csv(self.entries if entries is None else entries, columns=self.columns,
                             newline=self.newline, bom=self.bom)

    def raise_if_invalid(self) -> None:
        if self.problems:
            raise RosterInvalid(self)


class RosterInvalid(InvalidInput):
    def __init__(self, roster: Roster) -> None:
        n = len(roster.problems)
        super().__init__(f"{shown(roster.source)}: {n} problem{'s' if n != 1 else ''} in the roster; nothing was provisioned",
                         hint="fix every line listed and run again")
        self.roster = roster


def read_roster(path: str | Path, *, title_pattern: str = DEFAULT_TITLE) -> Roster:
    p = Path(path)
    data = read_user_bytes(p)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # shown (each bad byte as U+FFFD) so the rows can be seen, never lossless: never saved over
        line = data[: exc.start].count(b"\n") + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        col = len(data[line_start: exc.start].decode("utf-8", errors="replace")) + 1
        roster = parse_roster(data.decode("utf-8", errors="replace"), source=str(p), title_pattern=title_pattern)
        roster.problems.insert(0, RosterProblem(line, "not UTF-8 text: save the roster as UTF-8 CSV", col))
        roster.problems.sort(key=lambda q: (q.line, q.column or 0))
        roster.unkept.insert(0, RosterProblem(line, f"not UTF-8 text (byte 0x{data[exc.start]:02X}; shown as "
                                                    "U+FFFD, which a save would write)", col))
        return roster
    return parse_roster(text, source=str(p), title_pattern=title_pattern)


def parse_roster(text: str, *, source: str = "roster", title_pattern: str = DEFAULT_TITLE) -> Roster:
    stripped = text.lstrip("\ufeff")
    boms, text = len(text) - len(stripped), stripped
    newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1] else "\n"
    problems: list[RosterProblem] = []
    entries: list[RosterEntry] = []
    unkept: list[RosterProblem] = []
    if boms > 1:
        unkept.append(RosterProblem(1, f"{boms} byte-order marks at the start (a save writes one)"))
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    columns: list[str] | None = None
    header_line = 0
    first_at: dict[str, int] = {}
    shifted: set[int] = set()  # lines with more cells than the header
    read_rows: list[tuple[int, list[str]]] = []  # every non-blank row as read (header included)
    preamble: list[tuple[int, list[str]]] = []  # non-blank rows before the header
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                keys = [h.strip().lower() for h in row]
                if "name" not in keys or "email" not in keys:
                    preamble.append((line, row))  # a title or comment line, or no header: look a little further
                    if len(preamble) < PREAMBLE_LINES:
                        continue
                    break
                header, header_line = keys, line
                for pline, prow in preamble:
                    text_shown = shown(",".join(prow), limit=60)
                    problems.append(RosterProblem(pline, f"'{text_shown}' comes before the header row (line {line}):"
                                                         " a roster starts with its header row; remove this line"))
                    unkept.append(RosterProblem(pline, f"'{text_shown}' is above the header row (line {line}); a "
                                                       "save would not write it"))
                read_rows.append((line, row))
                columns = list(row)
                first_at = {}
                for ci, h in enumerate(header):
                    if h and h in first_at:
                        problems.append(RosterProblem(line, f"column {ci + 1} '{shown(row[ci].strip(), limit=40)}' "
                                                            f"repeats column {first_at[h] + 1}: rename or remove one "
                                                            "of them", ci + 1))
                    first_at.setdefault(h, ci)
                continue
            read_rows.append((line, row))
            first = first_at  # a column name's first position (a repeated one is a problem above)
            cells = {h: (row[i].strip() if i < len(row) else "") for h, i in first.items()}
            name, email = cells.get("name", ""), cells.get("email", "")
            col_name, col_email = first["name"] + 1, first["email"] + 1
            extra = {k: v for k, v in cells.items() if k not in KNOWN and k}
            entry = RosterEntry(line=line, name=name, email=email, title=cells.get("title") or None,
                                notes=cells.get("notes", ""), extra=extra, cells=tuple(row))
            entries.append(entry)  # kept whatever its problems: an editor shows them on the row
            if len(row) > len(header):
                # the cells are shifted (an unquoted comma): the cell count is the one problem to report
                problems.append(RosterProblem(line, f"{len(row)} cells but the header has {len(header)} columns "
                                                    "(a comma inside a name needs quotes)"))
                shifted.add(line)
                continue
            hidden = _hidden_problems(line, first, cells)
            problems.extend(hidden)
            bad_cols = {p.column for p in hidden}
            if not name:
                problems.append(RosterProblem(line, "missing name", col_name))
            if not email:
                problems.append(RosterProblem(line, "missing email", col_email))
            elif col_email in bad_cols:
                pass  # the hidden character is the problem to fix first
            elif unicodedata.normalize("NFKC", email) != email:
                plain = unicodedata.normalize("NFKC", email)
                problems.append(RosterProblem(line, f"the email '{shown(email)}' uses compatibility characters "
                                                    f"(fullwidth or other variant forms): write it as "
                                                    f"'{shown(plain)}'", col_email))
            elif not EMAIL.match(email):
                problems.append(RosterProblem(line, f"invalid email '{shown(email)}' (expected name@domain.tld)",
                                              col_email))
    except csv.Error as exc:
        problems.append(RosterProblem(reader.line_num, f"CSV syntax error: {exc}"))
        unkept.append(RosterProblem(reader.line_num, f"CSV syntax error ({exc}): the lines from here on were not "
                                                     "read"))
    if header is None and preamble:
        line, row = preamble[0]
        keys = [h.strip().lower() for h in row]
        missing = [c for c in ("name", "email") if c not in keys]
        hidden = next(((ci, found) for ci, cell in enumerate(row) if (found := hidden_char(cell))), None)
        why = ""
        if hidden is not None:
            ci, (_, ch, kind) = hidden
            why = f"; header cell {ci + 1} contains the {kind} character {char_name(ch)}: retype it"
        problems.append(RosterProblem(line, "the header row needs 'name' and 'email' columns "
                                            f"(missing: {', '.join(missing)}); found: "
                                            f"{shown(', '.join(row), limit=120)}{why}"))
        unkept.insert(0, RosterProblem(line, f"'{shown(','.join(row), limit=60)}' is not a 'name,email' header "
                                             "row (an unknown layout); a save would write none of the lines "
                                             "below it"))
        return Roster(source, [], problems, None, unkept, newline, boms > 0)
    if header is None:
        problems.append(RosterProblem(1, "the roster is empty: expected a header row 'name,email' and one row "
                                         "per annotator"))
        return Roster(source, [], problems, None, unkept, newline, boms > 0)
    if not entries and not problems:
        problems.append(RosterProblem(header_line, "no annotators below the header row"))
    seen_email: dict[str, int] = {}
    seen_title: dict[str, int] = {}
    for e in entries:
        if e.line in shifted:
            continue
        if e.email:
            key = identity(e.email)
            if key in seen_email:
                problems.append(RosterProblem(e.line, f"duplicate email '{shown(e.email)}' (first on line "
                                                      f"{seen_email[key]}; emails are compared ignoring case and "
                                                      "Unicode variant forms)"))
            else:
                seen_email[key] = e.line
        if e.name:
            title = e.project_title(title_pattern)
            key = identity(title)
            if key in seen_title:
                problems.append(RosterProblem(e.line, f"'{shown(e.name)}' would get the same project title "
                                                      f"'{shown(title)}' as line {seen_title[key]} (titles are "
                                                      "compared ignoring case and Unicode variant forms): add a "
                                                      "'title' column or tell the names apart"))
            else:
                seen_title[key] = e.line
    problems.sort(key=lambda p: (p.line, p.column or 0))
    if not unkept:
        unkept.extend(_strict_csv_problems(text))
    if not unkept:
        unkept.extend(_round_trip_problems(read_rows, roster_to_csv(entries, columns=columns)))
    return Roster(source, entries, problems, columns, unkept, newline, boms > 0)


def _strict_csv_problems(text: str) -> list[RosterProblem]:
    """Quoting that only a lenient reader accepts (an unterminated quote, text after a closing quote):
    what it read is a guess, so writing it back would rewrite the lines the user wrote."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for _ in reader:
            pass
    except csv.Error as exc:
        return [RosterProblem(reader.line_num, f"malformed CSV quoting ({exc}): a save would rewrite these lines")]
    return []


def _round_trip_problems(read_rows: list[tuple[int, list[str]]], written: str) -> list[RosterProblem]:
    """The mechanism behind ``lossless``: the roster as the one writer would save it, read back, row
    for row and cell for cell against the rows as they were read. The first difference is reported."""
    from annotrain_tui.core.exports import neutralise

    back = [row for row in csv.reader(io.StringIO(written, newline="")) if any(c.strip() for c in row)]
    for (line, row), again in zip_longest(read_rows, back, fillvalue=(0, None)):
        if isinstance(again, tuple):  # zip_longest's fill on the side of the rows written back
            again = None
        if row is None or row == again:
            continue
        if again is None:
            return [RosterProblem(line, "this row would not be written")]
        for ci, (was, now) in enumerate(zip_longest(row, again)):
            if was == now:
                continue
            if was is None or now is None:
                return [RosterProblem(line, f"{len(row)} cells would be written as {len(again)}", ci + 1)]
            why = (" (the CSV writer puts ' before a leading =, +, -, @ so that a spreadsheet does not run it)"
                   if neutralise(was) == now else "")
            return [RosterProblem(line, f"cell {ci + 1} '{shown(was, limit=40)}' would be written as "
                                        f"'{shown(now, limit=40)}'{why}", ci + 1)]
    return []


def _hidden_problems(line: int, first: dict[str, int], cells: dict[str, str]) -> list[RosterProblem]:
    """One problem per name/email/title cell holding an invisible or control character."""
    out: list[RosterProblem] = []
    for column in ("name", "email", "title"):
        if column not in first:
            continue
        found = hidden_char(cells.get(column, ""))
        if found is None:
            continue
        index, ch, kind = found
        how = ("retype the cell (invisible characters come in with text pasted from web pages and documents)"
               if kind == "invisible" else "remove it")
        out.append(RosterProblem(line, f"the {column} contains the {kind} character {char_name(ch)} at character "
                                       f"{index + 1}: {how}", first[column] + 1))
    return out


def roster_to_csv(entries: list[RosterEntry], columns: list[str] | None = None, *, newline: str = "\n",
                  bom: bool = False) -> str:
    """Write entries back (the TUI's roster editor saves through this; ``Roster.to_csv`` passes the
    file's own layout).

    With ``columns`` (the header as written) every row is written from its entry's ``cells``, so
    nothing the file held is dropped: extra cells past the header, cells under an empty or repeated
    column name, whitespace. A field the user changed (name, email, title, notes, an extra value)
    replaces its cell at the column's first position; a ``title`` or ``notes`` value with no column
    gets one at the end. Without ``columns``: ``name,email`` (then title, notes, extra columns).

    Through the project's one CSV writer (core/exports.py ``csv_text``): a cell holding a CR or LF
    stays one quoted cell, formula prefixes are neutralised, lone surrogates escaped.
    """
    from annotrain_tui.core.exports import csv_text

    own_layout = columns is not None  # entries' cells line up with these columns
    if columns is None:
        extra_cols = sorted({k for e in entries for k in e.extra})
        has_title = any(e.title for e in entries)
        has_notes = any(e.notes for e in entries)
        columns = (["name", "email"] + (["title"] if has_title else []) + (["notes"] if has_notes else [])
                   + extra_cols)
    cols = list(columns)
    keys = [c.strip().lower() for c in cols]
    for k in ("title", "notes"):
        if k not in keys and any(getattr(e, k) for e in entries):
            cols.append(k)
            keys.append(k)
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k:
            first.setdefault(k, i)
    lines: list[list[str]] = [cols]
    for e in entries:
        lines.append(_entry_cells(e, first, len(cols), e.cells if own_layout else ()))
    text = csv_text(lines, lineterminator=newline)
    return ("\ufeff" if bom else "") + text


def _entry_cells(e: RosterEntry, first: dict[str, int], width: int, written: tuple[str, ...]) -> list[str]:
    """The entry's row: its cells as written, each field the user changed put in its column."""
    cells = list(written) if written else [""] * width
    fields = {"name": e.name, "email": e.email, "title": e.title or "", "notes": e.notes}
    for key, i in first.items():
        if key in fields:
            value = fields[key]
        elif key in e.extra:
            value = e.extra[key]
        else:
            continue
        current = cells[i] if i < len(cells) else ""
        if current.strip() == value:
            continue  # unchanged: keep the cell exactly as written (its spacing included)
        cells.extend([""] * (i + 1 - len(cells)))
        cells[i] = value
    return cells
