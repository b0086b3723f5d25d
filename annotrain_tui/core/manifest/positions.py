"""Where things are in a JSON text: pointer → offset → line/column, and duplicate keys.

``json.loads`` forgets positions and silently keeps the last of two equal keys. This module walks
the text again, but only where it has to: a value that holds none of the wanted pointers is
skipped by the C scanner of the ``json`` module in one call, so locating a handful of pointers in
a 50 MB manifest costs about one extra parse, and nothing at all when the file is clean.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]

_WS = re.compile(r"[ \t\n\r]*")
# Always matches (possibly empty), so never None; typed accordingly for the hot loops below.
_ws_match: Callable[[str, int], re.Match[str]] = _WS.match  # type: ignore[assignment]
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def pointer(path: Iterable[str | int]) -> str:
    """RFC 6901 JSON pointer of a path (``('images', 3, 'objectUrl')`` → ``/images/3/objectUrl``)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def parse_pointer(ptr: str) -> Path:
    """The path of a JSON pointer; array indices come back as ints."""
    if ptr == "":
        return ()
    parts: list[str | int] = []
    for raw in ptr.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(token) if token.isdigit() and (token == "0" or not token.startswith("0")) else token)
    return tuple(parts)


@dataclass
class Span:
    """Offsets of one member: its key (objects only) and its value."""

    key_start: int | None
    value_start: int
    value_end: int


@dataclass
class DuplicateKey:
    path: Path          # the object holding the key
    key: str
    first_offset: int   # where the key appeared first
    offset: int         # where it appears again (the value kept by json.loads is the last one)


@dataclass
class Located:
    spans: dict[Path, Span] = field(default_factory=dict)
    duplicates: list[DuplicateKey] = field(default_factory=list)


