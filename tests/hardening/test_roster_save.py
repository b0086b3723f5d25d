"""Issue 11: a roster save never loses what the user wrote.

The roster reader keeps every row (rows with problems are entries with their problems attached,
each with its cells as written) and knows whether the file is represented losslessly
(``Roster.unkept``). The provisioning screen's save writes the file's own layout back, and never
saves over a file it cannot represent: it says why in one line and offers save-as, through
``core.files.check_output`` (which refuses the original and asks before overwriting).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from annotrain_tui.core.roster import parse_roster, read_roster, roster_to_csv
from annotrain_tui.tui.screens.provision import ProvisionScreen
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog, PathDialog
from tests.hardening.helpers import run
from tests.tui.helpers import make_app, settle

R1 = b"name,email,,team\nAnn,ann@e.com,keepme,red\nBob,bob@e.com,x,y,z,w\nCy,cy@e.com,,blue\n"
R2 = b"# team roster 2025\nname,email\nAnn,ann@e.com\nBob,bob@e.com\n"
R3 = b"name,email\nZo\xebe,zoe@e.com\nBob,bob@e.com\n"
DUP = b"name,email,x,x\nAnn,ann@example.com,1,2\n"


def toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


def problems_text(app) -> str:
    return str(app.screen.query_one("#problems", Static).render())


# --- core: the reader keeps every row and knows whether it is lossless -------------------------

def test_rows_with_problems_and_odd_columns_are_entries_and_written_back_cell_for_cell():
    r = parse_roster(R1.decode(), source="r1.csv")
    assert r.lossless and not r.ok
    assert [e.name for e in r.entries] == ["Ann", "Bob", "Cy"]
    assert [p.render("r1.csv") for p in r.problems] == [
        "r1.csv:3: 6 cells but the header has 4 columns (a comma inside a name needs quotes)"]
    assert r.entries[0].cells == ("Ann", "ann@e.com", "keepme", "red")
    assert r.to_csv().encode() == R1


def test_a_line_above_the_header_makes_the_roster_not_lossless_but_its_rows_are_shown():
    r = parse_roster(R2.decode(), source="r2.csv")
    assert not r.lossless and not r.ok
    assert [(e.name, e.email) for e in r.entries] == [("Ann", "ann@e.com"), ("Bob", "bob@e.com")]
    assert r.unkept[0].line == 1 and "# team roster 2025" in r.unkept_summary()
    assert r.problems[0].render("r2.csv").startswith("r2.csv:1: '# team roster 2025' comes before the header row")


def test_an_unknown_header_layout_is_not_lossless():
    r = parse_roster("fullname,mail\nA,a@example.com\n", source="x.csv")
    assert not r.lossless and r.entries == [] and r.unkept_summary().startswith("line 1: 'fullname,mail'")


def test_undecodable_bytes_are_located_and_not_lossless(tmp_path):
    f = tmp_path / "r3.csv"
    f.write_bytes(R3)
    r = read_roster(f)
    assert not r.lossless and not r.ok
    assert r.problems[0].render("r3.csv").startswith("r3.csv:2:3: not UTF-8 text")
    assert r.unkept_summary().startswith("line 2:3: not UTF-8 text (byte 0xEB")
    assert [e.email for e in r.entries] == ["zoe@e.com", "bob@e.com"]  # shown, with U+FFFD for the byte


def test_duplicate_columns_are_a_located_problem_and_both_are_kept():
    r = parse_roster(DUP.decode(), source="d.csv")
    assert [p.render("d.csv") for p in r.problems] == [
        "d.csv:1:4: column 4 'x' repeats column 3: rename or remove one of them"]
    assert r.lossless and r.entries[0].cells[2:] == ("1", "2")
    assert r.to_csv().encode() == DUP


@pytest.mark.parametrize("text, why", [
    ('name,email\nAnn,"ann@example.com\nBob,bob@example.com\n', "line 3: malformed CSV quoting"),
    ('name,email\n"Ann" x,ann@example.com\n', "line 2: malformed CSV quoting"),
    ("name,email,notes\nAnn,ann@example.com,=1+1\n", "line 2:3: cell 3 '=1+1' would be written as ''=1+1'"),
    ("\ufeff\ufeffname,email\nAnn,ann@example.com\n", "line 1: 2 byte-order marks"),
])
def test_what_a_save_would_change_is_not_lossless(text, why):
    r = parse_roster(text)
    assert not r.lossless and r.unkept_summary().startswith(why), r.unkept_summary()


def test_a_lossless_roster_is_written_back_byte_for_byte():
    text = "\ufeffName ,EMAIL,Notes\r\n  Ann Lee ,ann@example.com,\"a, b\"\r\n\r\nBo,bo@example.com\r\n"
    r = parse_roster(text)
    assert r.ok and r.lossless
    assert r.entries[0].name == "Ann Lee" and r.entries[0].notes == "a, b"
    assert r.to_csv() == text.replace("\r\n\r\n", "\r\n")  # only the blank line goes


def test_an_edited_field_replaces_only_its_cell():
    r = parse_roster(R1.decode())
    entries = [replace(r.entries[1], name="Bob Stone", title="QA Bob"), r.entries[2]]
    assert r.to_csv(entries) == ("name,email,,team,title\nBob Stone,bob@e.com,x,y,QA Bob,w\n"
                                 "Cy,cy@e.com,,blue\n")


def test_without_columns_the_default_layout_is_used():
    r = parse_roster("email,team,name\na@example.com,red,A\n")
    assert roster_to_csv(r.entries) == "name,email,team\nA,a@example.com,red\n"
    assert r.to_csv() == "email,team,name\na@example.com,red,A\n"


# --- the CLI keeps refusing a roster with any problem ----------------------------------------

@pytest.mark.parametrize("data, line", [(R1, "r.csv:3: 6 cells"), (R2, "r.csv:1: '# team roster 2025'"),
                                        (R3, "r.csv:2:3: not UTF-8"), (DUP, "r.csv:1:4: column 4 'x'")])
def test_roster_check_and_provision_still_refuse(capsys, tmp_path, data, line):
    f = tmp_path / "r.csv"
    f.write_bytes(data)
    code, out, err = run(capsys, "roster", "check", f)
    assert code == 1 and any(ln.startswith(str(tmp_path / line)) for ln in out.splitlines()), out
    code, out, err = run(capsys, "provision", "--roster", f, "--benchmark", "Benchmark Labels", "--yes")
    assert code == 1 and "nothing was provisioned" in err and "Traceback" not in err
    assert f.read_bytes() == data


# --- the TUI save ------------------------------------------------------------------------------

async def open_screen(tmp_path: Path, name: str, data: bytes):
    roster = tmp_path / name
    roster.write_bytes(data)
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    return roster, app


async def press_save(app, pilot, key: str = "s") -> None:
    app.screen.query_one("#roster-table", DataTable).focus()
    await pilot.press(key)
    await pilot.pause()


async def save_as(app, pilot, path: Path) -> None:
    assert isinstance(app.screen, PathDialog)
    app.screen.query_one("#field-path").value = str(path)
    await pilot.press("enter")
    await pilot.pause()


async def test_r1_problem_row_and_unnamed_column_survive_a_save(tmp_path):
    roster, app = await open_screen(tmp_path, "r1.csv", R1)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        table = screen.query_one("#roster-table", DataTable)
        assert [str(table.get_row_at(i)[1]) for i in range(table.row_count)] == ["Ann", "Bob", "Cy"]
        assert "r1.csv:3: 6 cells" in problems_text(app)
        await press_save(app, pilot)
        assert not isinstance(app.screen, (ConfirmDialog, FormDialog))
        assert roster.read_bytes() == R1
        assert any(m.startswith("Saved") for m in toasts(app))
        # edit Cy's name: every other row and cell stays as written
        table.focus()
        table.move_cursor(row=2)
        await pilot.press("e")
        app.screen.query_one("#field-name").value = "Cy Young"
        await pilot.press("enter")
        await pilot.pause()
        await press_save(app, pilot)
    assert roster.read_bytes() == R1.replace(b"Cy,", b"Cy Young,")


@pytest.mark.parametrize("name, data, why, emails", [
    ("r2.csv", R2, "r2.csv has lines annotrain cannot keep (line 1: '# team roster 2025' is above the header row",
     ["ann@e.com", "bob@e.com"]),
    ("r3.csv", R3, "r3.csv has lines annotrain cannot keep (line 2:3: not UTF-8 text", ["zoe@e.com", "bob@e.com"]),
    ("f.csv", b"name,email,notes\nAnn,ann@e.com,=1+1\nBob,bob@e.com,\n",
     "f.csv has lines annotrain cannot keep (line 2:3: cell 3 '=1+1' would be written as ''=1+1'",
     ["ann@e.com", "bob@e.com"]),
])
async def test_a_roster_that_is_not_lossless_is_never_saved_over_and_can_be_saved_as(tmp_path, name, data, why,
                                                                                      emails):
    roster, app = await open_screen(tmp_path, name, data)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert len(screen.entries) == 2 and why in problems_text(app)
        await press_save(app, pilot)
        assert roster.read_bytes() == data
        said = [m for m in toasts(app) if why in m]
        assert said and "\n" not in said[0] and said[0].endswith("fix them in an editor, or save under another "
                                                                 "name (w).")
        assert not any(m.startswith("Saved") for m in toasts(app))
        # save-as is offered; naming the original (another spelling) is refused, the file is untouched
        (tmp_path / "sub").mkdir()
        await save_as(app, pilot, tmp_path / "sub" / ".." / name)
        assert roster.read_bytes() == data and isinstance(app.screen, PathDialog)  # stays open, says why
        assert "one of this command's inputs" in str(app.screen.query_one("#form-error", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        # a new file: written with every row shown, and the screen now edits it
        await press_save(app, pilot, "w")
        new = tmp_path / "fixed.csv"
        await save_as(app, pilot, new)
        assert roster.read_bytes() == data
        assert screen.roster_path == new and not screen.dirty and any(m == f"Saved {new}" for m in toasts(app))
        saved = read_roster(new)
        assert saved.lossless and [e.email for e in saved.entries] == emails
        assert problems_text(app).count("cannot keep") == 0
        # saving again goes to the new file, no question
        await press_save(app, pilot)
        assert not isinstance(app.screen, (ConfirmDialog, FormDialog)) and new.read_bytes() == saved.to_csv().encode()


async def test_save_as_asks_before_overwriting_an_existing_file(tmp_path):
    roster, app = await open_screen(tmp_path, "r2.csv", R2)
    other = tmp_path / "other.csv"
    other.write_bytes(b"precious\n")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await press_save(app, pilot)
        await save_as(app, pilot, other)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert other.read_bytes() == b"precious\n"
        await press_save(app, pilot)
        await save_as(app, pilot, other)
        await pilot.press("y")
        await pilot.pause()
    assert other.read_bytes() == b"name,email\nAnn,ann@e.com\nBob,bob@e.com\n" and roster.read_bytes() == R2


async def test_duplicate_columns_and_duplicate_emails_stay_in_the_table_and_in_the_file(tmp_path):
    data = b"name,email,x,x\nAnn,ann@example.com,1,2\nAnnie,ANN@example.com,3,4\n"
    roster, app = await open_screen(tmp_path, "dup.csv", data)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#roster-table", DataTable)
        assert table.row_count == 2
        text = problems_text(app)
        assert "dup.csv:1:4: column 4 'x' repeats column 3" in text and "dup.csv:3: duplicate email" in text
        await press_save(app, pilot)
        assert roster.read_bytes() == data
        # fix the duplicate in the table: the fix is saved, the repeated column's cells stay
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("e")
        app.screen.query_one("#field-email").value = "annie@example.com"
        await pilot.press("enter")
        await pilot.pause()
        assert "duplicate email" not in problems_text(app)
        await press_save(app, pilot)
    assert roster.read_bytes() == data.replace(b"ANN@example.com", b"annie@example.com")
