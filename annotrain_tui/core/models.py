"""The models shared by both backends and every front.

They mirror what Encord's SDK exposes, reduced to what annotrain needs. Every string in them may
come from a server or a file and is untrusted: fronts show it literally.

They are frozen :class:`msgspec.Struct` records, not pydantic models: every command makes some,
and pydantic's import alone is four times ``python -c pass`` (issue 14). A struct's constructor
does not convert or check types, so each backend builds them from values of the right type
(``Provider(...)``, ``parse_iso(...)``: mypy checks the calls); :func:`dump` gives the JSON form
the CLI prints, :func:`load` validates a JSON form back (the sandbox's stored job results).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

import msgspec
from msgspec import field

M = TypeVar("M", bound="Record")


class Record(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Frozen, keyword-only; decoding (``load``) refuses unknown fields, as the models did."""

    def replace(self: M, **updates: Any) -> M:
        """This record with ``updates`` (values of the right type: not checked)."""
        return msgspec.structs.replace(self, **updates)


def dump(model: Record) -> dict[str, Any]:
    """A model as JSON values (enums as their values, datetimes as ISO 8601 text), nested models too."""
    out: dict[str, Any] = msgspec.to_builtins(model)
    return out


def load(kind: type[M], data: Any) -> M:
    """A model from its JSON form (text, bytes or the decoded values), validated: a wrong type or
    an unknown field is a ``msgspec.ValidationError`` (a ValueError) naming the field."""
    if isinstance(data, (str, bytes)):
        return msgspec.json.decode(data, type=kind)
    return msgspec.convert(data, kind)


class Provider(str, Enum):
    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"
    OTC = "otc"
    WASABI = "wasabi"
    ORACLE = "oracle"
    DIRECT = "direct"

    @property
    def label(self) -> str:
        return {
            "aws": "AWS S3", "gcp": "GCP", "azure": "Azure", "otc": "Open Telekom Cloud",
            "wasabi": "Wasabi", "oracle": "Oracle", "direct": "Direct access",
        }[self.value]


class Integration(Record, frozen=True, kw_only=True):
    id: str
    title: str
    provider: Provider


class Folder(Record, frozen=True, kw_only=True):
    id: str
    name: str
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    parent_id: str | None = None
    path: str = ""  # "/parent/child" for display and lookup by path
    item_count: int | None = None


class Item(Record, frozen=True, kw_only=True):
    """A storage item (a registered file). On Encord a dataset's data row for it has its own data
    hash and names the item by ``backing_item_uuid`` (see :class:`DataRow`)."""

    id: str
    name: str
    item_type: str  # image, video, audio, pdf, plain_text, image_group, image_sequence, dicom_series, nifti
    url: str = ""
    folder_id: str | None = None


