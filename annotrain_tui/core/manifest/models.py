"""The registration manifest (Encord's JSON upload format) as pydantic models.

Sources: the "Register cloud data" docs (sections, item keys, limits) and the encord SDK's
``encord.orm.storage`` DTOs (metadata fields and types; the server accepts each field both in
snake_case and camelCase, and the docs mix the two, so both are accepted here too).

These models are for building and reading manifests in code (templates, CSV conversion, the
editor). Validating a file uses :mod:`.schema`, which checks the same rules at pydantic-core speed.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    model_serializer,
    model_validator,
)

from annotrain_tui.core.manifest.spec import (
    GROUP_SECTIONS,
    ITEM_KEYS,
    MAX_CSV_ENTRIES,
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
    entry_urls,
    manifest_entries,
    metadata_aliases,
)

# The vocabulary and limits live in .spec (no pydantic); they are re-exported here.
__all__ = [
    "GROUP_SECTIONS",
    "ITEM_KEYS",
    "MAX_CSV_ENTRIES",
    "MAX_EXACT_FLOAT_INT",
    "MAX_FILE_NAME",
    "MAX_INT64",
    "MAX_ITEMS",
    "MAX_SEQUENCE",
    "MAX_TITLE",
    "MAX_URLS",
    "METADATA_FIELDS",
    "METADATA_KEY",
    "OBJECT_URL_N",
    "RECOMMENDED_IMAGES_PER_UPLOAD",
    "RECOMMENDED_SEQUENCE",
    "RECOMMENDED_VIDEOS_PER_UPLOAD",
    "SECTIONS",
    "SECTION_BY_KIND",
    "SECTION_KIND",
    "SINGLE_SECTIONS",
    "TOP_LEVEL_FLAGS",
    "TOP_LEVEL_KEYS",
    "entry_urls",
    "manifest_entries",
    "metadata_aliases",
    "VideoMetadata",
    "AudioMetadata",
    "PdfMetadata",
    "TextMetadata",
    "ImageMetadata",
    "VideoItem",
    "AudioItem",
    "PdfItem",
    "TextItem",
    "ImageItem",
    "NiftiItem",
    "ImageGroupItem",
    "DicomSeriesItem",
    "Manifest",
]


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
