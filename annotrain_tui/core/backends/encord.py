"""EncordBackend: the Backend protocol over the real ``encord`` SDK.

The SDK is imported lazily (``connect``), it costs ~0.5 s. What the adapter has to know about it:

- Creating a client checks nothing; :meth:`EncordBackend.check` makes one cheap signed call.
- Listings are lazy and paged: errors surface while iterating, so every listing is consumed inside
  the error-mapping block.
- The SDK's own retries are switched off: retrying is the job of ``core.retry``. Timeouts are by
  kind of call: two clients share the key, one for interactive calls (``settings.request_timeout``),
  one for bulk ones (label rows, a dataset's data rows, linking items: ``settings.bulk_timeout``),
  and bulk calls are chunked so no one request grows with the project; a bulk timeout is tried
  twice in all, not five times. Creates are never retried here; a failure whose answer may have
  been lost is ``Transient(acted=None)`` so the retry layer looks before it retries.
- Listing projects is one paged listing: its rows carry title, description, ontology, workflow
  stages (with their types) and the caller's role. A project's datasets and users are loaded only
  by ``get_project`` (for the projects a flow needs); where Encord refuses them (a caller who is not
  project admin or team manager there) the project is kept, with ``details_refused`` and a warning.
- Stages are known by type (``WorkflowStageType``): Complete means a DONE-type stage and Annotate an
  ANNOTATION-type one, whatever they are titled.
- Reading never writes: a listed row that has no label hash (never opened) is reported and left
  out, not created with ``create_label_rows`` as ``initialise_labels`` would.
- SDK exceptions become core errors with a message a user can act on. Key-parsing errors can
  contain the key text, so they are never shown, logged or chained (not even as ``__context__``).
- There is no call that lists workflow templates (they come from ``settings.workflow_templates``)
  and none that gives an integration's provider (it is read from the integration's title, see
  :func:`provider_from_title`).
- SDK internals (the project listing's rows, one project row by id, one poll of an upload job) are
  used only through :mod:`annotrain_tui.core.backends.encord_internals`, which fails loudly when
  the SDK moves them; tested with encord 0.1.205 and 0.1.211.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from annotrain_tui.core.backends import encord_internals as internals
from annotrain_tui.core.backends.encord_keys import (
    PASSPHRASE_ENV,
    KeyInfo,
    PassphraseSource,
    fingerprint,
    inspect_key,
    key_failure,
    read_key_file,
    resolve_passphrase,
)
from annotrain_tui.core.config import DOMAIN_HINT, Settings, check_domain, key_path_from_text
from annotrain_tui.core.errors import (
    AnnotrainError,
    AuthFailed,
    ConfigError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    SdkCannotLoad,
    Transient,
    UsageError,
)
from annotrain_tui.core.models import (
    DataRow,
    Dataset,
    Folder,
    Integration,
    Item,
    JobStatus,
    LabelRowInfo,
    ObjectClass,
    Ontology,
    Project,
    ProjectUser,
    Provider,
    RegistrationResult,
    Stage,
    UnitError,
    WorkflowTemplate,
)
from annotrain_tui.core.remedies import see
from annotrain_tui.core.text import refuse_hidden_characters, shown

if TYPE_CHECKING:  # pragma: no cover
    from encord.project import Project as SdkProject
    from encord.user_client import EncordUserClient

_log = logging.getLogger(__name__)

DEFAULT_DOMAIN = "https://api.encord.com"
KEY_FILE_ENV = "ENCORD_SSH_KEY_FILE"
#: A bearer token (``EncordUserClient.create_with_bearer_token``), read from the environment only:
#: annotrain never stores it. An SSH key, when one is set, wins.
TOKEN_ENV = "ENCORD_BEARER_TOKEN"
ROLES = ("admin", "team_manager", "reviewer", "annotator", "annotator_reviewer")
ROUTER_STAGES = frozenset({"USER_ROUTER", "PERCENTAGE_ROUTER"})
#: Seconds between polls of a registration job that is still pending.
POLL_INTERVAL = 0.5
#: Label rows per bundle request, storage items per link request: bulk calls are chunked so that no
#: one request grows with the project (the SDK would send up to 1,000 rows a request, encord/http/limits.py).
BUNDLE_ROWS = 100
LINK_ITEMS = 500
#: Attempts in all for a call that timed out: a server too slow once is likely slow again, and five
#: tries of a 30 s (or 180 s bulk) timeout would keep the user waiting minutes for one line.
TIMEOUT_ATTEMPTS = 2

_PROVIDER_WORDS: list[tuple[Provider, tuple[str, ...]]] = [
    (Provider.AWS, ("aws", "s3", "amazon")),
    (Provider.GCP, ("gcp", "gcs", "google")),
    (Provider.AZURE, ("azure", "blob")),
    (Provider.OTC, ("otc", "telekom")),
    (Provider.WASABI, ("wasabi",)),
    (Provider.ORACLE, ("oracle", "oci")),
    (Provider.DIRECT, ("direct",)),
]


def provider_from_title(title: str) -> Provider:
    """The SDK does not expose an integration's provider: read it from words in the title.

    Falls back to DIRECT (any https URL) when the title names no provider.
    """
    words = set(re.split(r"[^a-z0-9]+", title.casefold()))
    for provider, names in _PROVIDER_WORDS:
        if words & set(names):
            return provider
    return Provider.DIRECT


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _one_line(text: object, limit: int = 200) -> str:
    """Server-provided text as one short line (shown as data, never interpreted)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _check_domain(domain: str) -> str:
    """The one domain check (core.config.check_domain), as a ConfigError."""
    try:
        return check_domain(domain)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


