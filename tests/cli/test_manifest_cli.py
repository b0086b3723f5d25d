"""`annotrain manifest …`: the exact output and exit-code contract other tools rely on."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from annotrain_tui.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"
S3 = "https://encord-integration.s3.eu-west-2.amazonaws.com"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------------------------
# validate

def test_valid_file_exits_0_with_a_summary(capsys) -> None:
    path = str(FIXTURES / "valid_images.json")
    code, out, err = run(capsys, "manifest", "validate", path)
    assert code == 0 and err == ""
    assert out == f"{path}: valid json manifest — 3 items, 3 URLs, 0 errors, 0 warnings\n"


def test_errors_exit_1_one_line_each(capsys) -> None:
    path = str(FIXTURES / "unknown_key.json")
    code, out, _ = run(capsys, "manifest", "validate", path)
    lines = out.splitlines()
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith(f"{path}:3:89: error[unknown-key]: ")
    assert lines[1].startswith(f"{path}: invalid json manifest")


def test_warnings_only_exit_0(capsys) -> None:
    path = str(FIXTURES / "duplicate_url.json")
    code, out, _ = run(capsys, "manifest", "validate", path)
    assert code == 0 and f"{path}:4:19: warning[duplicate-url]: " in out


def test_diagnostic_without_a_line(capsys, tmp_path: Path) -> None:
    from annotrain_tui.core.manifest.diagnostics import Diagnostic

    assert Diagnostic(severity="error", code="no-items", message="m").render("p") == "p: error[no-items]: m"


def test_json_output_contract(capsys) -> None:
    path = str(FIXTURES / "url_index_gap.json")
    code, out, _ = run(capsys, "manifest", "validate", path, "--json")
    doc = json.loads(out)
    assert code == 1
    assert list(doc) == ["path", "format", "valid", "items", "urls", "diagnostics"]
    assert (doc["path"], doc["format"], doc["valid"], doc["items"], doc["urls"]) == (path, "json", False, 1, 3)
    (d,) = doc["diagnostics"]
    assert list(d) == ["severity", "code", "message", "line", "column", "pointer"]
    assert (d["severity"], d["code"], d["line"], d["column"], d["pointer"]) == (
        "error", "url-index", 8, 7, "/image_groups/0/objectUrl_3")


def test_json_output_for_csv_and_null_pointer(capsys) -> None:
    code, out, _ = run(capsys, "manifest", "validate", str(FIXTURES / "csv_whitespace_url.csv"), "--json")
    doc = json.loads(out)
    assert code == 1 and doc["format"] == "csv" and doc["diagnostics"][0]["pointer"] is None
    assert doc["diagnostics"][0]["line"] == 2


def test_provider_flag(capsys) -> None:
    path = str(FIXTURES / "provider_gcp_urls.json")
    code, out, _ = run(capsys, "manifest", "validate", path, "--provider", "aws")
    assert code == 0 and out.count("warning[provider-mismatch]") == 2
    code, out, _ = run(capsys, "manifest", "validate", path, "--provider", "gcp")
    assert code == 0 and "warning" not in out.splitlines()[0].split("—")[0]


def test_not_utf8_is_invalid_not_unreadable(capsys) -> None:
    code, out, err = run(capsys, "manifest", "validate", str(FIXTURES / "not_utf8.json"))
    assert code == 1 and "error[encoding]" in out and err == ""


def test_missing_file_and_directory_exit_2(capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "manifest", "validate", str(tmp_path / "nope.json"))
    assert code == 2 and out == "" and err.count("\n") == 1 and "no such file" in err
    code, _, err = run(capsys, "manifest", "validate", str(tmp_path))
    assert code == 2 and "directory" in err


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file_exits_2(capsys, tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    path.write_text("{}")
    path.chmod(0)
    code, _, err = run(capsys, "manifest", "validate", str(path))
    assert code == 2 and "permission denied" in err


def test_usage_errors_exit_2(capsys) -> None:
    code, _, err = run(capsys, "manifest", "validate", "x.json", "--provider", "dropbox")
    assert code == 2 and "usage error" in err
    code, _, _ = run(capsys, "manifest")
    assert code == 2


def test_control_characters_in_messages_do_not_reach_the_terminal(capsys, tmp_path: Path) -> None:
    path = tmp_path / "evil.json"
    path.write_text(json.dumps({"images": [{"objectUrl": "\x1b[31mhttps://a.example.com/1.jpg"}]}))
    code, out, _ = run(capsys, "manifest", "validate", str(path))
    assert code == 1 and "\x1b" not in out


# ---------------------------------------------------------------------------------------------
# convert, split, new

def test_convert_json_to_csv_warns_on_stderr(capsys, tmp_path: Path) -> None:
    out_path = tmp_path / "m.csv"
    code, out, err = run(capsys, "manifest", "convert", str(FIXTURES / "valid_all_types.json"), str(out_path))
    assert code == 0 and out.startswith(f"wrote {out_path}")
    assert "annotrain: warning:" in err and "clientMetadata" in err
    assert out_path.read_bytes().startswith(b"ObjectUrl,Video title\r\n")


def test_convert_csv_to_json_json_flag(capsys, tmp_path: Path) -> None:
    out_path = tmp_path / "m.json"
    code, out, _ = run(capsys, "manifest", "convert", str(FIXTURES / "valid_mixed.csv"), str(out_path), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["format"] == "json" and doc["items"] == 4 and doc["warnings"] == []
    assert json.loads(out_path.read_text())["videos"][0]["title"] == "Video 1"


def test_convert_unreadable_and_invalid_input_exit_2(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "manifest", "convert", str(tmp_path / "none.csv"), str(tmp_path / "o.json"))
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "manifest", "convert", str(FIXTURES / "json_syntax_trailing_comma.json"),
                       str(tmp_path / "o.csv"))
    assert code == 2 and "json-syntax" in err and not (tmp_path / "o.csv").exists()


def test_split(capsys, tmp_path: Path) -> None:
    source = tmp_path / "big.json"
    source.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/{i}.jpg"} for i in range(25)]}))
    code, out, _ = run(capsys, "manifest", "split", str(source), "--max-items", "10", "--out-dir", str(tmp_path / "p"))
    assert code == 0 and out.splitlines()[-1] == f"3 files written to {tmp_path / 'p'}"
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "big-part-001-of-003.json", "big-part-002-of-003.json", "big-part-003-of-003.json"]
    code, _, err = run(capsys, "manifest", "split", str(source), "--max-items", "10", "--out-dir", str(tmp_path / "p"))
    assert code == 2 and "already exists" in err and "--force" in err
    code, _, _ = run(capsys, "manifest", "split", str(source), "--max-items", "0", "--out-dir", str(tmp_path / "q"))
    assert code == 2


def test_split_default_and_json(capsys, tmp_path: Path) -> None:
    source = tmp_path / "v.json"
    source.write_text(json.dumps({"videos": [{"objectUrl": f"{S3}/{i}.mp4"} for i in range(150)]}))
    code, out, _ = run(capsys, "manifest", "split", str(source), "--out-dir", str(tmp_path / "o"), "--json")
    doc = json.loads(out)
    assert code == 0 and [f["items"] for f in doc["files"]] == [100, 50]


def test_new_template_to_stdout(capsys) -> None:
    code, out, err = run(capsys, "manifest", "new", "--type", "image_groups", "--provider", "azure")
    data = json.loads(out)
    assert code == 0 and data["image_groups"][0]["createVideo"] is False
    assert data["image_groups"][0]["objectUrl_0"].startswith("https://<account>.blob.core.windows.net/")
    assert "placeholder" in err


def test_new_from_urls_to_a_file(capsys, tmp_path: Path) -> None:
    out_path = tmp_path / "new.json"
    code, out, _ = run(capsys, "manifest", "new", "--urls", str(FIXTURES / "urls.txt"), "--out", str(out_path))
    assert code == 0 and out.strip() == f"wrote {out_path}"
    code, out, _ = run(capsys, "manifest", "validate", str(out_path), "--provider", "aws")
    assert code == 0 and "0 errors, 0 warnings" in out


def test_new_csv_output_and_type_required(capsys, tmp_path: Path) -> None:
    out_path = tmp_path / "new.csv"
    code, _, _ = run(capsys, "manifest", "new", "--type", "videos", "--out", str(out_path))
    assert code == 0 and out_path.read_text().startswith("ObjectUrl,Video title")
    code, _, err = run(capsys, "manifest", "new")
    assert code == 2 and "--type" in err


def test_new_from_urls_with_unknown_extension_exits_2(capsys, tmp_path: Path) -> None:
    urls = tmp_path / "u.txt"
    urls.write_text(f"{S3}/mystery\n")
    code, _, err = run(capsys, "manifest", "new", "--urls", str(urls))
    assert code == 2 and "--type" in err


def test_entry_point_runs_as_a_module(tmp_path: Path) -> None:
    import subprocess

    target = tmp_path / "m.json"
    shutil.copy(FIXTURES / "valid_images.json", target)
    proc = subprocess.run([sys.executable, "-m", "annotrain_tui", "manifest", "validate", str(target), "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and json.loads(proc.stdout)["valid"] is True
