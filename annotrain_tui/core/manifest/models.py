"""The registration manifest (Encord's JSON upload format) as pydantic models.

Sources: the "Register cloud data" docs (sections, item keys, limits) and the encord SDK's
``encord.orm.storage`` DTOs (metadata fields and types; the server accepts each field both in
snake_case and camelCase, and the docs mix the two, so both are accepted here too).

These models are for building and reading manifests in code (templates, CSV conversion, the
editor). Validating a file uses :mod:`.schema`, which checks the same rules at pydantic-core speed.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    model_serializer,
    model_validator,
)

# ---------------------------------------------------------------------------------------------
# Vocabulary and limits.

SINGLE_SECTIONS: Final = ("videos", "audio", "pdfs", "text", "images", "nifti")
GROUP_SECTIONS: Final = ("image_groups", "dicom_series")
SECTIONS: Final = ("videos", "audio", "pdfs", "text", "images", "image_groups", "dicom_series", "nifti")
TOP_LEVEL_FLAGS: Final = ("skip_duplicate_urls", "upsert_metadata")
TOP_LEVEL_KEYS: Final = SECTIONS + TOP_LEVEL_FLAGS

# The file kind (see urls.EXTENSIONS) each section holds.
SECTION_KIND: Final[dict[str, str]] = {
    "videos": "video", "audio": "audio", "pdfs": "pdf", "text": "text", "images": "image",
    "image_groups": "image", "dicom_series": "dicom", "nifti": "nifti",
}
SECTION_BY_KIND: Final[dict[str, str]] = {
    "video": "videos", "audio": "audio", "pdf": "pdfs", "text": "text", "image": "images",
    "dicom": "dicom_series", "nifti": "nifti",
}
METADATA_KEY: Final[dict[str, str]] = {
    "videos": "videoMetadata", "audio": "audioMetadata", "pdfs": "pdfMetadata",
    "text": "textMetadata", "images": "imageMetadata",
}
# Keys an item of each section may have (objectUrl_N for the group sections is checked apart).
ITEM_KEYS: Final[dict[str, tuple[str, ...]]] = {
    **{s: ("objectUrl", "title", "clientMetadata") + ((METADATA_KEY[s],) if s in METADATA_KEY else ())
       for s in SINGLE_SECTIONS},
    "image_groups": ("title", "createVideo", "clientMetadata"),
    "dicom_series": ("title", "clientMetadata"),
}

OBJECT_URL_N: Final = re.compile(r"objectUrl_(0|[1-9][0-9]{0,8})")  # at most 9 digits: int() of any match is cheap and safe



def entry_urls(entry: dict[str, Any]) -> list[str]:
    """The file URLs of one manifest item: ``objectUrl``, or ``objectUrl_N`` in index order."""
    if "objectUrl" in entry:
        return [str(entry["objectUrl"])]
    numbered = sorted((int(k[len("objectUrl_"):]), str(v)) for k, v in entry.items() if OBJECT_URL_N.fullmatch(k))
    return [url for _, url in numbered]


def manifest_entries(manifest: dict[str, Any]):
    """(section, item) for every item of a manifest's JSON form, in order."""
    for section in SECTIONS:
        for entry in manifest.get(section) or []:
            if isinstance(entry, dict):
                yield section, entry


MAX_ITEMS: Final = 500_000          # per JSON file
MAX_URLS: Final = 1_000_000         # per JSON file
MAX_TITLE: Final = 300              # characters
# "Encord supports file names up to 300 characters in length for any file or video for upload."
MAX_FILE_NAME: Final = 300          # characters of the last path segment of an object URL, percent-decoded
MAX_SEQUENCE: Final = 32_767        # images in one image sequence (createVideo: true)
RECOMMENDED_SEQUENCE: Final = 15_000
MAX_CSV_ENTRIES: Final = 10_000
# "Limit uploads to 100 videos or up to 1,000 images at a time."
RECOMMENDED_VIDEOS_PER_UPLOAD: Final = 100
RECOMMENDED_IMAGES_PER_UPLOAD: Final = 1_000

