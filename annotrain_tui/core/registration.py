"""Registration jobs: start, persist, poll, retry the failed URLs only.

Jobs are kept in the state dir (``jobs.json`` plus the manifest each job sent), so a restarted
app or CLI keeps following them. A retry builds a manifest of only the entries whose URLs failed
and registers it as a new job linked to the first.

Concurrent operators (the CLI twice, the CLI and the app): ``jobs.json`` is read-modify-written
under the state dir's ``jobs`` lock (``core.locks``) and replaced atomically, so no writer loses
another's job; a finished job is never set back to pending by a slower poll. Retrying a job is
done under that job's own lock, and a job that already has a pending or done retry is not retried
again: ``RetryExists`` names the existing retry job.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec

from annotrain_tui.core.backends.base import Backend, unwrap
from annotrain_tui.core.config import Paths
from annotrain_tui.core.errors import (
    AnnotrainError,
    Conflict,
    ErrorKind,
    InvalidInput,
    NotFound,
    UsageError,
    WriteFailed,
)
from annotrain_tui.core.files import atomic_write_text, shell_word, write_error
from annotrain_tui.core.locks import state_lock
from annotrain_tui.core.lookup import find_folder, find_integration
from annotrain_tui.core.manifest.diagnostics import Diagnostic
from annotrain_tui.core.manifest.models import SECTIONS, entry_urls, manifest_entries
from annotrain_tui.core.models import JobStatus, Record, RegistrationResult, UnitError, dump, field, load
from annotrain_tui.core.remedies import see
from annotrain_tui.core.secrets import PRIVATE_FILE
from annotrain_tui.core.text import refuse_hidden_characters, shown


class BatchRef(Record, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """The batch a job is a part of (``register --batch``): a large manifest registered as a
    sequence of jobs, one part at a time. A retry of a part carries its part's reference too."""

    id: str                 # "batch-" + 12 hex digits: never a job id, so `jobs --retry batch-…` names it
    key: str                # the registration it continues: manifest content + folder + integration + workspace
    part: int               # 1-based
    parts: int
    limit: int | None = None  # items per job given with --batch N; None: the seed's advice (batch_parts)
    urls: int = 0           # URLs of the whole batch
    manifest_path: str = ""


