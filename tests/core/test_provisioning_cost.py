"""What provisioning one annotator costs on the sandbox, and that it does not grow (issue 14).

Each step (create the project, invite, assign the tasks) is one write transaction, not one per
statement; each annotator's steps read the same rows and do about the same SQLite work whether the
workspace holds 4 training projects or hundreds (they used to read every project, with its users
and datasets, per create); the journal's concurrent lines share fsyncs, every line on disk before
``record`` returns.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections import Counter

import pytest

from annotrain_tui.core import provisioning
from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.store import Store
from annotrain_tui.core.provisioning import Journal, apply_plan, make_plan
from annotrain_tui.core.retry import RetryingBackend, RetryPolicy
from annotrain_tui.core.roster import parse_roster

STEPS = ("create_project", "add_users", "assign_tasks")
#: SQLite calls the progress handler every this many virtual-machine instructions
OPS_PER_TICK = 100


def roster(n: int, start: int = 0):
    return parse_roster("name,email\n" + "".join(f"Person {i},p{i}@example.com\n" for i in range(start, start + n)))


class Ticks:
    """VM work of the traced connections, in ticks of OPS_PER_TICK instructions."""

    def __init__(self) -> None:
        self.n = 0

    def tick(self) -> int:
        self.n += 1
        return 0  # go on


@pytest.fixture
def traced(monkeypatch):
    """Every connection a Store opens from now on: its statements, and its VM work."""
    statements: list[tuple[int, str]] = []
    ticks = Ticks()
    real_open = Store._open

    def _open(self, mode):
        conn = real_open(self, mode)
        key = id(conn)
        conn.set_trace_callback(lambda sql: statements.append((key, sql)))
        conn.set_progress_handler(ticks.tick, OPS_PER_TICK)
        return conn

    monkeypatch.setattr(Store, "_open", _open)
    return statements, ticks


def _counting(backend, names, calls: Counter, monkeypatch) -> None:
    for name in names:
        real = getattr(backend, name)

        def wrapped(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(backend, name, wrapped)


def _is_write(sql: str) -> bool:
    return sql.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP")


def test_each_provisioning_step_is_one_transaction(demo, traced, monkeypatch):
    statements, _ = traced
    sb, ids = demo
    sb.close()
    backend = SandboxBackend(sb.path, create=False)  # its connections are traced
    calls: Counter = Counter()
    _counting(backend, STEPS, calls, monkeypatch)
    n = 6
    outcomes = apply_plan(backend, make_plan(backend, roster(n), ids["benchmark"]), concurrency=3)
    assert Counter(o.status for o in outcomes) == {"created": n}
    assert calls == {step: n for step in STEPS}

    begins = [sql for _, sql in statements if sql.strip().upper().startswith("BEGIN")]
    assert len(begins) == sum(calls.values()) == 3 * n  # one per step: none per statement, none extra
    # every write is inside a transaction of its connection (none runs on its own, autocommitted)
    open_tx: dict[int, bool] = {}
    writes = 0
    for conn, sql in statements:
        word = sql.strip().upper()
        if word.startswith("BEGIN"):
            open_tx[conn] = True
        elif word.startswith(("COMMIT", "ROLLBACK")):
            open_tx[conn] = False
        elif _is_write(sql):
            writes += 1
            assert open_tx.get(conn), f"a write outside a transaction: {sql[:120]}"
    assert writes > len(begins)  # the steps do write several statements each
    backend.close()


def _cost_per_annotator(path, bench_id: str, start: int, n: int, ticks: Ticks, monkeypatch, *,
                        retrying: bool) -> tuple[list[int], float]:
    """Rows read by each annotator's own calls, and their VM instructions per annotator (serial:
    concurrency 1). Their own calls: the steps, and the look for their marker before the create;
    planning and the duplicate check after the run read every project once per run, not per annotator."""
    backend = SandboxBackend(path, create=False)
    inside = [False]
    rows = [0]
    spent = [0]
    real_query = backend.store.query

    def query(sql, params=()):
        got = real_query(sql, params)
        if inside[0]:
            rows[0] += len(got)
        return got

    monkeypatch.setattr(backend.store, "query", query)

    def measured(real, when=lambda kwargs: True):
        def call(*args, **kwargs):
            if inside[0] or not when(kwargs):
                return real(*args, **kwargs)
            inside[0], before = True, ticks.n
            try:
                return real(*args, **kwargs)
            finally:
                inside[0] = False
                spent[0] += ticks.n - before
        return call

    for name in STEPS:
        monkeypatch.setattr(backend, name, measured(getattr(backend, name)))
    monkeypatch.setattr(backend, "list_projects", measured(backend.list_projects,
                                                           lambda kwargs: kwargs.get("description_contains")))
    layer = RetryingBackend(backend, RetryPolicy(attempts=2, base_delay=0, sleep=lambda s: None)) if retrying else backend
    plan = make_plan(layer, roster(n, start), bench_id)
    per_annotator: list[int] = []

    def on_update(entry, outcome):  # serial: after each annotator, before the next one's calls
        per_annotator.append(rows[0])
        rows[0] = 0

    outcomes = apply_plan(layer, plan, concurrency=1, on_update=on_update)
    assert Counter(o.status for o in outcomes) == {"created": n}
    backend.close()
    return per_annotator, spent[0] * OPS_PER_TICK / n


@pytest.mark.parametrize("retrying", [False, True], ids=["sandbox", "with-the-retry-layer"])
def test_an_annotators_cost_does_not_grow_with_the_workspace(demo, traced, monkeypatch, retrying):
    _, ticks = traced
    sb, ids = demo
    sb.close()
    small_rows, small_ops = _cost_per_annotator(sb.path, ids["benchmark"], 0, 10, ticks, monkeypatch,
                                                retrying=retrying)
    # 300 more training projects, then 10 more annotators
    filler = SandboxBackend(sb.path, create=False)
    apply_plan(filler, make_plan(filler, roster(300, 1000), ids["benchmark"]), concurrency=4)
    filler.close()
    big_rows, big_ops = _cost_per_annotator(sb.path, ids["benchmark"], 10, 10, ticks, monkeypatch, retrying=retrying)
    # the same rows read for each annotator, however many projects there are
    assert small_rows == big_rows and len(set(small_rows)) == 1, (small_rows, big_rows)
    assert small_rows[0] < 100
    # and about the same SQLite work (B-trees a level deeper at most; reading every project was ~30x)
    assert big_ops <= 1.5 * small_ops, (small_ops, big_ops)


def test_journal_lines_written_together_share_an_fsync_and_each_is_on_disk_before_record_returns(
        tmp_path, monkeypatch):
    journal = Journal(tmp_path / "j.jsonl")
    n = 8
    synced_sizes: list[int] = []
    real_fsync = os.fsync
    deadline = time.monotonic() + 30

    def fsync(fd):
        if not synced_sizes:  # the first: held until every thread has written its line
            while journal._written < n and time.monotonic() < deadline:
                time.sleep(0)  # yield to the writers: waiting for a condition, not timing anything
        synced_sizes.append(os.fstat(fd).st_size)
        return real_fsync(fd)

    monkeypatch.setattr(provisioning.os, "fsync", fsync)
    problems: list[str] = []

    def write(i: int) -> None:
        journal.record("invited", email=f"p{i}@example.com", n=i)
        on_disk = (tmp_path / "j.jsonl").read_bytes()[:max(synced_sizes)]
        if f'"n": {i}}}'.encode() not in on_disk:
            problems.append(f"line {i} returned before an fsync covered it")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not problems
    # the first line's fsync, held until the seven others were written, and one more for all seven
    # (one each would be eight)
    assert len(synced_sizes) == 2 and synced_sizes[1] == (tmp_path / "j.jsonl").stat().st_size
    events = journal.events()
    assert sorted(e["n"] for e in events) == list(range(n))
    # a line alone (nobody else writing) gets its own fsync
    journal.record("finish")
    assert len(synced_sizes) == 3 and synced_sizes[-1] == (tmp_path / "j.jsonl").stat().st_size
    assert json.loads((tmp_path / "j.jsonl").read_text().splitlines()[-1])["event"] == "finish"


def test_a_traced_connection_is_a_real_one(tmp_path, traced):
    """The tracing fixture watches the Store's own connections (so the counts above are real)."""
    statements, _ = traced
    sb = SandboxBackend(tmp_path / "w.db")
    sb.add_integration("S3", "aws")
    assert any("INSERT INTO integrations" in sql for _, sql in statements)
    assert isinstance(sb.store.connect(), sqlite3.Connection)
    sb.close()


def test_threads_of_one_workspace_queue_for_writes_without_sqlites_busy_wait(tmp_path, monkeypatch):
    """A Store's threads wait for each other's write transactions on a lock, not in SQLite's busy
    handler (which sleeps and polls): with SQLite's wait turned off, none of them ever finds the
    file locked."""
    real_open = Store._open

    def _open(self, mode):
        conn = real_open(self, mode)
        conn.execute("PRAGMA busy_timeout=0")  # a locked file would now fail at once
        return conn

    monkeypatch.setattr(Store, "_open", _open)
    sb = SandboxBackend(tmp_path / "w.db")
    errors: list[str] = []

    def write(t: int) -> None:
        try:
            for i in range(40):
                sb.add_integration(f"S3 {t}-{i}", "aws")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(str(exc))

    threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(sb.list_integrations()) == 160
    sb.close()
