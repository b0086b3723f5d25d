"""URL rules for registration manifests: what an object URL must look like, per provider.

Every pattern here is written so that both Python's ``re`` and the Rust ``regex`` crate inside
pydantic-core accept it (no look-around, no back-references): the validator checks half a million
URLs in pydantic-core and only explains the few that fail, in Python, with the same pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Final, Literal, get_args
from urllib.parse import urlsplit

from annotrain_tui.core.text import shown

Provider = Literal["aws", "gcp", "azure", "otc", "wasabi", "oracle", "direct"]
PROVIDERS: Final[tuple[str, ...]] = get_args(Provider)

PROVIDER_NAMES: Final[dict[str, str]] = {
    "aws": "AWS S3",
    "gcp": "Google Cloud Storage",
    "azure": "Azure Blob Storage",
    "otc": "Open Telekom Cloud OBS",
    "wasabi": "Wasabi",
    "oracle": "Oracle Cloud Object Storage",
    "direct": "Direct Access",
}

# What a URL for each provider looks like (shown in messages and templates).
PROVIDER_EXAMPLES: Final[dict[str, str]] = {
    "aws": "https://BUCKET.s3.REGION.amazonaws.com/path/to/file",
    "gcp": "https://storage.cloud.google.com/BUCKET/path/to/file",
    "azure": "https://ACCOUNT.blob.core.windows.net/CONTAINER/path/to/file",
    "otc": "https://BUCKET.obs.REGION.otc.t-systems.com/path/to/file",
    "wasabi": "https://s3.REGION.wasabisys.com/BUCKET/path/to/file",
    "oracle": "https://objectstorage.REGION.oraclecloud.com/n/NAMESPACE/b/BUCKET/o/path/to/file",
    "direct": "https://files.example.com/path/to/file",
}

MAX_URL_BYTES: Final = 16 * 1024  # "URLs can be up to 16 KB in size"

# Characters that never appear raw in a usable URL: whitespace, controls, the delimiters
# placeholders are written with (<object url>, {bucket}), a backslash (a Windows path), the
# ellipsis character and invisible format characters.
FORBIDDEN_CHARS: Final = "<>{}\"\\^|`"
_FORBIDDEN_CLASS = r"""\s\x00-\x1f\x7f<>{}"\\^|`\u2026\u200b-\u200d\u2060\ufeff\ud800-\udfff"""
FORBIDDEN_RE: Final = re.compile(f"[{_FORBIDDEN_CLASS}]")
# Bytes of an ASCII URL that need no further look (newline: the separator of joined URL lists).
URL_OK_BYTES: Final = bytes(c for c in range(0x21, 0x7F) if chr(c) not in FORBIDDEN_CHARS) + b"\n"

_SAFE = f"[^{_FORBIDDEN_CLASS}]"
_LABEL = r"[A-Za-z0-9_-]+"
_HOST = rf"{_LABEL}(?:\.{_LABEL})+"  # a real domain name has a dot ("https://my-bucket/" is a placeholder)
_MRAP_ARN = r"(?:https://)?arn:aws[a-z-]*:s3::[0-9]+:accesspoint/"

ABSOLUTE_URL_PATTERN: Final = (
    rf"(?:https?://{_HOST}\.?(?::[0-9]{{1,5}})?(?:[/?#]{_SAFE}*)?"
    rf"|(?:s3|gs)://[a-z0-9][a-z0-9._-]*(?:/{_SAFE}*)?"
    rf"|{_MRAP_ARN}{_SAFE}+)"
)
ABSOLUTE_URL_RE: Final = re.compile(ABSOLUTE_URL_PATTERN)  # use with fullmatch

_SCHEME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def host_key(url: str) -> str:
    """The URL up to and including the '/' that ends its host ("https://h.example.com/").

    Without such a '/', the whole URL followed by a newline (a marker no URL contains).
    Every URL with the same key has the same scheme and host, so host-level rules are decided
    once per key instead of once per URL.
    """
    m = _SCHEME_RE.match(url)
    start = m.end() if m else 0
    end = url.find("/", start)
    return url[: end + 1] if end >= 0 else url + "\n"


# A key such as "https:/" (a typo'd scheme, so no host) starts URLs of other keys too ("https://h/…").
_SCHEME_TYPO_KEY: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/")


