"""Registration jobs end to end on the sandbox: pending → done, unit errors, retry of failures only."""

from __future__ import annotations

import json

import pytest

from annotrain_tui.core import registration as reg
from annotrain_tui.core.config import Paths
from annotrain_tui.core.errors import InvalidInput, NotFound


@pytest.fixture
def setup(sandbox):
    integ = sandbox.add_integration("S3 bucket", "aws")
    return sandbox, integ, reg.JobStore(Paths.default())


MANIFEST = {"images": [
    {"objectUrl": "https://b.s3.amazonaws.com/ok/1.jpg", "title": "one"},
    {"objectUrl": "https://b.s3.amazonaws.com/flaky/2.jpg", "title": "two"},
    {"objectUrl": "https://b.s3.amazonaws.com/missing/3.jpg", "title": "three"},
], "image_groups": [
    {"title": "g", "createVideo": False, "objectUrl_0": "https://b.s3.amazonaws.com/ok/g0.jpg",
     "objectUrl_1": "https://b.s3.amazonaws.com/ok/g1.jpg"},
]}


def test_pending_then_done_with_unit_errors_then_retry_only_the_failures(setup, monkeypatch):
    sb, integ, store = setup
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "60")
    record = reg.start(sb, store, MANIFEST, manifest_path="m.json", integration_ref="S3 bucket",
                       folder_ref="/Training/New", create_folder=True)
    assert record.urls == 5 and record.folder_path == "/Training/New"
    assert reg.poll(sb, store, record).status.value == "pending"
    # a restarted CLI or app finds the job in the state dir
    assert reg.JobStore(Paths.default()).get(record.id[:8]).status.value == "pending"
    with sb.store.tx() as c:
        c.execute("UPDATE jobs SET ready_at = 0")
    done = reg.wait(sb, store, record, step=0.01)
    assert done.status.value == "done" and done.items_created == 2
    assert sorted(done.failed_urls) == ["https://b.s3.amazonaws.com/flaky/2.jpg",
                                        "https://b.s3.amazonaws.com/missing/3.jpg"]
    retry = reg.retry_failed(sb, store, done)
    assert retry.retry_of == done.id and retry.urls == 2
    assert store.manifest(retry.id) == {"images": [MANIFEST["images"][1], MANIFEST["images"][2]]}
    with sb.store.tx() as c:
        c.execute("UPDATE jobs SET ready_at = 0")
    again = reg.wait(sb, store, retry, step=0.01)
    assert again.failed_urls == ["https://b.s3.amazonaws.com/missing/3.jpg"]  # the flaky one went through
    folder = next(f for f in sb.list_folders() if f.path == "/Training/New")
    assert sorted(i.name for i in sb.list_items(folder.id)) == ["g", "one", "two"]


def test_missing_folder_without_create_and_empty_manifests(setup):
    sb, integ, store = setup
    with pytest.raises(NotFound, match="no folder"):
        reg.start(sb, store, MANIFEST, manifest_path="m", integration_ref=integ.id, folder_ref="/Nope")
    sb.create_folder("F")
    with pytest.raises(InvalidInput, match="names no files"):
        reg.start(sb, store, {"images": []}, manifest_path="m", integration_ref=integ.id, folder_ref="F")


def test_load_for_registration_refuses_invalid_manifests(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [{"objectUrl": "<bucket>/a.jpg"}]}')
    with pytest.raises(reg.ManifestInvalid, match="1 error"):
        reg.load_for_registration(str(bad))
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"images": [{"objectUrl": "https://b.s3.amazonaws.com/a.jpg"}]}))
    data, warnings = reg.load_for_registration(str(good))
    assert data["images"][0]["objectUrl"].endswith("a.jpg")
