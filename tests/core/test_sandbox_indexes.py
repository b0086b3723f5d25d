"""The sandbox finds projects by marker through its indexes, exactly; older workspaces get them.

Issue 14: provisioning looked a project up by its marker by reading every project (with its users
and datasets), so each create cost more than the one before. A workspace made before the indexes
existed is read as it is (nothing written) and gets them on its first write.
"""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.store import INDEXES, MARKER_PREFIX, SCHEMA_VERSION, recognise
from annotrain_tui.core.markers import training_description, training_marker

BENCH = "bench-1"


def _indexes(path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        conn.close()


def _digest(path) -> str:
    """The file's bytes, and what its WAL holds (a reader may leave an empty one, SQLite's own)."""
    wal = path.with_name(path.name + "-wal")
    return hashlib.sha256(path.read_bytes()).hexdigest() + (hashlib.sha256(wal.read_bytes()).hexdigest()
                                                            if wal.exists() and wal.stat().st_size else "")


def _project(sb: SandboxBackend, title: str, description: str) -> str:
    onto = sb.list_ontologies()[0].id if sb.list_ontologies() else sb.add_ontology("O", [
        {"name": "Car", "shape": "bounding_box"}]).id
    return sb.create_project(title, description=description, dataset_ids=[], ontology_id=onto).id


def _brute(sb: SandboxBackend, text: str) -> list[str]:
    return [p.id for p in sb.list_projects() if text in p.description]


# Descriptions a workspace may hold: made by provisioning, edited by hand, or neither.
DESCRIPTIONS = [
    training_description("Ann", "a1@example.com", BENCH),
    training_description("Ann Ten", "a10@example.com", BENCH),  # a1's marker up to its '@' begins this one
    training_description("Other bench", "a1@example.com", "bench-2"),
    # edited by hand: a broken marker first, the real one after it
    "[annotrain:training broken] then " + training_marker(BENCH, "b@example.com"),
    # the same marker twice, and another's marker first
    training_marker(BENCH, "c@example.com") + " copy " + training_marker(BENCH, "c@example.com"),
    training_marker(BENCH, "d@example.com") + " " + training_marker(BENCH, "a1@example.com"),
    "made by hand, no marker",
    "",
    "[annotrain:TRAINING benchmark=bench-1 annotator=a1@example.com]",  # not a marker: case differs
    "a marker ending in an emoji " + MARKER_PREFIX + "benchmark=x annotator=\U0001f600]",
]

NEEDLES = [
    training_marker(BENCH, "a1@example.com"),
    training_marker(BENCH, "a1@example.com").split("@")[0],  # a prefix: a1's and a10's
    training_description("Ann", "a1@example.com", BENCH),
    training_marker(BENCH, "b@example.com"),
    training_marker(BENCH, "c@example.com"),
    training_marker(BENCH, "d@example.com"),
    training_marker("bench-2", "a1@example.com"),
    training_marker(BENCH, "nobody@example.com"),
    MARKER_PREFIX,
    MARKER_PREFIX + "broken]",
    MARKER_PREFIX + "benchmark=x annotator=\U0001f600]",  # ends beyond the range the index bounds handle
    "then " + MARKER_PREFIX,
    "made by hand",
    "",
]


def test_training_markers_begin_as_the_index_expects():
    assert training_marker("b", "e@x").startswith(MARKER_PREFIX)
    assert training_description("N", "e@x", "b").endswith(training_marker("b", "e@x"))


@pytest.mark.parametrize("drop", [False, True], ids=["indexed", "without-indexes"])
def test_a_lookup_by_marker_finds_exactly_the_descriptions_holding_it(sandbox, drop):
    ids = [_project(sandbox, f"P{n}", d) for n, d in enumerate(DESCRIPTIONS)]
    assert len(set(ids)) == len(DESCRIPTIONS)
    if drop:  # as a workspace made before the indexes, opened read-only, reads
        with sandbox.store.tx() as c:
            for name in INDEXES:
                c.execute(f"DROP INDEX {name}")
        assert not set(INDEXES) & _indexes(sandbox.path)
    for needle in NEEDLES:
        want = _brute(sandbox, needle)
        got = [p.id for p in sandbox.list_projects(description_contains=needle)]
        assert got == want, needle
    a1 = training_marker(BENCH, "a1@example.com")
    found = {p.title for p in sandbox.list_projects(description_contains=a1)}
    assert found == {"P0", "P5"}  # its own, and the hand-edited one where it comes second
    assert {p.title for p in sandbox.list_projects(description_contains=a1.split("@")[0])} == {"P0", "P1", "P5"}
    assert [p.title for p in sandbox.list_projects(description_contains=training_marker(BENCH, "b@example.com"))] \
        == ["P3"]


def test_a_lookup_by_marker_keeps_users_and_datasets(demo):
    sb, ids = demo
    bench = sb.get_project(ids["benchmark"])
    trained = [p for p in sb.list_projects() if "[annotrain:training" in p.description]
    assert trained
    for p in trained:
        (found,) = sb.list_projects(description_contains=p.description)
        assert found == p == sb.get_project(p.id)
        assert found.dataset_ids == bench.dataset_ids and found.users
    with pytest.raises(Exception, match="not found"):
        sb.get_project("no-such-project")


def _recorded_queries(sb: SandboxBackend, monkeypatch, call) -> list[tuple[str, tuple]]:
    seen: list[tuple[str, tuple]] = []
    real = sb.store.query

    def query(sql, params=()):
        seen.append((sql, tuple(params)))
        return real(sql, params)

    monkeypatch.setattr(sb.store, "query", query)
    call()
    monkeypatch.undo()
    return seen


def _plan_of(sb: SandboxBackend, sql: str, params: tuple) -> list[str]:
    return [r[3] for r in sb.store.connect().execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]


def test_lookups_by_marker_and_by_id_read_indexes_not_every_project(demo, monkeypatch):
    sb, ids = demo
    project = next(p for p in sb.list_projects() if "[annotrain:training" in p.description)
    for call in (lambda: sb.list_projects(description_contains=project.description),
                 lambda: sb.list_projects(description_contains=training_marker(BENCH, "x@example.com")),
                 lambda: sb.get_project(project.id)):
        queries = _recorded_queries(sb, monkeypatch, call)
        assert queries
        for sql, params in queries:
            plan = _plan_of(sb, sql, params)
            scans = [step for step in plan if step.startswith("SCAN ")]
            # a scan of the partial index of hand-edited descriptions (with a second marker) is fine:
            # it holds only those; a scan of a table is not
            assert all("USING INDEX projects_marker_again" in step for step in scans), (sql, plan)
            if "FROM projects" in sql and "WHERE id" not in sql:
                assert any("USING INDEX projects_marker " in step for step in plan), (sql, plan)
                assert any("USING INDEX projects_marker_again" in step for step in plan), (sql, plan)


def test_a_title_search_is_any_case_containment(sandbox):
    titles = ["Straße", "50% done", "a_b", "back\\slash", "Kate", "ÉCOLE", "x\x01y", "plain", "\U0001f600 smile",
              "KELVIN \u212a"]
    for t in titles:
        _project(sandbox, t, "")
    projects = sandbox.list_projects()
    for needle in ["ss", "SS", "%", "_", "\\", "\u212a", "k", "école", "É", "\x01", "PLAIN", "a_b", "a%b", "50%",
                   "ß", "e", "\U0001f600", "nothing"]:
        want = [p.id for p in projects if needle.casefold() in p.title.casefold()]
        assert [p.id for p in sandbox.list_projects(search=needle)] == want, needle
    assert {p.title for p in sandbox.list_projects(search="ss")} == {"Straße"}
    assert {p.title for p in sandbox.list_projects(search="k")} == {"Kate", "KELVIN \u212a", "back\\slash"}


def _made_before_the_indexes(path) -> None:
    """Drop the indexes: the file is then what annotrain wrote before them (schema 1, same tables)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for name in INDEXES:
            conn.execute(f"DROP INDEX {name}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def test_a_workspace_made_before_the_indexes_is_read_untouched_and_gets_them_on_its_first_write(demo):
    sb, ids = demo
    path = sb.path
    expected = {p.id: p for p in sb.list_projects()}
    marker_of = {pid: p.description for pid, p in expected.items() if "[annotrain:training" in p.description}
    sb.close()
    _made_before_the_indexes(path)
    assert not set(INDEXES) & _indexes(path)
    before = _digest(path)

    # read-only, and read-write before any write: the same answers, nothing written
    for read_only in (True, False):
        old = SandboxBackend(path, create=False, read_only=read_only)
        for pid, description in marker_of.items():
            assert [p.id for p in old.list_projects(description_contains=description)] == [pid]
        assert {p.id: p for p in old.list_projects()} == expected
        old.close()
        assert _digest(path) == before and not set(INDEXES) & _indexes(path)

    # the first write makes them; the file stays schema 1, readable by the version that made it
    old = SandboxBackend(path, create=False)
    some = next(iter(marker_of))
    old.add_users(some, ["new@example.com"], "reviewer")
    assert set(INDEXES) <= _indexes(path)
    assert recognise(path) == "marked"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    for pid, description in marker_of.items():
        assert [p.id for p in old.list_projects(description_contains=description)] == [pid]
    old.close()


def test_a_new_workspace_has_the_indexes_from_the_start(tmp_path):
    sb = SandboxBackend(tmp_path / "new.db")
    assert set(INDEXES) <= _indexes(sb.path)
    sb.close()
