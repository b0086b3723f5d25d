"""Quick fixes: pure text → text edits the manifest editor offers for a diagnostic.

Every fix rewrites only the characters it has to (keys, one value, a comma) and leaves the rest
of the author's formatting alone. Fixes that need the document structure require valid JSON and
raise InvalidInput otherwise; ``fixes_for`` only offers a fix that applies to the diagnostic.
"""

from __future__ import annotations

import json
import json.decoder
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.jsonread import JsonProblem, loads
from annotrain_tui.core.manifest.diagnostics import Diagnostic
from annotrain_tui.core.manifest.models import GROUP_SECTIONS, SECTIONS
from annotrain_tui.core.manifest.positions import (
    Path,
    elements,
    locate,
    members,
    parse_pointer,
)
from annotrain_tui.core.manifest.urls import ABSOLUTE_URL_RE

_WS = re.compile(r"[ \t\n\r]*")
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring


@dataclass(frozen=True)
class Fix:
    """One available fix: ``apply(text)`` returns the fixed text."""

    id: str
    title: str
    apply: Callable[[str], str]


# ---------------------------------------------------------------------------------------------
# Helpers.

def _parse(text: str) -> None:
    try:
        loads(text)
    except JsonProblem as exc:
        raise InvalidInput("this fix needs valid JSON: fix the syntax error first") from exc


def _root(text: str) -> int:
    start = len(text) - len(text.lstrip(" \t\n\r"))
    if text[start:start + 1] != "{":
        raise InvalidInput("this fix needs a manifest whose top level is a JSON object")
    return start


