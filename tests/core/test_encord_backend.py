"""EncordBackend over the real, unmodified encord SDK, talking HTTP to the loopback fake."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from annotrain_tui.cli.exit_codes import exit_code_for
from annotrain_tui.core.backends.base import PROTOCOL_METHODS, Backend
from annotrain_tui.core.backends.encord import EncordBackend, provider_from_title
from annotrain_tui.core.errors import (
    AnnotrainError,
    AuthFailed,
    ConfigError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    Transient,
    UnreadableInput,
    UsageError,
)
from annotrain_tui.core.models import JobStatus, Provider
from annotrain_tui.core.retry import RetryingBackend, RetryPolicy
from tests.fake_encord import PASSPHRASE, Fault, write_rsa_key
from tests.fake_encord.fixtures import encord_settings


def dh(fake, item: str) -> str:
    """The data hash of a demo item's data unit in the demo dataset (not the item's uuid: issue 12)."""
    return fake.ws.data_hash(fake.demo.dataset, item)


def retrying(backend, sleeps: list[float] | None = None) -> RetryingBackend:
    record = sleeps if sleeps is not None else []
    return RetryingBackend(backend, RetryPolicy(attempts=3, base_delay=0, sleep=record.append))


# -- the adapter's shape ----------------------------------------------------------------------
def test_importing_the_adapter_does_not_import_the_sdk():
    code = "import sys, annotrain_tui.core.backends.encord; print('encord' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_it_is_a_backend_with_every_protocol_method(backend):
    assert isinstance(backend, Backend)
    assert all(callable(getattr(backend, m)) for m in PROTOCOL_METHODS)
    assert backend.name == "encord"
    assert backend.describe() == f"encord {backend.domain}"


def test_sdk_retries_are_off_and_timeouts_follow_settings(fake, encord_keys):
    b = EncordBackend.connect(encord_settings(fake, encord_keys["plain"].path, request_timeout=7.5))
    rs = b._client.user_config.config.requests_settings
    assert (rs.max_retries, rs.connection_retries, rs.read_timeout, rs.write_timeout) == (0, 0, 7.5, 7.5)
    assert rs.connect_timeout <= 7.5


def test_provider_is_read_from_the_title():
    assert provider_from_title("Street Scenes S3") is Provider.AWS
    assert provider_from_title("research-gcs-bucket") is Provider.GCP
    assert provider_from_title("Azure blobs") is Provider.AZURE
    assert provider_from_title("Our files") is Provider.DIRECT


# -- signing and checking ---------------------------------------------------------------------
def test_check_is_a_signed_call_and_both_schemes_verify(backend, fake, encord_keys):
    fake.log.clear()
    who = backend.check()
    assert who.startswith("SSH key SHA256:")
    assert [e.route for e in fake.log] == ["folders.list"]
    backend.list_label_rows(fake.demo.benchmark)  # a v1 call besides the v2 ones
    schemes = {e.scheme for e in fake.log}
    assert schemes == {"v1", "v2"}
    assert all(e.verified and e.key == encord_keys["plain"].public_hex for e in fake.log)
    assert fake.refused == []


def test_the_fake_really_verifies_both_signatures(backend, fake, encord_keys):
    """A request signed by the SDK's own signer but altered in transit is refused."""
    import requests
    from encord.http.v2.request_signer import sign_request

    plain = encord_keys["plain"]
    private = backend._client.user_config.config.private_key
    req = requests.Request("GET", f"{fake.url}/v2/public/projects").prepare()
    sign_request(req, plain.public_hex, private)
    assert requests.Session().send(req).status_code == 200
    req.url = f"{fake.url}/v2/public/datasets/list"  # same signature, another target
    assert requests.Session().send(req).status_code == 401
    body = '{"query_type": "dataset", "query_method": "GET", "values": {"uid": null, "payload": null}}'
    forged = requests.post(f"{fake.url}/public", data=body, headers={
        "Authorization": f"{plain.public_hex}:{'00' * 64}", "ResourceType": "dataset",
        "ResourceID": fake.demo.dataset})
    assert forged.json()["response"] == ["AUTHENTICATION_ERROR"]
    assert [r.split(": ")[1] for r in fake.refused] == ["bad signature", "bad signature"]


