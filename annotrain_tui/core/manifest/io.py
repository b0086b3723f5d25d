"""Atomic file writes for manifests (temp file in the same directory, then os.replace)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from annotrain_tui.core.errors import InvalidInput


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8, no BOM, newlines as given) so readers see the old or the new file, never half."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
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
        if target.exists():
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
