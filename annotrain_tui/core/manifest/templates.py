"""New manifests: a template per data type and provider, or built from a list of URLs.

Templates have the documented shape but placeholder URLs in angle brackets
(``https://<bucket>.s3.<region>.amazonaws.com/<path/to/video-1.mp4>``) that the validator rejects,
so a forgotten placeholder can never be registered by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from annotrain_tui.core.errors import InvalidInput, UsageError
from annotrain_tui.core.manifest.models import SECTION_BY_KIND
from annotrain_tui.core.manifest.urls import PROVIDERS, kind_of

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
TYPE_CHOICES: Final = tuple(DATA_TYPES)

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
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    if key not in DATA_TYPES:
        raise UsageError(f"unknown data type '{name}'", hint=f"choose one of {', '.join(TYPE_CHOICES)}")
    return key


def _provider(provider: str | None) -> str:
    p = provider or "aws"
    if p not in PROVIDERS:
        raise UsageError(f"unknown provider '{p}'", hint=f"choose one of {', '.join(PROVIDERS)}")
    return p


def placeholder_url(data_type: str, provider: str | None = None, n: int = 1, g: int = 1) -> str:
    section = DATA_TYPES[normalise_type(data_type)][0]
    file = _EXAMPLE_FILE[section].format(n=n, g=g)
    return _PLACEHOLDER_URL[_provider(provider)].format(file=file)


def new_template(data_type: str, provider: str | None = None) -> dict[str, Any]:
    """A manifest of the documented shape for one data type, with placeholder URLs to replace."""
    kind = normalise_type(data_type)
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
