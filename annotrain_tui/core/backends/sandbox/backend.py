"""SandboxBackend: the Backend protocol over the SQLite store, behaving as Encord does.

- Registration jobs are asynchronous: a job is PENDING until its ready time, then the first
  poll processes it (items created, unreachable URLs as unit errors, duplicates skipped when
  ``skip_duplicate_urls`` is set). A URL is unreachable when its path contains ``missing``; one
  containing ``flaky`` fails the first time only (as a throttled bucket does), so retries work.
- Datasets link folder items; projects get one label row per data unit of their datasets, in
  the first workflow stage; stages move Annotate → Review → Complete.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from annotrain_tui.core.backends.base import WorkspaceMissing
from annotrain_tui.core.backends.sandbox.store import (
    MARKER_AGAIN,
    MARKER_PREFIX,
    MARKER_TAIL,
    Store,
    new_workspace_file,
)
from annotrain_tui.core.errors import Conflict, InvalidInput, NotFound
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
    dump,
    final_stage_of,
    load,
    stages_from_titles,
)
from annotrain_tui.core.remedies import see
from annotrain_tui.core.text import shown

SECTION_TYPES = {
    "videos": "video", "audio": "audio", "pdfs": "pdf", "text": "plain_text", "images": "image",
    "image_groups": "image_group", "dicom_series": "dicom_series", "nifti": "nifti",
}
ROLES = ("admin", "team_manager", "reviewer", "annotator", "annotator_reviewer")
DEFAULT_STAGES = ["Annotate", "Review", "Complete"]
#: Created by the first assignment (not in SCHEMA: a workspace made before it must still open).
_ASSIGNEES = ("CREATE TABLE IF NOT EXISTS task_assignees (project_id TEXT NOT NULL, data_hash TEXT NOT NULL, "
              "assignee TEXT NOT NULL COLLATE NOCASE, PRIMARY KEY (project_id, data_hash))")


#: A title that may hold a search text (any case): SQLite's LIKE folds ASCII letters only, so every
#: title with a character beyond ASCII (more bytes than characters) is a candidate too (``"Straße"``
#: holds ``"SS"``). A superset, read in SQLite; ``str.casefold`` then decides.
_TITLE_MAY_HOLD = "(title LIKE ? ESCAPE '\\' OR length(CAST(title AS BLOB)) > length(title))"


def _title_may_hold(search: str) -> tuple[str]:
    folded = search.casefold()  # casefolded first: the Kelvin sign folds to an ASCII k
    return ("%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",)


def stored_stages(text: str) -> list[Stage]:
    """A project's or template's stored stages: titles (kinds inferred, see ``stages_from_titles``)
    or ``{"title", "kind"}`` objects."""
    raw = json.loads(text)
    if all(isinstance(t, str) for t in raw):
        return stages_from_titles(raw)
    return [Stage(title=str(t["title"]), kind=str(t["kind"])) if isinstance(t, dict) else stages_from_titles([t])[0]
            for t in raw]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


class SandboxBackend:
    name = "sandbox"

    def __init__(self, path: Path, *, create: bool = True, read_only: bool = False,
                 user: str = "you@sandbox.local", _building: bool = False) -> None:
        """Open the workspace at ``path`` (a read: nothing is written until a write).

        A missing file is created empty (atomically) when ``create`` is set and ``read_only`` is
        not; otherwise NotFound and nothing is created. A file that is not an annotrain workspace is
        refused untouched (InvalidInput). ``read_only`` serves reads and refuses every write.
        """
        path = Path(path)
        self._id_rng: random.Random | None = None  # seed_ids: repeatable ids, this backend's alone
        if not _building and not os.path.lexists(path):
            if not create or read_only:
                where = shown(str(path), limit=300)
                raise WorkspaceMissing(f"no sandbox workspace at {where}", hint="check the path, or create it",
                               see=see("sandbox.init_demo", path=path))
            try:
                with new_workspace_file(path):
                    pass
            except Conflict:
                pass  # made by another process meanwhile: open that one
        self.store = Store(path, read_only=read_only, _building=_building)
        self.user = user

    @classmethod
    def build(cls, path: Path, fill: Callable[[SandboxBackend], Any] | None = None, *,
              replace: bool = False) -> Any:
        """Create the workspace at ``path`` all or nothing: ``fill(backend)`` runs on a temporary
        file beside it, which replaces ``path`` only once complete. Returns what ``fill`` returns."""
        with new_workspace_file(Path(path), replace=replace) as tmp:
            backend = cls(tmp, _building=True)
            try:
                result = fill(backend) if fill is not None else None
            finally:
                backend.close()
        return result

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    # ------------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self.store.path

    def new_id(self) -> str:
        """A uuid4; repeatable after ``seed_ids`` (demo data for screenshots and snapshots)."""
        if self._id_rng is not None:
            return str(uuid.UUID(int=self._id_rng.getrandbits(128), version=4))
        return str(uuid.uuid4())

    def seed_ids(self, seed: int | None) -> None:
        """Make the ids this backend creates from now on repeatable (``None``: random again). Per
        backend: two workspaces built at once (two threads, two tests) never share a sequence."""
        self._id_rng = random.Random(seed) if seed is not None else None

    def describe(self) -> str:
        return f"sandbox {self.store.path}"

    def check(self) -> str:
        self.store.query("SELECT 1")
        return self.user

    def close(self) -> None:
        self.store.close()

    def operation_lock(self, name: str, *, timeout: float | None = None, on_wait: Callable[[str], None] | None = None,
                       cancel: Any = None) -> Any:
        """The workspace file's own lock (``Store.operation_lock``): every operator of this file sees it."""
        return self.store.operation_lock(name, timeout=timeout, on_wait=on_wait, cancel=cancel)

    # -- storage ------------------------------------------------------------------------
    def add_integration(self, title: str, provider: Provider | str) -> Integration:
        integ = Integration(id=self.new_id(), title=title, provider=Provider(provider))
        with self.store.tx() as c:
            c.execute("INSERT INTO integrations VALUES (?,?,?)", (integ.id, integ.title, integ.provider.value))
        return integ

    def list_integrations(self) -> list[Integration]:
        rows = self.store.query("SELECT * FROM integrations ORDER BY title COLLATE NOCASE")
        return [Integration(id=r["id"], title=r["title"], provider=Provider(r["provider"])) for r in rows]

    def list_folders(self, *, search: str | None = None) -> list[Folder]:
        rows = self.store.query(
            "SELECT f.*, (SELECT COUNT(*) FROM items i WHERE i.folder_id = f.id) AS n FROM folders f")
        by_id = {r["id"]: r for r in rows}

        def path_of(fid: str) -> str:
            parts, seen = [], set()
            while fid and fid in by_id and fid not in seen:
                seen.add(fid)
                parts.append(by_id[fid]["name"])
                fid = by_id[fid]["parent_id"]
            return "/" + "/".join(reversed(parts))

        folders = [
            Folder(id=r["id"], name=r["name"], description=r["description"], metadata=json.loads(r["metadata"]),
                   parent_id=r["parent_id"], path=path_of(r["id"]), item_count=r["n"])
            for r in rows
        ]
        if search:
            needle = search.casefold()
            folders = [f for f in folders if needle in f.name.casefold()]
        return sorted(folders, key=lambda f: f.path.casefold())

    def _folder_row(self, folder_id: str):
        rows = self.store.query("SELECT * FROM folders WHERE id = ?", (folder_id,))
        if not rows:
            raise NotFound(f"storage folder {folder_id} not found")
        return rows[0]

    def create_folder(self, name: str, *, description: str = "", metadata: dict[str, Any] | None = None,
                      parent_id: str | None = None) -> Folder:
        name = name.strip()
        if not name or "/" in name:
            raise InvalidInput(f"folder name {name!r} is not valid", hint="a non-empty name without '/'")
        if parent_id is not None:
            self._folder_row(parent_id)
        fid = self.new_id()
        with self.store.tx() as c:
            clash = c.execute("SELECT id FROM folders WHERE COALESCE(parent_id,'') = ? AND name = ?",
                              (parent_id or "", name)).fetchone()
            if clash:
                raise Conflict(f"a folder named {name!r} already exists there")
            c.execute("INSERT INTO folders VALUES (?,?,?,?,?,?)",
                      (fid, name, description, json.dumps(metadata or {}), parent_id, now_iso()))
        return next(f for f in self.list_folders() if f.id == fid)

    def start_registration(self, folder_id: str, integration_id: str, manifest: dict[str, Any], *,
                           ignore_errors: bool = True) -> str:
        self._folder_row(folder_id)
        if not self.store.query("SELECT id FROM integrations WHERE id = ?", (integration_id,)):
            raise NotFound(f"integration {integration_id} not found")
        if not isinstance(manifest, dict):
            raise InvalidInput("the registration manifest must be a JSON object")
        # the manifest models load with the first registration, not with every command that opens the sandbox
        from annotrain_tui.core.manifest.models import entry_urls, manifest_entries

        urls = sum(len(entry_urls(e)) for _, e in manifest_entries(manifest))
        # a job takes its base time plus a little per URL (ANNOTRAIN_SANDBOX_JOB_SECONDS=0: at once)
        from annotrain_tui.core import envvars

        delay = envvars.number("ANNOTRAIN_SANDBOX_JOB_SECONDS") * (1 + urls / 1000)
        jid = self.new_id()
        with self.store.tx() as c:
            c.execute("INSERT INTO jobs VALUES (?,?,?,?,?,?,?,?,NULL)",
                      (jid, folder_id, integration_id, json.dumps(manifest), int(ignore_errors),
                       JobStatus.PENDING.value, now_iso(), time.time() + delay))
        return jid

    def get_registration_result(self, folder_id: str, job_id: str, *,
                                timeout_seconds: float = 0.0) -> RegistrationResult:
        deadline = time.monotonic() + max(0.0, timeout_seconds)
        while True:
            rows = self.store.query("SELECT * FROM jobs WHERE id = ? AND folder_id = ?", (job_id, folder_id))
            if not rows:
                raise NotFound(f"upload job {job_id} not found in folder {folder_id}")
            job = rows[0]
            if job["result"]:
                return load(RegistrationResult, job["result"])
            wait = job["ready_at"] - time.time()
            if wait <= 0:
                return self._process_job(job_id)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return RegistrationResult(status=JobStatus.PENDING)
            time.sleep(min(wait, remaining, 0.25))

    def _process_job(self, job_id: str) -> RegistrationResult:
        from annotrain_tui.core.manifest.models import entry_urls, manifest_entries

        with self.store.tx() as c:
            job = c.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if job["result"]:  # another thread got here first
                return load(RegistrationResult, job["result"])
            manifest = json.loads(job["manifest"])
            skip_dupes = bool(manifest.get("skip_duplicate_urls"))
            # Only this manifest's URLs are looked up (the (folder_id, url) index), never the whole
            # folder: a registration in batches into a growing folder stays linear.
            existing: set[str] = set()
            if skip_dupes:
                keys = list({u[0] for u in (entry_urls(e) for _, e in manifest_entries(manifest)) if u})
                for start in range(0, len(keys), 500):
                    chunk = keys[start:start + 500]
                    existing.update(r[0] for r in c.execute(
                        f"SELECT url FROM items WHERE folder_id = ? AND url IN ({','.join('?' * len(chunk))})",
                        (job["folder_id"], *chunk)))
            to_create: list[tuple] = []
            unit_errors: list[UnitError] = []
            for section, entry in manifest_entries(manifest):
                item_type = SECTION_TYPES[section]
                urls = entry_urls(entry)
                if not urls:
                    unit_errors.append(UnitError(object_urls=[], error="entry has no objectUrl"))
                    continue
                bad = [u for u in urls if not _reachable(u)]
                flaky = [u for u in urls if "flaky" in u.lower()]
                if flaky and not bad:
                    seen = {r[0] for r in c.execute(
                        f"SELECT key FROM meta WHERE key IN ({','.join('?' * len(flaky))})",
                        [f"flaky:{u}" for u in flaky])}
                    bad = [u for u in flaky if f"flaky:{u}" not in seen]
                    c.executemany("INSERT OR IGNORE INTO meta VALUES (?, 'seen')", [(f"flaky:{u}",) for u in flaky])
                if bad:
                    unit_errors.append(UnitError(
                        object_urls=bad, error="Encord could not access the file (check the URL and the "
                        "integration's permissions)"))
                    continue
                key = urls[0]
                if skip_dupes and key in existing:
                    continue
                existing.add(key)
                kind = item_type
                if section == "image_groups" and entry.get("createVideo", False):
                    kind = "image_sequence"
                title = entry.get("title") or key.rstrip("/").rsplit("/", 1)[-1] or key
                meta = entry.get("clientMetadata") or {}
                frames = len(urls) if section in ("image_groups", "dicom_series") else 1
                to_create.append((self.new_id(), job["folder_id"], str(title), kind, key, json.dumps(meta),
                                  1280, 720, frames, now_iso()))
            if unit_errors and not job["ignore_errors"]:
                result = RegistrationResult(
                    status=JobStatus.FAILED, unit_errors=unit_errors,
                    errors=[f"{len(unit_errors)} file(s) could not be registered and ignore_errors is off; "
                            "nothing was registered"])
            else:
                c.executemany("INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?)", to_create)
                result = RegistrationResult(status=JobStatus.DONE, unit_errors=unit_errors,
                                            items_created=len(to_create))
            c.execute("UPDATE jobs SET status = ?, result = ? WHERE id = ?",
                      (result.status.value, json.dumps(dump(result)), job_id))
        return result

    def list_items(self, folder_id: str) -> list[Item]:
        self._folder_row(folder_id)
        rows = self.store.query("SELECT * FROM items WHERE folder_id = ? ORDER BY created_at, rowid", (folder_id,))
        return [Item(id=r["id"], name=r["name"], item_type=r["item_type"], url=r["url"], folder_id=r["folder_id"])
                for r in rows]

    # -- datasets -----------------------------------------------------------------------
    def list_datasets(self) -> list[Dataset]:
        rows = self.store.query("SELECT * FROM datasets ORDER BY title COLLATE NOCASE")
        return [Dataset(id=r["id"], title=r["title"], description=r["description"]) for r in rows]

    def create_dataset(self, title: str, *, description: str = "") -> Dataset:
        if not title.strip():
            raise InvalidInput("a dataset needs a title")
        ds = Dataset(id=self.new_id(), title=title, description=description)
        with self.store.tx() as c:
            c.execute("INSERT INTO datasets VALUES (?,?,?,?)", (ds.id, ds.title, ds.description, now_iso()))
        return ds

    def link_items(self, dataset_id: str, item_ids: Sequence[str]) -> int:
        with self.store.tx() as c:
            if not c.execute("SELECT 1 FROM datasets WHERE id = ?", (dataset_id,)).fetchone():
                raise NotFound(f"dataset {dataset_id} not found")
            ids = list(dict.fromkeys(item_ids))
            known = {r[0] for r in c.execute(
                f"SELECT id FROM items WHERE id IN ({','.join('?' * len(ids))})", ids)} if ids else set()
            missing = [i for i in ids if i not in known]
            if missing:
                raise NotFound(f"{len(missing)} storage item(s) not found, e.g. {missing[0]}")
            stamp = now_iso()
            c.executemany("INSERT OR IGNORE INTO dataset_items VALUES (?,?,?)", [(dataset_id, i, stamp) for i in ids])
            # Encord: projects on this dataset gain a label row for each new data unit.
            for (pid,) in c.execute("SELECT project_id FROM project_datasets WHERE dataset_id = ?",
                                    (dataset_id,)).fetchall():
                self._ensure_label_rows(c, pid)
            return c.execute("SELECT COUNT(*) FROM dataset_items WHERE dataset_id = ?", (dataset_id,)).fetchone()[0]

    def list_data_rows(self, dataset_id: str) -> list[DataRow]:
        if not self.store.query("SELECT 1 FROM datasets WHERE id = ?", (dataset_id,)):
            raise NotFound(f"dataset {dataset_id} not found")
        rows = self.store.query(
            "SELECT i.* FROM dataset_items d JOIN items i ON i.id = d.item_id WHERE d.dataset_id = ? "
            "ORDER BY d.linked_at, i.rowid", (dataset_id,))
        return [DataRow(data_hash=r["id"], title=r["name"], data_type=r["item_type"], file_link=r["url"],
                        item_id=r["id"]) for r in rows]

    # -- ontologies, templates, projects ------------------------------------------------
    def add_ontology(self, title: str, objects: list[dict[str, Any]]) -> Ontology:
        structure = {"objects": [
            {"id": str(n + 1), "name": o["name"], "color": o.get("color", "#888888"), "shape": o["shape"],
             "featureNodeHash": o.get("featureNodeHash") or uuid.uuid4().hex[:8], "attributes": []}
            for n, o in enumerate(objects)], "classifications": []}
        oid = self.new_id()
        with self.store.tx() as c:
            c.execute("INSERT INTO ontologies VALUES (?,?,?)", (oid, title, json.dumps(structure)))
        return next(o for o in self.list_ontologies() if o.id == oid)

    def ontology_structure(self, ontology_id: str) -> dict[str, Any]:
        rows = self.store.query("SELECT structure FROM ontologies WHERE id = ?", (ontology_id,))
        if not rows:
            raise NotFound(f"ontology {ontology_id} not found")
        return json.loads(rows[0]["structure"])

    def list_ontologies(self) -> list[Ontology]:
        out = []
        for r in self.store.query("SELECT * FROM ontologies ORDER BY title COLLATE NOCASE"):
            structure = json.loads(r["structure"])
            out.append(Ontology(id=r["id"], title=r["title"], objects=[
                ObjectClass(feature_hash=o["featureNodeHash"], name=o["name"], shape=o["shape"],
                            color=o.get("color", "#888888")) for o in structure.get("objects", [])]))
        return out

    def add_template(self, title: str, stages: list[str] | list[tuple[str, str]]) -> WorkflowTemplate:
        """A template from stage titles, or (title, kind) pairs for stages titled otherwise."""
        stored = [s if isinstance(s, str) else {"title": s[0], "kind": s[1]} for s in stages]
        tpl = WorkflowTemplate(id=self.new_id(), title=title, stages=[s if isinstance(s, str) else s[0] for s in stages])
        with self.store.tx() as c:
            c.execute("INSERT INTO templates VALUES (?,?,?)", (tpl.id, tpl.title, json.dumps(stored)))
        return tpl

    def list_workflow_templates(self) -> list[WorkflowTemplate]:
        return [WorkflowTemplate(id=r["id"], title=r["title"], stages=[s.title for s in stored_stages(r["stages"])])
                for r in self.store.query("SELECT * FROM templates ORDER BY title COLLATE NOCASE")]

    def _project(self, r, users: dict[str, list[ProjectUser]], datasets: dict[str, list[str]]) -> Project:
        return Project(id=r["id"], title=r["title"], description=r["description"],
                       dataset_ids=datasets.get(r["id"], []), ontology_id=r["ontology_id"],
                       template_id=r["template_id"], users=users.get(r["id"], []),
                       created_at=parse_iso(r["created_at"]), stages=stored_stages(r["stages"]),
                       caller_role="admin")

    def _projects(self, rows: list[Any], *, every: bool = False) -> list[Project]:
        """Projects from their rows, with the users and datasets of those projects alone (``every``:
        the rows are all the projects, so both tables are read whole)."""
        if not rows:
            return []
        users: dict[str, list[ProjectUser]] = {}
        datasets: dict[str, list[str]] = {}
        ids = [r["id"] for r in rows]
        chunks = [()] if every else [tuple(ids[i:i + 500]) for i in range(0, len(ids), 500)]
        for chunk in chunks:
            where = f"WHERE project_id IN ({','.join('?' * len(chunk))}) " if chunk else ""
            for r in self.store.query(f"SELECT * FROM project_users {where}ORDER BY email COLLATE NOCASE", chunk):
                users.setdefault(r["project_id"], []).append(ProjectUser(email=r["email"], role=r["role"]))
            for r in self.store.query(f"SELECT * FROM project_datasets {where}ORDER BY rowid", chunk):
                datasets.setdefault(r["project_id"], []).append(r["dataset_id"])
        return [self._project(r, users, datasets) for r in rows]

    def _marked_rows(self, text: str) -> list[Any] | None:
        """The rows of the projects whose description holds ``text``, a text holding a training
        marker (a marker, a whole training description), found by the marker indexes; None for other
        text. Exact: where a description holds ``text``, it holds the marker there; that is either its
        first marker, so its indexed tail (MARKER_TAIL) begins with ``text`` from the marker on (a
        range of that index), or a later one, so it is among the few with a second (MARKER_AGAIN)."""
        at = text.find(MARKER_PREFIX)
        if at < 0 or ord(text[-1]) >= 0xD7FF:
            return None
        tail = text[at:]
        upper = tail[:-1] + chr(ord(tail[-1]) + 1)  # every text that begins with ``tail`` sorts below
        return self.store.query(
            f"SELECT rowid AS rid, * FROM projects WHERE {MARKER_TAIL} >= ? AND {MARKER_TAIL} < ? "
            "AND instr(description, ?) > 0 "
            f"UNION SELECT rowid AS rid, * FROM projects WHERE {MARKER_AGAIN} AND instr(description, ?) > 0 "
            "ORDER BY created_at, rid", (tail, upper, text, text))

    def list_projects(self, *, search: str | None = None, description_contains: str | None = None) -> list[Project]:
        """Only the projects asked for are built (with their users and datasets): a lookup by a
        training marker reads the marker index, not every project."""
        every = False
        if description_contains is not None:
            rows = self._marked_rows(description_contains)
            if rows is None:
                rows = self.store.query("SELECT * FROM projects WHERE instr(description, ?) > 0 "
                                        "ORDER BY created_at, rowid", (description_contains,))
        elif search:
            rows = self.store.query(f"SELECT * FROM projects WHERE {_TITLE_MAY_HOLD} ORDER BY created_at, rowid",
                                    _title_may_hold(search))
        else:
            rows = self.store.query("SELECT * FROM projects ORDER BY created_at, rowid")
            every = True
        if search:
            needle = search.casefold()
            rows = [r for r in rows if needle in r["title"].casefold()]
        return self._projects(rows, every=every)

    def get_project(self, project_id: str, *, details: bool = True) -> Project:
        found = self._projects(self.store.query("SELECT * FROM projects WHERE id = ?", (project_id,)))
        if not found:
            raise NotFound(f"project {project_id} not found", see="projects.list")
        return found[0]

    def create_project(self, title: str, *, description: str, dataset_ids: Sequence[str], ontology_id: str,
                       template_id: str | None = None) -> Project:
        if not title.strip():
            raise InvalidInput("a project needs a title")
        pid = self.new_id()
        with self.store.tx() as c:
            if not c.execute("SELECT 1 FROM ontologies WHERE id = ?", (ontology_id,)).fetchone():
                raise NotFound(f"ontology {ontology_id} not found")
            stages = DEFAULT_STAGES
            if template_id is not None:
                tpl = c.execute("SELECT stages FROM templates WHERE id = ?", (template_id,)).fetchone()
                if not tpl:
                    raise NotFound(f"workflow template {template_id} not found")
                stages = json.loads(tpl[0])
            for d in dataset_ids:
                if not c.execute("SELECT 1 FROM datasets WHERE id = ?", (d,)).fetchone():
                    raise NotFound(f"dataset {d} not found")
            c.execute("INSERT INTO projects VALUES (?,?,?,?,?,?,?)",
                      (pid, title, description, ontology_id, template_id, json.dumps(stages), now_iso()))
            c.executemany("INSERT INTO project_datasets VALUES (?,?)", [(pid, d) for d in dict.fromkeys(dataset_ids)])
            c.execute("INSERT INTO project_users VALUES (?,?,?)", (pid, self.user, "admin"))
            self._ensure_label_rows(c, pid)
        return self.get_project(pid)

    def _ensure_label_rows(self, c, project_id: str) -> None:
        stages = [st.title for st in stored_stages(
            c.execute("SELECT stages FROM projects WHERE id = ?", (project_id,)).fetchone()[0])]
        stamp = now_iso()
        c.execute(
            "INSERT OR IGNORE INTO label_rows (project_id, data_hash, label_hash, stage, last_edited_at, created_at) "
            "SELECT ?, di.item_id, lower(hex(randomblob(16))), ?, ?, ? FROM project_datasets pd "
            "JOIN dataset_items di ON di.dataset_id = pd.dataset_id WHERE pd.project_id = ?",
            (project_id, stages[0], stamp, stamp, project_id))

    def add_users(self, project_id: str, emails: Iterable[str], role: str = "annotator") -> None:
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}", hint="one of " + ", ".join(ROLES))
        with self.store.tx() as c:
            if not c.execute("SELECT 1 FROM projects WHERE id = ?", (project_id,)).fetchone():
                raise NotFound(f"project {project_id} not found")
            for email in emails:
                c.execute("INSERT OR IGNORE INTO users(email) VALUES (?)", (email,))
                c.execute("INSERT INTO project_users VALUES (?,?,?) ON CONFLICT(project_id, email) "
                          "DO UPDATE SET role = excluded.role", (project_id, email, role))

    # -- labels -------------------------------------------------------------------------
    def project_stages(self, project_id: str) -> list[str]:
        rows = self.store.query("SELECT stages FROM projects WHERE id = ?", (project_id,))
        if not rows:
            raise NotFound(f"project {project_id} not found", see="projects.list")
        return [st.title for st in stored_stages(rows[0]["stages"])]

    def stage_objects(self, project_id: str) -> list[Stage]:
        rows = self.store.query("SELECT stages FROM projects WHERE id = ?", (project_id,))
        if not rows:
            raise NotFound(f"project {project_id} not found", see="projects.list")
        return stored_stages(rows[0]["stages"])

    def final_stage(self, project_id: str) -> str:
        """The title of the project's final (done) stage, where finished work goes."""
        stages = self.stage_objects(project_id)
        final = final_stage_of(stages)
        return final.title if final is not None else stages[-1].title

    def list_label_rows(self, project_id: str, *, stage: str | None = None,
                        edited_after: datetime | None = None, done_only: bool = False) -> list[LabelRowInfo]:
        kinds = {s.title: s.kind for s in self.stage_objects(project_id)}
        sql = ("SELECT lr.*, i.name FROM label_rows lr JOIN items i ON i.id = lr.data_hash "
               "WHERE lr.project_id = ?")
        params: list[Any] = [project_id]
        if stage is not None:
            sql += " AND lr.stage = ?"
            params.append(stage)
        if edited_after is not None:
            sql += " AND lr.last_edited_at > ?"
            params.append(edited_after.astimezone(UTC).isoformat(timespec="microseconds"))
        sql += " ORDER BY i.rowid"
        infos = [LabelRowInfo(label_hash=r["label_hash"], data_hash=r["data_hash"], data_title=r["name"],
                              stage=r["stage"], last_edited_at=parse_iso(r["last_edited_at"]),
                              stage_kind=kinds.get(r["stage"], ""))
                 for r in self.store.query(sql, tuple(params))]
        return [i for i in infos if i.done] if done_only else infos

    def get_label_rows(self, project_id: str, data_hashes: Sequence[str]) -> list[dict[str, Any]]:
        from annotrain_tui.core.backends.sandbox import labels as lbl  # its shapes load with the first label row

        kinds = {st.title: st.kind for st in self.stage_objects(project_id)}
        assignees = self.task_assignees(project_id)
        out: list[dict[str, Any]] = []
        hashes = list(data_hashes)
        for start in range(0, len(hashes), 500):
            chunk = hashes[start:start + 500]
            rows = self.store.query(
                "SELECT lr.*, i.name, i.item_type, i.url, i.width, i.height, d.id AS ds_id, d.title AS ds_title "
                "FROM label_rows lr JOIN items i ON i.id = lr.data_hash "
                "JOIN project_datasets pd ON pd.project_id = lr.project_id "
                "JOIN dataset_items di ON di.dataset_id = pd.dataset_id AND di.item_id = lr.data_hash "
                "JOIN datasets d ON d.id = pd.dataset_id "
                f"WHERE lr.project_id = ? AND lr.data_hash IN ({','.join('?' * len(chunk))})",
                (project_id, *chunk))
            seen = set()
            for r in rows:
                if r["data_hash"] in seen:
                    continue
                seen.add(r["data_hash"])
                body = json.loads(r["body"]) if r["body"] else {}
                if "raw" in body:  # an imported export: returned as it came, with our stage
                    row = dict(body["raw"])
                    row["last_edited_at"] = lbl.encord_time(parse_iso(r["last_edited_at"]))
                    out.append(row)
                    continue
                out.append(lbl.build_label_row(
                    label_hash=r["label_hash"], data_hash=r["data_hash"], data_title=r["name"],
                    item_type=r["item_type"], data_link=r["url"], width=r["width"], height=r["height"],
                    dataset_hash=r["ds_id"], dataset_title=r["ds_title"], objects=body.get("objects", []),
                    created_at=lbl.encord_time(parse_iso(r["created_at"])),
                    last_edited_at=lbl.encord_time(parse_iso(r["last_edited_at"])), stage=r["stage"],
                    stage_kind=kinds.get(r["stage"], ""), assigned=r["data_hash"] in assignees))
        return out

    def list_done(self, project_id: str) -> dict[str, datetime | None]:
        done = [st.title for st in self.stage_objects(project_id) if st.kind == "done"]
        if not done:
            return {}
        rows = self.store.query(f"SELECT data_hash, last_edited_at FROM label_rows WHERE project_id = ? "
                                f"AND stage IN ({','.join('?' * len(done))})", (project_id, *done))
        return {r["data_hash"]: parse_iso(r["last_edited_at"]) for r in rows}

    def poll_label_rows(self, project_id: str, *, edited_after: datetime | None
                        ) -> tuple[list[LabelRowInfo], list[dict[str, Any]], dict[str, datetime | None]]:
        infos, rows = self.get_edited_label_rows(project_id, edited_after=edited_after)
        return infos, rows, self.list_done(project_id)

    def get_edited_label_rows(self, project_id: str, *, edited_after: datetime | None,
                              stage: str | None = None) -> tuple[list[LabelRowInfo], list[dict[str, Any]]]:
        infos = self.list_label_rows(project_id, edited_after=edited_after)
        wanted = [i.data_hash for i in infos if (i.stage == stage if stage is not None else i.done)]
        return infos, self.get_label_rows(project_id, wanted)

    # -- tasks ----------------------------------------------------------------------------
    def assign_tasks(self, project_id: str, email: str) -> int:
        """Assign every unassigned task in the project's annotation stages to ``email`` (as Encord's
        ``AnnotationTask.assign``); a task someone else holds is left to them. Returns how many were
        assigned now (0 when all already were: idempotent)."""
        annotate = [s.title for s in self.stage_objects(project_id) if s.kind == "annotation"]
        if not annotate:
            return 0
        with self.store.tx() as c:
            c.execute(_ASSIGNEES)
            cur = c.execute(
                "INSERT OR IGNORE INTO task_assignees (project_id, data_hash, assignee) "
                f"SELECT project_id, data_hash, ? FROM label_rows WHERE project_id = ? "
                f"AND stage IN ({','.join('?' * len(annotate))})", (email, project_id, *annotate))
            return cur.rowcount

    def task_assignees(self, project_id: str) -> dict[str, str]:
        """data hash → assignee (empty when nothing was ever assigned)."""
        if not self.store.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'task_assignees'"):
            return {}
        return {r["data_hash"]: r["assignee"] for r in self.store.query(
            "SELECT data_hash, assignee FROM task_assignees WHERE project_id = ?", (project_id,))}

    # -- sandbox-only operations (the simulator, demo seeding, import) ------------------
    def save_labels(self, project_id: str, data_hash: str, objects: list[dict[str, Any]], *,
                    stage: str | None = None, edited_at: datetime | None = None) -> None:
        """Replace a label row's objects (and optionally move it to ``stage``), as an annotator saving."""
        stages = self.project_stages(project_id)
        if stage is not None and stage not in stages:
            raise InvalidInput(f"stage {stage!r} is not in this project's workflow ({' → '.join(stages)})")
        stamp = (edited_at or datetime.now(UTC)).isoformat(timespec="microseconds")
        with self.store.tx() as c:
            cur = c.execute(
                "UPDATE label_rows SET body = ?, last_edited_at = ?, stage = COALESCE(?, stage) "
                "WHERE project_id = ? AND data_hash = ?",
                (json.dumps({"objects": objects}), stamp, stage, project_id, data_hash))
            if cur.rowcount == 0:
                raise NotFound(f"project {project_id} has no label row for data unit {data_hash}")

    def stage_counts(self, project_id: str) -> dict[str, int]:
        rows = self.store.query("SELECT stage, COUNT(*) AS n FROM label_rows WHERE project_id = ? GROUP BY stage",
                                (project_id,))
        return {r["stage"]: r["n"] for r in rows}


def _reachable(url: str) -> bool:
    return "missing" not in url.lower() and "://" in url and not any(ch.isspace() for ch in url)
