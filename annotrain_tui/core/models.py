"""Pydantic models shared by both backends and every front.

They mirror what Encord's SDK exposes, reduced to what annotrain needs. Every string in them may
come from a server or a file and is untrusted: fronts show it literally.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


class Integration(_Model):
    id: str
    title: str
    provider: Provider


class Folder(_Model):
    id: str
    name: str
    description: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    parent_id: str | None = None
    path: str = ""  # "/parent/child" for display and lookup by path
    item_count: int | None = None


class Item(_Model):
    """A storage item (a registered file). On Encord its uuid doubles as the data hash."""

    id: str
    name: str
    item_type: str  # image, video, audio, pdf, plain_text, image_group, image_sequence, dicom_series, nifti
    url: str = ""
    folder_id: str | None = None


class JobStatus(str, Enum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class UnitError(_Model):
    object_urls: list[str]
    error: str = ""


class RegistrationResult(_Model):
    status: JobStatus
    unit_errors: list[UnitError] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    items_created: int = 0


class Dataset(_Model):
    id: str
    title: str
    description: str = ""


class DataRow(_Model):
    data_hash: str
    title: str
    data_type: str
    file_link: str = ""


class ObjectClass(_Model):
    feature_hash: str
    name: str
    shape: str  # bounding_box, rotatable_bounding_box, polygon, polyline, point, bitmask, skeleton
    color: str = "#888888"


class Ontology(_Model):
    id: str
    title: str
    objects: list[ObjectClass] = Field(default_factory=list)


class WorkflowTemplate(_Model):
    id: str
    title: str
    stages: list[str] = Field(default_factory=lambda: ["Annotate", "Review", "Complete"])


class ProjectUser(_Model):
    email: str
    role: str  # admin, team_manager, reviewer, annotator, annotator_reviewer


class Project(_Model):
    id: str
    title: str
    description: str = ""
    dataset_ids: list[str] = Field(default_factory=list)
    ontology_id: str | None = None
    template_id: str | None = None
    users: list[ProjectUser] = Field(default_factory=list)
    created_at: datetime | None = None


class LabelRowInfo(_Model):
    """A project's label row without its labels (what a listing returns)."""

    label_hash: str | None  # None until the row has been initialised
    data_hash: str
    data_title: str
    stage: str
    last_edited_at: datetime | None = None


class StageCount(_Model):
    complete: int
    total: int

    @property
    def ratio(self) -> float:
        return self.complete / self.total if self.total else 0.0
