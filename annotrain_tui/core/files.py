"""Reading users' files and writing files atomically, for every part of the core.

Reads turn every OS failure into one UnreadableInput naming the file (exit 2 in the CLI); writes
go to a temporary file beside the target, fsynced, then os.replace, so a crash leaves the old or
the new file, never half of one.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from annotrain_tui.core.errors import AnnotrainError, InvalidInput, OutputExists, UnreadableInput, WriteFailed
from annotrain_tui.core.text import shown as _shown

__all__ = [
    "read_user_bytes", "atomic_write_text", "check_output", "check_distinct_outputs",
    "check_input_file", "file_identity", "same_file", "unique_files", "real_target",
    "kind_of", "display_path",
]


def display_path(path: str | Path) -> str:
    """A path as the one untrusted-text policy shows it (one line, at most 300 characters)."""
    return _shown(str(path), limit=300)


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words, for one-line errors."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def file_identity(path: str | Path) -> tuple[int, int] | None:
    """``(st_dev, st_ino)`` of the file ``path`` names (symlinks followed), None if it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


def disk_identity(path: str | Path) -> tuple[int, ...] | None:
    """Which file, in which state, is at ``path`` now (device, inode, size, mtime_ns; symlinks
    followed); None: nothing can be stat'ed there. Equal twice: the same file, unchanged as far as
    its metadata says (a file read, validated or scored is used again only while this holds)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name one file: same device and inode, or the same real path.

    Spelling does not matter (``x``, ``./x``, ``dir/../x``, a symlink to it, a hard link to it).
    """
    ia, ib = file_identity(a), file_identity(b)
    if ia is not None and ib is not None:
        return ia == ib
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def unique_files(paths: Iterable[str | Path]) -> list[Path]:
    """``paths`` in order, each file once: a file given twice under two spellings counts once."""
    seen: set[object] = set()
    out: list[Path] = []
    for p in paths:
        ident = file_identity(p)
        key: object = ident if ident is not None else ("path", os.path.realpath(p))
        if key in seen:
            continue
        seen.add(key)
        out.append(Path(p))
    return out


def real_target(path: str | Path) -> Path:
    """The path a writer must replace: symlinks resolved (the link is kept, its target written)."""
    return Path(os.path.realpath(path))


def refuse_non_regular(target: Path, shown_name: str) -> os.stat_result | None:
    """stat ``target`` (symlinks followed); None when it does not exist; InvalidInput if not a regular file."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise InvalidInput(f"{shown_name}: a part of the path is not a directory") from None
    except PermissionError:
        raise InvalidInput(f"{shown_name}: cannot write (permission denied)") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc.__class__.__name__
        raise InvalidInput(f"{shown_name}: cannot write ({reason})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInput(f"{shown_name}: is {kind_of(st.st_mode)}, not a regular file; "
                           "refusing to write over it (give a file name)")
    return st


# Files this process reads as its own state, whatever the command's inputs: the workspace it opened,
# the key it signs with (added by core.workspace when it opens them). The config file, the default
# workspace and everything in the state dir are always protected (see _own_files).
_PROTECTED: dict[str, str] = {}
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def protect(path: str | Path | None, what: str) -> None:
    """Refuse ``path`` as an output for the rest of this process (``what`` names it in the message)."""
    if path is None or not str(path).strip():
        return
    real = os.path.realpath(path)
    _PROTECTED.setdefault(real, what)
    if what == "the sandbox workspace":
        for side in _SQLITE_SIDE_FILES:
            _PROTECTED.setdefault(real + side, what)


def _own_file(real: Path) -> str | None:
    """What ``real`` is, when it is one of annotrain's own files; else None."""
    hit = _PROTECTED.get(str(real))
    if hit:
        return hit
    from annotrain_tui.core.config import Paths  # lazy: config imports this module

    try:
        paths = Paths.default()
    except Exception:  # pragma: no cover - platformdirs cannot tell: nothing more to protect
        return None
    if str(real) == os.path.realpath(paths.config_file):
        return "annotrain's config file"
    keys = [os.environ.get("ENCORD_SSH_KEY_FILE", "")]
    try:  # the key the config names (a broken config protects nothing more, and is reported elsewhere)
        from annotrain_tui.core.config import load_settings

        configured = load_settings(paths).ssh_key_path
        keys.append(str(configured) if configured else "")
    except Exception:  # noqa: BLE001 - only a lookup here
        pass
    for key in keys:
        if key.strip():
            try:
                if str(real) == os.path.realpath(user_path(key)):
                    return "the SSH key"
            except (AnnotrainError, OSError, ValueError):
                continue
    sandbox = os.path.realpath(paths.default_sandbox)
    if str(real) in (sandbox, *(sandbox + side for side in _SQLITE_SIDE_FILES)):
        return "the default sandbox workspace"
    state = os.path.realpath(paths.state_dir)
    if str(real).startswith(state + os.sep):
        return "one of annotrain's state files (jobs, journals, locks, crash logs)"
    return None


