"""Every JSON example of the two documentation pages the project starts from.

The docs' examples contain real mistakes (invalid JSON, a repeated "image_groups" key, URLs that
are placeholders or start with '<'). The expectation for each example is derived here
independently of the validator: strict ``json.loads`` with a duplicate-key hook and a plain
``urllib`` check of every URL. Examples that are valid JSON with absolute URLs must pass; the
others must fail with a diagnostic at the right line and column of the page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from annotrain_tui.core.manifest import validate_text

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "manifests" / "seeds"
PAGES = ("register_cloud_data_aws.md", "annotator_training.md")
FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)```json\b(?P<label>.*)$")
FENCE_CLOSE = re.compile(r"^[ \t]*```[ \t]*$")


@dataclass
class Example:
    page: str
    label: str
    first_line: int   # line of the page where the JSON starts (1-based)
    indent: int       # columns removed from every line
    text: str

    def page_position(self, line: int, column: int) -> tuple[int, int]:
        return self.first_line + line - 1, column + self.indent

    def __str__(self) -> str:
        return f"{self.page}:{self.first_line} ({self.label or 'untitled'})"


def extract(page: str) -> list[Example]:
    """Fenced ```json blocks (the docs' <CodeGroup> markup nests them, indented), dedented."""
    lines = (SEEDS / page).read_text(encoding="utf-8").split("\n")
    out: list[Example] = []
    i = 0
    while i < len(lines):
        m = FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        indent = len(m.group("indent"))
        j = i + 1
        while not FENCE_CLOSE.match(lines[j]):
            j += 1
        body = [line[indent:] if line[:indent].strip() == "" else line.lstrip() for line in lines[i + 1:j]]
        label = m.group("label").split("theme=")[0].strip()
        out.append(Example(page, label, i + 2, indent, "\n".join(body)))
        i = j + 1
    return out


EXAMPLES = [e for page in PAGES for e in extract(page)]


def test_the_pages_have_the_expected_number_of_examples() -> None:
    counts = {page: sum(1 for e in EXAMPLES if e.page == page) for page in PAGES}
    assert counts == {"register_cloud_data_aws.md": 21, "annotator_training.md": 78}


def absolute(url: str) -> bool:
    """An independent, simple notion of a usable URL (plus the docs' Multi-Region Access Point form)."""
    if re.match(r"^https://arn:aws:s3::\d+:accesspoint/\S+$", url):
        return True
    parts = urlsplit(url)
    return (parts.scheme == "https" and "." in parts.netloc and not re.search(r"[\s<>]", url)
            and "/.../" not in url)


def urls_of(data: object) -> list[str]:
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key.startswith("objectUrl") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(urls_of(value))
    elif isinstance(data, list):
        for value in data:
            found.extend(urls_of(value))
    return found


def expectation(example: Example) -> tuple[str, object]:
    """('syntax', JSONDecodeError) | ('duplicate', key) | ('urls', [bad urls]) | ('valid', None)."""
    repeated: list[str] = []

    def hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in pairs]
        repeated.extend(k for k in set(keys) if keys.count(k) > 1)
        return dict(pairs)

    try:
        data = json.loads(example.text, object_pairs_hook=hook)
    except json.JSONDecodeError as exc:
        return "syntax", exc
    if repeated:
        return "duplicate", repeated[0]
    bad = [u for u in urls_of(data) if not absolute(u)]
    return ("urls", bad) if bad else ("valid", None)


def char_at(example: Example, line: int, column: int, length: int = 1) -> str:
    row = example.text.split("\n")[line - 1]
    return row[column - 1: column - 1 + length]


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_docs_example(example: Example) -> None:
    kind, detail = expectation(example)
    result = validate_text(example.text)
    errors = result.errors
    if kind == "valid":
        assert result.valid, [d.render(str(example)) for d in errors]
        return
    assert not result.valid
    if kind == "syntax":
        assert isinstance(detail, json.JSONDecodeError)
        (d,) = [d for d in errors if d.code == "json-syntax"]
        if (d.line, d.column) != (detail.lineno, detail.colno):
            # A trailing comma is reported where it is, not where the parser noticed it.
            assert char_at(example, d.line, d.column) == ","
            rest = example.text.split("\n")
            offset = sum(len(r) + 1 for r in rest[: d.line - 1]) + d.column
            assert example.text[offset:].lstrip()[:1] in ("}", "]")
            assert example.text[offset:].lstrip()[:1] == example.text[detail.pos]
    elif kind == "duplicate":
        (d,) = [d for d in errors if d.code == "duplicate-key"]
        assert char_at(example, d.line, d.column, len(detail) + 2) == f'"{detail}"'
        first = example.text.find(f'"{detail}"')
        second = example.text.find(f'"{detail}"', first + 1)
        assert sum(len(r) + 1 for r in example.text.split("\n")[: d.line - 1]) + d.column - 1 == second
    else:
        flagged = [d for d in errors if d.code == "url-not-absolute"]
        assert len(flagged) == len(detail)
        for d, url in zip(flagged, detail, strict=True):
            token = json.dumps(url)
            assert char_at(example, d.line, d.column, len(token)) == token, (d.render(str(example)), url)


def test_hand_checked_positions_on_the_page() -> None:
    """A few places checked by reading the page itself."""
    aws = {e.first_line: e for e in EXAMPLES if e.page == "register_cloud_data_aws.md"}
    # Video template: `"fps": frames-per-second,` is line 130 of the page, the value at column 24.
    d = validate_text(aws[122].text).errors[0]
    assert aws[122].page_position(d.line, d.column) == (130, 24)
    # "Multiple file types": the second "image_groups" key is on line 741, column 7.
    d = validate_text(aws[708].text).errors[0]
    assert d.code == "duplicate-key" and aws[708].page_position(d.line, d.column) == (741, 7)
    # PDF data example: the trailing comma ending page line 283 (a blank line and '}' follow).
    d = validate_text(aws[280].text).errors[0]
    assert d.code == "json-syntax" and aws[280].page_position(d.line, d.column) == (283, 107)
    # Image groups data: "<https://…thing-0002.jpg" on line 546.
    d = validate_text(aws[532].text).errors[0]
    assert d.code == "url-not-absolute" and aws[532].page_position(d.line, d.column)[0] == 546
    assert "angle brackets" in d.message


def test_the_mrap_example_is_accepted_for_aws() -> None:
    mrap = [e for e in EXAMPLES if e.label == "MRAP Example"]
    assert len(mrap) == 2
    for example in mrap:
        assert validate_text(example.text, provider="aws").diagnostics == []
