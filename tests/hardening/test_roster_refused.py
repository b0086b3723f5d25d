"""Issue 11: rosters and title patterns that are refused, not absorbed (found by an adversarial trial).

Every case goes through the real CLI (``annotrain roster check``, ``annotrain provision --dry-run``,
``annotrain config set``) and asserts the exit code, the one located line and its wording.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from annotrain_tui.cli import main
from annotrain_tui.core.roster import identity

BENCH = "Benchmark Labels"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def check_lines(capsys, path: Path) -> tuple[int, list[str]]:
    """``roster check``: the problem lines (file prefix removed) without the summary line."""
    code, out, err = run(capsys, "roster", "check", path)
    lines = out.splitlines()
    assert lines[-1].endswith("problem(s)")
    return code, [ln.removeprefix(f"{path}:") for ln in lines[:-1]]


@pytest.fixture
def demo(capsys):
    assert run(capsys, "sandbox", "init", "--demo")[0] == 0


def project_titles(capsys) -> list[str]:
    code, out, _ = run(capsys, "projects", "list", "--json")
    assert code == 0
    doc = json.loads(out)
    items = doc if isinstance(doc, list) else next(v for v in doc.values() if isinstance(v, list))
    return sorted(p["title"] for p in items)


# --- 1. the title pattern: one check wherever it arrives -----------------------------------------

BAD_PATTERNS = [
    ("T\x1b]0;pwn\x07 {name}", "contains the control character U+001B at character 2"),
    ("Training\t{name}", "contains the control character U+0009"),
    ("Training \u200b{name}", "contains the invisible character U+200B ZERO WIDTH SPACE"),
    ("{name}\u3164", "contains the invisible character U+3164 HANGUL FILLER"),
    ("", "is empty or blank"),
    ("   ", "is empty or blank"),
    ("{name", "has a '{' at character 1 that is never closed"),
    ("Training {nam}", "has the unknown placeholder '{nam}' at character 10"),
    ("{NAME}", "has the unknown placeholder '{NAME}'"),
    ("Training name}", "has a '}' at character 14 with no '{' before it"),
    ("x" * 301 + " {name}", "is 302 characters without its placeholders; Encord accepts project titles up to 300"),
]


@pytest.mark.parametrize("pattern, why", BAD_PATTERNS)
@pytest.mark.parametrize("annotators", [1, 2])
def test_a_bad_title_pattern_is_one_usage_line_at_plan_time(capsys, tmp_path, demo, pattern, why, annotators):
    roster = write(tmp_path / "r.csv", "name,email\nAlice,a@example.com\n" + ("Bob,b@example.com\n" * (annotators - 1)))
    for argv in (("roster", "check", roster, "--title", pattern),
                 ("provision", "--roster", roster, "--benchmark", BENCH, "--dry-run", "--title", pattern)):
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert exc.value.code == 2
        assert out == ""
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("annotrain: usage error: argument --title: the title pattern ")
        assert why in lines[0], lines[0]
        assert "same project title" not in lines[0] and "\x1b" not in err and "\x07" not in err


def test_a_control_character_pattern_creates_nothing_even_with_yes(capsys, tmp_path, demo):
    before = project_titles(capsys)
    roster = write(tmp_path / "one.csv", "name,email\nA,a@example.com\n")
    with pytest.raises(SystemExit) as exc:
        main(["provision", "--roster", str(roster), "--benchmark", BENCH, "--yes", "--title", "T\x1b]0;pwn\x07 {name}"])
    assert exc.value.code == 2
    capsys.readouterr()
    assert project_titles(capsys) == before


def test_the_training_title_setting_goes_through_the_same_check(capsys, tmp_path):
    code, out, err = run(capsys, "config", "set", "training_title", "Training {nam}")
    assert code == 2 and len(err.splitlines()) == 1
    assert "training_title" in err and "unknown placeholder '{nam}'" in err
    code, out, err = run(capsys, "config", "paths")
    config_dir = Path(next(ln.split(None, 1)[1] for ln in out.splitlines() if ln.startswith("config_dir")))
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text('backend = "sandbox"\ntraining_title = "Hi {x"\n', encoding="utf-8")
    code, out, err = run(capsys, "config", "show")
    assert code == 2 and len(err.splitlines()) == 1
    assert "config.toml:2: 'training_title': the title pattern 'Hi {x' has a '{' at character 4" in err


def test_a_pattern_without_placeholders_says_so_in_the_duplicate_title_line(capsys, tmp_path):
    roster = write(tmp_path / "r.csv", "name,email\nAlice,a@example.com\nBob,b@example.com\n")
    code, out, _ = run(capsys, "roster", "check", roster, "--title", "Training")
    assert code == 1
    assert f"{roster}:3: 'Bob' would get the same project title 'Training'" in out
    assert "the title pattern 'Training' has no {name} or {email}" in out


def test_a_title_over_encords_length_is_a_located_roster_problem(capsys, tmp_path):
    roster = write(tmp_path / "r.csv", "name,email\n" + "N" * 290 + ",a@example.com\n")
    code, lines = check_lines(capsys, roster)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("2:1: the project title ") and "would be 311 characters; Encord accepts up to 300" in lines[0]


# --- 2. invisible and look-alike names and emails --------------------------------------------------

@pytest.mark.parametrize("name, where, char", [
    ("\u3164", "2:1", "U+3164 HANGUL FILLER"),
    ("\u115f", "2:1", "U+115F HANGUL CHOSEONG FILLER"),
    ("\uffa0", "2:1", "U+FFA0 HALFWIDTH HANGUL FILLER"),
    ("\u2800", "2:1", "U+2800 BRAILLE PATTERN BLANK"),
    ("Al\u2800ice", "2:3", "U+2800 BRAILLE PATTERN BLANK"),
    ("Alice\ufe0f", "2:6", "U+FE0F VARIATION SELECTOR-16"),
    ("Alice\U000e0100", "2:6", "U+E0100 VARIATION SELECTOR-17"),
    ("A\u034flice", "2:2", "U+034F COMBINING GRAPHEME JOINER"),
    ("Ali\u180bce", "2:4", "U+180B MONGOLIAN FREE VARIATION SELECTOR ONE"),
    ("Alice\U000e0041", "2:6", "U+E0041 TAG LATIN CAPITAL LETTER A"),
])
def test_invisible_names_are_refused_at_the_character(capsys, tmp_path, name, where, char):
    code, lines = check_lines(capsys, write(tmp_path / "r.csv", f"name,email\n{name},a@example.com\n"))
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith(f"{where}: the name contains the invisible character {char} ")
    assert all(ch.isprintable() for ch in lines[0])


@pytest.mark.parametrize("name", ["\u0301\u0301", "--", "\U0001f642"])
def test_a_name_needs_a_letter_or_digit(capsys, tmp_path, name):
    code, lines = check_lines(capsys, write(tmp_path / "r.csv", f"name,email\n{name},a@example.com\n"))
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("2:1: the name ") and "has no letter or digit (it starts with U+" in lines[0]


def test_a_variation_selector_does_not_make_a_second_title(capsys, tmp_path):
    code, lines = check_lines(capsys, write(tmp_path / "r.csv",
                                            "name,email\nAlice\ufe0f,a@example.com\nAlice,b@example.com\n"))
    assert code == 1 and len(lines) == 1 and lines[0].startswith("2:6: the name contains the invisible character")
    assert identity("Alice\ufe0f") == identity("Alice") == identity("A\u200blice")  # a server's title compares too


@pytest.mark.parametrize("email, char", [
    ("\u0430@example.com", "U+0430 CYRILLIC SMALL LETTER A at character 1"),
    ("ann@ex\u0430mple.com", "U+0430 CYRILLIC SMALL LETTER A at character 7"),
    ("jos\u00e9@example.com", "U+00E9 LATIN SMALL LETTER E WITH ACUTE at character 4"),
])
def test_a_non_ascii_email_is_refused_naming_the_character(capsys, tmp_path, email, char):
    roster = write(tmp_path / "r.csv", f"name,email\nAnn,a@example.com\nBea,{email}\n")
    code, lines = check_lines(capsys, roster)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("3:2: the email ") and f"contains the non-ASCII character {char}" in lines[0]
    assert "ASCII" in lines[0] and "duplicate" not in lines[0]


def test_provision_dry_run_refuses_a_look_alike_email(capsys, tmp_path, demo):
    roster = write(tmp_path / "r.csv", "name,email\nAnn,a@example.com\nBea,\u0430@example.com\n")
    code, out, err = run(capsys, "provision", "--roster", roster, "--benchmark", BENCH, "--dry-run")
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith(f"{roster}:3:2: the email ") and "U+0430 CYRILLIC SMALL LETTER A" in lines[0]
    assert lines[-1].startswith("annotrain: error: ") and "nothing was provisioned" in lines[-1]


# --- 3. address syntax -------------------------------------------------------------------------

@pytest.mark.parametrize("email, why", [
    ("[b]a@example.com", "the character '[' is not allowed before the @"),
    ("a(b)@example.com", "the character '(' is not allowed before the @"),
    ("a\\b@example.com", "the character '\\' is not allowed before the @"),
    ("a..b@example.com", "a dot cannot start or end the part before the @ or follow another dot"),
    (".a@example.com", "a dot cannot start or end"),
    ("a.@example.com", "a dot cannot start or end"),
    ("a@@example.com", "exactly one @"),
    ("a@-example.com", "the domain must be names of letters, digits and inner hyphens"),
    ("a@exa_mple.com", "the domain must be"),
    ("a@example..com", "the domain must be"),
    ("a@localhost", "the domain must be"),
    ("a@[127.0.0.1]", "the domain must be"),
])
def test_address_syntax_is_atext_and_ldh(capsys, tmp_path, email, why):
    code, lines = check_lines(capsys, write(tmp_path / "r.csv", f"name,email\nAnn,{email}\n"))
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("2:2: invalid email ") and why in lines[0], lines[0]


def test_plain_addresses_with_atext_pass(capsys, tmp_path):
    roster = write(tmp_path / "r.csv", "name,email\nAnn,o'brien+tag@sub.example.co.uk\nBo,a_b-c.d@x-y.io\n"
                                       "Cy,x{y}~!#$%&*=?^`|/@example.org\n")
    code, lines = check_lines(capsys, roster)
    assert code == 0 and lines == []


# --- 4. messages that name the real problem, where it is ----------------------------------------

def test_an_unclosed_quote_is_reported_at_the_quote(capsys, tmp_path):
    code, lines = check_lines(capsys, write(tmp_path / "r.csv", 'name,email\n"A,a@example.com\n'))
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("2:1: this quote opens a cell that is never closed")
    assert "missing email" not in lines[0]
    roster = write(tmp_path / "r2.csv", 'name,email\nAnn,"ann@example.com\nBob,bob@example.com\nCy,cy@example.com\n')
    code, lines = check_lines(capsys, roster)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("2:5: this quote opens a cell that is never closed, so the rest of the file "
                               "(lines 2–4) was read as one cell")


def test_an_unclosed_quote_in_the_header_is_the_one_problem(capsys, tmp_path):
    code, lines = check_lines(capsys, write(tmp_path / "r.csv", '"name,email\nA,a@example.com\n'))
    assert code == 1 and len(lines) == 1 and lines[0].startswith("1:1: this quote opens a cell that is never closed")


@pytest.mark.parametrize("space", ["\u00a0", "\u3000", "\u2009", " "])
def test_a_space_inside_an_address_is_named_not_rewritten(capsys, tmp_path, space):
    code, lines = check_lines(capsys, write(tmp_path / "r.csv", f"name,email\nAnn,a{space}@example.com\n"))
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("2:2: invalid email ")
    assert f"remove the space (U+{ord(space):04X} {unicodedata.name(space)}) inside the address" in lines[0]
    assert "write it as" not in lines[0]


def test_a_character_inside_a_multi_line_cell_is_reported_where_it_is(capsys, tmp_path):
    text = ('name,email\nAnn,ann@example.com\n'
            '"Bob the\nsecond of his\nname and \u200bthird",bob@example.com\nCy,cy@example.com\n')
    code, lines = check_lines(capsys, write(tmp_path / "r.csv", text))
    assert code == 1 and len(lines) == 1
    # the LF ending line 3 is the first hidden character of the cell that starts on line 3
    assert lines[0].startswith("3:9: the name contains the control character U+000A (a line break) at character 8")
    text = 'name,email,title\nAnn,ann@example.com,"Training\r\nfor Ann"\nBo,bo@example.com,"Bo\'s\ttitle"\n'
    code, lines = check_lines(capsys, write(tmp_path / "r3.csv", text))
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith("2:30: the title contains the control character U+000D (a line break) at character 9")
    assert lines[1].startswith("4:24: the title contains the control character U+0009 at character 5")


def test_a_hidden_character_on_a_later_line_of_a_row_names_the_row(capsys, tmp_path):
    # the name cell spans lines 3-4, so the email cell (and its zero-width space) is on line 4
    text = 'name,email\nAnn,ann@example.com\n"Bob\nJones",bob@\u200bexample.com\n'
    code, lines = check_lines(capsys, write(tmp_path / "r.csv", text))
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith("3:5: the name contains the control character U+000A (a line break) at character 4")
    assert lines[1].startswith("4:12: the email (cell 2 of the row starting on line 3) contains the invisible "
                               "character U+200B ZERO WIDTH SPACE at character 5")
    from annotrain_tui.core.roster import parse_roster

    assert [e.line for e in parse_roster(text).entries] == [2, 3]  # a row's line is the line it starts on


def test_text_after_a_closing_quote_is_a_problem_not_a_guessed_email(tmp_path, capsys):
    """A round-2 trial: "a@example.com"x was read as a@example.comx and would have been invited."""
    from annotrain_tui.cli import main

    path = tmp_path / "q.csv"
    path.write_text('name,email\nA,"a@example.com"x\n')
    code = main(["roster", "check", str(path)])
    out, _ = capsys.readouterr()
    assert code == 1 and f"{path}:2:" in out and "quotes on this line are malformed" in out
