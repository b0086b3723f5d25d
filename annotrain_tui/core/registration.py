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
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from pydantic import BaseModel, Field

from annotrain_tui.core.config import Paths
from annotrain_tui.core.files import atomic_write_text, write_error
from annotrain_tui.core.secrets import PRIVATE_FILE
from annotrain_tui.core.errors import AnnotrainError, Conflict, InvalidInput, NotFound, UsageError, WriteFailed
from annotrain_tui.core.locks import state_lock
from annotrain_tui.core.lookup import find_folder, find_integration
from annotrain_tui.core.manifest.models import entry_urls, manifest_entries
from annotrain_tui.core.models import JobStatus, RegistrationResult, UnitError
from annotrain_tui.core.files import shell_word
from annotrain_tui.core.text import shown



class JobRecord(BaseModel):
    id: str
    backend: str
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
    unit_errors: list[UnitError] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    retry_of: str | None = None
    ignore_errors: bool = True

    @property
    def failed_urls(self) -> list[str]:
        return [u for e in self.unit_errors for u in e.object_urls]

    @property
    def finished(self) -> bool:
        return self.status != JobStatus.PENDING


def count_urls(manifest: dict[str, Any]) -> int:
    return sum(len(entry_urls(e)) for _, e in manifest_entries(manifest))


def failed_manifest(manifest: dict[str, Any], failed: set[str]) -> dict[str, Any]:
    """The entries of ``manifest`` that have a failed URL, in the same sections and order."""
    out: dict[str, Any] = {}
    for section, entry in manifest_entries(manifest):
        if failed.intersection(entry_urls(entry)):
            out.setdefault(section, []).append(entry)
    if "skip_duplicate_urls" in manifest:
        out["skip_duplicate_urls"] = manifest["skip_duplicate_urls"]
    return out


