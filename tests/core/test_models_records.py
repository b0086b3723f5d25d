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