def test_creating_the_client_checks_nothing_and_a_stranger_key_is_refused(fake, encord_keys):
    b = EncordBackend.connect(encord_settings(fake, encord_keys["stranger"].path))
    assert fake.log == []  # nothing was sent yet
    with pytest.raises(AuthFailed, match="did not accept the SSH key") as exc:
        b.check()
    assert "api.us.encord.com" in str(exc.value)
    with pytest.raises(AuthFailed):  # the v1 API refuses it too
        b.list_data_rows(fake.demo.dataset)
    assert [r.split(":")[0] for r in fake.refused] == ["v2 folders.list", "v1 v1.dataset.get"]


# -- storage ----------------------------------------------------------------------------------
def test_list_integrations(backend):
    found = backend.list_integrations()
    assert [(i.title, i.provider) for i in found] == [("Research GCS bucket", Provider.GCP),
                                                     ("Street Scenes S3", Provider.AWS)]


def test_list_folders_has_nested_paths_across_pages_and_search(backend, fake):
    folders = backend.list_folders()
    assert [f.path for f in folders] == ["/Archive", "/Training Data", "/Training Data/Street Scenes"]
    street = folders[2]
    assert street.parent_id == fake.demo.top and street.metadata == {"source": "cams"}
    assert fake.calls["folders.search"] == 2  # three folders, two per page
    assert [f.path for f in backend.list_folders(search="STREET")] == ["/Training Data/Street Scenes"]


def test_create_folder_nested_and_invalid_names(backend, fake):
    made = backend.create_folder("Batch 1", description="first", metadata={"k": 1}, parent_id=fake.demo.street)
    assert made.path == "/Training Data/Street Scenes/Batch 1" and made.metadata == {"k": 1}
    assert fake.ws.folders[made.id].parent == fake.demo.street
    with pytest.raises(InvalidInput):
        backend.create_folder("a/b")
    with pytest.raises(NotFound):
        backend.create_folder("x", parent_id="not-a-uuid")


def test_registration_job_runs_and_reports_unit_errors(backend, fake):
    fake.ws.job_polls_pending = 1
    fake.ws.unreachable_urls.add("s3://street-bucket/missing.jpg")
    manifest = {"images": [{"objectUrl": "s3://street-bucket/new_1.jpg", "title": "new 1"},
                           {"objectUrl": "s3://street-bucket/missing.jpg"}]}
    job = backend.start_registration(fake.demo.street, fake.demo.integration, manifest)
    assert backend.get_registration_result(fake.demo.street, job).status is JobStatus.PENDING
    result = backend.get_registration_result(fake.demo.street, job, timeout_seconds=5)
    assert result.status is JobStatus.DONE and result.items_created == 1
    assert [u.object_urls for u in result.unit_errors] == [["s3://street-bucket/missing.jpg"]]
    names = [i.name for i in backend.list_items(fake.demo.street)]
    assert "new 1" in names and len(names) == 6


def test_registration_without_ignore_errors_fails_and_bad_ids_are_not_found(backend, fake):
    fake.ws.unreachable_urls.add("s3://b/missing.jpg")
    job = backend.start_registration(fake.demo.street, fake.demo.integration,
                                     {"images": [{"objectUrl": "s3://b/missing.jpg"}]}, ignore_errors=False)
    result = backend.get_registration_result(fake.demo.street, job)
    assert result.status is JobStatus.FAILED and result.errors
    with pytest.raises(NotFound):
        backend.start_registration(fake.demo.street, "nope", {})
    with pytest.raises(NotFound):  # a well-formed id the server does not know
        backend.start_registration(fake.demo.street, "00000000-0000-4000-8000-000000000000", {})
    with pytest.raises(InvalidInput):
        backend.start_registration(fake.demo.street, fake.demo.integration, [])  # type: ignore[arg-type]


