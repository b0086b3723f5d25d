"""Validator rules on JSON manifests: one fixture (or generated file) per rule, with positions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotrain_tui.core.errors import UnreadableInput, UsageError
from annotrain_tui.core.manifest import validate_bytes, validate_path, validate_text
from annotrain_tui.core.manifest.diagnostics import CODES, Diagnostic, ValidationResult

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"
S3 = "https://encord-integration.s3.eu-west-2.amazonaws.com"


def check(name: str, **kw) -> ValidationResult:
    return validate_path(FIXTURES / name, **kw)


def only(result: ValidationResult, code: str) -> Diagnostic:
    found = [d for d in result.diagnostics if d.code == code]
    assert len(found) == 1, [d.render("x") for d in result.diagnostics]
    return found[0]


def at(diag: Diagnostic) -> tuple[int | None, int | None, str | None]:
    return diag.line, diag.column, diag.pointer


def text_at(path: Path, diag: Diagnostic, length: int) -> str:
    """The characters of the file at the diagnostic's line/column."""
    line = path.read_text(encoding="utf-8-sig").split("\n")[diag.line - 1]
    return line[diag.column - 1: diag.column - 1 + length]


# ---------------------------------------------------------------------------------------------
# Valid files.

@pytest.mark.parametrize("name", ["valid_images.json", "valid_all_types.json", "mrap.json"])
def test_valid_manifests_have_no_diagnostics(name: str) -> None:
    result = check(name, provider="aws")
    assert result.valid and result.diagnostics == [], [d.render(name) for d in result.diagnostics]
    assert result.format == "json"


def test_counts_items_and_urls() -> None:
    result = check("valid_all_types.json")
    assert (result.items, result.urls) == (9, 12)
    assert result.sections["image_groups"] == 2


def test_every_emitted_code_is_documented() -> None:
    for name in FIXTURES.glob("*.json"):
        for d in validate_path(name, provider="aws").diagnostics:
            assert d.code in CODES, d.code


# ---------------------------------------------------------------------------------------------
# Syntax, encoding, duplicate keys.

def test_trailing_comma_points_at_the_comma() -> None:
    path = FIXTURES / "json_syntax_trailing_comma.json"
    d = only(check(path.name), "json-syntax")
    assert text_at(path, d, 1) == ","
    assert (d.line, d.column) == (4, 99)
    assert "trailing comma" in d.message and d.severity == "error"


def test_unquoted_placeholder_value_is_a_syntax_error_at_the_value() -> None:
    path = FIXTURES / "json_syntax_placeholder_value.json"
    d = only(check(path.name), "json-syntax")
    assert text_at(path, d, 17) == "frames-per-second"
    assert "'frames-per-second' is not a JSON value" in d.message


@pytest.mark.parametrize("text, line, column, words", [
    ('{"a": 1 "b": 2}', 1, 9, "comma is missing"),
    ("{'images': []}", 1, 2, "double quotes"),
    ('{"images": [1, 2,]}', 1, 17, "trailing comma"),
    ('{"images": []} extra', 1, 16, "after the end"),
    ('// note\n{"images": []}', 1, 1, "comments"),
    ('{"images": [\n', 2, 1, "ends too early"),
    ('{"a": NaN}', 1, 7, "NaN is not valid JSON"),
])
def test_syntax_errors_have_exact_positions(text: str, line: int, column: int, words: str) -> None:
    d = only(validate_text(text), "json-syntax")
    assert (d.line, d.column) == (line, column)
    assert words in d.message


def test_empty_file() -> None:
    d = only(validate_text("  \n"), "json-syntax")
    assert "empty" in d.message


def test_duplicate_section_key_is_found_with_both_positions() -> None:
    path = FIXTURES / "duplicate_key_sections.json"
    result = check(path.name)
    d = only(result, "duplicate-key")
    assert at(d) == (5, 3, "/image_groups")
    assert text_at(path, d, 14) == '"image_groups"'
    assert "first at line 2" in d.message and "merge" in d.message
    assert not result.valid