def _edit(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply (start, end, replacement) edits; they must not overlap."""
    out = text
    for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
        out = out[:start] + new + out[end:]
    return out


def _span(text: str, ptr: str) -> tuple[Path, Any]:
    path = parse_pointer(ptr)
    spans = locate(text, {path}).spans
    if path not in spans:
        raise InvalidInput(f"nothing at {ptr} in this text")
    return path, spans[path]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Fixes.

def strip_bom(text: str) -> str:
    """Remove a leading byte order mark."""
    return text[1:] if text.startswith("\ufeff") else text


_TRAILING = re.compile(r'"(?:[^"\\]|\\.)*"|,(\s*[}\]])', re.DOTALL)


def remove_trailing_commas(text: str) -> str:
    """Remove commas directly before '}' or ']' (outside strings)."""
    return _TRAILING.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(0), text)


_URL_KEY = re.compile(r"objectUrl(?:_(\d+))?$|objectUrl_.*", re.DOTALL)


def renumber_object_urls(text: str, ptr: str | None = None) -> str:
    """Renumber the objectUrl_N keys of every image group / DICOM series to 0 … n-1.

    Keeps the files' order: by their current number, and in document order for equal numbers
    (a repeated key) or unnumbered keys (``objectUrl`` stays after the key before it). With
    ``ptr`` (a pointer into one item) only that item is renumbered.
    """
    _parse(text)
    only: Path | None = parse_pointer(ptr)[:2] if ptr else None
    root = _root(text)
    edits: list[tuple[int, int, str]] = []
    for key, _, _, value_start, _ in members(text, root):
        if key not in GROUP_SECTIONS or text[value_start] != "[":
            continue
        for i, (el_start, _) in enumerate(elements(text, value_start)):
            if only is not None and only != (key, i):
                continue
            if text[el_start] != "{":
                continue
            found: list[tuple[float, int, int, int]] = []  # (number, doc index, key start, key end)
            last = -1.0
            for doc_index, (k, k_start, k_end, _, _) in enumerate(members(text, el_start)):
                m = _URL_KEY.fullmatch(k)
                if not m:
                    continue
                digits = re.fullmatch(r"objectUrl_([0-9]{1,300})", k)  # ASCII digits; int() of 300 is cheap
                number = float(int(digits.group(1))) if digits else last + 0.5
                last = number if digits else last
                found.append((number, doc_index, k_start, k_end))
            for new_index, (_, _, k_start, k_end) in enumerate(sorted(found)):
                new_key = f'"objectUrl_{new_index}"'
                if text[k_start:k_end] != new_key:
                    edits.append((k_start, k_end, new_key))
    return _edit(text, edits)


def rename_key(text: str, ptr: str, new_key: str) -> str:
    """Rename the key the pointer ends with (e.g. a typo: /images/0/titel → title)."""
    _parse(text)
    _, span = _span(text, ptr)
    if span.key_start is None:
        raise InvalidInput(f"{ptr} is not an object member")
    _, key_end = _scanstring(text, span.key_start + 1)
    return _edit(text, [(span.key_start, key_end, _dumps(new_key))])


def replace_value(text: str, ptr: str, value: Any) -> str:
    """Replace the value at the pointer with ``value`` (written as compact JSON)."""
    _parse(text)
    _, span = _span(text, ptr)
    return _edit(text, [(span.value_start, span.value_end, _dumps(value))])


def _string_at(text: str, ptr: str) -> tuple[Any, str]:
    _parse(text)
    _, span = _span(text, ptr)
    value = json.loads(text[span.value_start:span.value_end])
    if not isinstance(value, str):
        raise InvalidInput(f"the value at {ptr} is not a string")
    return span, value


def trim_url(text: str, ptr: str) -> str:
    """Remove whitespace around the URL at the pointer."""
    span, value = _string_at(text, ptr)
    return _edit(text, [(span.value_start, span.value_end, _dumps(value.strip()))])


def strip_angle_brackets(text: str, ptr: str) -> str:
    """``"<https://…>"`` or ``"<https://…"`` → ``"https://…"``."""
    span, value = _string_at(text, ptr)
    return _edit(text, [(span.value_start, span.value_end, _dumps(value.strip().strip("<>").strip()))])


def set_boolean(text: str, ptr: str) -> str:
    """``"true"`` / ``"false"`` (a string) at the pointer → the JSON boolean."""
    span, value = _string_at(text, ptr)
    low = value.strip().lower()
    if low not in ("true", "false"):
        raise InvalidInput(f"the value at {ptr} is not 'true' or 'false'")
    return _edit(text, [(span.value_start, span.value_end, low)])


def unquote_number(text: str, ptr: str) -> str:
    """``"1280"`` (a string) at the pointer → ``1280``."""
    span, value = _string_at(text, ptr)
    try:
        number: int | float = int(value.strip())
    except ValueError:
        try:
            number = float(value.strip())
        except ValueError:
            raise InvalidInput(f"the value at {ptr} is not a number") from None
    return _edit(text, [(span.value_start, span.value_end, _dumps(number))])


def set_skip_duplicate_urls(text: str, value: bool = True) -> str:
    """Set ``"skip_duplicate_urls"`` at the top level (added after the last member when absent)."""
    _parse(text)
    root = _root(text)
    found = [m for m in members(text, root) if m[0] == "skip_duplicate_urls"]
    literal = "true" if value else "false"
    if found:
        return _edit(text, [(m[3], m[4], literal) for m in found])
    all_members = members(text, root)
    if not all_members:
        return _edit(text, [(root + 1, root + 1, f'"skip_duplicate_urls": {literal}')])
    last = all_members[-1]
    indent = _indent_of(text, last[1])
    return _edit(text, [(last[4], last[4], f',\n{indent}"skip_duplicate_urls": {literal}' if indent is not None
                         else f', "skip_duplicate_urls": {literal}')])


def _indent_of(text: str, offset: int) -> str | None:
    """The indentation of the line at ``offset`` when only whitespace precedes it, else None."""
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    return prefix if prefix.strip() == "" and line_start > 0 else None


def remove_element(text: str, ptr: str) -> str:
    """Remove one array element (e.g. a repeated entry), with the comma that separates it."""
    _parse(text)
    path = parse_pointer(ptr)
    if not path or not isinstance(path[-1], int):
        raise InvalidInput(f"{ptr} is not an array element")
    parent = path[:-1]
    spans = locate(text, {parent}).spans
    if parent not in spans:
        raise InvalidInput(f"nothing at {ptr} in this text")
    items = elements(text, spans[parent].value_start)
    i = path[-1]
    if i >= len(items):
        raise InvalidInput(f"nothing at {ptr} in this text")
    start, end = items[i]
    if i > 0:
        start = items[i - 1][1]                         # from the end of the previous element
    elif len(items) > 1:
        end = items[1][0]                               # up to the next element
    else:
        start = spans[parent].value_start + 1
        end = spans[parent].value_end - 1
    return _edit(text, [(start, end, "")])


def remove_duplicate_keys(text: str) -> str:
    """Keep only the last of repeated keys in every object (what json.loads reads anyway)."""
    _parse(text)
    located = locate(text, (), find_duplicates=True)
    if not located.duplicates:
        return text
    edits: list[tuple[int, int, str]] = []
    objects = {d.path for d in located.duplicates}
    spans = locate(text, objects).spans
    for path in objects:
        span = spans[path]
        ms = members(text, span.value_start)
        last_of: dict[str, int] = {}
        for index, m in enumerate(ms):
            last_of[m[0]] = index
        for index, m in enumerate(ms):
            if last_of[m[0]] == index:
                continue
            # remove this member and the comma after it
            edits.append((m[1], ms[index + 1][1], ""))
    return _edit(text, edits)


def merge_duplicate_sections(text: str) -> str:
    """Merge repeated top-level section arrays (two "image_groups" …) into the first one."""
    _parse(text)
    root = _root(text)
    ms = members(text, root)
    by_key: dict[str, list[int]] = {}
    for index, m in enumerate(ms):
        by_key.setdefault(m[0], []).append(index)
    edits: list[tuple[int, int, str]] = []
    for key, indices in by_key.items():
        if key not in SECTIONS or len(indices) < 2:
            continue
        if any(text[ms[i][3]] != "[" for i in indices):
            continue
        first = ms[indices[0]]
        first_elements = elements(text, first[3])
        moved: list[str] = []
        for i in indices[1:]:
            moved.extend(text[s:e] for s, e in elements(text, ms[i][3]))
            edits.append((ms[i - 1][4], ms[i][4], ""))  # drop ', "key": [...]'
        if not moved:
            continue
        if first_elements:
            last_start, last_end = first_elements[-1]
            indent = _indent_of(text, last_start)
            sep = f",\n{indent}" if indent is not None else ", "
            edits.append((last_end, last_end, sep + sep.join(moved)))
        else:
            edits.append((first[3] + 1, first[3] + 1, ", ".join(moved)))
    # The removal ranges end where a later insertion may start only if adjacent members are both
    # duplicates; _edit applies from the end, so non-overlapping ranges are enough.
    return _edit(text, edits)


# ---------------------------------------------------------------------------------------------
# Which fixes apply to a diagnostic.

def fixes_for(diagnostic: Diagnostic, text: str | None = None) -> list[Fix]:
    """The fixes the editor can offer for ``diagnostic`` (JSON manifests; none for CSV)."""
    code, ptr, data = diagnostic.code, diagnostic.pointer, diagnostic.data or {}
    out: list[Fix] = []
    if code == "json-bom":
        out.append(Fix("strip-bom", "Remove the byte order mark", strip_bom))
    elif code == "json-syntax" and "trailing comma" in diagnostic.message:
        out.append(Fix("remove-trailing-commas", "Remove trailing commas", remove_trailing_commas))
    elif code == "url-index":
        item = ptr
        out.append(Fix("renumber-object-urls", "Renumber objectUrl_N keys 0…n-1 in this item",
                       partial(renumber_object_urls, ptr=item)))
        out.append(Fix("renumber-all-object-urls", "Renumber objectUrl_N keys in every item", renumber_object_urls))
    elif code == "duplicate-key" and ptr is not None:
        path = parse_pointer(ptr)
        key = data.get("key", path[-1] if path else "")
        if len(path) == 1 and key in SECTIONS:
            out.append(Fix("merge-sections", f'Merge the repeated "{key}" arrays', merge_duplicate_sections))
        elif len(path) == 3 and path[0] in GROUP_SECTIONS and str(key).startswith("objectUrl"):
            out.append(Fix("renumber-object-urls", "Renumber objectUrl_N keys (keeps both URLs)",
                           partial(renumber_object_urls, ptr=ptr)))
        out.append(Fix("keep-last", "Keep only the last of repeated keys", remove_duplicate_keys))
    elif code == "unknown-key" and ptr and data.get("suggestion"):
        new = data["suggestion"]
        out.append(Fix("rename-key", f'Rename to "{new}"', partial(rename_key, ptr=ptr, new_key=new)))
    elif code == "url-not-absolute" and ptr:
        url = data.get("url")
        if isinstance(url, str):
            if url != url.strip():
                out.append(Fix("trim-url", "Remove the whitespace around the URL", partial(trim_url, ptr=ptr)))
            inner = url.strip().strip("<>").strip()
            if inner != url.strip() and ABSOLUTE_URL_RE.fullmatch(inner):
                out.append(Fix("strip-angle-brackets", "Remove the angle brackets",
                               partial(strip_angle_brackets, ptr=ptr)))
    elif code == "duplicate-url" and ptr:
        path = parse_pointer(ptr)
        if len(path) == 3 and path[0] not in GROUP_SECTIONS and isinstance(path[1], int):
            item_ptr = "/" + "/".join(str(p) for p in path[:2])
            out.append(Fix("remove-entry", "Remove this repeated entry", partial(remove_element, ptr=item_ptr)))
        out.append(Fix("skip-duplicate-urls", 'Set "skip_duplicate_urls": true', set_skip_duplicate_urls))
    elif code == "wrong-type" and ptr and (ptr.endswith("/createVideo") or ptr in ("/skip_duplicate_urls",
                                                                                   "/upsert_metadata")):
        if "a string" in diagnostic.message:
            out.append(Fix("to-boolean", "Write it as a JSON boolean", partial(set_boolean, ptr=ptr)))
    elif code == "metadata-type" and ptr and "remove the quotes" in diagnostic.message:
        out.append(Fix("to-number", "Write it as a number", partial(unquote_number, ptr=ptr)))
    if text is not None:
        out = [f for f in out if _applies(f, text)]
    return out


def _applies(fix: Fix, text: str) -> bool:
    try:
        return fix.apply(text) != text
    except InvalidInput:
        return False