def test_list_items(backend, fake):
    items = backend.list_items(fake.demo.street)
    assert [i.id for i in items] == fake.demo.items  # five items over three pages
    assert items[0].item_type == "image" and items[0].url == "s3://street-bucket/img_000.jpg"
    assert items[0].folder_id == fake.demo.street
    # Encord answers 403 for a folder that does not exist (the SDK documents AuthorisationError for
    # get_storage_folder), so the message says both
    with pytest.raises(PermissionDenied, match="or it does not exist"):
        backend.list_items("00000000-0000-4000-8000-000000000000")


# -- datasets ---------------------------------------------------------------------------------
def test_datasets_create_link_idempotently_and_list_rows(backend, fake):
    assert [d.title for d in backend.list_datasets()] == ["Annotator Training Set"]
    made = backend.create_dataset("Trainees", description="copy")
    assert made.id in fake.ws.datasets and made.title == "Trainees"
    items = fake.demo.items
    assert backend.link_items(made.id, items[:3]) == 3
    assert backend.link_items(made.id, items[1:4]) == 4  # already linked ones are skipped
    rows = backend.list_data_rows(made.id)
    # each data unit has its own hash and names its item by backing_item_uuid (PR #623)
    assert [r.item_id for r in rows] == items[:4]
    assert not {r.data_hash for r in rows} & set(items)
    assert rows[0].data_type == "image" and rows[0].file_link.startswith("s3://")
    with pytest.raises(InvalidInput):
        backend.create_dataset("  ")


# -- ontologies, templates, projects ----------------------------------------------------------
def test_list_ontologies(backend):
    (onto,) = backend.list_ontologies()
    assert onto.title == "Street Scene Objects"
    assert [(o.name, o.shape) for o in onto.objects] == [
        ("Car", "bounding_box"), ("Truck", "rotatable_bounding_box"), ("Road", "polygon")]


def test_single_page_routes_are_read_whole(backend, fake):
    """Issue 12: the SDK reads `ontologies` and `projects/{id}/datasets` as one page (encord 0.1.x
    user_client.get_ontologies, client.list_project_datasets); the fake paged them, so with more
    ontologies than its page size the adapter would have listed only the first page."""
    assert fake.page_size < 4
    for n in range(3):
        fake.ws.add_ontology(f"Extra {n}", [("Thing", "bounding_box")])
    assert len(backend.list_ontologies()) == 4
    extra = [fake.ws.add_dataset(f"DS {n}") for n in range(3)]
    pid = fake.ws.add_project("Many datasets", ontology=fake.demo.ontology, datasets=[fake.demo.dataset, *extra])
    assert len(backend.get_project(pid).dataset_ids) == 4


def test_workflow_templates_come_from_config(backend, fake):
    (tpl,) = backend.list_workflow_templates()
    assert (tpl.title, tpl.id) == ("Annotator Training", fake.demo.template)


def test_list_and_get_projects(backend, fake):
    before = len(fake.log)
    projects = backend.list_projects()
    assert [p.title for p in projects] == ["Benchmark Labels", "Annotator Training - Alex Kim"]
    assert {e.route for e in fake.log[before:]} == {"projects.list"}  # one paged listing, no per-project call
    assert projects[0].dataset_ids is None and projects[0].users is None  # not loaded by a listing
    assert [(s.title, s.kind) for s in projects[0].stages] == [("Annotate", "annotation"), ("Review", "review"),
                                                             ("Complete", "done")]
    assert projects[0].caller_role == "admin"
    bench = backend.get_project(projects[0].id)
    assert bench.dataset_ids == [fake.demo.dataset] and bench.ontology_id == fake.demo.ontology
    assert [(u.email, u.role) for u in bench.users] == [("gold.expert@example.com", "annotator"),
                                                        ("owner@example.com", "admin")]
    assert bench.created_at is not None and bench.created_at.tzinfo is not None
    assert [p.title for p in backend.list_projects(search="alex")] == ["Annotator Training - Alex Kim"]
    assert backend.get_project(fake.demo.training).title == "Annotator Training - Alex Kim"
    with pytest.raises(NotFound):
        backend.get_project("00000000-0000-4000-8000-000000000000")


