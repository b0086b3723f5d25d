"""Rosters: the CSV of annotators a programme trains (``name,email`` plus optional columns).

Headers are case-insensitive; UTF-8 with or without BOM; blank lines ignored. Every problem is
reported at once, per line, and a roster with any problem provisions nothing.
Optional columns: ``title`` (this annotator's project title, overriding the pattern) and
``notes`` (kept, shown in the TUI). Other columns are kept as ``extra``.

Comparing: every comparison of names, emails and titles (duplicates here, existing projects and
users in provisioning) goes through :func:`identity`: invisible characters dropped, Unicode NFKC,
then case folding, so ``Ａｌｉｃｅ``/``alice``, ``ﬁ``/``fi`` and ``Alice\ufe0f``/``Alice`` are the same.

Refused, per line, naming the character by code point and located at the character itself
(line:column in the file, also inside a quoted multi-line cell):

- a control character (Cc) in a name, an email or a title;
- an invisible character (:func:`is_invisible`, the one rule): format characters (Cf: zero-width
  space and joiners, soft hyphen, BOM, bidi marks, embeddings, overrides, isolates), surrogates,
  private-use and unassigned code points, line/paragraph separators, every Unicode
  Default_Ignorable code point (Hangul fillers U+115F/U+1160/U+3164/U+FFA0, variation selectors
  U+FE00–FE0F and U+E0100–E01EF, tags, the combining grapheme joiner…) and blank glyphs
  (U+2800 BRAILLE PATTERN BLANK);
- a name without a single letter or digit (only combining marks, punctuation or symbols);
- an email that is not plain ASCII. Decision: Encord addresses are ASCII in practice, and a
  look-alike (Cyrillic ``а`` for Latin ``a``) would invite a stranger, so the first non-ASCII
  character is named (``U+0430 CYRILLIC SMALL LETTER A``); when NFKC makes the address plain
  (fullwidth letters, ``＠``) that form is suggested; a space of any kind inside the address
  (U+00A0, U+3000) is a space to remove. Internationalised addresses (RFC 6531) are therefore
  refused: give the annotator's ASCII address.
- an email whose syntax is wrong: the local part is RFC 5322 atext and dots (no leading,
  trailing or double dot; no brackets, quotes or spaces), the domain is LDH labels (letters,
  digits, inner hyphens) joined by at least one dot;
- a quote that opens a cell and is never closed (located at the quote: the csv module would
  silently read the rest of the file as that cell);
- a project title over Encord's length (:data:`MAX_TITLE`).

Names are kept as written.

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
contains ``{email}`` stays as it is. A pattern is checked by :func:`title_pattern_problem`, the
one check wherever a pattern arrives (the CLI's ``--title``, the ``training_title`` setting,
``make_plan``): not empty or blank, no control or invisible character, braces only in ``{name}``
and ``{email}`` (an unknown placeholder or a lone brace is refused), within :data:`MAX_TITLE`.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import ClassVar

from annotrain_tui.core.errors import ErrorKind, InvalidInput, UsageError
from annotrain_tui.core.files import read_user_bytes
from annotrain_tui.core.text import shown

# Addresses: an RFC 5322 dot-atom local part (atext and single inner dots), then a domain of
# LDH labels (letters, digits, inner hyphens), at least two of them; ASCII only (see the docstring).
ATEXT = "!#$%&'*+-/=?^_`{|}~"
_LOCAL = re.compile(r"[A-Za-z0-9" + re.escape(ATEXT) + r"]+(?:\.[A-Za-z0-9" + re.escape(ATEXT) + r"]+)*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
EMAIL = re.compile(r"^" + _LOCAL.pattern + r"@(?:" + _LABEL.pattern + r"\.)+" + _LABEL.pattern + r"$")
KNOWN = ("name", "email", "title", "notes")
#: The title pattern of a training project (``{name}``, ``{email}``): the one default, for the settings
#: (``training_title``), the CLI's --title, the plan and the sandbox's demo.
DEFAULT_TRAINING_TITLE = "Annotator Training - {name}"
PREAMBLE_LINES = 10  # how many non-blank lines above the header (a title, a comment) are looked past
PLACEHOLDER = re.compile(r"\{(name|email)\}")
MAX_TITLE = 300  # characters in a project title (the bound core/manifest uses for Encord titles)
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): what renders as nothing.
# Most are Cf or Cn; these ranges also hold the Hangul fillers (Lo), variation selectors and the
# combining grapheme joiner (Mn), which str.isprintable() calls printable.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
# Invisible too, though not default-ignorable: blank patterns (a cell that shows as a space).
_BLANK_GLYPHS = frozenset("\u2800")


def is_invisible(ch: str) -> bool:
    """The roster's one invisible-character rule: format, surrogate, private-use, unassigned,
    line/paragraph separators, every Default_Ignorable code point and blank glyphs."""
    if unicodedata.category(ch) in ("Cf", "Cs", "Co", "Cn", "Zl", "Zp") or ch in _BLANK_GLYPHS:
        return True
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _DEFAULT_IGNORABLE)


def identity(text: str) -> str:
    """The form in which names, emails and titles are compared: invisible characters removed,
    NFKC, case-folded (NFKC again, as case folding can leave compatibility characters), outer
    whitespace removed. (A server's title may hold what a roster refuses: ``Alice\ufe0f`` is Alice.)"""
    if not text.isascii():
        text = "".join(ch for ch in text if not is_invisible(ch))
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
    if text.isascii() and text.isprintable():
        return None
    for i, ch in enumerate(text):
        if unicodedata.category(ch) == "Cc":
            return i, ch, "control"
        if is_invisible(ch):
            return i, ch, "invisible"
    return None


def title_pattern_problem(pattern: str) -> str | None:
    """What is wrong with a project title *pattern* (``--title``, the ``training_title`` setting),
    or None. The one check of a pattern, wherever it comes from: not empty, no control or invisible
    character, braces only in ``{name}`` and ``{email}``, within Encord's title length."""
    if not pattern.strip():
        return (f"the title pattern '{shown(pattern)}' is empty or blank: give a title such as '{DEFAULT_TRAINING_TITLE}' "
                "({name} and {email} are replaced per annotator)")
    found = hidden_char(pattern)
    if found is not None:
        index, ch, kind = found
        return (f"the title pattern '{shown(pattern, limit=80)}' contains the {kind} character {char_name(ch)} at "
                f"character {index + 1}: remove it")
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "{":
            m = PLACEHOLDER.match(pattern, i)
            if m:
                i = m.end()
                continue
            close = pattern.find("}", i)
            opened = pattern.find("{", i + 1)
            if close < 0 or 0 <= opened < close:
                return (f"the title pattern '{shown(pattern, limit=80)}' has a '{{' at character {i + 1} that is "
                        "never closed: the only placeholders are {name} and {email} (braces are not allowed "
                        "otherwise)")
            return (f"the title pattern '{shown(pattern, limit=80)}' has the unknown placeholder "
                    f"'{shown(pattern[i:close + 1], limit=40)}' at character {i + 1}: the only placeholders are "
                    "{name} and {email}")
        if ch == "}":
            return (f"the title pattern '{shown(pattern, limit=80)}' has a '}}' at character {i + 1} with no '{{' "
                    "before it: the only placeholders are {name} and {email} (braces are not allowed otherwise)")
        i += 1
    fixed = len(PLACEHOLDER.sub("", pattern))
    if fixed > MAX_TITLE:
        return (f"the title pattern is {fixed:,} characters without its placeholders; Encord accepts project "
                f"titles up to {MAX_TITLE}: shorten it")
    return None


def check_title_pattern(pattern: str) -> str:
    """``pattern`` itself, or UsageError (exit 2) saying what is wrong with it."""
    problem = title_pattern_problem(pattern)
    if problem is not None:
        raise UsageError(problem)
    return pattern


def email_problem(email: str) -> str | None:
    """What is wrong with an address (already free of control and invisible characters), or None."""
    space = next((i for i, ch in enumerate(email) if ch.isspace() or unicodedata.category(ch) == "Zs"), None)
    if space is not None:
        return (f"invalid email '{shown(email)}': remove the space ({char_name(email[space])}) inside the address "
                f"at character {space + 1}")
    if not email.isascii():
        plain = unicodedata.normalize("NFKC", email)
        if plain != email and plain.isascii() and EMAIL.match(plain):
            return (f"the email '{shown(email)}' uses compatibility characters (fullwidth or other variant "
                    f"forms): write it as '{shown(plain)}'")
        i, ch = next((i, ch) for i, ch in enumerate(email) if not ch.isascii())
        return (f"the email '{shown(email)}' contains the non-ASCII character {char_name(ch)} at character "
                f"{i + 1}: Encord addresses are plain ASCII (a look-alike letter would invite someone else); "
                "retype it")
    if email.count("@") != 1:
        return f"invalid email '{shown(email)}': an address has exactly one @ (name@domain.tld)"
    local, domain = email.split("@")
    if not local or not domain:
        return f"invalid email '{shown(email)}' (expected name@domain.tld)"
    if not _LOCAL.fullmatch(local):
        bad = next((ch for ch in local if not (ch.isalnum() or ch in ATEXT or ch == ".")), None)
        why = (f"the character '{shown(bad)}' is not allowed before the @ (letters, digits, . and {ATEXT} are)"
               if bad is not None else "a dot cannot start or end the part before the @ or follow another dot")
        return f"invalid email '{shown(email)}': {why}"
    if len(local) > 64 or len(email) > 254:
        return f"invalid email '{shown(email)}': too long (64 characters before the @, 254 in all)"
    labels = domain.split(".")
    if (len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels)
            or len(labels[-1]) < 2 or labels[-1].isdigit()):
        return (f"invalid email '{shown(email)}': the domain must be names of letters, digits and inner "
                "hyphens joined by dots (expected name@domain.tld)")
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

    def project_title(self, pattern: str = DEFAULT_TRAINING_TITLE) -> str:
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
    """A roster that was read but has problems: a domain failure (exit 1), like a manifest with
    errors; usage and unreadable input are the other kind."""

    kind: ClassVar[ErrorKind] = "failure"

    def __init__(self, roster: Roster) -> None:
        n = len(roster.problems)
        super().__init__(f"{shown(roster.source)}: {n} problem{'s' if n != 1 else ''} in the roster; nothing was provisioned",
                         hint="fix every line listed and run again")
        self.roster = roster


