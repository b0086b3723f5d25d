"""The registration manifest's vocabulary and limits (Encord's JSON upload format), without pydantic.

Sections, item keys, metadata fields and the documented limits, read by the validator, the CSV
converter, the splitter and the templates. :mod:`.models` re-exports every name (and adds the
pydantic models for code that builds manifests); validating a file never imports pydantic unless
a section needs its schema checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

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


def manifest_entries(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
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
