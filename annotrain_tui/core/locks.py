"""One lock primitive for work that two operators (or two threads) must not do at once.

``state_lock(state_dir, key, what=...)`` is an advisory ``fcntl.flock`` on
``<state dir>/locks/<key>.lock`` (directory 0700, file 0600):

- it is tried at once; when another process holds it, ``on_wait`` gets ONE line naming the holder
  ("waiting for provisioning of benchmark 'X' by pid N on host H (annotrain provision …)") and the
  lock is polled until ``timeout`` seconds have passed, then ``LockBusy`` (exit 1) names the holder;
- the holder writes its pid, host, command and start time into the lock file, for that message;
- it is released when the ``with`` block ends, and by the kernel when the process dies, SIGKILL
  included (a flock lives and dies with the open file);
- within one process it is re-entrant for the thread that holds it, and other threads of the same
  process (the TUI's workers) wait for it like another process would.

What a second run does is decided here, once, for every front: it WAITS (bounded) and then goes
on; callers re-read the state under the lock, so the second run finds the first one's work done.
``ANNOTRAIN_LOCK_TIMEOUT`` (seconds) overrides the default wait; ``0`` refuses at once.

The state dir is per user and per machine: this does not protect two operators with different
state dirs sharing one sandbox file (``file_lock`` below, on the file itself, does: provisioning
holds both, through ``Backend.operation_lock``), nor two machines sharing an Encord workspace
(provisioning re-checks the server for that, see ``core.provisioning``).

A read (``read=True``) on a read-only file system goes on without the lock: no writer can exist
there, and writers replace files atomically. Any other lock file the system cannot make is
``LockUnwritable`` (a ``WriteFailed``, exit 1).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import shlex
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from annotrain_tui.core import envvars
from annotrain_tui.core.errors import Cancelled, Conflict, InvalidInput, WriteFailed
from annotrain_tui.core.text import shown

DEFAULT_TIMEOUT = envvars.VARIABLES["ANNOTRAIN_LOCK_TIMEOUT"].default  # 600 s
_POLL_FIRST, _POLL_MAX = 0.02, 0.25

__all__ = ["DEFAULT_TIMEOUT", "LockBusy", "LockUnwritable", "file_lock", "file_lock_holder", "lock_path", "state_lock", "holder_of"]


class LockBusy(Conflict):
    """Another process (or thread) holds the lock and did not let go in time. ``holder`` names it."""

    holder = "another process"


class LockUnwritable(WriteFailed):
    """The lock file cannot be made for a reason of the system (a read-only file system, a full disk):
    exit 1. ``errno`` says which; a read (``state_lock(read=True)``) goes on without the lock on a
    read-only file system, where no writer can be either."""

    errno: int | None = None


_SYSTEM_ERRNOS = {errno.EROFS: "the state dir is on a read-only file system",
                  errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                  errno.EIO: "an I/O error"}


def _lock_error(path: Path, doing: str, exc: OSError) -> InvalidInput | LockUnwritable:
    reason = exc.strerror or exc.__class__.__name__
    if exc.errno in _SYSTEM_ERRNOS:
        err = LockUnwritable(f"{path}: {doing} ({reason})",
                             hint=f"{_SYSTEM_ERRNOS[exc.errno]}; nothing was done", see="config.paths")
        err.errno = exc.errno
        return err
    return InvalidInput(f"{path}: {doing} ({reason})",
                        hint="check the permissions of the state dir", see="config.paths")


class _Entry:
    """The process-wide state of one lock file: which thread holds it, how deep, the open file."""

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.owner: int | None = None
        self.owner_name = ""
        self.depth = 0
        self.fd: int | None = None


_entries: dict[str, _Entry] = {}
_entries_lock = threading.Lock()


def _entry(path: Path) -> _Entry:
    with _entries_lock:
        return _entries.setdefault(str(path), _Entry())


def _timeout(timeout: float | None) -> float:
    if timeout is not None:
        return max(0.0, timeout)
    return envvars.number("ANNOTRAIN_LOCK_TIMEOUT")  # DEFAULT_TIMEOUT when unset


def lock_path(state_dir: Path, key: str) -> Path:
    """``<state dir>/locks/<safe key>-<hash>.lock``: any key (a server id, a title) gives a safe name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", key)[:80].strip("._") or "lock"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return Path(os.path.abspath(state_dir)) / "locks" / f"{safe}-{digest}.lock"