# Whole numbers Encord stores are 64-bit: a metadata integer above this is refused (no wider type
# holds it on the server, and a reader would wrap it or round it).
MAX_INT64: Final = 2**63 - 1
# Beyond this, a JSON reader that holds every number as a 64-bit float (JavaScript: Encord's web
# app) no longer reads every whole number exactly: clientMetadata integers past it are warned about.
MAX_EXACT_FLOAT_INT: Final = 2**53

# Metadata fields: documented name → (other accepted spelling, JSON type, lower bound kind).
# type is "int", "number" or "string"; bound is "gt0", "ge0" or None.
METADATA_FIELDS: Final[dict[str, dict[str, tuple[str, str, str | None]]]] = {
    "videoMetadata": {
        "fps": ("fps", "number", "gt0"), "duration": ("duration", "number", "gt0"),
        "width": ("width", "int", "gt0"), "height": ("height", "int", "gt0"),
        "file_size": ("fileSize", "int", "ge0"), "mime_type": ("mimeType", "string", None),
    },
    "audioMetadata": {
        "duration": ("duration", "number", "gt0"), "file_size": ("fileSize", "int", "ge0"),
        "mime_type": ("mimeType", "string", None), "sample_rate": ("sampleRate", "int", "gt0"),
        "bit_depth": ("bitDepth", "int", "gt0"), "codec": ("codec", "string", None),
        "num_channels": ("numChannels", "int", "gt0"),
    },
    "pdfMetadata": {"fileSize": ("file_size", "int", "ge0"), "numPages": ("num_pages", "int", "gt0")},
    "textMetadata": {"fileSize": ("file_size", "int", "ge0"), "mime_type": ("mimeType", "string", None)},
    "imageMetadata": {
        "mimeType": ("mime_type", "string", None), "fileSize": ("file_size", "int", "ge0"),
        "width": ("width", "int", "gt0"), "height": ("height", "int", "gt0"),
    },
}


def metadata_aliases(block: str) -> dict[str, str]:
    """Every accepted spelling in a metadata block → its documented name."""
    out: dict[str, str] = {}
    for name, (other, _, _) in METADATA_FIELDS[block].items():
        out[name] = name
        out[other] = name
    return out


# ---------------------------------------------------------------------------------------------
# Models.

class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid", strict=True)

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


def _f(name: str, other: str, **kw: Any) -> Any:
    return Field(validation_alias=AliasChoices(name, other), serialization_alias=name, **kw)


class VideoMetadata(_Model):
    """``videoMetadata``: used as given, without looking at the file; it must be accurate."""

    fps: float = Field(gt=0, allow_inf_nan=False)
    duration: float = Field(gt=0, allow_inf_nan=False, description="seconds")
    width: int = Field(gt=0, le=MAX_INT64)
    height: int = Field(gt=0, le=MAX_INT64)
    file_size: int = _f("file_size", "fileSize", ge=0, le=MAX_INT64)
    mime_type: str = _f("mime_type", "mimeType")


class AudioMetadata(_Model):
    duration: float = Field(gt=0, allow_inf_nan=False, description="seconds")
    file_size: int = _f("file_size", "fileSize", ge=0, le=MAX_INT64)
    mime_type: str = _f("mime_type", "mimeType")
    sample_rate: int = _f("sample_rate", "sampleRate", gt=0, le=MAX_INT64)
    bit_depth: int = _f("bit_depth", "bitDepth", gt=0, le=MAX_INT64)
    codec: str
    num_channels: int = _f("num_channels", "numChannels", gt=0, le=MAX_INT64)


class PdfMetadata(_Model):
    file_size: int = _f("fileSize", "file_size", ge=0, le=MAX_INT64)
    num_pages: int = _f("numPages", "num_pages", gt=0, le=MAX_INT64)


class TextMetadata(_Model):
    file_size: int = _f("fileSize", "file_size", ge=0, le=MAX_INT64)
    mime_type: str = _f("mime_type", "mimeType")


class ImageMetadata(_Model):
    mime_type: str = _f("mimeType", "mime_type")
    file_size: int = _f("fileSize", "file_size", ge=0, le=MAX_INT64)
    width: int = Field(gt=0, le=MAX_INT64)
    height: int = Field(gt=0, le=MAX_INT64)


