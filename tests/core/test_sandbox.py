"""The sandbox behaves as an Encord workspace does (not a dict of canned answers)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from annotrain_tui.core.backends.sandbox.labels import objects_of
from annotrain_tui.core.errors import Conflict, InvalidInput, NotFound
from annotrain_tui.core.models import JobStatus


def _setup(sb):
    integ = sb.add_integration("S3", "aws")
    folder = sb.create_folder("Training", description="d", metadata={"k": "v"})
    return integ, folder


def _images(*names):
    return {"images": [{"objectUrl": f"https://b.s3.amazonaws.com/{n}"} for n in names]}


def test_registration_is_asynchronous_then_done(sandbox, monkeypatch):
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "30")
    integ, folder = _setup(sandbox)
    job = sandbox.start_registration(folder.id, integ.id, _images("a.jpg", "b.jpg"))
    assert sandbox.get_registration_result(folder.id, job).status == JobStatus.PENDING
    assert sandbox.list_items(folder.id) == []
    # the job's time comes: the next poll sees it done
    with sandbox.store.tx() as c:
        c.execute("UPDATE jobs SET ready_at = ? WHERE id = ?", (time.time() - 1, job))
    result = sandbox.get_registration_result(folder.id, job)
    assert result.status == JobStatus.DONE and result.items_created == 2
    assert sorted(i.name for i in sandbox.list_items(folder.id)) == ["a.jpg", "b.jpg"]
    # polling again returns the same stored result and creates nothing more
    assert sandbox.get_registration_result(folder.id, job) == result
    assert len(sandbox.list_items(folder.id)) == 2


def test_unreachable_urls_are_unit_errors(sandbox):
    integ, folder = _setup(sandbox)
    job = sandbox.start_registration(folder.id, integ.id, _images("ok.jpg", "missing/x.jpg", "also-missing.jpg"))
    result = sandbox.get_registration_result(folder.id, job, timeout_seconds=5)
    assert result.status == JobStatus.DONE
    failed = sorted(u for e in result.unit_errors for u in e.object_urls)
    assert failed == ["https://b.s3.amazonaws.com/also-missing.jpg", "https://b.s3.amazonaws.com/missing/x.jpg"]
    assert [i.name for i in sandbox.list_items(folder.id)] == ["ok.jpg"]


def test_without_ignore_errors_one_bad_url_fails_the_whole_job(sandbox):
    integ, folder = _setup(sandbox)
    job = sandbox.start_registration(folder.id, integ.id, _images("ok.jpg", "missing.jpg"), ignore_errors=False)
    result = sandbox.get_registration_result(folder.id, job)
    assert result.status == JobStatus.FAILED and result.errors
    assert sandbox.list_items(folder.id) == []


def test_skip_duplicate_urls_is_honoured(sandbox):
    integ, folder = _setup(sandbox)
    for _ in range(2):
        sandbox.get_registration_result(folder.id, sandbox.start_registration(folder.id, integ.id, _images("a.jpg")))
    assert len(sandbox.list_items(folder.id)) == 2  # Encord registers a duplicate unless told not to
    manifest = {**_images("a.jpg", "b.jpg"), "skip_duplicate_urls": True}
    r = sandbox.get_registration_result(folder.id, sandbox.start_registration(folder.id, integ.id, manifest))
    assert r.items_created == 1
    assert sorted(i.name for i in sandbox.list_items(folder.id)) == ["a.jpg", "a.jpg", "b.jpg"]


def test_image_groups_and_sequences(sandbox):
    integ, folder = _setup(sandbox)
    manifest = {"image_groups": [
        {"title": "g", "createVideo": False, "objectUrl_0": "https://x/a.jpg", "objectUrl_1": "https://x/b.jpg"},
        {"title": "s", "createVideo": True, "objectUrl_0": "https://x/c.jpg"},
    ]}
    sandbox.get_registration_result(folder.id, sandbox.start_registration(folder.id, integ.id, manifest))
    assert {i.name: i.item_type for i in sandbox.list_items(folder.id)} == {"g": "image_group", "s": "image_sequence"}


def test_folders_nest_and_names_are_unique_per_parent(sandbox):
    root = sandbox.create_folder("Root")
    child = sandbox.create_folder("Child", parent_id=root.id, metadata={"a": 1})
    assert child.path == "/Root/Child" and child.metadata == {"a": 1}
    sandbox.create_folder("Child")  # same name elsewhere is fine
    with pytest.raises(Conflict):
        sandbox.create_folder("Child", parent_id=root.id)
    with pytest.raises(InvalidInput):
        sandbox.create_folder("a/b")
    with pytest.raises(NotFound):
        sandbox.create_folder("x", parent_id="nope")
    assert [f.path for f in sandbox.list_folders(search="child")] == ["/Child", "/Root/Child"]


def _project_on(sb, n_items=3):
    integ, folder = _setup(sb)
    sb.get_registration_result(folder.id, sb.start_registration(
        folder.id, integ.id, _images(*[f"{i}.jpg" for i in range(n_items)])))
    items = sb.list_items(folder.id)
    ds = sb.create_dataset("Training set")
    sb.link_items(ds.id, [i.id for i in items])
    onto = sb.add_ontology("O", [{"name": "Car", "shape": "bounding_box"}])
    tpl = sb.add_template("Annotator Training", ["Annotate", "Complete"])
    proj = sb.create_project("P", description="", dataset_ids=[ds.id], ontology_id=onto.id, template_id=tpl.id)
    return proj, ds, items, folder, integ


def test_projects_get_one_label_row_per_data_unit(sandbox):
    proj, ds, items, folder, integ = _project_on(sandbox)
    rows = sandbox.list_label_rows(proj.id)
    assert sorted(r.data_hash for r in rows) == sorted(i.id for i in items)
    assert {r.stage for r in rows} == {"Annotate"}
    assert [d.data_hash for d in sandbox.list_data_rows(ds.id)] == [i.id for i in items]
    # linking a new item later gives the project a new task, as on Encord
    sandbox.get_registration_result(folder.id, sandbox.start_registration(folder.id, integ.id, _images("new.jpg")))
    new = next(i for i in sandbox.list_items(folder.id) if i.name == "new.jpg")
    assert sandbox.link_items(ds.id, [new.id]) == 4
    assert len(sandbox.list_label_rows(proj.id)) == 4


def test_stage_filter_edited_after_and_labels_round_trip(sandbox):
    proj, ds, items, *_ = _project_on(sandbox)
    before = datetime.now(UTC)
    onto = sandbox.ontology_structure(proj.ontology_id)["objects"][0]
    from annotrain_tui.core.backends.sandbox.labels import object_entry

    obj = object_entry(object_hash="o1", ontology_object=onto, coordinates={"x": .1, "y": .2, "w": .3, "h": .4},
                       frame=0, created_by="a@x.com")
    sandbox.save_labels(proj.id, items[1].id, [obj], stage="Complete")
    done = sandbox.list_label_rows(proj.id, stage="Complete")
    assert [r.data_hash for r in done] == [items[1].id]
    assert [r.data_hash for r in sandbox.list_label_rows(proj.id, edited_after=before)] == [items[1].id]
    assert sandbox.list_label_rows(proj.id, edited_after=datetime.now(UTC) + timedelta(seconds=1)) == []
    (row,) = sandbox.get_label_rows(proj.id, [items[1].id])
    assert row["data_hash"] == items[1].id and row["data_title"] == items[1].name
    (got,) = objects_of(row)
    assert got["boundingBox"] == {"x": .1, "y": .2, "w": .3, "h": .4}
    assert got["createdBy"] == "a@x.com" and got["featureHash"] == onto["featureNodeHash"]
    sandbox.save_labels(proj.id, items[2].id, [], stage="Annotate")
    infos, rows = sandbox.get_edited_label_rows(proj.id, edited_after=before)  # a poll: every edit, Complete rows
    assert [(i.data_hash, i.stage) for i in infos] == [(items[1].id, "Complete"), (items[2].id, "Annotate")]
    assert rows == [row]
    assert sandbox.get_edited_label_rows(proj.id, edited_after=infos[-1].last_edited_at) == ([], [])
    with pytest.raises(InvalidInput):
        sandbox.save_labels(proj.id, items[0].id, [], stage="Review")  # not in this template


def test_users_are_invited_with_roles(sandbox):
    proj, *_ = _project_on(sandbox)
    sandbox.add_users(proj.id, ["A@x.com"], "annotator")
    sandbox.add_users(proj.id, ["a@x.com"], "annotator")  # idempotent, case-insensitive
    roles = {u.email.lower(): u.role for u in sandbox.get_project(proj.id).users}
    assert roles["a@x.com"] == "annotator"
    with pytest.raises(InvalidInput):
        sandbox.add_users(proj.id, ["b@x.com"], "wizard")


def test_demo_workspace_is_a_programme_in_flight(demo):
    sb, ids = demo
    assert {i.provider.value for i in sb.list_integrations()} == {
        "aws", "gcp", "azure", "otc", "wasabi", "oracle", "direct"}
    bench = sb.get_project(ids["benchmark"])
    assert bench.title == "Benchmark Labels"
    assert sb.stage_counts(bench.id) == {"Complete": 60}
    shapes = {c.shape for c in sb.list_ontologies()[0].objects}
    assert {"bounding_box", "rotatable_bounding_box", "polygon"} <= shapes
    assert "Annotator Training" in [t.title for t in sb.list_workflow_templates()]
    trainings = [p for p in sb.list_projects() if p.title.startswith("Annotator Training - ")]
    assert len(trainings) == 3
    progress = sorted(sb.stage_counts(p.id).get("Complete", 0) for p in trainings)
    assert progress[0] < progress[-1] == 60  # partial work of varying amount
    for p in trainings:
        assert p.dataset_ids == bench.dataset_ids and p.ontology_id == bench.ontology_id


def test_demo_ids_are_repeatable_when_asked(tmp_path):
    from annotrain_tui.core.backends.sandbox import SandboxBackend
    from annotrain_tui.core.backends.sandbox.demo import seed_demo

    a = seed_demo(SandboxBackend(tmp_path / "a.db"), deterministic_ids=True)
    b = seed_demo(SandboxBackend(tmp_path / "b.db"), deterministic_ids=True)
    c = seed_demo(SandboxBackend(tmp_path / "c.db"))
    assert a["benchmark"] == b["benchmark"] != c["benchmark"]


def test_simulate_moves_tasks_to_complete(demo):
    from annotrain_tui.core.backends.sandbox.ops import simulate

    sb, _ = demo
    trainings = [p for p in sb.list_projects() if p.title.startswith("Annotator Training - ")]
    before = sum(sb.stage_counts(p.id).get("Complete", 0) for p in trainings)
    steps = simulate(sb, rate=1000, duration=0.5, seed=1)
    after = sum(sb.stage_counts(p.id).get("Complete", 0) for p in trainings)
    assert steps > 0
    assert after > before


def test_import_labels_pairs_rows_by_data_hash(sandbox):
    onto = sandbox.add_ontology("O", [{"name": "Car", "shape": "bounding_box"}])
    a = sandbox.create_project("Bench", description="", dataset_ids=[], ontology_id=onto.id)
    b = sandbox.create_project("Train", description="", dataset_ids=[], ontology_id=onto.id)
    row = {"data_hash": "dh-1", "data_title": "img.jpg", "data_type": "image", "label_hash": "lh",
           "data_units": {"dh-1": {"labels": {"objects": []}}}}
    from annotrain_tui.core.backends.sandbox.ops import import_labels

    assert import_labels(sandbox, a.id, [row]) == 1
    assert import_labels(sandbox, b.id, [{**row, "label_hash": "lh2"}]) == 1
    ra = sandbox.list_label_rows(a.id, stage="Complete")
    rb = sandbox.list_label_rows(b.id, stage="Complete")
    assert [r.data_hash for r in ra] == [r.data_hash for r in rb] == ["dh-1"]
    (got,) = sandbox.get_label_rows(b.id, ["dh-1"])
    assert got["label_hash"] == "lh2"
    with pytest.raises(InvalidInput, match="row 0: missing 'data_hash'"):
        import_labels(sandbox, a.id, [{"x": 1}])


def test_concurrent_writers_do_not_lose_work(sandbox):
    from concurrent.futures import ThreadPoolExecutor

    onto = sandbox.add_ontology("O", [{"name": "Car", "shape": "bounding_box"}])
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: sandbox.create_project(f"P{n}", description="", dataset_ids=[], ontology_id=onto.id),
                      range(40)))
    assert len(sandbox.list_projects()) == 40


def test_a_non_sqlite_file_is_reported_not_crashed(tmp_path):
    from annotrain_tui.core.backends.sandbox import SandboxBackend

    bad = tmp_path / "bad.db"
    bad.write_text("this is not a database" * 100)
    before = bad.read_bytes()
    with pytest.raises(InvalidInput, match="not an annotrain workspace") as err:
        SandboxBackend(bad).list_projects()
    assert "sandbox reset" not in str(err.value)
    assert bad.read_bytes() == before


def test_a_new_workspace_never_replaces_one_made_meanwhile(tmp_path):
    """Two first runs at once: the one that finishes second opens the first one's workspace."""
    from annotrain_tui.core.backends.sandbox import SandboxBackend

    target = tmp_path / "ws.db"

    def fill(outer):
        outer.add_integration("outer", "aws")
        SandboxBackend.build(target, lambda inner: inner.add_integration("inner", "gcp"))  # finishes first

    with pytest.raises(Conflict, match="already exists"):
        SandboxBackend.build(target, fill)
    backend = SandboxBackend(target, create=False)
    try:
        assert [i.title for i in backend.list_integrations()] == ["inner"]
    finally:
        backend.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.db"]