def _private_dir(directory: Path) -> None:
    try:
        directory.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.mkdir(exist_ok=True, mode=0o700)
        if directory.stat().st_mode & 0o077:
            os.chmod(directory, 0o700)
    except OSError as exc:
        raise _lock_error(directory, "cannot create the lock directory", exc) from None


def _open(path: Path) -> int:
    _private_dir(path.parent)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise _lock_error(path, "cannot open the lock file", exc) from None
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    except OSError:
        pass
    return fd


def _command() -> str:
    first = sys.argv[0] if sys.argv and sys.argv[0] else "python"
    if first == "-c":
        first = "python -c"
    elif os.path.basename(first) == "__main__.py":  # python -m annotrain_tui
        first = "annotrain"
    else:
        first = os.path.basename(first)
    return " ".join([first, *sys.argv[1:]])[:300]


def _write_holder(fd: int) -> None:
    info = {"pid": os.getpid(), "host": socket.gethostname(), "command": _command(),
            "thread": threading.current_thread().name,
            "since": datetime.now(UTC).isoformat(timespec="seconds")}
    data = json.dumps(info, ensure_ascii=True).encode("ascii") + b"\n"
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    except OSError:
        pass  # the lock holds without the note; waiters then say "another process"


def holder_of(path: Path) -> dict[str, Any] | None:
    """What the holder wrote into the lock file (pid, host, command, thread, since), or None."""
    try:
        raw = Path(path).read_bytes()[:4096]
        info = json.loads(raw.decode("utf-8", "replace"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _describe(info: dict[str, Any] | None) -> str:
    if not info:
        return "another process"
    pid = shown(str(info.get("pid", "?")), limit=12)
    host = shown(str(info.get("host", "?")), limit=80)
    command = shown(str(info.get("command", "")), limit=120)
    since = shown(str(info.get("since", "")), limit=40)
    text = f"pid {pid} on host {host}"
    if command:
        text += f" ({command})"
    if since:
        text += f", since {since}"
    return text


class _Wait:
    """One bounded wait for a lock: who holds it is said once, the deadline and ``cancel`` end it."""

    def __init__(self, what: str, limit: float, on_wait: Callable[[str], None] | None,
                 cancel: threading.Event | None, hint: str) -> None:
        self.what, self.limit, self.on_wait, self.cancel, self.hint = what, limit, on_wait, cancel, hint
        self.deadline = time.monotonic() + limit
        self.told = False

    def step(self, holder: str) -> float:
        """Raise when the wait is over (deadline: LockBusy naming ``holder``; cancel: Cancelled);
        else say who we wait for (once) and return the time left."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            waited = f"after waiting {self.limit:g}s" if self.limit > 0 else "and this run does not wait"
            err = LockBusy(f"{self.what} is in progress by {holder}; {waited}", hint=self.hint)
            err.holder = holder
            raise err
        if not self.told and self.on_wait is not None and self.limit > 0:
            self.told = True
            self.on_wait(f"waiting for {self.what} by {holder} (up to {self.limit:g}s)…")
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled(f"stopped waiting for {self.what}; nothing was done")
        return remaining


def _enter_thread(entry: _Entry, wait: _Wait) -> bool:
    """Step 1 of both locks: one thread of this process at a time; the holding thread re-enters
    (True: it did, and must only give its depth back)."""
    me = threading.get_ident()
    with entry.cond:
        if entry.owner == me:
            entry.depth += 1
            return True
        while entry.owner is not None:
            remaining = wait.step(f"pid {os.getpid()} (this process, thread {shown(entry.owner_name, limit=60)})")
            entry.cond.wait(min(remaining, _POLL_MAX))
        entry.owner, entry.owner_name, entry.depth = me, threading.current_thread().name, 1
    return False


def _leave_reentered(entry: _Entry) -> None:
    with entry.cond:
        entry.depth -= 1


def _free(entry: _Entry) -> None:
    with entry.cond:
        entry.owner, entry.owner_name, entry.depth = None, "", 0
        entry.cond.notify_all()


@contextmanager
def state_lock(state_dir: Path, key: str, *, what: str, timeout: float | None = None,
               on_wait: Callable[[str], None] | None = None, cancel: threading.Event | None = None,
               sleep: Callable[[float], None] = time.sleep, read: bool = False) -> Iterator[Path]:
    """Hold the lock ``key`` under ``state_dir`` for the ``with`` block (see the module docstring).

    ``what`` names the work in messages ("provisioning of benchmark 'X'"). ``on_wait`` gets one
    line when the lock is busy, before waiting. Raises ``LockBusy`` after ``timeout`` seconds,
    ``Cancelled`` as soon as ``cancel`` is set while waiting. A lock file that cannot be made for a
    reason of the system is ``LockUnwritable`` (exit 1), except for a ``read`` on a read-only file
    system: it goes on without the lock (nobody can write there, and writers replace files
    atomically, so a read sees a whole file).
    """
    path = lock_path(state_dir, key)
    entry = _entry(path)
    wait = _Wait(what, _timeout(timeout), on_wait, cancel,
                 hint="let it finish, then run again: a re-run only does what is left")

    # 1. one thread of this process at a time; the holding thread re-enters.
    if _enter_thread(entry, wait):
        try:
            yield path
        finally:
            _leave_reentered(entry)
        return

    # 2. one process at a time: flock, tried at once, then polled until the deadline.
    fd: int | None = None
    try:
        try:
            fd = _open(path)
        except LockUnwritable as err:
            if not (read and err.errno == errno.EROFS):
                raise
        if fd is None:  # a read on a read-only file system: no lock to take, none needed
            _free(entry)
    except BaseException:
        _free(entry)
        raise
    if fd is None:
        yield path
        return
    try:
        pause = _POLL_FIRST
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise InvalidInput(f"{path}: cannot lock ({exc.strerror or exc.__class__.__name__})") from None
            remaining = wait.step(_describe(holder_of(path)))
            sleep(min(pause, remaining))
            pause = min(_POLL_MAX, pause * 2)
        _write_holder(fd)
        entry.fd = fd
    except BaseException:
        if fd is not None:
            os.close(fd)
        _free(entry)
        raise
    try:
        yield path
    finally:
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
            entry.fd = None
            _free(entry)


# -- a lock on a file itself (the sandbox workspace) ----------------------------------------------
#
# ``state_lock`` lives in one user's state dir: two operators with different state dirs (two users,
# two XDG_STATE_HOME) sharing one sandbox file do not see each other's state locks. ``file_lock``
# takes an ``fcntl.flock`` on the shared file itself, so everyone who opens that file sees it.
#
# - The file is opened READ-ONLY for the flock (a flock needs no write access: read-only workspaces
#   lock too). SQLite locks the same file with POSIX ``fcntl`` byte-range locks; on Linux, flock and
#   POSIX locks are independent (neither blocks nor releases the other; tests check it). On NFS,
#   Linux emulates flock with a POSIX lock of the whole file: that would conflict with SQLite's, and
#   SQLite's WAL mode does not work on network file systems anyway.
# - POSIX locks have one trap: closing ANY descriptor of a file drops every POSIX lock the process
#   holds on it, SQLite's included. So the descriptor opened for the flock is never closed: one per
#   file (device, inode), kept for the life of the process, and shared by every lock of that file.
# - Whoever holds it is found in ``/proc/locks`` (Linux): "pid N on host H (command)".
# - The holder of a file may delete or replace it (``sandbox reset``, ``init --force``) before a
#   waiter gets the lock: once locked, the path is checked to still be the file that was locked;
#   otherwise ``gone()`` is raised (the caller's one line) and nothing is done.

_file_fds: dict[tuple[int, int], int] = {}


def _file_fd(path: Path, gone: Callable[[], Exception]) -> tuple[int, tuple[int, int]]:
    """The process's one read-only descriptor of the file at ``path`` (opened once, never closed)."""
    for _ in range(5):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise gone() from None
        except OSError as exc:
            raise InvalidInput(f"{shown(str(path))}: cannot lock ({exc.strerror or exc.__class__.__name__})") from None
        key = (st.st_dev, st.st_ino)
        with _entries_lock:
            fd = _file_fds.get(key)
            if fd is not None:
                return fd, key
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
            except FileNotFoundError:
                raise gone() from None
            except OSError as exc:
                raise InvalidInput(f"{shown(str(path))}: cannot open it to lock it "
                                   f"({exc.strerror or exc.__class__.__name__})") from None
            opened = os.fstat(fd)
            actual = (opened.st_dev, opened.st_ino)
            _file_fds.setdefault(actual, fd)  # kept even when the path moved meanwhile: never closed
            if actual == key:
                return _file_fds[actual], key
    raise gone()


def _same_file(path: Path, key: tuple[int, int]) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == key


def _command_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            parts = [p.decode("utf-8", "replace") for p in handle.read(4096).split(b"\0") if p]
    except OSError:
        return ""
    if len(parts) > 1 and os.path.basename(parts[0]).startswith("python"):
        if parts[1] == "-m" and len(parts) > 2:
            parts = parts[2:]
        elif not parts[1].startswith("-"):
            parts = parts[1:]  # a script run by its interpreter (the annotrain entry point)
    if not parts:
        return ""
    first = os.path.basename(parts[0])
    if first in ("annotrain_tui", "__main__.py"):
        first = "annotrain"
    return shlex.join([first, *parts[1:]])


def file_lock_holder(path: Path, key: tuple[int, int] | None = None) -> str:
    """Who holds a flock on the file at ``path``: "pid N on host H (command)", or "another process"."""
    if key is None:
        try:
            st = os.stat(path)
        except OSError:
            return "another process"
        key = (st.st_dev, st.st_ino)
    dev, ino = key
    wanted = f"{os.major(dev):02x}:{os.minor(dev):02x}:{ino}"
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as handle:
            lines = handle.read(1 << 20).splitlines()
    except OSError:
        return "another process"
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->" or fields[1] != "FLOCK":
            continue
        if fields[5] != wanted or not fields[4].isdigit():
            continue
        pid = int(fields[4])
        if pid == os.getpid():
            return f"pid {pid} (this process)"
        text = f"pid {pid} on host {shown(socket.gethostname(), limit=80)}"
        command = _command_of(pid)
        return text + (f" ({shown(command, limit=120)})" if command else "")
    return "another process"


@contextmanager
def file_lock(path: Path, *, what: str, timeout: float | None = None,
              on_wait: Callable[[str], None] | None = None, cancel: threading.Event | None = None,
              gone: Callable[[], Exception] | None = None,
              sleep: Callable[[float], None] = time.sleep) -> Iterator[Path]:
    """Hold an exclusive flock on the file ``path`` itself for the ``with`` block (see above).

    Waits like :func:`state_lock` (``on_wait`` gets one line naming the holder; ``LockBusy`` after
    ``timeout`` seconds, ``0``: refuse at once; ``Cancelled`` when ``cancel`` is set); re-entrant in
    the holding thread; other threads of this process wait. ``gone()`` (default: a Conflict) is
    raised when the file is missing, or was deleted or replaced before the lock was had.
    """
    path = Path(path)
    where = shown(str(path), limit=300)
    if gone is None:
        def gone() -> Exception:
            return Conflict(f"{where} was deleted or replaced meanwhile; nothing was done")
    wait = _Wait(what, _timeout(timeout), on_wait, cancel, hint="let it finish, then run again")
    fd, key = _file_fd(path, gone)
    entry = _entry(Path(f"//file/{key[0]}:{key[1]}"))

    # 1. one thread of this process at a time (they share the one descriptor); the holder re-enters.
    if _enter_thread(entry, wait):
        try:
            yield path
        finally:
            _leave_reentered(entry)
        return

    # 2. one process at a time: the flock, tried at once, then polled until the deadline.
    locked = False
    try:
        pause = _POLL_FIRST
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = True
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise InvalidInput(f"{where}: cannot lock ({exc.strerror or exc.__class__.__name__})") from None
            remaining = wait.step(file_lock_holder(path, key))
            sleep(min(pause, remaining))
            pause = min(_POLL_MAX, pause * 2)
        if not _same_file(path, key):  # deleted or replaced by the one we waited for
            raise gone()
    except BaseException:
        if locked:
            fcntl.flock(fd, fcntl.LOCK_UN)
        _free(entry)
        raise
    try:
        yield path
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            _free(entry)