def test_listing_by_description_loads_only_the_matching_projects_details(backend, fake, monkeypatch):
    """The provisioning re-check before each create asks for one marker: the users and datasets
    (one SDK call each per project) are loaded for the projects that carry it, not for every one."""
    p = backend.create_project("Annotator Training - Sam", description="x [annotrain:training benchmark=b "
                               "annotator=sam@example.com] y", dataset_ids=[fake.demo.dataset],
                               ontology_id=fake.demo.ontology, template_id=fake.demo.template)
    before = len(fake.log)
    found = backend.list_projects(description_contains="[annotrain:training benchmark=b annotator=sam@example.com]")
    assert [q.id for q in found] == [p.id]
    assert {e.route for e in fake.log[before:]} == {"projects.list"}
    assert backend.list_projects(description_contains="[annotrain:training benchmark=b annotator=nobody]") == []


def test_create_project_from_a_template_and_add_users(backend, fake):
    p = backend.create_project("Annotator Training - Sam", description="marker", dataset_ids=[fake.demo.dataset],
                               ontology_id=fake.demo.ontology, template_id=fake.demo.template)
    assert p.template_id == fake.demo.template and p.dataset_ids == [fake.demo.dataset]
    backend.add_users(p.id, ["sam@example.com", "sam@example.com", " "], role="annotator")
    backend.add_users(p.id, ["sam@example.com"], role="reviewer")  # Encord keeps an existing role
    users = {u.email: u.role for u in backend.get_project(p.id).users}
    assert users["sam@example.com"] == "annotator"
    assert fake.ws.projects[p.id].users["sam@example.com"] == 1
    with pytest.raises(InvalidInput, match="unknown role"):
        backend.add_users(p.id, ["x@example.com"], role="overlord")
    with pytest.raises(NotFound):
        backend.create_project("t", description="", dataset_ids=[], ontology_id=fake.demo.ontology,
                               template_id="00000000-0000-4000-8000-000000000000")


def test_a_project_with_router_stages_is_listed_and_refused_only_where_the_sdk_cannot_load_it(backend, fake):
    """The listing reads its rows without building the SDK's Workflow, so a router-stage project no
    longer ends (or hides from) the listing; only its label rows need the SDK's Project."""
    routed = fake.ws.add_project("Routed QA", ontology=fake.demo.ontology, datasets=[fake.demo.dataset],
                                 stages=[("Annotate", "ANNOTATION"), ("Split", "PERCENTAGE_ROUTER"),
                                         ("Complete", "DONE")])
    fake.ws.add_project("After the router", ontology=fake.demo.ontology, datasets=[])
    listed = backend.list_projects()
    assert [p.title for p in listed] == ["Benchmark Labels", "Annotator Training - Alex Kim", "Routed QA",
                                        "After the router"]
    assert [s.kind for s in listed[2].stages] == ["annotation", "percentage_router", "done"]
    assert backend.warnings == []
    detailed = backend.get_project(routed)  # kept, with the reason its details are missing
    assert detailed.dataset_ids is None and "router" in (detailed.details_refused or "")
    with pytest.raises(AnnotrainError, match="router") as exc:
        backend.list_label_rows(routed)
    assert not exc.value.retryable


