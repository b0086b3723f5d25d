"""EncordBackend: the Backend protocol over the real ``encord`` SDK.

The SDK is imported lazily (``connect``), it costs ~0.5 s. What the adapter has to know about it:

- Creating a client checks nothing; :meth:`EncordBackend.check` makes one cheap signed call.
- Listings are lazy and paged: errors surface while iterating, so every listing is consumed inside
  the error-mapping block.
- The SDK's own retries are switched off and its timeouts set to ``settings.request_timeout``:
  retrying is the job of ``core.retry``. Creates are never retried here; a failure whose answer
  may have been lost is ``Transient(acted=None)`` so the retry layer looks before it retries.
- SDK exceptions become core errors with a message a user can act on. Key-parsing errors can
  contain the key text, so they are never shown, logged or chained (not even as ``__context__``).
- There is no call that lists workflow templates (they come from ``settings.workflow_templates``)
  and none that gives an integration's provider (it is read from the integration's title, see
  :func:`provider_from_title`).
- A project whose workflow has router stages cannot be loaded by the SDK: listings skip it and
  say so in :attr:`EncordBackend.warnings`.
- One SDK internal is used, the client's ``_api_client``: to read project pages one project at a
  time (so one unloadable project does not end the listing) and to poll an upload job once
  (the SDK's own poll loop sleeps 10 s between failures). Both fall back to the public calls if
  the SDK's layout changes; tested with encord 0.1.205 and 0.1.211.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import importlib.util
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from annotrain_tui.core.config import DOMAIN_HINT, Settings, check_domain, key_path_from_text
from annotrain_tui.core.text import shown
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
    UnitError,
    WorkflowTemplate,
)

if TYPE_CHECKING:  # pragma: no cover
    from encord.project import Project as SdkProject
    from encord.user_client import EncordUserClient

DEFAULT_DOMAIN = "https://api.encord.com"
KEY_FILE_ENV = "ENCORD_SSH_KEY_FILE"
PASSPHRASE_ENV = "ENCORD_SSH_KEY_PASSPHRASE"
ROLES = ("admin", "team_manager", "reviewer", "annotator", "annotator_reviewer")
ROUTER_STAGES = frozenset({"USER_ROUTER", "PERCENTAGE_ROUTER"})
MAX_KEY_BYTES = 64 * 1024
#: Seconds between polls of a registration job that is still pending.
POLL_INTERVAL = 0.5
#: Concurrent per-project detail fetches (datasets, users) in ``list_projects``.
DETAIL_WORKERS = 4

#: A passphrase: the text itself, or a callback asked with the key path (None: not given).
PassphraseSource = str | Callable[[Path], str | None] | None

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
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _one_line(text: object, limit: int = 200) -> str:
    """Server-provided text as one short line (shown as data, never interpreted)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- the key file ------------------------------------------------------------------------------
_OPENSSH_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----"
_OPENSSH_END = "-----END OPENSSH PRIVATE KEY-----"


class _KeyInfo:
    """What the key file's unencrypted header says (no secret is read or kept)."""

    def __init__(self, encrypted: bool, key_type: str) -> None:
        self.encrypted = encrypted
        self.key_type = key_type


