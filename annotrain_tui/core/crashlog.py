"""Crash logs: where an unexpected error's details go, for the CLI and the TUI alike.

A front that meets an exception it has no message for shows one line naming the crash log
(``annotrain: internal error: <type>: <message> (details in <path>)``); the file holds the
traceback -- without locals -- after :func:`annotrain_tui.core.secrets.redact`, so no key text
reaches it. Files are ``<state dir>/crash/crash-<time>-<pid>.log``, 0600, in a 0700 directory;
only the newest :data:`KEEP` are kept.
"""

from __future__ import annotations

import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from annotrain_tui.core.secrets import PRIVATE_FILE, make_private_dir, redact
from annotrain_tui.core.text import shown

KEEP = 50


def crash_dir(state_dir: Path | None = None) -> Path:
    if state_dir is None:
        from annotrain_tui.core.config import Paths

        state_dir = Paths.default().state_dir
    return Path(state_dir) / "crash"


def crash_text(exc: BaseException, *, argv: list[str] | None = None, where: str = "") -> str:
    """The crash log's text: a header and the traceback (chained exceptions too), redacted."""
    from annotrain_tui import __version__

    lines = [
        f"annotrain {__version__} internal error, {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"python {sys.version.split()[0]} on {sys.platform}",
    ]
    if where:
        lines.append(f"where: {where}")
    if argv is not None:
        lines.append("argv: " + " ".join(shown(a, limit=300) for a in argv))
    lines.append("")
    try:
        lines.extend(chunk.rstrip("\n") for chunk in traceback.format_exception(exc))
    except Exception:  # a hostile __str__ in the chain: keep the types at least
        lines.append(f"{type(exc).__name__} (its traceback could not be formatted)")
    return shown("\n".join(lines), multiline=True) + "\n"


def write_crash_log(exc: BaseException, *, state_dir: Path | None = None, argv: list[str] | None = None,
                    where: str = "") -> Path:
    """Write the crash log for ``exc`` and return its path (OSError when it cannot be written)."""
    directory = crash_dir(state_dir)
    make_private_dir(directory)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    text = crash_text(exc, argv=argv, where=where).encode("utf-8", "surrogateescape")
    for n in range(100):
        path = directory / f"crash-{stamp}-{os.getpid()}{'' if n == 0 else f'-{n}'}.log"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(text)
        except BaseException:
            try:
                os.unlink(path)
            except OSError:
                pass
            raise
        _prune(directory)
        return path
    raise FileExistsError(f"{directory}: too many crash logs this second")


def _prune(directory: Path) -> None:
    try:
        logs = sorted(directory.glob("crash-*.log"), key=lambda p: p.stat().st_mtime)
        for old in logs[:-KEEP]:
            old.unlink()
    except OSError:
        pass


def summary(exc: BaseException, *, limit: int = 200) -> str:
    """``<type>: <message>`` on one line, redacted and safe to show."""
    try:
        message = str(exc)
    except Exception:
        message = ""
    text = " ".join(redact(message).split())
    name = type(exc).__name__
    return shown(f"{name}: {text}" if text else name, limit=limit)


def report(exc: BaseException, *, state_dir: Path | None = None, argv: list[str] | None = None,
           where: str = "") -> tuple[str, Path | None]:
    """Write the crash log and return ``(one line, path or None)``.

    The line is ``internal error: <type>: <message> (details in <path>)``; when the log cannot be
    written it says so instead of pointing at a file that does not exist.
    """
    try:
        path: Path | None = write_crash_log(exc, state_dir=state_dir, argv=argv, where=where)
        tail = f"details in {shown(path)}"
    except Exception as failure:  # a full disk, a read-only state dir: the one line still comes out
        path = None
        why = getattr(failure, "strerror", None) or type(failure).__name__
        tail = f"no crash log written: {shown(why)}"
    return f"internal error: {summary(exc)} ({tail})", path