# -- labels -----------------------------------------------------------------------------------
def test_list_label_rows_by_stage_and_edit_time(backend, fake):
    rows = backend.list_label_rows(fake.demo.training)
    assert len(rows) == 4 and {r.stage for r in rows} == {"Annotate", "Review"}
    (review,) = backend.list_label_rows(fake.demo.training, stage="Review")
    assert review.data_hash == dh(fake, fake.demo.items[0]) and review.label_hash and review.data_title == "img_000.jpg"
    assert review.stage_kind == "review" and not review.done and review.started
    assert review.last_edited_at is not None and review.last_edited_at.tzinfo is not None
    fresh = [r for r in rows if r.stage == "Annotate"]
    assert all(r.label_hash is None for r in fresh)  # never opened
    assert backend.list_label_rows(fake.demo.training, edited_after=review.last_edited_at) == []
    earlier = datetime(2026, 1, 1, tzinfo=UTC)
    assert len(backend.list_label_rows(fake.demo.benchmark, stage="Complete", edited_after=earlier)) == 4
    assert len(backend.list_label_rows(fake.demo.benchmark, done_only=True)) == 4


def test_get_label_rows_exports_encord_label_rows_and_never_writes(backend, fake):
    items = [dh(fake, i) for i in fake.demo.items[:4]]
    rows = backend.get_label_rows(fake.demo.training, [items[0], items[1], items[0]])
    # items[1] was never opened (no label hash): a row with no objects built from its metadata, as the
    # sandbox has it, never created with create_label_rows
    assert [r["data_hash"] for r in rows] == [items[0], items[1]]
    assert rows[1]["label_hash"] is None and rows[1]["data_units"][items[1]]["labels"] == {}
    labelled = rows[0]
    (unit,) = labelled["data_units"].values()
    (obj,) = unit["labels"]["objects"]
    assert obj["name"] == "Car" and obj["boundingBox"]["w"] == pytest.approx(0.2)
    assert labelled["label_hash"] and labelled["data_type"] == "image"
    assert fake.ws.row(fake.demo.training, items[1]).label_hash is None
    assert "v1.labelrow.get" in fake.routes_called() and fake.writes() == []
    assert any("never opened" in w and "nothing created" in w for w in backend.warnings)


def test_get_edited_label_rows_lists_once_and_initialises_only_the_complete_rows(backend, fake):
    items, training = [dh(fake, i) for i in fake.demo.items[:4]], fake.demo.training
    (review,) = backend.list_label_rows(training, stage="Review")
    fake.ws.label(training, items[1], stage="Complete", boxes=[("Car", {"x": 0.5, "y": 0.5, "w": 0.1, "h": 0.1})])
    fake.ws.label(training, items[2], stage="Annotate", boxes=[])
    before = len(fake.log)
    infos, rows = backend.get_edited_label_rows(training, edited_after=review.last_edited_at)
    assert sorted((i.data_hash, i.stage) for i in infos) == sorted([(items[1], "Complete"), (items[2], "Annotate")])
    (row,) = rows
    assert row["data_hash"] == items[1]
    (unit,) = row["data_units"].values()
    assert unit["labels"]["objects"][0]["boundingBox"]["x"] == pytest.approx(0.5)
    routes = [entry.route for entry in fake.log[before:]]
    listings = [r for r in routes if "metadata" in r or r.endswith("label-rows")]
    assert routes.count("v1.labelrow.get") == 1  # one bundle
    assert len(listings) == 1, routes  # the rows listed are the rows fetched: no second listing by data hash
    assert backend.get_edited_label_rows(training, edited_after=infos[-1].last_edited_at) == ([], [])


# -- error mapping: every injected failure ----------------------------------------------------
V2_CALL = ("projects.list", lambda b, d: b.list_projects())
V1_CALL = ("v1.labelrowmetadata.get", lambda b, d: b.list_label_rows(d.benchmark))


@pytest.mark.parametrize("route,call", [V2_CALL, V1_CALL], ids=["v2", "v1"])
@pytest.mark.parametrize("status,error", [
    (401, AuthFailed), (403, PermissionDenied), (404, NotFound), (409, Conflict), (429, RateLimited),
    (500, Transient), (502, Transient), (503, Transient),
])
def test_injected_statuses_map_to_core_errors(backend, fake, route, call, status, error):
    backend.list_label_rows(fake.demo.benchmark)  # load the project first: the fault hits the route itself
    fake.inject(route, Fault(status=status, retry_after=7 if status == 429 else None, message="nope"))
    with pytest.raises(error) as exc:
        call(backend, fake.demo)
    err = exc.value
    assert err.__cause__ is None and "\n" not in str(err)
    if status == 429:
        assert err.retry_after == 7 and err.acted is False and "7s" in str(err)
    if status >= 500:
        assert err.acted is None