def _read_string(blob: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 4 > len(blob):
        raise ValueError
    n = int.from_bytes(blob[pos:pos + 4], "big")
    if pos + 4 + n > len(blob):
        raise ValueError
    return blob[pos + 4:pos + 4 + n], pos + 4 + n


def _inspect_key(text: str, path: Path) -> _KeyInfo:
    """Check the file is an OpenSSH private key and read its cipher and key type.

    Errors name the file and the problem, never the content.
    """
    hint = "Encord needs an Ed25519 key in OpenSSH format (ssh-keygen -t ed25519)"
    if _OPENSSH_BEGIN not in text:
        if re.search(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-\S+) AAAA", text.lstrip(), re.MULTILINE):
            raise InvalidInput(f"SSH key file {path} holds a public key", hint="give the private key file "
                               "(the one without .pub)")
        if "PRIVATE KEY-----" in text:
            raise InvalidInput(f"SSH key file {path} is not in OpenSSH format", hint=hint)
        raise InvalidInput(f"{path} is not an SSH private key file", hint=hint)
    body = text.split(_OPENSSH_BEGIN, 1)[1].split(_OPENSSH_END, 1)[0]
    key_type: bytes | None = None
    cipher = b""
    try:
        blob = base64.b64decode("".join(body.split()), validate=True)
        magic = b"openssh-key-v1\x00"
        if blob.startswith(magic):
            cipher, pos = _read_string(blob, len(magic))
            _kdf, pos = _read_string(blob, pos)
            _kdf_options, pos = _read_string(blob, pos)
            pos += 4  # number of keys
            public, pos = _read_string(blob, pos)
            key_type, _ = _read_string(public, 0)
    except (ValueError, binascii.Error):
        key_type = None
    # raised here, not in the except block: key errors never carry another exception along
    if key_type is None:
        raise InvalidInput(f"SSH key file {path} is damaged (not a readable OpenSSH private key)", hint=hint)
    kind = key_type.decode("ascii", "replace")
    if kind != "ssh-ed25519":
        raise InvalidInput(f"SSH key file {path} holds a {shown(kind, limit=40)} key, not an Ed25519 key",
                           hint=hint)
    return _KeyInfo(encrypted=cipher != b"none", key_type=kind)


def _read_key_file(path: Path) -> str:
    """The key file's text; failures name the file and the reason (errors are not chained)."""
    problem: AnnotrainError | None = None
    data = b""
    try:
        if path.is_dir():
            problem = UnreadableInput(f"SSH key file {path} is a directory, expected a file")
        else:
            with path.open("rb") as fh:
                data = fh.read(MAX_KEY_BYTES + 1)
    except FileNotFoundError:
        problem = UnreadableInput(f"SSH key file {path} does not exist",
                                  hint="pass --ssh-key PATH or run 'annotrain config set ssh_key_path PATH'")
    except PermissionError:
        problem = UnreadableInput(f"SSH key file {path}: permission denied")
    except OSError as exc:
        problem = UnreadableInput(f"SSH key file {path} cannot be read ({exc.strerror or type(exc).__name__})")
    if problem is None and len(data) > MAX_KEY_BYTES:
        problem = InvalidInput(f"{path} is not an SSH private key file (far too large)")
    if problem is None and not data.isascii():
        problem = InvalidInput(f"{path} is not an SSH private key file (not text)")
    if problem is not None:
        raise problem
    return data.decode("ascii")


def _fingerprint(public_key: Any) -> str:
    """OpenSSH-style SHA256 fingerprint of a public key (what Encord's key settings show)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    blob = public_key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).split()[1]
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _resolve_passphrase(source: PassphraseSource, path: Path) -> str | None:
    if isinstance(source, str):
        return source or None
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    if callable(source):
        return source(path) or None
    return None


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

    def __init__(self, client: "EncordUserClient", *, domain: str, settings: Settings,
                 key_path: Path) -> None:
        self._client = client
        self.domain = domain
        self.settings = settings
        self.key_path = key_path
        self.timeout = settings.request_timeout
        #: Problems found while listing (e.g. projects the SDK cannot load), for the fronts to show.
        self.warnings: list[str] = []
        self._projects: dict[str, SdkProject] = {}
        self._lock = threading.Lock()

    # -- connecting ---------------------------------------------------------------------------
    @classmethod
    def connect(cls, settings: Settings, *, passphrase: PassphraseSource = None) -> "EncordBackend":
        """Create the SDK client from the key file (nothing is checked on the server yet).

        ``passphrase`` (text, or a callback asked with the key path) unlocks an encrypted key;
        ``ENCORD_SSH_KEY_PASSPHRASE`` is used before the callback. It is handed to the SDK and
        not kept.
        """
        key_path = settings.ssh_key_path
        if key_path is None and os.environ.get(KEY_FILE_ENV):
            key_path = key_path_from_text(os.environ[KEY_FILE_ENV], source=KEY_FILE_ENV)
        if key_path is None:
            raise UsageError("the encord backend needs an SSH key", hint=f"pass --ssh-key PATH, set {KEY_FILE_ENV} "
                             "or run 'annotrain config set ssh_key_path PATH'")
        domain = _check_domain(settings.encord_domain or DEFAULT_DOMAIN)
        info = _inspect_key(_read_key_file(key_path), key_path)
        secret: str | None = None
        if info.encrypted:
            if importlib.util.find_spec("bcrypt") is None:
                raise ConfigError(f"SSH key {key_path} is protected by a passphrase and reading such keys needs "
                                  "the 'bcrypt' package", hint="pip install bcrypt")
            secret = _resolve_passphrase(passphrase, key_path)
            if not secret:
                raise AuthFailed(f"SSH key {key_path} is protected by a passphrase and none was given",
                                 hint=f"set {PASSPHRASE_ENV} or use a key without a passphrase")
        client = cls._create_client(settings, key_path, domain, secret, info)
        return cls(client, domain=domain, settings=settings, key_path=key_path)

    @staticmethod
    def _create_client(settings: Settings, key_path: Path, domain: str, secret: str | None,
                       info: _KeyInfo) -> "EncordUserClient":
        from encord.http.constants import RequestsSettings
        from encord.user_client import EncordUserClient

        t = settings.request_timeout
        requests_settings = RequestsSettings(
            max_retries=0, backoff_factor=0.0, connection_retries=0,
            connect_timeout=min(t, 10.0), read_timeout=t, write_timeout=t)  # type: ignore[arg-type]
        try:
            return EncordUserClient.create_with_ssh_private_key(
                ssh_private_key_path=key_path, password=secret, requests_settings=requests_settings, domain=domain)
        except Exception as exc:  # noqa: BLE001 - the SDK's key errors can hold key text: map all, chain none
            failure = _key_failure(exc, key_path, info)
        # Raised outside the except block so the SDK's exception (which may contain the key) is
        # neither the cause nor the context of ours.
        raise failure

    # -- the protocol -------------------------------------------------------------------------
    def describe(self) -> str:
        return f"encord {self.domain}"

    def close(self) -> None:
        with self._lock:
            self._projects.clear()

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
        try:
            public_key = getattr(self._client.user_config.config, "public_key", None)
        except AttributeError:
            return None
        return _fingerprint(public_key) if public_key is not None else None

    def check(self) -> str:
        """One signed call (the first page of storage folders); returns the key's fingerprint."""
        with self._sdk("checking the connection"):
            next(iter(self._client.list_storage_folders(page_size=1)), None)
        public_key = getattr(self._client.user_config.config, "public_key", None)
        return f"SSH key {_fingerprint(public_key)}" if public_key is not None else f"SSH key {self.key_path.name}"

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
        from encord.orm.storage import GetUploadJobParams, UploadLongPollingState

        api = getattr(self._client, "_api_client", None)
        if api is None:  # pragma: no cover - SDK layout changed: the SDK's own (slower) polling
            return self._client.get_storage_folder(folder).add_private_data_to_folder_get_result(
                job, timeout_seconds=wait)
        return api.get(f"storage/folders/{folder}/data-upload-jobs/{job}",
                       params=GetUploadJobParams(timeout_seconds=wait), result_type=UploadLongPollingState)

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
        ids = [_uuid(i, "storage item") for i in dict.fromkeys(item_ids)]
        key = str(_uuid(dataset_id, "dataset"))
        with self._sdk(f"dataset {dataset_id}"):
            dataset = self._client.get_dataset(key, include_data_rows=False)
            if ids:  # duplicates are skipped (the SDK's default), so this is idempotent
                dataset.link_items(ids)
            return len(dataset.list_data_rows())

    def list_data_rows(self, dataset_id: str) -> list[DataRow]:
        key = str(_uuid(dataset_id, "dataset"))
        with self._sdk(f"dataset {dataset_id}"):
            rows = self._client.get_dataset(key).data_rows
        return [DataRow(data_hash=r.uid, title=r.title, data_type=_data_type(r.data_type), file_link=r.file_link or "")
                for r in rows]

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
        with self._sdk("listing projects"):
            loaded = list(self._iter_projects())
        if search:
            needle = search.casefold()
            loaded = [p for p in loaded if needle in p.title.casefold()]
        if description_contains is not None:  # before the per-project calls for users and datasets
            loaded = [p for p in loaded if description_contains in (p.description or "")]
        with ThreadPoolExecutor(max_workers=DETAIL_WORKERS) as pool:
            projects = list(pool.map(self._project_model, loaded))
        return sorted(projects, key=lambda p: (p.created_at or datetime.min.replace(tzinfo=timezone.utc), p.title))

    def _iter_projects(self) -> Iterator["SdkProject"]:
        """Every project the SDK can load; one whose workflow it cannot load is skipped with a warning.

        ``EncordUserClient.list_projects`` is a generator that dies on such a project (taking the
        rest of the listing with it), so the pages are read here and each project built alone.
        """
        api = getattr(self._client, "_api_client", None)
        config = getattr(getattr(self._client, "user_config", None), "config", None)
        if api is None or config is None:  # pragma: no cover - SDK layout changed: no skipping
            yield from self._client.list_projects()
            return
        from encord.client import EncordClientProject
        from encord.constants.string_constants import TYPE_PROJECT
        from encord.http.querier import Querier
        from encord.orm.project import ProjectDTO, ProjectFilterParams
        from encord.project import Project as SdkProject

        for dto in api.get_paged_iterator("projects", params=ProjectFilterParams(), result_type=ProjectDTO):
            try:
                querier = Querier(config, resource_type=TYPE_PROJECT, resource_id=str(dto.project_hash))
                client = EncordClientProject(querier=querier, config=config, api_client=api)
                project = SdkProject(client=client, project_instance=dto, ontology=None, api_client=api)
            except (AssertionError, ValueError, TypeError):
                self._warn(f"project {dto.title!r} ({dto.project_hash}) was skipped: {self._unloadable(dto)}")
                continue
            with self._lock:
                self._projects[str(dto.project_hash)] = project
            yield project

    @staticmethod
    def _unloadable(dto: Any) -> str:
        stages = [getattr(s.stage_type, "value", str(s.stage_type)) for s in (dto.workflow.stages if dto.workflow else [])]
        if any(s in ROUTER_STAGES for s in stages):
            return "its workflow has router stages, which the encord SDK cannot load"
        return "the encord SDK cannot load its workflow"

    def _warn(self, message: str) -> None:
        with self._lock:
            if message not in self.warnings:
                self.warnings.append(message)

    def _project_model(self, project: "SdkProject") -> Project:
        pid = str(project.project_hash)
        with self._sdk(f"project {pid}"):
            datasets = [str(d.dataset_hash) for d in project.list_datasets()]
            users = [ProjectUser(email=u.user_email, role=_role_name(u.user_role)) for u in project.list_users()]
        return Project(id=pid, title=project.title, description=project.description or "", dataset_ids=datasets,
                       ontology_id=str(project.ontology_hash) if project.ontology_hash else None, template_id=None,
                       users=sorted(users, key=lambda u: u.email.casefold()), created_at=_utc(project.created_at))

    def _sdk_project(self, project_id: str, *, fresh: bool = False) -> "SdkProject":
        key = str(_uuid(project_id, "project"))
        with self._lock:
            cached = None if fresh else self._projects.get(key)
        if cached is not None:
            return cached
        with self._sdk(f"project {project_id}"):
            try:
                project = self._client.get_project(key)
            except AssertionError:  # the SDK's workflow loader rejects router stages
                raise AnnotrainError(f"project {project_id} cannot be used: its workflow has stages the encord "
                                     "SDK cannot load (router stages)",
                                     hint="remove the router stages or use another project") from None
        with self._lock:
            self._projects[key] = project
        return project

    def get_project(self, project_id: str) -> Project:
        return self._project_model(self._sdk_project(project_id, fresh=True))

    def create_project(self, title: str, *, description: str, dataset_ids: Sequence[str], ontology_id: str,
                       template_id: str | None = None) -> Project:
        if not title.strip():
            raise InvalidInput("a project needs a title")
        with self._sdk(f"creating project {title!r}"):
            pid = self._client.create_project(title, [str(d) for d in dataset_ids], description,
                                              ontology_hash=ontology_id, workflow_template_hash=template_id)
        project = self.get_project(str(pid))
        return project.model_copy(update={"template_id": template_id})

    def add_users(self, project_id: str, emails: Iterable[str], role: str = "annotator") -> None:
        """Add users with a project-level role (Encord has no per-stage assignment in the SDK).

        Users already in the project keep their role (Encord's rule).
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

    # -- labels -------------------------------------------------------------------------------
    def list_label_rows(self, project_id: str, *, stage: str | None = None,
                        edited_after: datetime | None = None) -> list[LabelRowInfo]:
        project = self._sdk_project(project_id)
        with self._sdk(f"label rows of project {project_id}"):
            rows = project.list_label_rows_v2(workflow_graph_node_title_eq=stage, edited_after=edited_after)
        return [self._row_info(r) for r in rows]

    def get_edited_label_rows(self, project_id: str, *, edited_after: datetime | None,
                              stage: str = "Complete") -> tuple[list[LabelRowInfo], list[dict[str, Any]]]:
        """One listing of the rows edited since the last poll, then one bundle initialising those in
        ``stage`` (the rows listed are initialised as they are: no second listing by data hash)."""
        project = self._sdk_project(project_id)
        with self._sdk(f"label rows of project {project_id}"):
            rows = project.list_label_rows_v2(edited_after=edited_after)
            infos = [self._row_info(r) for r in rows]
            wanted = [r for r, info in zip(rows, infos) if info.stage == stage]
            wanted = self._initialise(project, wanted)
            return infos, [row.to_encord_dict() for row in wanted]

    def _initialise(self, project: Any, rows: list[Any]) -> list[Any]:
        """Fetch the labels of listed rows in one bundle (the SDK sends up to 1,000 rows a request);
        the rows it initialised, in order.

        A bundle answer may leave a row out (deleted between the listing and the fetch): the SDK then
        never calls that row's handler (encord/http/bundle.py BundleResultMapper: results are matched
        by label hash), so the row stays uninitialised and ``to_encord_dict()`` would raise
        ``LabelRowError``. Such rows are left out, with one warning, never a raw SDK error."""
        if not rows:
            return []
        with project.create_bundle() as bundle:
            for row in rows:
                row.initialise_labels(bundle=bundle)
        ready = [row for row in rows if getattr(row, "is_labelling_initialised", True)]
        if len(ready) != len(rows):
            missing = [row for row in rows if row not in ready]
            first = shown(getattr(missing[0], "data_title", "") or getattr(missing[0], "data_hash", ""), limit=80)
            self.warnings.append(f"{len(missing)} label row(s) listed by Encord were not in its answer "
                                 f"(deleted meanwhile?), first '{first}': left out; the next refresh looks again")
        return ready

    @staticmethod
    def _row_info(r: Any) -> LabelRowInfo:
        node = r.workflow_graph_node
        return LabelRowInfo(label_hash=r.label_hash, data_hash=r.data_hash, data_title=r.data_title,
                            stage=node.title if node is not None else "", last_edited_at=_utc(r.last_edited_at))

    def get_label_rows(self, project_id: str, data_hashes: Sequence[str]) -> list[dict[str, Any]]:
        """Initialise (in one bundle per chunk) and export each row as ``to_encord_dict()``.

        A row that was never opened has no labels yet: initialising creates it, as Encord does.
        """
        project = self._sdk_project(project_id)
        wanted = list(dict.fromkeys(data_hashes))
        out: list[dict[str, Any]] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            with self._sdk(f"label rows of project {project_id}"):
                rows = project.list_label_rows_v2(data_hashes=chunk)
                rows = self._initialise(project, rows)
                out.extend(row.to_encord_dict() for row in rows)
        return out

    # -- error mapping ------------------------------------------------------------------------
    @contextmanager
    def _sdk(self, what: str, *, before_acting: bool = False) -> Iterator[None]:
        """Map SDK and network failures inside the block to core errors about ``what``.

        ``before_acting``: the block only prepares a create, so a failure in it did not act.
        """
        try:
            yield
        except AnnotrainError:
            raise
        except Exception as exc:
            err = self._translate(exc, what)
            if err is None:
                raise
            if isinstance(err, Transient) and before_acting:
                err.acted = False
            raise err from None

    def _translate(self, exc: Exception, what: str) -> AnnotrainError | None:
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
            return AuthFailed(f"{where} did not accept the SSH key {self.key_path}",
                              hint="add its public key to your Encord profile (Settings > Public keys) or check "
                                   f"the domain: {DOMAIN_HINT}")
        if isinstance(exc, (ex.AuthorisationError, ex.OperationNotAllowed)):
            return PermissionDenied(f"no access to {what}", hint="ask a workspace or project admin for access")
        if isinstance(exc, ex.ResourceNotFoundError):
            return NotFound(f"{what} not found on Encord", hint="check the id, or that you have access to it")
        if isinstance(exc, ex.ResourceExistsError):
            return Conflict(f"{what}: it already exists on Encord")
        if isinstance(exc, (ex.InvalidArgumentsError, ex.PayloadTooLargeError, ex.InvalidDateFormatError)):
            return InvalidInput(f"Encord rejected {what}: {_one_line(exc.message)}", hint=support)
        if isinstance(exc, ex.TimeOutError):
            return Transient(f"{where} did not answer in time ({what})", acted=None)
        if isinstance(exc, ex.UnknownException):
            return Transient(f"{where} reported a server error ({what})", hint=support, acted=None)
        cause = _requests_failure(exc)
        if cause is not None:
            return self._network_error(cause, what)
        if isinstance(exc, ex.RequestException):  # e.g. an HTML error page from a proxy
            return Transient(f"{where} sent an answer that could not be read ({what})",
                             hint="a proxy or an outage in between?", acted=None)
        if isinstance(exc, (ex.GenericServerError, ex.MethodNotAllowedError, ex.WrongProjectTypeError,
                            ex.CorruptedLabelError, ex.MultiLabelLimitError)):
            return AnnotrainError(f"Encord refused {what}: {_one_line(exc.message)}", hint=support)
        if isinstance(exc, ex.EncordException):  # e.g. an answer this SDK version cannot parse
            return AnnotrainError(f"unexpected answer from Encord ({what})",
                                  hint="the installed encord SDK may be too old for the server: pip install -U encord")
        if isinstance(exc, requests.exceptions.RequestException):  # pragma: no cover - handled above
            return self._network_error(exc, what)
        return None

    def _network_error(self, exc: BaseException, what: str) -> AnnotrainError:
        where = f"Encord at {self.domain}"
        kind = _network_kind(exc)
        if kind == "tls":
            return AnnotrainError(f"TLS failure talking to {where}",
                                  hint="check the domain, or point REQUESTS_CA_BUNDLE at your CA certificates")
        if kind == "connect":
            return Transient(f"cannot reach {where} ({what})", hint="is the network up and the domain right?",
                             acted=False)
        if kind == "timeout":
            return Transient(f"{where} did not answer within {self.timeout:g}s ({what})",
                             hint="raise request_timeout in config for slow links", acted=None)
        if kind == "dropped":
            return Transient(f"the connection to {where} dropped ({what})", acted=None)
        return Transient(f"request to {where} failed ({what})", acted=None)


def _key_failure(exc: Exception, path: Path, info: _KeyInfo) -> AnnotrainError:
    """One clear error for a key the SDK could not load, without any of the exception's text."""
    from cryptography.exceptions import UnsupportedAlgorithm

    if isinstance(exc, FileNotFoundError):
        return UnreadableInput(f"SSH key file {path} does not exist")
    if isinstance(exc, PermissionError):
        return UnreadableInput(f"SSH key file {path}: permission denied")
    if isinstance(exc, UnicodeDecodeError):
        return InvalidInput(f"{path} is not an SSH private key file (not text)")
    if isinstance(exc, UnsupportedAlgorithm):
        return ConfigError(f"SSH key {path} needs the 'bcrypt' package to be read", hint="pip install bcrypt")
    if info.encrypted and isinstance(exc, (ValueError, TypeError)):
        return AuthFailed(f"wrong passphrase for SSH key {path}")
    if isinstance(exc, OSError):
        return UnreadableInput(f"SSH key file {path} cannot be read")
    return InvalidInput(f"SSH key file {path} could not be loaded as an Ed25519 private key",
                        hint="Encord needs an Ed25519 key in OpenSSH format (ssh-keygen -t ed25519)")


def _uuid(value: str | None, kind: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"no {kind} {value!r}", hint=f"an Encord {kind} id looks like "
                       "01234567-89ab-cdef-0123-456789abcdef") from None


def _role_name(role: Any) -> str:
    """admin, team_manager, reviewer, annotator, annotator_reviewer, viewer (or unknown)."""
    return str(getattr(role, "name", role)).lower()


def _data_type(data_type: Any) -> str:
    value = str(getattr(data_type, "value", data_type)).lower()
    return {"img_group": "image_group", "dicom": "dicom_series"}.get(value, value)


__all__ = ["EncordBackend", "provider_from_title"]
