"""The rules, applied to a parsed manifest (the JSON form; a CSV is converted to it first).

Speed matters: a manifest may list half a million files. Sections of plain items (objectUrl and
an optional title, the common case) are checked with whole-list operations that run in C
(``set().union``, ``map``, ``str.join``, ``bytes.translate``, ``str.count``); scheme, host and
provider form are decided once per distinct host, extensions once per distinct extension (a
strictly ordered list, as a listing is, proves its one host and the absence of repeats by one
comparison per pair instead of a count over the text and a set of every URL). Any
section that is not plain goes through pydantic-core (TypedDicts), which reports exactly what
is wrong and where. Python only loops over items that are known to be wrong.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial
from itertools import chain, compress, islice, repeat
from operator import gt, is_not, itemgetter, lt, not_
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from annotrain_tui.core.manifest.collector import Collector
from annotrain_tui.core.manifest.diagnostics import OVER_THE_LIMITS, Code, ValidationResult, fix_data
from annotrain_tui.core.manifest.positions import Path, pointer
from annotrain_tui.core.manifest.spec import (
    GROUP_SECTIONS,
    ITEM_KEYS,
    MAX_EXACT_FLOAT_INT,
    MAX_FILE_NAME,
    MAX_INT64,
    MAX_ITEMS,
    MAX_SEQUENCE,
    MAX_TITLE,
    MAX_URLS,
    METADATA_FIELDS,
    METADATA_KEY,
    OBJECT_URL_N,
    RECOMMENDED_IMAGES_PER_UPLOAD,
    RECOMMENDED_SEQUENCE,
    RECOMMENDED_VIDEOS_PER_UPLOAD,
    SECTION_BY_KIND,
    SECTION_KIND,
    SECTIONS,
    SINGLE_SECTIONS,
    TOP_LEVEL_FLAGS,
    TOP_LEVEL_KEYS,
    metadata_aliases,
)
from annotrain_tui.core.manifest.urls import (
    ABSOLUTE_URL_RE,
    FORBIDDEN_RE,
    KIND_BY_EXTENSION,
    MAX_URL_BYTES,
    MIME_EXAMPLES,
    MRAP_OBJECT_PATTERN,
    URL_OK_BYTES,
    explain_url,
    extension,
    foreign_extensions,
    host_key,
    is_mrap_key,
    is_prefix_key,
    json_type,
    key_probe,
    mime_problem,
    mrap_form_problem,
    provider_mismatch,
    url_scheme_warning,
)
from annotrain_tui.core.text import shown

if TYPE_CHECKING:
    from pydantic import ValidationError

_PLAIN_KEYS = frozenset({"objectUrl", "title"})
# Bytes deleted by the one bytes.translate pass over all URLs: harmless ASCII, except ':' (counted
# for the key balance), '?' and '#' (a query or fragment changes how the extension is found) and
# the newline (one between two URLs; any other is inside a URL, written as the escape \n).
_DELETE = bytes(b for b in URL_OK_BYTES if b not in b":?#\n")
_DELETE_AND_NON_ASCII = _DELETE + bytes(range(0x80, 0x100))
# The forbidden ASCII characters a string can hold when the file has no backslash: JSON forbids the
# control characters unescaped, and '"' and '\\' need a backslash.
_VERBATIM_FORBIDDEN = "".join(sorted({chr(c) for c in range(0x20, 0x80)} - set(URL_OK_BYTES.decode()) - set('"\\')))
_is_not_none = partial(is_not, None)

PathOf = Callable[[int], Path]

# A URL longer than this many characters may exceed 16 KB once UTF-8 encoded; the few that do
# are measured exactly. (4 bytes is the longest UTF-8 encoding of one character.)
URL_CHAR_PREFILTER = MAX_URL_BYTES // 4


# ---------------------------------------------------------------------------------------------
# Entry point.

def check_data(data: Any, col: Collector, *, provider: str | None = None, result: ValidationResult | None = None,
               csv_mode: bool = False, count_keys: bool = False, items_only: bool = False) -> int | None:
    """Apply every rule to a parsed manifest, adding diagnostics to ``col``.

    Fills ``result.items``/``urls``/``sections``. With ``count_keys`` returns the number of ':'
    characters the JSON text must contain if no key was repeated (keys + colons inside strings),
    or None when that is not known. ``items_only``: the rules of each item and URL, none about the
    file as a whole (limits, batch size, repeats across items) — for the first copy of a repeated
    section, which a JSON reader drops.
    """
    if not isinstance(data, dict):
        hint = ' (wrap the list: {"images": [ … ]})' if isinstance(data, list) else ""
        col.add("error", "wrong-type",
                f"a manifest is a JSON object with sections such as \"images\": [ … ]; this file holds "
                f"{json_type(data)}{hint}", path=())
        return None
    balance = _Balance() if count_keys else None
    if balance is not None:
        balance.add_dict_keys([data])
    for key, value in data.items():
        if key in SECTIONS:
            if not isinstance(value, list):
                col.add("error", "wrong-type",
                        f'"{key}" must be an array of items ([ {{ … }}, … ]), not {json_type(value)}', path=(key,))
                if balance is not None:
                    balance.walk([value])
        elif key in TOP_LEVEL_FLAGS:
            if not isinstance(value, bool):
                quoted = isinstance(value, str) and value.lower() in ("true", "false")
                fix = " — write it without quotes" if quoted else ""
                col.add("error", "wrong-type",
                        f'"{key}" must be true or false (a JSON boolean), not {json_type(value)}{fix}', path=(key,),
                        data=fix_data("unquote-boolean") if isinstance(value, str) else None)
                if balance is not None:
                    balance.walk([value])
        else:
            _unknown_key(col, (key,), key, TOP_LEVEL_KEYS, "at the top level")
            if balance is not None:
                balance.walk([value])

    sections: dict[str, int] = {}
    section_urls: dict[str, int] = {}
    url_lists: list[tuple[str, list[str], PathOf]] = []
    joins: list[tuple[str | None, bool]] = []  # (URLs joined by newlines if known, count their colons)
    items = urls = 0
    for name in SECTIONS:
        entries = data.get(name)
        if not isinstance(entries, list):
            continue
        sections[name] = len(entries)
        items += len(entries)
        if name in SINGLE_SECTIONS:
            found, path_of, n_urls, joined = _single_section(name, entries, col, balance)
        else:
            found, path_of, n_urls = _group_section(name, entries, col, balance)
            joined = None
        urls += n_urls
        section_urls[name] = n_urls
        url_lists.append((name, found, path_of))
        joins.append((joined, joined is not None))
    if result is not None:
        result.items, result.urls, result.sections = items, urls, sections

    if items_only:
        for (name, found, path_of), (joined, _) in zip(url_lists, joins, strict=True):
            if found:
                _check_urls(name, found, path_of, col, provider=provider, csv_mode=csv_mode, joined=joined)
        return None

    _file_rules(data, items, urls, col, csv_mode=csv_mode)

    for (name, found, path_of), (joined, plain) in zip(url_lists, joins, strict=True):
        if found:
            colons = _check_urls(name, found, path_of, col, provider=provider, csv_mode=csv_mode, joined=joined)
            if plain and balance is not None:
                balance.colons += colons  # the walk counted the URLs of other sections already
    _check_duplicate_urls(url_lists, data, col, csv_mode=csv_mode)
    _check_titles(data, col)
    _check_batch_size(data, col, section_urls)
    return balance.total if balance is not None else None


def _file_rules(data: dict[str, Any], items: int, urls: int, col: Collector, *, csv_mode: bool) -> None:
    """The rules about the file as a whole: Encord's limits, nothing to register, the flags."""
    if not csv_mode:
        if items > MAX_ITEMS:
            col.add("error", "too-many-items",
                    f"the file lists {items:,} items; Encord accepts at most {MAX_ITEMS:,} per JSON file: "
                    "split it, or register it in batches", path=(), see=OVER_THE_LIMITS)
        if urls > MAX_URLS:
            col.add("error", "too-many-urls",
                    f"the file lists {urls:,} URLs; Encord accepts at most {MAX_URLS:,} per JSON file: "
                    "split it, or register it in batches", path=(), see=OVER_THE_LIMITS)
    if items == 0 and not col.has_errors():
        col.add("error", "no-items",
                'the manifest lists no files: add a section such as "images": [{"objectUrl": "https://…"}]',
                path=())
    if data.get("upsert_metadata") is True and data.get("skip_duplicate_urls") is not True:
        col.add("warning", "no-effect", 'upsert_metadata has no effect unless "skip_duplicate_urls" is true',
                path=("upsert_metadata",), at_key=True)


