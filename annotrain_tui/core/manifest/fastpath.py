"""Validate's fast path for the common big file: one plain section read by a typed decoder.

A manifest of half a million ``{"objectUrl": …, "title": …}`` items spends most of its time
building and freeing dicts that the rules only read two strings from. Here msgspec decodes such a
file straight into small structs (a third of ``json.loads``' time), the same rules run over the URL
and title lists (:func:`.rules.check_plain_section`), and positions are found in the text only
for what is reported, exactly as on the reference path.

Anything unusual is left to the reference path (``validate._validate_json``), which says what is
wrong and where: a decode error of any kind (syntax, a wrong type, an unknown key, a missing URL, a
``null`` title), a byte order mark, a ``\\u`` escape (a lone surrogate is reported there), more than
one section or none, an empty section, a title over the limit, two equal titles, and a key count
that does not add up (a repeated key). The result is then the reference path's, diagnostic for
diagnostic (tests/core/test_manifest_fastpath.py compares the two on generated files).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from itertools import islice
from operator import attrgetter, is_not
from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType

from annotrain_tui.core.manifest.collector import Collector
from annotrain_tui.core.manifest.diagnostics import Diagnostic, ValidationResult
from annotrain_tui.core.manifest.positions import LineIndex, Path
from annotrain_tui.core.manifest.rules import check_plain_section
from annotrain_tui.core.manifest.spec import MAX_TITLE, SINGLE_SECTIONS, TOP_LEVEL_FLAGS


class _Item(Struct, forbid_unknown_fields=True, gc=False):
    objectUrl: str  # noqa: N815 - the JSON key
    title: str | UnsetType = UNSET


_Section = list[_Item] | UnsetType


class _Manifest(Struct, forbid_unknown_fields=True, gc=False):
    videos: _Section = UNSET
    audio: _Section = UNSET
    pdfs: _Section = UNSET
    text: _Section = UNSET
    images: _Section = UNSET
    nifti: _Section = UNSET
    skip_duplicate_urls: bool | UnsetType = UNSET
    upsert_metadata: bool | UnsetType = UNSET


assert tuple(_Manifest.__struct_fields__) == SINGLE_SECTIONS + TOP_LEVEL_FLAGS

_decoder = msgspec.json.Decoder(_Manifest)
_url = attrgetter("objectUrl")
_title = attrgetter("title")
_is_set = partial(is_not, UNSET)


def validate_plain(raw: bytes, *, path: str | None, provider: str | None,
                   max_per_code: int | None) -> ValidationResult | None:
    """The result for a plain manifest, or None: then only the reference path can say."""
    # b"\\" first: a one-byte search (memchr) is ten times quicker than a two-byte one
    verbatim = b"\\" not in raw  # then every string is its text as written
    if raw.startswith(b"\xef\xbb\xbf") or (not verbatim and b"\\u" in raw):
        return None
    try:
        doc = _decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    present = [(name, getattr(doc, name)) for name in SINGLE_SECTIONS if getattr(doc, name) is not UNSET]
    if len(present) != 1 or not present[0][1]:
        return None
    name, entries = present[0]
    flags: dict[str, Any] = {f: getattr(doc, f) for f in TOP_LEVEL_FLAGS if getattr(doc, f) is not UNSET}
    urls: list[str] = list(map(_url, entries))
    titles: list[str] = list(filter(_is_set, map(_title, entries)))
    if titles:
        if max(map(len, titles)) > MAX_TITLE:
            return None
        given = list(filter(None, titles))
        if len(set(given)) != len(given):
            return None
    # A repeated key (json.loads and msgspec keep the last silently) shows in a count over the text:
    # without a backslash every '"' opens or closes one of the strings decoded (each key, URL and
    # title), and otherwise every ':' is a key's or one inside a string.
    if verbatim and raw.count(b'"') != 2 * (1 + len(flags) + 2 * len(urls) + 2 * len(titles)):
        return None  # the reference path finds and locates it
    col = Collector(max_per_code)
    result = ValidationResult(path=path, format="json")
    balance = check_plain_section(name, entries, urls, titles, flags, col, provider=provider, result=result,
                                  verbatim=verbatim)
    if not verbatim and raw.count(b":") != balance:
        return None
    needs_text = any(p.path is not None or p.offset is not None for p in col.pending)
    if not needs_text:
        result.diagnostics = col.finish(None)
        return result
    text = raw.decode("utf-8-sig", "surrogatepass")
    resolver = _url_resolver(text, name, col) if verbatim else None
    diagnostics: list[Diagnostic] = (col.finish(text) if resolver is None else
                                     col.finish(None, resolver=resolver))
    result.diagnostics = diagnostics
    return result


_URL_KEY = re.compile(r'"objectUrl"[ \t\n\r]*:[ \t\n\r]*')


def _url_resolver(text: str, section: str, col: Collector) -> Callable[[Path, bool], tuple[int, int] | None] | None:
    """Positions of the items' objectUrl keys and values, found by a text search rather than a walk.

    Only for a text without a backslash: then no string holds a quote, so ``"objectUrl"`` followed
    by a colon is a key, and (the decoder took every item, each with one objectUrl, and the keys
    added up) the n-th such key is item n's. None when a diagnostic points anywhere else (the walk
    of ``Collector.finish`` then finds it).
    """
    wanted: set[int] = set()
    for p in col.pending:
        for path in (p.path, p.related):
            if path is None:
                continue
            if len(path) != 3 or path[0] != section or path[2] != "objectUrl" or type(path[1]) is not int:
                return None
            wanted.add(path[1])
    if any(p.offset is not None for p in col.pending):
        return None
    spans: dict[int, tuple[int, int]] = {}  # item -> (key offset, value offset)
    found = _URL_KEY.finditer(text)
    at = -1
    for n in sorted(wanted):
        m = next(islice(found, n - at - 1, None), None)
        if m is None:  # pragma: no cover - the decoder saw this item
            return None
        spans[n] = (m.start(), m.end())
        at = n
    positions = LineIndex(text).positions([o for pair in spans.values() for o in pair])
    if any(positions[key][0] != positions[value][0] for key, value in spans.values()):
        return None  # a "{related}" line is the key's, a diagnostic's the value's: the walk tells them apart

    def resolve(path: Path, at_key: bool) -> tuple[int, int] | None:
        key, value = spans[int(path[1])]
        return positions[key if at_key else value]

    return resolve