class JobRecord(Record, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """A registration job as this machine remembers it (``jobs.json``). A field it does not know is
    ignored, as it always was: the state dir may be shared with a newer annotrain."""

    id: str
    backend: str = ""  # backend.describe() when started: for people (records of old versions: the path as typed)
    #: ``workspace_key()`` of the workspace that started the job; None in records of old versions
    workspace: str | None = None
    folder_id: str
    folder_path: str
    integration_id: str
    integration_title: str
    manifest_path: str
    created_at: datetime
    updated_at: datetime
    status: JobStatus = JobStatus.PENDING
    urls: int = 0
    items_created: int = 0
    unit_errors: list[UnitError] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    retry_of: str | None = None
    ignore_errors: bool = True
    batch: BatchRef | None = None

    @property
    def failed_urls(self) -> list[str]:
        return [u for e in self.unit_errors for u in e.object_urls]

    @property
    def finished(self) -> bool:
        return self.status != JobStatus.PENDING


def _finished(stored: dict[str, Any]) -> bool:
    """Whether a stored record (as read, not validated: it is replaced) says its job is over."""
    return stored.get("status") in tuple(s.value for s in JobStatus if s is not JobStatus.PENDING)


def count_urls(manifest: dict[str, Any]) -> int:
    return sum(len(entry_urls(e)) for _, e in manifest_entries(manifest))


def failed_manifest(manifest: dict[str, Any], failed: set[str]) -> dict[str, Any]:
    """The entries of ``manifest`` that have a failed URL, in the same sections and order."""
    out: dict[str, Any] = {}
    for section, entry in manifest_entries(manifest):
        if failed.intersection(entry_urls(entry)):
            out.setdefault(section, []).append(entry)
    for key, value in manifest.items():  # the top-level options (skip_duplicate_urls, upsert_metadata …)
        if key not in SECTIONS:
            out[key] = value
    return out


class RetryExists(Conflict):
    """The job already has a retry that is pending or done; ``existing`` is that retry job."""

    def __init__(self, original: JobRecord, existing: JobRecord) -> None:
        state = existing.status.value
        if existing.finished and existing.failed_urls:
            state += f", {len(existing.failed_urls)} URL(s) failed again"
        super().__init__(f"job {shown(original.id)} already has a retry: job {shown(existing.id)} ({state}); "
                         "no second retry was started",
                         hint="retry that one" if existing.finished and existing.failed_urls else None,
                         see=(see("jobs.retry", job=existing.id[:8]) if existing.finished and existing.failed_urls
                              else "jobs.list"))
        self.original = original
        self.existing = existing


class JobStore:
    """jobs.json in the state dir, read-modify-written under the ``jobs`` lock (the CLI and the app may both write)."""

    def __init__(self, paths: Paths) -> None:
        self.file = paths.jobs_file
        self.dir = paths.state_dir / "jobs"
        self.state_dir = paths.state_dir
        self.unsaved: str | None = None  # why a polled status could not be kept (read-only state dir)

    @contextmanager
    def _locked(self, *, read: bool = False) -> Iterator[None]:
        # A read on a read-only state dir goes on without the lock (writes are atomic renames, so a
        # read sees a whole file); a write there fails with one line (exit 1).
        with state_lock(self.state_dir, "jobs", what="an update of the registration job list", read=read):
            yield

    def check_writable(self) -> None:
        """Before a job starts: the job list and the manifests kept for retries can be written, or one
        line why (a read-only file system or a full disk: ``WriteFailed``, exit 1). A job the server
        runs but nobody records could neither be followed nor retried, and would be started again."""
        for directory in (self.state_dir, self.dir):
            try:
                directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd, probe = tempfile.mkstemp(prefix=".annotrain-probe.", suffix=".tmp", dir=directory)
                os.close(fd)
                os.unlink(probe)
            except OSError as exc:
                err = write_error(directory, exc)
                hint = ("the state dir is read-only or full: make it writable, or point XDG_STATE_HOME elsewhere"
                        ) if isinstance(err, WriteFailed) else "check the permissions of the state dir"
                raise type(err)(f"cannot record registration jobs: {err.message}; nothing was started",
                                hint=hint, see="config.paths") from None

    def lock_job(self, job_id: str):
        """The lock of one job's follow-up work (its retry), held across check and start."""
        return state_lock(self.state_dir, f"job-{job_id}", what=f"a retry of job {shown(job_id, limit=64)}")

    def _read(self) -> list[JobRecord]:
        if not self.file.exists():
            return []
        try:
            raw = json.loads(self.file.read_text(encoding="utf-8"))
            return [load(JobRecord, r) for r in raw]
        except (json.JSONDecodeError, ValueError, TypeError) as exc:
            raise InvalidInput(f"{self.file}: damaged job list ({exc.__class__.__name__})",
                               hint="move the file away; the jobs themselves are safe on the server") from None

    def all(self) -> list[JobRecord]:
        with self._locked(read=True):
            return sorted(self._read(), key=lambda r: r.created_at, reverse=True)

    def get(self, job_id: str, *, among: list[JobRecord] | None = None) -> JobRecord:
        """The job with this id, or the only one whose id starts with it (an ambiguous prefix is refused);
        ``among``: look only there (one workspace's jobs, ``jobs_of_workspace``)."""
        ref = job_id.strip()
        if not ref:
            raise UsageError("give a registration job id or the start of one", see="jobs.list")
        records = self.all() if among is None else among
        exact = [r for r in records if r.id.casefold() == ref.casefold()]  # ids are hex: any case names them
        if exact:
            return exact[0]
        matches = [r for r in records if r.id.casefold().startswith(ref.casefold())]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(f"no registration job '{shown(ref, limit=80)}'", see="jobs.list")
        ids = ", ".join(shown(r.id) for r in matches[:10]) + (", …" if len(matches) > 10 else "")
        raise UsageError(f"'{shown(ref, limit=80)}' is the start of {len(matches)} registration jobs: {ids}",
                         hint="give more of the id")

    def find(self, backend: Backend, job_id: str) -> JobRecord:
        """The job ``job_id`` names among the jobs of ``backend``'s workspace; a job of another workspace
        is refused naming that workspace (``WrongWorkspace``), never asked about here."""
        split = jobs_of_workspace(backend, self)
        try:
            return self.get(job_id, among=split.mine)
        except NotFound:
            try:
                other = self.get(job_id, among=split.others)
            except NotFound:
                raise NotFound(f"no registration job '{shown(job_id.strip(), limit=80)}' in this workspace",
                               see=["jobs.list", "jobs.list_all"]) from None
            raise WrongWorkspace(other) from None

    def put(self, record: JobRecord) -> None:
        """Keep ``record``, replacing the one with its id (the others are written back as read)."""
        with self._locked():
            current = self._read_raw()
            # The other records are written back as they were read (a batch of hundreds of parts puts
            # a record per start and per poll: each put costs one C-speed read and write, no model).
            before = next((r for r in current if isinstance(r, dict) and r.get("id") == record.id), None)
            if before is not None and _finished(before) and not record.finished:
                return  # a slower poll that still saw it pending: the finished state stays
            records = [r for r in current if not (isinstance(r, dict) and r.get("id") == record.id)]
            records.append(dump(record))
            atomic_write_text(self.file, json.dumps(records, separators=(",", ":")),
                              mode=PRIVATE_FILE, make_parents=True)

    def _read_raw(self) -> list[Any]:
        if not self.file.exists():
            return []
        try:
            raw = json.loads(self.file.read_text(encoding="utf-8"))
            if not isinstance(raw, list):
                raise TypeError("not a list")
            return raw
        except (json.JSONDecodeError, ValueError, TypeError) as exc:
            raise InvalidInput(f"{self.file}: damaged job list ({exc.__class__.__name__})",
                               hint="move the file away; the jobs themselves are safe on the server") from None

    def save_manifest(self, job_id: str, manifest: dict[str, Any]) -> None:
        atomic_write_text(self.dir / f"{job_id}.manifest.json", json.dumps(manifest), mode=PRIVATE_FILE,
                          make_parents=True)

    def manifest(self, job_id: str) -> dict[str, Any]:
        p = self.dir / f"{job_id}.manifest.json"
        if not p.exists():
            raise NotFound(f"the manifest sent by job {shown(job_id)} is not kept any more")
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{shown(str(p))}: the manifest kept for job {shown(job_id)} is damaged "
                               f"({exc.__class__.__name__})", hint="register the failed files again by hand") from None
        if not isinstance(data, dict):
            raise InvalidInput(f"{shown(str(p))}: the manifest kept for job {shown(job_id)} is not a JSON object",
                               hint="register the failed files again by hand")
        return data