def test_duplicate_key_inside_an_item_and_deep_in_client_metadata() -> None:
    text = ('{"images": [\n {"objectUrl": "https://a.example.com/1.jpg",\n  "objectUrl": "https://a.example.com/2.jpg"},\n'
            ' {"objectUrl": "https://a.example.com/3.jpg", "clientMetadata": {"k": {"x": 1, "x": 2}}}\n]}')
    result = validate_text(text)
    dups = [d for d in result.diagnostics if d.code == "duplicate-key"]
    assert [(d.line, d.column, d.pointer) for d in dups] == [
        (3, 3, "/images/0/objectUrl"), (4, 80, "/images/1/clientMetadata/k/x")]


def test_colon_balance_is_not_fooled_by_colons_in_strings() -> None:
    # Strings that start with ':' or hold escaped quotes and colons: no duplicate, no false alarm.
    text = json.dumps({"images": [{"objectUrl": "https://a.example.com/x:y.jpg", "title": ':"a": b'},
                                  {"objectUrl": "https://a.example.com/z.jpg", "clientMetadata": {":k": ":v"}}]})
    assert validate_text(text).diagnostics == []
    # An escaped colon (\u003a) decodes to ':' but is not one in the text: still no false alarm.
    escaped = '{"images": [{"objectUrl": "https\\u003a//a.example.com/1.jpg"}]}'
    assert validate_text(escaped).diagnostics == []
    # A lost key hidden next to a string starting with ':' is still found.
    tricky = '{"images": [{"objectUrl": "https://a.example.com/1.jpg", "title": ":x", "title": "y"}]}'
    assert [d.code for d in validate_text(tricky).diagnostics] == ["duplicate-key"]


def test_not_utf8_is_an_encoding_error_with_position() -> None:
    result = check("not_utf8.json")
    d = only(result, "encoding")
    assert (d.line, d.severity) == (2, "error") and d.column == 93
    assert "UTF-8" in d.message and not result.valid


def test_utf16_is_an_encoding_error() -> None:
    d = only(validate_bytes('{"images": []}'.encode("utf-16")), "encoding")
    assert "UTF-16" in d.message


def test_bom_is_flagged_but_the_rest_is_still_checked() -> None:
    result = check("json_bom.json")
    assert result.codes() == ["json-bom"] and result.items == 1
    text_result = validate_text("\ufeff" + (FIXTURES / "valid_images.json").read_text())
    assert text_result.codes() == ["json-bom"]


# ---------------------------------------------------------------------------------------------
# Structure and keys.

def test_unknown_item_key_suggests_the_right_one() -> None:
    path = FIXTURES / "unknown_key.json"
    d = only(check(path.name), "unknown-key")
    assert at(d) == (3, 89, "/images/0/titel")
    assert text_at(path, d, 7) == '"titel"'
    assert 'did you mean "title"' in d.message and d.severity == "error"
    assert d.data == {"key": "titel", "suggestion": "title"}


def test_unknown_section_suggests_images() -> None:
    d = only(check("unknown_section.json"), "unknown-key")
    assert at(d) == (2, 3, "/image")
    assert 'did you mean "images"' in d.message


def test_unknown_key_without_a_close_match_is_a_warning() -> None:
    result = validate_text(json.dumps({"images": [{"objectUrl": f"{S3}/1.jpg"}], "scenes": []}))
    d = only(result, "unknown-key")
    assert d.severity == "warning" and result.valid


def test_metadata_block_of_another_section() -> None:
    text = json.dumps({"images": [{"objectUrl": f"{S3}/1.jpg", "videoMetadata": {}}]})
    d = only(validate_text(text), "unknown-key")
    assert "imageMetadata" in d.message


def test_missing_url() -> None:
    d = only(check("missing_url.json"), "missing-url")
    assert at(d) == (3, 5, "/videos/0")


def test_missing_title_of_a_series() -> None:
    d = only(check("missing_title.json"), "missing-title")
    assert at(d) == (3, 5, "/dicom_series/0")


def test_wrong_types_name_the_fix() -> None:
    result = check("wrong_type.json")
    create, skip = [d for d in result.diagnostics if d.code == "wrong-type"]
    assert create.pointer == "/image_groups/0/createVideo" and "write true without quotes" in create.message
    assert skip.pointer == "/skip_duplicate_urls" and (skip.line, skip.column) == (5, 26)


