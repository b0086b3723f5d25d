"""New manifests: a template per data type and provider, or built from a list of URLs.

Besides one template per data type (DATA_TYPES), TEMPLATES holds what the seeds show beyond it:
each type's media metadata variant (videoMetadata, audioMetadata, imageMetadata, pdfMetadata,
textMetadata), clientMetadata key frames for videos, several data types in one file, and
Multi-Region Access Point objects. TYPE_CHOICES lists both (the CLI's --type help reads it).

Templates have the documented shape but placeholder URLs in angle brackets
(``https://<bucket>.s3.<region>.amazonaws.com/<path/to/video-1.mp4>``) that the validator rejects,
so a forgotten placeholder can never be registered by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from annotrain_tui.core.errors import InvalidInput, UsageError
from annotrain_tui.core.manifest.spec import SECTION_BY_KIND
from annotrain_tui.core.manifest.urls import PROVIDER_NAMES, PROVIDERS, kind_of

# Data types a user can ask for → (section, createVideo for image_groups).
DATA_TYPES: Final[dict[str, tuple[str, bool | None]]] = {
    "videos": ("videos", None),
    "audio": ("audio", None),
    "pdfs": ("pdfs", None),
    "text": ("text", None),
    "images": ("images", None),
    "image_groups": ("image_groups", False),
    "image_sequences": ("image_groups", True),
    "dicom_series": ("dicom_series", None),
    "nifti": ("nifti", None),
}
ALIASES: Final[dict[str, str]] = {
    "video": "videos", "image": "images", "pdf": "pdfs", "image_group": "image_groups", "group": "image_groups",
    "groups": "image_groups", "image_sequence": "image_sequences", "sequence": "image_sequences",
    "sequences": "image_sequences", "dicom": "dicom_series", "series": "dicom_series", "nii": "nifti",
}
# Templates for what the seeds show beyond one plain data type → the data type a URL list given
# with that name registers as (``None``: each URL's section from its extension).
TEMPLATES: Final[dict[str, str | None]] = {
    "videos_metadata": "videos",
    "audio_metadata": "audio",
    "images_metadata": "images",
    "pdfs_metadata": "pdfs",
    "text_metadata": "text",
    "videos_key_frames": "videos",
    "mixed": None,
    "mrap": "videos",
}
ALIASES.update({
    "video_metadata": "videos_metadata", "videometadata": "videos_metadata",
    "audiometadata": "audio_metadata",
    "image_metadata": "images_metadata", "imagemetadata": "images_metadata",
    "pdf_metadata": "pdfs_metadata", "pdfmetadata": "pdfs_metadata",
    "textmetadata": "text_metadata",
    "client_metadata": "videos_key_frames", "clientmetadata": "videos_key_frames", "key_frames": "videos_key_frames",
    "keyframes": "videos_key_frames", "video_key_frames": "videos_key_frames",
    "videos_client_metadata": "videos_key_frames",
    "multiple": "mixed", "multiple_types": "mixed", "multiple_file_types": "mixed", "several": "mixed",
    "multi_region_access_point": "mrap", "videos_mrap": "mrap",
})
TYPE_CHOICES: Final = tuple(DATA_TYPES) + tuple(TEMPLATES)

_EXAMPLE_FILE: Final[dict[str, str]] = {
    "videos": "video-{n}.mp4", "audio": "audio-{n}.mp3", "pdfs": "document-{n}.pdf", "text": "file-{n}.txt",
    "images": "image-{n}.jpg", "image_groups": "group-{g}/image-{n}.jpg", "dicom_series": "series-{g}/slice-{n}.dcm",
    "nifti": "volume-{n}.nii.gz",
}
_PLACEHOLDER_URL: Final[dict[str, str]] = {
    "aws": "https://<bucket>.s3.<region>.amazonaws.com/<path/to/{file}>",
    "gcp": "https://storage.cloud.google.com/<bucket>/<path/to/{file}>",
    "azure": "https://<account>.blob.core.windows.net/<container>/<path/to/{file}>",
    "otc": "https://<bucket>.obs.<region>.otc.t-systems.com/<path/to/{file}>",
    "wasabi": "https://s3.<region>.wasabisys.com/<bucket>/<path/to/{file}>",
    "oracle": "https://objectstorage.<region>.oraclecloud.com/n/<namespace>/b/<bucket>/o/<path/to/{file}>",
    "direct": "https://<host>/<path/to/{file}>",
}


def normalise_type(name: str) -> str:
    """The canonical name of a data type or template (aliases and spellings accepted)."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    if key not in DATA_TYPES and key not in TEMPLATES:
        raise UsageError(f"unknown data type '{name}'", hint=f"choose one of {', '.join(TYPE_CHOICES)}")
    return key