# -- which workspace a job belongs to ------------------------------------------------------------
# One job list serves every workspace (the state dir is per user, not per workspace), so each
# record names its workspace by a stable identity and every front shows and polls only the jobs
# of the workspace it opened: a job is only ever asked about where it was started.

_SANDBOX, _ENCORD, _KEY = "sandbox ", "encord ", " key "


def _real(path: str) -> str:
    try:
        return os.path.realpath(os.path.expanduser(path))
    except (OSError, ValueError):
        return os.path.abspath(path)


def _key_fingerprint(backend: Backend) -> str | None:
    """The public fingerprint of the Encord key the adapter holds (never key text), when it can tell."""
    raw = unwrap(backend)
    try:
        fp = getattr(raw, "key_fingerprint", None)  # EncordBackend.key_fingerprint
        return fp.strip() if isinstance(fp, str) and fp.strip() else None
    except Exception:  # noqa: BLE001 - an SDK without it: the domain alone names the workspace
        return None


def workspace_key(backend: Backend) -> str:
    """The stable identity of the workspace ``backend`` serves, the same from any cwd and either front:
    ``sandbox /real/absolute/path.db``, or ``encord DOMAIN`` plus `` key SHA256:…`` (the key's public
    fingerprint) when the adapter exposes it. Never any key text."""
    text = str(backend.describe()).strip()
    if text.startswith(_SANDBOX):
        return _SANDBOX + _real(text[len(_SANDBOX):])
    if text.startswith(_ENCORD):
        domain = text[len(_ENCORD):].strip().rstrip("/")
        fp = _key_fingerprint(backend)
        return _ENCORD + domain + (_KEY + fp if fp else "")
    return text


def _parts(key: str) -> tuple[str, str, str | None]:
    """(kind, where, key fingerprint or None) of a workspace key."""
    if key.startswith(_SANDBOX):
        return "sandbox", key[len(_SANDBOX):], None
    if key.startswith(_ENCORD):
        rest = key[len(_ENCORD):]
        domain, _, fp = rest.partition(_KEY)
        return "encord", domain.strip().rstrip("/").casefold(), fp.strip() or None
    return "", key, None


def record_workspace(record: JobRecord) -> str | None:
    """The workspace key of a record; for records of old versions derived from what they kept (None when
    that is a relative sandbox path or nothing: the cwd it was relative to was not recorded)."""
    if record.workspace:
        return record.workspace
    text = (record.backend or "").strip()
    if text.startswith(_SANDBOX):
        path = text[len(_SANDBOX):]
        return _SANDBOX + _real(path) if os.path.isabs(os.path.expanduser(path)) else None
    if text.startswith(_ENCORD):
        return _ENCORD + text[len(_ENCORD):].strip().rstrip("/")
    return None


def same_workspace(a: str, b: str) -> bool:
    ka, wa, fa = _parts(a)
    kb, wb, fb = _parts(b)
    if ka != kb or wa != wb:
        return False
    return fa is None or fb is None or fa == fb  # a record without a fingerprint: the domain decides


def workspace_label(record: JobRecord) -> str:
    """The workspace of a record, for people (untrusted text: show it through ``shown()``)."""
    key = record_workspace(record)
    if key is not None:
        return key
    return (f"{record.backend} (as typed, relative to an unknown directory)" if record.backend
            else "an unrecorded workspace")


def workspace_hint(key: str) -> str:
    """The global options that open the workspace ``key`` names."""
    kind, where, _ = _parts(key)
    if kind == "sandbox":
        return f"--sandbox {shell_word(where)}"
    if kind == "encord":
        fp = _parts(key)[2]
        return (f"--backend encord --domain {shell_word(where)} and the SSH key "
                + (f"{fp} " if fp else "") + "that started it")
    return "the workspace that started it"


