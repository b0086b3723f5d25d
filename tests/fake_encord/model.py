"""The fake's workspace: in-memory records, answered with the SDK's own models.

Every answer is built from an ``encord`` class (``BaseDTO.to_dict(exclude_none=False)`` for the v2
API, the orm classes / ``LabelRowMetadata.to_dict()`` for the v1 API, ``LabelRowV2.to_encord_dict()``
for label rows), so it has exactly the shape the SDK parses. Records are plain dataclasses.

Behaviours and the evidence each follows (issue 12). ``SDK/x.py`` is a path under
``site-packages/encord/`` in encord 0.1.211; ``ecp`` is github.com/encord-team/encord-client-python.

======================================  ==========================================================
Behaviour                               Evidence
======================================  ==========================================================
Project roles: ``ProjectDTO.user_role``  SDK/user_client.py:EncordUserClient.get_project docstring
per project; an annotator/reviewer/      ("You will only have access to this project if you are
annotator-reviewer gets 403 on           ... Project admin, Project team manager, Organization
``projects/{id}/users`` and              admin"); docs.encord.com/persona-admins/admin-workspace
``projects/{id}/datasets``               (only Workspace Admins "view all Projects, Datasets ...")
Projects the caller cannot access are   SDK/user_client.py:list_projects docstring ("matching
not listed; get answers 403              projects the user has access to"); include_org_access
                                         is only for org admins (same docstring)
Hidden datasets/folders: not listed,    SDK/user_client.py:get_storage_folder and get_storage_item
403 on get; an unknown folder is 403     docstrings ("AuthorisationError: If the folder with the
(never 404)                              given UUID does not exist or the user does not have
                                         access to it"); SDK/user_client.py:get_dataset docstring
                                         (dataset admin or org admin only)
v2 refusals: HTTP status + ``message``  SDK/http/v2/api_client.py:ApiClient._handle_error reads
                                         ``message``/``detail``; SDK/http/v2/error_utils.py maps
                                         401/403/404/409/429
Data units are not storage items: own   ecp PR #623 (link_items "creates new data units even if
``data_hash``, ``backing_item_uuid`` =   these items were previously linked"); ecp
the item; linking twice makes two units  tests/docs/data-groups-get-child-ids-dataset.py joins
                                         ``list_data_rows()`` to items via ``backing_item_uuid``
``link_items`` duplicates: SKIP          SDK/dataset.py:Dataset.link_items and
(default), DUPLICATE, FAIL               SDK/orm/dataset.py:DataLinkDuplicatesBehavior (PR #623)
Label rows, metadata, bundles, tasks    SDK/orm/label_row.py:LabelRowMetadata.data_hash;
all keyed by the data unit's hash        SDK/workflow/stages/annotation.py:AnnotationTask.data_hash
                                         ("Unique ID for the data unit")
Paging only where the SDK iterates:     SDK/http/v2/api_client.py:get_paged_iterator callers:
projects, folders, items, users, tasks   user_client.list_projects, storage._list_folders,
                                         StorageFolder.list_items, project.list_users,
                                         workflow/common.py:WorkflowClient.get_tasks. One page
                                         (``whole``): user_client.get_ontologies reads
                                         ``page.results`` once; client.list_project_datasets
Label-row metadata timestamps: naive    ecp tests/test_data/label_rows_metadata_blurb.py
ISO with microseconds                    LABEL_ROW_METADATA_BLURB ("2023-03-21T11:03:52.573279")
Label-row timestamps: naive, whole      ecp tests/test_data/label_rows_metadata_blurb.py
seconds, space separated                 LABEL_ROW_BLURB ("created_at": "2023-03-21 10:25:48")
``edited_after`` compares with what     SDK/client.py:EncordClientProject.list_label_rows sends
the SDK sends                            utilities/client_utilities.optional_datetime_to_iso_str
                                         (``datetime.isoformat()``: aware or naive); the fake reads
                                         an aware value as UTC, a naive one as UTC
Uninitialised rows are listed (no       SDK/project.py:list_label_rows_v2 always passes
label hash, no timestamps)               ``include_uninitialised_labels=True``; ecp PR #246 review
Creating a label row is a write (PUT),  SDK/client.py:create_label_rows (``put_multiple``);
logged like every call                   SDK/objects/ontology_labels_impl.py:initialise_labels
Workflow tasks: paged GET ``.../tasks``  SDK/workflow/common.py:WorkflowClient.get_tasks/_action/
with the SDK's filters; POST             _move; SDK/workflow/stages/annotation.py
``.../actions`` (ASSIGN, RELEASE,        (_AnnotationTasksQueryParams, _ActionAssign,
SUBMIT; review APPROVE, REJECT); POST    _ActionRelease, _ActionSubmit, AnnotationTaskStatus);
``.../move-tasks``                       review.py (_ActionApprove/_ActionReject); final.py
Metadata ``task_uuid`` = the task        SDK/orm/label_row.py:LabelRowMetadata.from_dict
                                         (``task_uuid``); ecp label_rows_metadata_blurb.py
Registration sections: images, videos,  seed 002 (/work/shared/seeds/002_*) manifest sections;
audio, pdfs, text, nifti, image_groups   ``objectUrl_{n}`` keys for image groups / DICOM series;
(``createVideo`` -> image sequence),     ``createVideo: true`` makes an image sequence
dicom_series: one item per group/series
Unit errors: one per failed unit, all   SDK/orm/dataset.py:DataUnitError.object_urls ("a list of
its URLs                                 frames for image groups and DICOM")
Long poll holds up to ``timeoutSeconds`` SDK/orm/storage.py:GetUploadJobParams.timeout_seconds
while pending                            ("Maximum number of seconds to wait before returning");
                                         ecp PR #278 (0 = one check)
DONE with errors under ignore_errors;   SDK/orm/dataset.py:LongPollingStatus docstring (DONE
ERROR only without it; CANCELLED         "possibly with errors if ignore_errors=True"; ERROR "can
                                         only happen if ignore_errors was set to False";
                                         CANCELLED "canceled explicitly by the user")
Cancel a job: POST ``.../cancel``       SDK/storage.py:StorageFolder.add_data_to_folder_job_cancel
                                         -> AddDataToFolderJobCancelResponse
Label rows of every kind, built by the  SDK/objects/ontology_labels_impl.py:
SDK (empty dict, then objects and        LabelRowV2._build_empty_labels_dict (image, video,
classifications by SDK calls)            img_group: one data unit per image, audio, text, pdf)
Metadata ``data_type`` upper case,      ecp label_rows_metadata_blurb.py ("VIDEO"); SDK
label row ``data_type`` lower case       constants/enums.py:DataType.to_upper_case_string
Templates keep their stage titles and   SDK/orm/workflow.py:WorkflowNode(stage_type, title);
types; a project's rows start in its     SDK/user_client.py:create_project sends
first stage                              ``workflow_template_id``
Bearer tokens on v1 and v2              SDK/user_client.py:create_with_bearer_token;
(``Authorization: Bearer <token>``)      SDK/configs.py:BearerConfig.define_headers(_v2)
v1 rate limit inside the envelope       SDK/http/error_utils.py (RATE_LIMIT_ERROR from a request
                                         handler comes back in the legacy envelope)
======================================  ==========================================================

Unknown (switches): behaviours neither the SDK's source nor Encord's docs settle. Each is an
attribute a test sets; the default is the fake's earlier behaviour unless said otherwise.

- ``Workspace.unknown_project_status = 404``: an unknown project id answers 404 (ResourceNotFound)
  or, set to 403, AuthorisationError. (An inaccessible project always answers 403.)
- ``Workspace.stage_move_touches_row = True``: a stage move without a label edit (``ws.move``,
  a task action, ``move-tasks``) bumps the row's ``last_edited_at``; False leaves it.
- ``Workspace.error_job_keeps_good_items = False``: under ``ignore_errors=False`` a job with
  failures ends ERROR having created nothing; True: the good items are created anyway.
- ``Workspace.assign_requires_member = True``: ASSIGN to an email that is not a project user
  answers 400; False accepts anyone.
- ``Workspace.bundle_omits: set[str]`` (default empty): data hashes whose rows the label-row GET
  leaves out while the listing still shows them (a row deleted between listing and fetch).
  ``ws.delete_row`` deletes for real instead.

Still unknown and not switched (the fake's choice, named so one real sitting can settle it):
creating a label row (``labelrow.put``) sets created_at = last_edited_at = now; ``link_items`` with
FAIL answers the v1 RESOURCE_EXISTS error; a task action on a task not in that stage answers 400;
label-row timestamps are whole seconds (only the one LABEL_ROW_BLURB sample shows their form).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from encord.objects.common import Shape
from encord.objects.ontology_structure import OntologyStructure

STAGES_DEFAULT = [("Annotate", "ANNOTATION"), ("Review", "REVIEW"), ("Complete", "DONE")]
# Naive, as the service's v1 timestamps are (UTC implied). The clock ticks 1.234567 s so that
# microseconds show (label_rows_metadata_blurb.py has microseconds in every metadata stamp).
BASE_TIME = datetime(2026, 3, 1, 9, 0)
TICK = timedelta(seconds=1, microseconds=234567)

#: ProjectUserRole values that may not list a project's users or datasets (SDK/user_client.py
#: get_project: only admins, team managers and org admins have SDK access to a project).
NO_PROJECT_DETAILS = {1, 2, 3, 5}  # ANNOTATOR, REVIEWER, ANNOTATOR_REVIEWER, VIEWER

#: StorageItemType name -> (metadata data_type, label row DataType value, mime type)
KINDS = {
    "IMAGE": ("IMAGE", "image", "image/jpeg"),
    "VIDEO": ("VIDEO", "video", "video/mp4"),
    "IMAGE_SEQUENCE": ("VIDEO", "video", "video/mp4"),
    "IMAGE_GROUP": ("IMG_GROUP", "img_group", "image/jpeg"),
    "DICOM_SERIES": ("DICOM", "dicom", "application/dicom"),
    "NIFTI": ("NIFTI", "nifti", "application/octet-stream"),
    "AUDIO": ("AUDIO", "audio", "audio/mpeg"),
    "PDF": ("PDF", "pdf", "application/pdf"),
    "PLAIN_TEXT": ("PLAIN_TEXT", "plain_text", "text/plain"),
}

#: manifest section -> item type, for the sections with one URL per entry (seed 002)
SECTIONS = {"images": "IMAGE", "videos": "VIDEO", "audio": "AUDIO", "pdfs": "PDF", "text": "PLAIN_TEXT",
            "nifti": "NIFTI"}
#: sections whose entries hold several files as objectUrl_0, objectUrl_1, ... (seed 002)
MULTI_SECTIONS = {"image_groups": "IMAGE_GROUP", "dicom_series": "DICOM_SERIES"}

VIDEO_FPS, VIDEO_FRAMES = 25.0, 100  # a video registered without videoMetadata


def new_id() -> str:
    return str(uuid.uuid4())


def aware(dt: datetime | None) -> datetime | None:
    """A naive (UTC) stamp as an aware one, for the v2 DTOs (which carry offsets)."""
    return None if dt is None else dt.replace(tzinfo=UTC)


def metadata_time(dt: datetime | None) -> str | None:
    """v1 label-row metadata: '2023-03-21T11:03:52.573279' (label_rows_metadata_blurb.py)."""
    return None if dt is None else dt.isoformat(timespec="microseconds")


def label_row_time(dt: datetime | None) -> str | None:
    """A full label row: '2023-03-21 10:25:48' (label_rows_metadata_blurb.py LABEL_ROW_BLURB)."""
    return None if dt is None else dt.strftime("%Y-%m-%d %H:%M:%S")


def utc_naive(text: str) -> datetime:
    """What the SDK sends for edited_after/before (an isoformat), as a naive UTC datetime."""
    dt = datetime.fromisoformat(text)
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt


@dataclass
class FolderRec:
    uuid: str
    name: str
    parent: str | None
    description: str = ""
    client_metadata: str | None = None
    created_at: datetime = BASE_TIME
    visible: bool = True  # False: not listed, 403 on get (the caller has no access)


@dataclass
class ItemRec:
    uuid: str
    parent: str
    name: str
    item_type: str  # StorageItemType member name, e.g. IMAGE
    url: str
    width: int = 1280
    height: int = 720
    created_at: datetime = BASE_TIME
    files: list[str] = field(default_factory=list)  # image groups / DICOM series: every file's URL
    frames: int = 1  # videos: number_of_frames; image groups / series: len(files)
    fps: float | None = None


@dataclass
class UnitRec:
    """A data unit (data row) of a dataset: its own hash, backed by a storage item."""

    data_hash: str
    item: str  # backing_item_uuid
    dataset: str
    created_at: datetime = BASE_TIME
    image_hashes: list[str] = field(default_factory=list)  # image groups: one per file


@dataclass
class DatasetRec:
    hash: str
    title: str
    description: str = ""
    units: list[str] = field(default_factory=list)  # data hashes, in link order
    created_at: datetime = BASE_TIME
    visible: bool = True
    role: str = "ADMIN"  # DatasetUserRoleV2 member name


@dataclass
class OntologyRec:
    uuid: str
    title: str
    structure: OntologyStructure
    description: str = ""


@dataclass
class StageRec:
    uuid: str
    title: str
    stage_type: str  # WorkflowStageType value


@dataclass
class ObjRec:
    feature: str  # feature node hash
    coords: Any  # as given to ws.label (dict, list of points, point)
    frames: list[int]


@dataclass
class ClsRec:
    feature: str  # the classification's feature node hash
    answer: Any  # option label, list of labels, or text
    frames: list[int]


@dataclass
class LabelRec:
    data_hash: str
    stage_uuid: str
    label_hash: str | None = None
    created_at: datetime | None = None
    last_edited_at: datetime | None = None
    objects: list[ObjRec] = field(default_factory=list)
    classifications: list[ClsRec] = field(default_factory=list)
    task_uuid: str = field(default_factory=new_id)
    task_created_at: datetime = BASE_TIME
    task_updated_at: datetime = BASE_TIME
    assignee: str | None = None
    labelled_by: str | None = None  # the objects' createdBy (who saved the labels)
    task_status: str = "NEW"  # AnnotationTaskStatus / ReviewTaskStatus value

    @property
    def boxes(self) -> list[ObjRec]:  # the earlier name
        return self.objects


@dataclass
class ProjectRec:
    hash: str
    title: str
    description: str
    ontology: str
    datasets: list[str]
    stages: list[StageRec]
    users: dict[str, int] = field(default_factory=dict)  # email -> ProjectUserRole value
    rows: dict[str, LabelRec] = field(default_factory=dict)  # data hash -> row
    created_at: datetime = BASE_TIME
    role: int = 0  # the caller's ProjectUserRole (ProjectDTO.user_role); 0 ADMIN
    visible: bool = True  # False: not listed, 403 everywhere


@dataclass
class UnitSpec:
    """One unit of a registration job (an item to make), before it is made."""

    item_type: str
    name: str
    urls: list[str]
    frames: int = 1
    fps: float | None = None


@dataclass
class JobRec:
    uuid: str
    folder: str
    integration: str
    files: dict[str, Any]
    ignore_errors: bool
    polls_pending: int
    result: Any = None  # UploadLongPollingState once processed
    held: bool = False  # pending until ws.finish_job / ws.cancel_job
    settled: threading.Event = field(default_factory=threading.Event)  # set when no longer held
    waiting: threading.Event = field(default_factory=threading.Event)  # set when a poll is being held
    cancelled: bool = False
    polls: int = 0
    waits: list[float] = field(default_factory=list)  # the timeoutSeconds of each poll


class Workspace:
    """The state of one fake Encord organisation (one key holder's view of it)."""

    def __init__(self, owner: str = "owner@example.com") -> None:
        self.owner = owner
        self.integrations: dict[str, str] = {}  # uuid -> title
        self.folders: dict[str, FolderRec] = {}
        self.items: dict[str, ItemRec] = {}
        self.units: dict[str, UnitRec] = {}
        self.datasets: dict[str, DatasetRec] = {}
        self.ontologies: dict[str, OntologyRec] = {}
        self.templates: dict[str, list[tuple[str, str]]] = {}
        self.projects: dict[str, ProjectRec] = {}
        self.jobs: dict[str, JobRec] = {}
        # registration
        self.job_polls_pending = 0  # a new job answers PENDING (at once) for this many polls
        self.job_hold = False  # a new job stays PENDING until finish_job / cancel_job
        self.unreachable_urls: set[str] = set()  # object URLs Encord cannot read
        # switches (see the module docstring)
        self.unknown_project_status = 404
        self.stage_move_touches_row = True
        self.error_job_keeps_good_items = False
        self.assign_requires_member = True
        self.bundle_omits: set[str] = set()
        self._clock = BASE_TIME

    def tick(self) -> datetime:
        self._clock += TICK
        return self._clock

    # -- building the workspace (tests call these directly) ----------------------------------
    def add_integration(self, title: str) -> str:
        iid = new_id()
        self.integrations[iid] = title
        return iid

    def add_folder(self, name: str, parent: str | None = None, description: str = "",
                   client_metadata: str | None = None, *, visible: bool = True) -> str:
        fid = new_id()
        self.folders[fid] = FolderRec(fid, name, parent, description, client_metadata, self.tick(), visible)
        return fid

    def add_item(self, folder: str, name: str, url: str, item_type: str = "IMAGE", *,
                 files: list[str] | None = None, frames: int | None = None, fps: float | None = None) -> str:
        """A storage item. Videos have ``frames`` frames (default 100 at 25 fps); image groups and
        DICOM series have ``files`` (their frames)."""
        iid = new_id()
        files = list(files or ([url] if item_type in ("IMAGE_GROUP", "DICOM_SERIES") else []))
        if frames is None:
            frames = len(files) if files else VIDEO_FRAMES if item_type in ("VIDEO", "IMAGE_SEQUENCE") else 1
        if fps is None and item_type in ("VIDEO", "IMAGE_SEQUENCE"):
            fps = VIDEO_FPS
        self.items[iid] = ItemRec(iid, folder, name, item_type, url, created_at=self.tick(), files=files,
                                  frames=frames, fps=fps)
        return iid

    def add_dataset(self, title: str, description: str = "", items: list[str] | None = None, *,
                    visible: bool = True, role: str = "ADMIN") -> str:
        did = new_id()
        self.datasets[did] = DatasetRec(did, title, description, [], self.tick(), visible, role)
        for iid in items or []:
            self.link(did, iid)
        self.sync_rows()
        return did

    def link(self, dataset: str, item: str) -> UnitRec:
        """A new data unit in ``dataset`` backed by ``item`` (PR #623: linking creates data units)."""
        unit = UnitRec(new_id(), item, dataset, self.tick())
        if self.items[item].item_type == "IMAGE_GROUP":
            unit.image_hashes = [new_id() for _ in self.items[item].files]
        self.units[unit.data_hash] = unit
        self.datasets[dataset].units.append(unit.data_hash)
        return unit

    def data_hash(self, where: str, item_uuid: str) -> str:
        """The data hash of ``item_uuid``'s (first) data unit in a dataset, or in a project's datasets."""
        datasets = self.projects[where].datasets if where in self.projects else [where]
        for d in datasets:
            for h in self.datasets[d].units:
                if self.units[h].item == item_uuid:
                    return h
        raise KeyError(f"item {item_uuid} has no data unit in {where}")

    def item_of(self, data_hash: str) -> ItemRec:
        return self.items[self.units[data_hash].item]

    def add_ontology(self, title: str, objects: list[tuple[str, str]],
                     classifications: list[tuple[Any, ...]] | None = None) -> str:
        """objects: (name, shape value); classifications: (name, "radio"|"checklist", [options]) or
        (name, "text")."""
        from encord.objects.attributes import ChecklistAttribute, RadioAttribute, TextAttribute

        structure = OntologyStructure()
        for name, shape in objects:
            structure.add_object(name=name, shape=Shape(shape))
        kinds = {"radio": RadioAttribute, "checklist": ChecklistAttribute, "text": TextAttribute}
        for name, kind, *rest in classifications or []:
            attr = structure.add_classification().add_attribute(kinds[kind], name)
            for option in (rest[0] if rest else []):
                attr.add_option(option)
        oid = new_id()
        self.ontologies[oid] = OntologyRec(oid, title, structure)
        return oid

    def add_template(self, stages: list[tuple[str, str]] | None = None) -> str:
        """stages: (title, WorkflowStageType value), e.g. ("Label", "ANNOTATION"), ("QA", "REVIEW")."""
        tid = new_id()
        self.templates[tid] = list(stages or STAGES_DEFAULT)
        return tid

    def add_project(self, title: str, *, ontology: str, datasets: list[str], description: str = "",
                    stages: list[tuple[str, str]] | None = None, users: dict[str, int] | None = None,
                    role: int = 0, visible: bool = True) -> str:
        """``role`` is the caller's own ProjectUserRole value (0 admin, 1 annotator, 2 reviewer,
        3 annotator-reviewer, 4 team manager); ``visible=False``: the caller has no access at all."""
        pid = new_id()
        stage_recs = [StageRec(new_id(), t, k) for t, k in (stages or STAGES_DEFAULT)]
        self.projects[pid] = ProjectRec(pid, title, description, ontology, list(datasets), stage_recs,
                                        {self.owner: role, **(users or {})}, created_at=self.tick(), role=role,
                                        visible=visible)
        self.sync_rows()
        return pid

    def sync_rows(self) -> None:
        """As Encord does: a project has one label row (and one workflow task) per data unit of its
        datasets, starting in the workflow's first stage."""
        for p in self.projects.values():
            first = p.stages[0].uuid
            for d in p.datasets:
                for h in self.datasets[d].units if d in self.datasets else []:
                    if h not in p.rows:
                        now = self.tick()
                        p.rows[h] = LabelRec(h, first, task_created_at=now, task_updated_at=now)

    def resolve(self, p: ProjectRec, ref: str) -> str:
        """A data hash of project ``p`` from a data hash or a storage item uuid."""
        if ref in p.rows:
            return ref
        if ref in self.items:
            return self.data_hash(p.hash, ref)
        raise KeyError(f"{ref} is neither a data hash nor an item of project {p.title!r}")

    def row(self, project: str, ref: str) -> LabelRec:
        p = self.projects[project]
        return p.rows[self.resolve(p, ref)]

    def label(self, project: str, ref: str, *, stage: str | None = None,
              boxes: list[tuple[str, dict[str, float]]] | None = None,
              objects: list[tuple[Any, ...]] | None = None,
              classifications: list[tuple[Any, ...]] | None = None, by: str | None = None) -> None:
        """An annotator saving (always a label edit: last_edited_at moves).

        ``by``: who saves (the objects' ``createdBy``, as Encord stamps the user who made them);
        default the task's assignee, else the project's one annotator, else the owner.

        ``ref``: a data hash or a storage item uuid (resolved to its unit in the project's datasets).
        ``boxes``: (object name, {x, y, w, h}), frame 0. ``objects``: (object name, coordinates[, frames])
        with coordinates by the object's shape: bounding_box {x, y, w, h}; rotatable_bounding_box
        {x, y, w, h, theta}; polygon / polyline [(x, y), ...]; point (x, y); frames an int or a list
        (video frames, image-group images). ``classifications``: (name, answer[, frames]) with the
        answer an option label (radio), a list of labels (checklist) or text. ``stage``: a stage title.
        Given ``boxes``/``objects``/``classifications`` replace what the row had."""
        p = self.projects[project]
        row = p.rows[self.resolve(p, ref)]
        onto = self.ontologies[p.ontology].structure
        if boxes is not None or objects is not None:
            specs = [(name, box, 0) for name, box in boxes or []] + list(objects or [])
            row.objects = []
            for name, coords, *frames in specs:
                obj = onto.get_child_by_title(name)
                row.objects.append(ObjRec(obj.feature_node_hash, coords, _frames(frames[0] if frames else 0)))
        if classifications is not None:
            row.classifications = []
            for name, answer, *frames in classifications:
                cls = next(c for c in onto.classifications if c.attributes[0].name == name)
                row.classifications.append(ClsRec(cls.feature_node_hash, answer, _frames(frames[0] if frames else 0)))
        annotators = [e for e, r in p.users.items() if r == 1]
        row.labelled_by = by or row.assignee or (annotators[0] if len(annotators) == 1 else None) or row.labelled_by
        now = self.tick()
        if stage is not None:
            self._to_stage(p, row, stage, now)
        if row.label_hash is None:
            row.label_hash, row.created_at = new_id(), now
        row.last_edited_at = now

    def move(self, project: str, ref: str, stage_title: str) -> None:
        """A stage move without a label edit (a reviewer approving, a bulk move): last_edited_at moves
        only if ``stage_move_touches_row``."""
        p = self.projects[project]
        row = p.rows[self.resolve(p, ref)]
        self._to_stage(p, row, stage_title, self.tick())
        self.touch_on_move(row)

    def touch_on_move(self, row: LabelRec) -> None:
        if self.stage_move_touches_row and row.label_hash is not None:
            row.last_edited_at = self.tick()

    def _to_stage(self, p: ProjectRec, row: LabelRec, stage: str, now: datetime) -> None:
        target = next((s for s in p.stages if s.title == stage or s.uuid == stage), None)
        if target is None:
            raise KeyError(f"project {p.title!r} has no stage {stage!r}")
        if target.uuid != row.stage_uuid:
            row.stage_uuid = target.uuid
            row.assignee, row.task_status = None, "NEW"
            row.task_updated_at = now

    def delete_row(self, project: str, ref: str) -> None:
        """Delete the data unit from its dataset (and so the row from every project using it)."""
        p = self.projects[project]
        h = self.resolve(p, ref)
        unit = self.units.pop(h)
        self.datasets[unit.dataset].units.remove(h)
        for q in self.projects.values():
            q.rows.pop(h, None)

    def stage_title(self, p: ProjectRec, stage_uuid: str) -> str:
        return next(s.title for s in p.stages if s.uuid == stage_uuid)

    def stage(self, p: ProjectRec, stage_uuid: str) -> StageRec:
        return next(s for s in p.stages if s.uuid == stage_uuid)

    # -- registration jobs --------------------------------------------------------------------
    def finish_job(self, job_id: str) -> None:
        """Let a held job complete: its next poll (or the one waiting now) answers its result."""
        job = self.jobs[job_id]
        job.held = False
        job.settled.set()

    def cancel_job(self, job_id: str) -> int:
        """Cancel a job still pending (as a user in the UI would): it ends CANCELLED, nothing made."""
        job = self.jobs[job_id]
        if job.result is not None:
            return 0
        from encord.orm.dataset import LongPollingStatus
        from encord.orm.storage import UploadLongPollingState

        units = len(self.job_units(job.files))
        job.cancelled, job.held = True, False
        job.result = UploadLongPollingState(status=LongPollingStatus.CANCELLED, items_with_names=[], errors=[],
                                            units_pending_count=0, units_done_count=0, units_error_count=0,
                                            units_cancelled_count=units, unit_errors=[])
        job.settled.set()
        return units

    def job_pending(self, job: JobRec) -> bool:
        return job.result is None and (job.held or job.polls_pending > 0)

    def upload_state(self, job: JobRec) -> Any:
        from encord.orm.dataset import LongPollingStatus
        from encord.orm.storage import UploadLongPollingState

        job.polls += 1
        if job.result is not None:
            return job.result
        if job.held or job.polls_pending > 0:
            if not job.held:
                job.polls_pending -= 1
            return UploadLongPollingState(status=LongPollingStatus.PENDING, items_with_names=[], errors=[],
                                          units_pending_count=len(self.job_units(job.files)), units_done_count=0,
                                          units_error_count=0, units_cancelled_count=0, unit_errors=[])
        job.result = self._process(job)
        return job.result

    @staticmethod
    def job_units(files: dict[str, Any]) -> list[UnitSpec]:
        """Every unit a manifest asks for, in every section seed 002 documents."""
        out: list[UnitSpec] = []
        for section, kind in SECTIONS.items():
            for entry in files.get(section) or []:
                url = str(entry.get("objectUrl", ""))
                frames, fps = 1, None
                if kind == "VIDEO":
                    meta = entry.get("videoMetadata") or {}
                    fps = float(meta.get("fps") or VIDEO_FPS)
                    # SDK ontology_labels_impl._parse_custom_media_metadata: ceil(fps * duration)
                    frames = -int(-(fps * float(meta["duration"])) // 1) if meta.get("duration") else VIDEO_FRAMES
                out.append(UnitSpec(kind, str(entry.get("title") or url.rsplit("/", 1)[-1]), [url], frames, fps))
        for section, kind in MULTI_SECTIONS.items():
            for entry in files.get(section) or []:
                keys = sorted((k for k in entry if k.startswith("objectUrl_")), key=lambda k: int(k.split("_")[1]))
                urls = [str(entry[k]) for k in keys]
                if kind == "IMAGE_GROUP" and entry.get("createVideo"):
                    out.append(UnitSpec("IMAGE_SEQUENCE", str(entry.get("title") or "sequence"), urls, len(urls),
                                        VIDEO_FPS))
                else:
                    out.append(UnitSpec(kind, str(entry.get("title") or kind.lower()), urls, len(urls)))
        return out

    def _process(self, job: JobRec) -> Any:
        from encord.orm.dataset import DataUnitError, LongPollingStatus
        from encord.orm.storage import StorageItemWithName, UploadLongPollingState

        made: list[UnitSpec] = []
        errors: list[Any] = []
        existing = {u for i in self.items.values() if i.parent == job.folder for u in [i.url, *i.files]}
        skip = bool(job.files.get("skip_duplicate_urls"))
        for unit in self.job_units(job.files):
            if any(not u or u in self.unreachable_urls for u in unit.urls):
                errors.append(DataUnitError(object_urls=unit.urls, error="Encord could not access the file",
                                            subtask_uuid=new_id(), action_description="Registering file"))
                continue
            if skip and all(u in existing for u in unit.urls):
                continue
            existing.update(unit.urls)
            made.append(unit)
        failed = bool(errors) and not job.ignore_errors
        keep = not failed or self.error_job_keeps_good_items
        created: list[tuple[str, str]] = []
        if keep:
            for unit in made:
                many = unit.item_type in ("IMAGE_GROUP", "DICOM_SERIES", "IMAGE_SEQUENCE")
                iid = self.add_item(job.folder, unit.name, unit.urls[0], unit.item_type,
                                    files=unit.urls if many else None, frames=unit.frames, fps=unit.fps)
                created.append((iid, unit.name))
        return UploadLongPollingState(
            status=LongPollingStatus.ERROR if failed else LongPollingStatus.DONE,
            items_with_names=[StorageItemWithName(item_uuid=i, name=n) for i, n in created],
            errors=[f"{len(errors)} file(s) could not be registered"] if failed else [],
            units_pending_count=0, units_done_count=len(created), units_error_count=len(errors),
            units_cancelled_count=0, unit_errors=errors)

    # -- v2 answers -------------------------------------------------------------------------
    def path_to_root(self, fid: str) -> list[Any]:
        from encord.orm.storage import PathElement

        out = []
        cur: str | None = fid
        while cur is not None:
            f = self.folders[cur]
            out.append(PathElement(uuid=f.uuid, parent_uuid=f.parent, name=f.name, synced_dataset_hash=None))
            cur = f.parent
        return out

    def folder_dto(self, fid: str) -> Any:
        from encord.orm.storage import StorageFolder, StorageUserRole

        f = self.folders[fid]
        return StorageFolder(uuid=f.uuid, parent=f.parent, name=f.name, description=f.description,
                             client_metadata=f.client_metadata, owner=self.owner, created_at=aware(f.created_at),
                             last_edited_at=aware(f.created_at), user_role=StorageUserRole.ADMIN,
                             synced_dataset_hash=None, path_to_root=self.path_to_root(fid))

    def item_dto(self, iid: str) -> Any:
        from encord.orm.storage import StorageItem, StorageItemType, StorageLocationName

        i = self.items[iid]
        video = i.item_type in ("VIDEO", "IMAGE_SEQUENCE")
        return StorageItem(
            uuid=i.uuid, parent=i.parent, item_type=StorageItemType[i.item_type], name=i.name, client_metadata="{}",
            owner=self.owner, created_at=aware(i.created_at), last_edited_at=aware(i.created_at),
            backed_data_units_count=sum(1 for u in self.units.values() if u.item == iid),
            storage_location=StorageLocationName.S3, integration_hash=None, url=i.url, signed_url=None,
            file_size=1000, mime_type=KINDS[i.item_type][2], duration=(i.frames / i.fps) if video and i.fps else None,
            fps=i.fps if video else None, height=i.height, width=i.width, dicom_instance_uid=None,
            dicom_study_uid=None, dicom_series_uid=None, frame_count=i.frames if video else None,
            audio_sample_rate=None, audio_bit_depth=None, audio_codec=None, audio_num_channels=None)

    def ontology_dto(self, oid: str) -> Any:
        from encord.utilities.ontology_user import OntologyUserRole, OntologyWithUserRole

        o = self.ontologies[oid]
        return OntologyWithUserRole(ontology_uuid=o.uuid, title=o.title, description=o.description,
                                    editor=o.structure.to_dict(), created_at=aware(BASE_TIME),
                                    last_edited_at=aware(BASE_TIME), user_role=OntologyUserRole.ADMIN)

    def project_dto(self, pid: str) -> Any:
        from encord.orm.project import ProjectDTO, ProjectStatus, ProjectType
        from encord.orm.workflow import WorkflowDTO, WorkflowNode
        from encord.utilities.project_user import ProjectUserRole

        p = self.projects[pid]
        return ProjectDTO(
            project_hash=p.hash, project_type=ProjectType.WORKFLOW, status=ProjectStatus.IN_PROGRESS, title=p.title,
            description=p.description, created_at=aware(p.created_at), creator_email=self.owner,
            last_edited_at=aware(p.created_at), ontology_hash=p.ontology,
            editor_ontology=self.ontologies[p.ontology].structure.to_dict(), user_role=ProjectUserRole(p.role),
            workflow=WorkflowDTO(stages=[WorkflowNode(stage_type=s.stage_type, uuid=s.uuid, title=s.title)
                                         for s in p.stages]))

    def task_dto(self, p: ProjectRec, row: LabelRec) -> Any:
        """The stage's task type (annotation.py AnnotationTask, review.py ReviewTask, final.py
        FinalStageTask), by the stage's type."""
        from encord.workflow.stages.annotation import AnnotationTask
        from encord.workflow.stages.final import FinalStageTask
        from encord.workflow.stages.review import ReviewTask

        unit, item = self.units[row.data_hash], self.item_of(row.data_hash)
        common = dict(uuid=row.task_uuid, created_at=aware(row.task_created_at),
                      updated_at=aware(row.task_updated_at), data_hash=unit.data_hash, data_title=item.name)
        kind = self.stage(p, row.stage_uuid).stage_type
        if kind == "ANNOTATION":
            return AnnotationTask(status=row.task_status, label_branch_name="main", assignee=row.assignee, **common)
        if kind == "REVIEW":  # ReviewTaskStatus has NEW, ASSIGNED, RELEASED too
            return ReviewTask(status=row.task_status, assignee=row.assignee, **common)
        return FinalStageTask(**common)

    # -- v1 answers -------------------------------------------------------------------------
    def data_row(self, data_hash: str) -> dict[str, Any]:
        from encord.constants.enums import DataType
        from encord.orm.dataset import DataRow, StorageLocation

        unit = self.units[data_hash]
        i = self.items[unit.item]
        video = i.item_type in ("VIDEO", "IMAGE_SEQUENCE")
        row = DataRow(uid=unit.data_hash, title=i.name, data_type=DataType(KINDS[i.item_type][1]),
                      created_at=unit.created_at, last_edited_at=unit.created_at, width=i.width, height=i.height,
                      file_link=i.url, file_size=1000, file_type=KINDS[i.item_type][2],
                      storage_location=StorageLocation.AWS, client_metadata=None,
                      frames_per_second=i.fps if video else None,
                      duration=(i.frames / i.fps) if video and i.fps else None,
                      images_data=None, signed_url=None, is_optimised_image_group=None,
                      backing_item_uuid=uuid.UUID(i.uuid))
        return {k: v for k, v in row.items() if not k.startswith("_")}

    def dataset_orm(self, did: str, with_rows: bool) -> dict[str, Any]:
        from encord.orm.dataset import Dataset as OrmDataset

        d = self.datasets[did]
        orm = OrmDataset(title=d.title, storage_location="CORD_STORAGE", data_rows=[], dataset_hash=d.hash,
                         description=d.description, backing_folder_uuid=None)
        out = dict(orm)
        out["data_rows"] = [self.data_row(h) for h in d.units] if with_rows else []
        return out

    def label_status(self, row: LabelRec) -> Any:
        from encord.orm.label_row import LabelStatus

        if row.label_hash is None:
            return LabelStatus.NOT_LABELLED
        return LabelStatus.LABELLED if (row.objects or row.classifications) else LabelStatus.LABEL_IN_PROGRESS

    def annotation_task_status(self, p: ProjectRec, row: LabelRec) -> Any:
        """SDK/orm/label_row.py AnnotationTaskStatus, by the stage's type and the task's state."""
        from encord.orm.label_row import AnnotationTaskStatus

        kind = self.stage(p, row.stage_uuid).stage_type
        if kind == "DONE":
            return AnnotationTaskStatus.COMPLETED
        if kind == "REVIEW":
            return AnnotationTaskStatus.IN_REVIEW
        return AnnotationTaskStatus.ASSIGNED if row.assignee else AnnotationTaskStatus.QUEUED

    def row_metadata(self, p: ProjectRec, row: LabelRec) -> Any:
        from encord.orm.label_row import LabelRowMetadata, WorkflowGraphNode

        unit = self.units[row.data_hash]
        item, ds = self.items[unit.item], self.datasets[unit.dataset]
        video = item.item_type in ("VIDEO", "IMAGE_SEQUENCE")
        return LabelRowMetadata(
            label_hash=row.label_hash, created_at=row.created_at, last_edited_at=row.last_edited_at,
            branch_name="main", data_hash=row.data_hash, dataset_hash=ds.hash, dataset_title=ds.title,
            data_title=item.name, data_type=KINDS[item.item_type][0], data_link=item.url,
            label_status=self.label_status(row), annotation_task_status=self.annotation_task_status(p, row),
            workflow_graph_node=WorkflowGraphNode(uuid=row.stage_uuid, title=self.stage_title(p, row.stage_uuid)),
            is_shadow_data=False, frames_per_second=item.fps if video else None, number_of_frames=item.frames,
            duration=(item.frames / item.fps) if video and item.fps else None, height=item.height,
            width=item.width, audio_sample_rate=None, audio_codec=None, audio_bit_depth=None,
            audio_num_channels=None, spaces={}, task_uuid=uuid.UUID(row.task_uuid))

    def metadata_dict(self, p: ProjectRec, row: LabelRec) -> dict[str, Any]:
        out = self.row_metadata(p, row).to_dict()
        out["created_at"], out["last_edited_at"] = metadata_time(row.created_at), metadata_time(row.last_edited_at)
        out["task_uuid"] = row.task_uuid
        return out

    def create_label_row(self, p: ProjectRec, row: LabelRec) -> None:
        """labelrow.put (create_label_rows): the row gets its label hash; created now."""
        if row.label_hash is None:
            now = self.tick()
            row.label_hash, row.created_at, row.last_edited_at = new_id(), now, now

    def label_row(self, p: ProjectRec, row: LabelRec) -> dict[str, Any]:
        """The full label row, made by the SDK: its own empty labels dict for the data type
        (``LabelRowV2._build_empty_labels_dict``), then objects and classifications added with SDK
        calls, then ``to_encord_dict()``."""
        from encord.constants.enums import DataType
        from encord.objects import LabelRowV2
        from encord.ontology import Ontology
        from encord.orm import storage as s

        assert row.label_hash is not None
        unit = self.units[row.data_hash]
        item, ds = self.items[unit.item], self.datasets[unit.dataset]
        kind = item.item_type
        mime = KINDS[kind][2]
        image = s.CustomerProvidedImageMetadata(mime_type=mime, file_size=1000, height=item.height, width=item.width)
        fps = item.fps or VIDEO_FPS
        video = s.CustomerProvidedVideoMetadata(fps=fps, duration=item.frames / fps,
                                                width=item.width, height=item.height, file_size=1000,
                                                mime_type=mime)
        media: Any = {
            "IMAGE": image, "VIDEO": video, "IMAGE_SEQUENCE": video, "DICOM_SERIES": video, "NIFTI": video,
            "IMAGE_GROUP": [image for _ in item.files],
            "AUDIO": s.CustomerProvidedAudioMetadata(duration=10.0, file_size=1000, mime_type=mime, sample_rate=44100,
                                                     bit_depth=16, codec="mp3", num_channels=2),
            "PDF": s.CustomerProvidedPdfMetadata(file_size=1000, num_pages=item.frames),
            "PLAIN_TEXT": s.CustomerProvidedTextMetadata(file_size=1000, mime_type=mime),
        }[kind]
        base_type = {"IMAGE_GROUP": DataType.IMG_GROUP, "IMAGE": DataType.IMAGE, "AUDIO": DataType.AUDIO,
                     "PDF": DataType.PDF, "PLAIN_TEXT": DataType.PLAIN_TEXT}.get(kind, DataType.VIDEO)
        empty = LabelRowV2._build_empty_labels_dict(
            label_hash=row.label_hash, data_hash=row.data_hash, branch_name="main", data_type=base_type,
            media_metadata=media, now=aware(row.created_at) or datetime.now(UTC))
        empty.update(data_type=KINDS[kind][1], dataset_hash=ds.hash, dataset_title=ds.title, data_title=item.name,
                     annotation_task_status=self.annotation_task_status(p, row).value,
                     label_status=self.label_status(row).value)
        if kind == "IMAGE_GROUP":  # one data unit per image, keyed by the image's own hash
            units = list(empty["data_units"].values())
            empty["data_units"] = {}
            for n, (du, h, url) in enumerate(zip(units, unit.image_hashes, item.files)):
                du.update(data_hash=h, data_title=url.rsplit("/", 1)[-1], data_link=url, data_sequence=str(n))
                empty["data_units"][h] = du
        else:
            for du in empty["data_units"].values():
                du.update(data_title=item.name, data_link=item.url, data_type=mime)
        ontology = Ontology(self._orm_ontology(p.ontology), None)  # type: ignore[arg-type]
        lr = LabelRowV2(self.row_metadata(p, row), None, ontology)  # type: ignore[arg-type]
        lr.from_labels_dict(empty)
        structure = self.ontologies[p.ontology].structure
        for o in row.objects:
            obj = structure.get_child_by_hash(o.feature)
            inst = obj.create_instance()
            inst.set_for_frames(_coordinates(obj.shape, o.coords), frames=o.frames, created_by=row.labelled_by or self.owner)
            lr.add_object_instance(inst)
        for c in row.classifications:
            cls = structure.get_child_by_hash(c.feature)
            inst = cls.create_instance()
            attr = cls.attributes[0]
            if isinstance(c.answer, list):
                answer: Any = [next(o for o in attr.options if o.label == a) for a in c.answer]
            elif getattr(attr, "options", None):
                answer = next(o for o in attr.options if o.label == c.answer)
            else:
                answer = c.answer
            inst.set_answer(answer)
            inst.set_for_frames(frames=c.frames, created_by=row.labelled_by or self.owner)
            lr.add_classification_instance(inst)
        out = lr.to_encord_dict()
        out["created_at"], out["last_edited_at"] = label_row_time(row.created_at), label_row_time(row.last_edited_at)
        return out

    def _orm_ontology(self, oid: str) -> Any:
        from encord.ontology import Ontology

        return Ontology._legacy_orm_from_api_payload(self.ontology_dto(oid))


def _frames(spec: int | list[int]) -> list[int]:
    return [spec] if isinstance(spec, int) else list(spec)


def _coordinates(shape: Shape, c: Any) -> Any:
    from encord.objects import coordinates as k

    if shape == Shape.BOUNDING_BOX:
        return k.BoundingBoxCoordinates(top_left_x=c["x"], top_left_y=c["y"], width=c["w"], height=c["h"])
    if shape == Shape.ROTATABLE_BOUNDING_BOX:
        return k.RotatableBoundingBoxCoordinates(top_left_x=c["x"], top_left_y=c["y"], width=c["w"], height=c["h"],
                                                 theta=c.get("theta", 0.0))
    if shape == Shape.POLYGON:
        return k.PolygonCoordinates(values=[k.PointCoordinate(x, y) for x, y in c])
    if shape == Shape.POLYLINE:
        return k.PolylineCoordinates(values=[k.PointCoordinate(x, y) for x, y in c])
    if shape == Shape.POINT:
        return k.PointCoordinate(c[0], c[1])
    raise ValueError(f"the fake does not draw {shape}")
