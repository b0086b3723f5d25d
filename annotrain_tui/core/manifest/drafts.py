"""Editing a manifest file without losing work: where its draft lives, reading it (and its draft)
for editing, and the text-diff helpers that turn a whole new text into one small edit.

No Textual here: the manifest editor calls these from its thread workers, and they are tested on
their own.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from annotrain_tui.core.errors import UnreadableInput
from annotrain_tui.core.files import display_path, read_user_bytes
from annotrain_tui.core.manifest.text_cost import size_text
from annotrain_tui.core.manifest.validate import decode
from annotrain_tui.core.remedies import Note, see


def draft_path_for(drafts_dir: Path, manifest: Path | None) -> Path:
    """Where the draft of ``manifest`` lives: one file per absolute path (a hash keeps names safe)."""
    key = str(manifest) if manifest is not None else "<untitled>"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    if manifest is None:
        return drafts_dir / f"untitled-{digest}.draft"
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in manifest.name)[:60] or "manifest"
    return drafts_dir / f"{stem}-{digest}.draft"


@dataclass
class Opened:
    """What reading a manifest for editing found (read in a worker thread)."""

    path: Path
    text: str | None = None          # the file's text (None: missing or unreadable)
    error: str | None = None         # why it cannot be edited (a directory, not UTF-8, …); a Note
                                     # (core.remedies) when an action helps
    missing: bool = False
    draft: str | None = None         # a draft that differs from the file
    draft_mtime: float | None = None
    draft_older: bool = False        # the file changed after the draft was written
    identity: tuple[int, ...] | None = None  # disk_identity of the file read


def read_for_editing(path: Path, draft: Path, max_bytes: int = 64_000_000) -> Opened:
    """Read ``path`` as UTF-8 text, and its draft when that differs from the file (a draft older than
    the file is reported too, marked: the file changed after it, but it may hold unsaved edits).

    The file is stat'ed before it is opened: a FIFO (which would block), a device (``/dev/zero``
    never ends) or a file over ``max_bytes`` is reported, never read."""
    out = Opened(path)
    name = display_path(path)
    file_mtime: float | None = None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        out.missing = True
        st = None
    except (OSError, ValueError):
        st = None  # reported by the reader below, in its words
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_size > max_bytes:
        out.error = Note(f"{name} is {size_text(st.st_size)}: too big to edit here (at most "
                         f"{size_text(max_bytes)}); split it into files small enough to edit",
                         see=see("manifest.split", path=str(path)))
    elif not out.missing:
        try:
            data = read_user_bytes(path)  # regular files only
            file_mtime = st.st_mtime if st is not None else None
            out.identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) if st is not None else None
        except UnreadableInput as err:
            if not os.path.lexists(path):
                out.missing = True
            else:
                out.error = f"{err}: type the path of a .json or .csv manifest file"
        else:
            text, problem = decode(data)
            if text is None:
                where = f" (line {problem.line}, column {problem.column})" if problem and problem.line else ""
                detail = problem.message if problem else "not UTF-8 text"
                out.error = f"{name} cannot be edited as text{where}: {detail}"
            else:
                out.text = text
    if out.error is None:
        try:
            draft_mtime = draft.stat().st_mtime
            draft_text = draft.read_text(encoding="utf-8")
            if draft_text != out.text:
                out.draft, out.draft_mtime = draft_text, draft_mtime
                out.draft_older = file_mtime is not None and draft_mtime < file_mtime
        except (OSError, UnicodeDecodeError):
            pass
    return out


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, comparing 64K blocks in C before narrowing down."""
    n = min(len(a), len(b))
    i, step = 0, 1 << 16
    while i < n:
        j = min(n, i + step)
        if a[i:j] == b[i:j]:
            i = j
            continue
        lo, hi = i, j  # a[i:lo] == b[i:lo]; the first difference is in [lo, hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if a[lo:mid] == b[lo:mid]:
                lo = mid
            else:
                hi = mid
        return lo
    return n


def minimal_edit(old: str, new: str) -> tuple[int, int, str] | None:
    """The one replacement (start, end, insert) turning ``old`` into ``new`` (None when equal)."""
    if old == new:
        return None
    prefix = _common_prefix(old, new)
    limit = min(len(old), len(new)) - prefix
    suffix = min(_common_prefix(old[prefix:][::-1], new[prefix:][::-1]), limit)
    return prefix, len(old) - suffix, new[prefix:len(new) - suffix]


def location_of(text: str, offset: int) -> tuple[int, int]:
    """(row, column), 0-based, of a character offset (what TextArea calls a location)."""
    row = text.count("\n", 0, offset)
    return row, offset - (text.rfind("\n", 0, offset) + 1)



def save_target_problem(path: Path, name: str | None = None) -> str | None:
    """Why the editor cannot save to ``path`` (None: it can try): a directory, a folder that does
    not exist or is not one, a folder it may not write in. Checked while the save dialog is open,
    so a bad path is said there and can be corrected (the write itself may still fail, and says so).
    ``name``: how to call the path in the message (what the user typed, escaped)."""
    shown_name = name or display_path(path)
    if path.is_dir():
        return f"{shown_name} is a directory: add a file name (ending in .json or .csv)."
    parent = path.parent
    if not parent.exists():
        return f"the directory {display_path(parent)} does not exist: create it first, or choose another folder."
    if not parent.is_dir():
        return f"{display_path(parent)} is not a directory: choose another folder."
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write in {display_path(parent)} (permission denied): choose another folder."
    return None