class WrongWorkspace(UsageError):
    """A job of another workspace was named: it is neither polled nor retried from this one."""

    def __init__(self, record: JobRecord) -> None:
        key = record_workspace(record)
        if key is not None:
            super().__init__(f"job {shown(record.id)} belongs to {shown(key)}: run with {shown(workspace_hint(key))}")
        else:
            super().__init__(f"job {shown(record.id)} belongs to another workspace ({shown(workspace_label(record))}): "
                             "open that workspace to follow or retry it")
        self.record = record


class WorkspaceJobs(Record, frozen=True, kw_only=True):
    key: str
    mine: list[JobRecord]
    others: list[JobRecord]


def jobs_of_workspace(backend: Backend, store: JobStore) -> WorkspaceJobs:
    """The store's jobs split into this workspace's and the others' (newest first). A record of an
    old version that names no usable workspace is this workspace's when its folder is one of this
    workspace's (folder ids are unique); when that cannot be asked, it is counted as another's."""
    key = workspace_key(backend)
    mine: list[JobRecord] = []
    others: list[JobRecord] = []
    unsure: list[JobRecord] = []
    for r in store.all():
        k = record_workspace(r)
        if k is None:
            unsure.append(r)
        else:
            (mine if same_workspace(k, key) else others).append(r)
    if unsure:
        kind = _parts(key)[0]
        candidates = {r.id for r in unsure if not r.backend or r.backend.strip().startswith(kind + " ")}
        folders: set[str] = set()
        if candidates:
            try:
                folders = {f.id for f in backend.list_folders()}
            except AnnotrainError:
                folders = set()
        for r in unsure:
            (mine if r.id in candidates and r.folder_id in folders else others).append(r)
        mine.sort(key=lambda r: r.created_at, reverse=True)
        others.sort(key=lambda r: r.created_at, reverse=True)
    return WorkspaceJobs(key=key, mine=mine, others=others)


def check_workspace(backend: Backend, record: JobRecord) -> None:
    """``WrongWorkspace`` when ``record`` is known to belong to another workspace than ``backend``'s."""
    k = record_workspace(record)
    if k is not None and not same_workspace(k, workspace_key(backend)):
        raise WrongWorkspace(record)


def now() -> datetime:
    return datetime.now(UTC)


def _target(backend: Backend, integration_ref: str, folder_ref: str, create_folder: bool):
    integration = find_integration(backend, integration_ref)
    try:
        folder = find_folder(backend, folder_ref)
    except NotFound:
        if not create_folder:
            raise
        folder = create_folder_path(backend, folder_ref)
    return integration, folder


def start(backend: Backend, store: JobStore, manifest: dict[str, Any], *, manifest_path: str, integration_ref: str,
          folder_ref: str, create_folder: bool = False, ignore_errors: bool = True,
          retry_of: str | None = None, batch: BatchRef | None = None) -> JobRecord:
    store.check_writable()  # first: a job (or a folder) nobody records would be made again by the next run
    integration, folder = _target(backend, integration_ref, folder_ref, create_folder)
    return _start(backend, store, manifest, manifest_path=manifest_path, integration=integration, folder=folder,
                  ignore_errors=ignore_errors, retry_of=retry_of, batch=batch)


def _start(backend: Backend, store: JobStore, manifest: dict[str, Any], *, manifest_path: str, integration: Any,
           folder: Any, ignore_errors: bool, retry_of: str | None = None, batch: BatchRef | None = None) -> JobRecord:
    urls = count_urls(manifest)
    if urls == 0:
        raise InvalidInput(f"{manifest_path}: the manifest names no files to register")
    job_id = backend.start_registration(folder.id, integration.id, manifest, ignore_errors=ignore_errors)
    record = JobRecord(id=job_id, backend=backend.describe(), workspace=workspace_key(backend), folder_id=folder.id, folder_path=folder.path,
                       integration_id=integration.id, integration_title=integration.title,
                       manifest_path=manifest_path, created_at=now(), updated_at=now(), urls=urls,
                       retry_of=retry_of, ignore_errors=ignore_errors, batch=batch)
    try:
        store.save_manifest(job_id, manifest)
        store.put(record)
    except AnnotrainError as err:  # the state dir failed since the check (the disk filled): say which job runs
        raise type(err)(f"registration job {shown(job_id)} was started on the server, but could not be recorded: "
                        f"{err.message}", hint=err.hint, see=err.see) from None
    return record


