"""Issue 11, family 2: CSV exports a spreadsheet cannot be tricked by.

Every CSV the project writes goes through core/exports.py: the evaluation CSV (``write_csv``),
the roster (``roster_to_csv``) and the manifest CSV (``manifest.csv.to_csv``, used by convert,
split and new). A CR or LF inside a cell (a lone CR included) keeps the cell one quoted cell; a
formula prefix at a cell start or right after a line break is neutralised; lone surrogates are
escaped; frames without such cells are byte-identical to pandas.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest

from annotrain_tui.cli import main
from annotrain_tui.core.exports import FORMULA_PREFIXES, csv_text, neutralise, write_csv
from annotrain_tui.core.manifest.csv import to_csv as manifest_to_csv
from annotrain_tui.core.roster import RosterEntry, parse_roster, roster_to_csv

S3 = "https://encord-integration.s3.eu-west-2.amazonaws.com"

BREAKS = ["\r", "\r\n", "\n"]


def _cells(data: bytes | str) -> list[list[str]]:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text, newline="")))


def _lines_a_naive_reader_sees(text: str) -> list[str]:
    """What a reader that splits on line breaks first (ignoring quotes) takes as row starts."""
    return [line.split(",")[0] for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def _formula_starts(text: str) -> list[str]:
    """Every point a reader could see as a cell start that begins with a formula prefix."""
    starts = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        for cell in line.split(","):
            cell = cell.lstrip('"')
            if cell.startswith(FORMULA_PREFIXES):
                starts.append(cell)
    return starts


# ---------------------------------------------------------------------------------------------
# The evaluation CSV (write_csv).

@pytest.mark.parametrize("brk", BREAKS, ids=["CR", "CRLF", "LF"])
def test_a_line_break_inside_a_cell_stays_one_cell(tmp_path, brk):
    title = f"item{brk}=cmd|' /C calc'!A0"
    out = tmp_path / "o.csv"
    write_csv(out, [{"title": title, "score": 0.5}, {"title": "next", "score": 1.0}])
    rows = _cells(out.read_bytes())
    assert rows == [["title", "score"], [f"item{brk}'=cmd|' /C calc'!A0", "0.5"], ["next", "1.0"]]
    text = out.read_bytes().decode()
    assert f'"item{brk}' in text  # quoted: the break is inside the cell
    assert text.endswith("next,1.0\n") and "\r\n" not in text.replace(f"item{brk}", "")  # rows end in \n


def test_a_lone_cr_cell_was_the_bug_pandas_alone_leaves_it_bare():
    df = pd.DataFrame({"title": ["item\r=cmd"]})
    assert df.to_csv(index=False) == "title\nitem\r=cmd\n"  # what pandas writes: the row splits


@pytest.mark.parametrize("cell, expected", [
    ("a\r=1+1", "a\r'=1+1"), ("a\n+1", "a\n'+1"), ("a\r\n-1", "a\r\n'-1"), ("a\n@SUM(1)", "a\n'@SUM(1)"),
    ("a\n\tx", "a\n'\tx"), ("a\r\r=x", "a\r'\r'=x"), ("=x\n=y", "'=x\n'=y"), ("\r\n=x", "'\r\n'=x"),
    ("a\n b", "a\n b"), ("x=1\ny=2", "x=1\ny=2"), ("plain", "plain"),
])
def test_formula_after_a_line_break_is_neutralised(cell, expected):
    assert neutralise(cell) == expected


def test_no_formula_reaches_any_cell_start(tmp_path):
    nasty = ["=1", "+1", "-1", "@x", "\t=1", "\r=1", "a\r=1", "a\n=1", "a\r\n=1", "a\r\r\n\n+x", "ok"]
    out = tmp_path / "o.csv"
    write_csv(out, pd.DataFrame({"a": nasty, "=col\r+x": range(len(nasty))}))
    text = out.read_bytes().decode()
    assert _formula_starts(text) == []
    rows = _cells(text)
    assert len(rows) == len(nasty) + 1 and all(len(r) == 2 for r in rows)
    assert rows[0] == ["a", "'=col\r'+x"]  # column names are cells too
    assert [r[0].replace("'", "") for r in rows[1:]] == nasty


def test_lone_surrogates_are_escaped_never_a_traceback(tmp_path):
    out = tmp_path / "o.csv"
    write_csv(out, [{"title": "bad\udc80byte", "\ud800col": 1}])
    data = out.read_bytes()
    data.decode("utf-8")  # valid UTF-8
    assert _cells(data) == [["title", "\\ud800col"], ["bad\\udc80byte", "1"]]


def test_frames_without_risky_cells_are_byte_identical_to_pandas(tmp_path):
    df = pd.DataFrame({
        "training_email": ["a@x.com", None, "b@x.com"],
        "data_unit_name": ["Image3.jpg", 'comma, "quote"\nnewline', "ünïcode ✓"],
        "iou_score": [0.0, 0.5506647634569868, 1e-05], "n": np.arange(3), "neg": [-1.5, np.nan, -2.0],
        "flag": [True, False, True],
    })
    out = tmp_path / "o.csv"
    write_csv(out, df)
    assert out.read_bytes() == df.to_csv(index=False).encode()


def test_one_risky_cell_changes_only_its_own_bytes(tmp_path):
    df = pd.DataFrame({"t": ["a", "b\rc", "d"], "x": [0.1, 0.2, -0.3]})
    out = tmp_path / "o.csv"
    write_csv(out, df)
    assert out.read_bytes() == b't,x\na,0.1\n"b\rc",0.2\nd,-0.3\n'


# ---------------------------------------------------------------------------------------------
# The one writer's string form, the roster and the manifest CSV.

@pytest.mark.parametrize("brk", BREAKS, ids=["CR", "CRLF", "LF"])
def test_csv_text_quotes_every_break(brk):
    for terminator in ("\n", "\r\n"):
        text = csv_text([["a", f"b{brk}=c"], ["d", "e"]], lineterminator=terminator)
        assert _cells(text) == [["a", f"b{brk}'=c"], ["d", "e"]]


@pytest.mark.parametrize("brk", BREAKS, ids=["CR", "CRLF", "LF"])
def test_roster_save_keeps_a_cell_with_a_line_break_whole(brk):
    entries = [RosterEntry(line=2, name=f"Ann{brk}=HYPERLINK(1)", email="ann@example.com", title="QA",
                           notes=f"n{brk}+1"),
               RosterEntry(line=3, name="Bob", email="bob@example.com")]
    text = roster_to_csv(entries)
    rows = _cells(text)
    assert rows[0] == ["name", "email", "title", "notes"]
    assert rows[1] == [f"Ann{brk}'=HYPERLINK(1)", "ann@example.com", "QA", f"n{brk}'+1"]
    assert rows[2] == ["Bob", "bob@example.com", "", ""]
    assert _formula_starts(text) == []


def test_roster_without_risky_cells_is_unchanged():
    entries = [RosterEntry(line=2, name="Ann Lee", email="ann@example.com"),
               RosterEntry(line=3, name="O'Brien, Bob", email="bob@example.com")]
    text = roster_to_csv(entries)
    assert text == 'name,email\nAnn Lee,ann@example.com\n"O\'Brien, Bob",bob@example.com\n'
    again = parse_roster(text)
    assert [(e.name, e.email) for e in again.entries] == [("Ann Lee", "ann@example.com"),
                                                          ("O'Brien, Bob", "bob@example.com")]


def test_roster_lone_surrogate_is_escaped():
    text = roster_to_csv([RosterEntry(line=2, name="bad\udcff", email="a@example.com")])
    text.encode("utf-8")
    assert "bad\\udcff" in text


@pytest.mark.parametrize("brk", BREAKS, ids=["CR", "CRLF", "LF"])
def test_manifest_csv_keeps_a_title_with_a_line_break_whole(brk):
    data = {"images": [{"objectUrl": f"{S3}/1.jpg", "title": f"x{brk}=cmd"},
                       {"objectUrl": f"{S3}/2.jpg", "title": "-draft"},
                       {"objectUrl": f"{S3}/3.jpg", "title": "ok"}]}
    text, lost = manifest_to_csv(data)
    rows = _cells(text)
    assert rows[1:] == [[f"{S3}/1.jpg", f"x{brk}'=cmd"], [f"{S3}/2.jpg", "'-draft"], [f"{S3}/3.jpg", "ok"]]
    assert _formula_starts(text) == []
    assert any("2 cells" in note and "formula" in note for note in lost)
    assert text.endswith("ok\r\n")  # the manifest CSV keeps its CRLF rows


def test_manifest_csv_without_risky_cells_is_unchanged():
    data = {"images": [{"objectUrl": f"{S3}/1.jpg", "title": " padded "}, {"objectUrl": f"{S3}/2.jpg"}]}
    text, lost = manifest_to_csv(data)
    assert text.split("\r\n")[1:] == [f'{S3}/1.jpg," padded "', f"{S3}/2.jpg,", ""]
    assert lost == []


def test_manifest_convert_cli_writes_a_safe_csv(tmp_path, capsys):
    src = tmp_path / "m.json"
    src.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/1.jpg", "title": "a\r=cmd|x"},
                                          {"objectUrl": f"{S3}/2.jpg", "title": "b"}]}))
    out = tmp_path / "m.csv"
    assert main(["manifest", "convert", str(src), str(out)]) == 0
    _, err = capsys.readouterr()
    assert "formula" in err and err.count("\n") == 1
    rows = _cells(out.read_bytes())
    assert rows[1] == [f"{S3}/1.jpg", "a\r'=cmd|x"] and len(rows) == 3


def test_evaluate_cli_out_is_formula_safe(tmp_path, capsys):
    from tests.synth import DEFAULT_CLASSES, box, make_label_row, make_object

    car = DEFAULT_CLASSES[0]
    title = "img\r=cmd|' /C calc'!A0"
    bm = make_label_row(data_hash="d", data_title=title, label_hash="B",
                        objects=[make_object(car, box(0.1, 0.1, 0.2, 0.2), object_hash="A", created_by="r")])
    tr = make_label_row(data_hash="d", data_title=title, label_hash="T", objects=[
        make_object(car, box(0.1, 0.1, 0.2, 0.2), object_hash="a", created_by="\ud800=x@y")])
    (tmp_path / "b.json").write_text(json.dumps([bm]))
    (tmp_path / "t.json").write_text(json.dumps([tr], ensure_ascii=True))
    out = tmp_path / "r.csv"
    code = main(["evaluate", "--benchmark-labels", str(tmp_path / "b.json"), "--training-labels",
                 str(tmp_path / "t.json"), "--matching", "seed", "--out", str(out),
                 "--summary-json", str(tmp_path / "s.json")])
    _, err = capsys.readouterr()
    assert code == 0, err
    # The summary JSON carries the undecodable email as the escape \ud800: it reads back the same.
    summary = json.loads((tmp_path / "s.json").read_bytes().decode("utf-8"))
    assert "\ud800=x@y" in json.dumps(summary, ensure_ascii=False)
    text = out.read_bytes().decode("utf-8")
    rows = _cells(text)
    assert len(rows) == 2 and all(len(r) == len(rows[0]) for r in rows)
    assert _formula_starts(text) == []
    assert "img\r'=cmd" in text


# Found by a trial: cells were not neutralised after the line breaks str.splitlines() knows besides
# CR/LF (VT, FF, FS, GS, RS, NEL, U+2028, U+2029), nor after a separator inside a quoted cell.
@pytest.mark.parametrize("brk", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029",
                                 ",", ";", "\t", "|"])
def test_every_line_break_and_separator_is_a_cell_start(tmp_path, brk):
    import csv as _csv

    from annotrain_tui.core.exports import write_csv

    value = f"x{brk}=cmd|' /C calc'!A0"
    out = tmp_path / "o.csv"
    write_csv(out, pd.DataFrame({"title": [value, "plain"], "n": [1, 2]}))
    text = out.read_text(encoding="utf-8")
    # any way of cutting the text into lines and cells: no piece starts with a formula prefix
    for line in text.splitlines():
        for sep in (",", ";", "\t", "|"):
            for piece in line.split(sep):
                assert not piece.lstrip('"').startswith(("=", "+", "@")), (brk, line)
    rows = list(_csv.reader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    if brk in "\x0b\x0c\x1c\x1d\x1e\x85":  # a control character: written as its escape, no break left
        from annotrain_tui.core.text import escape_char

        assert len(rows) == 3 and rows[1][0] == value.replace(brk, escape_char(brk))
    else:
        assert len(rows) == 3 and rows[1][0] == value.replace(brk + "=", brk + "'=")


@pytest.mark.parametrize("value", ["\u200b=CarCmd()", " =3+3", "\ufeff=7+7", "\uff1d4+4", "\u00a0@SUM(A1)",
                                   "\u202e+1", "ok, \u200b=x"])
def test_a_formula_behind_spaces_invisible_characters_or_in_full_width_is_neutralised(tmp_path, value):
    """A trial: U+200B, BOM, a space or the full-width ＝ before the formula skipped the guard; an
    import that trims them would run it."""
    import csv as _csv
    import re as _re

    from annotrain_tui.core.exports import write_csv

    out = tmp_path / "o.csv"
    write_csv(out, pd.DataFrame({"title": [value]}))
    (cell,) = list(_csv.reader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))[1]
    for piece in _re.split("[,;\t|]", cell):
        trimmed = _re.sub("^[\\s\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]+", "", piece)
        assert not trimmed.startswith(("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")), cell


def test_terminal_and_bidi_controls_are_written_as_escapes(tmp_path):
    """A trial's export replayed escape sequences when printed with cat."""
    from annotrain_tui.core.exports import write_csv

    out = tmp_path / "o.csv"
    write_csv(out, pd.DataFrame({"title": ["a\x1b[2Jb\x07", "x\u202ey\u2066", "tab\tok", "é ü"]}))
    text = out.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text and "\u2066" not in text
    assert "a\\x1b[2Jb\\x07" in text and "x\\u202ey\\u2066" in text and "é ü" in text