# -- error mapping -----------------------------------------------------------------------------
def _requests_failure(exc: BaseException) -> BaseException | None:
    """The ``requests`` exception behind an SDK RequestException (or the exception itself)."""
    import requests

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, requests.exceptions.RequestException):
            return cur
        cur = cur.__cause__ or cur.__context__
    return None


def _network_kind(exc: BaseException) -> str:
    """How a ``requests`` failure happened: connect, timeout, dropped, tls or other.

    With a urllib3 retry policy in place (the SDK always sets one) a read timeout or a dropped
    connection arrives as a ``ConnectionError`` wrapping ``MaxRetryError``: look at its reason.
    """
    import requests
    import urllib3.exceptions as u3

    if isinstance(exc, requests.exceptions.SSLError):
        return "tls"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason: Any = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)
        if isinstance(reason, u3.NewConnectionError):
            return "connect"
        if isinstance(reason, (u3.ReadTimeoutError, u3.TimeoutError)) and not isinstance(reason, u3.ConnectTimeoutError):
            return "timeout"
        if isinstance(reason, u3.ConnectTimeoutError):
            return "connect"
        if isinstance(reason, u3.SSLError):
            return "tls"
        return "dropped"
    return "other"


class EncordBackend:
    """The Backend protocol over ``EncordUserClient``; build it with :meth:`connect`."""

    name = "encord"

    def __init__(self, client: EncordUserClient, *, domain: str, settings: Settings,
                 key_path: Path | None, bulk_client: EncordUserClient | None = None,
                 auth: str = "SSH key") -> None:
        self._client = client
        self._bulk = bulk_client or client
        self.domain = domain
        self.settings = settings
        self.key_path = key_path
        self.auth = auth
        self._token_id: str | None = None
        self.timeout = settings.request_timeout
        self.bulk_timeout = settings.bulk_timeout
        #: Problems found while listing (e.g. projects the SDK cannot load), for the fronts to show.
        self.warnings: list[str] = []
        self._projects: dict[tuple[str, bool], SdkProject] = {}
        self._dtos: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- connecting ---------------------------------------------------------------------------
    @classmethod
    def connect(cls, settings: Settings, *, passphrase: PassphraseSource = None) -> EncordBackend:
        """Create the SDK client from the key file (nothing is checked on the server yet).

        ``passphrase`` (text, or a callback asked with the key path) unlocks an encrypted key;
        ``ENCORD_SSH_KEY_PASSPHRASE`` is used before the callback. It is handed to the SDK and
        not kept.
        """
        key_path = settings.ssh_key_path
        if key_path is None and os.environ.get(KEY_FILE_ENV):
            key_path = key_path_from_text(os.environ[KEY_FILE_ENV], source=KEY_FILE_ENV)
        domain = _check_domain(settings.encord_domain or DEFAULT_DOMAIN)
        if key_path is None and os.environ.get(TOKEN_ENV, "").strip():
            return cls._connect_with_token(settings, domain, os.environ[TOKEN_ENV].strip())
        if key_path is None:
            raise UsageError("the encord backend needs an SSH key (or a bearer token)",
                             hint=f"pass --ssh-key PATH, set {KEY_FILE_ENV} or save the key's path in the settings; "
                                  f"or set {TOKEN_ENV}", see=see("config.set", key="ssh_key_path", value="PATH"))
        info = inspect_key(read_key_file(key_path), key_path)
        secret: str | None = None
        if info.encrypted:
            if importlib.util.find_spec("bcrypt") is None:
                raise ConfigError(f"SSH key {key_path} is protected by a passphrase and reading such keys needs "
                                  "the 'bcrypt' package", hint="pip install bcrypt")
            secret = resolve_passphrase(passphrase, key_path)
            if not secret:
                raise AuthFailed(f"SSH key {key_path} is protected by a passphrase and none was given",
                                 hint=f"set {PASSPHRASE_ENV} or use a key without a passphrase")
        client = cls._create_client(settings, key_path, domain, secret, info, settings.request_timeout)
        bulk = cls._create_client(settings, key_path, domain, secret, info, settings.bulk_timeout)
        return cls(client, domain=domain, settings=settings, key_path=key_path, bulk_client=bulk)

    @classmethod
    def _connect_with_token(cls, settings: Settings, domain: str, token: str) -> EncordBackend:
        """Sign in with a bearer token (the SDK's other documented way in 0.1.x). The token is
        registered as a secret first: no message, log or output shows it."""
        from encord.user_client import EncordUserClient

        from annotrain_tui.core.secrets import register_secret

        register_secret(token)
        _quiet_sdk_logs()
        if any(ch.isspace() or not ch.isprintable() for ch in token):
            raise InvalidInput(f"{TOKEN_ENV} is not a bearer token (it holds spaces or control characters)")
        clients = []
        for t in (settings.request_timeout, settings.bulk_timeout):
            try:
                clients.append(EncordUserClient.create_with_bearer_token(
                    token, requests_settings=_requests_settings(t), domain=domain))
            except Exception:  # noqa: BLE001 - the SDK's errors may quote the token: chain none
                failure = InvalidInput(f"{TOKEN_ENV} could not be used as an Encord bearer token")
                break
        else:
            backend = cls(clients[0], domain=domain, settings=settings, key_path=None, bulk_client=clients[1],
                          auth="bearer token")
            backend._token_id = "token:" + hashlib.sha256(token.encode()).hexdigest()[:16]
            return backend
        raise failure

    @staticmethod
    def _create_client(settings: Settings, key_path: Path, domain: str, secret: str | None,
                       info: KeyInfo, t: float) -> EncordUserClient:
        from encord.user_client import EncordUserClient

        _quiet_sdk_logs()
        requests_settings = _requests_settings(t)
        try:
            return EncordUserClient.create_with_ssh_private_key(
                ssh_private_key_path=key_path, password=secret, requests_settings=requests_settings, domain=domain)
        except Exception as exc:  # noqa: BLE001 - the SDK's key errors can hold key text: map all, chain none
            failure = key_failure(exc, key_path, info)
        # Raised outside the except block so the SDK's exception (which may contain the key) is
        # neither the cause nor the context of ours.
        raise failure

    # -- the protocol -------------------------------------------------------------------------
    def describe(self) -> str:
        return f"encord {self.domain}"

    def close(self) -> None:
        with self._lock:
            self._projects.clear()
            self._dtos.clear()

    def operation_lock(self, name: str, *, timeout: float | None = None, on_wait: Any = None,
                       cancel: Any = None) -> Any:
        """A no-op: Encord offers no lock that another machine would see. Operators who share no lock
        are covered by provisioning's marker re-check before each create and its duplicate report
        after the run (``core.provisioning``); on one machine the state-dir lock serialises them."""
        return contextlib.nullcontext()

    @property
    def key_fingerprint(self) -> str | None:
        """The public fingerprint of the key this backend signs with (``SHA256:…``), never key text;
        None when the SDK does not expose the public key."""
        if self._token_id is not None:  # a bearer token: a digest of it names the workspace's caller
            return self._token_id
        try:
            public_key = getattr(self._client.user_config.config, "public_key", None)
        except AttributeError:
            return None
        return fingerprint(public_key) if public_key is not None else None

    def check(self) -> str:
        """One signed call (the first page of storage folders); returns the key's fingerprint."""
        with self._sdk("checking the connection"):
            next(iter(self._client.list_storage_folders(page_size=1)), None)
        if self.key_path is None:
            return self.auth
        public_key = getattr(self._client.user_config.config, "public_key", None)
        return f"SSH key {fingerprint(public_key)}" if public_key is not None else f"SSH key {self.key_path.name}"

    # -- storage ------------------------------------------------------------------------------
    def list_integrations(self) -> list[Integration]:
        with self._sdk("listing cloud integrations"):
            found = list(self._client.get_cloud_integrations())
        out = [Integration(id=str(i.id), title=i.title, provider=provider_from_title(i.title)) for i in found]
        return sorted(out, key=lambda i: i.title.casefold())

    def list_folders(self, *, search: str | None = None) -> list[Folder]:
        with self._sdk("listing storage folders"):
            found = list(self._client.find_storage_folders(search=search or None, page_size=1000))
        # every listed folder names its parent; path_to_root fills in parents that are not listed
        nodes = {str(f.uuid): (f.name, str(f.parent_uuid) if f.parent_uuid else None) for f in found}
        folders = [self._folder(f, nodes) for f in found]
        if search:
            needle = search.casefold()
            folders = [f for f in folders if needle in f.name.casefold()]
        return sorted(folders, key=lambda f: f.path.casefold())

    @staticmethod
    def _folder(f: Any, nodes: dict[str, tuple[str, str | None]] | None = None) -> Folder:
        """A Folder with its path, walked up through ``nodes`` (id -> name, parent) and path_to_root."""
        nodes = dict(nodes or {})
        for el in f.path_to_root or []:
            nodes.setdefault(str(el.uuid), (el.name, str(el.parent_uuid) if el.parent_uuid else None))
        nodes[str(f.uuid)] = (f.name, str(f.parent_uuid) if f.parent_uuid else None)
        parts: list[str] = []
        cur: str | None = str(f.uuid)
        seen: set[str] = set()
        while cur and cur in nodes and cur not in seen:
            seen.add(cur)
            name, cur = nodes[cur]
            parts.append(name)
        try:
            meta = f.client_metadata  # the SDK parses the JSON text here
        except ValueError:
            meta = None
        return Folder(id=str(f.uuid), name=f.name, description=f.description or "",
                      metadata=meta if isinstance(meta, dict) else {},
                      parent_id=str(f.parent_uuid) if f.parent_uuid else None,
                      path="/" + "/".join(reversed(parts)), item_count=None)

    def create_folder(self, name: str, *, description: str = "", metadata: dict[str, Any] | None = None,
                      parent_id: str | None = None) -> Folder:
        name = name.strip()
        if not name or "/" in name:
            raise InvalidInput(f"folder name {name!r} is not valid", hint="a non-empty name without '/'")
        refuse_hidden_characters(name, "folder name")  # never sent to a server, where it would show raw
        parent = _uuid(parent_id, "storage folder") if parent_id is not None else None
        with self._sdk(f"creating folder {name!r}"):
            folder = self._client.create_storage_folder(name, description=description or None,
                                                        client_metadata=metadata, parent_folder=parent)
        return self._folder(folder)

    def start_registration(self, folder_id: str, integration_id: str, manifest: dict[str, Any], *,
                           ignore_errors: bool = True) -> str:
        if not isinstance(manifest, dict):
            raise InvalidInput("the registration manifest must be a JSON object")
        integration = str(_uuid(integration_id, "integration"))
        with self._sdk(f"storage folder {folder_id}", before_acting=True):
            folder = self._client.get_storage_folder(_uuid(folder_id, "storage folder"))
        # A dict: the SDK also takes a path or a JSON string, but never an open file.
        with self._sdk("starting the registration job"):
            job = folder.add_private_data_to_folder_start(integration, dict(manifest), ignore_errors=ignore_errors)
        return str(job)

    def get_registration_result(self, folder_id: str, job_id: str, *,
                                timeout_seconds: float = 0.0) -> RegistrationResult:
        folder, job = _uuid(folder_id, "storage folder"), _uuid(job_id, "upload job")
        deadline = time.monotonic() + max(0.0, timeout_seconds)
        while True:
            started = time.monotonic()
            remaining = deadline - started
            # The server holds the request up to this long: keep it well inside the read timeout.
            wait = int(max(0.0, min(remaining, self.timeout / 2)))
            with self._sdk(f"upload job {job_id} of storage folder {folder_id}"):
                state = self._poll_upload_job(folder, job, wait)
            status = getattr(state.status, "value", state.status)
            remaining = deadline - time.monotonic()
            if status != "PENDING" or remaining <= 0:
                break
            pause = POLL_INTERVAL - (time.monotonic() - started)  # never poll faster than this
            if pause > 0:
                time.sleep(min(pause, remaining))
        return RegistrationResult(
            status={"DONE": JobStatus.DONE, "PENDING": JobStatus.PENDING}.get(status, JobStatus.FAILED),
            unit_errors=[UnitError(object_urls=list(e.object_urls), error=e.error) for e in state.unit_errors or []],
            errors=[str(e) for e in state.errors or []] + (["the job was cancelled"] if status == "CANCELLED" else []),
            items_created=len(state.items_with_names or []))

    def _poll_upload_job(self, folder: UUID, job: UUID, wait: int) -> Any:
        """One poll of an upload job (the server waits up to ``wait`` seconds for it to finish).

        ``StorageFolder.add_private_data_to_folder_get_result`` sleeps 10 s and retries by itself
        when a poll fails (up to 3 times), which would stall the caller and stack with the core's
        retries, so the same request is made here once.
        """
        return internals.poll_upload_job(self._client, folder, job, wait)

    def list_items(self, folder_id: str) -> list[Item]:
        with self._sdk(f"storage folder {folder_id}"):
            folder = self._client.get_storage_folder(_uuid(folder_id, "storage folder"))
            items = list(folder.list_items(include_client_metadata=False, page_size=1000))
        return [Item(id=str(i.uuid), name=i.name, item_type=i.item_type.name.lower(), url=i.url or "",
                     folder_id=str(i.parent_folder_uuid)) for i in items]

    # -- datasets ----------------------------------------------------------------------------
    def list_datasets(self) -> list[Dataset]:
        with self._sdk("listing datasets"):
            found = self._client.get_datasets()
        out = [Dataset(id=str(d["dataset"].dataset_hash), title=d["dataset"].title,
                       description=d["dataset"].description or "") for d in found]
        return sorted(out, key=lambda d: d.title.casefold())

    def create_dataset(self, title: str, *, description: str = "") -> Dataset:
        if not title.strip():
            raise InvalidInput("a dataset needs a title")
        from encord.orm.dataset import StorageLocation

        with self._sdk(f"creating dataset {title!r}"):
            made = self._client.create_dataset(title, StorageLocation.CORD_STORAGE, description,
                                               create_backing_folder=False)
        return Dataset(id=str(made.dataset_hash), title=title, description=description)

    def link_items(self, dataset_id: str, item_ids: Sequence[str]) -> int:
        """Link in chunks of ``LINK_ITEMS`` (a whole folder in one request grows without bound); items
        already linked are skipped (``DataLinkDuplicatesBehavior.SKIP``, the SDK's default since PR
        #623), so this is idempotent and a retried chunk links nothing twice."""
        ids = [_uuid(i, "storage item") for i in dict.fromkeys(item_ids)]
        key = str(_uuid(dataset_id, "dataset"))
        with self._sdk(f"dataset {dataset_id}", bulk=True):
            dataset = self._bulk.get_dataset(key, include_data_rows=False)
            for start in range(0, len(ids), LINK_ITEMS):
                dataset.link_items(ids[start:start + LINK_ITEMS])
            return len(dataset.list_data_rows())

    def list_data_rows(self, dataset_id: str) -> list[DataRow]:
        """The dataset's data units; each names its storage item by ``backing_item_uuid`` (a data
        unit has its own hash: linking an item creates a new data unit, PR #623)."""
        key = str(_uuid(dataset_id, "dataset"))
        with self._sdk(f"dataset {dataset_id}", bulk=True):
            rows = self._bulk.get_dataset(key).data_rows
        return [DataRow(data_hash=r.uid, title=r.title, data_type=_data_type(r.data_type), file_link=r.file_link or "",
                        item_id=_backing_item(r)) for r in rows]

    # -- ontologies, templates, projects -----------------------------------------------------
    def list_ontologies(self) -> list[Ontology]:
        with self._sdk("listing ontologies"):
            found = self._client.get_ontologies()
        out = []
        for entry in found:
            onto = entry["ontology"]
            out.append(Ontology(id=str(onto.ontology_hash), title=onto.title, objects=[
                ObjectClass(feature_hash=o.feature_node_hash, name=o.name, shape=str(getattr(o.shape, "value", o.shape)),
                            color=o.color or "#888888") for o in onto.structure.objects]))
        return sorted(out, key=lambda o: o.title.casefold())

    def list_workflow_templates(self) -> list[WorkflowTemplate]:
        """Encord has no call that lists templates: these are the ones named in config."""
        return [WorkflowTemplate(id=tid, title=title)
                for title, tid in sorted(self.settings.workflow_templates.items(), key=lambda kv: kv[0].casefold())]

    def list_projects(self, *, search: str | None = None, description_contains: str | None = None) -> list[Project]:
        """One paged listing; no per-project call (datasets and users: ``get_project``)."""
        with self._sdk("listing projects"):
            dtos = list(internals.iter_project_dtos(self._client))
        with self._lock:
            for dto in dtos:
                self._dtos[str(dto.project_hash)] = dto
        projects = [self._project_model(dto) for dto in dtos]
        if search:
            needle = search.casefold()
            projects = [p for p in projects if needle in p.title.casefold()]
        if description_contains is not None:
            projects = [p for p in projects if description_contains in p.description]
        return sorted(projects, key=lambda p: (p.created_at or datetime.min.replace(tzinfo=UTC), p.title))

    def _warn(self, message: str) -> None:
        with self._lock:
            if message not in self.warnings:
                self.warnings.append(message)

    @staticmethod
    def _project_model(dto: Any, *, datasets: list[str] | None = None, users: list[ProjectUser] | None = None,
                       refused: str | None = None) -> Project:
        workflow = getattr(dto, "workflow", None)
        stages = [Stage(title=st.title, kind=_stage_kind(st.stage_type), id=str(st.uuid))
                  for st in (workflow.stages if workflow else [])]
        return Project(id=str(dto.project_hash), title=dto.title, description=dto.description or "",
                       dataset_ids=datasets, users=None if users is None else sorted(users, key=lambda u: u.email.casefold()),
                       ontology_id=str(dto.ontology_hash) if dto.ontology_hash else None, template_id=None,
                       created_at=_utc(dto.created_at), stages=stages,
                       caller_role=_role_name(dto.user_role) if getattr(dto, "user_role", None) is not None else None,
                       details_refused=refused)

    def get_project(self, project_id: str, *, details: bool = True) -> Project:
        """``details=False``: one call (the project's row). With details: its datasets and users too;
        where Encord refuses them the project is returned without them (``details_refused``)."""
        key = str(_uuid(project_id, "project"))
        with self._sdk(f"project {project_id}"):
            dto = internals.project_dto(self._client, UUID(key))
        with self._lock:
            self._dtos[key] = dto
        if not details:
            return self._project_model(dto)
        refused: list[str] = []
        datasets = users = None
        denied = False
        try:
            project = self._sdk_project(key, fresh=True)
        except PermissionDenied as err:
            refused.append(err.message)
            denied, project = True, None
        except SdkCannotLoad as err:  # router stages: no role would help
            refused.append(err.message)
            project = None
        if project is not None:
            try:
                with self._sdk(f"the datasets of project {project_id}"):
                    datasets = [str(d.dataset_hash) for d in project.list_datasets()]
            except PermissionDenied as err:
                refused.append(err.message)
                denied = True
            try:
                with self._sdk(f"the users of project {project_id}"):
                    users = [ProjectUser(email=u.user_email, role=_role_name(u.user_role)) for u in project.list_users()]
            except PermissionDenied as err:
                refused.append(err.message)
                denied = True
        reason = "; ".join(refused) or None
        if reason:
            why = " (needs the project admin or team manager role)" if denied else ""
            self._warn(f"project '{shown(dto.title, limit=80)}' ({key}): {reason}{why}; shown without its datasets "
                       "or users")
        return self._project_model(dto, datasets=datasets, users=users, refused=reason)

    def _sdk_project(self, project_id: str, *, fresh: bool = False, bulk: bool = False) -> SdkProject:
        """The SDK's ``Project`` (public ``get_project``), on the bulk client for label-row calls."""
        key = str(_uuid(project_id, "project"))
        with self._lock:
            cached = None if fresh else self._projects.get((key, bulk))
        if cached is not None:
            return cached
        client = self._bulk if bulk else self._client
        with self._sdk(f"project {project_id}"):
            try:
                project = client.get_project(key)
            except AssertionError:  # the SDK's workflow loader rejects router stages
                raise SdkCannotLoad(f"project {project_id} cannot be used: its workflow has stages the encord "
                                    "SDK cannot load (router stages)",
                                    hint="remove the router stages or use another project") from None
        with self._lock:
            self._projects[(key, bulk)] = project
        return project

    def create_project(self, title: str, *, description: str, dataset_ids: Sequence[str], ontology_id: str,
                       template_id: str | None = None) -> Project:
        if not title.strip():
            raise InvalidInput("a project needs a title")
        what = f"creating project {title!r}" + (f" from workflow template {template_id}" if template_id else "")
        with self._sdk(what):
            pid = self._client.create_project(title, [str(d) for d in dataset_ids], description,
                                              ontology_hash=ontology_id, workflow_template_hash=template_id)
        project = self.get_project(str(pid))
        return project.replace(template_id=template_id)

    def add_users(self, project_id: str, emails: Iterable[str], role: str = "annotator") -> None:
        """Add users with a project-level role (``assign_tasks`` then gives them the stage's tasks).

        Users already in the project keep their role (Encord's rule, PR #889).
        """
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}", hint="one of " + ", ".join(ROLES))
        from encord.utilities.project_user import ProjectUserRole

        wanted = list(dict.fromkeys(e.strip() for e in emails if e.strip()))
        project = self._sdk_project(project_id)
        if not wanted:
            return
        with self._sdk(f"adding users to project {project_id}"):
            project.add_users(wanted, ProjectUserRole[role.upper()])

    def assign_tasks(self, project_id: str, email: str) -> int:
        """Assign each unassigned task of every Annotate-type stage (``AnnotationTask.assign``, bundled:
        encord/workflow/common.py ``WorkflowClient.action``); tasks someone holds are left."""
        from encord.workflow.stages.annotation import AnnotationStage

        project = self._sdk_project(project_id)
        assigned = 0
        with self._sdk(f"assigning the tasks of project {project_id} to {shown(email, limit=80)}"):
            for stage in project.workflow.stages:
                if not isinstance(stage, AnnotationStage):
                    continue
                free = [t for t in stage.get_tasks() if not t.assignee]
                for start in range(0, len(free), LINK_ITEMS):
                    with project.create_bundle() as bundle:
                        for task in free[start:start + LINK_ITEMS]:
                            task.assign(email, bundle=bundle)
                assigned += len(free)
        return assigned

    # -- labels -------------------------------------------------------------------------------
    def _kinds(self, project: Any) -> dict[str, str]:
        """Stage uuid → kind, from the project's workflow (``ProjectDTO.workflow.stages``)."""
        key = str(project.project_hash)
        with self._lock:
            dto = self._dtos.get(key)
        workflow = getattr(dto, "workflow", None) if dto is not None else None
        if workflow is None:
            instance = getattr(project, "_project_instance", None)
            workflow = getattr(instance, "workflow", None)
        return {str(st.uuid): _stage_kind(st.stage_type) for st in (workflow.stages if workflow else [])}

    def _listed(self, project: Any, *, stage: str | None = None, edited_after: datetime | None = None,
                done_only: bool = False, data_hashes: list[str] | None = None) -> list[tuple[Any, LabelRowInfo]]:
        kinds = self._kinds(project)
        done_titles = {st.title for st in project.workflow.stages if _stage_kind(st.stage_type) == "done"} \
            if done_only else set()
        title = stage
        if done_only and stage is None and len(done_titles) == 1:
            title = next(iter(done_titles))  # the server filters: one DONE stage is the usual case
        kwargs: dict[str, Any] = {"workflow_graph_node_title_eq": title, "edited_after": edited_after}
        if data_hashes is not None:
            kwargs["data_hashes"] = data_hashes
        rows = project.list_label_rows_v2(**kwargs)
        pairs = [(r, self._row_info(r, kinds)) for r in rows]
        return [(r, i) for r, i in pairs if i.done] if done_only else pairs

    def list_label_rows(self, project_id: str, *, stage: str | None = None,
                        edited_after: datetime | None = None, done_only: bool = False) -> list[LabelRowInfo]:
        project = self._sdk_project(project_id, bulk=True)
        with self._sdk(f"label rows of project {project_id}", bulk=True):
            return [info for _, info in self._listed(project, stage=stage, edited_after=edited_after,
                                                     done_only=done_only)]

    def list_done(self, project_id: str) -> dict[str, datetime | None]:
        return {i.data_hash: i.last_edited_at for i in self.list_label_rows(project_id, done_only=True)}

    def poll_label_rows(self, project_id: str, *, edited_after: datetime | None
                        ) -> tuple[list[LabelRowInfo], list[dict[str, Any]], dict[str, datetime | None]]:
        """The edits (one listing, one bundle) and the rows in a final stage (one listing)."""
        infos, rows = self.get_edited_label_rows(project_id, edited_after=edited_after)
        return infos, rows, self.list_done(project_id)

    def get_edited_label_rows(self, project_id: str, *, edited_after: datetime | None,
                              stage: str | None = None) -> tuple[list[LabelRowInfo], list[dict[str, Any]]]:
        """One listing of the rows edited since the last poll, then bundles initialising those in
        ``stage`` (None: a final stage); the rows listed are initialised as they are."""
        project = self._sdk_project(project_id, bulk=True)
        with self._sdk(f"label rows of project {project_id}", bulk=True):
            pairs = self._listed(project, edited_after=edited_after)
            wanted = [r for r, info in pairs if (info.stage == stage if stage is not None else info.done)]
            return [info for _, info in pairs], self._export(project, wanted)

    def get_label_rows(self, project_id: str, data_hashes: Sequence[str]) -> list[dict[str, Any]]:
        """The full rows, listed and initialised ``BUNDLE_ROWS`` at a time."""
        project = self._sdk_project(project_id, bulk=True)
        wanted = list(dict.fromkeys(data_hashes))
        out: list[dict[str, Any]] = []
        for start in range(0, len(wanted), BUNDLE_ROWS):
            with self._sdk(f"label rows of project {project_id}", bulk=True):
                pairs = self._listed(project, data_hashes=wanted[start:start + BUNDLE_ROWS])
                out.extend(self._export(project, [r for r, _ in pairs]))
        return out

    def _export(self, project: Any, rows: list[Any]) -> list[dict[str, Any]]:
        """Initialise ``rows`` in bundles of ``BUNDLE_ROWS`` and export each (``to_encord_dict``).

        Never writes: a row without a label hash was never opened, and ``initialise_labels`` would
        create it with ``create_label_rows`` (encord/objects/ontology_labels_impl.py); it is left out
        with one warning. A bundle answer may leave a row out (deleted between the listing and the
        fetch): the SDK then never initialises it (encord/http/bundle.py matches results by label
        hash) and ``to_encord_dict()`` would raise ``LabelRowError``; such rows are left out too."""
        unopened = [r for r in rows if not r.label_hash]
        if unopened:
            first = shown(unopened[0].data_title or unopened[0].data_hash, limit=80)
            self._warn(f"{len(unopened)} label row(s) in project '{shown(project.title, limit=80)}' were never opened "
                       f"(no labels), first '{first}': scored as rows with no objects, nothing created")
        todo = [r for r in rows if r.label_hash]
        # As the sandbox has them: a task moved on without labels is a row with no objects (its
        # benchmark objects are missed), built from the listing's metadata, never by a write.
        made: dict[int, dict[str, Any]] = {id(r): _empty_row(r) for r in unopened}
        for start in range(0, len(todo), BUNDLE_ROWS):
            chunk = todo[start:start + BUNDLE_ROWS]
            with project.create_bundle() as bundle:
                for row in chunk:
                    row.initialise_labels(bundle=bundle)
            ready = [row for row in chunk if getattr(row, "is_labelling_initialised", True)]
            if len(ready) != len(chunk):
                missing = [row for row in chunk if row not in ready]
                first = shown(getattr(missing[0], "data_title", "") or getattr(missing[0], "data_hash", ""), limit=80)
                self._warn(f"{len(missing)} label row(s) listed by Encord were not in its answer "
                           f"(deleted meanwhile?), first '{first}': left out; the next refresh looks again")
            made.update((id(row), row.to_encord_dict()) for row in ready)
        return [made[id(r)] for r in rows if id(r) in made]  # in the listing's order

    @staticmethod
    def _row_info(r: Any, kinds: dict[str, str] | None = None) -> LabelRowInfo:
        node = r.workflow_graph_node
        kind = (kinds or {}).get(str(node.uuid), "") if node is not None else ""
        return LabelRowInfo(label_hash=r.label_hash, data_hash=r.data_hash, data_title=r.data_title,
                            stage=node.title if node is not None else "", last_edited_at=_utc(r.last_edited_at),
                            stage_kind=kind)

    # -- error mapping ------------------------------------------------------------------------
    @contextmanager
    def _sdk(self, what: str, *, before_acting: bool = False, bulk: bool = False) -> Iterator[None]:
        """Map SDK and network failures inside the block to core errors about ``what``.

        ``before_acting``: the block only prepares a create, so a failure in it did not act.
        ``bulk``: the block's requests run on the bulk client (its timeout is named, and a timeout is
        tried ``TIMEOUT_ATTEMPTS`` times in all).
        """
        try:
            yield
        except AnnotrainError:
            raise
        except Exception as exc:
            err = self._translate(exc, what, bulk=bulk)
            if err is None:
                raise
            if isinstance(err, Transient) and before_acting:
                err.acted = False
            raise err from None

    def _translate(self, exc: Exception, what: str, *, bulk: bool = False) -> AnnotrainError | None:
        """The core error for an SDK or network failure (None: not a failure we know; re-raise it).

        Creates need no special case: every failure whose answer may have been lost (a server
        error, a dropped connection, a read timeout) is ``Transient(acted=None)``.
        """
        import requests
        from encord import exceptions as ex

        where = f"Encord at {self.domain}"
        trace = getattr(getattr(exc, "context", None), "trace_id", None)
        support = f"Encord trace id {trace}" if trace else None
        if isinstance(exc, ex.RateLimitExceededError):
            wait = exc.retry_after
            return RateLimited(f"{where} is rate limiting requests ({what})", retry_after=wait,
                               hint=f"it asked to wait {wait}s" if wait else "wait a little and try again")
        if isinstance(exc, (ex.AuthenticationError, ex.SshKeyNotFound, ex.DuplicateSshKeyError)):
            if self.key_path is None:
                return AuthFailed(f"{where} did not accept the {self.auth} in {TOKEN_ENV}",
                                  hint=f"get a new token, or check the domain: {DOMAIN_HINT}")
            return AuthFailed(f"{where} did not accept the SSH key {self.key_path}",
                              hint="add its public key to your Encord profile (Settings > Public keys), check "
                                   f"the domain ({DOMAIN_HINT}) and that this machine's clock is right "
                                   "(requests are signed with the time)")
        if isinstance(exc, (ex.AuthorisationError, ex.OperationNotAllowed)):
            if what.startswith(("listing ", "checking ")):
                return PermissionDenied(f"Encord refused {what} with this key",
                                        hint="ask a workspace admin for access")
            # Encord answers 403 for what does not exist as well as for what is not shared (the SDK
            # documents AuthorisationError for get_storage_folder): say both.
            return PermissionDenied(f"no access to {what} (or it does not exist)",
                                    hint="check the id, or ask a workspace or project admin for access")
        if isinstance(exc, ex.ResourceNotFoundError) and what.startswith("creating "):
            return NotFound(f"{what}: Encord does not know one of the ids it names (the ontology, a dataset or "
                            "the workflow template)",
                            hint="check workflow_templates in config (the preflight checks list what they can)",
                            see="doctor")
        if isinstance(exc, ex.ResourceNotFoundError):
            return NotFound(f"{what} not found on Encord", hint="check the id, or that you have access to it")
        if isinstance(exc, ex.ResourceExistsError):
            return Conflict(f"{what}: it already exists on Encord")
        if isinstance(exc, (ex.InvalidArgumentsError, ex.PayloadTooLargeError, ex.InvalidDateFormatError)):
            return InvalidInput(f"Encord rejected {what}: {_one_line(exc.message)}", hint=support)
        if isinstance(exc, ex.TimeOutError):
            return Transient(f"{where} did not answer in time ({what})", acted=None, attempts=TIMEOUT_ATTEMPTS)
        if isinstance(exc, ex.MultiLabelLimitError):
            return InvalidInput(f"Encord refused {what}: too many label rows in one request",
                                hint=f"lower BUNDLE_ROWS ({BUNDLE_ROWS}); please report this")
        if isinstance(exc, (ex.LabelRowError, ex.DatasetError, ex.OntologyError)):
            return AnnotrainError(f"Encord's answer could not be used ({what}): {_one_line(exc.message)}",
                                  hint="run it again; if it persists, report it with this line")
        if isinstance(exc, ex.UnknownException):
            return Transient(f"{where} reported a server error ({what})", hint=support, acted=None)
        cause = _requests_failure(exc)
        if cause is not None:
            return self._network_error(cause, what, bulk=bulk)
        if isinstance(exc, ex.RequestException):  # e.g. an HTML page: the web app's domain, or a proxy
            return Transient(f"{where} sent an answer that could not be read ({what})",
                             hint=f"is encord_domain the API's? {DOMAIN_HINT} (not app.encord.com); "
                                  "or a proxy or an outage in between", acted=None, attempts=2)
        if isinstance(exc, (ex.GenericServerError, ex.MethodNotAllowedError, ex.WrongProjectTypeError,
                            ex.CorruptedLabelError, ex.MultiLabelLimitError)):
            return AnnotrainError(f"Encord refused {what}: {_one_line(exc.message)}", hint=support)
        if isinstance(exc, ex.EncordException):  # e.g. an answer this SDK version cannot parse
            return AnnotrainError(f"unexpected answer from Encord ({what})",
                                  hint="the installed encord SDK may be too old for the server: pip install -U encord")
        if isinstance(exc, requests.exceptions.RequestException):  # pragma: no cover - handled above
            return self._network_error(exc, what)
        if _raised_in_sdk(exc):
            # Raised inside the SDK and of no kind above (a KeyError, a TypeError, a bare Exception
            # "Convert failed"): it could not read an answer, which is what is unexpected. Logged with its traceback, shown as one line.
            _log.debug("the encord SDK could not read an answer (%s)", what, exc_info=exc)
            return AnnotrainError(f"unexpected answer from Encord ({what}): the SDK could not read it "
                                  f"({type(exc).__name__})",
                                  hint="the installed encord SDK may not match the server: pip install -U 'encord<0.2'; "
                                       "if it persists, report it with this line")
        return None

    def _network_error(self, exc: BaseException, what: str, *, bulk: bool = False) -> AnnotrainError:
        where = f"Encord at {self.domain}"
        kind = _network_kind(exc)
        if kind == "tls":
            return AnnotrainError(f"TLS failure talking to {where}",
                                  hint="check the domain, or point REQUESTS_CA_BUNDLE at your CA certificates")
        if kind == "connect":
            return Transient(f"cannot reach {where} ({what})", hint="is the network up and the domain right?",
                             acted=False)
        if kind == "timeout":
            limit, setting = (self.bulk_timeout, "bulk_timeout") if bulk else (self.timeout, "request_timeout")
            return Transient(f"{where} did not answer within {limit:g}s ({what})",
                             hint=f"raise {setting} in config for slow links", acted=None,
                             attempts=TIMEOUT_ATTEMPTS)
        if kind == "dropped":
            return Transient(f"the connection to {where} dropped ({what})", acted=None)
        return Transient(f"request to {where} failed ({what})", acted=None)