def folder_path_names(path: str) -> list[str]:
    """The names of a folder path the user typed, every one checked (InvalidInput naming the name):
    the one rule for the CLI, the Pick screen's form (before it closes) and ``create_folder_path``."""
    parts = [p for p in path.strip().strip("/").split("/") if p]
    if not parts:
        raise InvalidInput("a folder path needs at least one name", hint="e.g. /Training Data/Cohort 3")
    for name in parts:
        refuse_hidden_characters(name, "folder name")
        if name.strip() in (".", ".."):
            # a storage path is names, not a file system: '..' would be made literally, a folder
            # named '..' that every later path with '..' in it silently means
            raise InvalidInput(f"'{name.strip()}' cannot be a folder name (in {shown(path.strip(), limit=120)})",
                               hint="write the path from the top without '.' or '..', e.g. /Training Data/Cohort 3")
    return parts


def create_folder_path(backend: Backend, path: str, *, description: str = "", metadata: dict | None = None):
    """Create ``/a/b/c`` (its missing parents too)."""
    parts = folder_path_names(path)  # every name checked before any folder is made
    parent = None
    folders = backend.list_folders()
    for depth, name in enumerate(parts):
        prefix = "/" + "/".join(parts[: depth + 1])
        existing = next((f for f in folders if f.path == prefix), None)
        if existing is None:
            last = depth == len(parts) - 1
            existing = backend.create_folder(name, description=description if last else "",
                                             metadata=metadata if last else None,
                                             parent_id=parent.id if parent else None)
        parent = existing
    return parent


def poll(backend: Backend, store: JobStore, record: JobRecord, *, timeout: float = 0.0) -> JobRecord:
    if record.finished:
        return record
    check_workspace(backend, record)  # a job is only asked about where it was started
    result: RegistrationResult = backend.get_registration_result(record.folder_id, record.id,
                                                                 timeout_seconds=timeout)
    updated = record.replace(
        workspace=record.workspace or workspace_key(backend),  # an old record, found to be this one's
        status=result.status, unit_errors=result.unit_errors, errors=result.errors,
        items_created=result.items_created, updated_at=now())
    try:
        store.put(updated)
    except WriteFailed as err:
        if not _read_only_fs(store.state_dir):
            raise
        store.unsaved = str(err)  # a read-only state dir: the status is shown, not kept (nothing can be)
    return updated


def _read_only_fs(directory: Any) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def wait(backend: Backend, store: JobStore, record: JobRecord, *, step: float = 2.0, timeout: float | None = None,
         on_poll=None, cancel: threading.Event | None = None) -> JobRecord:
    """Poll until the job finishes (long-poll ``step`` seconds at a time)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not record.finished:
        if cancel is not None and cancel.is_set():
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        record = poll(backend, store, record, timeout=step)
        if on_poll is not None:
            on_poll(record)
    return record


def existing_retry(store: JobStore, record: JobRecord) -> JobRecord | None:
    """The newest retry of ``record`` that is pending or done (a whole-job failure does not count)."""
    retries = [r for r in store.all() if r.retry_of == record.id and r.status != JobStatus.FAILED]
    return retries[0] if retries else None


def retry_failed(backend: Backend, store: JobStore, record: JobRecord) -> JobRecord:
    """Register the failed URLs of ``record`` again, as one new job; never a second one.

    Under the job's lock the store is read afresh: when a retry of this job is pending or done
    (another process or thread made it), ``RetryExists`` names it and nothing is started.
    """
    check_workspace(backend, record)
    with store.lock_job(record.id):
        existing = existing_retry(store, record)
        if existing is not None:
            raise RetryExists(record, existing)
        if not record.finished:
            raise Conflict(f"job {shown(record.id)} is still running; wait for it to finish")
        failed = set(record.failed_urls)
        if not failed:
            raise NotFound(f"job {shown(record.id)} has no failed URLs to retry")
        manifest = failed_manifest(store.manifest(record.id), failed)
        return start(backend, store, manifest, manifest_path=f"{record.manifest_path} (retry of {record.id[:8]})",
                     integration_ref=record.integration_id, folder_ref=record.folder_id,
                     ignore_errors=record.ignore_errors, retry_of=record.id, batch=record.batch)


class ManifestInvalid(InvalidInput):
    """A manifest that reads but has errors: a domain failure, not unreadable input."""

    kind: ClassVar[ErrorKind] = "failure"


def load_for_registration(path: str, *, provider: str | None = None,
                          batched: bool = False) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Validate a manifest (JSON or CSV) and return its JSON form and its warnings (diagnostics: a
    front renders each with ``render(path, how)``, ``how`` its rendering of the warning's ``see``).

    Our validator is the only one: the SDK sends whatever it is given. Any error refuses the
    registration, naming the first problems and how to see them all. ``batched``: the manifest is
    sent in parts (``register --batch``), each within Encord's size limits, so errors of those
    limits alone do not refuse it.
    """
    from annotrain_tui.core.manifest.split import LIMIT_CODES
    from annotrain_tui.core.manifest.validate import parse_path

    parsed = parse_path(path, provider=provider)
    result = parsed.result
    errors = [d for d in result.errors if not (batched and d.code in LIMIT_CODES)]
    if errors or parsed.data is None:
        errors = errors or result.errors
        first = "; ".join(d.render(path) for d in errors[:2])
        only_limits = bool(errors) and all(d.code in LIMIT_CODES for d in errors)
        raise ManifestInvalid(f"{len(errors)} error(s) in the manifest, nothing registered: {first}",
                              hint=("register it in parts within the limits" if only_limits else
                                    "validate it to see all of them"),
                              see="register.batch" if only_limits else see("manifest.validate", path=path))
    # registered in batches of the advised size, the advice about the batch size has been followed
    return parsed.data, [d for d in result.warnings if not (batched and d.code == "batch-size")]


