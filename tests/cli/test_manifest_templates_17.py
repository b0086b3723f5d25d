"""Issue 17, items 3-5 through the real CLI: `annotrain manifest validate FILE [--json]` and `manifest new`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from annotrain_tui.cli import main
from annotrain_tui.core.manifest.templates import TEMPLATES
from annotrain_tui.core.manifest.urls import PROVIDERS

S3 = "https://encord-integration.s3.eu-west-2.amazonaws.com"
MRAP = "https://arn:aws:s3::123123123:accesspoint/frf28frarf9.mrap.s3-accesspoint.amazonaws.com"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def validate(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> tuple[int, dict, int, str]:
    """Both forms of one validation: (exit code, --json document, exit code of the text run, its text)."""
    code, out, _ = run(capsys, "manifest", "validate", str(path), *extra, "--json")
    text_code, text, _ = run(capsys, "manifest", "validate", str(path), *extra)
    return code, json.loads(out), text_code, text


def position(path: Path, line: int, column: int, width: int) -> str:
    return path.read_text().split("\n")[line - 1][column - 1:column - 1 + width]


# ---------------------------------------------------------------------------------------------
# The rules.

def test_file_name_too_long(capsys, tmp_path: Path) -> None:
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/{'n' * 301}.png"}]}, indent=2))
    code, doc, text_code, text = validate(capsys, path)
    (d,) = doc["diagnostics"]
    assert code == text_code == 1 and doc["valid"] is False
    assert (d["code"], d["severity"], d["pointer"]) == ("file-name-too-long", "error", "/images/0/objectUrl")
    assert position(path, d["line"], d["column"], 9) == f'"{S3[:8]}'
    assert f"{path}:{d['line']}:{d['column']}: error[file-name-too-long]: the file name" in text


def test_metadata_mime_type_that_does_not_fit(capsys, tmp_path: Path) -> None:
    path = tmp_path / "mime.json"
    path.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/a.jpg", "imageMetadata": {
        "mimeType": "video/mp4", "fileSize": 1, "width": 2, "height": 3}}]}, indent=2))
    code, doc, text_code, text = validate(capsys, path)
    (d,) = doc["diagnostics"]
    assert code == text_code == 1
    assert (d["code"], d["pointer"]) == ("metadata-mime", "/images/0/imageMetadata/mimeType")
    assert position(path, d["line"], d["column"], 11) == '"video/mp4"'
    assert f"{path}:{d['line']}:{d['column']}: error[metadata-mime]:" in text


def test_repeated_title_is_a_warning_exit_0(capsys, tmp_path: Path) -> None:
    path = tmp_path / "titles.json"
    path.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/a.jpg", "title": "same"},
                                           {"objectUrl": f"{S3}/b.jpg", "title": "same"}]}, indent=2))
    code, doc, text_code, text = validate(capsys, path)
    (d,) = doc["diagnostics"]
    assert code == text_code == 0 and doc["valid"] is True
    assert (d["code"], d["severity"], d["pointer"]) == ("duplicate-title", "warning", "/images/1/title")
    assert position(path, d["line"], d["column"], 6) == '"same"' and "(line 5)" in d["message"]
    assert f"{path}:{d['line']}:{d['column']}: warning[duplicate-title]:" in text
    assert "0 errors, 1 warning" in text


def test_items_of_the_dropped_first_copy_are_validated(capsys, tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text('{\n  "images": [\n    {"objectUrl": "s3.amazonaws.com/a.jpg"}\n  ],\n'
                    f'  "images": [\n    {{"objectUrl": "{S3}/b.jpg"}}\n  ]\n}}\n')
    code, doc, text_code, text = validate(capsys, path)
    assert code == text_code == 1
    first, dup = doc["diagnostics"]
    assert (first["code"], first["line"], first["column"], first["pointer"]) == ("url-not-absolute", 3, 19, None)
    assert 'in the first "images" array' in first["message"]
    assert (dup["code"], dup["line"], dup["column"], dup["pointer"]) == ("duplicate-key", 5, 3, "/images")
    assert f"{path}:3:19: error[url-not-absolute]:" in text and f"{path}:5:3: error[duplicate-key]:" in text


def test_batch_size_warning_names_register_batch(capsys, tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text(json.dumps({"videos": [{"objectUrl": f"{S3}/v{i}.mp4"} for i in range(120)],
                                "images": [{"objectUrl": f"{S3}/i{i}.jpg"} for i in range(900)]}))
    code, doc, text_code, text = validate(capsys, path)
    (d,) = doc["diagnostics"]
    assert code == text_code == 0 and doc["valid"] is True
    assert (d["code"], d["severity"], d["line"], d["column"], d["pointer"]) == ("batch-size", "warning", 1, 1,
                                                                                "/videos")
    assert "120 videos and 900 images" in d["message"]
    assert f"(see 'annotrain register ... --batch' or 'annotrain manifest split {path} --out-dir DIR')" in d["message"]
    assert "3 jobs" in d["message"]  # 1,200 + 900 units in uploads of 1,000, items never cut
    assert f"{path}:1:1: warning[batch-size]:" in text


def test_mrap_form_with_provider_aws(capsys, tmp_path: Path) -> None:
    path = tmp_path / "mrap.json"
    path.write_text(json.dumps({"videos": [
        {"objectUrl": f"{MRAP}/Videos/2022/video_1.mp4"},
        {"objectUrl": "https://arn:aws:s3::123123123:accesspoint/frf28frarf9/Videos/2022/video_2.mp4"}]}, indent=2))
    code, doc, text_code, text = validate(capsys, path, "--provider", "aws")
    (d,) = doc["diagnostics"]
    assert code == text_code == 0
    assert (d["code"], d["pointer"], d["line"]) == ("provider-mismatch", "/videos/1/objectUrl", 7)
    assert "ends in .mrap" in d["message"]
    assert f"{path}:7:{d['column']}: warning[provider-mismatch]: this is a Multi-Region Access Point ARN" in text
    code, doc, _, _ = validate(capsys, path)
    assert code == 0 and doc["diagnostics"] == []


# ---------------------------------------------------------------------------------------------
# The templates: written by `manifest new`, checked by `manifest validate`.

_FILL = {"bucket": "my-bucket", "region": "eu-west-2", "account": "myaccount", "container": "data",
         "namespace": "ns", "host": "files.example.com", "account-id": "123456789012", "alias": "mfzwi23gnjvgw"}


def fill(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        inner = m.group(1)
        return "clips/" + inner[len("path/to/"):] if inner.startswith("path/to/") else _FILL[inner]
    return re.sub(r"<([^<>]+)>", one, text)


@pytest.mark.parametrize("kind", list(TEMPLATES))
def test_every_template_validates_clean_with_the_cli(capsys, tmp_path: Path, kind: str) -> None:
    for provider in ("aws",) if kind == "mrap" else PROVIDERS:
        out = tmp_path / f"{kind}-{provider}.json"
        code, stdout, err = run(capsys, "manifest", "new", "--type", kind, "--provider", provider, "--out", str(out))
        assert code == 0 and stdout.strip() == f"wrote {out}" and "placeholder" in err
        code, doc, _, _ = validate(capsys, out, "--provider", provider)
        assert code == 1 and {d["code"] for d in doc["diagnostics"]} == {"url-not-absolute"}
        out.write_text(fill(out.read_text()))
        code, doc, text_code, text = validate(capsys, out, "--provider", provider)
        assert code == text_code == 0 and doc["diagnostics"] == [], (provider, doc["diagnostics"])
        assert text.endswith("0 errors, 0 warnings\n")


def test_template_names_in_help_and_mrap_needs_aws(capsys) -> None:
    code, out, _ = run(capsys, "manifest", "new", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for kind in TEMPLATES:
        assert kind in flat
    code, _, err = run(capsys, "manifest", "new", "--type", "mrap", "--provider", "azure")
    assert code == 2 and "Multi-Region Access Point" in err and "--provider aws" in err
    code, out, _ = run(capsys, "manifest", "new", "--type", "videoMetadata")
    assert code == 0 and json.loads(out)["videos"][1]["videoMetadata"]["mime_type"] == "video/mp4"


def test_new_with_a_template_name_and_a_url_list(capsys, tmp_path: Path) -> None:
    urls = tmp_path / "u.txt"
    urls.write_text(f"{S3}/a.mp4\n{S3}/b.mp4\n")
    code, out, _ = run(capsys, "manifest", "new", "--type", "videos_key_frames", "--urls", str(urls))
    assert code == 0 and [v["objectUrl"] for v in json.loads(out)["videos"]] == [f"{S3}/a.mp4", f"{S3}/b.mp4"]


def test_the_mixed_template_through_the_installed_entry_point(tmp_path: Path) -> None:
    out = tmp_path / "mixed.json"
    subprocess.run([sys.executable, "-m", "annotrain_tui", "manifest", "new", "--type", "mixed", "--out", str(out)],
                   check=True, capture_output=True, text=True, timeout=60)
    out.write_text(fill(out.read_text()))
    proc = subprocess.run([sys.executable, "-m", "annotrain_tui", "manifest", "validate", str(out), "--json",
                           "--provider", "aws"], capture_output=True, text=True, timeout=60)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0 and doc["valid"] is True and doc["diagnostics"] == [] and doc["items"] == 6
