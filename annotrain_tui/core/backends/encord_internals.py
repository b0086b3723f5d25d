"""The encord SDK's internals annotrain uses: all of them, in this one module.

Where a public call exists the adapter uses it. Three needs have none in encord 0.1.x:

- **Read the project listing one project at a time.** ``EncordUserClient.list_projects`` builds a
  ``Project`` (and its ``Workflow``) for each row inside its generator, and the workflow loader
  raises on stages it does not know (router stages): the generator dies and takes the rest of the
  listing with it. The listing's own rows (``ProjectDTO``: title, description, ontology, workflow
  stages, the caller's role) are everything a listing needs, so the pages are read here.
- **One project by id in one call** (``projects/{id}``, what ``get_project`` does first before it
  also fetches the ontology) for lookups that need no ontology.
- **One poll of an upload job.** ``StorageFolder.add_private_data_to_folder_get_result`` sleeps 10 s
  and retries by itself when a poll fails, which would stall the caller and stack with the core's
  retries.

Every function checks the names it uses first and raises :class:`SdkChanged` — one loud, clear
error naming what moved — instead of degrading silently (a changed constructor used to skip every
project with a misleading warning). ``tests/core/test_encord_workspace.py`` fails on an SDK that
moved any of them; ``missing()`` is what it checks.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from annotrain_tui.core.errors import AnnotrainError

#: (module, attribute) pairs this module relies on.
USED = (
    ("encord.orm.project", "ProjectDTO"),
    ("encord.orm.project", "ProjectFilterParams"),
    ("encord.orm.storage", "GetUploadJobParams"),
    ("encord.orm.storage", "UploadLongPollingState"),
)
#: Attributes of an ``EncordUserClient`` (and of its ``_api_client``) this module relies on.
CLIENT_ATTRIBUTES = ("_api_client", "user_config")
API_METHODS = ("get", "get_paged_iterator")


class SdkChanged(AnnotrainError):
    """The installed encord SDK no longer has an internal annotrain relies on."""


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("encord")
    except Exception:  # noqa: BLE001 - only for the message
        return "?"


def _changed(what: str) -> SdkChanged:
    return SdkChanged(f"the installed encord SDK ({_version()}) changed an internal annotrain uses: {what}",
                      hint="install a supported version: pip install 'encord>=0.1.205,<0.2' (see the README)")


def missing(client: Any = None) -> list[str]:
    """Every internal this module uses that the installed SDK (and ``client``) lacks."""
    out = []
    for module, name in USED:
        try:
            if not hasattr(importlib.import_module(module), name):
                out.append(f"{module}.{name}")
        except ImportError:
            out.append(module)
    if client is not None:
        out += [f"EncordUserClient.{a}" for a in CLIENT_ATTRIBUTES if not hasattr(client, a)]
        api = getattr(client, "_api_client", None)
        if api is not None:
            out += [f"ApiClient.{m}" for m in API_METHODS if not callable(getattr(api, m, None))]
    return out


def _api(client: Any) -> Any:
    gone = missing(client)
    if gone:
        raise _changed(", ".join(gone))
    return client._api_client  # noqa: SLF001 - the one place


def iter_project_dtos(client: Any) -> Iterator[Any]:
    """Every project the caller may see, as the listing's rows (``ProjectDTO``), page by page."""
    from encord.orm.project import ProjectDTO, ProjectFilterParams

    yield from _api(client).get_paged_iterator("projects", params=ProjectFilterParams(), result_type=ProjectDTO)


def project_dto(client: Any, project_id: UUID) -> Any:
    """One project's row by id: one call (``projects/{id}``, what ``get_project_v2`` asks)."""
    from encord.orm.project import ProjectDTO

    return _api(client).get(f"projects/{project_id}", params=None, result_type=ProjectDTO)


def poll_upload_job(client: Any, folder: UUID, job: UUID, wait: int) -> Any:
    """One poll of an upload job; the server holds it up to ``wait`` seconds for the job to end."""
    from encord.orm.storage import GetUploadJobParams, UploadLongPollingState

    return _api(client).get(f"storage/folders/{folder}/data-upload-jobs/{job}",
                            params=GetUploadJobParams(timeout_seconds=wait), result_type=UploadLongPollingState)