def _provider(provider: str | None) -> str:
    p = provider or "aws"
    if p not in PROVIDERS:
        raise UsageError(f"unknown provider '{p}'", hint=f"choose one of {', '.join(PROVIDERS)}")
    return p


def placeholder_url(data_type: str, provider: str | None = None, n: int = 1, g: int = 1, *,
                    file: str | None = None) -> str:
    kind = normalise_type(data_type)
    if kind in TEMPLATES:
        kind = TEMPLATES[kind] or "images"
    section = DATA_TYPES[kind][0]
    name = file if file is not None else _EXAMPLE_FILE[section].format(n=n, g=g)
    return _PLACEHOLDER_URL[_provider(provider)].format(file=name)


def new_template(data_type: str, provider: str | None = None) -> dict[str, Any]:
    """A manifest of the documented shape for one data type or template, with placeholder URLs to replace."""
    kind = normalise_type(data_type)
    if kind in TEMPLATES:
        return _TEMPLATE_BUILDERS[kind](_provider(provider))
    section, create = DATA_TYPES[kind]
    prov = _provider(provider)
    items: list[dict[str, Any]] = []
    if section in ("image_groups", "dicom_series"):
        what = {"image_groups": "image group", "dicom_series": "series"}[section]
        if create:
            what = "image sequence"
        for g in (1, 2):
            item: dict[str, Any] = {"title": f"my-{what.replace(' ', '-')}-{g}"}
            if create is not None:
                item["createVideo"] = create
            for n in range(3):
                item[f"objectUrl_{n}"] = placeholder_url(kind, prov, n=n + 1, g=g)
            items.append(item)
    else:
        items.append({"objectUrl": placeholder_url(kind, prov, n=1)})
        second = {"objectUrl": placeholder_url(kind, prov, n=2)}
        second["title"] = _EXAMPLE_FILE[section].format(n=2, g=1).replace("-2", "-2-custom-title")
        items.append(second)
    return {section: items, "skip_duplicate_urls": True}


# ---------------------------------------------------------------------------------------------
# The templates for what the seeds show. Metadata values are the seeds' own examples (real numbers,
# so they validate: the placeholders are only in the URLs, which the validator rejects until they
# are replaced). Field names are the seeds' documented spellings (models.METADATA_FIELDS).

# "Video Metadata" (both seeds): fps, duration, width, height, file_size, mime_type.
_VIDEO_METADATA: Final = {"fps": 23.98, "duration": 29.09, "width": 1280, "height": 720, "file_size": 5468354,
                          "mime_type": "video/mp4"}
# "Audio Metadata": duration, file_size, mime_type, sample_rate, bit_depth, codec, num_channels.
_AUDIO_METADATA: Final = {"duration": 23.98, "file_size": 2900000, "mime_type": "audio/mp3", "sample_rate": 44100,
                          "bit_depth": 24, "codec": "mp3", "num_channels": 2}
# PDFs: fileSize, numPages.
_PDF_METADATA: Final = {"fileSize": 300, "numPages": 5}
# "Image Metadata": mimeType, fileSize, width, height.
_IMAGE_METADATA: Final = {"mimeType": "image/jpg", "fileSize": 124, "width": 640, "height": 480}
# Text files: fileSize, mime_type (the seed's four examples: plain text, CSV, XML, HTML).
_TEXT_FILES: Final = (("my-plain-text-file.txt", 200, "text/plain"), ("my-csv-file.csv", 250, "text/csv"),
                      ("my-xml-file.xml", 300, "application/xml"), ("my-html-file.html", 400, "text/html"))


def _metadata_template(section: str, block: str, metadata: dict[str, Any], files: tuple[str, str],
                       provider: str) -> dict[str, Any]:
    """The seed's shape: one item without media metadata, one with it (used as given: it must be accurate)."""
    plain, described = files
    return {section: [{"objectUrl": placeholder_url(section, provider, file=plain)},
                      {"objectUrl": placeholder_url(section, provider, file=described), "title": described,
                       block: dict(metadata)}],
            "skip_duplicate_urls": True}


