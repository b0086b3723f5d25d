"""Quick fixes are chosen from a diagnostic's code and ``data``, never from its message's words
(issue 13, item 5): rewording a message keeps its fix, and the codes are a typed set."""

from __future__ import annotations

import inspect
import re
from typing import get_args

import pytest

from annotrain_tui.core.manifest import fixes as fixes_module
from annotrain_tui.core.manifest import validate_text
from annotrain_tui.core.manifest.diagnostics import CODES, Code, Diagnostic, FixKind
from annotrain_tui.core.manifest.fixes import fixes_for

H = "https://bucket.s3.eu-west-2.amazonaws.com"

# One manifest per repair the validator names in data["fix"]: (text, format, code, fix ids offered).
CASES: dict[str, tuple[str, str, str, list[str]]] = {
    "trailing-comma": ('{"images": [{"objectUrl": "%s/a.jpg"},]}' % H, "json", "json-syntax",
                       ["remove-trailing-commas"]),
    "trim-url": ('{"images": [{"objectUrl": " %s/a.jpg "}]}' % H, "json", "url-not-absolute", ["trim-url"]),
    "angle-brackets": ('{"images": [{"objectUrl": "<%s/a.jpg>"}]}' % H, "json", "url-not-absolute",
                       ["strip-angle-brackets"]),
    "percent-encode": ('{"images": [{"objectUrl": "%s/my photo.jpg"}]}' % H, "json", "url-not-absolute",
                       ["percent-encode-url"]),
    "extra-cells": ("ObjectUrl,Image title\n%s/a.jpg,a,b\n" % H, "csv", "csv-row",
                    ["join-extra-cells", "drop-extra-cells"]),
    "unquote-number": ('{"images": [{"objectUrl": "%s/a.jpg", "imageMetadata": {"mimeType": "image/jpeg", '
                       '"width": "1280", "height": 720, "fileSize": 10}}]}' % H, "json", "metadata-type",
                       ["to-number"]),
    "unquote-boolean": ('{"skip_duplicate_urls": "true", "images": [{"objectUrl": "%s/a.jpg"}]}' % H, "json",
                        "wrong-type", ["to-boolean"]),
}


def _diagnostic(kind: str) -> tuple[Diagnostic, str, str, list[str]]:
    text, fmt, code, expected = CASES[kind]
    found = [d for d in validate_text(text, format=fmt).diagnostics if d.code == code]
    assert len(found) == 1, found
    return found[0], text, fmt, expected


def test_every_fix_kind_has_a_case() -> None:
    assert set(CASES) == set(get_args(FixKind))


@pytest.mark.parametrize("kind", sorted(CASES))
def test_the_validator_names_the_repair_and_the_fix_follows_it(kind: str) -> None:
    d, text, fmt, expected = _diagnostic(kind)
    assert (d.data or {}).get("fix") == kind
    assert [f.id for f in fixes_for(d, text, format=fmt)] == expected
    fixed = fixes_for(d, text, format=fmt)[0].apply(text)
    assert code_left(fixed, fmt, d.code) < code_left(text, fmt, d.code)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_rewording_the_message_keeps_the_fix(kind: str) -> None:
    d, text, fmt, expected = _diagnostic(kind)
    reworded = d.model_copy(update={"message": "Ceci n'est pas un message (no English keyword left)."})
    assert [f.id for f in fixes_for(reworded, text, format=fmt)] == expected


@pytest.mark.parametrize("kind", sorted(CASES))
def test_the_same_words_without_the_data_offer_no_such_fix(kind: str) -> None:
    """The message alone (what the fixes matched before) no longer triggers anything."""
    d, text, fmt, expected = _diagnostic(kind)
    data = {k: v for k, v in (d.data or {}).items() if k != "fix"} or None
    bare = d.model_copy(update={"data": data})
    assert not set(expected) & {f.id for f in fixes_for(bare, text, format=fmt)}


def test_fixes_never_read_the_message() -> None:
    source = inspect.getsource(fixes_module)
    assert not re.search(r"\.message\b", source), "fixes.py must choose fixes from code and data, not the message"


def test_codes_are_a_typed_set_equal_to_the_documented_codes() -> None:
    assert set(get_args(Code)) == set(CODES)
    with pytest.raises(ValueError):
        Diagnostic(severity="error", code="json-sintax", message="a typo")  # type: ignore[arg-type]


def test_a_repeated_key_offers_keeping_the_first_or_the_last() -> None:
    text = '{"images": [{"objectUrl": "%s/a.jpg", "title": "one", "title": "two"}]}' % H
    d = next(d for d in validate_text(text).diagnostics if d.code == "duplicate-key")
    offered = {f.id: f for f in fixes_for(d, text)}
    assert {"keep-copy-1", "keep-copy-2"} <= set(offered)
    assert '"title": "one"' in offered["keep-copy-1"].apply(text)
    assert '"two"' not in offered["keep-copy-1"].apply(text)
    assert '"one"' not in offered["keep-copy-2"].apply(text)


def code_left(text: str, fmt: str, code: str) -> int:
    return sum(d.code == code for d in validate_text(text, format=fmt).diagnostics)


def test_every_code_the_sources_compare_with_is_a_real_code() -> None:
    """mypy runs without strict equality, so ``code == "trailing-coma"`` would type-check: every
    quoted code compared with, or tested for membership in a set of codes, must be in CODES."""
    from pathlib import Path

    root = Path(fixes_module.__file__).resolve().parents[2]
    compared = re.compile(r"""\bcode\s*(?:==|!=)\s*["']([a-z0-9-]+)["']""")
    quoted_codes = re.compile(r"""(?:_CODES|codes?)\s*=\s*frozenset\(\{([^}]*)\}""")
    found: dict[str, str] = {}
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for code in compared.findall(text):
            found.setdefault(code, str(path.relative_to(root)))
        for group in quoted_codes.findall(text):
            for code in re.findall(r"""["']([a-z0-9-]+)["']""", group):
                found.setdefault(code, str(path.relative_to(root)))
    assert len(found) >= 10  # the scan sees the comparisons
    unknown = {code: where for code, where in found.items() if code not in CODES}
    assert not unknown, f"codes compared with but not in CODES: {unknown}"
