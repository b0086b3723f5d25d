"""Split a large manifest into upload-sized chunks.

Encord advises smaller uploads: "Limit uploads to 100 videos or up to 1,000 images at a time."
By default a chunk holds at most 1,000 units, where a video counts 10 units (so 100 videos), an
image group, image sequence or DICOM series counts one unit per file, and every other item one
unit. ``max_items`` replaces that with a plain count of items per chunk. An item is never cut in
two; every chunk keeps the top-level settings (``skip_duplicate_urls``, ``upsert_metadata``, any
other top-level key that is not a section) of the source, and no chunk exceeds Encord's limits
(500,000 items and 1,000,000 URLs per JSON file, 10,000 entries per CSV file).

A manifest whose only errors are those limits (``LIMIT_CODES``) is split: that is what the
validator tells its author to do. Any other error refuses the split ("fix it first").

The parts are written all or nothing: each to a hidden temporary file next to its target, then
all renamed into place; a failure or an interrupt (Ctrl+C) removes the temporary files and puts
back what a rename replaced. A run killed outright leaves only hidden temporary files, which are
never part names (a rerun is not refused) and which the next split into that directory removes.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotrain_tui.core.errors import InvalidInput, UsageError
from annotrain_tui.core.files import check_output, display_path, write_error
from annotrain_tui.core.manifest.convert import dump_json, require_content
from annotrain_tui.core.manifest.csv import to_csv
from annotrain_tui.core.manifest.spec import (
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
#: The validator's codes for a manifest over Encord's size limits (core/manifest/rules.py for JSON,
#: core/manifest/csv.py for a CSV's entries): the only errors a split accepts.
LIMIT_CODES = frozenset({"too-many-items", "too-many-urls"})
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
    """Write the chunks as ``<stem>-part-…`` files in ``out_dir``, all or nothing.

    Every part file is checked like any output (core/files.py ``check_output``): never one of
    ``inputs``, never a device, FIFO or directory; existing parts are replaced only with ``force``.
    """
    inputs = list(inputs)
    data = require_content(parsed, "split", only=LIMIT_CODES)
    fmt = parsed.result.format
    chunks = chunk(data, max_items=max_items, max_rows=MAX_CSV_ENTRIES if fmt == "csv" else None)
    result = SplitResult()
    if not chunks:
        raise UsageError("the manifest lists no files: nothing to split")
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
    remove_stale_temps(directory, stem)
    # Every part is checked before the first is written: a refusal leaves nothing half done.
    targets = [check_output(t, inputs=inputs, force=force) for t in names]
    if len({str(t) for t in targets}) != len(targets):  # part files that are links to one another
        raise InvalidInput(f"{display_path(directory)}: two part files there are the same file (symlinks); "
                           "choose another --out-dir")
    texts: list[str] = []
    for part in chunks:
        if fmt == "csv":
            text, lost = to_csv(part)
            for note in lost:
                if note not in result.warnings:
                    result.warnings.append(note)
        else:
            text = dump_json(part)
        texts.append(text)
        result.items.append(sum(len(v) for k, v in part.items() if k in SECTIONS and isinstance(v, list)))
    write_all(targets, texts, inputs=inputs, force=force)
    result.files = names
    return result


# -- all or nothing ------------------------------------------------------------------------------
_TEMP_TAG = ".annotrain-split-"
_TEMP = re.compile(r"\.(?P<name>.+)\.annotrain-split-(?P<pid>[0-9]+)-[0-9a-f]{12}\.(?P<kind>tmp|old|journal)")


def _temp_name(target: Path, kind: str = "tmp") -> Path:
    return target.with_name(f".{target.name}{_TEMP_TAG}{os.getpid()}-{secrets.token_hex(6)}.{kind}")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process (or cannot tell): leave its files alone
    return True


def remove_stale_temps(directory: Path, stem: str) -> list[Path]:
    """Remove the temporary part files a split killed outright left in ``directory`` (those of a
    process that no longer runs; a split running now keeps its own). Returns what was removed."""
    removed: list[Path] = []
    prefix = f".{stem}-part-"
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    # First undo the placing a dead split had begun (its journal says what it placed and replaced),
    # so the visible parts are never a partial set that looks finished.
    for entry in entries:
        m = _TEMP.fullmatch(entry.name)
        if entry.name.startswith(prefix) and m is not None and m["kind"] == "journal" and not _alive(int(m["pid"])):
            _undo_journal(Path(entry.path))
    entries = [e for e in entries if os.path.lexists(e.path)]
    for entry in entries:
        if not entry.name.startswith(prefix) or _TEMP_TAG not in entry.name:
            continue
        m = _TEMP.fullmatch(entry.name)
        if m is None or _alive(int(m["pid"])):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _undo_journal(journal: Path) -> None:
    """Put the directory back as it was before the split that wrote ``journal`` began placing."""
    import json

    try:
        entries = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        entries = []
    for target, aside in entries if isinstance(entries, list) else []:
        try:
            if aside and os.path.lexists(aside):
                os.replace(aside, target)
            elif not aside and os.path.lexists(target):
                os.unlink(target)
        except OSError:
            pass
    _unlink(journal)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_all(targets: list[Path], texts: list[str], *, inputs: Iterable[str | Path] = (),
              force: bool = False) -> None:
    """Write ``texts`` to ``targets`` all or nothing.

    1. each text goes to a hidden temporary file next to its target (fsynced);
    2. the targets are checked again (a file may have appeared meanwhile);
    3. each temporary file is moved into place; an existing target (``force``) is first moved
       aside, so a failure can put it back.
    Any failure or interrupt (``BaseException``) removes every temporary file, removes the parts
    already moved into place and restores what they replaced: the directory is as it was.
    """
    inputs = list(inputs)
    staged: list[Path] = []
    placed: list[tuple[Path, Path | None]] = []  # (target, the file it replaced, moved aside)
    umask = os.umask(0)
    os.umask(umask)
    try:
        for target, text in zip(targets, texts, strict=True):
            tmp = _temp_name(target)
            staged.append(tmp)
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 & ~umask)
                with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise write_error(target, exc) from None
        for target in targets:  # again, right before the first rename
            check_output(target, inputs=inputs, force=force)
        # What the placing will do, on disk before it starts: a split killed outright (SIGKILL, power)
        # half way is undone by the next one (remove_stale_temps), never left as a partial set.
        planned = [(target, _temp_name(target, "old") if os.path.lexists(target) else None) for target in targets]
        journal = _temp_name(targets[0], "journal") if targets else None
        if journal is not None:
            import json

            with open(journal, "w", encoding="utf-8") as handle:
                json.dump([[str(t), str(a) if a else None] for t, a in planned], handle)
                handle.flush()
                os.fsync(handle.fileno())
            staged.append(journal)  # removed with the temps, whatever happens
        for (target, planned_aside), tmp in zip(planned, staged, strict=False):
            aside: Path | None = None
            try:
                if os.path.lexists(target):
                    aside = planned_aside or _temp_name(target, "old")
                    os.rename(target, aside)
                    try:
                        os.chmod(tmp, os.stat(aside).st_mode & 0o7777)
                    except OSError:
                        pass
                    placed.append((target, aside))
                    os.rename(tmp, target)
                else:
                    try:
                        os.link(tmp, target)  # never over a file that appeared since the check
                    except FileExistsError:
                        raise
                    except OSError:  # a file system without hard links: a plain rename
                        os.rename(tmp, target)
                    placed.append((target, None))
                    _unlink(tmp)
            except FileExistsError:
                raise InvalidInput(f"{display_path(target)}: appeared while the parts were written; nothing "
                                   "was written", hint="run the split again") from None
            except OSError as exc:
                raise write_error(target, exc) from None
    except BaseException:
        for target, aside in reversed(placed):
            if aside is not None:
                try:
                    os.replace(aside, target)
                except OSError:
                    pass
            else:
                _unlink(target)
        for tmp in staged:
            _unlink(tmp)
        raise
    for _, aside in placed:
        if aside is not None:
            _unlink(aside)
    for tmp in staged:
        _unlink(tmp)


def split_file(in_path: str | Path, out_dir: str | Path, *, max_items: int | None = None,
               force: bool = False) -> SplitResult:
    """Split a JSON or CSV manifest into ``<stem>-part-001-of-NNN`` files in ``out_dir``."""
    parsed = parse_path(in_path)
    return split_parsed(parsed, out_dir, stem=Path(in_path).stem, max_items=max_items, force=force,
                        inputs=[in_path])
