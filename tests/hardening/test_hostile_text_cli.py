"""Issue 11 §1 for the CLI: one hostile string, put into every title a server can send (the sandbox
stands in for it), reaches no terminal raw through any command, with or without --json."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

H = "x\x1b]0;pwn\x07\x1b]52;c;ZWNobyBoaQ==\x07\x9b31m\x00\r\n\t\u202e\u2066\u200f[bold red]m[/]"


def raw(text: str) -> list[str]:
    bad = []
    for ch in text:
        o = ord(ch)
        if ch != "\n" and (o < 0x20 or 0x7F <= o <= 0x9F or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069
                           or o in (0x200E, 0x200F) or 0xD800 <= o <= 0xDFFF):
            bad.append(ch)
    return bad


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory):
    ws = tmp_path_factory.mktemp("hostile") / "ws.db"
    subprocess.run([sys.executable, "-m", "annotrain_tui", "--sandbox", str(ws), "sandbox", "init", "--demo"],
                   check=True, capture_output=True)
    with sqlite3.connect(ws) as c:
        for table, column in [("integrations", "title"), ("folders", "description"), ("datasets", "title"),
                              ("ontologies", "title"), ("templates", "title"), ("items", "name")]:
            c.execute(f"UPDATE {table} SET {column} = {column} || ?", (H,))
        c.execute("UPDATE projects SET title = title || ? WHERE title LIKE 'Annotator Training%'", (H,))
        c.execute("UPDATE project_users SET email = email || ? WHERE role = 'annotator'", ("\u202e\x1b[2J",))
        for oid, structure in c.execute("SELECT id, structure FROM ontologies").fetchall():
            doc = json.loads(structure)
            for obj in doc.get("objects", []):
                obj["name"] = H + obj.get("name", "")
            c.execute("UPDATE ontologies SET structure = ? WHERE id = ?", (json.dumps(doc), oid))
    return ws


COMMANDS = [["status"], ["projects", "list"], ["integrations", "list"], ["folders", "list"], ["datasets", "list"],
            ["ontologies", "list"], ["templates", "list"], ["progress", "--benchmark", "Benchmark Labels"],
            ["evaluate", "--benchmark", "Benchmark Labels", "--all"], ["jobs"],
            ["benchmark", "status", "Benchmark Labels"],
            ["sandbox", "simulate", "--rate", "20", "--for", "0.3", "--seed", "1"],
            # the programme's commands (issue 16): titles, classes and emails from the workspace
            ["programmes"], ["programmes", "show"], ["evaluate", "--since", "last"], ["history"], ["audit"],
            ["retake", "--dry-run"]]


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_every_command_shows_hostile_titles_escaped(hostile_ws, argv, as_json):
    full = [sys.executable, "-m", "annotrain_tui", "--sandbox", str(hostile_ws), *argv]
    if as_json:
        full.append("--json")
    proc = subprocess.run(full, capture_output=True, timeout=120)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert proc.returncode in (0, 1), err
    assert not raw(out) and not raw(err), (argv, sorted(set(raw(out) + raw(err))))
    if as_json and out.strip():
        json.loads(out)  # still one JSON document
    if not as_json and argv[0] in ("integrations", "datasets", "ontologies", "templates"):
        assert "\\x1b]0;pwn\\x07" in out and "[bold red]m[/]" in out  # escaped visibly, markup literal