def check_plain_section(name: str, entries: list[Any], urls: list[str], titles: list[str], flags: dict[str, bool],
                        col: Collector, *, provider: str | None, result: ValidationResult,
                        verbatim: bool = False) -> int:
    """:func:`check_data` for a file of one plain single-file section (``name``) and top-level flags,
    read by a typed decoder (validate's fast path) rather than into dicts.

    ``entries`` are the items (only counted), ``urls`` their objectUrls, ``titles`` the titles
    written (in order; each a string of at most MAX_TITLE characters, the non-empty ones all
    different: the caller checks, and otherwise takes the reference path). Adds the same
    diagnostics in the same order as check_data would, and returns its key balance. ``verbatim``:
    the file has no backslash (see :func:`_check_urls`); the balance is then not counted (0).
    """
    balance = _Balance()
    if not verbatim:
        balance.keys = 1 + len(flags)  # the top-level keys (none holds a colon)
        balance.keys += len(urls) + len(titles)
        balance.colons += "".join(titles).count(":")
    n = len(urls)
    result.items, result.urls, result.sections = n, n, {name: n}
    _file_rules(flags, n, n, col, csv_mode=False)
    path_of: PathOf = lambda i: (name, i, "objectUrl")  # noqa: E731
    order = _Order(_strictly_ordered(urls))
    if urls:
        balance.colons += _check_urls(name, urls, path_of, col, provider=provider, csv_mode=False,
                                      joined="\n".join(urls), verbatim=verbatim, order=order)
    data = {name: entries, **flags}
    _check_duplicate_urls([(name, urls, path_of)], data, col, ordered=order.no_repeats)
    # _check_titles: nothing to say (the titles are all different)
    _check_batch_size(data, col, {name: n})
    return balance.total


# ---------------------------------------------------------------------------------------------
# Counting keys and colons (duplicate-key detection without a per-object hook).

class _Balance:
    """Keys + ':' characters inside strings, over everything json.loads kept."""

    def __init__(self) -> None:
        self.keys = 0
        self.colons = 0

    @property
    def total(self) -> int:
        return self.keys + self.colons

    def add_dict_keys(self, dicts: Iterable[dict[str, Any]]) -> None:
        for d in dicts:
            self.keys += len(d)
            self.colons += "".join(d).count(":")

    def walk(self, values: Iterable[Any]) -> None:
        """Any JSON values (objects, arrays, strings …), iteratively."""
        stack: list[Iterable[Any]] = [values]
        strings: list[str] = []
        while stack:
            for v in stack.pop():
                t = type(v)
                if t is str:
                    strings.append(v)
                elif t is dict:
                    self.keys += len(v)
                    strings.extend(v)
                    stack.append(list(v.values()))
                elif t is list:
                    stack.append(v)
        self.colons += sum(s.count(":") for s in strings)


# ---------------------------------------------------------------------------------------------
# Sections of single files.

def _single_section(name: str, entries: list[Any], col: Collector,
                    balance: _Balance | None) -> tuple[list[str], PathOf, int, str | None]:
    fast = _plain_items(entries)
    if fast is not None:
        found, joined, titles = fast
        if balance is not None:  # the URLs' colons are counted by _check_urls
            balance.keys += len(found) + len(titles)
            balance.colons += "".join(titles).count(":")
        return found, (lambda i: (name, i, "objectUrl")), len(found), joined
    # Not plain: pydantic-core says exactly what is wrong where.
    _schema_check(name, entries, col)
    _check_client_numbers(name, entries, col)
    _check_mime_types(name, entries, col)
    if balance is not None:
        balance.walk([entries])
    index = [i for i, e in enumerate(entries) if type(e) is dict and type(e.get("objectUrl")) is str]
    found = [entries[i]["objectUrl"] for i in index]
    n_urls = sum(1 for e in entries if type(e) is dict and "objectUrl" in e)
    return found, (lambda i: (name, index[i], "objectUrl")), n_urls, None


def _plain_items(entries: list[Any]) -> tuple[list[str], str, list[str]] | None:
    """(urls, urls joined by newlines, titles) when every entry is {"objectUrl": str[, "title": str ≤ 300]}."""
    if not entries:
        return [], "", []
    try:
        keys = set().union(*entries)  # a non-object entry makes this fail or yields other keys
    except TypeError:
        return None
    if not keys <= _PLAIN_KEYS or "objectUrl" not in keys:
        return None
    try:
        urls = list(map(itemgetter("objectUrl"), entries))
        joined = "\n".join(urls)  # TypeError unless every URL is a string
        titles: list[str] = []
        if "title" in keys:
            if set(map(type, entries)) != {dict}:
                return None
            titles = list(filter(_is_not_none, map(dict.get, entries, repeat("title"))))  # type: ignore[arg-type]
            if len(titles) != sum(map(len, entries)) - len(entries):
                return None  # a "title": null somewhere
            "".join(titles)  # TypeError unless every title is a string
            if max(map(len, titles)) > MAX_TITLE:
                return None
    except (KeyError, TypeError):
        return None
    return urls, joined, titles


# ---------------------------------------------------------------------------------------------
# Image groups and DICOM series.

def _group_section(name: str, entries: list[Any], col: Collector,
                   balance: _Balance | None) -> tuple[list[str], PathOf, int]:
    _schema_check(name, entries, col)
    _check_client_numbers(name, entries, col)
    if balance is not None:
        balance.walk([entries])
    flat, owners, n_urls = _check_groups(name, entries, col)
    return flat, (lambda i: (name, owners[i][0], owners[i][1])), n_urls


