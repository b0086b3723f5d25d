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
from pathlib import Path

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.files import read_user_bytes
from annotrain_tui.core.text import shown

# Pragmatic address check: one @, a dot in the domain, no spaces or angle brackets.
EMAIL = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"'.]{2,}$")
KNOWN = ("name", "email", "title", "notes")
DEFAULT_TITLE = "Annotator Training - {name}"
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

    @property
    def ok(self) -> bool:
        return not self.problems

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
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Roster(str(p), [], [RosterProblem(line, "not UTF-8 text: save the roster as UTF-8 CSV")])
    return parse_roster(text, source=str(p), title_pattern=title_pattern)


def parse_roster(text: str, *, source: str = "roster", title_pattern: str = DEFAULT_TITLE) -> Roster:
    text = text.lstrip("\ufeff")
    problems: list[RosterProblem] = []
    entries: list[RosterEntry] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [h.strip().lower() for h in row]
                header_line = line
                missing = [c for c in ("name", "email") if c not in header]
                if missing:
                    hidden = next(((ci, found) for ci, cell in enumerate(row) if (found := hidden_char(cell))),
                                  None)
                    why = ""
                    if hidden is not None:
                        ci, (_, ch, kind) = hidden
                        why = f"; header cell {ci + 1} contains the {kind} character {char_name(ch)}: retype it"
                    problems.append(RosterProblem(line, "the header row needs 'name' and 'email' columns "
                                                        f"(missing: {', '.join(missing)}); found: "
                                                        f"{shown(', '.join(row), limit=120)}{why}"))
                    return Roster(source, [], problems)
                dupes = sorted({h for h in header if header.count(h) > 1 and h})
                if dupes:
                    problems.append(RosterProblem(line, f"column(s) {', '.join(dupes)} appear more than once"))
                continue
            cells = dict(zip(header, (c.strip() for c in row)))
            if len(row) > len(header):
                problems.append(RosterProblem(line, f"{len(row)} cells but the header has {len(header)} columns "
                                                    "(a comma inside a name needs quotes)"))
                continue
            name, email = cells.get("name", ""), cells.get("email", "")
            col_name, col_email = header.index("name") + 1, header.index("email") + 1
            hidden = _hidden_problems(line, header, cells)
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
            extra = {k: v for k, v in cells.items() if k not in KNOWN and k}
            entries.append(RosterEntry(line=line, name=name, email=email, title=cells.get("title") or None,
                                       notes=cells.get("notes", ""), extra=extra))
    except csv.Error as exc:
        problems.append(RosterProblem(reader.line_num, f"CSV syntax error: {exc}"))
    if header is None:
        problems.append(RosterProblem(1, "the roster is empty: expected a header row 'name,email' and one row "
                                         "per annotator"))
        return Roster(source, [], problems)
    if not entries and not problems:
        problems.append(RosterProblem(header_line, "no annotators below the header row"))
    seen_email: dict[str, int] = {}
    seen_title: dict[str, int] = {}
    for e in entries:
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
    return Roster(source, entries, problems)


def _hidden_problems(line: int, header: list[str], cells: dict[str, str]) -> list[RosterProblem]:
    """One problem per name/email/title cell holding an invisible or control character."""
    out: list[RosterProblem] = []
    for column in ("name", "email", "title"):
        if column not in header:
            continue
        found = hidden_char(cells.get(column, ""))
        if found is None:
            continue
        index, ch, kind = found
        how = ("retype the cell (invisible characters come in with text pasted from web pages and documents)"
               if kind == "invisible" else "remove it")
        out.append(RosterProblem(line, f"the {column} contains the {kind} character {char_name(ch)} at character "
                                       f"{index + 1}: {how}", header.index(column) + 1))
    return out


def roster_to_csv(entries: list[RosterEntry]) -> str:
    """Write entries back (the TUI's roster editor saves through this).

    Through the project's one CSV writer (core/exports.py ``csv_text``): a cell holding a CR or LF
    stays one quoted cell, formula prefixes are neutralised, lone surrogates escaped.
    """
    from annotrain_tui.core.exports import csv_text

    extra_cols = sorted({k for e in entries for k in e.extra})
    has_title = any(e.title for e in entries)
    has_notes = any(e.notes for e in entries)
    cols = ["name", "email"] + (["title"] if has_title else []) + (["notes"] if has_notes else []) + extra_cols
    lines: list[list[str]] = [cols]
    for e in entries:
        row = {"name": e.name, "email": e.email, "title": e.title or "", "notes": e.notes, **e.extra}
        lines.append([row.get(c, "") for c in cols])
    return csv_text(lines, lineterminator="\n")