def is_prefix_key(key: str) -> bool:
    """Whether every URL that starts with this host key has it as its host key.

    True of every key but the whole-URL ones (ending in a newline) and those of a scheme with one
    slash ("https:/…"): a URL that starts with "https:/" may go on with a second '/' and a host.
    """
    return key.endswith("/") and _SCHEME_TYPO_KEY.fullmatch(key) is None


def key_probe(key: str) -> str:
    """A URL standing for every URL with this host key (for the host-level checks)."""
    return key[:-1] if key.endswith("\n") else key + "x"


_AWS_SUFFIX = r"\.amazonaws\.com(?:\.cn)?"
_AWS_S3 = r"s3(?:[.-]dualstack)?(?:[.-][a-z0-9-]+)?"
# The URL forms of each provider, decided on the scheme and host (see host_key).
PROVIDER_PATTERNS: Final[dict[str, str]] = {
    "aws": (
        r"(?i)(?:"
        rf"https://[a-z0-9][a-z0-9.-]*\.{_AWS_S3}{_AWS_SUFFIX}/"  # virtual-hosted: BUCKET.s3.REGION.amazonaws.com
        rf"|https://{_AWS_S3}{_AWS_SUFFIX}/"  # path-style: s3.REGION.amazonaws.com/BUCKET/…
        rf"|https://[a-z0-9-]+\.s3-accesspoint(?:\.dualstack)?\.[a-z0-9-]+{_AWS_SUFFIX}/"  # access point
        rf"|https://[a-z0-9]+\.mrap\.accesspoint\.s3-global{_AWS_SUFFIX}/"  # Multi-Region Access Point host
        rf"|{_MRAP_ARN}"  # Multi-Region Access Point ARN followed by the object name (as the docs show)
        r"|s3://"
        r")"
    ),
    "gcp": (
        r"(?i)(?:https://storage\.(?:cloud\.google|googleapis)\.com/"
        r"|https://[a-z0-9][a-z0-9._-]*\.storage\.googleapis\.com/"
        r"|gs://)"
    ),
    "azure": r"(?i)https://[a-z0-9]+\.blob\.core\.(?:windows\.net|usgovcloudapi\.net|chinacloudapi\.cn)/",
    "otc": r"(?i)https://(?:[a-z0-9][a-z0-9.-]*\.)?obs(?:\.[a-z0-9-]+)?\.otc\.t-systems\.com/",
    "wasabi": r"(?i)https://(?:[a-z0-9][a-z0-9.-]*\.)?s3(?:\.[a-z0-9-]+)?\.wasabisys\.com/",
    "oracle": (
        r"(?i)https://(?:[a-z0-9-]+\.compat\.)?objectstorage\.[a-z0-9-]+\."
        r"(?:oraclecloud\.com|oci\.customer-oci\.com)/"
    ),
    "direct": r"https://",
}


class _Compiled(Mapping[str, re.Pattern[str]]):
    """PROVIDER_PATTERNS compiled on first use (most runs of the validator never read one)."""

    def __init__(self, patterns: Mapping[str, str]) -> None:
        self._patterns = patterns
        self._compiled: dict[str, re.Pattern[str]] = {}

    def __getitem__(self, key: str) -> re.Pattern[str]:
        rx = self._compiled.get(key)
        if rx is None:
            rx = self._compiled[key] = re.compile(self._patterns[key])
        return rx

    def __iter__(self) -> Iterator[str]:
        return iter(self._patterns)

    def __len__(self) -> int:
        return len(self._patterns)


PROVIDER_RES: Final[Mapping[str, re.Pattern[str]]] = _Compiled(PROVIDER_PATTERNS)

# ---------------------------------------------------------------------------------------------
# File kinds by extension (used to warn about an .mp4 under "images" and to pick a section).

FileKind = Literal["video", "image", "audio", "pdf", "text", "dicom", "nifti"]

EXTENSIONS: Final[dict[str, frozenset[str]]] = {
    "video": frozenset({"mp4", "mov", "m4v", "webm", "mkv", "avi", "mpeg", "mpg", "wmv", "flv", "3gp", "ogv", "mts"}),
    "image": frozenset({"jpg", "jpeg", "jpe", "jfif", "png", "bmp", "tif", "tiff", "webp", "gif", "avif", "heic",
                        "heif", "svg"}),
    "audio": frozenset({"mp3", "wav", "flac", "aac", "m4a", "ogg", "oga", "opus", "wma", "aiff", "aif", "eac3"}),
    "pdf": frozenset({"pdf"}),
    "text": frozenset({"txt", "html", "htm", "csv", "tsv", "xml", "json", "md", "log", "yaml", "yml"}),
    "dicom": frozenset({"dcm", "dicom"}),
    "nifti": frozenset({"nii", "nii.gz"}),
}
# Extensions a kind also tolerates although another kind lists them (a .webm can be audio only).
_ALSO_ACCEPTS: Final[dict[str, frozenset[str]]] = {"audio": frozenset({"webm", "mp4"})}

