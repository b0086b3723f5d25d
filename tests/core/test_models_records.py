"""The backend's records are frozen msgspec structs (issue 14: no pydantic at start-up): ``dump``
gives the JSON form the CLI prints, ``load`` validates one back."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from annotrain_tui.core.models import (
    Integration,
    JobStatus,
    Project,
    Provider,
    RegistrationResult,
    Stage,
    UnitError,
    dump,
    load,
)


def test_dump_gives_json_values_nested_records_too():
    p = Project(id="p1", title="T", created_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
                stages=[Stage(title="Complete", kind="done")])
    assert dump(p) == {"id": "p1", "title": "T", "description": "", "dataset_ids": [], "ontology_id": None,
                       "template_id": None, "users": [], "created_at": "2026-12-01T10:00:00Z",
                       "stages": [{"title": "Complete", "kind": "done", "id": ""}], "caller_role": None,
                       "details_refused": None}
    assert dump(Integration(id="i", title="S3", provider=Provider.AWS))["provider"] == "aws"


def test_load_validates_and_round_trips():
    r = RegistrationResult(status=JobStatus.FAILED, unit_errors=[UnitError(object_urls=["u"], error="e")])
    assert load(RegistrationResult, msgspec.json.encode(dump(r))) == r
    assert load(RegistrationResult, dump(r)) == r
    with pytest.raises(ValueError, match="status"):
        load(RegistrationResult, {"status": "exploded"})
    with pytest.raises(ValueError, match="unknown field"):
        load(RegistrationResult, {"status": "done", "extra": 1})


def test_records_are_frozen_keyword_only_and_replace_copies():
    p = Project(id="p1", title="T")
    with pytest.raises(AttributeError):
        p.title = "U"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Project("p1", "T")  # type: ignore[misc]
    q = p.replace(template_id="t")
    assert (p.template_id, q.template_id, q.title) == (None, "t", "T")
    assert Project(id="a", title="b").dataset_ids is not Project(id="a", title="b").dataset_ids


def test_a_job_record_ignores_fields_it_does_not_know_and_a_put_replaces_a_damaged_one(tmp_path):
    """jobs.json may be shared with a newer annotrain: its extra fields were always ignored."""
    import json

    from annotrain_tui.core.config import Paths
    from annotrain_tui.core.registration import JobRecord, JobStore

    paths = Paths(config_dir=tmp_path / "c", data_dir=tmp_path / "d", state_dir=tmp_path / "s",
                  cache_dir=tmp_path / "k")
    store = JobStore(paths)
    record = JobRecord(id="abc123", folder_id="f", folder_path="/f", integration_id="i", integration_title="S3",
                       manifest_path="m.json", created_at=datetime(2026, 12, 1, tzinfo=UTC),
                       updated_at=datetime(2026, 12, 1, tzinfo=UTC))
    newer = {**dump(record), "priority": "high", "batch": None}
    paths.state_dir.mkdir()
    paths.jobs_file.write_text(json.dumps([newer]), encoding="utf-8")
    assert [r.id for r in store.all()] == ["abc123"]
    # a stored record of the same id with a wrong type is replaced, not an internal error
    paths.jobs_file.write_text(json.dumps([{**newer, "status": 5, "created_at": "yesterday"}]), encoding="utf-8")
    store.put(record.replace(status=JobStatus.DONE))
    assert [r.status for r in store.all()] == [JobStatus.DONE]
    # a wrong type in a record is still the one-line damaged-list error
    paths.jobs_file.write_text(json.dumps([{**newer, "urls": "many"}]), encoding="utf-8")
    from annotrain_tui.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="damaged job list"):
        store.all()