class RetryExists(Conflict):
    """The job already has a retry that is pending or done; ``existing`` is that retry job."""

    def __init__(self, original: "JobRecord", existing: "JobRecord") -> None:
        state = existing.status.value
        if existing.finished and existing.failed_urls:
            state += f", {len(existing.failed_urls)} URL(s) failed again"
        super().__init__(f"job {shown(original.id)} already has a retry: job {shown(existing.id)} ({state}); "
                         "no second retry was started",
                         hint=(f"retry that one: annotrain jobs --retry {shell_word(existing.id[:8])}"
                               if existing.finished and existing.failed_urls else "see 'annotrain jobs'"))
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
                hint = ("the state dir is read-only or full: make it writable, or point XDG_STATE_HOME elsewhere "
                        "('annotrain config paths' shows it)") if isinstance(err, WriteFailed) else \
                    "check the permissions of the state dir ('annotrain config paths')"
                raise type(err)(f"cannot record registration jobs: {err.message}; nothing was started",
                                hint=hint) from None

    def lock_job(self, job_id: str):
        """The lock of one job's follow-up work (its retry), held across check and start."""
        return state_lock(self.state_dir, f"job-{job_id}", what=f"a retry of job {shown(job_id, limit=64)}")

    def _read(self) -> list[JobRecord]:
        if not self.file.exists():
            return []
        try:
            raw = json.loads(self.file.read_text(encoding="utf-8"))
            return [JobRecord.model_validate(r) for r in raw]
        except (json.JSONDecodeError, ValueError, TypeError) as exc:
            raise InvalidInput(f"{self.file}: damaged job list ({exc.__class__.__name__})",
                               hint="move the file away; the jobs themselves are safe on the server") from None

    def all(self) -> list[JobRecord]:
        with self._locked(read=True):
            return sorted(self._read(), key=lambda r: r.created_at, reverse=True)

    def get(self, job_id: str) -> JobRecord:
        """The job with this id, or the only one whose id starts with it (an ambiguous prefix is refused)."""
        ref = job_id.strip()
        if not ref:
            raise UsageError("give a registration job id or the start of one", hint="see 'annotrain jobs'")
        records = self.all()
        exact = [r for r in records if r.id == ref]
        if exact:
            return exact[0]
        matches = [r for r in records if r.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(f"no registration job {shown(ref, limit=80)!r}", hint="see 'annotrain jobs'")
        ids = ", ".join(shown(r.id) for r in matches[:10]) + (", …" if len(matches) > 10 else "")
        raise UsageError(f"{shown(ref, limit=80)!r} is the start of {len(matches)} registration jobs: {ids}",
                         hint="give more of the id")

    def put(self, record: JobRecord) -> None:
        with self._locked():
            current = self._read()
            before = next((r for r in current if r.id == record.id), None)
            if before is not None and before.finished and not record.finished:
                return  # a slower poll that still saw it pending: the finished state stays
            records = [r for r in current if r.id != record.id] + [record]
            atomic_write_text(self.file, json.dumps([r.model_dump(mode="json") for r in records], indent=1),
                              mode=PRIVATE_FILE, make_parents=True)

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


def now() -> datetime:
    return datetime.now(timezone.utc)


def start(backend: Any, store: JobStore, manifest: dict[str, Any], *, manifest_path: str, integration_ref: str,
          folder_ref: str, create_folder: bool = False, ignore_errors: bool = True,
          retry_of: str | None = None) -> JobRecord:
    store.check_writable()  # first: a job (or a folder) nobody records would be made again by the next run
    integration = find_integration(backend, integration_ref)
    try:
        folder = find_folder(backend, folder_ref)
    except NotFound:
        if not create_folder:
            raise
        folder = create_folder_path(backend, folder_ref)
    urls = count_urls(manifest)
    if urls == 0:
        raise InvalidInput(f"{manifest_path}: the manifest names no files to register")
    job_id = backend.start_registration(folder.id, integration.id, manifest, ignore_errors=ignore_errors)
    record = JobRecord(id=job_id, backend=backend.describe(), folder_id=folder.id, folder_path=folder.path,
                       integration_id=integration.id, integration_title=integration.title,
                       manifest_path=manifest_path, created_at=now(), updated_at=now(), urls=urls,
                       retry_of=retry_of, ignore_errors=ignore_errors)
    try:
        store.save_manifest(job_id, manifest)
        store.put(record)
    except AnnotrainError as err:  # the state dir failed since the check (the disk filled): say which job runs
        raise type(err)(f"registration job {shown(job_id)} was started on the server, but could not be recorded: "
                        f"{err.message}", hint=err.hint) from None
    return record


def create_folder_path(backend: Any, path: str, *, description: str = "", metadata: dict | None = None):
    """Create ``/a/b/c`` (its missing parents too)."""
    parts = [p for p in path.strip().strip("/").split("/") if p]
    if not parts:
        raise InvalidInput("a folder path needs at least one name")
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


def poll(backend: Any, store: JobStore, record: JobRecord, *, timeout: float = 0.0) -> JobRecord:
    if record.finished:
        return record
    result: RegistrationResult = backend.get_registration_result(record.folder_id, record.id,
                                                                 timeout_seconds=timeout)
    updated = record.model_copy(update={
        "status": result.status, "unit_errors": result.unit_errors, "errors": result.errors,
        "items_created": result.items_created, "updated_at": now()})
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


def wait(backend: Any, store: JobStore, record: JobRecord, *, step: float = 2.0, timeout: float | None = None,
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


def retry_failed(backend: Any, store: JobStore, record: JobRecord) -> JobRecord:
    """Register the failed URLs of ``record`` again, as one new job; never a second one.

    Under the job's lock the store is read afresh: when a retry of this job is pending or done
    (another process or thread made it), ``RetryExists`` names it and nothing is started.
    """
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
                     ignore_errors=record.ignore_errors, retry_of=record.id)


class ManifestInvalid(InvalidInput):
    exit_code = 1


def load_for_registration(path: str, *, provider: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Validate a manifest (JSON or CSV) and return its JSON form and its warnings.

    Our validator is the only one: the SDK sends whatever it is given. Any error refuses the
    registration, naming the first problems and how to see them all.
    """
    from annotrain_tui.core.manifest.validate import parse_path

    parsed = parse_path(path, provider=provider)
    result = parsed.result
    if not result.valid or parsed.data is None:
        errors = result.errors
        first = "; ".join(d.render(path) for d in errors[:2])
        raise ManifestInvalid(f"{len(errors)} error(s) in the manifest, nothing registered: {first}",
                              hint=f"for all of them run: annotrain manifest validate {shell_word(path)}")
    return parsed.data, [d.render(path) for d in result.warnings]