# -- batches: a large manifest as a sequence of jobs ---------------------------------------------
# The seed: "Limit uploads to 100 videos or up to 1,000 images at a time." ``register --batch``
# sends the parts of ``batch_parts`` one at a time (each followed to its end before the next starts)
# and records each part's job with a ``BatchRef``. A rerun of the same registration (same manifest
# content, folder, integration and workspace: ``batch_key``) continues the newest batch of that key:
# parts already started are followed, the others started; nothing is registered twice.

BATCH_PREFIX = "batch-"

ADVICE = "Limit uploads to 100 videos or up to 1,000 images at a time."


def batch_parts(manifest: dict[str, Any], limit: int | None = None) -> list[dict[str, Any]]:
    """The parts a batch sends, in order. ``limit``: at most that many items per part (an image group
    or DICOM series is one item); None: the seed's advice, at most 100 videos or 1,000 images per part,
    where each file of an image group, image sequence or DICOM series counts as an image and an
    audio, PDF, text or NIfTI file counts like an image. Every part keeps the manifest's top-level
    options and stays within Encord's limits (500,000 items, 1,000,000 URLs); an item is never cut."""
    from annotrain_tui.core.manifest.split import chunk

    return chunk(manifest, max_items=limit)


def advice(manifest: dict[str, Any]) -> str | None:
    """The seed's advice when ``manifest`` is above it (more than one part by ``batch_parts``), else None."""
    n = len(batch_parts(manifest))
    if n <= 1:
        return None
    counts: dict[str, int] = {}
    for section, _ in manifest_entries(manifest):
        counts[section] = counts.get(section, 0) + 1
    what = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items())
    return (f"the manifest holds {what}: Encord advises \"{ADVICE}\" "
            f"(register --batch sends it as {n:,} jobs of that size, one at a time)")


