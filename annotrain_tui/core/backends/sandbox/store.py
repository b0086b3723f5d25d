"""SQLite storage for the sandbox workspace: schema, per-thread connections, transactions."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from annotrain_tui.core.errors import AnnotrainError, InvalidInput

SCHEMA_VERSION = 1

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


class Store:
    """One SQLite file, one connection per thread (WAL lets readers run beside a writer)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=30000")
            except sqlite3.DatabaseError as exc:
                raise InvalidInput(f"{self.path}: not a sandbox workspace ({exc})",
                                   hint="point --sandbox at another file or run 'annotrain sandbox reset'") from None
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE: writers queue instead of failing late)."""
        conn = self.connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        try:
            return self.connect().execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise AnnotrainError(f"sandbox {self.path}: {exc}") from None

    def init_schema(self) -> None:
        with self.tx() as conn:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def meta(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def is_initialised(self) -> bool:
        if not self.path.exists():
            return False
        try:
            return self.meta("schema_version") is not None
        except AnnotrainError:
            return False

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()
