"""The fake's workspace: in-memory records, answered with the SDK's own models.

Every answer is built from an ``encord`` class (``BaseDTO.to_dict(exclude_none=False)`` for the v2
API, the orm classes / ``LabelRowMetadata.to_dict()`` for the v1 API, ``LabelRowV2.to_encord_dict()``
for label rows), so it has exactly the shape the SDK parses. Records are plain dataclasses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from encord.objects.common import Shape
from encord.objects.ontology_structure import OntologyStructure

from annotrain_tui.core.backends.sandbox import labels as sandbox_labels

STAGES_DEFAULT = [("Annotate", "ANNOTATION"), ("Review", "REVIEW"), ("Complete", "DONE")]
BASE_TIME = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class FolderRec:
    uuid: str
    name: str
    parent: str | None
    description: str = ""
    client_metadata: str | None = None
    created_at: datetime = BASE_TIME


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


@dataclass
class DatasetRec:
    hash: str
    title: str
    description: str = ""
    items: list[str] = field(default_factory=list)  # item uuids = data hashes
    created_at: datetime = BASE_TIME


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
class LabelRec:
    data_hash: str
    stage_uuid: str
    label_hash: str | None = None
    last_edited_at: datetime | None = None
    boxes: list[tuple[str, dict[str, float]]] = field(default_factory=list)  # (feature hash, box)


@dataclass
class ProjectRec:
    hash: str
    title: str
    description: str
    ontology: str
    datasets: list[str]
    stages: list[StageRec]
    users: dict[str, int] = field(default_factory=dict)  # email -> ProjectUserRole value
    rows: dict[str, LabelRec] = field(default_factory=dict)
    created_at: datetime = BASE_TIME


@dataclass
class JobRec:
    uuid: str
    folder: str
    integration: str
    files: dict[str, Any]
    ignore_errors: bool
    polls_pending: int
    result: Any = None  # UploadLongPollingState once processed


SECTIONS = {"images": "IMAGE", "videos": "VIDEO", "audio": "AUDIO", "pdfs": "PDF", "text": "PLAIN_TEXT",
            "nifti": "NIFTI"}


class Workspace:
    """The state of one fake Encord organisation (one key holder's view of it)."""

    def __init__(self, owner: str = "owner@example.com") -> None:
        self.owner = owner
        self.integrations: dict[str, str] = {}  # uuid -> title
        self.folders: dict[str, FolderRec] = {}
        self.items: dict[str, ItemRec] = {}
        self.datasets: dict[str, DatasetRec] = {}
        self.ontologies: dict[str, OntologyRec] = {}
        self.templates: dict[str, list[tuple[str, str]]] = {}
        self.projects: dict[str, ProjectRec] = {}
        self.jobs: dict[str, JobRec] = {}
        self.job_polls_pending = 0
        self._clock = BASE_TIME

    def tick(self) -> datetime:
        self._clock += timedelta(seconds=1)
        return self._clock

    # -- building the workspace (tests call these directly) ----------------------------------
    def add_integration(self, title: str) -> str:
        iid = new_id()
        self.integrations[iid] = title
        return iid

    def add_folder(self, name: str, parent: str | None = None, description: str = "",
                   client_metadata: str | None = None) -> str:
        fid = new_id()
        self.folders[fid] = FolderRec(fid, name, parent, description, client_metadata, self.tick())
        return fid

    def add_item(self, folder: str, name: str, url: str, item_type: str = "IMAGE") -> str:
        iid = new_id()
        self.items[iid] = ItemRec(iid, folder, name, item_type, url, created_at=self.tick())
        return iid

    def add_dataset(self, title: str, description: str = "", items: list[str] | None = None) -> str:
        did = new_id()
        self.datasets[did] = DatasetRec(did, title, description, list(items or []), self.tick())
        self.sync_rows()
        return did

    def add_ontology(self, title: str, objects: list[tuple[str, str]]) -> str:
        structure = OntologyStructure()
        for name, shape in objects:
            structure.add_object(name=name, shape=Shape(shape))
        oid = new_id()
        self.ontologies[oid] = OntologyRec(oid, title, structure)
        return oid

    def add_template(self, stages: list[tuple[str, str]] | None = None) -> str:
        tid = new_id()
        self.templates[tid] = list(stages or STAGES_DEFAULT)
        return tid

    def add_project(self, title: str, *, ontology: str, datasets: list[str], description: str = "",
                    stages: list[tuple[str, str]] | None = None, users: dict[str, int] | None = None) -> str:
        pid = new_id()
        stage_recs = [StageRec(new_id(), t, k) for t, k in (stages or STAGES_DEFAULT)]
        self.projects[pid] = ProjectRec(pid, title, description, ontology, list(datasets), stage_recs,
                                        {self.owner: 0, **(users or {})}, created_at=self.tick())
        self.sync_rows()
        return pid

    def sync_rows(self) -> None:
        """As Encord does: a project has one label row per data unit of its datasets."""
        for p in self.projects.values():
            first = p.stages[0].uuid
            for d in p.datasets:
                for item in self.datasets[d].items if d in self.datasets else []:
                    p.rows.setdefault(item, LabelRec(item, first))

    def label(self, project: str, data_hash: str, *, stage: str | None = None,
              boxes: list[tuple[str, dict[str, float]]] | None = None) -> None:
        """An annotator saving: boxes are (object name, {x, y, w, h}); stage is a stage title."""
        p = self.projects[project]
        row = p.rows[data_hash]
        onto = self.ontologies[p.ontology].structure
        if boxes is not None:
            row.boxes = [(onto.get_child_by_title(name).feature_node_hash, box) for name, box in boxes]
        if stage is not None:
            row.stage_uuid = next(s.uuid for s in p.stages if s.title == stage)
        row.label_hash = row.label_hash or new_id()
        row.last_edited_at = self.tick()

    def stage_title(self, p: ProjectRec, stage_uuid: str) -> str:
        return next(s.title for s in p.stages if s.uuid == stage_uuid)

    def dataset_of(self, p: ProjectRec, data_hash: str) -> DatasetRec:
        return next(self.datasets[d] for d in p.datasets if data_hash in self.datasets[d].items)

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
                             client_metadata=f.client_metadata, owner=self.owner, created_at=f.created_at,
                             last_edited_at=f.created_at, user_role=StorageUserRole.ADMIN, synced_dataset_hash=None,
                             path_to_root=self.path_to_root(fid))

    def item_dto(self, iid: str) -> Any:
        from encord.orm.storage import StorageItem, StorageItemType, StorageLocationName

        i = self.items[iid]
        return StorageItem(
            uuid=i.uuid, parent=i.parent, item_type=StorageItemType[i.item_type], name=i.name, client_metadata="{}",
            owner=self.owner, created_at=i.created_at, last_edited_at=i.created_at, backed_data_units_count=1,
            storage_location=StorageLocationName.S3, integration_hash=None, url=i.url, signed_url=None,
            file_size=1000, mime_type="image/jpeg", duration=None, fps=None, height=i.height, width=i.width,
            dicom_instance_uid=None, dicom_study_uid=None, dicom_series_uid=None, frame_count=None,
            audio_sample_rate=None, audio_bit_depth=None, audio_codec=None, audio_num_channels=None)

    def ontology_dto(self, oid: str) -> Any:
        from encord.utilities.ontology_user import OntologyUserRole, OntologyWithUserRole

        o = self.ontologies[oid]
        return OntologyWithUserRole(ontology_uuid=o.uuid, title=o.title, description=o.description,
                                    editor=o.structure.to_dict(), created_at=BASE_TIME, last_edited_at=BASE_TIME,
                                    user_role=OntologyUserRole.ADMIN)

    def project_dto(self, pid: str) -> Any:
        from encord.orm.project import ProjectDTO, ProjectStatus, ProjectType
        from encord.orm.workflow import WorkflowDTO, WorkflowNode
        from encord.utilities.project_user import ProjectUserRole

        p = self.projects[pid]
        return ProjectDTO(
            project_hash=p.hash, project_type=ProjectType.WORKFLOW, status=ProjectStatus.IN_PROGRESS, title=p.title,
            description=p.description, created_at=p.created_at, creator_email=self.owner,
            last_edited_at=p.created_at, ontology_hash=p.ontology,
            editor_ontology=self.ontologies[p.ontology].structure.to_dict(), user_role=ProjectUserRole.ADMIN,
            workflow=WorkflowDTO(stages=[WorkflowNode(stage_type=s.stage_type, uuid=s.uuid, title=s.title)
                                         for s in p.stages]))

    def upload_state(self, job: JobRec) -> Any:
        from encord.orm.dataset import LongPollingStatus
        from encord.orm.storage import UploadLongPollingState

        if job.result is not None:
            return job.result
        if job.polls_pending > 0:
            job.polls_pending -= 1
            return UploadLongPollingState(status=LongPollingStatus.PENDING, items_with_names=[], errors=[],
                                          units_pending_count=1, units_done_count=0, units_error_count=0,
                                          units_cancelled_count=0, unit_errors=[])
        job.result = self._process(job)
        return job.result

    def _process(self, job: JobRec) -> Any:
        from encord.orm.dataset import DataUnitError, LongPollingStatus
        from encord.orm.storage import StorageItemWithName, UploadLongPollingState

        made: list[tuple[str, str, str, str]] = []
        errors: list[Any] = []
        existing = {i.url for i in self.items.values() if i.parent == job.folder}
        skip = bool(job.files.get("skip_duplicate_urls"))
        for section, kind in SECTIONS.items():
            for entry in job.files.get(section) or []:
                url = str(entry.get("objectUrl", ""))
                if "missing" in url or not url:
                    errors.append(DataUnitError(object_urls=[url], error="Encord could not access the file",
                                                subtask_uuid=new_id(), action_description="Registering file"))
                    continue
                if skip and url in existing:
                    continue
                existing.add(url)
                made.append((new_id(), str(entry.get("title") or url.rsplit("/", 1)[-1]), url, kind))
        failed = bool(errors) and not job.ignore_errors
        if not failed:
            for iid, name, url, kind in made:
                self.items[iid] = ItemRec(iid, job.folder, name, kind, url, created_at=self.tick())
        return UploadLongPollingState(
            status=LongPollingStatus.ERROR if failed else LongPollingStatus.DONE,
            items_with_names=[] if failed else [StorageItemWithName(item_uuid=i, name=n) for i, n, _, _ in made],
            errors=[f"{len(errors)} file(s) could not be registered"] if failed else [],
            units_pending_count=0, units_done_count=0 if failed else len(made), units_error_count=len(errors),
            units_cancelled_count=0, unit_errors=errors)

    # -- v1 answers -------------------------------------------------------------------------
    def data_row(self, iid: str) -> dict[str, Any]:
        from encord.constants.enums import DataType
        from encord.orm.dataset import DataRow, StorageLocation

        i = self.items[iid]
        row = DataRow(uid=i.uuid, title=i.name, data_type=DataType.IMAGE if i.item_type == "IMAGE" else DataType.VIDEO,
                      created_at=i.created_at, last_edited_at=i.created_at, width=i.width, height=i.height,
                      file_link=i.url, file_size=1000, file_type="image/jpeg", storage_location=StorageLocation.AWS,
                      client_metadata=None, frames_per_second=None, duration=None, images_data=None, signed_url=None,
                      is_optimised_image_group=None, backing_item_uuid=uuid.UUID(i.uuid))
        return {k: v for k, v in row.items() if not k.startswith("_")}

    def dataset_orm(self, did: str, with_rows: bool) -> dict[str, Any]:
        from encord.orm.dataset import Dataset as OrmDataset

        d = self.datasets[did]
        orm = OrmDataset(title=d.title, storage_location="CORD_STORAGE", data_rows=[], dataset_hash=d.hash,
                         description=d.description, backing_folder_uuid=None)
        out = dict(orm)
        out["data_rows"] = [self.data_row(i) for i in d.items] if with_rows else []
        return out

    def row_metadata(self, p: ProjectRec, row: LabelRec) -> Any:
        from encord.orm.label_row import LabelRowMetadata, LabelStatus, WorkflowGraphNode

        item = self.items[row.data_hash]
        ds = self.dataset_of(p, row.data_hash)
        return LabelRowMetadata(
            label_hash=row.label_hash, created_at=row.last_edited_at, last_edited_at=row.last_edited_at,
            branch_name="main", data_hash=row.data_hash, dataset_hash=ds.hash, dataset_title=ds.title,
            data_title=item.name, data_type="IMAGE", data_link=item.url,
            label_status=LabelStatus.LABELLED if row.boxes else LabelStatus.NOT_LABELLED,
            annotation_task_status=None,
            workflow_graph_node=WorkflowGraphNode(uuid=row.stage_uuid, title=self.stage_title(p, row.stage_uuid)),
            is_shadow_data=False, frames_per_second=None, number_of_frames=1, duration=None, height=item.height,
            width=item.width, audio_sample_rate=None, audio_codec=None, audio_bit_depth=None,
            audio_num_channels=None, spaces={})

    def label_row(self, p: ProjectRec, row: LabelRec) -> dict[str, Any]:
        """The full label row, made by the SDK: an empty row, then its objects added with SDK calls."""
        from encord.objects import LabelRowV2
        from encord.objects.coordinates import BoundingBoxCoordinates
        from encord.ontology import Ontology

        if row.label_hash is None:
            row.label_hash = new_id()
            row.last_edited_at = self.tick()
        item = self.items[row.data_hash]
        ds = self.dataset_of(p, row.data_hash)
        stamp = sandbox_labels.encord_time(row.last_edited_at)
        empty = sandbox_labels.build_label_row(
            label_hash=row.label_hash, data_hash=row.data_hash, data_title=item.name, item_type="image",
            data_link=item.url, width=item.width, height=item.height, dataset_hash=ds.hash, dataset_title=ds.title,
            objects=[], created_at=stamp, last_edited_at=stamp, stage=self.stage_title(p, row.stage_uuid))
        empty["label_status"] = "LABELLED" if row.boxes else "NOT_LABELLED"
        ontology = Ontology(self._orm_ontology(p.ontology), None)  # type: ignore[arg-type]
        lr = LabelRowV2(self.row_metadata(p, row), None, ontology)  # type: ignore[arg-type]
        lr.from_labels_dict(empty)
        structure = self.ontologies[p.ontology].structure
        for feature, box in row.boxes:
            obj = structure.get_child_by_hash(feature)
            inst = obj.create_instance()
            inst.set_for_frames(BoundingBoxCoordinates(top_left_x=box["x"], top_left_y=box["y"], width=box["w"],
                                                       height=box["h"]), frames=0, created_by=self.owner)
            lr.add_object_instance(inst)
        return lr.to_encord_dict()

    def _orm_ontology(self, oid: str) -> Any:
        from encord.ontology import Ontology

        return Ontology._legacy_orm_from_api_payload(self.ontology_dto(oid))