def manifest_hash(manifest: dict[str, Any]) -> str:
    """The content of a manifest (its JSON form: the same for a CSV and its JSON conversion, whatever
    the spacing), as a SHA-256 hex digest."""
    import hashlib

    text = json.dumps(manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def batch_key(workspace: str, folder_id: str, integration_id: str, content: str) -> str:
    import hashlib

    joined = "\0".join(("annotrain-batch-1", workspace, folder_id, integration_id, content))
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class BatchPlan(msgspec.Struct, kw_only=True):
    id: str
    key: str
    manifest_path: str
    folder_id: str
    folder_path: str
    integration_id: str
    limit: int | None
    parts: int
    urls: int
    started: dict[int, JobRecord] = field(default_factory=dict)  # part → its first job
    resumed: bool = False
    #: set when a rerun gave another --batch than the batch it continues (the recorded one is used)
    limit_ignored: int | None = None

    @property
    def complete(self) -> bool:
        return len(self.started) >= self.parts


def _new_batch_id() -> str:
    import secrets

    return BATCH_PREFIX + secrets.token_hex(6)


def _batch_records(store: JobStore, backend: Backend, key: str) -> list[JobRecord]:
    return [r for r in jobs_of_workspace(backend, store).mine if r.batch is not None and r.batch.key == key]


def plan_batch(backend: Backend, store: JobStore, manifest: dict[str, Any], *, manifest_path: str,
               integration: Any, folder: Any, limit: int | None = None,
               new: bool = False) -> tuple[BatchPlan, list[dict[str, Any]]]:
    """The batch this registration continues (the newest of its key with parts not yet started), or a new
    one (``new``: always). Returns the plan and the parts' manifests."""
    key = batch_key(workspace_key(backend), folder.id, integration.id, manifest_hash(manifest))
    previous = [] if new else _batch_records(store, backend, key)
    if previous:
        newest = max(previous, key=lambda r: r.created_at).batch
        assert newest is not None
        mine = [r for r in previous if r.batch is not None and r.batch.id == newest.id]
        recorded = newest.limit
        chunks = batch_parts(manifest, recorded)
        if len(chunks) != newest.parts:  # the parts are a pure function of the content and the limit
            raise Conflict(f"batch {newest.id} of this manifest recorded {newest.parts} parts, the manifest "
                           f"now gives {len(chunks)}", hint="start a new batch: add --new-batch")
        started = {r.batch.part: r for r in sorted(mine, key=lambda r: r.created_at, reverse=True)
                   if r.batch is not None and r.retry_of is None}
        plan = BatchPlan(id=newest.id, key=key, manifest_path=manifest_path, folder_id=folder.id,
                         folder_path=folder.path, integration_id=integration.id, limit=recorded,
                         parts=newest.parts, urls=newest.urls, started=started, resumed=True,
                         limit_ignored=limit if limit != recorded else None)
        # every part started and finished: nothing is started again (registering again: ``new``)
        return plan, chunks
    chunks = batch_parts(manifest, limit)
    plan = BatchPlan(id=_new_batch_id(), key=key, manifest_path=manifest_path, folder_id=folder.id,
                     folder_path=folder.path, integration_id=integration.id, limit=limit, parts=len(chunks),
                     urls=count_urls(manifest))
    return plan, chunks


def register_batch(backend: Backend, store: JobStore, manifest: dict[str, Any], *, manifest_path: str,
                   integration_ref: str, folder_ref: str, create_folder: bool = False, ignore_errors: bool = True,
                   limit: int | None = None, new: bool = False, step: float = 2.0,
                   on_event=None, cancel: threading.Event | None = None) -> BatchStatus:
    """Register ``manifest`` as a batch: its parts one at a time, each followed to its end before the
    next starts. ``on_event(kind, plan, record)``: ``"plan"`` (record None), ``"started"``,
    ``"poll"``, ``"finished"`` and ``"followed"`` (a part started by an earlier run). Set ``cancel``
    to stop between polls or parts: the batch is left to be continued by the same call later.

    Held under the batch's lock: a second run of the same registration waits, then continues
    what the first left (it never starts a part twice).
    """
    if limit is not None and limit < 1:
        raise UsageError("--batch must be 1 or more")
    store.check_writable()
    integration, folder = _target(backend, integration_ref, folder_ref, create_folder)
    if count_urls(manifest) == 0:
        raise InvalidInput(f"{manifest_path}: the manifest names no files to register")
    key = batch_key(workspace_key(backend), folder.id, integration.id, manifest_hash(manifest))
    emit = on_event or (lambda *a: None)
    with state_lock(store.state_dir, f"batch-{key[:24]}", cancel=cancel,
                    what=f"a batched registration of {shown(manifest_path, limit=120)}"):
        plan, chunks = plan_batch(backend, store, manifest, manifest_path=manifest_path, integration=integration,
                                  folder=folder, limit=limit, new=new)
        emit("plan", plan, None)
        for k, part in enumerate(chunks, start=1):
            if cancel is not None and cancel.is_set():
                break
            record = plan.started.get(k)
            if record is None:
                ref = BatchRef(id=plan.id, key=plan.key, part=k, parts=plan.parts, limit=plan.limit,
                               urls=plan.urls, manifest_path=manifest_path)
                record = _start(backend, store, part, manifest_path=f"{manifest_path} (part {k} of {plan.parts})",
                                integration=integration, folder=folder, ignore_errors=ignore_errors, batch=ref)
                plan.started[k] = record
                emit("started", plan, record)
            elif not record.finished:
                emit("followed", plan, record)
            else:
                continue
            record = wait(backend, store, record, step=step, cancel=cancel,
                          on_poll=lambda r: emit("poll", plan, r))
            plan.started[k] = record
            if record.finished:
                emit("finished", plan, record)
    return batch_status(plan.id, [r for r in jobs_of_workspace(backend, store).mine
                                  if r.batch is not None and r.batch.id == plan.id])


class PartStatus(msgspec.Struct, kw_only=True):
    part: int
    job: JobRecord            # the part's first job
    attempts: list[JobRecord]  # that job and its retries, oldest first
    #: the latest attempt that counts: the newest retry that is pending or done (a retry that failed
    #: as a whole does not replace its parent), or the job itself
    leaf: JobRecord

    @property
    def pending(self) -> bool:
        return not self.leaf.finished

    @property
    def failed_urls(self) -> list[str]:
        return self.leaf.failed_urls if self.leaf.finished else []


class BatchStatus(msgspec.Struct, kw_only=True):
    id: str
    manifest_path: str
    folder_path: str
    parts: int
    urls: int
    created_at: datetime
    part_status: list[PartStatus]
    jobs: list[JobRecord]  # every job of the batch (parts and retries), newest first

    @property
    def started(self) -> int:
        return len(self.part_status)

    @property
    def finished_parts(self) -> int:
        return sum(1 for p in self.part_status if not p.pending)

    @property
    def items_created(self) -> int:
        return sum(r.items_created for r in self.jobs if r.finished)

    @property
    def failed_urls(self) -> list[str]:
        return [u for p in self.part_status for u in p.failed_urls]

    @property
    def not_started(self) -> list[int]:
        have = {p.part for p in self.part_status}
        return [k for k in range(1, self.parts + 1) if k not in have]

    @property
    def status(self) -> str:
        """pending (a part runs), incomplete (parts not started: run the same register again), failed
        (a part failed as a whole), done (every part done; failed URLs may be left)."""
        if any(p.pending for p in self.part_status):
            return "pending"
        if self.not_started:
            return "incomplete"
        if any(p.leaf.status == JobStatus.FAILED for p in self.part_status):
            return "failed"
        return "done"

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "manifest_path": self.manifest_path,
                "folder_path": self.folder_path, "parts": self.parts, "parts_started": self.started,
                "parts_finished": self.finished_parts, "parts_not_started": self.not_started,
                "urls": self.urls, "items_created": self.items_created, "failed_urls": self.failed_urls,
                "created_at": self.created_at.isoformat(),
                "part_jobs": [{"part": p.part, "job": p.job.id, "status": p.leaf.status.value,
                               "urls": p.job.urls, "items_created": sum(a.items_created for a in p.attempts),
                               "failed_urls": p.failed_urls, "retries": [a.id for a in p.attempts[1:]]}
                              for p in self.part_status]}