class _SingleItem(_Model):
    object_url: str = Field(alias="objectUrl", min_length=1)
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    client_metadata: dict[str, Any] | None = Field(default=None, alias="clientMetadata")


class VideoItem(_SingleItem):
    video_metadata: VideoMetadata | None = Field(default=None, alias="videoMetadata")


class AudioItem(_SingleItem):
    audio_metadata: AudioMetadata | None = Field(default=None, alias="audioMetadata")


class PdfItem(_SingleItem):
    pdf_metadata: PdfMetadata | None = Field(default=None, alias="pdfMetadata")


class TextItem(_SingleItem):
    text_metadata: TextMetadata | None = Field(default=None, alias="textMetadata")


class ImageItem(_SingleItem):
    image_metadata: ImageMetadata | None = Field(default=None, alias="imageMetadata")


class NiftiItem(_SingleItem):
    pass


def _collect_urls(data: Any) -> Any:
    """objectUrl_0, objectUrl_1, … → ``urls`` in index order (the JSON form → the model)."""
    if not isinstance(data, dict) or "urls" in data:
        return data
    out: dict[str, Any] = {}
    indexed: list[tuple[int, Any]] = []
    for key, value in data.items():
        m = OBJECT_URL_N.fullmatch(key)
        if m:
            indexed.append((int(m.group(1)), value))
        else:
            out[key] = value
    out["urls"] = [v for _, v in sorted(indexed, key=lambda kv: kv[0])]
    return out


class _GroupItem(_Model):
    title: str = Field(max_length=MAX_TITLE)
    urls: list[str] = Field(min_length=1, description="objectUrl_0 … objectUrl_{n-1}, in order")
    client_metadata: dict[str, Any] | None = Field(default=None, alias="clientMetadata")

    _before = model_validator(mode="before")(_collect_urls)

    def _head(self) -> dict[str, Any]:
        return {"title": self.title}

    @model_serializer(mode="plain")
    def _to_json_form(self) -> dict[str, Any]:
        out = self._head()
        for i, url in enumerate(self.urls):
            out[f"objectUrl_{i}"] = url
        if self.client_metadata is not None:
            out["clientMetadata"] = self.client_metadata
        return out


class ImageGroupItem(_GroupItem):
    """An entry of ``image_groups``: an image group (createVideo false) or an image sequence (true)."""

    create_video: bool = Field(default=False, alias="createVideo")

    def _head(self) -> dict[str, Any]:
        return {"title": self.title, "createVideo": self.create_video}


class DicomSeriesItem(_GroupItem):
    """An entry of ``dicom_series``: the files of one series."""


class Manifest(_Model):
    """A whole JSON registration manifest."""

    videos: list[VideoItem] = Field(default_factory=list)
    audio: list[AudioItem] = Field(default_factory=list)
    pdfs: list[PdfItem] = Field(default_factory=list)
    text: list[TextItem] = Field(default_factory=list)
    images: list[ImageItem] = Field(default_factory=list)
    image_groups: list[ImageGroupItem] = Field(default_factory=list)
    dicom_series: list[DicomSeriesItem] = Field(default_factory=list)
    nifti: list[NiftiItem] = Field(default_factory=list)
    skip_duplicate_urls: bool | None = None
    upsert_metadata: bool | None = None

    def to_data(self) -> dict[str, Any]:
        """The JSON form: empty sections and unset flags left out, keys in the documented spelling."""
        out: dict[str, Any] = {}
        for name in SECTIONS:
            items = getattr(self, name)
            if items:
                out[name] = [item.to_data() if not isinstance(item, _GroupItem) else item.model_dump()
                             for item in items]
        for flag in TOP_LEVEL_FLAGS:
            value = getattr(self, flag)
            if value is not None:
                out[flag] = value
        return out

    @property
    def item_count(self) -> int:
        return sum(len(getattr(self, s)) for s in SECTIONS)

    @property
    def url_count(self) -> int:
        return sum(len(getattr(self, s)) for s in SINGLE_SECTIONS) + sum(
            len(g.urls) for s in GROUP_SECTIONS for g in getattr(self, s))