def read_roster(path: str | Path, *, title_pattern: str = DEFAULT_TRAINING_TITLE) -> Roster:
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


def parse_roster(text: str, *, source: str = "roster", title_pattern: str = DEFAULT_TRAINING_TITLE) -> Roster:
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
    bad: set[tuple[int, str]] = set()  # (line, "name" | "email") already refused: not compared with others
    read_rows: list[tuple[int, list[str]]] = []  # every non-blank row as read (header included)
    preamble: list[tuple[int, list[str]]] = []  # non-blank rows before the header
    where = _Locator(text)
    last_line = 0  # a row starts on the line after the previous row ended (a quoted cell may span lines)
    try:
        for row in reader:
            line, last_line = last_line + 1, reader.line_num
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
            hidden = _hidden_problems(line, first, cells, row, where)
            problems.extend(p for _, p in hidden)
            bad_cols = {column for column, _ in hidden}
            bad.update((line, "name" if column == "title" else column) for column in bad_cols)
            if not name:
                problems.append(RosterProblem(line, "missing name", col_name))
            elif "name" not in bad_cols and not any(unicodedata.category(ch)[0] in "LN" for ch in name):
                bad.add((line, "name"))
                problems.append(RosterProblem(line, f"the name '{shown(name, limit=40)}' has no letter or digit (it "
                                                    f"starts with {char_name(name[0])}): write the annotator's "
                                                    "name", col_name))
            if not email:
                problems.append(RosterProblem(line, "missing email", col_email))
            elif "email" not in bad_cols and (why := email_problem(email)) is not None:
                bad.add((line, "email"))  # (a hidden character is the one problem to fix first)
                problems.append(RosterProblem(line, why, col_email))
            if name and "name" not in bad_cols and "title" not in bad_cols:
                title = entry.project_title(title_pattern)
                if len(title) > MAX_TITLE:
                    source_col = first["title"] + 1 if entry.title else col_name
                    problems.append(RosterProblem(line, f"the project title '{shown(title, limit=60)}' would be "
                                                        f"{len(title):,} characters; Encord accepts up to "
                                                        f"{MAX_TITLE}: give a shorter 'title'", source_col))
    except csv.Error as exc:
        problems.append(RosterProblem(reader.line_num, f"CSV syntax error: {exc}"))
        unkept.append(RosterProblem(reader.line_num, f"CSV syntax error ({exc}): the lines from here on were not "
                                                     "read"))
    if header is None and preamble:
        line, row = preamble[0]
        unclosed = _unclosed_quote_problems(text, where, problems)
        if unclosed and unclosed[0].line <= line:  # the quote swallowed the header row: that is the problem
            return Roster(source, [], unclosed, None, unkept or [unclosed[0]], newline, boms > 0)
        problems.extend(unclosed)
        keys = [h.strip().lower() for h in row]
        missing = [c for c in ("name", "email") if c not in keys]
        in_header = next(((ci, found) for ci, cell in enumerate(row) if (found := hidden_char(cell))), None)
        why = ""
        if in_header is not None:
            ci, (_, ch, kind) = in_header
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
    unclosed = _unclosed_quote_problems(text, where, problems)
    if unclosed:  # what was read from the quote on is a guess: the quote is the one problem there
        entries_from = unclosed[0].line
        problems[:] = [q for q in problems if q.line < entries_from] + unclosed
    if not entries and not problems:
        problems.append(RosterProblem(header_line, "no annotators below the header row"))
    seen_email: dict[str, int] = {}
    seen_title: dict[str, int] = {}
    for e in entries:
        if e.line in shifted or (unclosed and e.line >= unclosed[0].line):
            continue
        if e.email and (e.line, "email") not in bad:
            key = identity(e.email)
            if key in seen_email:
                problems.append(RosterProblem(e.line, f"duplicate email '{shown(e.email)}' (first on line "
                                                      f"{seen_email[key]}; emails are compared ignoring case and "
                                                      "Unicode variant forms)"))
            else:
                seen_email[key] = e.line
        if e.name and (e.line, "name") not in bad:
            title = e.project_title(title_pattern)
            key = identity(title)
            if key in seen_title:
                fixed = "" if e.title or PLACEHOLDER.search(title_pattern) else (
                    f"; the title pattern '{shown(title_pattern, limit=60)}' has no {{name}} or {{email}}")
                problems.append(RosterProblem(e.line, f"'{shown(e.name)}' would get the same project title "
                                                      f"'{shown(title)}' as line {seen_title[key]} (titles are "
                                                      "compared ignoring case and Unicode variant forms"
                                                      f"{fixed}): add a 'title' column or tell the names apart"))
            else:
                seen_title[key] = e.line
    quoting = _strict_csv_problems(text)
    said = any("quote" in p.message for p in problems)  # an unclosed quote is reported where it opens
    if quoting and not said:  # the lenient reader guessed ("a@example.com"x read as a@example.comx): never use a guess
        problems.extend(RosterProblem(q.line, "the quotes on this line are malformed (text after a closing quote, "
                                               "or a quote that never closes), so its cells are a guess: fix the "
                                               "quotes") for q in quoting)
    problems.sort(key=lambda p: (p.line, p.column or 0))
    if not unkept:
        unkept.extend(quoting)
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
    for index in range(max(len(read_rows), len(back))):
        if index >= len(read_rows):  # more rows written back than read: nothing of the user's to lose
            continue
        line, row = read_rows[index]
        again: list[str] | None = back[index] if index < len(back) else None
        if row == again:
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


