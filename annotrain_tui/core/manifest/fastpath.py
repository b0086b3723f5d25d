"""Validate's fast path for the common big file: one plain section read by a typed decoder.

A manifest of half a million ``{"objectUrl": …, "title": …}`` items spends most of its time
building and freeing dicts that the rules only read two strings from. Here msgspec decodes such a
file straight into small structs (a third of ``json.loads``' time), the same rules run over the URL
and title lists (:func:`.rules.check_plain_section`), and positions are found in the text only
for what is reported, exactly as on the reference path.

The common file has no backslash, so every string is its text as written: one count of '"' then
proves no key was repeated, and the URL rules need no copy of the text to find forbidden
characters. A listing is sorted: a strictly ordered URL list has no repeat and, when its first and
last URL share a host, that host throughout (rules.py). Positions in an ASCII file are found in its
bytes: each reported URL searched for as the quoted string it is, its item proven by the keys
counted before it.

Anything unusual is left to the reference path (``validate._validate_json``), which says what is
wrong and where: a decode error of any kind (syntax, a wrong type, an unknown key, a missing URL, a
``null`` title), a byte order mark, a ``\\u`` escape (a lone surrogate is reported there), more than
one section or none, an empty section, a title over the limit, two equal titles, and a key count
that does not add up (a repeated key). The result is then the reference path's, diagnostic for
diagnostic (tests/core/test_manifest_fastpath.py and test_manifest_fastpath_mixed.py compare the
two on generated files).
"""

from __future__ import annotations

import codecs
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
    if raw.startswith(codecs.BOM_UTF8) or (not verbatim and b"\\u" in raw):
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
    if verbatim and raw.isascii():
        resolver = _ascii_url_resolver(raw, urls, titles, name, col)
        if resolver is not None:
            result.diagnostics = col.finish(None, resolver=resolver)
            return result
    text = raw.decode("utf-8-sig", "surrogatepass")
    resolver = _url_resolver(text, name, col) if verbatim else None
    diagnostics: list[Diagnostic] = (col.finish(text) if resolver is None else
                                     col.finish(None, resolver=resolver))
    result.diagnostics = diagnostics
    return result


_URL_KEY = re.compile(r'"objectUrl"[ \t\n\r]*:[ \t\n\r]*')
_URL_KEY_BYTES = re.compile(rb'"objectUrl"[ \t\n\r]*:[ \t\n\r]*')
_KEY = b'"objectUrl"'
Resolver = Callable[[Path, bool], tuple[int, int] | None]


def _wanted_items(section: str, col: Collector) -> set[int] | None:
    """The items whose objectUrl the diagnostics point at, or None when one points anywhere else."""
    wanted: set[int] = set()
    for p in col.pending:
        if p.offset is not None:
            return None
        for path in (p.path, p.related):
            if path is None:
                continue
            if len(path) != 3 or path[0] != section or path[2] != "objectUrl" or type(path[1]) is not int:
                return None
            wanted.add(path[1])
    return wanted


def _url_resolver(text: str, section: str, col: Collector) -> Resolver | None:
    """Positions of the items' objectUrl keys and values, found by a text search rather than a walk.

    Only for a text without a backslash: then no string holds a quote, so ``"objectUrl"`` followed
    by a colon is a key, and (the decoder took every item, each with one objectUrl, and the keys
    added up) the n-th such key is item n's. None when a diagnostic points anywhere else (the walk
    of ``Collector.finish`` then finds it).
    """
    wanted = _wanted_items(section, col)
    if wanted is None:
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
    return _resolver(spans, positions)


def _resolver(spans: dict[int, tuple[int, int]], positions: dict[int, tuple[int, int]]) -> Resolver | None:
    if any(positions[key][0] != positions[value][0] for key, value in spans.values()):
        return None  # a "{related}" line is the key's, a diagnostic's the value's: the walk tells them apart

    def resolve(path: Path, at_key: bool) -> tuple[int, int] | None:
        key, value = spans[int(path[1])]
        return positions[key if at_key else value]

    return resolve


def _ascii_url_resolver(raw: bytes, urls: list[str], titles: list[str], section: str,
                        col: Collector) -> Resolver | None:
    """:func:`_url_resolver` in the bytes of an ASCII file without a backslash (byte offsets are then
    character offsets): no decoded copy of the text, no regex over all of it.

    Each wanted item's value is found as the quoted string it is (``"https://…"``), and which item
    it belongs to is proven by counting the ``"objectUrl"`` keys before it: every such string in the
    text is a key, unless a URL or a title is "objectUrl" itself (then None). An earlier copy of the
    same string (a repeated URL, a title) is passed over.
    """
    wanted = _wanted_items(section, col)
    if wanted is None or "objectUrl" in urls or "objectUrl" in titles:
        return None
    spans: dict[int, tuple[int, int]] = {}  # item -> (key offset, value offset)
    pos = seen = 0  # seen: the keys before pos
    budget = 4 * len(wanted) + 64  # copies of a wanted string passed over, in all
    for i in sorted(wanted):
        needle = b'"' + urls[i].encode("ascii") + b'"'
        value = raw.find(needle, pos)
        while True:
            budget -= 1
            if value < 0 or budget < 0:
                return None
            key = raw.rfind(_KEY, pos, value)
            if key >= 0:
                item = seen + raw.count(_KEY, pos, key)  # the item whose key is at ``key``
                if item > i:  # pragma: no cover - item i's value follows its key
                    return None
                if item == i and _URL_KEY_BYTES.fullmatch(raw, key, value):
                    break
                pos, seen = key, item
            value = raw.find(needle, value + 1)
        spans[i] = (key, value)
        pos, seen = key, i
    positions: dict[int, tuple[int, int]] = {}
    line, at = 1, 0
    for offset in sorted({o for pair in spans.values() for o in pair}):
        line += raw.count(b"\n", at, offset)
        at = offset
        positions[offset] = (line, offset - raw.rfind(b"\n", 0, offset))
    return _resolver(spans, positions)