class JobStatus(str, Enum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class UnitError(Record, frozen=True, kw_only=True):
    object_urls: list[str]
    error: str = ""


class RegistrationResult(Record, frozen=True, kw_only=True):
    status: JobStatus
    unit_errors: list[UnitError] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    items_created: int = 0


class Dataset(Record, frozen=True, kw_only=True):
    id: str
    title: str
    description: str = ""


class DataRow(Record, frozen=True, kw_only=True):
    """A dataset's data unit. ``item_id``: the storage item behind it (Encord's ``backing_item_uuid``;
    the sandbox's data hash is the item id). Join folders and datasets through it, never through
    ``data_hash``: on Encord linking an item creates a new data unit with its own hash."""

    data_hash: str
    title: str
    data_type: str
    file_link: str = ""
    item_id: str | None = None


class ObjectClass(Record, frozen=True, kw_only=True):
    feature_hash: str
    name: str
    shape: str  # bounding_box, rotatable_bounding_box, polygon, polyline, point, bitmask, skeleton
    color: str = "#888888"


class Ontology(Record, frozen=True, kw_only=True):
    id: str
    title: str
    objects: list[ObjectClass] = field(default_factory=list)


class WorkflowTemplate(Record, frozen=True, kw_only=True):
    id: str
    title: str
    stages: list[str] = field(default_factory=lambda: ["Annotate", "Review", "Complete"])


class ProjectUser(Record, frozen=True, kw_only=True):
    email: str
    role: str  # admin, team_manager, reviewer, annotator, annotator_reviewer


#: Stage kinds, from Encord's ``WorkflowStageType`` (encord/orm/workflow.py): what a stage *is*,
#: whatever it is titled. Flows key on these, never on the titles "Annotate" and "Complete".
ANNOTATION, REVIEW, DONE = "annotation", "review", "done"


class Stage(Record, frozen=True, kw_only=True):
    """One workflow stage: its title (which a user may rename) and its kind (``WorkflowStageType``
    lower-cased: annotation, review, done, consensus_annotation, consensus_review, user_router,
    percentage_router, agent, ...)."""

    title: str
    kind: str
    id: str = ""


def stages_from_titles(titles: list[str]) -> list[Stage]:
    """Stages known only by title (a sandbox template or workspace written before stages had
    kinds): the last is the final (done) stage, a title with 'review' in it is a review stage, the
    others annotation stages."""
    out = []
    for n, title in enumerate(titles):
        kind = DONE if n == len(titles) - 1 else REVIEW if "review" in title.casefold() else ANNOTATION
        out.append(Stage(title=title, kind=kind))
    return out


def final_stage_of(stages: list[Stage]) -> Stage | None:
    """The stage finished work reaches (Encord's Complete, a DONE-type stage, however titled); with
    several, the one titled Complete, else the first."""
    done = [s for s in stages if s.kind == DONE]
    return next((s for s in done if s.title == "Complete"), done[0] if done else None)


class Project(Record, frozen=True, kw_only=True):
    """A project. A listing gives what one paged call carries (title, description, ontology, stages,
    the caller's role); ``dataset_ids`` and ``users`` are ``None`` until the project's details are
    loaded (``Backend.get_project``, ``core.lookup.with_details``), or when they were refused
    (``details_refused`` says why: on Encord only a project admin or team manager may read them)."""

    id: str
    title: str
    description: str = ""
    dataset_ids: list[str] | None = field(default_factory=list)
    ontology_id: str | None = None
    template_id: str | None = None
    users: list[ProjectUser] | None = field(default_factory=list)
    created_at: datetime | None = None
    stages: list[Stage] = field(default_factory=list)
    caller_role: str | None = None
    details_refused: str | None = None

    @property
    def has_details(self) -> bool:
        return self.dataset_ids is not None and self.users is not None

    @property
    def done_stages(self) -> list[Stage]:
        return [s for s in self.stages if s.kind == DONE]

    @property
    def final_stage(self) -> Stage | None:
        """The stage finished work reaches (see :func:`final_stage_of`)."""
        return final_stage_of(self.stages)

    @property
    def annotation_stages(self) -> list[Stage]:
        return [s for s in self.stages if s.kind == ANNOTATION]

    def stage_kind(self, title: str) -> str:
        return next((s.kind for s in self.stages if s.title == title), "")

    def workflow_problems(self) -> list[str]:
        """What this project's workflow lacks for training (empty: fine, or stages not known)."""
        if not self.stages:
            return []
        problems = []
        if not self.annotation_stages:
            problems.append("no annotation stage (a stage of type Annotate) for the trainee to work in")
        if self.final_stage is None:
            problems.append("no final stage (a stage of type Complete) that finished work reaches")
        return problems


class LabelRowInfo(Record, frozen=True, kw_only=True):
    """A project's label row without its labels (what a listing returns). ``stage`` is the stage's
    title, ``stage_kind`` its kind (see :class:`Stage`); flows decide by the kind."""

    label_hash: str | None  # None until the row has been initialised
    data_hash: str
    data_title: str
    stage: str
    last_edited_at: datetime | None = None
    stage_kind: str = ""

    @property
    def done(self) -> bool:
        """In a final (DONE-type) stage: the work is Complete."""
        return self.stage_kind == DONE if self.stage_kind else self.stage == "Complete"

    @property
    def started(self) -> bool:
        """Past the annotation stage (submitted at least once)."""
        return self.stage_kind != ANNOTATION if self.stage_kind else self.stage != "Annotate"


class StageCount(Record, frozen=True, kw_only=True):
    complete: int
    total: int

    @property
    def ratio(self) -> float:
        return self.complete / self.total if self.total else 0.0
