"""Metadata a user types for a storage folder (the TUI's "new folder" dialog): JSON or ``k=v`` pairs.

JSON goes through the one strict reader (core/jsonread.py): ``1e400`` is refused, not stored as
null; ``NaN`` is refused; and whole numbers must fit the 64 bits Encord stores.
"""

from __future__ import annotations

from typing import Any

from annotrain_tui.core.errors import InvalidInput
from annotrain_tui.core.jsonread import JsonProblem, loads
from annotrain_tui.core.text import shown

INT64 = 2**63 - 1


def parse_metadata(text: str) -> dict[str, Any]:
    """Folder metadata typed as JSON (``{"k": "v"}``) or as ``k=v, k2=v2``; one InvalidInput otherwise."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = loads(text)
        except JsonProblem as exc:
            where = f" at column {exc.offset + 1}" if exc.offset is not None else ""
            raise InvalidInput(f"metadata is not valid JSON{where}: {exc.message}") from None
        if not isinstance(value, dict):
            raise InvalidInput("metadata must be a JSON object")
        _check_integers(value)
        return value
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"metadata '{shown(part.strip(), limit=60)}' is not key=value")
        out[key.strip()] = value.strip()
    return out


def _check_integers(value: Any) -> None:
    stack = [value]
    while stack:  # iterative: nesting depth is bounded by the reader, not by Python's stack
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool) and not -INT64 - 1 <= item <= INT64:
            raise InvalidInput(f"metadata holds the whole number {shown(str(item), limit=30)}, larger than the "
                               f"64 bits Encord stores ({INT64}): write it as a string")
