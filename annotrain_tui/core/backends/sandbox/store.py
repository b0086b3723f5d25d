"""SQLite storage for the sandbox workspace: schema, per-thread connections, transactions.

Opening is a read. A file is recognised as an annotrain workspace by its header (``PRAGMA
application_id`` = :data:`APPLICATION_ID`, ``PRAGMA user_version`` = schema version), or, for a
workspace made before the marker existed, by its tables, read with ``immutable=1`` (no lock, no
``-wal``/``-shm``, nothing written). Anything else (not SQLite, another program's database) is
refused untouched. ``journal_mode=WAL`` and the marker are written only by a write, or when a
workspace is created. A workspace that cannot be written (read-only mount, no permission, or
opened with ``read_only=True``) serves reads; a write then fails with one line.

New workspaces are built in a temporary file beside the target, completely, then fsynced and
moved into place (:func:`new_workspace_file`): a crash or a full disk leaves no half workspace.
"""

from __future__ import annotations

import errno
import os
import secrets
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from annotrain_tui.core.backends.base import WorkspaceGone, WorkspaceMissing
from annotrain_tui.core.errors import AnnotrainError, Conflict, InvalidInput, PermissionDenied
from annotrain_tui.core.remedies import see
from annotrain_tui.core.text import shown

SCHEMA_VERSION = 1
#: ``PRAGMA application_id`` of every annotrain workspace ("AnTr").
APPLICATION_ID = int.from_bytes(b"AnTr", "big")
_SQLITE_MAGIC = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (email TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS integrations (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, provider TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    metadata TEXT NOT NULL DEFAULT '{}', parent_id TEXT REFERENCES folders(id), created_at TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS folders_name ON folders (COALESCE(parent_id, ''), name);
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY, folder_id TEXT NOT NULL REFERENCES folders(id), name TEXT NOT NULL,
    item_type TEXT NOT NULL, url TEXT NOT NULL DEFAULT '', metadata TEXT NOT NULL DEFAULT '{}',
    width INTEGER, height INTEGER, frames INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS items_folder ON items (folder_id);
CREATE INDEX IF NOT EXISTS items_url ON items (folder_id, url);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, folder_id TEXT NOT NULL, integration_id TEXT NOT NULL, manifest TEXT NOT NULL,
    ignore_errors INTEGER NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL, ready_at REAL NOT NULL,
    result TEXT);
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dataset_items (
    dataset_id TEXT NOT NULL REFERENCES datasets(id), item_id TEXT NOT NULL REFERENCES items(id),
    linked_at TEXT NOT NULL, PRIMARY KEY (dataset_id, item_id));
CREATE TABLE IF NOT EXISTS ontologies (id TEXT PRIMARY KEY, title TEXT NOT NULL, structure TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS templates (id TEXT PRIMARY KEY, title TEXT NOT NULL, stages TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    ontology_id TEXT REFERENCES ontologies(id), template_id TEXT REFERENCES templates(id),
    stages TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS project_datasets (
    project_id TEXT NOT NULL REFERENCES projects(id), dataset_id TEXT NOT NULL REFERENCES datasets(id),
    PRIMARY KEY (project_id, dataset_id));
CREATE TABLE IF NOT EXISTS project_users (
    project_id TEXT NOT NULL REFERENCES projects(id), email TEXT NOT NULL COLLATE NOCASE, role TEXT NOT NULL,
    PRIMARY KEY (project_id, email));
CREATE TABLE IF NOT EXISTS label_rows (
    project_id TEXT NOT NULL REFERENCES projects(id), data_hash TEXT NOT NULL, label_hash TEXT NOT NULL,
    stage TEXT NOT NULL, last_edited_at TEXT NOT NULL, created_at TEXT NOT NULL, body TEXT,
    PRIMARY KEY (project_id, data_hash));
CREATE INDEX IF NOT EXISTS label_rows_edited ON label_rows (project_id, last_edited_at);
"""

#: How every training marker begins (``core.markers.training_marker``).
MARKER_PREFIX = "[annotrain:training "
_MARKER = f"'{MARKER_PREFIX}'"
#: A project's description from its first training marker on (NULL without one): indexed, so a
#: project is found by its marker without reading every description (``SandboxBackend.list_projects``).
MARKER_TAIL = (f"(CASE WHEN instr(description, {_MARKER}) > 0 "
               f"THEN substr(description, instr(description, {_MARKER})) END)")
#: A description with a second training marker (edited by hand): the few projects the index of the
#: first one cannot answer for, kept in a partial index of their own.
MARKER_AGAIN = f"instr(substr(description, instr(description, {_MARKER}) + 1), {_MARKER}) > 0"
#: Indexes added after schema 1 was first released: in every new workspace, and made in an older one
#: by its first write (:meth:`Store._prepare_for_writes`). Older annotrain versions read and write a
#: workspace that has them (SQLite keeps every index up to date), so the schema version stays 1.
INDEXES = {
    "projects_marker": f"CREATE INDEX IF NOT EXISTS projects_marker ON projects ({MARKER_TAIL})",
    "projects_marker_again": f"CREATE INDEX IF NOT EXISTS projects_marker_again ON projects (id) WHERE {MARKER_AGAIN}",
}


#: The tables every workspace has (a legacy workspace, without the marker, is recognised by them).
TABLES = frozenset(
    line.split()[5] for line in SCHEMA.splitlines() if line.startswith("CREATE TABLE IF NOT EXISTS "))

_READ_ONLY_ERRORS = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")


def _p(path: Path) -> str:
    return shown(str(path), limit=300)


def _storable(value: object) -> object:
    """A parameter SQLite can store: a lone surrogate (undecodable bytes, or a JSON "\\ud800" in a
    user's file) is kept as its visible escape, as a server that speaks UTF-8 must; an integer
    beyond SQLite's 64 bits is stored as text rather than crashing the write."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return str(value)
    return value


def _storable_params(params: object) -> object:
    if isinstance(params, dict):
        return {k: _storable(v) for k, v in params.items()}
    if isinstance(params, (tuple, list)):
        return tuple(_storable(v) for v in params)
    return params


class _TextSafeConnection(sqlite3.Connection):
    """Every statement's parameters go through :func:`_storable`: the one place where text from
    files and servers enters the sandbox."""

    def execute(self, sql, parameters=(), /):
        return super().execute(sql, cast(Any, _storable_params(parameters)))

    def executemany(self, sql, seq_of_parameters, /):
        return super().executemany(sql, (cast(Any, _storable_params(p)) for p in seq_of_parameters))


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{quote(str(Path(path).absolute()))}?{query}"


def _not_ours(path: Path, why: str) -> InvalidInput:
    return InvalidInput(f"{_p(path)}: not an annotrain workspace ({why}); it was left untouched",
                        hint="point --sandbox at an annotrain workspace, or create a new one",
                        see=see("sandbox.init_demo", path="NEW.db"))


def recognise(path: Path) -> str:
    """``"marked"`` or ``"legacy"`` when ``path`` is an annotrain workspace; never writes anything.

    Missing → NotFound; a directory, unreadable, not SQLite, another program's database or a newer
    schema → one-line errors that never suggest deleting the file.
    """
    path = Path(path)
    try:  # stat first: a FIFO would block the open, a device would read forever
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError:
        mode = None  # the open below says what is wrong
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        from annotrain_tui.core.files import kind_of

        raise _not_ours(path, f"{kind_of(mode)}, not a regular file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(100)
    except FileNotFoundError:
        raise WorkspaceMissing(f"no sandbox workspace at {_p(path)}", hint="check the path, or create it",
                       see=see("sandbox.init_demo", path=path)) from None
    except IsADirectoryError:
        raise _not_ours(path, "a directory") from None
    except PermissionError:
        raise InvalidInput(f"{_p(path)}: cannot read the workspace (permission denied)") from None
    except OSError as exc:
        raise InvalidInput(f"{_p(path)}: cannot read the workspace ({exc.strerror or type(exc).__name__})") from None
    if not head:
        raise _not_ours(path, "an empty file")
    if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
        raise _not_ours(path, "not a SQLite database")
    user_version = int.from_bytes(head[60:64], "big")
    application_id = int.from_bytes(head[68:72], "big")
    if application_id == APPLICATION_ID:
        if user_version > SCHEMA_VERSION:
            raise InvalidInput(f"{_p(path)}: this workspace was made by a newer annotrain (schema {user_version}, "
                               f"this version reads {SCHEMA_VERSION})", hint="upgrade annotrain")
        return "marked"
    if application_id != 0:
        raise _not_ours(path, "the SQLite database of another program")
    # No marker: a workspace made before the marker existed has all our tables and a schema version.
    tables, version = _peek(path, immutable=True)
    if not tables >= TABLES and path.with_name(path.name + "-wal").exists():
        tables, version = _peek(path, immutable=False)  # the schema may still be in a live WAL
    if not tables >= TABLES or version is None:
        raise _not_ours(path, "the SQLite database of another program")
    return "legacy"


def _peek(path: Path, *, immutable: bool) -> tuple[set[str], str | None]:
    """Table names and meta.schema_version, read without a lock or a write (immutable=1)."""
    conn = None
    try:
        conn = sqlite3.connect(_uri(path, **({"immutable": "1"} if immutable else {"mode": "ro"})), uri=True)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = row[0] if row else None
        return tables, version
    except sqlite3.DatabaseError as exc:
        raise _not_ours(path, f"unreadable as SQLite: {exc}") from None
    finally:
        if conn is not None:
            conn.close()


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path`` (None: no file there)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _read_only_reason(path: Path) -> str | None:
    """Why this workspace cannot be written (None: it can, as far as the OS tells before trying)."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except (OSError, AttributeError):
        pass
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        return "no write permission"
    return None


def add_indexes(conn: sqlite3.Connection) -> list[str]:
    """Make the :data:`INDEXES` this workspace lacks, in one transaction; returns their names. A
    workspace that has them all is not written to (nothing is locked)."""
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    missing = [name for name in INDEXES if name not in have]
    if missing:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for name in missing:
                conn.execute(INDEXES[name])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return missing


class Store:
    """One SQLite file, one connection per thread (WAL lets readers run beside a writer).

    Constructing a Store recognises the file (see :func:`recognise`) and writes nothing.
    ``read_only=True`` opens it the way a read-only mount would force; it is also chosen by
    itself when the file or its directory cannot be written.
    """

    def __init__(self, path: Path, *, read_only: bool = False, _building: bool = False) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writer = threading.RLock()  # one write transaction of this Store at a time (see tx)
        self._building = _building
        self.kind = "marked" if _building else recognise(self.path)
        self._identity = None if _building else _identity(self.path)  # the file this Store serves
        reason = "opened read-only" if read_only else (None if _building else _read_only_reason(self.path))
        self.read_only_reason = reason
        self._mode = "ro" if reason else "rw"
        self._prepared = _building  # journal_mode=WAL and the marker, on the first write

    @property
    def read_only(self) -> bool:
        return self._mode != "rw"

    # -- the workspace lock (see core.locks.file_lock) and the file staying the same ------------------
    def gone(self) -> WorkspaceGone:
        return WorkspaceGone(f"the sandbox workspace {_p(self.path)} was deleted or replaced while this run was "
                             "using it ('sandbox reset' or 'sandbox init --force'); nothing more was written",
                             hint="check the workspace's projects, then run again: a re-run only does what is left",
                             see="projects.list")

    def check_still_there(self) -> None:
        """WorkspaceGone unless ``path`` still names the file this Store opened (deleted, or replaced)."""
        if self._identity is not None and _identity(self.path) != self._identity:
            raise self.gone()

    @contextmanager
    def operation_lock(self, name: str, *, timeout: float | None = None, on_wait=None,
                       cancel: threading.Event | None = None) -> Iterator[None]:
        """An flock on the workspace file itself (opened read-only: read-only workspaces lock too),
        seen by every process that opens it whatever its state dir; 'sandbox reset' refuses while
        it is held. Raises WorkspaceGone when the file was deleted or replaced before or meanwhile."""
        from annotrain_tui.core.locks import file_lock

        with file_lock(self.path, what=f"{name} on the sandbox workspace {_p(self.path)}", timeout=timeout,
                       on_wait=on_wait, cancel=cancel, gone=self.gone):
            self.check_still_there()  # the file locked is the one this Store reads and writes
            yield

    def _open(self, mode: str) -> sqlite3.Connection:
        params = {"mode": "ro"} if mode == "ro" else {"immutable": "1"} if mode == "immutable" else {"mode": "rw"}
        conn = sqlite3.connect(_uri(self.path, **params), uri=True, isolation_level=None, timeout=30,
                               check_same_thread=False, factory=_TextSafeConnection)
        try:
            conn.row_factory = sqlite3.Row
            if self._building:  # a temporary file nobody else sees: speed over durability (fsynced at the end)
                conn.execute("PRAGMA journal_mode=MEMORY")
                conn.execute("PRAGMA synchronous=OFF")
            else:
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # a read now, not at the first query
        except BaseException:
            conn.close()
            raise
        return conn

    def connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                try:
                    conn = self._open(self._mode)
                except sqlite3.OperationalError as exc:
                    if (getattr(exc, "sqlite_errorname", "") or "") not in _READ_ONLY_ERRORS:
                        raise
                    if self._mode == "rw":  # the OS refused what it did not say it would: read instead
                        self._mode, self.read_only_reason = "ro", "cannot be written"
                        return self.connect()
                    if self._mode != "ro":
                        raise
                    # A read-only mount (or directory) where SQLite cannot make the WAL index: read the
                    # file as immutable, the only way SQLite reads a WAL database there.
                    self._mode = "immutable"
                    conn = self._open(self._mode)
            except sqlite3.DatabaseError as exc:
                raise AnnotrainError(f"sandbox {_p(self.path)}: cannot open the workspace ({exc})") from None
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _write_error(self, exc: sqlite3.Error) -> AnnotrainError:
        name = getattr(exc, "sqlite_errorname", "") or ""
        if not self._building and (self.read_only or name.startswith(_READ_ONLY_ERRORS) or "readonly" in str(exc)):
            return PermissionDenied(f"workspace is read-only: {_p(self.path)}",
                                    hint="copy it somewhere writable and pass --sandbox COPY")
        reason = _write_reason(exc)
        if self._building:  # new_workspace_file names the target: the temporary file means nothing to a user
            return AnnotrainError(reason)
        return AnnotrainError(f"sandbox {_p(self.path)}: {reason}; nothing was written",
                              hint="free some space and try again" if "full" in reason else None)

    def _prepare_for_writes(self, conn: sqlite3.Connection) -> None:
        """Before the first write: WAL (persistent), the marker on a legacy workspace, and the
        :data:`INDEXES` a workspace made before them lacks."""
        with self._lock:
            if self._prepared:
                return
            conn.execute("PRAGMA journal_mode=WAL")
            if self.kind == "legacy":
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                self.kind = "marked"
            add_indexes(conn)
            self._prepared = True

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE: writers queue instead of failing late).

        This Store's writers (its threads) queue on a lock of their own first: SQLite makes a writer
        that finds the file locked sleep and poll (1 ms, then longer), which is what another process's
        writer still meets, while a thread waiting here starts the moment the one before it is done."""
        with self._writer, self._tx() as conn:
            yield conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise PermissionDenied(f"workspace is read-only: {_p(self.path)}",
                                   hint="copy it somewhere writable and pass --sandbox COPY")
        conn = self.connect()
        try:
            self._prepare_for_writes(conn)
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._write_error(exc) from None
        try:
            # Deleted or replaced since it was opened: a write would go into a file nobody sees again.
            self.check_still_there()
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            yield conn
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise self._write_error(exc) from None
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise self._write_error(exc) from None

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        self.check_still_there()  # a read of a deleted workspace would show what is no longer there
        try:
            return self.connect().execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise AnnotrainError(f"sandbox {_p(self.path)}: {exc}") from None

    def meta(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def is_initialised(self) -> bool:
        """Always True: a Store is only made over a recognised workspace."""
        return True

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()


# -- the files of a workspace ----------------------------------------------------------------------
#: A workspace is its file and, while open in WAL mode, SQLite's two files beside it.
FILE_SUFFIXES = ("", "-wal", "-shm")


def files_of(path: Path) -> list[Path]:
    """Every file a workspace at ``path`` may consist of (the file first)."""
    return [path.with_name(path.name + suffix) for suffix in FILE_SUFFIXES]


def remove_files(path: str | os.PathLike[str]) -> list[Path]:
    """Delete the workspace at ``path`` with its -wal and -shm files; returns those deleted. A file
    that is not there is fine; one that cannot be deleted is a PermissionDenied naming it (the
    files before it are gone). No check that it is a workspace: callers do that first."""
    removed = []
    for p in files_of(Path(path)):
        try:
            p.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise PermissionDenied(f"cannot delete {_p(p)} ({exc.strerror or type(exc).__name__})",
                                   hint="the workspace is read-only") from None
        removed.append(p)
    return removed


# -- creating a workspace: all or nothing --------------------------------------------------------
_TEMP_SUFFIXES = ("", "-journal", "-wal", "-shm")


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")


def _unlink_all(path: Path) -> None:
    for suffix in _TEMP_SUFFIXES:
        try:
            os.unlink(path.with_name(path.name + suffix))
        except OSError:
            pass


def _remove_stale_temps(path: Path) -> None:
    """Temporary files of builds whose process died (killed half-way): never a live one."""
    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".new")):
            continue
        middle = name[len(prefix):-len(".new")].split(".")
        if len(middle) != 2 or not middle[0].isdigit():
            continue
        pid = int(middle[0])
        if pid != os.getpid():
            try:
                os.kill(pid, 0)
                continue  # alive: its build is under way
            except ProcessLookupError:
                pass
            except OSError:
                continue
        elif name in _BUILDING:
            continue
        _unlink_all(path.with_name(name))


_BUILDING: set[str] = set()


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def _write_reason(exc: BaseException) -> str:
    """What a failed write says to a user (SQLite reports EFBIG and some ENOSPC as a disk I/O error)."""
    if isinstance(exc, OSError):
        if exc.errno in (errno.EFBIG, errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            return "the disk is full (or the file size limit was reached)"
        return exc.strerror or type(exc).__name__
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name == "SQLITE_FULL" or "disk is full" in str(exc):
        return "the disk is full"
    if name.startswith("SQLITE_IOERR"):
        return f"a write failed: the disk is full or failing ({exc})"
    return str(exc)


def _create_error(path: Path, exc: BaseException) -> AnnotrainError:
    if isinstance(exc, PermissionError) or (getattr(exc, "sqlite_errorname", "") or "").startswith(_READ_ONLY_ERRORS):
        text = f"cannot write in {_p(path.parent)} (read-only or no permission)"
    else:
        text = _write_reason(exc)
    return AnnotrainError(f"cannot create the sandbox workspace {_p(path)}: {text}; nothing was left there")


@contextmanager
def new_workspace_file(path: Path, *, replace: bool = False) -> Iterator[Path]:
    """Build a workspace in a temporary file beside ``path``; on success move it into place.

    Yields the temporary path, which already holds the schema and the marker: fill it (e.g. with a
    ``SandboxBackend(tmp, _building=True)``) and close every connection before the block ends.
    Then it is switched to WAL, fsynced and moved to ``path``: with ``replace`` over an existing
    file (which the caller checked is a workspace), else only if ``path`` still does not exist
    (Conflict otherwise). On any failure (an exception, a full disk) the temporary file is
    removed and ``path`` is as it was; a process killed half-way leaves only a temporary file,
    removed by the next build.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _create_error(path, exc) from None
    _remove_stale_temps(path)
    tmp = _temp_name(path)
    _BUILDING.add(tmp.name)
    try:
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                conn.execute("BEGIN")
                for statement in [*SCHEMA.split(";"), *INDEXES.values()]:
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                conn.execute("COMMIT")
            finally:
                conn.close()
        except (OSError, sqlite3.Error) as exc:
            raise _create_error(path, exc) from None
        yield tmp
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
            finally:
                conn.close()  # the last connection: checkpointed, -wal and -shm removed
            _fsync(tmp)
            if replace and os.path.lexists(path):
                with _unused(path):  # never under a running operation (its file's own lock, at once)
                    _place(tmp, path, replace=replace)
            else:
                _place(tmp, path, replace=replace)
            _fsync(path.parent, directory=True)
        except (OSError, sqlite3.Error) as exc:
            raise _create_error(path, exc) from None
    except AnnotrainError as err:
        _unlink_all(tmp)
        if isinstance(err, Conflict):
            raise
        # The store inside the build translates a full disk into its own message; say it once, here.
        if not str(err).startswith("cannot create the sandbox workspace"):
            raise AnnotrainError(f"cannot create the sandbox workspace {_p(path)}: {err.message}; "
                                 "nothing was left there") from None
        raise
    except BaseException:
        _unlink_all(tmp)
        raise
    finally:
        _BUILDING.discard(tmp.name)


@contextmanager
def _unused(path: Path) -> Iterator[None]:
    """Hold the workspace's operation lock at once, or refuse (Conflict naming the holder): replacing
    the file under a run (provisioning) would lose what it writes next."""
    from annotrain_tui.core.locks import LockBusy, file_lock

    try:
        with file_lock(path, what=f"a replacement of {_p(path)}", timeout=0):
            yield
    except LockBusy as busy:
        raise Conflict(f"not replaced: the sandbox workspace {_p(path)} is in use by {busy.holder}; it was left "
                       "as it was", hint="let that run finish, then try again") from None


def _place(tmp: Path, path: Path, *, replace: bool) -> None:
    if replace:
        # A stale WAL beside the new file would be replayed into it: the old one goes first.
        for stale in files_of(path)[1:]:
            try:
                os.unlink(stale)
            except FileNotFoundError:
                pass
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic and never over an existing file (two first runs at once)
    except FileExistsError:
        raise Conflict(f"a sandbox workspace already exists at {_p(path)}",
                       hint="pass --force to replace it; its contents are lost") from None
    except OSError:  # a file system without hard links
        if os.path.lexists(path):
            raise Conflict(f"a sandbox workspace already exists at {_p(path)}",
                           hint="pass --force to replace it; its contents are lost") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)