def test_a_new_workspace_carries_the_marker_and_is_in_wal(tmp_path):
    import sqlite3

    from annotrain_tui.core.backends.sandbox import SandboxBackend
    from annotrain_tui.core.backends.sandbox.store import APPLICATION_ID, SCHEMA_VERSION

    SandboxBackend(tmp_path / "ws.db").close()
    conn = sqlite3.connect(tmp_path / "ws.db")
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_opening_a_missing_path_without_create_makes_nothing(tmp_path):
    from annotrain_tui.core.backends.sandbox import SandboxBackend

    with pytest.raises(NotFound, match="no sandbox workspace"):
        SandboxBackend(tmp_path / "a" / "b.db", create=False)
    with pytest.raises(NotFound):
        SandboxBackend(tmp_path / "c.db", read_only=True)
    assert list(tmp_path.iterdir()) == []


def test_label_rows_carry_only_the_sdks_task_statuses(demo):
    """Issue 12: the sandbox wrote IN_PROGRESS, which Encord does not have (encord/orm/label_row.py
    AnnotationTaskStatus: QUEUED, ASSIGNED, IN_REVIEW, RETURNED, COMPLETED)."""
    from encord.orm.label_row import AnnotationTaskStatus

    backend, _ = demo
    known = {s.value for s in AnnotationTaskStatus}
    seen = set()
    for project in backend.list_projects():
        rows = backend.list_label_rows(project.id)
        bodies = backend.get_label_rows(project.id, [r.data_hash for r in rows])
        seen |= {b["annotation_task_status"] for b in bodies}
    # the demo's trainees hold their annotation tasks (as provisioning assigns them)
    assert seen <= known and {"COMPLETED", "ASSIGNED"} <= seen
    bench = next(p for p in backend.list_projects() if p.title == "Benchmark Labels")
    fresh = backend.create_project("Nobody's", description="", dataset_ids=bench.dataset_ids,
                                   ontology_id=bench.ontology_id)
    rows = backend.list_label_rows(fresh.id)
    assert {b["annotation_task_status"] for b in backend.get_label_rows(fresh.id, [rows[0].data_hash])} == {"QUEUED"}
    assert backend.assign_tasks(fresh.id, "x@example.com") == len(rows)
    assert {b["annotation_task_status"] for b in backend.get_label_rows(fresh.id, [rows[0].data_hash])} == {"ASSIGNED"}
    assert backend.assign_tasks(fresh.id, "y@example.com") == 0  # held tasks are left to their holder


