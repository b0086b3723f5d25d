"""The adapter in a workspace as Encord really has it (issue 12): a caller who is not admin everywhere,
stages titled otherwise, data units that are not storage items, stage moves that may not touch a
row, bulk calls chunked, reads that never write. The real SDK over HTTP against the fake."""

from __future__ import annotations

import pytest

from annotrain_tui.core.backends import encord as adapter
from annotrain_tui.core.backends import encord_internals as internals
from annotrain_tui.core.backends.encord import EncordBackend
from annotrain_tui.core.benchmark import create_benchmark_project, link_folder, verify_dataset
from annotrain_tui.core.errors import Conflict, NotFound, PermissionDenied, Transient
from annotrain_tui.core.evaluation.live import LiveEvaluation
from annotrain_tui.core.lookup import find_project, require_details
from annotrain_tui.core.markers import training_description
from annotrain_tui.core.provisioning import apply_plan, make_plan
from annotrain_tui.core.retry import RetryingBackend, RetryPolicy
from annotrain_tui.core.roster import parse_roster
from tests.fake_encord import Fault
from tests.fake_encord.fixtures import encord_settings

BOX = {"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.3}


def objects(result, annotator: str) -> int:
    """The annotator's objects in Complete rows (0 when none is scored yet)."""
    score = result.annotators.get(annotator)
    return score.objects if score is not None else 0


def retrying(b):
    return RetryingBackend(b, RetryPolicy(attempts=5, base_delay=0, sleep=lambda _s: None))


def forbidden_project(fake) -> str:
    """A project the caller works in as an annotator only: Encord refuses its users and datasets."""
    return fake.ws.add_project("Someone else's QA", ontology=fake.demo.ontology, datasets=[fake.demo.dataset],
                               role=1)


# -- permissions ------------------------------------------------------------------------------
def test_a_forbidden_project_is_listed_and_kept_without_its_details(backend, fake):
    pid = forbidden_project(fake)
    listed = {p.id: p for p in backend.list_projects()}
    assert listed[pid].caller_role == "annotator"
    detailed = backend.get_project(pid)
    assert detailed.dataset_ids is None and detailed.users is None and detailed.details_refused
    assert any("Someone else's QA" in w and "team manager" in w for w in backend.warnings)
    with pytest.raises(PermissionDenied, match="Someone else's QA"):
        require_details(backend, listed[pid], "check it")


def test_a_workspace_with_one_forbidden_project_still_provisions_and_evaluates(backend, fake):
    forbidden_project(fake)
    b = retrying(backend)
    roster = parse_roster("name,email\nSam Lee,sam@example.com\n", source="roster.csv")
    plan = make_plan(b, roster, fake.demo.benchmark, template_ref=fake.demo.template)
    assert [e.action for e in plan.entries] == ["create"]
    (outcome,) = apply_plan(b, plan, concurrency=1)
    assert outcome.status == "created", outcome.error
    project = fake.ws.projects[outcome.project_id]
    assert project.users["sam@example.com"] == 1
    annotate = next(s.uuid for s in project.stages if s.stage_type == "ANNOTATION")
    tasks = [r for r in project.rows.values() if r.stage_uuid == annotate]
    assert tasks and {r.assignee for r in tasks} == {"sam@example.com"}  # every Annotate task is theirs
    assert b.assign_tasks(outcome.project_id, "sam@example.com") == 0  # idempotent
    for item in fake.demo.items[:2]:
        fake.ws.label(outcome.project_id, item, stage="Complete", boxes=[("Car", BOX)])
    live = LiveEvaluation(b, fake.demo.benchmark)
    result = live.load()
    assert objects(result, "sam@example.com") == 2 and result.annotators["sam@example.com"].matched >= 1
    assert not [w for w in fake.writes() if w.route == "v1.labelrow.put"]  # reading never writes


@pytest.mark.parametrize("status", [404, 403])
def test_an_unknown_project_id_under_both_answers(backend, fake, status):
    """Unknown whether Encord answers 404 or 403 for a project id it does not know: both are handled."""
    fake.ws.unknown_project_status = status
    with pytest.raises(NotFound if status == 404 else PermissionDenied):
        backend.get_project("00000000-0000-4000-8000-000000000000")
    assert find_project(backend, "Benchmark Labels").id == fake.demo.benchmark  # by title: from the listing


def test_a_lookup_by_id_is_one_call(backend, fake):
    before = len(fake.log)
    assert find_project(backend, fake.demo.training).id == fake.demo.training
    assert [e.route for e in fake.log[before:]] == ["projects.get"]


# -- stages by type ---------------------------------------------------------------------------
def test_stages_titled_otherwise_are_known_by_their_type(backend, fake):
    ws = fake.ws
    tpl = ws.add_template([("Label", "ANNOTATION"), ("QA", "REVIEW"), ("Done", "DONE")])
    bench = ws.add_project("Gold (renamed stages)", ontology=fake.demo.ontology, datasets=[fake.demo.dataset],
                           stages=ws.templates[tpl])
    trainee = ws.add_project("Renamed - Kim", ontology=fake.demo.ontology, datasets=[fake.demo.dataset],
                             stages=ws.templates[tpl], description=training_description("Kim", "kim@example.com", bench))
    for item in fake.demo.items[:4]:
        ws.label(bench, item, stage="Done", boxes=[("Car", BOX)])
    ws.label(trainee, fake.demo.items[0], stage="Done", boxes=[("Car", BOX)], by="kim@example.com")
    assert len(backend.list_label_rows(bench, done_only=True)) == 4
    result = LiveEvaluation(backend, bench).load()
    assert objects(result, "kim@example.com") == 1 and result.annotators["kim@example.com"].matched == 1


def test_a_template_that_cannot_carry_training_is_refused_naming_what_it_lacks(backend, fake):
    tpl = fake.ws.add_template([("Review only", "REVIEW"), ("Complete", "DONE")])
    backend.settings = backend.settings.replace(**{"workflow_templates": {"Review only": tpl}})
    with pytest.raises(Conflict, match="no annotation stage") as exc:
        create_benchmark_project(backend, "Bad gold", dataset_ref=fake.demo.dataset, ontology_ref=fake.demo.ontology,
                                 template_ref="Review only")
    assert "was created from template 'Review only'" in str(exc.value)


# -- stage moves: both behaviours -------------------------------------------------------------
@pytest.mark.parametrize("touches", [True, False], ids=["move-bumps-row", "move-leaves-row"])
def test_live_refresh_sees_a_task_reach_complete_whichever_way_encord_stamps_it(backend, fake, touches):
    ws = fake.ws
    ws.stage_move_touches_row = touches
    live = LiveEvaluation(backend, fake.demo.benchmark)
    live.load()
    first = objects(live.result, "alex@example.com")
    ws.label(fake.demo.training, fake.demo.items[1], stage="Review", boxes=[("Car", BOX)])
    live.refresh()
    ws.move(fake.demo.training, fake.demo.items[1], "Complete")  # approved: no label edit
    report = live.refresh(include_new_projects=False)
    assert objects(report.result, "alex@example.com") == first + 1
    assert report.changed_projects == [fake.demo.training]
    ws.move(fake.demo.training, fake.demo.items[1], "Review")  # sent back: it leaves Complete
    report = live.refresh(include_new_projects=False)
    assert objects(report.result, "alex@example.com") == first


# -- ids: data units are not items ------------------------------------------------------------
def test_verify_and_link_join_through_the_backing_item(backend, fake):
    check = verify_dataset(backend, fake.demo.dataset, folder_ref=fake.demo.street)
    assert check.missing == ["s3://street-bucket/img_004.jpg"] and check.extra == []
    linked = link_folder(backend, fake.demo.street, fake.demo.dataset)
    assert linked.linked_now == 1 and linked.check.ok
    assert link_folder(backend, fake.demo.street, fake.demo.dataset).linked_now == 0  # only what is missing
    units = [u for u in fake.ws.units.values() if u.dataset == fake.demo.dataset]
    assert len(units) == 5  # no item linked twice


# -- bulk calls: chunked, their own timeout ---------------------------------------------------
def test_bulk_calls_are_chunked(backend, fake, monkeypatch):
    monkeypatch.setattr(adapter, "BUNDLE_ROWS", 2)
    monkeypatch.setattr(adapter, "LINK_ITEMS", 2)
    made = backend.create_dataset("Chunked")
    before = len(fake.log)
    backend.link_items(made.id, fake.demo.items)
    links = [e for e in fake.log[before:] if e.route == "v1.datasetlinkitems.post"]
    assert [e.params["item_uuids"] for e in links] == [2, 2, 1]
    hashes = [fake.ws.data_hash(fake.demo.dataset, i) for i in fake.demo.items[:4]]
    before = len(fake.log)
    assert len(backend.get_label_rows(fake.demo.benchmark, hashes)) == 4
    bundles = [e for e in fake.log[before:] if e.route == "v1.labelrow.get"]
    assert len(bundles) == 2 and all(e.params["uids"] <= 2 for e in bundles)


def test_a_bulk_timeout_is_tried_twice_not_five_times(fake, encord_keys):
    settings = encord_settings(fake, encord_keys["plain"].path, bulk_timeout=0.3, retry_attempts=5)
    b = retrying(EncordBackend.connect(settings))
    hashes = [fake.ws.data_hash(fake.demo.dataset, fake.demo.items[0])]
    b.list_label_rows(fake.demo.benchmark)  # the project is loaded before the faults
    fake.inject("v1.labelrow.get", Fault(delay=1.0, times=5))
    with pytest.raises(Transient, match="bulk_timeout|0.3s") as exc:
        b.get_label_rows(fake.demo.benchmark, hashes)
    assert "after 2 attempts" in str(exc.value)
    assert fake.calls["v1.labelrow.get"] == 2


# -- the SDK internals, in one place ----------------------------------------------------------
def test_the_sdk_internals_annotrain_uses_are_all_there(backend):
    """Fails loudly on an SDK that moved one of them (then: update encord_internals, or pin)."""
    assert internals.missing(backend._client) == []


def test_a_moved_internal_is_one_loud_error_not_a_silent_skip():
    class Moved:  # a client of an SDK whose layout changed
        user_config = None

    assert "EncordUserClient._api_client" in internals.missing(Moved())
    with pytest.raises(internals.SdkChanged, match="changed an internal annotrain uses"):
        list(internals.iter_project_dtos(Moved()))


# -- one odd training project never stops the programme (trial, issue 12) ---------------------
def _odd_trainees(fake) -> tuple[str, str]:
    ws, bench = fake.ws, fake.demo.benchmark
    routed = ws.add_project("Annotator Training - Router", ontology=fake.demo.ontology, datasets=[fake.demo.dataset],
                            stages=[("Annotate", "ANNOTATION"), ("Split", "PERCENTAGE_ROUTER"), ("Complete", "DONE")],
                            description=training_description("Rou", "rout@example.com", bench))
    forbidden = ws.add_project("Annotator Training - Forb", ontology=fake.demo.ontology, datasets=[fake.demo.dataset],
                               role=1, description=training_description("Forb", "forb@example.com", bench))
    return routed, forbidden


def test_a_router_or_forbidden_training_project_is_left_out_of_evaluation_and_progress(backend, fake):
    from annotrain_tui.core.provisioning import training_progress

    routed, _ = _odd_trainees(fake)
    fake.ws.label(fake.demo.training, fake.demo.items[1], stage="Complete", boxes=[("Car", BOX)])
    live = LiveEvaluation(backend, fake.demo.benchmark)
    result = live.load()
    assert objects(result, "alex@example.com") == 1
    assert routed in live.refused and any("router" in w for w in result.warnings)
    _, rows = training_progress(backend, fake.demo.benchmark)
    by = {r.email: r for r in rows}
    assert by["alex@example.com"].error is None and by["alex@example.com"].complete == 1
    assert "router" in by["rout@example.com"].error


def test_provisioning_plans_around_a_training_project_it_cannot_read(backend, fake):
    _odd_trainees(fake)
    roster = parse_roster("name,email\nForb,forb@example.com\nRou,rout@example.com\nNew One,new@example.com\n",
                          source="roster.csv")
    plan = make_plan(backend, roster, fake.demo.benchmark, template_ref=fake.demo.template)
    actions = {e.email: (e.action, e.reason) for e in plan.entries}
    assert actions["new@example.com"][0] == "create"
    assert actions["forb@example.com"][0] == "conflict" and "not readable" in actions["forb@example.com"][1]
    assert actions["rout@example.com"][0] == "conflict" and "router" in actions["rout@example.com"][1]


# -- the same programme scores the same on both backends --------------------------------------
def test_a_task_moved_to_complete_without_labels_is_a_row_with_no_objects(backend, fake):
    """As on the sandbox: the benchmark's objects on it are missed (no free pass), and nothing is written."""
    fake.ws.label(fake.demo.training, fake.demo.items[1], stage="Complete", boxes=[("Car", BOX)])
    fake.ws.move(fake.demo.training, fake.demo.items[2], "Complete")  # never opened
    result = LiveEvaluation(backend, fake.demo.benchmark).load()
    score = result.annotators["alex@example.com"]
    assert score.objects == 1 and score.missed == 1
    assert fake.ws.row(fake.demo.training, fake.demo.items[2]).label_hash is None and fake.writes() == []


def test_objects_a_reviewer_made_in_a_trainee_project_count_for_the_trainee(backend, fake):
    """The marker names whose project it is; createdBy of an object a lead fixed does not split the trainee."""
    fake.ws.label(fake.demo.training, fake.demo.items[1], stage="Complete", boxes=[("Car", BOX)],
                  by="lead@example.com")
    result = LiveEvaluation(backend, fake.demo.benchmark).load()
    assert list(result.annotators) == ["alex@example.com"] and objects(result, "alex@example.com") == 1


def test_two_folders_with_one_path_are_never_picked_silently(backend, fake):
    from annotrain_tui.core.lookup import find_folder

    fake.ws.add_folder("Copy")
    fake.ws.add_folder("Copy")
    with pytest.raises(Conflict, match="2 folders have the path"):
        find_folder(backend, "/Copy")
    with pytest.raises(Conflict, match="2 folders are called"):
        find_folder(backend, "Copy")


# -- the other unknowns, both ways --------------------------------------------------------------
@pytest.mark.parametrize("keeps", [False, True], ids=["error-creates-nothing", "error-keeps-good-items"])
def test_a_failed_job_without_ignore_errors_reports_whatever_encord_kept(backend, fake, keeps):
    """Unknown whether a job that ends ERROR (ignore_errors=False) kept its good files: the result says
    what was made either way, and the failure is never a success."""
    from annotrain_tui.core.models import JobStatus

    fake.ws.error_job_keeps_good_items = keeps
    fake.ws.unreachable_urls.add("s3://street-bucket/gone.jpg")
    before = len(backend.list_items(fake.demo.street))
    job = backend.start_registration(fake.demo.street, fake.demo.integration, {"images": [
        {"objectUrl": "s3://street-bucket/fine.jpg"}, {"objectUrl": "s3://street-bucket/gone.jpg"}]},
        ignore_errors=False)
    result = backend.get_registration_result(fake.demo.street, job, timeout_seconds=5)
    assert result.status is JobStatus.FAILED and result.unit_errors
    made = len(backend.list_items(fake.demo.street)) - before
    assert made == (1 if keeps else 0) and result.items_created == made


@pytest.mark.parametrize("strict", [True, False], ids=["assign-needs-member", "assign-anyone"])
def test_provisioning_assigns_after_inviting_so_either_rule_holds(backend, fake, strict):
    fake.ws.assign_requires_member = strict
    roster = parse_roster("name,email\nSam Lee,sam@example.com\n", source="roster.csv")
    (outcome,) = apply_plan(retrying(backend), make_plan(backend, roster, fake.demo.benchmark,
                                                         template_ref=fake.demo.template), concurrency=1)
    assert outcome.status == "created", outcome.error
    rows = fake.ws.projects[outcome.project_id].rows.values()
    assert {r.assignee for r in rows} == {"sam@example.com"}