@pytest.mark.parametrize("route,call", [V2_CALL, V1_CALL], ids=["v2", "v1"])
def test_a_dropped_connection_is_transient_and_may_have_acted(backend, fake, route, call):
    backend.list_label_rows(fake.demo.benchmark)
    fake.inject(route, Fault(drop=True))
    with pytest.raises(Transient, match="dropped") as exc:
        call(backend, fake.demo)
    assert exc.value.acted is None


def test_an_answer_the_sdk_cannot_parse_is_reported_plainly(backend, fake):
    fake.inject("datasets.list", Fault(body={"result": [{"title": 42}]}))
    with pytest.raises(AnnotrainError, match=r"unexpected answer from Encord \(listing datasets\)") as exc:
        backend.list_datasets()
    assert "validation" not in str(exc.value) and not exc.value.retryable


def test_a_timeout_is_transient(fake, encord_keys):
    b = EncordBackend.connect(encord_settings(fake, encord_keys["plain"].path, request_timeout=0.3))
    fake.inject("integrations.list", Fault(delay=0.8))
    with pytest.raises(Transient, match=r"did not answer within 0.3s") as exc:
        b.list_integrations()
    assert exc.value.acted is None


def test_network_down_is_transient_and_did_not_act(fake, encord_keys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    b = EncordBackend.connect(encord_settings(fake, encord_keys["plain"].path, encord_domain=f"http://127.0.0.1:{port}"))
    with pytest.raises(Transient, match="cannot reach Encord") as exc:
        b.create_dataset("x")
    assert exc.value.acted is False


def test_an_error_on_a_later_page_surfaces_while_iterating(backend, fake):
    fake.inject("items.list", Fault(status=503, after=1))
    with pytest.raises(Transient):
        backend.list_items(fake.demo.street)
    assert fake.calls["items.list"] == 2


def test_a_failing_job_poll_fails_at_once_without_the_sdk_s_own_retry_sleeps(backend, fake):
    job = backend.start_registration(fake.demo.street, fake.demo.integration, {"images": []})
    fake.inject("jobs.get", Fault(drop=True))
    started = time.monotonic()
    with pytest.raises(Transient, match="dropped"):
        backend.get_registration_result(fake.demo.street, job)
    assert time.monotonic() - started < 2 and fake.calls["jobs.get"] == 1
    assert backend.get_registration_result(fake.demo.street, job).status is JobStatus.DONE


def test_a_failure_before_a_create_acts_is_marked_as_not_acted(backend, fake):
    fake.inject("folders.get", Fault(drop=True))
    with pytest.raises(Transient) as exc:
        backend.start_registration(fake.demo.street, fake.demo.integration, {"images": []})
    assert exc.value.acted is False and fake.ws.jobs == {}


# -- with the core's retry layer --------------------------------------------------------------
def test_rate_limits_are_retried_after_the_server_s_delay(backend, fake):
    sleeps: list[float] = []
    fake.inject("datasets.list", Fault(status=429, retry_after=2))
    assert [d.title for d in retrying(backend, sleeps).list_datasets()] == ["Annotator Training Set"]
    assert sleeps == [2]


def test_a_create_whose_answer_was_lost_is_found_not_repeated(backend, fake):
    fake.inject("folders.create", Fault(act=True, drop=True))
    made = retrying(backend).create_folder("Batch 2", parent_id=fake.demo.top)
    assert made.path == "/Training Data/Batch 2"
    assert [f.name for f in fake.ws.folders.values()].count("Batch 2") == 1


def test_a_registration_whose_answer_was_lost_is_not_repeated(backend, fake):
    fake.inject("jobs.start", Fault(act=True, drop=True))
    with pytest.raises(Transient, match="may have started"):
        retrying(backend).start_registration(fake.demo.street, fake.demo.integration, {"images": []})
    assert len(fake.ws.jobs) == 1


def test_a_create_refused_before_acting_is_retried(backend, fake):
    fake.inject("datasets.create", Fault(status=502))
    made = retrying(backend).create_dataset("Retried")
    assert [d.title for d in fake.ws.datasets.values()].count("Retried") == 1 and made.title == "Retried"


# -- keys: one clear line, no key material anywhere -------------------------------------------
def _no_leak(text: str, *keys) -> None:
    for key in keys:
        assert key.secret_fragment not in text
        assert "PRIVATE KEY" not in text


def _connect_fails(settings, capsys, caplog, *keys, passphrase=None):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AnnotrainError) as exc:
        EncordBackend.connect(settings, passphrase=passphrase)
    err = exc.value
    out, errs = capsys.readouterr()
    for text in (str(err), repr(err.args), out, errs, caplog.text):
        _no_leak(text, *keys)
    assert err.__cause__ is None and err.__context__ is None  # the SDK's text is not even chained
    assert "\n" not in str(err)
    return err


