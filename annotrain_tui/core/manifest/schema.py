"""The validation schema: TypedDicts checked by pydantic-core.

Used for sections that are not plain lists of {"objectUrl", "title"} items (see rules.py): one
pydantic-core pass reports every wrong type, unknown key, missing field and bound, each with its
location. URLs are checked apart, over the whole list at once. The public models in
:mod:`.models` describe the same format for code that builds manifests.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, NotRequired, Required

from pydantic import AliasChoices, ConfigDict, Field, StringConstraints, TypeAdapter
from typing_extensions import TypedDict

from annotrain_tui.core.manifest.spec import (
    MAX_INT64,
    MAX_TITLE,
    METADATA_FIELDS,
    METADATA_KEY,
    SINGLE_SECTIONS,
)
from annotrain_tui.core.manifest.urls import MAX_URL_BYTES

# A URL longer than this many characters may exceed 16 KB once UTF-8 encoded; the few that do
# are measured exactly. (4 bytes is the longest UTF-8 encoding of one character.)
URL_CHAR_PREFILTER = MAX_URL_BYTES // 4

Title = Annotated[str, StringConstraints(max_length=MAX_TITLE)]

_STRICT = ConfigDict(extra="forbid", strict=True)
_OPEN = ConfigDict(extra="allow", strict=True)

_PY_TYPES: dict[str, Any] = {"int": int, "number": float, "string": str}


def _metadata_typed_dict(block: str) -> Any:
    fields: dict[str, Any] = {}
    for name, (other, kind, bound) in METADATA_FIELDS[block].items():
        kw: dict[str, Any] = {}
        if bound == "gt0":
            kw["gt"] = 0
        elif bound == "ge0":
            kw["ge"] = 0
        if kind == "int":
            kw["le"] = MAX_INT64  # 2**64 is a Python int; Encord stores 64-bit whole numbers
        if kind == "number":
            kw["allow_inf_nan"] = False  # inf/NaN never reach here from JSON (jsonread), but may from code
        alias = AliasChoices(name, other) if other != name else None
        fields[name] = Required[Annotated[_PY_TYPES[kind], Field(validation_alias=alias, **kw)]]
    td = TypedDict(block[0].upper() + block[1:], fields)  # type: ignore[misc]
    td.__pydantic_config__ = _STRICT  # type: ignore[attr-defined]
    return td


def _single_item_typed_dict(section: str) -> Any:
    fields: dict[str, Any] = {
        "objectUrl": Required[str],
        "title": NotRequired[Title],
        "clientMetadata": NotRequired[dict[str, Any]],
    }
    if section in METADATA_KEY:
        block = METADATA_KEY[section]
        fields[block] = NotRequired[_metadata_typed_dict(block)]
    td = TypedDict(f"{section.title()}Item", fields)  # type: ignore[misc]
    td.__pydantic_config__ = _STRICT  # type: ignore[attr-defined]
    return td


class ImageGroupEntry(TypedDict):
    __pydantic_config__ = _OPEN  # type: ignore[misc]  # objectUrl_N keys are checked in Python
    title: Required[Title]
    createVideo: NotRequired[bool]
    clientMetadata: NotRequired[dict[str, Any]]


class DicomSeriesEntry(TypedDict):
    __pydantic_config__ = _OPEN  # type: ignore[misc]
    title: Required[Title]
    clientMetadata: NotRequired[dict[str, Any]]


@cache
def section_adapter(section: str) -> TypeAdapter[Any]:
    """Validates the list of entries of one section (built on first use)."""
    if section == "image_groups":
        return TypeAdapter(list[ImageGroupEntry])
    if section == "dicom_series":
        return TypeAdapter(list[DicomSeriesEntry])
    if section not in SINGLE_SECTIONS:
        raise KeyError(section)
    return TypeAdapter(list[_single_item_typed_dict(section)])  # type: ignore[misc,arg-type]
