"""Every kind of bad roster gets a clear message on its line; Unicode names work."""

from __future__ import annotations

import pytest

from annotrain_tui.core.errors import UnreadableInput
from annotrain_tui.core.roster import parse_roster, read_roster, roster_to_csv


def messages(text: str) -> list[str]:
    return [p.render("r.csv") for p in parse_roster(text, source="r.csv").problems]


def test_a_good_roster_with_bom_crlf_case_insensitive_headers_and_blank_lines():
    text = "\ufeffNAME,Email,Title\r\nAlex Kim,alex@example.com,\r\n\r\nZoë Ñúñez,zoe@example.com,Custom\r\n"
    r = parse_roster(text)
    assert r.ok
    assert [(e.name, e.email) for e in r.entries] == [("Alex Kim", "alex@example.com"), ("Zoë Ñúñez", "zoe@example.com")]
    assert r.entries[0].project_title() == "Annotator Training - Alex Kim"
    assert r.entries[1].project_title() == "Custom"
    assert [e.line for e in r.entries] == [2, 4]


@pytest.mark.parametrize("text, expected", [
    ("name,email\nAl,al@x\n", "r.csv:2:2: invalid email 'al@x'"),
    ("name,email\nAl,al example.com\n", "r.csv:2:2: invalid email"),
    ("name,email\n,b@example.com\n", "r.csv:2:1: missing name"),
    ("name,email\nBo,\n", "r.csv:2:2: missing email"),
    ("name,email\nA,a@example.com\nB,A@EXAMPLE.com\n", "r.csv:3: duplicate email 'A@EXAMPLE.com' (first on line 2"),
    ("name,email\nSam,s1@example.com\nsam,s2@example.com\n", "r.csv:3: 'sam' would get the same project title"),
    ("fullname,mail\nA,a@example.com\n", "r.csv:1: the header row needs 'name' and 'email' columns"),
    ("", "r.csv:1: the roster is empty"),
    ("name,email\n", "r.csv:1: no annotators below the header row"),
    ("name,email\nSmith, John,j@example.com\n", "r.csv:2: 3 cells but the header has 2 columns"),
])
def test_each_bad_input_kind_has_a_clear_message(text, expected):
    assert any(m.startswith(expected) for m in messages(text)), messages(text)


def test_every_problem_is_listed_at_once():
    text = "name,email\nA,bad\n,c@example.com\nD,d@example.com\nD,d@example.com\n"
    assert len(messages(text)) == 4


def test_unreadable_and_non_utf8_files(tmp_path):
    with pytest.raises(UnreadableInput, match="no such file"):
        read_roster(tmp_path / "nope.csv")
    with pytest.raises(UnreadableInput, match="is a directory"):
        read_roster(tmp_path)
    f = tmp_path / "latin1.csv"
    f.write_bytes("name,email\nJos\xe9,j@example.com\n".encode("latin-1"))
    r = read_roster(f)
    assert not r.ok and "not UTF-8" in r.problems[0].message and r.problems[0].line == 2


def test_round_trip_keeps_extra_columns():
    r = parse_roster("name,email,team\nA,a@example.com,red\n")
    again = parse_roster(roster_to_csv(r.entries))
    assert again.entries[0].extra == {"team": "red"} and again.ok