def test_missing_and_unreadable_key_files(fake, tmp_path, capsys, caplog):
    err = _connect_fails(encord_settings(fake, tmp_path / "nope"), capsys, caplog)
    assert isinstance(err, UnreadableInput) and "does not exist" in str(err) and exit_code_for(err) == 2
    err = _connect_fails(encord_settings(fake, tmp_path), capsys, caplog)
    assert isinstance(err, UnreadableInput) and "directory" in str(err)


def test_bad_keys_say_what_is_wrong_without_showing_the_key(fake, tmp_path, capsys, caplog, encord_keys):
    rsa = write_rsa_key(tmp_path / "id_rsa")
    err = _connect_fails(encord_settings(fake, rsa.path), capsys, caplog, rsa)
    assert isinstance(err, InvalidInput) and "not an Ed25519 key" in str(err)
    garbage = tmp_path / "garbage"
    garbage.write_text("hello\n")
    err = _connect_fails(encord_settings(fake, garbage), capsys, caplog)
    assert isinstance(err, InvalidInput) and "not an SSH private key" in str(err)
    damaged = tmp_path / "damaged"
    pem = encord_keys["plain"].pem
    damaged.write_text(pem.replace(pem.splitlines()[2], "!!!!" + pem.splitlines()[2][4:]))
    err = _connect_fails(encord_settings(fake, damaged), capsys, caplog, encord_keys["plain"])
    assert isinstance(err, InvalidInput) and "damaged" in str(err)
    public = tmp_path / "id.pub"
    public.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host\n")
    err = _connect_fails(encord_settings(fake, public), capsys, caplog)
    assert "public key" in str(err)


def test_the_sdk_s_own_key_error_quotes_the_key_and_is_never_shown(fake, tmp_path, capsys, caplog):
    """Past our own checks, the SDK's ValueError holds the whole key: it must not surface."""
    from annotrain_tui.core.backends.encord_keys import KeyInfo

    rsa = write_rsa_key(tmp_path / "id_rsa")
    settings = encord_settings(fake, rsa.path)
    info = KeyInfo(encrypted=False, key_type="ssh-ed25519")  # as if our header check had passed
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InvalidInput) as exc:
        EncordBackend._create_client(settings, rsa.path, fake.url, None, info, settings.request_timeout)
    out, errs = capsys.readouterr()
    for text in (str(exc.value), out, errs, caplog.text):
        _no_leak(text, rsa)
    assert exc.value.__context__ is None and exc.value.__cause__ is None