def test_remove_files_deletes_the_workspace_and_sqlites_files_beside_it(tmp_path):
    from annotrain_tui.core.backends.sandbox import SandboxBackend
    from annotrain_tui.core.backends.sandbox.store import files_of, remove_files

    path = tmp_path / "ws.db"
    SandboxBackend(path).close()
    for extra in files_of(path)[1:]:  # as a killed process leaves them
        extra.write_bytes(b"")
    other = tmp_path / "ws.db-journal-not-ours"
    other.write_text("x")
    assert sorted(p.name for p in remove_files(path)) == ["ws.db", "ws.db-shm", "ws.db-wal"]
    assert not any(p.exists() for p in files_of(path)) and other.exists()
    assert remove_files(path) == []  # nothing there: nothing to do, no error


def test_repeatable_ids_are_one_backends_own(tmp_path):
    """seed_ids was module-global: seeding one workspace made every other one's ids repeatable too."""
    from annotrain_tui.core.backends.sandbox import SandboxBackend

    a, b, c = (SandboxBackend(tmp_path / f"{n}.db") for n in "abc")
    try:
        a.seed_ids(7)
        b.seed_ids(7)
        assert [a.new_id() for _ in range(3)] == [b.new_id() for _ in range(3)]
        assert c.new_id() != SandboxBackend.new_id(c)  # not seeded: random, untouched by the others
        a.seed_ids(None)
        assert a.new_id() != b.new_id()
    finally:
        for backend in (a, b, c):
            backend.close()
