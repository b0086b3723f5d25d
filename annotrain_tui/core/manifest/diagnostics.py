"""What the validator reports: diagnostics and the result of one validation."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from annotrain_tui.core.remedies import See

Severity = Literal["error", "warning"]
Format = Literal["json", "csv"]

# Every code the validator can emit, as a type: a misspelt code fails mypy (and pydantic at run time).
# Codes are stable: tools and tests match on them. CODES (below) says what each means; a test checks
# that the two list the same codes.
Code = Literal[
    "encoding",
    "json-bom",
    "json-syntax",
    "json-number",
    "json-depth",
    "json-surrogate",
    "duplicate-key",
    "wrong-type",
    "unknown-key",
    "no-items",
    "missing-url",
    "missing-title",
    "url-not-absolute",
    "url-too-long",
    "url-scheme",
    "title-too-long",
    "file-name-too-long",
    "duplicate-title",
    "url-index",
    "sequence-too-long",
    "too-many-items",
    "too-many-urls",
    "metadata-type",
    "metadata-missing",
    "metadata-value",
    "metadata-mime",
    "metadata-precision",
    "duplicate-url",
    "extension-mismatch",
    "provider-mismatch",
    "create-video",
    "csv-header",
    "csv-row",
    "csv-nul",
    "no-effect",
    "batch-size",
    "more-diagnostics",
]

CODES: dict[Code, str] = {
    "encoding": "the file is not UTF-8 text",
    "json-bom": "the JSON file starts with a byte order mark",
    "json-syntax": "the text is not valid JSON",
    "json-number": "a number no reader holds as written (beyond the float range, rounding to 0, too many digits)",
    "json-depth": "the JSON is nested deeper than any manifest",
    "json-surrogate": "a \\u escape spells half of a UTF-16 surrogate pair (no character)",
    "duplicate-key": "a key appears twice in one object; JSON keeps only the last value",
    "wrong-type": "a value has the wrong JSON type",
    "unknown-key": "a key Encord does not know (probably a typo)",
    "no-items": "the manifest registers nothing",
    "missing-url": "an item has no object URL",
    "missing-title": "an image group or DICOM series has no title",
    "url-not-absolute": "an object URL is not a full absolute URL",
    "url-too-long": "an object URL is over 16 KB",
    "url-scheme": "an object URL does not use https",
    "title-too-long": "a title is over 300 characters",
    "file-name-too-long": "the file name an object URL ends with is over 300 characters",
    "duplicate-title": "the same title is given to more than one item",
    "url-index": "objectUrl_N keys must be numbered 0, 1, 2, … without gaps",
    "sequence-too-long": "an image sequence has too many images",
    "too-many-items": "too many items for one upload file",
    "too-many-urls": "too many URLs for one upload file",
    "metadata-type": "a metadata value has the wrong type",
    "metadata-missing": "a media metadata block lacks a required field",
    "metadata-value": "a metadata value is out of range or inconsistent",
    "metadata-mime": "a media metadata MIME type that is malformed or does not fit its section",
    "metadata-precision": "a clientMetadata whole number other readers cannot hold exactly (beyond 2**53 or 64 bits)",
    "duplicate-url": "the same URL is registered more than once",
    "extension-mismatch": "a file's extension does not match its section",
    "provider-mismatch": "a URL does not have the form the integration's provider expects",
    "create-video": "a 'Create video' / createVideo value is missing, invalid or inconsistent",
    "csv-header": "a CSV header is missing, unknown or repeated wrongly",
    "csv-row": "a CSV row has the wrong number of cells or is malformed",
    "csv-nul": "a NUL character in a CSV cell (binary data, or not a CSV text file)",
    "no-effect": "a setting that has no effect",
    "batch-size": "more than Encord's advice for one upload (100 videos or 1,000 images): register in batches",
    "more-diagnostics": "further diagnostics of one kind were left out",
}


# What a diagnostic's ``data["fix"]`` can say: which local repair the validator saw applies (the
# message says the same thing in words, for people; fixes.py reads this).
FixKind = Literal[
    "trailing-comma",   # json-syntax: a comma before } or ]
    "trim-url",         # url-not-absolute: whitespace around the URL
    "angle-brackets",   # url-not-absolute: the URL is wrapped in (or carries) < >
    "percent-encode",   # url-not-absolute: a space or a character a URL cannot hold as it is
    "extra-cells",      # csv-row: more cells than the header
    "unquote-number",   # metadata-type: a number written as a string
    "unquote-boolean",  # wrong-type: true / false written as a string
]


#: What helps a manifest over Encord's size limits (too-many-items, too-many-urls): splitting it
#: into files, or registering it in batches (each part within the limits).
OVER_THE_LIMITS = ("manifest.split", "register.batch")


def fix_data(fix: FixKind, **facts: Any) -> dict[str, Any]:
    """``Diagnostic.data`` that names the repair (and any facts it needs)."""
    return {"fix": fix, **facts}


_SEVERITIES = frozenset(get_args(Severity))
_CODES = frozenset(get_args(Code))


# Plain frozen dataclasses, not pydantic models: validating a manifest of plain sections never
# imports pydantic (half of `manifest validate`'s start-up). The one check pydantic made that
# matters, a severity or code outside the typed sets, is kept (ValueError).
@dataclass(frozen=True, kw_only=True)
class Diagnostic:
    """One finding. ``line``/``column`` are 1-based (characters); ``pointer`` is an RFC 6901 JSON pointer."""

    severity: Severity
    code: Code
    message: str
    line: int | None = None
    column: int | None = None
    pointer: str | None = None
    # Extra facts a quick fix needs (e.g. the suggested key, ``"fix": FixKind``); not part of the JSON
    # contract. Quick fixes are chosen from the code and these facts, never from the message's words.
    data: dict[str, Any] | None = field(default=None, repr=False)
    # The actions that help (core.remedies), named by id: the message says what to do in words and
    # each front renders these its own way (the CLI as a command, the TUI as a key), see ``said``.
    see: tuple[See, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if self.severity not in _SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if self.code not in _CODES:
            raise ValueError(f"unknown diagnostic code {self.code!r}")
        if type(self.see) is not tuple:
            object.__setattr__(self, "see", tuple(self.see))

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Diagnostic:
        """A copy with some fields replaced (the name pydantic gave it, kept for callers)."""
        return dataclasses.replace(self, **(update or {}))

    def to_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "message": self.message,
                "line": self.line, "column": self.column, "pointer": self.pointer}

    def said(self, how: str = "") -> str:
        """The message, then a front's rendering of ``see`` in parentheses (``how``; empty: none)."""
        return f"{self.message} ({how})" if how else self.message

    def render(self, path: str, how: str = "") -> str:
        """``PATH:LINE:COL: error[CODE]: message`` (``PATH: error[CODE]: …`` when the line is unknown),
        the message :meth:`said` with ``how``."""
        where = f"{path}:{self.line}:{self.column or 1}" if self.line is not None else path
        return f"{where}: {self.severity}[{self.code}]: {self.said(how)}"


@dataclass(kw_only=True)
class ValidationResult:
    """The outcome of validating one manifest."""

    path: str | None = None
    format: Format
    items: int = 0
    urls: int = 0
    sections: dict[str, int] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def codes(self) -> list[Code]:
        return [d.code for d in self.diagnostics]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document (exact keys; other tools depend on them)."""
        return {"path": self.path, "format": self.format, "valid": self.valid, "items": self.items,
                "urls": self.urls, "diagnostics": [d.to_json() for d in self.diagnostics]}

    def summary(self) -> str:
        n_err, n_warn = len(self.errors), len(self.warnings)
        verdict = "valid" if self.valid else "invalid"
        return (f"{self.path or '<text>'}: {verdict} {self.format} manifest — {self.items:,} "
                f"item{'s' if self.items != 1 else ''}, {self.urls:,} URL{'s' if self.urls != 1 else ''}, "
                f"{n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}")