def _check_groups(section: str, entries: list[Any], col: Collector) -> tuple[list[str], list[tuple[int, str]], int]:
    """objectUrl_N keys of image_groups / dicom_series; returns the URL strings with their owners."""
    flat: list[str] = []
    owners: list[tuple[int, str]] = []
    n_urls = 0
    allowed = ITEM_KEYS[section]
    what = "image group" if section == "image_groups" else "DICOM series"
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        indices: list[tuple[int, str]] = []
        for key, value in entry.items():
            if key in allowed:
                continue
            if key.startswith("objectUrl"):
                m = OBJECT_URL_N.fullmatch(key)
                n_urls += 1
                if m is None:
                    digits = key[len("objectUrl_"):]
                    if key == "objectUrl":
                        msg = (f'a {what} numbers its URLs: rename "objectUrl" to "objectUrl_0" (then objectUrl_1, '
                               "objectUrl_2, … for the next files)")
                    elif key.startswith("objectUrl_") and digits.isascii() and digits.isdigit() and len(digits) > 9:
                        msg = (f'"objectUrl_" is followed by a {len(digits):,}-digit number: number the URLs '
                               "objectUrl_0, objectUrl_1, … in order")
                    elif key.startswith("objectUrl_") and digits.isascii() and digits.isdigit():
                        msg = f'write "objectUrl_{int(digits)}" (no leading zeros)'
                    else:
                        msg = f'"{_short(key)}" is not a URL key: use objectUrl_0, objectUrl_1, … in order'
                    col.add("error", "url-index", msg, path=(section, i, key), at_key=True,
                            data={"section": section, "item": i})
                else:
                    indices.append((int(m.group(1)), key))
                if isinstance(value, str):
                    flat.append(value)
                    owners.append((i, key))
                else:
                    col.add("error", "wrong-type", f'"{_short(key)}" must be a URL string, not {json_type(value)}',
                            path=(section, i, key))
                continue
            _unknown_key(col, (section, i, key), key, allowed + ("objectUrl_0",), f'in an entry of "{section}"')
        if not indices:
            if not any(k.startswith("objectUrl") for k in entry):
                col.add("error", "missing-url",
                        f'this {what} has no files: add "objectUrl_0": "https://…" (then objectUrl_1, …)',
                        path=(section, i), data={"section": section})
        else:
            ordered = sorted(indices)
            numbers = [n for n, _ in ordered]
            if numbers != list(range(len(numbers))):
                missing = sorted(set(range(len(numbers))) - set(numbers))
                first_bad = next(k for j, (n, k) in enumerate(ordered) if n != j)
                if numbers[0] != 0:
                    why = f"they start at objectUrl_{numbers[0]} instead of objectUrl_0"
                else:
                    gap = ", ".join(f"objectUrl_{n}" for n in missing[:3]) + ("…" if len(missing) > 3 else "")
                    why = f"{gap} {'is' if len(missing) == 1 else 'are'} missing"
                col.add("error", "url-index",
                        f"the URL keys of this {what} must run objectUrl_0 … objectUrl_{len(numbers) - 1} without "
                        "gaps; "
                        f"{why} (the number is the file's position): renumber them (quick fix available)",
                        path=(section, i, first_bad), at_key=True, data={"section": section, "item": i})
        if section == "image_groups":
            if "createVideo" not in entry:
                col.add("warning", "create-video",
                        'createVideo is not set: set it to false for an image group or true for an image '
                        "sequence (a video made from the images)", path=(section, i), data={"section": section})
            if entry.get("createVideo") is True:
                n = len(indices)
                if n > MAX_SEQUENCE:
                    col.add("error", "sequence-too-long",
                            f"this image sequence has {n:,} images; Encord supports at most {MAX_SEQUENCE:,} "
                            "(about 21:50 minutes): split it, or register the footage as a video",
                            path=(section, i))
                elif n > RECOMMENDED_SEQUENCE:
                    col.add("warning", "sequence-too-long",
                            f"this image sequence has {n:,} images; Encord recommends at most "
                            f"{RECOMMENDED_SEQUENCE:,} for good performance: split it or use a video",
                            path=(section, i))
    return flat, owners, n_urls


# ---------------------------------------------------------------------------------------------
# Schema errors (pydantic-core) → diagnostics.

def _schema_check(section: str, entries: list[Any], col: Collector) -> None:
    """One pydantic-core pass over a section that is not plain (pydantic is imported here, on first
    use: a file of plain sections never loads it)."""
    from pydantic import ValidationError

    from annotrain_tui.core.manifest import schema

    try:
        schema.section_adapter(section).validate_python(entries)
    except ValidationError as exc:
        _report_schema_errors(exc, section, entries, col)


def _suggest(key: str, options: Iterable[str]) -> str | None:
    opts = list(options)
    lower = {o.lower(): o for o in opts}
    if key.lower() in lower:
        return lower[key.lower()]
    match = difflib.get_close_matches(key, opts, n=1, cutoff=0.75)
    if match:
        return match[0]
    match = difflib.get_close_matches(key.lower(), list(lower), n=1, cutoff=0.75)
    return lower[match[0]] if match else None


def _unknown_key(col: Collector, path: Path, key: str, options: Iterable[str], where: str) -> None:
    options = list(options)
    suggestion = _suggest(key, options)
    if suggestion is not None:
        col.add("error", "unknown-key",
                f'unknown key "{_short(key)}" {where}: did you mean "{suggestion}"? (Encord ignores keys it '
                "does not know, so this value would be lost)",
                path=path, at_key=True, data={"key": key, "suggestion": suggestion})
    else:
        col.add("warning", "unknown-key",
                f'unknown key "{_short(key)}" {where}: Encord does not document it and will probably ignore '
                f"it; expected one of {', '.join(options)}",
                path=path, at_key=True, data={"key": key, "suggestion": None})


def _short(text: str, limit: int = 60) -> str:
    return shown(text, limit=limit)


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    cur = data
    for part in loc:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