class _DupFlag:
    """object_pairs_hook that notices a repeated key anywhere in a subtree."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(pairs)
        if len(d) != len(pairs):
            self.seen = True
        return d


def _make_scanner(hook: Any = None) -> Any:
    decoder = json.JSONDecoder(object_pairs_hook=hook)
    return json.scanner.make_scanner(decoder)  # type: ignore[arg-type]


class _Walker:
    def __init__(self, text: str, targets: set[Path], find_duplicates: bool) -> None:
        self.text = text
        self.targets = targets
        self.prefixes: set[Path] = set()
        self.children: dict[Path, set[str | int]] = {}
        for t in targets:
            for i in range(len(t) + 1):
                self.prefixes.add(t[:i])
                if i < len(t):
                    self.children.setdefault(t[:i], set()).add(t[i])
        self.find_duplicates = find_duplicates
        self.flag = _DupFlag()
        self.skip = _make_scanner(self.flag if find_duplicates else None)
        self.out = Located()

    def value(self, idx: int, path: Path, key_start: int | None) -> int:
        text = self.text
        if path not in self.prefixes:
            # Nothing wanted in here: let the C scanner jump over it (and tell us about duplicates).
            if self.find_duplicates:
                self.flag.seen = False
                _, end = self.skip(text, idx)
                if not self.flag.seen:
                    return end
            else:
                _, end = self.skip(text, idx)
                return end
        ch = text[idx]
        if ch == "{":
            end = self._object(idx, path)
        elif ch == "[":
            end = self._array(idx, path)
        else:
            _, end = self.skip(text, idx)
        if path in self.targets:
            self.out.spans[path] = Span(key_start, idx, end)
        return end

    def _object(self, idx: int, path: Path) -> int:
        text = self.text
        idx = _ws_match(text, idx + 1).end()
        if text[idx] == "}":
            return idx + 1
        first: dict[str, int] = {}
        while True:
            key_start = idx
            key, idx = _scanstring(text, idx + 1)
            if self.find_duplicates:
                if key in first:
                    self.out.duplicates.append(DuplicateKey(path, key, first[key], key_start))
                else:
                    first[key] = key_start
            idx = _ws_match(text, idx).end() + 1  # the ':'
            idx = _ws_match(text, idx).end()
            idx = self.value(idx, path + (key,), key_start)
            idx = _ws_match(text, idx).end()
            if text[idx] == "}":
                return idx + 1
            idx = _ws_match(text, idx + 1).end()  # past ','

    def _array(self, idx: int, path: Path) -> int:
        text = self.text
        ws = _ws_match
        skip = self.skip
        idx = ws(text, idx + 1).end()
        if text[idx] == "]":
            return idx + 1
        wanted = self.children.get(path, set()) if not self.find_duplicates else None
        i = 0
        while True:
            if wanted is not None and i not in wanted:
                _, idx = skip(text, idx)  # fast path: an element nobody asked about
            else:
                idx = self.value(idx, path + (i,), None)
            idx = ws(text, idx).end()
            if text[idx] == "]":
                return idx + 1
            idx = ws(text, idx + 1).end()
            i += 1


def locate(text: str, targets: Iterable[Path], *, find_duplicates: bool = False) -> Located:
    """Spans of the wanted paths (and, on request, every repeated key with both positions).

    ``text`` must be valid JSON (parse it first). When a key is repeated, paths resolve to the
    last occurrence, as ``json.loads`` does.
    """
    walker = _Walker(text, set(targets), find_duplicates)
    start = _ws_match(text, 0).end()
    if start < len(text):
        walker.value(start, (), None)
    return walker.out


def members(text: str, start: int) -> list[tuple[str, int, int, int, int]]:
    """Every member of the object at ``start``, duplicates included, in order.

    Returns (key, key_start, key_end, value_start, value_end) tuples.
    """
    scan = _make_scanner()
    out: list[tuple[str, int, int, int, int]] = []
    idx = _ws_match(text, start + 1).end()
    if text[idx] == "}":
        return out
    while True:
        key_start = idx
        key, key_end = _scanstring(text, idx + 1)
        idx = _ws_match(text, key_end).end() + 1
        idx = _ws_match(text, idx).end()
        _, value_end = scan(text, idx)
        out.append((key, key_start, key_end, idx, value_end))
        idx = _ws_match(text, value_end).end()
        if text[idx] == "}":
            return out
        idx = _ws_match(text, idx + 1).end()


def elements(text: str, start: int) -> list[tuple[int, int]]:
    """(start, end) of every element of the array at ``start``."""
    scan = _make_scanner()
    out: list[tuple[int, int]] = []
    idx = _ws_match(text, start + 1).end()
    if text[idx] == "]":
        return out
    while True:
        _, end = scan(text, idx)
        out.append((idx, end))
        idx = _ws_match(text, end).end()
        if text[idx] == "]":
            return out
        idx = _ws_match(text, idx + 1).end()


class LineIndex:
    """Offset → (line, column), both 1-based, columns in characters."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None

    def _build(self) -> list[int]:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in re.finditer("\n", self._text)]
        return self._starts

    def position(self, offset: int) -> tuple[int, int]:
        starts = self._build()
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def positions(self, offsets: Iterable[int]) -> dict[int, tuple[int, int]]:
        """Many offsets at once: one forward pass of C-level counting, no full line table."""
        wanted = sorted(set(offsets))
        if self._starts is not None:
            return {o: self.position(o) for o in wanted}
        text = self._text
        out: dict[int, tuple[int, int]] = {}
        line, pos = 1, 0
        for off in wanted:
            line += text.count("\n", pos, off)
            pos = off
            out[off] = (line, off - (text.rfind("\n", 0, off) + 1) + 1)
        return out

    def offset(self, line: int, column: int) -> int:
        """Inverse of :meth:`position` (clamped to the text)."""
        starts = self._build()
        line = max(1, min(line, len(starts)))
        return min(len(self._text), starts[line - 1] + max(0, column - 1))