def _videos_metadata(provider: str) -> dict[str, Any]:
    return _metadata_template("videos", "videoMetadata", _VIDEO_METADATA, ("video-1.mp4", "video-2.mp4"), provider)


def _audio_metadata(provider: str) -> dict[str, Any]:
    return _metadata_template("audio", "audioMetadata", _AUDIO_METADATA, ("audio-1.mp3", "audio-2.mp3"), provider)


def _images_metadata(provider: str) -> dict[str, Any]:
    return _metadata_template("images", "imageMetadata", _IMAGE_METADATA, ("image-1.jpg", "image-2.jpg"), provider)


def _pdfs_metadata(provider: str) -> dict[str, Any]:
    return _metadata_template("pdfs", "pdfMetadata", _PDF_METADATA, ("document-1.pdf", "document-2.pdf"), provider)


def _text_metadata(provider: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"objectUrl": placeholder_url("text", provider, file="my-file.html")}]
    for name, size, mime in _TEXT_FILES:
        items.append({"objectUrl": placeholder_url("text", provider, file=name), "title": name,
                      "textMetadata": {"fileSize": size, "mime_type": mime}})
    return {"text": items, "skip_duplicate_urls": True}


# Both seeds: "If you want to use Index or Active with your video data, we STRONGLY RECOMMEND using
# custom metadata (`clientMetadata`) to specify key frames, custom metadata, and custom embeddings."
# Encord's custom-metadata pages reserve the key "keyframes" for that: a list of frame numbers.
_KEY_FRAMES: Final = ([13, 17, 19, 23, 127, 149, 307, 557], [0, 24, 48, 96])


def _videos_key_frames(provider: str) -> dict[str, Any]:
    items = []
    for n, frames in enumerate(_KEY_FRAMES, start=1):
        item: dict[str, Any] = {"objectUrl": placeholder_url("videos", provider, n=n)}
        if n == 2:
            item["title"] = "video-2-custom-title.mp4"
        item["clientMetadata"] = {"keyframes": list(frames)}
        items.append(item)
    return {"videos": items, "skip_duplicate_urls": True}


def _mixed(provider: str) -> dict[str, Any]:
    """The seed's "Multiple file types": 1 image, 2 videos, 2 image sequences and 1 image group in one
    file (the seed writes "image_groups" twice, and JSON keeps only the last: here it is one array)."""
    def group(title: str, create: bool, folder: str, n: int) -> dict[str, Any]:
        item: dict[str, Any] = {"title": title, "createVideo": create}
        for i in range(n):
            item[f"objectUrl_{i}"] = placeholder_url("images", provider, file=f"{folder}/image-{i + 1}.jpg")
        return item

    return {
        "images": [{"objectUrl": placeholder_url("images", provider, file="image-1.jpg")}],
        "videos": [{"objectUrl": placeholder_url("videos", provider, file="video-1.mp4")},
                   {"objectUrl": placeholder_url("videos", provider, file="video-2.mp4"),
                    "title": "video-2-custom-title.mp4"}],
        "image_groups": [group("my-image-sequence-1", True, "sequence-1", 4),
                         group("my-image-sequence-2", True, "sequence-2", 4),
                         group("my-image-group-1", False, "group-1", 2)],
        "skip_duplicate_urls": True,
    }


# "Use a Multi-Region Access Point": "objects are specified using the ARN of the Multi-Region
# Access Point followed by the object name", written as in the seed's "MRAP Example".
MRAP_PLACEHOLDER: Final = ("https://arn:aws:s3::<account-id>:accesspoint/<alias>.mrap.s3-accesspoint.amazonaws.com/"
                           "<path/to/{file}>")


def _mrap(provider: str) -> dict[str, Any]:
    if provider != "aws":
        raise UsageError(f"a Multi-Region Access Point is an AWS S3 feature; the provider {provider} is "
                         f"{PROVIDER_NAMES[provider]}", hint="use --provider aws (or no --provider) with --type mrap")
    return {"videos": [{"objectUrl": MRAP_PLACEHOLDER.format(file="video-1.mp4")},
                       {"objectUrl": MRAP_PLACEHOLDER.format(file="video-2.mp4"),
                        "title": "my-custom-video-title.mp4"}],
            "skip_duplicate_urls": True}


_TEMPLATE_BUILDERS: Final = {
    "videos_metadata": _videos_metadata, "audio_metadata": _audio_metadata, "images_metadata": _images_metadata,
    "pdfs_metadata": _pdfs_metadata, "text_metadata": _text_metadata, "videos_key_frames": _videos_key_frames,
    "mixed": _mixed, "mrap": _mrap,
}
assert set(_TEMPLATE_BUILDERS) == set(TEMPLATES)


