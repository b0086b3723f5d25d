"""Split a large manifest into upload-sized chunks.

Encord advises smaller uploads: "Limit uploads to 100 videos or up to 1,000 images at a time."
By default a chunk holds at most 1,000 units, where a video counts 10 units (so 100 videos), an
image group, image sequence or DICOM series counts one unit per file, and every other item one
unit. ``max_items`` replaces that with a plain count of items per chunk. An item is never cut in
two; every chunk keeps the top-level settings (``skip_duplicate_urls`` …) of the source.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotrain_tui.core.errors import InvalidInput, UsageError
from annotrain_tui.core.manifest.convert import dump_json, require_content
from annotrain_tui.core.manifest.csv import to_csv
from annotrain_tui.core.files import atomic_write_text, check_output, display_path
from annotrain_tui.core.manifest.models import (
    GROUP_SECTIONS,
    MAX_CSV_ENTRIES,
    MAX_ITEMS,
    MAX_URLS,
    OBJECT_URL_N,
    RECOMMENDED_IMAGES_PER_UPLOAD,
    RECOMMENDED_VIDEOS_PER_UPLOAD,
    SECTIONS,
)
from annotrain_tui.core.manifest.validate import Parsed, parse_path

DEFAULT_BUDGET = RECOMMENDED_IMAGES_PER_UPLOAD
VIDEO_UNITS = RECOMMENDED_IMAGES_PER_UPLOAD // RECOMMENDED_VIDEOS_PER_UPLOAD  # 10


def _url_count(section: str, item: Any) -> int:
    if section in GROUP_SECTIONS:
        return sum(1 for k in item if OBJECT_URL_N.fullmatch(k)) if isinstance(item, dict) else 0
    return 1


def _units(section: str, item: Any) -> int:
    if section == "videos":
        return VIDEO_UNITS
    if section in GROUP_SECTIONS:
        return max(1, _url_count(section, item))
    return 1


def chunk(data: dict[str, Any], *, max_items: int | None = None,
          max_rows: int | None = None) -> list[dict[str, Any]]:
    """Split a manifest's JSON form into chunks (sections and settings kept, order kept).

    ``max_rows`` additionally bounds the URLs per chunk (a CSV holds one row per URL).
    """
    if max_items is not None and not 1 <= max_items <= MAX_ITEMS:
        raise UsageError(f"--max-items must be between 1 and {MAX_ITEMS:,}")
    settings = {k: v for k, v in data.items() if k not in SECTIONS}
    order = [k for k in data if k in SECTIONS and isinstance(data[k], list)]
    budget = max_items if max_items is not None else DEFAULT_BUDGET
    url_cap = min(MAX_URLS, max_rows) if max_rows else MAX_URLS
    chunks: list[dict[str, Any]] = []
    current: dict[str, list[Any]] = {}
    used = urls = items = 0

    def close() -> None:
        nonlocal current, used, urls, items
        if current:
            chunks.append({**{k: current[k] for k in order if k in current}, **settings})
        current, used, urls, items = {}, 0, 0, 0

    for section in order:
        for item in data[section]:
            cost = 1 if max_items is not None else _units(section, item)
            n_urls = _url_count(section, item)
            if current and (used + cost > budget or urls + n_urls > url_cap or items + 1 > MAX_ITEMS):
                close()
            current.setdefault(section, []).append(item)
            used += cost
            urls += n_urls
            items += 1
    close()
    return chunks


@dataclass
class SplitResult:
    files: list[Path] = field(default_factory=list)
    items: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def part_names(stem: str, suffix: str, count: int) -> Iterator[str]:
    width = max(3, len(str(count)))
    for k in range(1, count + 1):
        yield f"{stem}-part-{k:0{width}d}-of-{count:0{width}d}{suffix}"


def split_parsed(parsed: Parsed, out_dir: str | Path, *, stem: str, max_items: int | None = None,
                 force: bool = False, inputs: Iterable[str | Path] = ()) -> SplitResult:
    """Write the chunks as ``<stem>-part-…`` files in ``out_dir``.

    Every part file is checked like any output (core/files.py ``check_output``): never one of
    ``inputs``, never a device, FIFO or directory; existing parts are replaced only with ``force``.
    """
    inputs = list(inputs)
    data = require_content(parsed, "split")
    fmt = parsed.result.format
    chunks = chunk(data, max_items=max_items, max_rows=MAX_CSV_ENTRIES if fmt == "csv" else None)
    result = SplitResult()
    if not chunks:
        raise UsageError("the manifest lists no files: nothing to split")
    if len(parsed.result.errors):
        n = len(parsed.result.errors)
        result.warnings.append(f"the source has {n} validation error{'s' if n != 1 else ''}; the chunks carry "
                               "them over (run annotrain manifest validate)")
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{display_path(directory)}: not a directory (give --out-dir a directory)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"{display_path(directory)}: cannot create the directory "
                           f"({exc.strerror or exc.__class__.__name__})") from None
    suffix = ".csv" if fmt == "csv" else ".json"
    names = [directory / name for name in part_names(stem, suffix, len(chunks))]
    # Every part is checked before the first is written: a refusal leaves nothing half done.
    targets = [check_output(t, inputs=inputs, force=force) for t in names]
    if len({str(t) for t in targets}) != len(targets):  # part files that are links to one another
        raise InvalidInput(f"{display_path(directory)}: two part files there are the same file (symlinks); "
                           "choose another --out-dir")
    for target, part in zip(targets, chunks, strict=True):
        if fmt == "csv":
            text, lost = to_csv(part)
            for note in lost:
                if note not in result.warnings:
                    result.warnings.append(note)
        else:
            text = dump_json(part)
        atomic_write_text(target, text)
        result.files.append(names[len(result.files)])
        result.items.append(sum(len(v) for k, v in part.items() if k in SECTIONS))
    return result


def split_file(in_path: str | Path, out_dir: str | Path, *, max_items: int | None = None,
               force: bool = False) -> SplitResult:
    """Split a JSON or CSV manifest into ``<stem>-part-001-of-NNN`` files in ``out_dir``."""
    parsed = parse_path(in_path)
    return split_parsed(parsed, out_dir, stem=Path(in_path).stem, max_items=max_items, force=force,
                        inputs=[in_path])