def check_output(target: str | Path, *, inputs: Iterable[str | Path] = (), force: bool = False) -> Path:
    """Check that ``target`` may be written, and return the real path to write to.

    Refused (``InvalidInput``, exit 2): a target that exists and is not a regular file (a device
    such as ``/dev/null``, a FIFO, a directory); a target that is the same file as one of
    ``inputs`` (same ``st_dev``/``st_ino`` or same real path, whatever the spelling, hard links
    and symlinks included); a target whose directory does not exist. An existing regular file
    raises :class:`OutputExists` (hint "pass --force to overwrite it") unless ``force``.

    A symlink is written through: the returned path is its target, so the link itself is kept.
    """
    p = Path(target)
    name = display_path(p)
    if not str(target).strip():
        raise InvalidInput("the output file name is empty (give a file name)")
    try:
        real = real_target(p)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc.__class__.__name__
        raise InvalidInput(f"{name}: cannot use this path ({reason})") from None
    st = refuse_non_regular(real, name)
    own = _own_file(real)
    if own:
        raise InvalidInput(f"{name}: is {own}; writing it would destroy it (choose another output file)")
    for inp in inputs:
        if inp is None:
            continue
        if same_file(real, inp) if st is not None else os.path.realpath(inp) == str(real):
            raise InvalidInput(f"{name}: is one of this command's inputs ({display_path(inp)}); "
                               "writing it would destroy the input (choose another output file)")
    if st is None:
        parent = real.parent
        if not parent.is_dir():
            raise InvalidInput(f"{name}: the directory {display_path(parent)} does not exist")
        return real
    if _special_file_system(real):
        raise InvalidInput(f"{name}: is on a kernel file system (/proc, /sys), not a file to write; "
                           "choose another output file")
    if not force:
        raise OutputExists(f"{name} already exists", path=real)
    return real


def _special_file_system(real: Path) -> bool:
    parts = real.parts
    return len(parts) > 1 and parts[1] in ("proc", "sys")


def check_distinct_outputs(outputs: Mapping[str, str | Path | None]) -> None:
    """Refuse two outputs that are the same file (``{"--out": a, "--summary-json": b}``; None skipped)."""
    named = [(label, p) for label, p in outputs.items() if p is not None]
    for i, (label_a, a) in enumerate(named):
        for label_b, b in named[i + 1:]:
            if same_file(a, b) or os.path.realpath(a) == os.path.realpath(b):
                raise InvalidInput(f"{label_a} and {label_b} name the same file ({display_path(a)}); "
                                   "give each output its own file")


def check_input_file(path: str | Path) -> os.stat_result:
    """stat an input file without opening it: missing, a directory, a FIFO, a device → UnreadableInput."""
    p = Path(path)
    name = display_path(p)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise UnreadableInput(f"{name}: no such file") from None
    except NotADirectoryError:
        raise UnreadableInput(f"{name}: no such file (a part of the path is not a directory)") from None
    except PermissionError:
        raise UnreadableInput(f"{name}: permission denied") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc.__class__.__name__
        raise UnreadableInput(f"{name}: cannot read ({reason})") from None
    if stat.S_ISDIR(st.st_mode):
        raise UnreadableInput(f"{name}: is a directory, expected a file")
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableInput(f"{name}: is {kind_of(st.st_mode)}, not a regular file (give a file)")
    return st