KIND_BY_EXTENSION: Final[dict[str, str]] = {ext: kind for kind, exts in EXTENSIONS.items() for ext in exts}


def extension(url: str) -> str:
    """The lower-case extension of the file a URL names ('' when there is none); 'nii.gz' is one."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".nii.gz"):
        return "nii.gz"
    if "." not in name:
        return ""
    return name.rsplit(".", 1)[1]


def kind_of(url: str) -> str | None:
    """The file kind its extension says, or None when the extension is unknown."""
    return KIND_BY_EXTENSION.get(extension(url))


def foreign_extensions(kind: str) -> frozenset[str]:
    """Known extensions that belong to another kind (and that ``kind`` does not tolerate)."""
    own = EXTENSIONS[kind] | _ALSO_ACCEPTS.get(kind, frozenset())
    return frozenset(KIND_BY_EXTENSION) - own


def foreign_extension_regex(kind: str) -> re.Pattern[str]:
    """Finds, in newline-joined URLs, a file extension of another kind at the end of a path.

    A cheap pre-filter: every hit is re-checked with :func:`extension` (a query string such as
    ``?name=a.mp4`` can match).
    """
    exts = sorted((re.escape(e) for e in foreign_extensions(kind)), key=len, reverse=True)
    return re.compile(r"\.(?:" + "|".join(exts) + r")(?=[?#\n]|\Z)", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# MIME types in media metadata ("mime_type": "video/mp4" in videoMetadata …).

# type/subtype (RFC 6838 restricted names), optionally followed by parameters ("; charset=utf-8").
MIME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(?:[ \t]*;.*)?")
# application/… types that name a file kind; every other application/… type names none.
_APPLICATION_KINDS: Final[dict[str, str]] = {
    "pdf": "pdf", "dicom": "dicom", "xml": "text", "json": "text", "csv": "text", "yaml": "text",
    "x-yaml": "text", "xhtml+xml": "text", "rtf": "text", "mp4": "video", "x-matroska": "video",
}
# MIME types a section also takes although they name another kind (a container of audio only).
_MIME_ALSO: Final[dict[str, frozenset[str]]] = {
    "audio": frozenset({"video/mp4", "video/webm", "video/ogg", "application/mp4"}),
}
# A MIME type to suggest for each kind (the seeds' own values where they give one).
MIME_EXAMPLES: Final[dict[str, str]] = {
    "video": "video/mp4", "audio": "audio/mp3", "image": "image/jpeg", "text": "text/plain", "pdf": "application/pdf",
    "dicom": "application/dicom", "nifti": "application/octet-stream",
}


def mime_kind(mime: str) -> str | None:
    """The file kind a MIME type names (``video/mp4`` → ``video``); None when it names none."""
    essence = mime.split(";", 1)[0].strip().lower()
    major, _, minor = essence.partition("/")
    if major in ("video", "image", "audio", "text"):
        return major
    if major == "application":
        kind = _APPLICATION_KINDS.get(minor)
        if kind is None and minor.endswith(("+xml", "+json")):
            kind = "text"
        return kind
    return None


def mime_problem(mime: str, kind: str) -> str | None:
    """Why ``mime`` is no MIME type for a file of ``kind`` (None when it may be one)."""
    if not MIME_RE.fullmatch(mime):
        return "not-mime"
    essence = mime.split(";", 1)[0].strip().lower()
    if essence in _MIME_ALSO.get(kind, ()):
        return None
    named = mime_kind(mime)
    if named is not None and named != kind:
        return named
    return None


# ---------------------------------------------------------------------------------------------
# Multi-Region Access Points: "the ARN of the Multi-Region Access Point followed by the object name".

MRAP_KEY_RE: Final = re.compile(r"(?:https://)?arn:aws[a-z-]*:s3::[0-9]+:accesspoint/")
# What follows the ARN's "accesspoint/": the alias (it ends in .mrap), the seed's host form
# (ALIAS.mrap.s3-accesspoint.amazonaws.com) or AWS's global endpoint, then "/" and the object name.
MRAP_OBJECT_PATTERN: Final = (r"[A-Za-z0-9-]+\.mrap(?:\.s3-accesspoint\.amazonaws\.com"
                              r"|\.accesspoint\.s3-global\.amazonaws\.com)?/[^/\n]")
MRAP_EXAMPLE: Final = ("https://arn:aws:s3::123456789012:accesspoint/ALIAS.mrap.s3-accesspoint.amazonaws.com/"
                       "path/to/file")


def is_mrap_key(key: str) -> bool:
    """Whether a host key (see host_key) is a Multi-Region Access Point ARN."""
    return MRAP_KEY_RE.fullmatch(key) is not None


def mrap_form_problem(url: str) -> str | None:
    """A message when a URL starting with a Multi-Region Access Point ARN does not go on with an object."""
    m = MRAP_KEY_RE.match(url)
    if m is None:
        return None
    rest = url[m.end():]
    if re.match(MRAP_OBJECT_PATTERN, rest):
        return None
    alias = rest.split("/", 1)[0]
    if not alias:
        why = "no access point alias follows 'accesspoint/'"
    elif ".mrap" not in alias:
        why = f"'{_shorten(alias, 40)}' is not a Multi-Region Access Point alias (an alias ends in .mrap)"
    elif "/" not in rest or not rest.split("/", 1)[1]:
        why = "no object name follows the access point"
    else:
        why = f"'{_shorten(alias, 60)}' is not an alias (ALIAS.mrap) or the seed's host form of one"
    return (f"this is a Multi-Region Access Point ARN, but {why}: write the ARN followed by the object name, "
            f"e.g. {MRAP_EXAMPLE}")


# ---------------------------------------------------------------------------------------------
# Explaining a URL that failed the pattern.

_PLACEHOLDER_WORDS = re.compile(
    r"(?i)\b(?:your[-_ ]?bucket|cloud-path-to|path/to/|file-name-\d|file-extension|object[-_ ]?url|"
    r"object[-_ ]?name|Multi-Region-Access-Point-ARN)\b"
)


def _shorten(text: str, limit: int = 80) -> str:
    return shown(text, limit=limit)


UrlCode = Literal["wrong-type", "missing-url", "url-too-long", "url-not-absolute"]
# Which local repair a URL problem calls for (diagnostics.FixKind; None: the user must say).
UrlFix = Literal["trim-url", "angle-brackets", "percent-encode"] | None


def explain_url(url: object) -> list[tuple[UrlCode, str, UrlFix]]:
    """Why a value is not a usable object URL: a list of (code, message, fix); empty when it is fine.

    ``fix`` names the repair a quick fix can make (``trim-url``, ``angle-brackets``,
    ``percent-encode``), None when there is none: the fixes read it, never the message.
    """
    if not isinstance(url, str):
        return [("wrong-type", f"the URL must be a JSON string, not {json_type(url)}", None)]
    if url == "" or url.isspace():
        return [("missing-url", "the URL is empty: put the full URL of the file in the cloud bucket", None)]
    problems: list[tuple[UrlCode, str, UrlFix]] = []
    size = len(url.encode("utf-8", "surrogatepass"))
    if size > MAX_URL_BYTES:
        problems.append(("url-too-long", f"the URL is {size:,} bytes; Encord accepts URLs up to 16 KB "
                                         f"({MAX_URL_BYTES:,} bytes): shorten the object path", None))
    stripped = url.strip()
    if stripped != url:
        problems.append(("url-not-absolute", "the URL has leading or trailing whitespace: remove it", "trim-url"))
    if ABSOLUTE_URL_RE.fullmatch(stripped) and "/.../" not in stripped:
        return problems
    message, fix = _why_not_absolute(stripped)
    problems.append(("url-not-absolute", message, fix))
    return problems


def _why_not_absolute(url: str) -> tuple[str, UrlFix]:
    """The message, and the repair a quick fix can make (None: only the user knows the right URL)."""
    shown_url = _shorten(url)
    if "<" in url or ">" in url:
        if url.startswith("<") and ABSOLUTE_URL_RE.fullmatch(url.strip("<>")):
            return f"the URL '{shown_url}' is wrapped in angle brackets: remove the '<' and '>'", "angle-brackets"
        return (f"'{shown_url}' is a placeholder (angle brackets): replace it with the full URL of the file, "
                f"e.g. {PROVIDER_EXAMPLES['aws']}"), "angle-brackets"
    if "{" in url or "}" in url:
        return f"'{shown_url}' contains a {{placeholder}}: replace it with the real value", None
    m = re.search(r"\s", url)
    if m:
        what = {" ": "a space", "\t": "a tab", "\n": "a line break", "\r": "a carriage return",
                "\u00a0": "a non-breaking space"}.get(m.group(), f"a whitespace character (U+{ord(m.group()):04X})")
        return (f"the URL contains {what} at character {m.start() + 1}: object URLs cannot contain whitespace; "
                "percent-encode it (a space is %20)"), "percent-encode"
    if "/.../" in url or "…" in url:
        return f"'{shown_url}' contains a '...' placeholder segment: write the full object path", None
    if "\\" in url:
        return f"'{shown_url}' contains a backslash (a Windows path?): use the file's https URL with forward slashes", None
    bad = FORBIDDEN_RE.search(url)
    if bad:
        char = bad.group()
        name = f"U+{ord(char):04X}" if not char.isprintable() or char.isspace() else f"'{char}'"
        return (f"the URL contains the character {name} at position {bad.start() + 1}, which a URL cannot hold "
                "as it is: remove it, or percent-encode it"), "percent-encode"
    if _PLACEHOLDER_WORDS.search(url) and "://" not in url:
        return (f"'{shown_url}' is a template placeholder, not a URL: replace it with the full URL of the file, "
                f"e.g. {PROVIDER_EXAMPLES['aws']}"), None
    if "://" not in url:
        if url.startswith("arn:"):
            return (f"'{shown_url}' is not a Multi-Region Access Point object: write the access point ARN followed by "
                    "the object name, e.g. arn:aws:s3::123456789012:accesspoint/alias.mrap/path/to/file"), None
        return (f"'{shown_url}' is not an absolute URL (no scheme or host): use the full URL, e.g. "
                f"{PROVIDER_EXAMPLES['aws']}"), None
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
    except ValueError:
        return f"'{shown_url}' is not a well-formed URL: check the host part", None
    if scheme not in ("https", "http", "s3", "gs"):
        return f"'{shown_url}' uses the '{scheme}:' scheme: Encord fetches files over https", None
    if not host:
        return f"'{shown_url}' has no host name: use the full URL, e.g. {PROVIDER_EXAMPLES['aws']}", None
    if "." not in host and scheme in ("https", "http"):
        return (f"the host '{_shorten(host, 40)}' is not a full domain name (a placeholder?): use the bucket's real "
                f"host, e.g. {PROVIDER_EXAMPLES['aws']}"), None
    return f"'{shown_url}' is not a valid absolute URL: check the host and the characters used", None


def url_scheme_warning(url: str) -> str | None:
    """A warning for absolute URLs that are not https (they may not be fetched)."""
    low = url[:8].lower()
    if low.startswith("https://") or url.startswith("arn:"):
        return None
    if low.startswith("http://"):
        return "the URL uses http://: Encord fetches files over https; use https:// if the host supports it"
    if low.startswith("s3://"):
        return ("s3:// URIs are not in Encord's examples: use the https form, "
                f"e.g. {PROVIDER_EXAMPLES['aws']}")
    if low.startswith("gs://"):
        return ("gs:// URIs are not in Encord's examples: use the https form, "
                f"e.g. {PROVIDER_EXAMPLES['gcp']}")
    return None


def provider_of(url: str) -> str | None:
    """Which cloud provider a URL's form belongs to (``direct`` is never guessed)."""
    for name, rx in PROVIDER_RES.items():
        if name != "direct" and rx.match(url):
            return name
    return None


def provider_mismatch(url: str, provider: str) -> str | None:
    """A message when ``url`` does not have the form the provider's integration expects."""
    if PROVIDER_RES[provider].match(url):
        return None
    looks = provider_of(url)
    want = PROVIDER_NAMES[provider]
    if provider == "direct":
        return f"a Direct Access integration needs an https URL: use {PROVIDER_EXAMPLES['direct']}"
    seen = f" (it looks like {PROVIDER_NAMES[looks]})" if looks else ""
    if looks == "aws" and MRAP_KEY_RE.match(url):
        seen = " (it looks like an AWS S3 Multi-Region Access Point)"
    article = "an" if want[:1] in "AEIOU" else "a"
    return (f"the URL does not have the form of {article} {want} URL{seen}: Encord reads it through the chosen "
            f"{want} integration, so use the form {PROVIDER_EXAMPLES[provider]} or choose the matching integration")


def json_type(value: object) -> str:
    """The JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