def _requests_settings(t: float) -> Any:
    """The SDK's own retries off (``core.retry`` retries), timeouts ``t``."""
    from encord.http.constants import RequestsSettings

    return RequestsSettings(max_retries=0, backoff_factor=0.0, connection_retries=0,
                            connect_timeout=min(t, 10.0), read_timeout=t, write_timeout=t)  # type: ignore[arg-type]


def _uuid(value: str | None, kind: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"no {kind} {value!r}", hint=f"an Encord {kind} id looks like "
                       "01234567-89ab-cdef-0123-456789abcdef") from None


def _role_name(role: Any) -> str:
    """admin, team_manager, reviewer, annotator, annotator_reviewer, viewer (or unknown)."""
    return str(getattr(role, "name", role)).lower()


def _quiet_sdk_logs() -> None:
    """The SDK logs its own errors (with tracebacks) on loggers without handlers, which Python then
    prints on stderr (``logging.lastResort``). annotrain says each failure in one line: the SDK's
    records go where annotrain's own go (the log file, when the front set one up), never raw to the
    terminal."""
    sdk = logging.getLogger("encord")
    if not any(isinstance(h, logging.NullHandler) for h in sdk.handlers):
        sdk.addHandler(logging.NullHandler())


def _raised_in_sdk(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside the encord package (its innermost frame)."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    filename = last.tb_frame.f_code.co_filename if last is not None else ""
    return f"{os.sep}encord{os.sep}" in filename


def _empty_row(r: Any) -> dict[str, Any]:
    """A label row with no labels, in ``to_encord_dict``'s shape, from a listed row's metadata."""
    data_type = str(getattr(r.data_type, "value", r.data_type) or "image").lower()
    unit = {"data_hash": r.data_hash, "data_title": r.data_title, "data_type": data_type, "labels": {},
            "width": getattr(r, "width", None), "height": getattr(r, "height", None)}
    return {"label_hash": None, "data_hash": r.data_hash, "data_title": r.data_title, "data_type": data_type,
            "dataset_hash": str(getattr(r, "dataset_hash", "") or ""), "label_status": "NOT_LABELLED",
            "object_answers": {}, "classification_answers": {}, "object_actions": {},
            "data_units": {r.data_hash: unit}}


def _stage_kind(stage_type: Any) -> str:
    """A ``WorkflowStageType`` as a ``models.Stage`` kind: its value lower-cased (annotation, review,
    done, consensus_annotation, user_router, ...)."""
    return str(getattr(stage_type, "value", stage_type)).lower()


def _backing_item(row: Any) -> str | None:
    """The storage item behind a dataset's data row (``DataRow.backing_item_uuid``), if the SDK has it."""
    try:
        value = row.backing_item_uuid
    except (AttributeError, KeyError):
        return None
    return str(value) if value else None


def _data_type(data_type: Any) -> str:
    value = str(getattr(data_type, "value", data_type)).lower()
    return {"img_group": "image_group", "dicom": "dicom_series"}.get(value, value)


__all__ = ["EncordBackend", "provider_from_title"]