def test_top_level_must_be_an_object() -> None:
    d = only(validate_text('[{"objectUrl": "https://a.example.com/1.jpg"}]'), "wrong-type")
    assert 'wrap the list' in d.message and d.pointer == ""


def test_no_items() -> None:
    assert validate_text('{"skip_duplicate_urls": true}').codes() == ["no-items"]


def test_create_video_missing_is_a_warning() -> None:
    result = check("create_video_missing.json")
    assert only(result, "create-video").severity == "warning" and result.valid


def test_upsert_metadata_without_skip_has_no_effect() -> None:
    result = validate_text(json.dumps({"images": [{"objectUrl": f"{S3}/1.jpg"}], "upsert_metadata": True}))
    assert only(result, "no-effect").pointer == "/upsert_metadata"


# ---------------------------------------------------------------------------------------------
# URLs.

def test_placeholder_urls_are_not_absolute() -> None:
    path = FIXTURES / "url_placeholder.json"
    result = check(path.name)
    diags = [d for d in result.diagnostics if d.code == "url-not-absolute"]
    assert [(d.line, d.column) for d in diags] == [(3, 19), (4, 19), (5, 19)]
    assert "placeholder" in diags[0].message
    assert "template placeholder" in diags[1].message
    assert "'...'" in diags[2].message
    assert text_at(path, diags[0], 16) == '"<object url_1>"'


@pytest.mark.parametrize("url, words", [
    ("<https://a.example.com/1.jpg>", "wrapped in angle brackets"),
    ("https://a.example.com/1.jpg ", "trailing whitespace"),
    ("file/path/to/images/file-name-01.file-extension", "template placeholder"),
    ("images/1.jpg", "not an absolute URL"),
    ("ftp://a.example.com/1.jpg", "'ftp:' scheme"),
    ("https://bucket/1.jpg", "not a full domain name"),
    ("https://a.example.com/{key}.jpg", "{placeholder}"),
    ("https://a.example.com/a\u200bb.jpg", "U+200B"),
    ("C:\\images\\1.jpg", "backslash"),
    ("", "empty"),
])
def test_bad_urls_are_explained(url: str, words: str) -> None:
    result = validate_text(json.dumps({"images": [{"objectUrl": url}]}))
    assert not result.valid
    assert any(words in d.message for d in result.diagnostics), [d.message for d in result.diagnostics]


def test_url_with_whitespace() -> None:
    d = only(check("url_whitespace.json"), "url-not-absolute")
    assert "space" in d.message and d.pointer == "/images/0/objectUrl"


def test_url_over_16_kb(tmp_path: Path) -> None:
    long_url = f"{S3}/images/" + "a" * (16 * 1024) + ".jpg"
    ok_url = f"{S3}/images/" + "b" * (16 * 1024 - 100) + ".jpg"
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"images": [{"objectUrl": ok_url}, {"objectUrl": long_url}]}))
    d = only(validate_path(path), "url-too-long")
    assert d.pointer == "/images/1/objectUrl" and "16 KB" in d.message


def test_url_over_16_kb_counts_bytes_not_characters() -> None:
    url = f"{S3}/images/" + "é" * 8200 + ".jpg"  # 8,2xx characters, over 16 KB in UTF-8
    assert only(validate_text(json.dumps({"images": [{"objectUrl": url}]})), "url-too-long")


def test_title_over_300_characters() -> None:
    d = only(check("title_too_long.json"), "title-too-long")
    assert d.pointer == "/images/0/title" and "301" in d.message


def test_http_is_a_scheme_warning() -> None:
    result = check("http_scheme.json")
    assert only(result, "url-scheme").severity == "warning" and result.valid


def test_duplicate_urls_warn_and_mention_skip_duplicate_urls() -> None:
    result = check("duplicate_url.json")
    d = only(result, "duplicate-url")
    assert d.severity == "warning" and result.valid
    assert at(d) == (4, 19, "/videos/1/objectUrl")
    assert "skip_duplicate_urls" in d.message and "line 3" in d.message


