"""The Backend protocol: one interface served by the sandbox and by the Encord SDK adapter.

Shaped after the SDK (``EncordUserClient``, ``StorageFolder``, ``Dataset``, ``Project``) so the
Encord adapter is a thin mapping. Methods raise ``annotrain_tui.core.errors`` types only.
Creates are the only non-idempotent calls; ``core.retry`` knows how to look for what a create
made before it retries one whose answer was lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from threading import Event
from typing import Any, ClassVar, Protocol, runtime_checkable

from annotrain_tui.core.errors import Conflict, ErrorKind, NotFound, UnreadableInput
from annotrain_tui.core.models import (
    DataRow,
    Dataset,
    Folder,
    Integration,
    Item,
    LabelRowInfo,
    Ontology,
    Project,
    RegistrationResult,
    WorkflowTemplate,
)

#: Methods that create something (not safe to repeat blindly).
CREATE_METHODS = frozenset({"create_folder", "create_dataset", "create_project", "start_registration"})

#: Every protocol method, for wrappers (retry, fault injection) that forward them.
PROTOCOL_METHODS = (
    "check",
    "list_integrations",
    "list_folders",
    "create_folder",
    "start_registration",
    "get_registration_result",
    "list_items",
    "list_datasets",
    "create_dataset",
    "link_items",
    "list_data_rows",
    "list_ontologies",
    "list_workflow_templates",
    "list_projects",
    "get_project",
    "create_project",
    "add_users",
    "assign_tasks",
    "list_label_rows",
    "get_label_rows",
    "get_edited_label_rows",
    "list_done",
    "poll_label_rows",
)


class WorkspaceMissing(NotFound, UnreadableInput):
    """No workspace at the path the user named (a mistyped --sandbox): nothing was created. Input that
    cannot be read (as a missing manifest is), though a NotFound to code that looks for one."""

    kind: ClassVar[ErrorKind] = "input"


class WorkspaceGone(Conflict):
    """The workspace itself went away under a running operation (a sandbox file deleted or replaced
    by 'sandbox reset' or 'init --force'): no further call can succeed; the run stops at once."""


@runtime_checkable
class Backend(Protocol):
    name: str

    def describe(self) -> str:
        """One line naming the workspace (shown in the header and `projects list`)."""

    def check(self) -> str:
        """Cheap authenticated call; returns who we are. Creating a client checks nothing."""

    # -- storage ---------------------------------------------------------------------------
    def list_integrations(self) -> list[Integration]: ...

    def list_folders(self, *, search: str | None = None) -> list[Folder]:
        """Every folder (nested ones included, with ``path``), optionally filtered by name."""

    def create_folder(self, name: str, *, description: str = "", metadata: dict[str, Any] | None = None,
                      parent_id: str | None = None) -> Folder: ...

    def start_registration(self, folder_id: str, integration_id: str, manifest: dict[str, Any], *,
                           ignore_errors: bool = True) -> str:
        """Start an asynchronous registration job; returns the job id."""

    def get_registration_result(self, folder_id: str, job_id: str, *,
                                timeout_seconds: float = 0.0) -> RegistrationResult:
        """Wait up to ``timeout_seconds`` for the job; PENDING if it has not finished."""

    def list_items(self, folder_id: str) -> list[Item]: ...

    # -- datasets --------------------------------------------------------------------------
    def list_datasets(self) -> list[Dataset]: ...

    def create_dataset(self, title: str, *, description: str = "") -> Dataset: ...

    def link_items(self, dataset_id: str, item_ids: Sequence[str]) -> int:
        """Link storage items to a dataset (idempotent); returns how many are linked now."""

    def list_data_rows(self, dataset_id: str) -> list[DataRow]:
        """The dataset's data units, each naming its storage item (``DataRow.item_id``)."""

    # -- ontologies, templates, projects ---------------------------------------------------
    def list_ontologies(self) -> list[Ontology]: ...

    def list_workflow_templates(self) -> list[WorkflowTemplate]:
        """Encord has no listing call: the adapter returns the templates named in config."""

    def list_projects(self, *, search: str | None = None, description_contains: str | None = None) -> list[Project]:
        """What one paged listing carries: title, description, ontology, stages (with their kinds), the
        caller's role. ``dataset_ids`` and ``users`` may be None (not loaded): load them for the
        projects a flow needs with ``get_project`` (``core.lookup.with_details``). ``search``: titles
        containing it (any case); ``description_contains``: descriptions holding that exact text."""
        ...

    def get_project(self, project_id: str, *, details: bool = True) -> Project:
        """One project (``details``: with its datasets and users; without, one call). Details the caller may not read are None,
        with ``details_refused`` saying why; the project itself is still returned."""

    def create_project(self, title: str, *, description: str, dataset_ids: Sequence[str],
                       ontology_id: str, template_id: str | None = None) -> Project: ...

    def add_users(self, project_id: str, emails: Iterable[str], role: str = "annotator") -> None:
        """Invite users with a project role (idempotent)."""

    def assign_tasks(self, project_id: str, email: str) -> int:
        """Assign every unassigned task of the project's annotation stages to ``email`` (Encord's
        ``AnnotationTask.assign``); tasks someone else holds are left. Returns how many were assigned
        by this call (idempotent: 0 the second time)."""

    # -- labels ----------------------------------------------------------------------------
    def list_label_rows(self, project_id: str, *, stage: str | None = None,
                        edited_after: datetime | None = None, done_only: bool = False) -> list[LabelRowInfo]:
        """Every label row (uninitialised ones included); ``stage``: only those in the stage of that
        title; ``done_only``: only those in a final (DONE-type) stage, whatever it is titled."""

    def get_label_rows(self, project_id: str, data_hashes: Sequence[str]) -> list[dict[str, Any]]:
        """Full label rows in Encord's label-row JSON format (``LabelRowV2.to_encord_dict()``)."""

    def get_edited_label_rows(self, project_id: str, *, edited_after: datetime | None,
                              stage: str | None = None) -> tuple[list[LabelRowInfo], list[dict[str, Any]]]:
        """What a live poll needs in one call: every label row edited after ``edited_after`` (any stage,
        as ``list_label_rows`` lists them) and the full rows of those in ``stage`` (by title), or, when
        None, of those in a final (DONE-type) stage."""

    def list_done(self, project_id: str) -> dict[str, datetime | None]:
        """data hash → last_edited_at of every row now in a final (DONE-type) stage: the cheap form of
        ``list_label_rows(done_only=True)`` a live poll asks each time (a stage move Encord may not
        stamp as an edit shows here)."""

    def poll_label_rows(self, project_id: str, *, edited_after: datetime | None
                        ) -> tuple[list[LabelRowInfo], list[dict[str, Any]], dict[str, datetime | None]]:
        """A live poll in one call: ``get_edited_label_rows`` and ``list_done`` together."""

    # -- operators working at once ---------------------------------------------------------
    def operation_lock(self, name: str, *, timeout: float | None = None,
                       on_wait: Callable[[str], None] | None = None,
                       cancel: Event | None = None) -> AbstractContextManager[Any]:
        """Held across work that two operators of the same workspace must not do at once (the plan and
        apply of provisioning), by everyone who opens that workspace, whatever their state dir.

        Sandbox: an flock on the workspace file itself (``core.locks.file_lock``; waits like the
        state-dir lock, naming the holder; 'sandbox reset' refuses while it is held; raises
        ``WorkspaceGone`` when the file was deleted or replaced meanwhile). Encord: no lock exists
        that other machines would see; a no-op there, and the marker re-check before each create
        plus the duplicate report after the run cover operators who share no lock.
        """
        ...

    def close(self) -> None: ...


class BackendLayer:
    """A layer around a backend (retries, fault injection) that serves the same protocol and forwards
    what it does not change to ``inner``. Layers stack; :func:`unwrap` finds the backend under them."""

    def __init__(self, inner: Backend) -> None:
        self.inner: Backend = inner
        self.name: str = inner.name


def unwrap(backend: Backend) -> Backend:
    """The backend under every layer (the one sandbox-only or adapter-only operations live on)."""
    while isinstance(backend, BackendLayer):
        backend = backend.inner
    return backend

