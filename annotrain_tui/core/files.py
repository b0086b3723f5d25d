"""Reading users' files and writing files atomically, for every part of the core.

Reads turn every OS failure into one UnreadableInput naming the file (exit 2 in the CLI); writes
go to a temporary file beside the target, fsynced, then os.replace, so a crash leaves the old or
the new file, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from annotrain_tui.core.errors import InvalidInput, UnreadableInput


def read_user_bytes(path: str | Path) -> bytes:
    """The bytes of a file the user named; missing, a directory, no permission → UnreadableInput."""
    p = Path(path)
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(p))[:300]
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise UnreadableInput(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise UnreadableInput(f"{shown}: is a directory, expected a file") from None
    except PermissionError:
        raise UnreadableInput(f"{shown}: permission denied") from None
    except OSError as exc:
        raise UnreadableInput(f"{shown}: cannot read ({exc.strerror or exc.__class__.__name__})") from None


def atomic_write_text(path: str | Path, text: str, *, mode: int | None = None, make_parents: bool = False) -> Path:
    """Write ``text`` (UTF-8, no BOM, newlines as given) so readers see the old or the new file, never half.

    ``make_parents`` creates missing directories (our own state and config files; a path the user
    typed is reported instead). ``mode`` sets the file's permissions (e.g. 0o600).
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if make_parents:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # reported below, by mkstemp
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except FileNotFoundError:
        raise InvalidInput(f"{target}: the directory {directory} does not exist") from None
    except PermissionError:
        raise InvalidInput(f"{target}: cannot write in {directory} (permission denied)") from None
    except OSError as exc:
        raise InvalidInput(f"{target}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
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
    except IsADirectoryError:
        _unlink(tmp)
        raise InvalidInput(f"{target}: is a directory, expected a file path") from None
    except OSError as exc:
        _unlink(tmp)
        raise InvalidInput(f"{target}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
    except BaseException:
        _unlink(tmp)
        raise
    return target


def _unlink(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass
