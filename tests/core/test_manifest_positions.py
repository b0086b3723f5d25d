"""Pointer ↔ position mapping and duplicate-key finding on raw JSON text."""

from __future__ import annotations

import json

import pytest

from annotrain_tui.core.manifest.positions import LineIndex, elements, locate, members, parse_pointer, pointer

TEXT = """{
  "images": [
    {"objectUrl": "https://a.example.com/1.jpg"},
    {"objectUrl": "https://a.example.com/2.jpg", "title": "a/b~c"}
  ],
  "a/b": {"~x": [10, 20, {"deep": true}]}
}"""


def test_pointer_round_trip_with_escapes() -> None:
    path = ("a/b", "~x", 2, "deep")
    assert pointer(path) == "/a~1b/~0x/2/deep"
    assert parse_pointer("/a~1b/~0x/2/deep") == path
    assert parse_pointer("") == ()
    assert parse_pointer("/images/01") == ("images", "01")  # not an array index


def test_locate_values_and_keys() -> None:
    index = LineIndex(TEXT)
    spans = locate(TEXT, {("images", 1, "title"), ("a/b", "~x", 2, "deep"), ("images",)}).spans
    title = spans[("images", 1, "title")]
    assert index.position(title.key_start) == (4, 50)
    assert TEXT[title.value_start:title.value_end] == '"a/b~c"'
    deep = spans[("a/b", "~x", 2, "deep")]
    assert TEXT[deep.value_start:deep.value_end] == "true"
    images = spans[("images",)]
    assert json.loads(TEXT[images.value_start:images.value_end])[0]["objectUrl"].endswith("1.jpg")


def test_locate_resolves_repeated_keys_to_the_last_like_json_loads() -> None:
    text = '{"k": [1], "k": [2, 3]}'
    span = locate(text, {("k", 1)}).spans[("k", 1)]
    assert text[span.value_start:span.value_end] == "3"


def test_find_duplicates_everywhere() -> None:
    text = '{"a": 1, "b": {"c": 1, "c": 2}, "a": [ {"d": 0, "d": 0} ]}'
    found = locate(text, (), find_duplicates=True).duplicates
    assert [(d.path, d.key) for d in found] == [(("b",), "c"), ((), "a"), (("a", 0), "d")]
    first = found[1]
    assert text[first.first_offset:first.first_offset + 3] == '"a"' and first.offset > first.first_offset


def test_find_duplicates_costs_nothing_when_there_are_none() -> None:
    assert locate(TEXT, (), find_duplicates=True).duplicates == []


def test_members_and_elements_keep_duplicates_and_order() -> None:
    text = '{"x": 1, "y": {"z": 2}, "x": 3}'
    assert [m[0] for m in members(text, 0)] == ["x", "y", "x"]
    arr = '[1, {"a": [2]}, "s"]'
    assert [arr[s:e] for s, e in elements(arr, 0)] == ["1", '{"a": [2]}', '"s"']


@pytest.mark.parametrize("offsets", [[0], [5, 17, 40], list(range(0, len(TEXT), 3))])
def test_line_index_matches_a_naive_count(offsets: list[int]) -> None:
    index = LineIndex(TEXT)
    got = index.positions(offsets)
    for off in offsets:
        line = TEXT.count("\n", 0, off) + 1
        col = off - (TEXT.rfind("\n", 0, off) + 1) + 1
        assert got[off] == (line, col) == index.position(off)
        assert index.offset(line, col) == off