def read_user_bytes(path: str | Path) -> bytes:
    """The bytes of a file the user named; missing, a directory, a FIFO or device, no permission → UnreadableInput.

    The file is stat'ed first and never opened unless it is a regular file: a FIFO would block
    and ``/dev/zero`` would never end.
    """
    p = Path(path)
    check_input_file(p)
    shown = display_path(p)
    try:
        with open(p, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):  # swapped between stat and open
                raise UnreadableInput(f"{shown}: is {kind_of(st.st_mode)}, not a regular file (give a file)")
            return fh.read()
    except FileNotFoundError:
        raise UnreadableInput(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise UnreadableInput(f"{shown}: is a directory, expected a file") from None
    except PermissionError:
        raise UnreadableInput(f"{shown}: permission denied") from None
    except OSError as exc:
        raise UnreadableInput(f"{shown}: cannot read ({exc.strerror or exc.__class__.__name__})") from None


_SYSTEM_HINTS = {
    errno.ENOSPC: "the disk is full; free some space and try again",
    errno.EDQUOT: "the disk quota is used up; free some space and try again",
    errno.EFBIG: "the file is larger than this system allows (ulimit -f?)",
    errno.EROFS: "the file system is read-only; write somewhere else",
    errno.EIO: "an I/O error; check the disk",
}


def write_error(target: str | Path, exc: OSError) -> AnnotrainError:
    """The one error for a write that failed: the system's fault (full, read-only, too large, I/O)
    is a :class:`WriteFailed` (exit 1); anything about the path itself is an InvalidInput (exit 2).
    The old file, if any, is left as it was by every writer that uses this."""
    name = display_path(target)
    reason = exc.strerror or type(exc).__name__
    hint = _SYSTEM_HINTS.get(exc.errno or -1)
    if hint:
        return WriteFailed(f"{name}: cannot write ({reason})", hint=f"{hint}; the old file, if any, is unchanged")
    if isinstance(exc, IsADirectoryError):
        return InvalidInput(f"{name}: is a directory, expected a file path")
    if isinstance(exc, PermissionError):
        return InvalidInput(f"{name}: cannot write (permission denied)")
    return InvalidInput(f"{name}: cannot write ({reason})")


def atomic_write_text(path: str | Path, text: str, *, mode: int | None = None, make_parents: bool = False) -> Path:
    """Write ``text`` (UTF-8, no BOM, newlines as given) so readers see the old or the new file, never half.

    ``make_parents`` creates missing directories (our own state and config files; a path the user
    typed is reported instead). ``mode`` sets the file's permissions (e.g. 0o600).
    """
    target = real_target(path)  # write through a symlink: the link is kept, its target replaced
    refuse_non_regular(target, display_path(path))  # never replace /dev/null, a FIFO, a directory
    directory = target.parent if str(target.parent) else Path(".")
    if make_parents:
        try:  # our own config/state dirs: private when the file is (mode given)
            directory.mkdir(parents=True, exist_ok=True, **({"mode": 0o700} if mode is not None else {}))
        except OSError as exc:  # its own reason (a read-only file system, a full disk), not "does not exist"
            raise write_error(directory, exc) from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except FileNotFoundError:
        raise InvalidInput(f"{display_path(target)}: the directory {display_path(directory)} does not exist") from None
    except PermissionError:
        raise InvalidInput(f"{display_path(target)}: cannot write in {display_path(directory)} (permission denied)") from None
    except OSError as exc:
        raise write_error(target, exc) from None
    try:
        # errors="backslashreplace": a lone surrogate is written as its visible escape, never a traceback.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif target.exists():
            try:
                os.chmod(tmp, target.stat().st_mode & 0o7777)
            except OSError:
                pass
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        _unlink(tmp)
        raise write_error(target, exc) from None
    except BaseException:
        _unlink(tmp)
        raise
    return Path(path)


def _unlink(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass


def user_path(text: str | Path) -> Path:
    """The one expansion of a path a user wrote (``~``, ``~name``), for every option, setting and
    environment variable that names a file.

    ``~name`` of a user this system does not know, or ``~`` without a home directory, is one
    InvalidInput (exit 2) naming the path, never ``RuntimeError: Could not determine home
    directory``; a NUL (which no file name can hold) is refused the same way.
    """
    raw = os.fspath(text)
    if "\x00" in raw:
        raise InvalidInput(f"{_shown(raw, limit=300)}: the path contains a NUL character (remove it)")
    if not raw.startswith("~"):
        return Path(raw)
    head = raw[1:].split(os.sep, 1)[0]
    if os.altsep:
        head = head.split(os.altsep, 1)[0]
    try:
        expanded = os.path.expanduser(raw)
    except (KeyError, ValueError, OSError):
        expanded = raw
    if expanded == raw or expanded.startswith("~"):  # expanduser leaves what it cannot expand as it is
        if head:
            raise InvalidInput(f"{_shown(raw, limit=300)}: there is no user '{_shown(head, limit=60)}' "
                               "(check the path)")
        raise InvalidInput(f"{_shown(raw, limit=300)}: there is no home directory to expand '~' to "
                           "(set HOME, or give the full path)")
    return Path(expanded)


def shell_word(value: str | Path) -> str:
    """A path or user value as ONE shell word, for a hint the user may paste into a shell: shown
    first (the one untrusted-text policy), then ``shlex.quote``, so a space, ``;``, ``$(...)`` or a
    quote in it stays inside the word (``'a b;rm x.db'``)."""
    import shlex

    return shlex.quote(_shown(os.fspath(value) if isinstance(value, Path) else str(value), limit=300))