def _report_schema_errors(exc: ValidationError, section: str, entries: list[Any], col: Collector) -> None:
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = (section,) + tuple(err["loc"])
        etype = err["type"]
        if etype == "string_unicode":
            continue  # a lone surrogate: the JSON reader names it where it is (json-surrogate)
        depth = len(loc)
        value = _value_at(entries, loc[1:])
        if depth == 2:
            col.add("error", "wrong-type",
                    f'each entry of "{section}" must be an object ({{"objectUrl": …}}), not {json_type(value)}',
                    path=loc)
            continue
        key = str(loc[2])
        if depth == 3:
            if etype == "extra_forbidden":
                _item_unknown_key(col, section, loc, key)
            elif key == "objectUrl":
                if etype == "missing":
                    col.add("error", "missing-url",
                            f'this {section} entry has no "objectUrl": add the full URL of the file',
                            path=loc[:2], data={"section": section})
                else:
                    col.add("error", "wrong-type", f"the URL must be a JSON string, not {json_type(value)}",
                            path=loc)
            elif key == "title":
                if etype == "missing":
                    what = "image group" if section == "image_groups" else "DICOM series"
                    col.add("error", "missing-title",
                            f'this {what} has no "title": Encord needs a title for every {what} registered '
                            "from cloud storage", path=loc[:2])
                elif etype == "string_too_long":
                    col.add("error", "title-too-long",
                            f"the title is {len(value):,} characters; Encord accepts titles up to {MAX_TITLE}: "
                            "shorten it", path=loc)
                else:
                    col.add("error", "wrong-type", f'"title" must be a string, not {json_type(value)}', path=loc)
            elif key == "clientMetadata":
                col.add("error", "metadata-type",
                        f'"clientMetadata" must be a JSON object ({{"key": value, …}}), not {json_type(value)}',
                        path=loc)
            elif key == "createVideo":
                fix = (f" — write {value.lower()} without quotes" if isinstance(value, str)
                       and value.lower() in ("true", "false") else "")
                col.add("error", "wrong-type",
                        f'"createVideo" must be true (image sequence) or false (image group), not '
                        f"{json_type(value)}{fix}", path=loc,
                        data=fix_data("unquote-boolean") if isinstance(value, str) else None)
            elif key in METADATA_FIELDS:
                col.add("error", "metadata-type", f'"{key}" must be a JSON object, not {json_type(value)}', path=loc)
            else:
                col.add("error", "wrong-type", f"{_short(key)}: {err['msg']}", path=loc)
            continue
        if key in METADATA_FIELDS and depth == 4:
            _metadata_error(col, key, loc, etype, value, entries)
        else:
            col.add("error", "wrong-type", f"{pointer(loc)}: {err['msg']}", path=loc)


def _item_unknown_key(col: Collector, section: str, loc: Path, key: str) -> None:
    allowed = ITEM_KEYS[section]
    if key in METADATA_FIELDS and key not in allowed:
        own = METADATA_KEY.get(section)
        hint = f'; {section} entries take "{own}"' if own else f"; {section} entries take no media metadata"
        col.add("error", "unknown-key", f'"{key}" does not belong in "{section}"{hint}',
                path=loc, at_key=True, data={"key": key, "suggestion": own})
        return
    if key.startswith("objectUrl_"):
        col.add("error", "unknown-key",
                f'"{_short(key)}": {section} entries have a single "objectUrl" (numbered objectUrl_N keys are for '
                "image_groups and dicom_series)", path=loc, at_key=True,
                data={"key": key, "suggestion": "objectUrl"})
        return
    _unknown_key(col, loc, key, allowed, f'in an entry of "{section}"')


def _metadata_error(col: Collector, block: str, loc: Path, etype: str, value: Any, entries: list[Any]) -> None:
    field_name = str(loc[3])
    aliases = metadata_aliases(block)
    documented = aliases.get(field_name, field_name)
    spec = METADATA_FIELDS[block].get(documented)
    if etype == "missing":
        required = ", ".join(METADATA_FIELDS[block])
        col.add("error", "metadata-missing",
                f'"{block}" lacks "{documented}": Encord uses this metadata as given without reading the file, '
                f"so all of {required} are required", path=loc[:3], data={"field": documented})
    elif etype == "extra_forbidden":
        block_value = _value_at(entries, loc[1:3])
        if field_name in aliases and isinstance(block_value, dict):
            spellings = [k for k in block_value if aliases.get(k) == documented]
            col.add("error", "metadata-value",
                    f'"{block}" gives {documented} twice, as ' + " and ".join(f'"{k}"' for k in spellings)
                    + ": keep one", path=loc, at_key=True)
        else:
            _unknown_key(col, loc, field_name, list(METADATA_FIELDS[block]), f'in "{block}"')
    elif etype == "finite_number":
        col.add("error", "metadata-value",
                f'"{documented}" in "{block}" must be a finite number, not {shown(repr(value), limit=40)}', path=loc)
    elif etype in ("greater_than", "greater_than_equal"):
        bound = "greater than 0" if etype == "greater_than" else "0 or more"
        col.add("error", "metadata-value", f'"{documented}" in "{block}" must be {bound}, not {_number_text(value)}',
                path=loc)
    elif etype == "less_than_equal":
        col.add("error", "metadata-value",
                f'"{documented}" in "{block}" is {_number_text(value)}, larger than the largest whole number Encord '
                f"stores, {MAX_INT64}: write the real value", path=loc, data={"field": documented})
    else:
        want = {"int": "an integer", "number": "a number", "string": "a string"}[spec[1]] if spec else "another type"
        fix = " (remove the quotes)" if isinstance(value, str) and spec and spec[1] != "string" else ""
        if spec and spec[1] == "int" and type(value) is float:
            # 480.0 or 1e30: a whole number written with a fraction or an exponent is no integer to the SDK.
            if value.is_integer() and abs(value) <= MAX_INT64:
                fix = f" ({value!r}, with a decimal point or an exponent): write {int(value)}"
            elif value.is_integer():
                fix = (f" ({value!r}); as a whole number it would be larger than the largest whole number Encord "
                       f"stores, {MAX_INT64}")
            else:
                fix = f" ({value!r}): write a whole number"
        col.add("error", "metadata-type",
                f'"{documented}" in "{block}" must be {want}, not {json_type(value)}{fix}', path=loc,
                data=fix_data("unquote-number") if fix == " (remove the quotes)" else None)


def _number_text(value: Any) -> str:
    """A number for a message: as written, or its digit count when it is too long to show."""
    if type(value) is int and abs(value) >= 10**40:
        return f"a whole number of {len(str(abs(value))):,} digits"
    return shown(repr(value), limit=60)


def _check_client_numbers(section: str, entries: list[Any], col: Collector) -> None:
    """Whole numbers in ``clientMetadata`` that other readers cannot hold exactly: a warning each.

    clientMetadata is free JSON (Encord documents no number range), so these are warnings, not
    errors: beyond ±(2**63-1) no 64-bit integer holds the value (databases, most JSON readers);
    beyond ±2**53 a reader that holds numbers as 64-bit floats (JavaScript, Encord's web app) reads
    a nearby value instead. Both say how to keep every digit: write the number as a string.
    """
    for i, entry in enumerate(entries):
        if type(entry) is not dict:
            continue
        meta = entry.get("clientMetadata")
        if type(meta) is not dict or not meta:
            continue
        stack: list[tuple[Path, Any]] = [((section, i, "clientMetadata"), meta)]
        while stack:
            path, node = stack.pop()
            pairs = node.items() if type(node) is dict else enumerate(node)
            for key, value in pairs:
                t = type(value)
                if t is int:
                    if -MAX_EXACT_FLOAT_INT <= value <= MAX_EXACT_FLOAT_INT:
                        continue
                    if col.full("metadata-precision"):
                        col.bump("metadata-precision", "warning", 1)
                        continue
                    if abs(value) > MAX_INT64:
                        why = (f"beyond ±{MAX_INT64} (the largest 64-bit whole number): no 64-bit integer holds "
                               "it, so a database or a JSON reader other than Python's may refuse it, wrap it or "
                               "round it")
                    else:
                        why = (f"beyond ±{MAX_EXACT_FLOAT_INT} (2**53): a JSON reader that holds numbers as 64-bit "
                               f"floats (JavaScript, Encord's web app) reads it as {float(value):.17g}")
                    col.add("warning", "metadata-precision",
                            f"the whole number {_number_text(value)} in clientMetadata is {why}: write it as a "
                            'string ("…") to keep every digit', path=path + (key,), data={"value": str(value)})
                elif t is dict or t is list:
                    stack.append((path + (key,), value))