def test_extension_mismatch() -> None:
    result = check("extension_mismatch.json")
    d = only(result, "extension-mismatch")
    assert d.severity == "warning" and d.pointer == "/images/1/objectUrl" and '"videos"' in d.message


def test_extension_check_handles_query_strings_and_case() -> None:
    text = json.dumps({"images": [{"objectUrl": f"{S3}/a.JPG?X-Amz-Signature=1"},
                                  {"objectUrl": f"{S3}/b.MOV?sig=2"}, {"objectUrl": f"{S3}/c.nii.gz"}]})
    result = validate_text(text)
    assert [d.pointer for d in result.diagnostics if d.code == "extension-mismatch"] == [
        "/images/1/objectUrl", "/images/2/objectUrl"]


@pytest.mark.parametrize("provider, url", [
    ("aws", f"{S3}/x.jpg"),
    ("aws", "https://s3.eu-west-2.amazonaws.com/encord-integration/x.jpg"),
    ("aws", "https://bucket.s3.amazonaws.com/x.jpg"),
    ("aws", "https://arn:aws:s3::123123123:accesspoint/frf28frarf9.mrap.s3-accesspoint.amazonaws.com/V/1.jpg"),
    ("aws", "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/x.jpg"),
    ("gcp", "https://storage.cloud.google.com/encord-image-bucket/x.jpg"),
    ("gcp", "https://storage.googleapis.com/bucket/x.jpg"),
    ("azure", "https://myaccount.blob.core.windows.net/encordcontainer/x.jpg"),
    ("otc", "https://encord-bucket.obs.eu-de.otc.t-systems.com/images/x.jpg"),
    ("wasabi", "https://s3.eu-central-1.wasabisys.com/bucket/x.jpg"),
    ("oracle", "https://objectstorage.eu-frankfurt-1.oraclecloud.com/n/ns/b/bucket/o/x.jpg"),
    ("direct", "https://files.example.com/x.jpg"),
])
def test_provider_forms_accepted(provider: str, url: str) -> None:
    result = validate_text(json.dumps({"images": [{"objectUrl": url}]}), provider=provider)
    assert result.diagnostics == [], [d.message for d in result.diagnostics]


def test_provider_mismatch_is_a_warning_naming_both_providers() -> None:
    result = check("provider_gcp_urls.json", provider="aws")
    diags = [d for d in result.diagnostics if d.code == "provider-mismatch"]
    assert len(diags) == 2 and result.valid
    assert "AWS S3" in diags[0].message and "Google Cloud Storage" in diags[0].message
    assert check("provider_gcp_urls.json", provider="gcp").diagnostics == []


def test_unknown_provider_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        validate_text("{}", provider="dropbox")


# ---------------------------------------------------------------------------------------------
# Groups, sequences, limits.

def test_url_index_gap_points_at_the_first_wrong_key() -> None:
    path = FIXTURES / "url_index_gap.json"
    d = only(check(path.name), "url-index")
    assert at(d) == (8, 7, "/image_groups/0/objectUrl_3")
    assert "objectUrl_2 is missing" in d.message


def test_url_index_must_start_at_zero() -> None:
    d = only(check("url_index_start.json"), "url-index")
    assert "start at objectUrl_1" in d.message


def test_url_index_bare_and_leading_zero_keys() -> None:
    text = json.dumps({"image_groups": [{"title": "g", "createVideo": False, "objectUrl": f"{S3}/0.jpg",
                                         "objectUrl_01": f"{S3}/1.jpg"}]})
    messages = [d.message for d in validate_text(text).diagnostics if d.code == "url-index"]
    assert any('rename "objectUrl" to "objectUrl_0"' in m for m in messages)
    assert any('"objectUrl_1" (no leading zeros)' in m for m in messages)


def _sequence(n: int, create_video: bool = True) -> str:
    group = {"title": "long", "createVideo": create_video}
    group.update({f"objectUrl_{i}": f"{S3}/frames/{i:06d}.jpg" for i in range(n)})
    return json.dumps({"image_groups": [group]})


def test_sequence_over_32767_is_an_error() -> None:
    result = validate_text(_sequence(40_000))
    d = only(result, "sequence-too-long")
    assert d.severity == "error" and "32,767" in d.message and result.urls == 40_000


