"""Quick fixes: pure text → text, minimal edits, and which fixes a diagnostic offers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.manifest import (
    fixes_for,
    merge_duplicate_sections,
    remove_duplicate_keys,
    remove_element,
    remove_trailing_commas,
    rename_key,
    renumber_object_urls,
    set_skip_duplicate_urls,
    strip_bom,
    validate_text,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_renumber_keeps_order_and_formatting() -> None:
    text = fixture("url_index_gap.json")
    fixed = renumber_object_urls(text)
    assert validate_text(fixed).diagnostics == []
    assert fixed == text.replace('"objectUrl_3"', '"objectUrl_2"')  # nothing else changes


def test_renumber_orders_by_current_number_and_recovers_repeated_keys() -> None:
    text = ('{"image_groups": [{"title": "g", "createVideo": true, "objectUrl_5": "c", '
            '"objectUrl_2": "b", "objectUrl": "b2", "objectUrl_0": "a", "objectUrl_5": "d"}]}')
    fixed = renumber_object_urls(text)
    group = json.loads(fixed)["image_groups"][0]
    urls = [group[f"objectUrl_{i}"] for i in range(5)]
    assert urls == ["a", "b", "b2", "c", "d"]


def test_renumber_one_item_only() -> None:
    text = json.dumps({"dicom_series": [{"title": "a", "objectUrl_1": "x"}, {"title": "b", "objectUrl_1": "y"}]})
    fixed = renumber_object_urls(text, "/dicom_series/1/objectUrl_1")
    data = json.loads(fixed)["dicom_series"]
    assert "objectUrl_1" in data[0] and "objectUrl_0" in data[1]


def test_renumber_needs_valid_json() -> None:
    with pytest.raises(InvalidInput):
        renumber_object_urls('{"image_groups": [}')


def test_trailing_commas_outside_strings_only() -> None:
    text = '{"a": ["x,]", "y",], "b": {"c": ",}",},}'
    assert remove_trailing_commas(text) == '{"a": ["x,]", "y"], "b": {"c": ",}"}}'


def test_merge_duplicate_sections_keeps_every_item() -> None:
    text = fixture("duplicate_key_sections.json")
    fixed = merge_duplicate_sections(text)
    data = json.loads(fixed)
    assert [g["title"] for g in data["image_groups"]] == ["light", "dark"]
    assert validate_text(fixed).diagnostics == []
    assert fixed.count('"image_groups"') == 1


def test_keep_last_removes_earlier_repeats() -> None:
    text = '{"images": [{"objectUrl": "a", "objectUrl": "https://x.example.com/1.jpg"}], "skip_duplicate_urls": true}'
    fixed = remove_duplicate_keys(text)
    assert json.loads(fixed) == json.loads(text) and fixed.count("objectUrl") == 1


def test_rename_key_and_set_skip_duplicate_urls() -> None:
    text = fixture("unknown_key.json")
    (diag,) = validate_text(text).diagnostics
    fixed = rename_key(text, diag.pointer, "title")
    assert validate_text(fixed).diagnostics == []
    with_flag = set_skip_duplicate_urls(fixed)
    assert json.loads(with_flag)["skip_duplicate_urls"] is True
    assert '\n  "skip_duplicate_urls": true\n}' in with_flag  # indented like its siblings
    assert json.loads(set_skip_duplicate_urls(with_flag, False))["skip_duplicate_urls"] is False


def test_remove_element() -> None:
    text = '[1, 2, 3]'
    assert remove_element('{"a": [1, 2, 3]}', "/a/0") == '{"a": [2, 3]}'
    assert remove_element('{"a": [1, 2, 3]}', "/a/2") == '{"a": [1, 2]}'
    assert remove_element('{"a": [1]}', "/a/0") == '{"a": []}'
    assert text  # pure: inputs untouched


def test_strip_bom() -> None:
    assert strip_bom("\ufeff{}") == "{}" and strip_bom("{}") == "{}"


def _apply_first(text: str, code: str) -> str:
    diag = next(d for d in validate_text(text).diagnostics if d.code == code)
    fixes = fixes_for(diag, text)
    assert fixes, f"no fix for {code}"
    return fixes[0].apply(text)


@pytest.mark.parametrize("name, code", [
    ("json_syntax_trailing_comma.json", "json-syntax"),
    ("duplicate_key_sections.json", "duplicate-key"),
    ("unknown_key.json", "unknown-key"),
    ("unknown_section.json", "unknown-key"),
    ("url_index_gap.json", "url-index"),
    ("url_index_start.json", "url-index"),
    ("metadata_type.json", "metadata-type"),
])
def test_offered_fix_clears_the_diagnostic(name: str, code: str) -> None:
    text = fixture(name)
    fixed = _apply_first(text, code)
    assert code not in validate_text(fixed).codes()


def test_fixes_for_bom_angle_brackets_whitespace_booleans_duplicates() -> None:
    assert _apply_first("\ufeff" + fixture("valid_images.json"), "json-bom") == fixture("valid_images.json")
    text = json.dumps({"images": [{"objectUrl": "<https://a.example.com/1.jpg>"},
                                  {"objectUrl": " https://a.example.com/2.jpg"}]})
    text = _apply_first(text, "url-not-absolute")
    text = _apply_first(text, "url-not-absolute")
    assert validate_text(text).diagnostics == []
    fixed = _apply_first(fixture("wrong_type.json"), "wrong-type")
    assert json.loads(fixed)["image_groups"][0]["createVideo"] is True
    dup = fixture("duplicate_url.json")
    diag = next(d for d in validate_text(dup).diagnostics if d.code == "duplicate-url")
    ids = [f.id for f in fixes_for(diag, dup)]
    assert ids == ["remove-entry", "skip-duplicate-urls"]
    assert validate_text(fixes_for(diag, dup)[0].apply(dup)).diagnostics == []


def test_no_fix_is_offered_when_it_would_not_apply() -> None:
    text = json.dumps({"images": [{"objectUrl": "<object url>"}]})
    (diag,) = validate_text(text).diagnostics
    assert fixes_for(diag, text) == []
    unknown = json.dumps({"images": [{"objectUrl": "https://a.example.com/1.jpg"}], "scenes": []})
    (diag,) = validate_text(unknown).diagnostics
    assert fixes_for(diag, unknown) == []  # no suggestion, nothing to rename to