@dataclass
class UrlList:
    urls: list[tuple[int, str]] = field(default_factory=list)  # (line number, URL)


def read_url_list(text: str) -> UrlList:
    """One URL per line; blank lines and lines starting with # are skipped; a BOM is ignored."""
    out = UrlList()
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        out.urls.append((number, line))
    return out


def _folder(url: str) -> str:
    path = url.split("?", 1)[0].split("#", 1)[0]
    return path.rsplit("/", 1)[0] if "/" in path else ""


def from_urls(text: str, data_type: str | None = None, *, title: str | None = None) -> dict[str, Any]:
    """A manifest from a list of URLs.

    Without ``data_type`` each URL's section comes from its extension (an unknown extension is an
    error naming the lines). Image groups, image sequences and DICOM series gather the URLs of one
    folder, in the order given, titled by the folder name (or ``title`` when there is one folder).
    """
    listing = read_url_list(text)
    if not listing.urls:
        raise InvalidInput("the URL list is empty: write one URL per line")
    forced = normalise_type(data_type) if data_type else None
    if forced in TEMPLATES:  # a template's name with a URL list: the data type it shows (metadata is not known)
        forced = TEMPLATES[forced]
    by_type: dict[str, list[str]] = {}
    unknown: list[tuple[int, str]] = []
    for number, url in listing.urls:
        if forced:
            kind = forced
        else:
            file_kind = kind_of(url)
            if file_kind is None:
                unknown.append((number, url))
                continue
            kind = SECTION_BY_KIND[file_kind]
        by_type.setdefault(kind, []).append(url)
    if unknown:
        shown = "; ".join(f"line {n}: {u[:80]}" for n, u in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise InvalidInput(f"cannot tell the data type of {len(unknown)} URL{'s' if len(unknown) != 1 else ''} from "
                           f"the extension ({shown}{more})", hint="pass --type")
    data: dict[str, Any] = {}
    for kind, urls in by_type.items():
        section, create = DATA_TYPES[kind]
        if section not in ("image_groups", "dicom_series"):
            data.setdefault(section, []).extend({"objectUrl": u} for u in urls)
            continue
        folders: dict[str, list[str]] = {}
        for u in urls:
            folders.setdefault(_folder(u), []).append(u)
        used: set[str] = set()
        entries = data.setdefault(section, [])
        for folder, members in folders.items():
            if title and len(folders) == 1:
                name = title
            else:
                name = folder.rsplit("/", 1)[-1] or f"{section}-{len(entries) + 1}"
            base, k = name, 2
            while name in used:
                name, k = f"{base}-{k}", k + 1
            used.add(name)
            item: dict[str, Any] = {"title": name}
            if section == "image_groups":
                item["createVideo"] = bool(create)
            for i, u in enumerate(members):
                item[f"objectUrl_{i}"] = u
            entries.append(item)
    data["skip_duplicate_urls"] = True
    return data


@dataclass(frozen=True)
class TemplateText:
    """A new manifest as text: ``source`` is the file of URLs it was made from (None: a template)."""

    text: str
    source: Any = None  # pathlib.Path


def template_text(kind: str, provider: str, urls: str = "", *, csv: bool = False) -> TemplateText:
    """The text of a new manifest (what the editor's Ctrl+T and `manifest new` make): a template of
    ``kind`` for ``provider``, or, with ``urls`` (a path the user typed), one item per URL in that
    file; as CSV when ``csv``, else JSON. Reads the file (a FIFO or device is refused, not read);
    raises InvalidInput when it is not UTF-8 text. Slow for a big file: call it from a worker."""
    from annotrain_tui.core.files import display_path, read_user_bytes, user_path
    from annotrain_tui.core.manifest.convert import dump_json
    from annotrain_tui.core.manifest.validate import decode

    source = None
    if urls:
        source = user_path(urls)
        text, problem = decode(read_user_bytes(source))
        if text is None:
            raise InvalidInput(f"{display_path(urls)}: {problem.message if problem else 'not UTF-8 text'}")
        manifest = from_urls(text, kind or None)
    else:
        manifest = new_template(kind, provider)
    if csv:
        from annotrain_tui.core.manifest.csv import to_csv

        return TemplateText(to_csv(manifest)[0], source)
    return TemplateText(dump_json(manifest), source)