# ---------------------------------------------------------------------------------------------
# URL checks over a whole list at once.

def _distinct(urls: list[str], key_fn: Callable[[str], str], count_fn: Callable[[str], int],
              covered_fn: Callable[[list[str], set[str]], list[str]] | None = None) -> dict[str, int]:
    """Distinct keys of a URL list with their counts.

    Keys come from a sample; C-level counts over the joined list prove the sample found them
    all (each URL has exactly one key, so the counts add up to len(urls) only then). When they
    do not, ``covered_fn`` picks the URLs none of the known keys covers (a cheap C-level test per
    URL), and only those get their key computed.
    """
    n = len(urls)
    step = max(1, n // 512)
    keys = set(map(key_fn, urls[:256])) | set(map(key_fn, urls[::step]))
    if len(keys) <= 64:
        counts = {k: count_fn(k) for k in keys}
        if all(c >= 0 for c in counts.values()):
            if sum(counts.values()) == n:
                return counts
            if covered_fn is not None:
                rest = covered_fn(urls, set(counts))
                for key, c in Counter(map(key_fn, rest)).items():
                    counts[key] = counts.get(key, 0) + c
                if sum(counts.values()) == n:
                    return counts
    return dict(Counter(map(key_fn, urls)))


def _not_under_hosts(urls: list[str], keys: set[str]) -> list[str]:
    prefixes = tuple(k for k in keys if not k.endswith("\n"))
    whole = {k[:-1] for k in keys if k.endswith("\n")}
    # C-level: keep the URLs under none of the prefixes (map/compress), then drop the whole-URL keys
    outside = list(compress(urls, map(not_, map(str.startswith, urls, repeat(prefixes)))))
    return [u for u in outside if u not in whole] if whole else outside


def _not_with_suffixes(urls: list[str], keys: set[str]) -> list[str]:
    ends = tuple("." + k for k in keys if k)
    return list(compress(urls, map(not_, map(str.endswith, urls, repeat(ends)))))


def _suffix(url: str) -> str:
    dot = url.rfind(".")
    if dot < 0 or "/" in url[dot:]:
        return ""
    return url[dot + 1:]


def _check_urls(section: str, urls: list[str], path_of: PathOf, col: Collector, *, provider: str | None,
                csv_mode: bool, joined: str | None = None, verbatim: bool = False, order: _Order | None = None) -> int:
    """Every URL rule over one list; returns the number of ':' in the URLs (for the key balance).

    ``verbatim``: the URLs are the file's text as written (it has no backslash), so they hold no
    control character, '"' or '\\'; then no copy of the text is made and the colons are not counted
    (0 is returned: the caller proves the keys otherwise). ``order``: whether the URLs are strictly
    ordered (:func:`_strictly_ordered`); set on return: whether no repeat can be reported.
    """
    n = len(urls)
    if joined is None:
        joined = "\n".join(urls)
    suspicious: set[int] = set()

    colons = 0
    if verbatim and joined.isascii():
        # Of the forbidden characters only these few can be there: one memchr-speed search each.
        present = [char for char in _VERBATIM_FORBIDDEN if char in joined]
        if present:
            suspicious.update(_with_chars(urls, joined, present))
        has_query = "?" in joined or "#" in joined
        newline_free = True
    else:
        # Characters: one bytes.translate over everything deletes the harmless ASCII bytes; what is
        # left is the colons (counted on the way), newlines, forbidden characters and non-ASCII bytes.
        if joined.isascii():
            rest = joined.encode("ascii").translate(None, _DELETE)
        else:
            rest = joined.encode("utf-8", "surrogatepass").translate(None, _DELETE_AND_NON_ASCII)
            suspicious.update(i for i, u in enumerate(urls) if not u.isascii() and FORBIDDEN_RE.search(u))
        colons = rest.count(b":")
        queries = rest.count(b"?") + rest.count(b"#")
        newlines = rest.count(b"\n")
        has_query = queries > 0
        newline_free = newlines == n - 1
        if len(rest) != colons + queries + newlines:  # the few forbidden ASCII characters present
            suspicious.update(_with_chars(urls, joined if newline_free else None,
                                          sorted(set(rest.decode("ascii")) - set(":?#\n"))))
        del rest
        if not newline_free:  # a URL holds a line break (the escape \n): a line of the joined list is no URL
            suspicious.update(compress(range(n), map(str.__contains__, urls, repeat("\n"))))
    if joined.rfind("/.../") >= 0:  # (the backward search skips further than ``in`` over URL text)
        suspicious.update(i for i, u in enumerate(urls) if "/.../" in u)
    longest = max(map(len, urls))
    if longest > URL_CHAR_PREFILTER:
        suspicious.update(i for i, u in enumerate(urls) if len(u) > URL_CHAR_PREFILTER)

    # Scheme, host and provider: once per distinct host. A strictly ordered list (but for the few
    # URLs already suspicious) whose first and last URL share a host has it on every URL between.
    hosts: dict[str, int] | None = None
    members: dict[str, list[int]] = {}  # host key -> the suspicious URLs with it, when ``shared`` is known
    shared: str | None = None
    if order is not None and len(suspicious) <= n // 4:
        skip = sorted(suspicious)
        kept = urls if not skip else list(chain.from_iterable(urls[a:b] for a, b in _runs_between(skip, n)))
        if order.ordered or _strictly_ordered(kept):
            # a repeat is reported between two URLs of the absolute form: two kept ones are never equal
            order.no_repeats = not any(ABSOLUTE_URL_RE.fullmatch(urls[i]) for i in skip)
            key = host_key(kept[0]) if kept else ""
            if kept and is_prefix_key(key) and kept[-1].startswith(key):
                shared = key
                for i in skip:
                    members.setdefault(host_key(urls[i]), []).append(i)
                hosts = {key: len(kept)}
                for other, found in members.items():
                    hosts[other] = hosts.get(other, 0) + len(found)
    judged = _judge_hosts(hosts, provider) if hosts is not None else None
    if hosts is None or judged is None or max(len(judged[1]), len(judged[2]), sum(map(is_mrap_key, hosts))) > 1:
        # The order of the hosts decides which URLs are reported under a code's limit: _distinct's
        # (several hosts with something to say are rare, one more pass is no matter then).
        hosts = _distinct(urls, host_key, partial(_host_count, urls, joined if newline_free else None),
                          _not_under_hosts)
        judged = _judge_hosts(hosts, provider)
    bad_hosts, scheme_notes, provider_notes = judged
    for key in bad_hosts:
        suspicious.update(members[key] if key in members and key != shared else _with_key(urls, key))

    bad = sorted(suspicious)
    flagged: list[int] = []  # the URLs with a problem (a long URL may have none): no other rule judges them
    for reported, i in enumerate(bad):
        if col.full("url-not-absolute"):
            col.bump("url-not-absolute", "error", len(bad) - reported)
            flagged.extend(bad[reported:])
            break
        problems = explain_url(urls[i])
        if problems:
            flagged.append(i)
        for url_code, message, fix in problems:
            col.add("error", url_code, message, path=path_of(i),
                    data={"url": urls[i]} if fix is None else fix_data(fix, url=urls[i]))
    bad_set = set(flagged)
    if not newline_free:  # one line per URL for the searches below (a URL with a line break is in bad_set)
        joined = "\n".join([u.replace("\n", " ") for u in urls])
    if provider == "aws":
        _check_mrap_form(urls, joined, [k for k in hosts if is_mrap_key(k)], path_of, col, bad_set)
    noted: tuple[tuple[dict[str, str], Code], ...] = ((scheme_notes, "url-scheme"), (provider_notes, "provider-mismatch"))
    for notes, code in noted:
        for key, message in notes.items():
            for i in _with_key(urls, key):
                if i in bad_set:
                    continue
                if col.full(code):
                    col.bump(code, "warning", 1)
                    continue
                col.add("warning", code, message, path=path_of(i),
                        data={"url": urls[i], "provider": provider})
    _check_extensions(section, urls, path_of, col, bad_set, has_query=has_query)
    if longest > MAX_FILE_NAME:  # otherwise no URL is long enough to hold such a name
        _check_file_names(urls, joined, path_of, col, bad_set)
    return colons


class _Order:
    """What validate's fast path knows of a URL list's order (see :func:`_check_urls`)."""

    __slots__ = ("no_repeats", "ordered")

    def __init__(self, ordered: bool) -> None:
        self.ordered = ordered
        self.no_repeats = False


def _runs_between(skip: list[int], n: int) -> list[tuple[int, int]]:
    """The [a, b) index ranges of 0 … n-1 outside ``skip`` (ascending)."""
    runs, start = [], 0
    for i in skip:
        if i > start:
            runs.append((start, i))
        start = i + 1
    if start < n:
        runs.append((start, n))
    return runs


def _judge_hosts(hosts: dict[str, int], provider: str | None) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """(keys of no absolute URL, {key: url-scheme note}, {key: provider-mismatch note}), in the hosts' order."""
    scheme_notes: dict[str, str] = {}
    provider_notes: dict[str, str] = {}
    bad_hosts: list[str] = []
    for key in hosts:
        probe = key_probe(key)
        if not ABSOLUTE_URL_RE.fullmatch(probe):
            bad_hosts.append(key)
            continue
        note = url_scheme_warning(probe)
        if note:
            scheme_notes[key] = note
        if provider is not None and not (provider == "direct" and note):  # one warning is enough
            note = provider_mismatch(probe, provider)
            if note:
                provider_notes[key] = note
    return bad_hosts, scheme_notes, provider_notes


def _with_chars(urls: list[str], joined: str | None, chars: list[str]) -> Iterable[int]:
    """Indices of the URLs that hold one of ``chars``: found in ``joined`` (one URL a line) when they
    are few, by a C-level test of each URL otherwise."""
    if joined is not None:
        hits: list[int] = []
        for char in chars:
            at = joined.find(char)
            while at >= 0 and len(hits) <= _FEW_HITS:
                hits.append(at)
                at = joined.find(char, at + 1)
        if len(hits) <= _FEW_HITS:
            return _indices_at(joined, sorted(hits))
    n = len(urls)
    return chain.from_iterable(compress(range(n), map(str.__contains__, urls, repeat(char))) for char in chars)


_FEW_HITS = 5000


def _strictly_ordered(urls: list[str]) -> bool:
    """Whether the URLs are strictly ascending or strictly descending, as listings often are: then
    no two are equal, and every URL between two that start alike starts so too. One C-level
    comparison per pair, and it stops at the first pair out of order."""
    if len(urls) < 2:
        return True
    before = lt if urls[0] < urls[1] else gt
    return all(map(before, urls, islice(urls, 1, None)))


def _host_count(urls: list[str], joined: str | None, key: str) -> int:
    """How many URLs have this host key (counted in ``joined``, one URL a line, when given)."""
    if key.endswith("\n"):
        return urls.count(key[:-1])
    if joined is not None:
        count = joined.startswith(key) + joined.count("\n" + key)
        if not is_prefix_key(key):  # "https:/": not the URLs that go on with a second '/'
            count -= joined.startswith(key + "/") + joined.count("\n" + key + "/")
        return count
    count = sum(map(str.startswith, urls, repeat(key)))
    if not is_prefix_key(key):
        count -= sum(map(str.startswith, urls, repeat(key + "/")))
    return count


def _with_key(urls: list[str], key: str) -> list[int]:
    if key.endswith("\n"):
        whole = key[:-1]
        return list(compress(range(len(urls)), map(whole.__eq__, urls)))
    under = list(compress(range(len(urls)), map(str.startswith, urls, repeat(key))))
    if is_prefix_key(key):
        return under
    longer = key + "/"  # "https:/": a URL that goes on with a second '/' has a host key of its own
    return [i for i in under if not urls[i].startswith(longer)]


def _suffixes_outside(urls: list[str], skip: set[int]) -> dict[str, int] | None:
    """The suffixes of the URLs not in ``skip`` (already reported: their extension is not judged),
    when a sample of them finds them all; None otherwise."""
    n = len(urls)
    step = max(1, n // 512)
    keys = {_suffix(urls[i]) for i in chain(range(min(n, 256)), range(0, n, step)) if i not in skip}
    if "" in keys or len(keys) > 64:
        return None
    counts: dict[str, int] = {}
    for key in keys:
        end = "." + key
        counts[key] = sum(map(str.endswith, urls, repeat(end))) - sum(urls[i].endswith(end) for i in skip)
    return counts if sum(counts.values()) == n - len(skip) else None


def _check_extensions(section: str, urls: list[str], path_of: PathOf, col: Collector,
                      skip: set[int], *, has_query: bool) -> None:
    kind = SECTION_KIND[section]
    foreign = foreign_extensions(kind)
    if has_query:
        exts = _distinct(urls, extension, lambda k: -1)  # query strings: look at each URL
        by_suffix = False
    else:
        # a URL ending in ".jpg" has the suffix "jpg" (a suffix holds no '.'): one C-level endswith each
        exts = (skip and _suffixes_outside(urls, skip)) or _distinct(
            urls, _suffix, lambda s: -1 if not s else sum(map(str.endswith, urls, repeat("." + s))),
            _not_with_suffixes)
        by_suffix = True
    wrong: list[int] = []
    for key in exts:
        ext = key.lower()
        if by_suffix and ext == "gz":
            wrong.extend(i for i, u in enumerate(urls) if extension(u) in foreign)
            continue
        if ext in foreign:
            if by_suffix:
                wrong.extend(i for i, u in enumerate(urls) if u.endswith("." + key))
            else:
                wrong.extend(i for i, u in enumerate(urls) if extension(u) == key)
    for i in sorted(set(wrong)):
        if i in skip:
            continue
        if col.full("extension-mismatch"):
            col.bump("extension-mismatch", "warning", 1)
            continue
        ext = extension(urls[i])
        other = KIND_BY_EXTENSION[ext]
        target = SECTION_BY_KIND[other]
        col.add("warning", "extension-mismatch",
                f"'.{ext}' is {'an' if other[:1] in 'aeiou' else 'a'} {other} file, but it is listed under "
                f'"{section}": move it to "{target}" (Encord rejects a file whose type does not match its section)',
                path=path_of(i), data={"url": urls[i], "kind": other, "section": section})


def _check_duplicate_urls(lists: list[tuple[str, list[str], PathOf]], data: dict[str, Any], col: Collector, *,
                          csv_mode: bool = False, ordered: bool = False) -> None:
    """A URL listed twice. In a CSV file the advice is a row to remove (no JSON pointer, and CSV has no
    "skip_duplicate_urls"; trial item 21). ``ordered``: known to have no repeat to report (the fast path)."""
    total = sum(len(urls) for _, urls, _ in lists)
    if total < 2 or ordered:
        return
    if len(lists) == 1 and _strictly_ordered(lists[0][1]):
        return  # no two equal (a sorted listing: no set of half a million strings to hash)
    distinct = len(set(lists[0][1])) if len(lists) == 1 else len(set(chain.from_iterable(u for _, u, _ in lists)))
    if distinct == total:
        return
    seen: dict[str, Path] = {}
    skip = data.get("skip_duplicate_urls") is True
    # in the file's order of sections, so the copy reported as the repeat is the later one
    order = {key: n for n, key in enumerate(data)} if isinstance(data, dict) else {}
    lists = sorted(lists, key=lambda entry: order.get(entry[0], len(order)))
    for _, urls, path_of in lists:
        for i, u in enumerate(urls):
            if not ABSOLUTE_URL_RE.fullmatch(u):
                continue  # already an error; a repeated placeholder is not news
            first = seen.get(u)
            if first is None:
                seen[u] = path_of(i)
                continue
            if col.full("duplicate-url"):
                col.bump("duplicate-url", "warning", 1)
                continue
            if csv_mode:
                col.add("warning", "duplicate-url", "this URL is already listed ({related}); it would be "
                        "registered twice: remove the repeated row", path=path_of(i), related=first,
                        data={"url": u, "first": pointer(first)})
                continue
            advice = ("remove the repeated entry (skip_duplicate_urls skips URLs already in the folder; whether "
                      "it also drops a repeat within one file is not documented)" if skip else
                      'remove the repeated entry, or set "skip_duplicate_urls": true to skip URLs that are '
                      "already in the folder")
            col.add("warning", "duplicate-url",
                    f"this URL is already listed at {pointer(first)} ({{related}}); it would be registered "
                    f"twice: {advice}", path=path_of(i), related=first, data={"url": u, "first": pointer(first)})


def _indices_at(joined: str, offsets: Iterable[int]) -> list[int]:
    """The index of the URL each offset into the newline-joined list falls in (offsets ascending)."""
    out: list[int] = []
    line, pos = 0, 0
    for off in offsets:
        line += joined.count("\n", pos, off)
        pos = off
        out.append(line)
    return out


# ---------------------------------------------------------------------------------------------
# File names inside object URLs.

# Both seeds: "Encord supports file names up to 300 characters in length for any file or video for
# upload." The limit is on the file's name, not only on a "title": the name is the last path
# segment of the URL (before any query or fragment), counted in characters once percent-decoded.
# The regex finds, in the joined list, each last segment longer than that before decoding (a name
# can only get shorter by decoding); a segment right after "//" is a host, not a name.
_LONG_NAME_RE = re.compile(r"(?m)^[^\n?#]*(?<![:/])/([^/\n?#]{%d,})(?=[?#]|$)" % (MAX_FILE_NAME + 1))


def _check_file_names(urls: list[str], joined: str, path_of: PathOf, col: Collector, skip: set[int]) -> None:
    hits = list(_LONG_NAME_RE.finditer(joined))
    for i, m in zip(_indices_at(joined, (m.start() for m in hits)), hits, strict=True):
        if i in skip:
            continue
        raw = m.group(1)
        name = unquote(raw)
        if len(name) <= MAX_FILE_NAME:
            continue
        if col.full("file-name-too-long"):
            col.bump("file-name-too-long", "error", 1)
            continue
        decoded = " (percent-decoded)" if name != raw else ""
        col.add("error", "file-name-too-long",
                f"the file name '{_short(name)}' is {len(name):,} characters long{decoded}; Encord supports file "
                f"names of up to {MAX_FILE_NAME} characters: rename the file in the bucket (and this URL) to "
                f"{MAX_FILE_NAME} characters or fewer", path=path_of(i), data={"url": urls[i], "name": name})


# ---------------------------------------------------------------------------------------------
# Multi-Region Access Point objects (--provider aws).

def _check_mrap_form(urls: list[str], joined: str, keys: list[str], path_of: PathOf, col: Collector,
                     skip: set[int]) -> None:
    """Every URL that starts with an MRAP ARN must go on with ALIAS.mrap[…]/object-name (one regex per ARN)."""
    for key in keys:
        rx = re.compile("(?m)^" + re.escape(key) + "(?!" + MRAP_OBJECT_PATTERN + ")")
        hits = [m.start() for m in rx.finditer(joined)]
        for i in _indices_at(joined, hits):
            if i in skip:
                continue
            message = mrap_form_problem(urls[i])
            if message is None:
                continue
            if col.full("provider-mismatch"):
                col.bump("provider-mismatch", "warning", 1)
                continue
            col.add("warning", "provider-mismatch", message, path=path_of(i),
                    data={"url": urls[i], "provider": "aws"})


# ---------------------------------------------------------------------------------------------
# MIME types in media metadata.

def _mime_spellings(block: str) -> list[str]:
    return [k for k, v in metadata_aliases(block).items() if v in ("mime_type", "mimeType")]


def _check_mime_types(section: str, entries: list[Any], col: Collector) -> None:
    """A ``mime_type`` that is no MIME type, or names another kind of file than the section holds.

    Errors: the seeds say Encord uses media metadata "without performing any additional
    validation" and that "it is crucial that the metadata provided is accurate", so a wrong type is
    never corrected on the way. Each distinct value is judged once; only a bad one costs a walk.
    """
    block = METADATA_KEY.get(section)
    if block is None:
        return
    spellings = _mime_spellings(block)
    if not spellings:
        return
    kind = SECTION_KIND[section]
    try:
        metas = [m for m in map(dict.get, entries, repeat(block)) if m is not None]
        values = set(chain.from_iterable(map(dict.get, metas, repeat(k)) for k in spellings))
    except TypeError:  # an entry or a block that is no object: already reported; look one by one
        values = None
    if values is not None and not any(type(v) is str and mime_problem(v, kind) for v in values):
        return
    for i, entry in enumerate(entries):
        if type(entry) is not dict:
            continue
        meta = entry.get(block)
        if type(meta) is not dict:
            continue
        for key in spellings:
            mime = meta.get(key)
            if type(mime) is not str:
                continue
            problem = mime_problem(mime, kind)
            if problem is None:
                continue
            if col.full("metadata-mime"):
                col.bump("metadata-mime", "error", 1)
                continue
            example = MIME_EXAMPLES[kind]
            if problem == "not-mime":
                message = (f'"{key}" in "{block}" is {shown(repr(mime), limit=60)}, which is not a MIME type: write '
                           f'type/subtype, e.g. "{example}"')
            else:
                a = "an" if problem[:1] in "aeiou" else "a"
                message = (f'"{key}" in "{block}" is "{_short(mime)}", {a} {problem} type, but this item is in '
                           f'"{section}": Encord uses the metadata as given, without reading the file, so write the '
                           f'file\'s real type (e.g. "{example}"), or move the item to "{SECTION_BY_KIND[problem]}" '
                           f"if it is {a} {problem} file")
            col.add("error", "metadata-mime", message, path=(section, i, block, key),
                    data={"mime": mime, "kind": problem, "section": section})


# ---------------------------------------------------------------------------------------------
# Repeated titles.

def _check_titles(data: dict[str, Any], col: Collector) -> None:
    """The same title on two items of the file: a warning on the second, naming the first.

    A warning, not an error: the seeds never ask for unique titles. They say a title names the
    file ("files 1, 2 and 4 will be assigned the names in the title column"; "If left blank, the
    original file name is used"), and in a CSV a shared title is meaningful: "When two files are
    given the same title they are grouped into the same DICOM series". So Encord takes a repeated
    title, but the two items then cannot be told apart by title in the folder or a project.
    Only titles written in the file count (two untitled files named 0001.jpg in two folders are
    common and fine). All C-level unless a repeat exists.
    """
    names = [k for k in data if k in SECTIONS and type(data[k]) is list and data[k]]  # the file's order
    given: list[Any] = []
    try:  # the titles written (empty ones left out: they name nothing), in C
        for name in names:
            given.extend(filter(None, map(dict.get, data[name], repeat("title"))))
        if set(map(type, given)) <= {str} and len(set(given)) == len(given):
            return
    except TypeError:  # an entry that is no object (already an error): look one by one
        pass
    seen: dict[str, Path] = {}
    for name in names:
        for i, entry in enumerate(data[name]):
            title = entry.get("title") if type(entry) is dict else None
            if type(title) is not str or not title.strip():
                continue
            first = seen.get(title)
            if first is None:
                seen[title] = (name, i, "title")
                continue
            if col.full("duplicate-title"):
                col.bump("duplicate-title", "warning", 1)
                continue
            col.add("warning", "duplicate-title",
                    f'the title "{_short(title)}" is already given at {pointer(first)} ({{related}}): Encord '
                    "accepts a repeated title, but the two items cannot be told apart by it in the folder or a "
                    'project: give each a title of its own, or leave "title" out to use the file name',
                    path=(name, i, "title"), related=first, data={"title": title})


# ---------------------------------------------------------------------------------------------
# Batch size: "Limit uploads to 100 videos or up to 1,000 images at a time."

# Counted as `manifest split` counts by default (split.py): one upload holds 1,000 units, a video
# is 10 units (so 100 videos), an image group, image sequence or DICOM series one unit per file,
# any other item one unit; an item is never cut in two.
BATCH_UNITS = RECOMMENDED_IMAGES_PER_UPLOAD
VIDEO_UNITS = RECOMMENDED_IMAGES_PER_UPLOAD // RECOMMENDED_VIDEOS_PER_UPLOAD


def _group_files(entry: Any) -> int:
    """The files of an image group or DICOM series (every key but its few named ones is a URL key)."""
    if type(entry) is not dict:
        return 0
    return len(entry) - ("title" in entry) - ("createVideo" in entry) - ("clientMetadata" in entry)


def batch_count(data: dict[str, Any]) -> int:
    """How many uploads of Encord's advised size the manifest makes (``manifest split``'s default)."""
    return _batches(_unit_runs(data))


def _unit_runs(data: dict[str, Any]) -> list[tuple[int, int]]:
    """(cost in units, how many items) runs, in the order of the file's sections."""
    runs: list[tuple[int, int]] = []
    for name in (k for k in data if k in SECTIONS and type(data[k]) is list):
        entries = data[name]
        if name in GROUP_SECTIONS:
            for entry in entries:
                cost = max(1, _group_files(entry))
                if runs and runs[-1][0] == cost:
                    runs[-1] = (cost, runs[-1][1] + 1)
                else:
                    runs.append((cost, 1))
        elif entries:
            runs.append((VIDEO_UNITS if name == "videos" else 1, len(entries)))
    return runs


def _batches(runs: Iterable[tuple[int, int]]) -> int:
    """Greedy packing, as split.chunk does it: a new batch when the next item does not fit."""
    chunks = used = 0
    for cost, count in runs:
        while count:
            if used and used + cost > BATCH_UNITS:
                chunks, used = chunks + 1, 0
            if not used:
                per = max(1, BATCH_UNITS // cost)
                full, rest = divmod(count, per)
                if rest == 0:
                    full, rest = full - 1, per  # the last batch stays open for what follows
                chunks += full
                used, count = rest * cost, 0
            else:
                take = min((BATCH_UNITS - used) // cost, count)
                used, count = used + take * cost, count - take
    return chunks + (1 if used else 0)


def _check_batch_size(data: dict[str, Any], col: Collector, section_urls: dict[str, int]) -> None:
    """A warning above the seed's advice, saying `register --batch` registers it as that many jobs.

    About the whole file, so it stands at line 1, column 1 (the pointer names the biggest section):
    a clean 500,000-image manifest gets this warning, and locating a section's key would cost a
    walk over the text that nothing else on a clean file needs.
    """
    videos = images = other = 0
    units: dict[str, int] = {}
    for name in SECTIONS:
        entries = data.get(name)
        if type(entries) is not list or not entries:
            continue
        if name == "videos":
            videos += len(entries)
            units[name] = len(entries) * VIDEO_UNITS
        elif name in GROUP_SECTIONS:
            files = section_urls.get(name, 0)
            units[name] = max(files, len(entries))
            if name == "image_groups":
                images += files
            else:
                other += files
        else:
            units[name] = len(entries)
            if name == "images":
                images += len(entries)
            else:
                other += len(entries)
    if sum(units.values()) <= BATCH_UNITS:
        return
    jobs = batch_count(data)
    if jobs < 2:
        return  # one item over the advice (a long image group): no batching makes it smaller
    parts = [f"{n:,} {word}{'s' if n != 1 else ''}" for n, word in
             ((videos, "video"), (images, "image"), (other, "other file")) if n]
    what = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    biggest = max(units, key=lambda k: units[k])
    col.add("warning", "batch-size",
            f"this upload holds {what}; Encord advises \"Limit uploads to {RECOMMENDED_VIDEOS_PER_UPLOAD} videos or "
            f"up to {RECOMMENDED_IMAGES_PER_UPLOAD:,} images at a time\" (smaller uploads finish sooner): "
            f"registering it in batches sends it as {jobs:,} jobs of that size, or split it into files of that size",
            line=1, column=1, report_path=(biggest,), see=("register.batch", "manifest.split"),
            data={"jobs": jobs, "videos": videos, "images": images, "other": other, "section": biggest})