def test_sequence_over_15000_is_a_warning_and_image_groups_are_not_limited() -> None:
    result = validate_text(_sequence(15_001))
    assert only(result, "sequence-too-long").severity == "warning" and result.valid
    assert validate_text(_sequence(15_001, create_video=False)).diagnostics == []


def test_too_many_items_and_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    from annotrain_tui.core.manifest import rules

    monkeypatch.setattr(rules, "MAX_ITEMS", 3)
    monkeypatch.setattr(rules, "MAX_URLS", 4)
    text = json.dumps({"images": [{"objectUrl": f"{S3}/{i}.jpg"} for i in range(5)]})
    result = validate_text(text)
    assert {"too-many-items", "too-many-urls"} <= set(result.codes())
    assert only(result, "too-many-items").pointer == ""


def test_real_limits_are_the_documented_ones() -> None:
    from annotrain_tui.core.manifest import models

    assert (models.MAX_ITEMS, models.MAX_URLS, models.MAX_TITLE, models.MAX_SEQUENCE) == (
        500_000, 1_000_000, 300, 32_767)


# ---------------------------------------------------------------------------------------------
# Metadata.

def test_metadata_value_type() -> None:
    d = only(check("metadata_type.json"), "metadata-type")
    assert d.pointer == "/images/0/imageMetadata/fileSize" and "remove the quotes" in d.message


def test_metadata_missing_field() -> None:
    d = only(check("metadata_missing.json"), "metadata-missing")
    assert d.pointer == "/pdfs/0/pdfMetadata" and "numPages" in d.message


def test_client_metadata_must_be_an_object() -> None:
    assert only(check("client_metadata_type.json"), "metadata-type").pointer == "/videos/0/clientMetadata"


def test_metadata_accepts_both_spellings_but_not_both_at_once() -> None:
    base = {"objectUrl": f"{S3}/1.pdf", "pdfMetadata": {"file_size": 1, "num_pages": 2}}
    assert validate_text(json.dumps({"pdfs": [base]})).diagnostics == []
    both = {"objectUrl": f"{S3}/1.pdf", "pdfMetadata": {"fileSize": 1, "file_size": 1, "numPages": 2}}
    assert "twice" in only(validate_text(json.dumps({"pdfs": [both]})), "metadata-value").message


def test_metadata_bounds() -> None:
    meta = {"fps": 0, "duration": 1.0, "width": 1, "height": 1, "file_size": 1, "mime_type": "video/mp4"}
    d = only(validate_text(json.dumps({"videos": [{"objectUrl": f"{S3}/1.mp4", "videoMetadata": meta}]})),
             "metadata-value")
    assert d.pointer == "/videos/0/videoMetadata/fps"


# ---------------------------------------------------------------------------------------------
# Robustness.

def test_unreadable_paths_raise(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInput):
        validate_path(tmp_path / "missing.json")
    with pytest.raises(UnreadableInput):
        validate_path(tmp_path)


def test_diagnostics_are_capped_per_code() -> None:
    text = json.dumps({"images": [{"objectUrl": f"<url {i}>"} for i in range(30)]})
    result = validate_text(text, max_per_code=5)
    assert result.codes().count("url-not-absolute") == 5
    more = only(result, "more-diagnostics")
    assert more.severity == "error" and "25 more" in more.message


@pytest.mark.parametrize("text", [
    '{"images": [null, true, 1.5, "x", [], {}]}',
    '{"images": [{"objectUrl": ["https://a.example.com/1.jpg"]}]}',
    '{"image_groups": [{"title": 5, "objectUrl_0": 3, "createVideo": null}]}',
    '{"videos": [{"objectUrl": "https://a.example.com/1.mp4", "videoMetadata": []}]}',
    '{"dicom_series": "nope", "nifti": null, "skip_duplicate_urls": 1}',
    '"just a string"',
    '{"images": [{"objectUrl": "https://a.example.com/\\ud800.jpg"}]}',
])
def test_odd_input_gives_diagnostics_not_exceptions(text: str) -> None:
    result = validate_text(text)
    assert not result.valid
    assert all(isinstance(d.message, str) and d.message for d in result.diagnostics)
