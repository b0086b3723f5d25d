"""Convert manifests between CSV and JSON, saying what a direction cannot carry."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from annotrain_tui.core.errors import ErrorKind, InvalidInput, UsageError
from annotrain_tui.core.files import atomic_write_text, check_output
from annotrain_tui.core.manifest.csv import to_csv
from annotrain_tui.core.manifest.diagnostics import Format, ValidationResult
from annotrain_tui.core.manifest.validate import Parsed, parse_path, parse_text
from annotrain_tui.core.remedies import Note, see

# Errors after which the parsed content is not what the author wrote: converting would lose data.
BLOCKING_CODES = frozenset({"encoding", "json-syntax", "duplicate-key", "csv-row", "csv-header"})


class ManifestHasErrors(InvalidInput):
    """A manifest that reads but has errors: a domain failure, not unreadable input."""

    kind: ClassVar[ErrorKind] = "failure"


@dataclass
class Conversion:
    text: str
    format: Format
    warnings: list[str] = field(default_factory=list)
    source: ValidationResult | None = None


def dump_json(data: dict[str, Any]) -> str:
    """The JSON text of a manifest as this tool writes it (2-space indent, UTF-8, final newline)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def require_content(parsed: Parsed, what: str, *, only: Collection[str] | None = None) -> dict[str, Any]:
    """The parsed content, or InvalidInput naming the first error that makes it unusable.

    ``only``: the codes of the only errors allowed (every other error blocks, and these never do;
    ``manifest split`` allows the size limits alone). Without it, the errors after which the content
    is not what the author wrote block (``BLOCKING_CODES`` and document-level errors).
    """
    where = parsed.result.path or '<text>'
    if only is not None:
        allowed = frozenset(only)
        blocking = [d for d in parsed.result.errors if d.code not in allowed]
        if parsed.data is None or blocking:
            first = blocking or parsed.result.errors
            detail = f": {first[0].render(where)}" if first else ""
            raise (InvalidInput if parsed.data is None else ManifestHasErrors)(f"cannot {what} a manifest with errors besides Encord's size limits{detail}",
                               hint="fix it first: validating it shows every problem",
                               see=see("manifest.validate", path=parsed.result.path))
        return parsed.data
    blocking = [d for d in parsed.result.errors if d.code in BLOCKING_CODES or d.pointer == ""]
    if parsed.data is None or blocking:
        shown = blocking or parsed.result.errors
        detail = f": {shown[0].render(where)}" if shown else ""
        raise InvalidInput(f"cannot {what} a manifest that cannot be read as written{detail}",
                           hint="fix it first: validating it shows every problem",
                           see=see("manifest.validate", path=parsed.result.path))
    return parsed.data


def convert_parsed(parsed: Parsed, target: Format) -> Conversion:
    source = parsed.result
    if source.format == target:
        raise UsageError(f"the input is already {target.upper()}: nothing to convert",
                         hint="give an output file ending in .csv or .json of the other format")
    data = require_content(parsed, "convert")
    warnings: list[str] = []
    if target == "csv":
        text, lost = to_csv(data)
        warnings.extend(lost)
    else:
        text = dump_json(data)  # CSV → JSON carries everything a CSV can say
    n_errors = len(source.errors)
    if n_errors:
        warnings.append(Note(f"the source has {n_errors} validation error{'s' if n_errors != 1 else ''}; they are "
                             "carried over as they are: validate it to see them",
                             see=see("manifest.validate", path=source.path)))
    return Conversion(text=text, format=target, warnings=warnings, source=source)


def convert_text(text: str, target: Format, *, source_format: Format | None = None,
                 path: str | None = None) -> Conversion:
    """Convert manifest text to ``target`` ("json" or "csv")."""
    return convert_parsed(parse_text(text, path=path, format=source_format), target)


def target_format(path: str | Path) -> Format:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    raise UsageError(f"{path}: cannot tell the output format", hint="name the output file *.json or *.csv")


def convert_file(in_path: str | Path, out_path: str | Path, *, target: Format | None = None,
                 force: bool = False) -> Conversion:
    """Convert one file to another (written atomically); the format comes from OUT's extension.

    OUT must not be IN (whatever the spelling: same inode or real path), nor a device, FIFO or
    directory; an existing OUT is replaced only with ``force`` (else :class:`OutputExists`).
    A symlink OUT is written through.
    """
    real_out = check_output(out_path, inputs=[in_path], force=force)
    fmt = target or target_format(out_path)
    conversion = convert_parsed(parse_path(in_path), fmt)
    # Checked again right before writing: the file may have appeared meanwhile.
    check_output(real_out, inputs=[in_path], force=force)
    atomic_write_text(real_out, conversion.text)
    return conversion
