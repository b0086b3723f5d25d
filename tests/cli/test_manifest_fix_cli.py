"""`annotrain manifest fix` (issue 17): each quick fix through the real CLI, the rest of the file
byte-identical, in place with FILE.bak or to --out, --code/--all, --json, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotrain_tui.cli import main

H = "https://bucket.s3.eu-west-2.amazonaws.com"
LONG = "T" * 290 + "-0123456789-end"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


JSON = (
    '{\r\n'
    '\t"images" : [\r\n'
    '\t\t{ "objectUrl":"' + H + '/my photo.jpg",  "title": "caf\u00e9 \\u00e9" },\r\n'
    '\t\t{ "objectUrl": " ' + H + '/b.jpg ", "title": "' + LONG + '" },\r\n'
    '\t\t{ "objectUrl": "' + H + '/clip.mp4" },\r\n'
    '\t\t{ "objectUrl": "' + H + '/d.jpg" },\r\n'
    '\t\t{ "objectUrl": "' + H + '/d.jpg" }\r\n'
    '\t]\r\n'
    '}'
)
CSV = ("ObjectUrl,Image title\n" + H + "/1.jpg,Hello, world\n " + H + "/2.jpg ,b\n" + H + "/my photo.jpg,c\n"
       + H + "/1.jpg,again\n" + H + "/clip.mp4,clip\n" + H + "/3.jpg," + LONG + "\n")


@pytest.mark.parametrize("code, before, after", [
    ("url-not-absolute", f'"{H}/my photo.jpg"', f'"{H}/my%20photo.jpg"'),
    ("title-too-long", LONG, LONG[:300]),
    ("duplicate-url", ',\r\n\t\t{ "objectUrl": "' + H + '/d.jpg" }\r\n\t]', "\r\n\t]"),
])
def test_each_json_fix_through_the_cli_changes_only_its_bytes(tmp_path, capsys, code, before, after) -> None:
    src = write(tmp_path, "m.json", JSON)
    out = tmp_path / "fixed.json"
    rc, stdout, err = run(capsys, "manifest", "fix", str(src), "--code", code, "--out", str(out))
    assert rc == 1 and err == ""  # other errors remain (other codes)
    assert f"fixed[{code}]" in stdout
    original = JSON.encode("utf-8")
    fixed = out.read_bytes()
    if code == "url-not-absolute":  # both URL problems of that code: the space and the padding
        assert fixed == original.replace(before.encode(), after.encode()).replace(
            f'" {H}/b.jpg "'.encode(), f'"{H}/b.jpg"'.encode())
    else:
        assert fixed == original.replace(before.encode(), after.encode())
    assert src.read_bytes() == original  # --out: the input is left as it is


def test_json_move_item_through_the_cli(tmp_path, capsys) -> None:
    src = write(tmp_path, "m.json", JSON)
    out = tmp_path / "o.json"
    rc, _, _ = run(capsys, "manifest", "fix", str(src), "--code", "extension-mismatch", "--out", str(out))
    item = '{ "objectUrl": "' + H + '/clip.mp4" }'
    expected = JSON.replace("\t\t" + item + ",\r\n", "").replace(
        "\t]\r\n}", '\t],\r\n\t"videos": [\r\n\t\t' + item + "\r\n\t]\r\n}")
    assert out.read_bytes() == expected.encode("utf-8") and rc == 1


@pytest.mark.parametrize("code, before, after", [
    ("csv-row", "/1.jpg,Hello, world\n", '/1.jpg,"Hello, world"\n'),
    ("title-too-long", LONG, LONG[:300]),
    ("duplicate-url", H + "/1.jpg,again\n", ""),
])
def test_each_csv_fix_through_the_cli_changes_only_its_bytes(tmp_path, capsys, code, before, after) -> None:
    src = write(tmp_path, "m.csv", CSV)
    out = tmp_path / "o.csv"
    rc, stdout, _ = run(capsys, "manifest", "fix", str(src), "--code", code, "--out", str(out))
    assert f"fixed[{code}]" in stdout and rc == 1
    assert out.read_bytes() == CSV.encode().replace(before.encode(), after.encode())


def test_csv_url_and_move_through_the_cli(tmp_path, capsys) -> None:
    src = write(tmp_path, "m.csv", CSV)
    out = tmp_path / "o.csv"
    run(capsys, "manifest", "fix", str(src), "--code", "url-not-absolute", "--out", str(out))
    assert out.read_bytes() == CSV.replace(" " + H + "/2.jpg ,", H + "/2.jpg,").replace(
        "/my photo.jpg", "/my%20photo.jpg").encode()
    run(capsys, "manifest", "fix", str(src), "--code", "extension-mismatch", "--out", str(out), "--force")
    assert out.read_bytes() == (CSV.replace(H + "/clip.mp4,clip\n", "") + "ObjectUrl,Video title\n" + H
                                + "/clip.mp4,clip\n").encode()


def test_all_in_place_keeps_a_backup_and_exits_0(tmp_path, capsys) -> None:
    src = write(tmp_path, "m.csv", CSV)
    rc, stdout, err = run(capsys, "manifest", "fix", str(src))
    assert rc == 0 and err == ""
    assert (tmp_path / "m.csv.bak").read_bytes() == CSV.encode()
    assert "6 fixes applied; wrote" in stdout and "0 errors, 0 warnings left" in stdout
    rc, out, _ = run(capsys, "manifest", "validate", str(src))
    assert rc == 0, out
    # nothing left to fix: nothing written, the backup is not needed and not touched
    rc, stdout, _ = run(capsys, "manifest", "fix", str(src), "--all")
    assert rc == 0 and "0 fixes applied; nothing written" in stdout
    assert (tmp_path / "m.csv.bak").read_bytes() == CSV.encode()


def test_in_place_never_replaces_an_older_backup_without_force(tmp_path, capsys) -> None:
    src = write(tmp_path, "m.json", JSON)
    bak = write(tmp_path, "m.json.bak", "what I kept")
    rc, _, err = run(capsys, "manifest", "fix", str(src))
    assert rc == 2 and "m.json.bak already exists" in err and "--force" in err
    assert src.read_bytes() == JSON.encode() and bak.read_bytes() == b"what I kept"
    rc, _, _ = run(capsys, "manifest", "fix", str(src), "--force")
    assert rc == 0 and bak.read_bytes() == JSON.encode()
    assert json.loads(src.read_text())["videos"] == [{"objectUrl": H + "/clip.mp4"}]


def test_out_refuses_an_existing_file_and_the_input(tmp_path, capsys) -> None:
    src = write(tmp_path, "m.json", JSON)
    other = write(tmp_path, "o.json", "{}")
    rc, _, err = run(capsys, "manifest", "fix", str(src), "--out", str(other))
    assert rc == 2 and "already exists" in err and other.read_bytes() == b"{}"
    rc, _, err = run(capsys, "manifest", "fix", str(src), "--out", str(src))
    assert rc == 2 and "inputs" in err and src.read_bytes() == JSON.encode()


def test_json_report(tmp_path, capsys) -> None:
    src = write(tmp_path, "m.json", JSON.replace('"' + H + '/d.jpg" }\r\n\t]', '"<object url>" }\r\n\t]'))
    rc, stdout, _ = run(capsys, "manifest", "fix", str(src), "--json", "--dry-run")
    doc = json.loads(stdout)
    assert rc == 1 and doc["dry_run"] is True and doc["written"] is None and doc["backup"] is None
    assert {f["code"] for f in doc["fixed"]} == {"url-not-absolute", "title-too-long", "extension-mismatch"}
    assert all(set(f) == {"code", "fix", "title", "line", "column", "pointer"} for f in doc["fixed"])
    assert [d["code"] for d in doc["remaining"]] == ["url-not-absolute"] and doc["valid"] is False
    assert doc["remaining"][0]["pointer"] == "/images/3/objectUrl"  # after the .mp4 moved out
    assert not (tmp_path / "m.json.bak").exists() and src.read_bytes().startswith(b"{\r\n")


def test_usage_errors(tmp_path, capsys) -> None:
    src = write(tmp_path, "m.json", JSON)
    rc, _, err = run(capsys, "manifest", "fix", str(src), "--code", "title-to-long")
    assert rc == 2 and "did you mean 'title-too-long'" in err
    rc, _, err = run(capsys, "manifest", "fix", str(src), "--code", "x", "--all")
    assert rc == 2
    rc, _, err = run(capsys, "manifest", "fix", str(tmp_path / "missing.json"))
    assert rc == 2 and err.count("\n") == 1
    assert src.read_bytes() == JSON.encode()


def test_unfixable_file_exits_1_and_writes_nothing(tmp_path, capsys) -> None:
    src = tmp_path / "latin1.json"
    src.write_bytes(b'{"images": [{"objectUrl": "caf\xe9"}]}')
    rc, stdout, _ = run(capsys, "manifest", "fix", str(src))
    assert rc == 1 and "error[encoding]" in stdout and not (tmp_path / "latin1.json.bak").exists()


def test_help_says_what_happens_to_the_file(capsys) -> None:
    rc, stdout, _ = run(capsys, "manifest", "fix", "--help")
    assert rc == 0
    flat = " ".join(stdout.split())
    assert "FILE.bak" in flat and "--out" in flat and "--force" in flat