def test_a_passphrase_key_needs_its_passphrase(fake, encord_keys, capsys, caplog, monkeypatch):
    locked = encord_keys["locked"]
    settings = encord_settings(fake, locked.path)
    err = _connect_fails(settings, capsys, caplog, locked)
    assert isinstance(err, AuthFailed) and "passphrase" in str(err) and "ENCORD_SSH_KEY_PASSPHRASE" in str(err)
    err = _connect_fails(settings, capsys, caplog, locked, passphrase="wrong")
    assert isinstance(err, AuthFailed) and "wrong passphrase" in str(err)
    asked: list = []
    b = EncordBackend.connect(settings, passphrase=lambda path: asked.append(path) or PASSPHRASE)
    assert asked == [locked.path] and b.check().startswith("SSH key")
    monkeypatch.setenv("ENCORD_SSH_KEY_PASSPHRASE", PASSPHRASE)
    assert EncordBackend.connect(settings).list_datasets()
    # a passphrase in the environment does not get in the way of a key without one
    assert EncordBackend.connect(encord_settings(fake, encord_keys["plain"].path)).list_datasets()


def test_key_file_from_the_environment_and_domain_checks(fake, encord_keys, monkeypatch):
    monkeypatch.setenv("ENCORD_SSH_KEY_FILE", str(encord_keys["plain"].path))
    b = EncordBackend.connect(encord_settings(fake, None, encord_domain=fake.url + "/"))  # type: ignore[arg-type]
    assert b.key_path == encord_keys["plain"].path and b.domain == fake.url
    assert b.list_integrations()
    monkeypatch.delenv("ENCORD_SSH_KEY_FILE")
    with pytest.raises(UsageError):
        EncordBackend.connect(encord_settings(fake, None))  # type: ignore[arg-type]
    # A domain without a scheme is refused by the settings themselves, and by connect when the
    # settings were built without validation (model_copy).
    with pytest.raises(ValidationError):
        encord_settings(fake, encord_keys["plain"].path, encord_domain="api.encord.com")
    unchecked = encord_settings(fake, encord_keys["plain"].path).replace(**{"encord_domain": "api.encord.com"})
    with pytest.raises(ConfigError):
        EncordBackend.connect(unchecked)


def test_key_text_in_the_environment_is_not_needed(fake, encord_keys):
    """Only the key file is read: ENCORD_SSH_KEY (key text in the environment) plays no part."""
    assert "ENCORD_SSH_KEY" not in os.environ
    b = EncordBackend.connect(encord_settings(fake, encord_keys["plain"].path))
    assert b.list_ontologies()


def test_a_row_the_bundle_answer_leaves_out_is_skipped_with_a_warning_not_a_raw_sdk_error(backend, fake):
    """Issue 12: a row deleted between the listing and the bundle fetch is left out of the answer; the SDK
    then never initialises it and to_encord_dict() raised LabelRowError (called "SDK too old")."""
    from tests.fake_encord.server import Fault

    first = dh(fake, fake.demo.items[0])  # labelled in the seed: it has a label hash
    fake.inject("v1.labelrow.get", Fault(body=[]))  # the bundle answer omits every row
    assert backend.get_label_rows(fake.demo.training, [first]) == []
    assert any("were not in its answer" in w for w in backend.warnings)
    fake.inject("v1.labelrow.get", Fault(body=[]))
    infos, rows = backend.get_edited_label_rows(fake.demo.benchmark, edited_after=None)
    assert infos and rows == []


def test_a_rate_limit_inside_the_v1_envelope_is_retried_with_backoff(backend, fake):
    """Issue 12: the v1 API also refuses rate-limited calls in its envelope (HTTP 200, no Retry-After);
    the adapter maps it to RateLimited and the retry layer backs off by itself."""
    sleeps: list[float] = []
    fake.inject(V1_CALL[0], Fault(status=429, in_envelope=True, message="slow down"))
    rows = V1_CALL[1](retrying(backend, sleeps), fake.demo)
    assert rows and len(sleeps) == 1  # one retry, by the policy's own back-off (no Retry-After to follow)
