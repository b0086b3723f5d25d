"""The fake of Encord's API as the unmodified SDK sees it (issue 12).

Every test here drives the fake with the raw ``encord`` SDK (``EncordUserClient`` against
``fake.url``), never through annotrain's adapter, so what is proved is how the fake behaves for the
SDK. The evidence for each behaviour is tabled in ``tests/fake_encord/model.py``; each switch is
tested both ways.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, timedelta, timezone
from uuid import UUID

import pytest

from tests.fake_encord import Fault

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def connect(fake, key=None, *, token: str | None = None):
    from encord.http.constants import RequestsSettings
    from encord.user_client import EncordUserClient

    rs = RequestsSettings(max_retries=0, backoff_factor=0, connection_retries=0, connect_timeout=5,
                          read_timeout=20, write_timeout=20)
    if token is not None:
        return EncordUserClient.create_with_bearer_token(token, requests_settings=rs, domain=fake.url)
    return EncordUserClient.create_with_ssh_private_key(ssh_private_key_path=key.path, requests_settings=rs,
                                                       domain=fake.url)


@pytest.fixture
def sdk(fake, encord_keys):
    client = connect(fake, encord_keys["plain"])
    yield client
    assert not fake.errors, fake.errors
    assert not fake.unhandled, fake.unhandled


def rows_of(sdk, project, **kw):
    return sdk.get_project(project).list_label_rows_v2(**kw)


def initialised(sdk, project, **kw):
    p = sdk.get_project(project)
    rows = p.list_label_rows_v2(**kw)
    with p.create_bundle() as bundle:
        for r in rows:
            r.initialise_labels(bundle=bundle)
    return rows


# -- 1. permissions ---------------------------------------------------------------------------
def test_annotators_and_reviewers_are_refused_a_projects_users_and_datasets(sdk, fake):
    from encord.exceptions import AuthorisationError
    from encord.utilities.project_user import ProjectUserRole

    d = fake.demo
    ids = {role: fake.ws.add_project(f"As {role}", ontology=d.ontology, datasets=[d.dataset], role=role)
           for role in (1, 2, 3, 4)}
    listed = {p.project_hash: p for p in sdk.list_projects()}
    assert listed[d.benchmark].user_role is ProjectUserRole.ADMIN
    for role, pid in ids.items():
        assert listed[pid].user_role is ProjectUserRole(role)
        project = sdk.get_project(pid)  # the project itself is readable
        if role == 4:  # a team manager may
            assert [u.user_email for u in project.list_users()] and list(project.list_datasets())
            continue
        with pytest.raises(AuthorisationError):
            list(project.list_users())
        with pytest.raises(AuthorisationError):
            list(project.list_datasets())
    assert len(sdk.get_project(ids[1]).list_label_rows_v2()) == 4  # label rows stay readable


def test_projects_without_access_are_not_listed_and_refused(sdk, fake):
    from encord.exceptions import AuthorisationError, ResourceNotFoundError

    hidden = fake.ws.add_project("Someone else's", ontology=fake.demo.ontology, datasets=[], visible=False)
    assert hidden not in {p.project_hash for p in sdk.list_projects()}
    with pytest.raises(AuthorisationError):
        sdk.get_project(hidden)
    with pytest.raises(ResourceNotFoundError):  # an unknown id: 404 by default ...
        sdk.get_project("00000000-0000-4000-8000-000000000000")
    fake.ws.unknown_project_status = 403  # ... or 403 (unknown: a switch)
    with pytest.raises(AuthorisationError):
        sdk.get_project("00000000-0000-4000-8000-000000000000")


def test_hidden_datasets_and_folders_are_not_listed_and_unknown_folders_are_403(sdk, fake):
    from encord.exceptions import AuthorisationError

    ds = fake.ws.add_dataset("Private set", visible=False)
    assert ds not in {str(d["dataset"].dataset_hash) for d in sdk.get_datasets()}
    with pytest.raises(AuthorisationError):
        sdk.get_dataset(ds)
    folder = fake.ws.add_folder("Private", visible=False)
    assert "Private" not in [f.name for f in sdk.find_storage_folders(page_size=1000)]
    for fid in (folder, "00000000-0000-4000-8000-000000000000"):  # hidden or unknown: the same 403
        with pytest.raises(AuthorisationError):
            sdk.get_storage_folder(fid)


# -- 2. ids -----------------------------------------------------------------------------------
def test_data_rows_have_their_own_hash_backed_by_the_item(sdk, fake):
    d = fake.demo
    rows = sdk.get_dataset(d.dataset).list_data_rows()
    assert [UUID(str(r.backing_item_uuid)) for r in rows] == [UUID(i) for i in d.items[:4]]
    assert not {r.uid for r in rows} & set(d.items)
    assert [r.uid for r in rows] == [fake.ws.data_hash(d.dataset, i) for i in d.items[:4]]
    assert fake.ws.data_hash(d.benchmark, d.items[0]) == rows[0].uid  # by project too
    # label rows, bundles and tasks all use the data hash
    (review,) = rows_of(sdk, d.training, workflow_graph_node_title_eq="Review")
    assert review.data_hash == fake.ws.data_hash(d.dataset, d.items[0])
    assert fake.ws.row(d.training, d.items[0]) is fake.ws.projects[d.training].rows[review.data_hash]


def test_linking_one_item_into_two_datasets_makes_two_data_units(sdk, fake):
    from encord.orm.dataset import DataLinkDuplicatesBehavior as Dup

    d = fake.demo
    other = sdk.get_dataset(fake.ws.add_dataset("Second"))
    (row,) = other.link_items([UUID(d.items[0])])
    assert row.uid != fake.ws.data_hash(d.dataset, d.items[0]) and str(row.backing_item_uuid) == d.items[0]
    assert other.link_items([UUID(d.items[0])]) == []  # SKIP, the default (PR #623)
    (again,) = other.link_items([UUID(d.items[0])], duplicates_behavior=Dup.DUPLICATE)
    assert again.uid != row.uid and len(sdk.get_dataset(other.dataset_hash).list_data_rows()) == 2
    from encord.exceptions import EncordException

    with pytest.raises(EncordException):
        other.link_items([UUID(d.items[0])], duplicates_behavior=Dup.FAIL)
    # an existing dataset: the one item it lacks is linked, and the projects on it get a row
    (new,) = sdk.get_dataset(d.dataset).link_items([UUID(i) for i in d.items])
    assert str(new.backing_item_uuid) == d.items[4]
    assert len(rows_of(sdk, d.training)) == 5
    link = [e for e in fake.log if e.route == "v1.datasetlinkitems.post"][-1]
    assert link.params["item_uuids"] == 5


# -- 3. paging --------------------------------------------------------------------------------
def test_only_the_listings_the_sdk_iterates_are_paged(sdk, fake):
    d = fake.demo
    for n in range(3):
        fake.ws.add_ontology(f"Extra {n}", [("Thing", "bounding_box")])
    fake.calls.clear()
    assert len(sdk.get_ontologies()) == 4 and fake.calls["ontologies.list"] == 1
    assert len(list(sdk.list_projects())) == 2 and fake.calls["projects.list"] == 1
    fake.ws.add_project("Third", ontology=d.ontology, datasets=[])
    assert len(list(sdk.list_projects())) == 3 and fake.calls["projects.list"] == 3  # 2 + 1 per page
    assert len(list(sdk.get_storage_folder(d.street).list_items())) == 5 and fake.calls["items.list"] == 3
    project = sdk.get_project(d.benchmark)
    assert len(list(project.list_users())) == 2 and fake.calls["projects.users"] == 1
    extra = [fake.ws.add_dataset(f"DS {n}") for n in range(3)]
    many = sdk.get_project(fake.ws.add_project("Many", ontology=d.ontology, datasets=[d.dataset, *extra]))
    assert len(list(many.list_datasets())) == 4 and fake.calls["projects.datasets"] == 1
    stage = many.workflow.stages[0]
    assert len(list(stage.get_tasks())) == 4 and fake.calls["tasks.list"] == 2


# -- 4. timestamps ----------------------------------------------------------------------------
def test_metadata_stamps_are_naive_with_microseconds_and_edited_after_compares_exactly(sdk, fake):
    d = fake.demo
    (review,) = rows_of(sdk, d.training, workflow_graph_node_title_eq="Review")
    stamp = review.last_edited_at  # the SDK's parse_datetime reads the naive string as UTC
    assert stamp.tzinfo is UTC and stamp.microsecond != 0
    assert stamp.replace(tzinfo=None) == fake.ws.row(d.training, d.items[0]).last_edited_at
    raw = fake.ws.metadata_dict(fake.ws.projects[d.training], fake.ws.row(d.training, d.items[0]))
    assert raw["last_edited_at"] == stamp.replace(tzinfo=None).isoformat()  # naive, with microseconds
    project = sdk.get_project(d.training)
    assert project.list_label_rows_v2(edited_after=stamp) == []  # strictly after
    assert len(project.list_label_rows_v2(edited_after=stamp - timedelta(microseconds=1))) == 1
    naive = stamp.replace(tzinfo=None)
    assert project.list_label_rows_v2(edited_after=naive) == []  # naive is UTC too
    assert len(project.list_label_rows_v2(edited_after=stamp.astimezone(timezone(timedelta(hours=2)))
                                          - timedelta(microseconds=1))) == 1
    assert len(project.list_label_rows_v2(edited_after=naive.isoformat()[:-1])) == 1  # a string, as the SDK takes
    assert len(project.list_label_rows_v2(edited_before=stamp + timedelta(microseconds=1))) == 1
    # uninitialised rows have no stamps at all
    assert all(r.last_edited_at is None and r.label_hash is None
               for r in project.list_label_rows_v2(workflow_graph_node_title_eq="Annotate"))


def test_label_row_stamps_are_the_services_long_form(sdk, fake):
    d = fake.demo
    (row,) = initialised(sdk, d.training, workflow_graph_node_title_eq="Review")
    rec = fake.ws.row(d.training, d.items[0])
    p = fake.ws.projects[d.training]
    assert fake.ws.label_row(p, rec)["last_edited_at"] == rec.last_edited_at.strftime("%Y-%m-%d %H:%M:%S")
    assert row.last_edited_at.replace(tzinfo=None) == rec.last_edited_at.replace(microsecond=0)


# -- 5. stage moves ---------------------------------------------------------------------------
@pytest.mark.parametrize("touches", [True, False])
def test_a_stage_move_without_an_edit_touches_the_row_only_if_switched(sdk, fake, touches):
    d = fake.demo
    fake.ws.stage_move_touches_row = touches
    project = sdk.get_project(d.training)
    (review,) = project.list_label_rows_v2(workflow_graph_node_title_eq="Review")
    fake.ws.move(d.training, d.items[0], "Complete")
    (done,) = project.list_label_rows_v2(workflow_graph_node_title_eq="Complete")
    assert (done.last_edited_at > review.last_edited_at) is touches
    assert len(project.list_label_rows_v2(edited_after=review.last_edited_at)) == (1 if touches else 0)
    # a save with boxes is an edit: it always moves the stamp
    fake.ws.label(d.training, d.items[0], stage="Review", boxes=[("Car", {"x": 0.3, "y": 0.3, "w": 0.1, "h": 0.1})])
    (edited,) = project.list_label_rows_v2(edited_after=done.last_edited_at)
    assert edited.workflow_graph_node.title == "Review"


# -- 6. workflow tasks ------------------------------------------------------------------------
def test_annotate_stage_tasks_can_be_listed_filtered_assigned_and_released(sdk, fake):
    from encord.exceptions import InvalidArgumentsError
    from encord.workflow.stages.annotation import AnnotationStage, AnnotationTaskStatus

    d = fake.demo
    project = sdk.get_project(d.training)
    stage = project.workflow.get_stage(name="Annotate", type_=AnnotationStage)
    tasks = list(stage.get_tasks())
    rows = fake.ws.projects[d.training].rows
    assert len(tasks) == 3 and all(rows[str(t.data_hash)].stage_uuid == str(stage.uuid) for t in tasks)
    assert {t.status for t in tasks} == {AnnotationTaskStatus.NEW} and all(t.assignee is None for t in tasks)
    metadata = {r.data_hash: r for r in project.list_label_rows_v2()}
    assert all(str(metadata[str(t.data_hash)].task_uuid) == str(t.uuid) for t in tasks)
    for t in tasks:
        t.assign("alex@example.com")
    assert all(rows[str(t.data_hash)].assignee == "alex@example.com" for t in tasks)
    mine = list(stage.get_tasks(assignee="alex@example.com"))
    assert len(mine) == 3 and {t.status for t in mine} == {AnnotationTaskStatus.ASSIGNED}
    assert list(stage.get_tasks(assignee="nobody@example.com")) == []
    one = tasks[0]
    assert [t.uuid for t in stage.get_tasks(data_hash=one.data_hash)] == [one.uuid]
    assert len(list(stage.get_tasks(dataset_hash=d.dataset))) == 3
    assert len(list(stage.get_tasks(status=AnnotationTaskStatus.ASSIGNED))) == 3
    one.release()
    assert rows[str(one.data_hash)].assignee is None
    assert list(stage.get_tasks(status=[AnnotationTaskStatus.RELEASED]))[0].uuid == one.uuid
    # bundled assignment: one POST for many actions
    before = fake.calls.get("tasks.actions", 0)
    with project.create_bundle() as bundle:
        for t in tasks:
            t.assign("alex@example.com", bundle=bundle)
    assert fake.calls["tasks.actions"] == before + 1
    assert [e for e in fake.log if e.route == "tasks.actions"][-1].params["items"] == 3
    with pytest.raises(InvalidArgumentsError):  # not a project user (unknown: a switch)
        one.assign("stranger@example.com")
    fake.ws.assign_requires_member = False
    one.assign("stranger@example.com")
    assert rows[str(one.data_hash)].assignee == "stranger@example.com"


@pytest.mark.parametrize("touches", [True, False])
def test_submitting_approving_and_moving_tasks_are_stage_moves(sdk, fake, touches):
    from encord.workflow.stages.annotation import AnnotationStage
    from encord.workflow.stages.final import FinalStage
    from encord.workflow.stages.review import ReviewStage

    d = fake.demo
    fake.ws.stage_move_touches_row = touches
    project = sdk.get_project(d.training)
    review_stage = project.workflow.get_stage(name="Review", type_=ReviewStage)
    (task,) = review_stage.get_tasks()
    before = fake.ws.row(d.training, d.items[0]).last_edited_at
    task.approve()
    row = fake.ws.row(d.training, d.items[0])
    assert fake.ws.stage_title(fake.ws.projects[d.training], row.stage_uuid) == "Complete"
    assert (row.last_edited_at != before) is touches
    final = project.workflow.get_stage(name="Complete", type_=FinalStage)
    assert [str(t.data_hash) for t in final.get_tasks()] == [row.data_hash]
    annotate = project.workflow.get_stage(name="Annotate", type_=AnnotationStage)
    first, second, _ = annotate.get_tasks()
    first.assign("alex@example.com")
    first.submit(retain_assignee=True)
    assert fake.ws.stage_title(fake.ws.projects[d.training], fake.ws.projects[d.training].rows[
        str(first.data_hash)].stage_uuid) == "Review"
    second.move(destination_stage_uuid=final.uuid)
    assert str(second.data_hash) in {str(t.data_hash) for t in final.get_tasks()}
    assert len(list(annotate.get_tasks())) == 1


# -- 7. registration --------------------------------------------------------------------------
MANIFEST = {
    "images": [{"objectUrl": "https://b.s3.amazonaws.com/i/1.jpg", "title": "one"},
               {"objectUrl": "https://b.s3.amazonaws.com/i/missing.jpg"}],
    "videos": [{"objectUrl": "https://b.s3.amazonaws.com/v/a.mp4",
                "videoMetadata": {"fps": 25, "duration": 2.0, "width": 640, "height": 480, "file_size": 1,
                                  "mime_type": "video/mp4"}}],
    "audio": [{"objectUrl": "https://b.s3.amazonaws.com/a/a.mp3"}],
    "pdfs": [{"objectUrl": "https://b.s3.amazonaws.com/p/a.pdf"}],
    "text": [{"objectUrl": "https://b.s3.amazonaws.com/t/a.txt"}],
    "nifti": [{"objectUrl": "https://b.s3.amazonaws.com/n/a.nii"}],
    "image_groups": [{"title": "Group 1", "createVideo": False, "objectUrl_0": "https://b.s3.amazonaws.com/g/0.jpg",
                      "objectUrl_1": "https://b.s3.amazonaws.com/g/1.jpg",
                      "objectUrl_2": "https://b.s3.amazonaws.com/g/2.jpg"},
                     {"title": "Sequence 1", "createVideo": True, "objectUrl_0": "https://b.s3.amazonaws.com/q/0.jpg",
                      "objectUrl_1": "https://b.s3.amazonaws.com/q/1.jpg"}],
    "dicom_series": [{"title": "Series-1", "objectUrl_0": "https://b.s3.amazonaws.com/d/1.dcm",
                      "objectUrl_1": "https://b.s3.amazonaws.com/d/2.dcm"}],
}


def _start(sdk, fake, manifest, ignore_errors=True):
    folder = sdk.get_storage_folder(fake.demo.street)
    return folder, folder.add_private_data_to_folder_start(fake.demo.integration, manifest, ignore_errors=ignore_errors)


def test_every_manifest_section_is_registered_groups_and_series_as_one_item(sdk, fake):
    from encord.orm.dataset import LongPollingStatus

    folder, job = _start(sdk, fake, MANIFEST)
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=5)
    assert result.status is LongPollingStatus.DONE and result.unit_errors == []  # "missing" means nothing now
    made = {i.name: i for i in folder.list_items()}
    types = {n: i.item_type.name for n, i in made.items() if n not in {f"img_{k:03}.jpg" for k in range(5)}}
    assert types == {"one": "IMAGE", "missing.jpg": "IMAGE", "a.mp4": "VIDEO", "a.mp3": "AUDIO", "a.pdf": "PDF",
                     "a.txt": "PLAIN_TEXT", "a.nii": "NIFTI", "Group 1": "IMAGE_GROUP", "Sequence 1": "IMAGE_SEQUENCE",
                     "Series-1": "DICOM_SERIES"}
    assert len(result.items_with_names) == 10
    group = fake.ws.items[str(made["Group 1"].uuid)]
    assert len(group.files) == 3 and fake.ws.items[str(made["Series-1"].uuid)].files[1].endswith("2.dcm")
    assert fake.ws.items[str(made["a.mp4"].uuid)].frames == 50  # ceil(fps * duration)
    again = folder.add_private_data_to_folder_start(fake.demo.integration, {**MANIFEST, "skip_duplicate_urls": True})
    assert folder.add_private_data_to_folder_get_result(again, timeout_seconds=0).items_with_names == []


def test_unreachable_urls_fail_their_unit_and_ignore_errors_keeps_the_rest(sdk, fake):
    from encord.orm.dataset import LongPollingStatus

    fake.ws.unreachable_urls = {"https://b.s3.amazonaws.com/i/missing.jpg", "https://b.s3.amazonaws.com/g/1.jpg"}
    folder, job = _start(sdk, fake, MANIFEST)
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=0)
    assert result.status is LongPollingStatus.DONE and len(result.items_with_names) == 8
    assert sorted(len(e.object_urls) for e in result.unit_errors) == [1, 3]  # a group fails whole, all its URLs
    assert result.units_error_count == 2 and all(e.subtask_uuid for e in result.unit_errors)


@pytest.mark.parametrize("keeps", [False, True])
def test_without_ignore_errors_a_failure_ends_error_and_good_items_are_kept_only_if_switched(sdk, fake, keeps):
    from encord.orm.dataset import LongPollingStatus

    fake.ws.unreachable_urls = {"https://b.s3.amazonaws.com/i/missing.jpg"}
    fake.ws.error_job_keeps_good_items = keeps
    before = len(fake.ws.items)
    folder, job = _start(sdk, fake, {"images": MANIFEST["images"]}, ignore_errors=False)
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=0)
    assert result.status is LongPollingStatus.ERROR and result.errors
    assert len(fake.ws.items) - before == (1 if keeps else 0) == len(result.items_with_names)


def test_the_long_poll_holds_until_the_job_finishes_never_past_its_timeout(sdk, fake):
    from encord.orm.dataset import LongPollingStatus

    fake.ws.job_hold = True
    folder, job = _start(sdk, fake, {"images": MANIFEST["images"][:1]})
    rec = fake.ws.jobs[str(job)]
    assert folder.add_private_data_to_folder_get_result(job, timeout_seconds=0).status is LongPollingStatus.PENDING
    got: list = []
    waiting = threading.Thread(target=lambda: got.append(folder.add_private_data_to_folder_get_result(
        job, timeout_seconds=20)))
    started = time.monotonic()
    waiting.start()
    assert rec.waiting.wait(10)  # the second poll is held: it asked for 20 s and waits on the job
    fake.ws.finish_job(str(job))
    waiting.join(10)
    assert got and got[0].status is LongPollingStatus.DONE and time.monotonic() - started < 10
    assert rec.waits == [0.0, 20.0]
    # a held job answers PENDING once its poll's own timeout has run out
    folder2, job2 = _start(sdk, fake, {"images": [{"objectUrl": "https://b.s3.amazonaws.com/i/2.jpg"}]})
    started = time.monotonic()
    assert folder2.add_private_data_to_folder_get_result(job2, timeout_seconds=1).status is LongPollingStatus.PENDING
    assert time.monotonic() - started >= 0.9 and fake.ws.jobs[str(job2)].waits == [1.0]


def test_polls_pending_answers_pending_at_once_then_done(sdk, fake):
    from encord.orm.dataset import LongPollingStatus

    fake.ws.job_polls_pending = 2
    folder, job = _start(sdk, fake, {"images": MANIFEST["images"][:1]})
    states = [folder.add_private_data_to_folder_get_result(job, timeout_seconds=0).status for _ in range(3)]
    assert states == [LongPollingStatus.PENDING, LongPollingStatus.PENDING, LongPollingStatus.DONE]


def test_a_job_can_be_cancelled_by_the_sdk_or_the_workspace(sdk, fake):
    from encord.orm.dataset import LongPollingStatus

    fake.ws.job_hold = True
    folder, job = _start(sdk, fake, MANIFEST)
    assert folder.add_data_to_folder_job_cancel(job).units_cancelled_count == 10
    state = folder.add_private_data_to_folder_get_result(job, timeout_seconds=0)
    assert state.status is LongPollingStatus.CANCELLED and state.units_cancelled_count == 10
    assert state.items_with_names == []
    _, other = _start(sdk, fake, {"images": MANIFEST["images"]})
    fake.ws.cancel_job(str(other))
    assert folder.add_private_data_to_folder_get_result(other, timeout_seconds=5).status is LongPollingStatus.CANCELLED


# -- 8. label rows of every kind --------------------------------------------------------------
@pytest.fixture
def kinds(fake):
    ws = fake.ws
    folder = ws.add_folder("Kinds")
    items = {
        "image": ws.add_item(folder, "a.jpg", "s3://b/a.jpg"),
        "video": ws.add_item(folder, "v.mp4", "s3://b/v.mp4", "VIDEO", frames=300),
        "group": ws.add_item(folder, "g", "s3://b/g0.jpg", "IMAGE_GROUP",
                             files=["s3://b/g0.jpg", "s3://b/g1.jpg", "s3://b/g2.jpg"]),
        "dicom": ws.add_item(folder, "s", "s3://b/s0.dcm", "DICOM_SERIES", files=["s3://b/s0.dcm", "s3://b/s1.dcm"]),
    }
    onto = ws.add_ontology("Everything", [("Car", "bounding_box"), ("Truck", "rotatable_bounding_box"),
                                          ("Road", "polygon"), ("Pole", "point"), ("Lane", "polyline")],
                           classifications=[("Weather", "radio", ["Sunny", "Rain"]), ("Tags", "checklist", ["a", "b"]),
                                            ("Note", "text")])
    ds = ws.add_dataset("Kinds", items=list(items.values()))
    project = ws.add_project("Kinds", ontology=onto, datasets=[ds])
    box = {"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}
    ws.label(project, items["image"], stage="Complete", objects=[
        ("Car", box), ("Truck", {**box, "theta": 30.0}), ("Road", [(0.1, 0.1), (0.5, 0.1), (0.5, 0.5)]),
        ("Pole", (0.5, 0.5)), ("Lane", [(0.0, 0.0), (1.0, 1.0)])],
        classifications=[("Weather", "Rain"), ("Tags", ["a", "b"]), ("Note", "wet road")])
    ws.label(project, items["video"], stage="Complete", objects=[("Car", box, [0, 1, 2, 250])],
             classifications=[("Weather", "Sunny", [0, 1])])
    ws.label(project, items["group"], stage="Complete", objects=[("Car", box, [0, 2])])
    ws.label(project, items["dicom"], stage="Complete", objects=[("Car", box, 1)])
    return project, items


def test_label_rows_of_every_kind_travel_over_http(sdk, fake, kinds):
    from encord.objects.coordinates import PolygonCoordinates, RotatableBoundingBoxCoordinates

    project, items = kinds
    rows = {r.data_title: r for r in initialised(sdk, project)}
    meta = {r.data_title: r for r in sdk.get_project(project).list_label_rows_v2()}
    assert {t: m.data_type.value for t, m in meta.items()} == {"a.jpg": "image", "v.mp4": "video", "g": "img_group",
                                                              "s": "dicom"}
    assert meta["v.mp4"].number_of_frames == 300 and meta["g"].number_of_frames == 3
    image = rows["a.jpg"]
    shapes = {o.object_name: o.get_annotations()[0].coordinates for o in image.get_object_instances()}
    assert isinstance(shapes["Truck"], RotatableBoundingBoxCoordinates) and shapes["Truck"].theta == 30.0
    assert isinstance(shapes["Road"], PolygonCoordinates) and len(shapes["Road"].values) == 3
    assert shapes["Pole"].x == 0.5 and len(shapes["Lane"].values) == 2
    answers = {c.ontology_item.attributes[0].name: c.get_answer() for c in image.get_classification_instances()}
    assert answers["Weather"].label == "Rain" and [o.label for o in answers["Tags"]] == ["a", "b"]
    assert answers["Note"] == "wet road"
    (car,) = rows["v.mp4"].get_object_instances()
    assert [a.frame for a in car.get_annotations()] == [0, 1, 2, 250]
    (weather,) = rows["v.mp4"].get_classification_instances()
    assert [a.frame for a in weather.get_annotations()] == [0, 1]
    group = rows["g"]
    (gcar,) = group.get_object_instances()
    assert [a.frame for a in gcar.get_annotations()] == [0, 2]
    units = fake.ws.label_row(fake.ws.projects[project], fake.ws.row(project, items["group"]))["data_units"]
    # one data unit per image; the sequence is a string, as the SDK's own empty image-group row has it
    assert len(units) == 3 and sorted(u["data_sequence"] for u in units.values()) == ["0", "1", "2"]
    (dcar,) = rows["s"].get_object_instances()
    assert [a.frame for a in dcar.get_annotations()] == [1]
    assert all(r.to_encord_dict()["label_hash"] for r in rows.values())


# -- 9. a bundle answer that omits a row ------------------------------------------------------
def test_a_row_deleted_between_listing_and_fetch_is_left_out_of_the_bundle(sdk, fake):
    d = fake.demo
    project = sdk.get_project(d.benchmark)
    listed = project.list_label_rows_v2()
    fake.ws.bundle_omits = {listed[0].data_hash}  # the switch: listing shows it, the fetch leaves it out
    with project.create_bundle() as bundle:
        for r in listed:
            r.initialise_labels(bundle=bundle)
    assert [r.is_labelling_initialised for r in listed] == [False, True, True, True]
    fake.ws.bundle_omits = set()
    fake.ws.delete_row(d.benchmark, listed[1].data_hash)  # the real thing: the data unit is gone
    fresh = project.list_label_rows_v2()
    assert len(fresh) == 3
    with project.create_bundle() as bundle:
        for r in listed:
            r.initialise_labels(bundle=bundle, overwrite=True)
    assert listed[1].data_hash not in {r.data_hash for r in fresh}
    gets = [e for e in fake.log if e.route == "v1.labelrow.get"]
    assert gets[-1].params["uids"] == 4  # the deleted row's label hash was asked for, and not answered


# -- 10. uninitialised rows: listed, and created only by a write ------------------------------
def test_uninitialised_rows_are_listed_and_initialising_them_is_a_logged_write(sdk, fake):
    d = fake.demo
    fake.log.clear()
    rows = rows_of(sdk, d.training)
    assert len(rows) == 4 and sum(r.label_hash is None for r in rows) == 3
    assert fake.writes() == []  # listing reads only
    project = sdk.get_project(d.training)
    with project.create_bundle() as bundle:
        for r in rows:
            r.initialise_labels(bundle=bundle)
    (put,) = [e for e in fake.writes() if e.route == "v1.labelrow.put"]
    assert put.params["uids"] == 3 and put.key == fake.log[0].key
    assert all(r.label_hash for r in rows)


# -- 11. templates with renamed stages --------------------------------------------------------
def test_projects_from_templates_carry_their_stage_titles_and_types(sdk, fake):
    from encord.orm.workflow import WorkflowStageType

    d = fake.demo
    renamed = fake.ws.add_template([("Label", "ANNOTATION"), ("QA", "REVIEW"), ("Done", "DONE")])
    straight = fake.ws.add_template([("QA", "REVIEW"), ("Done", "DONE")])  # no annotation stage
    for tpl, expected in ((renamed, ["Label", "QA", "Done"]), (straight, ["QA", "Done"])):
        pid = sdk.create_project(f"From {expected[0]}", [d.dataset], "", d.ontology, workflow_template_hash=tpl)
        project = sdk.get_project(pid)
        assert [s.title for s in project.workflow.stages] == expected
        types = {s.title: s.stage_type for s in project.workflow.stages}
        assert types["QA"] is WorkflowStageType.REVIEW and types["Done"] is WorkflowStageType.DONE
        rows = project.list_label_rows_v2()
        assert {r.workflow_graph_node.title for r in rows} == {expected[0]} and len(rows) == 4
        assert len(list(project.workflow.stages[0].get_tasks())) == 4


# -- 13. bearer tokens ------------------------------------------------------------------------
def test_registered_bearer_tokens_are_accepted_on_both_apis_and_unknown_ones_refused(fake):
    from encord.exceptions import AuthenticationError

    fake.register_token("tok-123")
    client = connect(fake, token="tok-123")
    assert [p.title for p in client.list_projects()][:1] == ["Benchmark Labels"]  # v2
    assert len(client.get_project(fake.demo.benchmark).list_label_rows_v2()) == 4  # v1
    assert {e.scheme for e in fake.log if e.key == "bearer:tok-123"} == {"v1", "v2"}
    stranger = connect(fake, token="nope")
    with pytest.raises(AuthenticationError):
        list(stranger.list_projects())
    with pytest.raises(AuthenticationError):
        stranger.get_dataset(fake.demo.dataset)
    assert [r.split(": ")[1] for r in fake.refused] == ["unknown bearer token", "unknown bearer token"]


# -- 14. faults and the log -------------------------------------------------------------------
def test_faults_and_the_in_envelope_rate_limit_still_work_and_the_log_counts_uids(sdk, fake):
    from encord.exceptions import AuthorisationError, RateLimitExceededError

    d = fake.demo
    fake.inject("v1.labelrowmetadata.get", Fault(status=429, in_envelope=True))
    with pytest.raises(RateLimitExceededError):
        rows_of(sdk, d.benchmark)
    fake.inject("projects.list", Fault(status=403))
    with pytest.raises(AuthorisationError):
        list(sdk.list_projects())
    initialised(sdk, d.benchmark)
    (get,) = [e for e in fake.log if e.route == "v1.labelrow.get"]
    assert get.params["uids"] == 4 and get.params["body_bytes"] > 0