class _Locator:
    """Where a character of a cell is in the file (line, column), as the csv module reads it: lines
    end at LF, CRLF or a lone CR; a quoted cell starts after its quote and holds each "" as one ". """

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def at(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def cell_char(self, line: int, row: list[str], cell: int, index: int) -> tuple[int, int] | None:
        """(line, column) of ``row[cell][index]`` for the row starting on ``line``; None when the
        row's text is not what a plain reading gives (lenient quoting)."""
        if line > len(self.starts):
            return None
        pos, text = self.starts[line - 1], self.text
        for i, value in enumerate(row[: cell + 1]):
            if text.startswith('"', pos):
                written = '"' + value.replace('"', '""') + '"'
                if not text.startswith(written, pos):
                    return None
                if i == cell:
                    return self.at(pos + 1 + index + value.count('"', 0, index))
            else:
                if not text.startswith(value, pos):
                    return None
                if i == cell:
                    return self.at(pos + index)
                written = value
            pos += len(written) + 1  # and the comma
        return None


def _unclosed_quote(text: str) -> int | None:
    """Offset of a quote that opens a cell and is never closed (the lenient csv reader then reads
    the rest of the file into that cell without a word), or None. Follows the csv module's default
    dialect: a quote opens a cell only as its first character; "" inside is one quote."""
    state, opened = "start", None
    for i, ch in enumerate(text):
        if state == "start":
            if ch == '"':
                state, opened = "quoted", i
            elif ch not in ",\r\n":
                state = "field"
        elif state == "field":
            if ch in ",\r\n":
                state = "start"
        elif state == "quoted":
            if ch == '"':
                state = "closed"
        else:  # just after a closing quote
            state = "quoted" if ch == '"' else ("start" if ch in ",\r\n" else "field")
    return opened if state == "quoted" else None


def _unclosed_quote_problems(text: str, where: _Locator, problems: list[RosterProblem]) -> list[RosterProblem]:
    opened = _unclosed_quote(text)
    if opened is None:
        return []
    line, col = where.at(opened)
    last = len(where.starts) - (1 if text.endswith(("\n", "\r")) else 0)
    rest = f"lines {line}–{last}" if last > line else f"line {line}"
    return [RosterProblem(line, f"this quote opens a cell that is never closed, so the rest of the file ({rest}) "
                                "was read as one cell: add the closing quote after the cell's text, or remove "
                                "this one", col)]


def _hidden_problems(line: int, first: dict[str, int], cells: dict[str, str], row: list[str],
                     where: _Locator) -> list[tuple[str, RosterProblem]]:
    """(column, problem) per name/email/title cell holding an invisible or control character,
    located at the character itself (line:column in the file, even inside a multi-line cell)."""
    out: list[tuple[str, RosterProblem]] = []
    for column in ("name", "email", "title"):
        if column not in first:
            continue
        found = hidden_char(cells.get(column, ""))
        if found is None:
            continue
        index, ch, kind = found
        how = ("retype the cell (invisible characters come in with text pasted from web pages and documents)"
               if kind == "invisible" else "remove it")
        what = " (a line break)" if ch in "\r\n" else ""
        ci = first[column]
        raw = row[ci] if ci < len(row) else ""
        at = where.cell_char(line, row, ci, index + len(raw) - len(raw.lstrip()))
        at_line, at_col = at if at is not None else (line, ci + 1)
        row_at = f" (cell {ci + 1} of the row starting on line {line})" if at_line != line else ""
        out.append((column, RosterProblem(at_line, f"the {column}{row_at} contains the {kind} character "
                                                   f"{char_name(ch)}{what} at character {index + 1}: {how}", at_col)))
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