def batch_status(batch_id: str, records: list[JobRecord]) -> BatchStatus:
    """The state of one batch from its jobs (``records``: at least every job of it)."""
    mine = [r for r in records if r.batch is not None and r.batch.id == batch_id]
    part_of = {r.id: r.batch.part for r in mine if r.batch is not None}
    if not mine:
        raise NotFound(f"no registration batch '{shown(batch_id, limit=80)}'", see="jobs.list")
    by_retry: dict[str, list[JobRecord]] = {}
    for r in mine:
        if r.retry_of is not None:
            by_retry.setdefault(r.retry_of, []).append(r)
    parts: list[PartStatus] = []
    for first in sorted((r for r in mine if r.retry_of is None), key=lambda r: (part_of[r.id], r.created_at)):
        if parts and parts[-1].part == part_of[first.id]:
            continue  # two runs started one part (cannot happen under the batch lock): the first counts
        attempts, leaf = [first], first
        while True:
            children = sorted(by_retry.get(leaf.id, []), key=lambda r: r.created_at)
            attempts += children
            counting = [c for c in children if c.status != JobStatus.FAILED]
            if not counting:
                break
            leaf = counting[-1]
        attempts.sort(key=lambda r: r.created_at)
        parts.append(PartStatus(part=part_of[first.id], job=first, attempts=attempts, leaf=leaf))
    ref = mine[0].batch
    assert ref is not None
    return BatchStatus(id=batch_id, manifest_path=ref.manifest_path, folder_path=mine[0].folder_path,
                       parts=ref.parts, urls=ref.urls, created_at=min(r.created_at for r in mine),
                       part_status=parts, jobs=sorted(mine, key=lambda r: r.created_at, reverse=True))


def group_batches(records: list[JobRecord]) -> tuple[list[BatchStatus], list[JobRecord]]:
    """(the batches, newest first; the jobs that are no batch's part) of ``records``."""
    ids = list(dict.fromkeys(r.batch.id for r in records if r.batch is not None))
    batches = sorted((batch_status(i, records) for i in ids), key=lambda b: b.created_at, reverse=True)
    return batches, [r for r in records if r.batch is None]


def find_batch(backend: Backend, store: JobStore, ref: str) -> BatchStatus:
    """The batch of this workspace ``ref`` names (its id or an unambiguous start of it)."""
    wanted = ref.strip().casefold()
    records = jobs_of_workspace(backend, store).mine
    ids = sorted({r.batch.id for r in records if r.batch is not None})
    exact = [i for i in ids if i.casefold() == wanted]
    matches = exact or [i for i in ids if i.casefold().startswith(wanted)]
    if not matches:
        raise NotFound(f"no registration batch '{shown(ref.strip(), limit=80)}' in this workspace",
                       see="jobs.list")
    if len(matches) > 1:
        raise UsageError(f"'{shown(ref.strip(), limit=80)}' is the start of {len(matches)} batches: "
                         + ", ".join(matches[:10]), hint="give more of the id")
    return batch_status(matches[0], records)


def is_batch_ref(ref: str) -> bool:
    return ref.strip().casefold().startswith(BATCH_PREFIX)


def retry_batch(backend: Backend, store: JobStore, batch: BatchStatus) -> list[JobRecord]:
    """Register again only the failed URLs of every part of ``batch``: one retry job per part with failed
    URLs (of its latest attempt). A part whose retry runs, or that has nothing failed, is left alone."""
    if any(p.pending for p in batch.part_status):
        raise Conflict(f"batch {shown(batch.id)} still has a part running; wait for it to finish",
                       hint="follow it", see="jobs.watch")
    todo = [p for p in batch.part_status if p.failed_urls]
    if not todo:
        raise NotFound(f"batch {shown(batch.id)} has no failed URLs to retry")
    started: list[JobRecord] = []
    for p in todo:
        try:
            started.append(retry_failed(backend, store, p.leaf))
        except RetryExists as already:  # another run retried this part meanwhile: follow that one
            started.append(already.existing)
    return started
