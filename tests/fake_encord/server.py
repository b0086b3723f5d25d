"""A loopback HTTP fake of Encord's API for the unmodified ``encord`` SDK.

- Both signing schemes are verified with the registered public keys: the v1 API's
  ``Authorization: <public key hex>:<signature hex>`` over sha256(body), and the v2 API's HTTP
  message signature (``Content-Digest``, ``Signature-Input``, ``Signature``; ed25519 over the
  covered components). Unknown keys and bad signatures are refused (v2: HTTP 401; v1: the
  envelope's AUTHENTICATION_ERROR / SSH_KEY_NOT_FOUND_ERROR).
- Routes are named (``V2_ROUTES`` for v2, ``v1.<query type>.<method>`` for v1) and faults can be
  injected per route: an HTTP status (401/403/404/409/429 with Retry-After/5xx), a dropped
  connection (before or after the call acted), or a delay.
- Listings page with a small page size so lazy iteration and errors on later pages are exercised.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from encord.http import error_utils as eu

from tests.fake_encord.model import JobRec, Workspace, new_id

# The v1 API answers HTTP 200 with the error code (a one-element list, as the SDK compares it) in
# an envelope: {"status": 404, "response": ["RESOURCE_NOT_FOUND_ERROR"], "payload": ...}.
V1_ERRORS = {401: eu.AUTHENTICATION_ERROR, 403: eu.AUTHORISATION_ERROR, 404: eu.RESOURCE_NOT_FOUND_ERROR,
             409: eu.RESOURCE_EXISTS_ERROR, 400: eu.INVALID_ARGUMENTS_ERROR}


def v1_error(status: int, payload: Any = None, code: list[str] | None = None) -> "_Answer":
    """The v1 API's refusal: HTTP 200 with the status and code in the envelope."""
    return _Answer(200, {"status": status, "response": code or V1_ERRORS.get(status, eu.UNKNOWN_ERROR),
                         "payload": payload})


@dataclass
class Fault:
    """What to do instead of (or after) answering a route."""

    status: int | None = None
    retry_after: int | None = None
    message: str | None = None
    drop: bool = False  # close the connection without an answer
    act: bool = False  # perform the call first, then fail: the answer is lost
    delay: float = 0.0
    body: Any = None  # answer 200 with this instead (a malformed answer)
    times: int = 1
    after: int = 0  # let this many calls through first
    # v1 only: a 429 from inside the request handler comes back in the legacy envelope (HTTP 200,
    # RATE_LIMIT_ERROR), which has no room for Retry-After (encord/http/error_utils.py: "Rate limits
    # the API rejects from inside a request handler come back through the legacy envelope").
    in_envelope: bool = False


@dataclass
class Logged:
    scheme: str  # "v1" or "v2"
    route: str
    method: str
    key: str | None
    verified: bool
    params: dict[str, Any] = field(default_factory=dict)


class _Answer(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def _dump(obj: Any) -> Any:
    """A DTO, a list of DTOs or plain data, as JSON-ready data (the SDK's own serialisation)."""
    if hasattr(obj, "to_dict") and hasattr(obj, "model_dump"):
        return obj.to_dict(exclude_none=False)
    if isinstance(obj, list):
        return [_dump(o) for o in obj]
    return obj


def parse(dto: Any, data: dict[str, Any]) -> Any:
    """Validate request data with the SDK's model; absent optional query fields are None (or [])."""
    data = dict(data)
    for name, f in dto.model_fields.items():
        alias = f.alias or name
        if alias not in data and name not in data and f.is_required():
            data[alias] = [] if getattr(f.annotation, "__origin__", None) is list else None
    return dto.from_dict(data)


def _json_default(o: Any) -> Any:
    if isinstance(o, (uuid.UUID, datetime)):
        return str(o) if isinstance(o, uuid.UUID) else o.isoformat()
    if hasattr(o, "value"):
        return o.value
    raise TypeError(type(o).__name__)


class FakeEncord:
    """Start with :meth:`start`; ``url`` is what the SDK's ``domain`` is set to."""

    page_size = 2

    def __init__(self) -> None:
        self.ws = Workspace()
        self.keys: set[str] = set()  # registered public keys (raw hex)
        self.log: list[Logged] = []
        self.refused: list[str] = []
        self.unhandled: list[str] = []
        self.errors: list[str] = []
        self.faults: dict[str, list[Fault]] = {}
        self.calls: dict[str, int] = {}
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "FakeEncord":
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def register_key(self, public_hex: str) -> None:
        self.keys.add(public_hex)

    def inject(self, route: str, fault: Fault) -> None:
        with self.lock:
            self.faults.setdefault(route, []).append(fault)

    def routes_called(self) -> set[str]:
        return {entry.route for entry in self.log}

    # -- faults ------------------------------------------------------------------------------
    def _fault_for(self, route: str) -> Fault | None:
        with self.lock:
            n = self.calls.get(route, 0)
            self.calls[route] = n + 1
            for fault in self.faults.get(route, []):
                if fault.times > 0 and n >= fault.after:
                    fault.times -= 1
                    return fault
        return None

    # -- signatures --------------------------------------------------------------------------
    def verify_v1(self, headers: Any, body: bytes) -> str:
        auth = headers.get("Authorization", "")
        pub, _, sig = auth.partition(":")
        self._verify(pub, bytes.fromhex(sig) if re.fullmatch(r"[0-9a-f]*", sig) else b"",
                     hashlib.sha256(body).digest())
        return pub

    def verify_v2(self, method: str, target: str, headers: Any, body: bytes) -> str:
        digest = headers.get("Content-Digest", "")
        expected = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
        if digest != expected:
            raise _Refused("content digest does not match the body")
        params = headers.get("Signature-Input", "")
        if not params.startswith("encord-sig="):
            raise _Refused("no encord-sig signature input")
        params = params[len("encord-sig="):]
        if not params.startswith('("@method" "@request-target" "content-digest")'):
            raise _Refused("unexpected covered components")
        key = re.search(r';keyid="([0-9a-f]+)"', params)
        created = re.search(r";created=(\d+)", params)
        if not key or not created or 'alg="ed25519"' not in params:
            raise _Refused("incomplete signature parameters")
        if abs(time.time() - int(created[1])) > 300:
            raise _Refused("signature too old")
        sig = re.fullmatch(r"encord-sig=:([A-Za-z0-9+/=]+):", headers.get("Signature", ""))
        if not sig:
            raise _Refused("no signature")
        base = "\n".join([f'"@method": {method}', f'"@request-target": {target}', f'"content-digest": {digest}',
                          f'"@signature-params": {params}'])
        self._verify(key[1], base64.b64decode(sig[1]), base.encode())
        return key[1]

    def _verify(self, pub: str, signature: bytes, message: bytes) -> None:
        if pub not in self.keys:
            raise _Refused("unknown key", unknown_key=True)
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub)).verify(signature, message)
        except (InvalidSignature, ValueError):
            raise _Refused("bad signature") from None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # never print into a test's stderr
        pass


class _Refused(Exception):
    def __init__(self, why: str, *, unknown_key: bool = False) -> None:
        super().__init__(why)
        self.unknown_key = unknown_key


# -- the HTTP side ------------------------------------------------------------------------------
Route = tuple[str, str, str, Callable[..., Any]]


class _Handler(BaseHTTPRequestHandler):
    owner: FakeEncord
    server_version = "FakeEncord/1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        v2 = split.path.startswith("/v2/public/")
        try:
            if v2:
                route, call, params = self._route_v2(split.path[len("/v2/public/"):], split.query, body)
                try:
                    key = fake.verify_v2(self.command, self.path, self.headers, body)
                except _Refused as why:
                    fake.refused.append(f"v2 {route}: {why}")
                    raise _Answer(401, {"message": "You are not authenticated to access the Encord platform."})
            else:
                route, call, params = self._route_v1(split.path, body)
                try:
                    key = fake.verify_v1(self.headers, body)
                except _Refused as why:
                    fake.refused.append(f"v1 {route}: {why}")
                    raise v1_error(401, code=eu.SSH_KEY_NOT_FOUND_ERROR if why.unknown_key else None)
            with fake.lock:
                fake.log.append(Logged("v2" if v2 else "v1", route, self.command, key, True, params))
            fault = fake._fault_for(route)
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.act:
                    with fake.lock:
                        call()
                if fault.drop:
                    self.close_connection = True
                    return
                if fault.status is not None:
                    self._fail(fault, v2)
                    return
                if fault.body is not None:
                    self._send(200, fault.body if v2 else {"status": 200, "response": fault.body})
                    return
            with fake.lock:
                result = call()
            self._send(200, result if v2 else {"status": 200, "response": result})
        except _Answer as answer:
            self._send(answer.status, answer.body, answer.headers)
        except Exception as exc:  # a bug in the fake (or a request it cannot parse): say so loudly
            fake.errors.append(f"{self.command} {self.path}: {type(exc).__name__}: {exc}")
            self._send(500, {"message": "the fake failed"})

    def _fail(self, fault: Fault, v2: bool) -> None:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        status = fault.status or 500
        if status == 429 and fault.in_envelope and not v2:
            answer = v1_error(429, fault.message, code=eu.RATE_LIMIT_ERROR)
            self._send(answer.status, answer.body, answer.headers)
            return
        if status == 429 or status >= 500:  # the rate limiter and the infrastructure answer in HTTP
            if status >= 500:
                self._send(status, None, headers, raw=b"<html><body>502 Bad Gateway</body></html>")
            else:
                self._send(status, {"message": "Too many requests"}, headers)
            return
        if v2:
            self._send(status, {"message": fault.message} if fault.message else {}, headers)
        else:
            answer = v1_error(status, fault.message)
            self._send(answer.status, answer.body)

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(_dump(body), default=_json_default).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if raw is not None else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    # -- v2 ----------------------------------------------------------------------------------
    def _route_v2(self, path: str, query: str, body: bytes) -> tuple[str, Callable[[], Any], dict[str, Any]]:
        raw = {k: (v[0] if len(v) == 1 else v) for k, v in parse_qs(query).items()}
        payload = json.loads(body) if body else None
        api = _V2(self.owner, raw, payload)
        for method, pattern, name, fn in V2_ROUTES:
            m = re.fullmatch(pattern, path)
            if m and method == self.command:
                return name, (lambda fn=fn, m=m: fn(api, **m.groupdict())), raw
        self.owner.unhandled.append(f"{self.command} /v2/public/{path}")
        raise _Answer(404, {"message": "no such route in the fake"})

    # -- v1 ----------------------------------------------------------------------------------
    def _route_v1(self, path: str, body: bytes) -> tuple[str, Callable[[], Any], dict[str, Any]]:
        try:
            req = json.loads(body)
            qtype, qmethod = req["query_type"], req["query_method"]
            values = req.get("values") or {}
        except (ValueError, KeyError, TypeError):
            raise _Answer(400, {"message": "not a v1 request"}) from None
        name = f"v1.{qtype}.{qmethod.lower()}"
        res_type, res_id = self.headers.get("ResourceType", ""), self.headers.get("ResourceID", "")
        api = _V1(self.owner, res_type, res_id, values.get("uid"), values.get("payload"))
        fn = V1_ROUTES.get(name)
        expected_path = "/public/user" if res_type == "" else "/public"
        if fn is None or path != expected_path:
            self.owner.unhandled.append(f"{path} {name}")
            raise v1_error(400, code=eu.UNKNOWN_ERROR)
        return name, (lambda: fn(api)), {"resource": res_type, "id": res_id}


class _V2:
    """Handlers for the v2 routes; ``q`` is the query string, ``body`` the JSON payload."""

    def __init__(self, fake: FakeEncord, q: dict[str, Any], body: Any) -> None:
        self.fake, self.ws, self.q, self.body = fake, fake.ws, q, body

    def page(self, items: list[Any]) -> Any:
        from encord.http.v2.payloads import Page

        token = self.q.get("pageToken")
        start = int(token) if token else 0
        size = min(int(self.q.get("pageSize") or 100), self.fake.page_size)
        chunk = items[start:start + size]
        nxt = str(start + size) if start + size < len(items) else None
        return Page[Any](results=[_dump(x) for x in chunk], next_page_token=nxt).to_dict(exclude_none=False)

    def whole(self, items: list[Any]) -> Any:
        """One page holding everything, for the routes the SDK reads as a single page (it never asks
        for a second one there, so paging them would hide items from it)."""
        from encord.http.v2.payloads import Page

        return Page[Any](results=[_dump(x) for x in items], next_page_token=None).to_dict(exclude_none=False)

    def folder(self, fid: str) -> Any:
        if fid not in self.ws.folders:
            raise _Answer(404, {"message": "folder not found"})
        return fid

    def integrations(self) -> Any:
        from encord.orm.cloud_integration import (
            CloudIntegrationV2,
            GetCloudIntegrationsParams,
            GetCloudIntegrationsResponse,
        )

        parse(GetCloudIntegrationsParams, self.q)
        return GetCloudIntegrationsResponse(result=[CloudIntegrationV2(integration_uuid=i, title=t)
                                                    for i, t in self.ws.integrations.items()])

    def folders(self, *, parent: str | None = None, recursive: bool = False) -> Any:
        from encord.orm.storage import ListFoldersParams

        params = parse(ListFoldersParams, self.q)
        found = [f for f in self.ws.folders.values() if recursive or f.parent == parent]
        if params.search:
            found = [f for f in found if params.search.casefold() in f.name.casefold()]
        found.sort(key=lambda f: f.name.casefold())
        return self.page([self.ws.folder_dto(f.uuid) for f in found])

    def folders_top(self) -> Any:
        return self.folders()

    def folders_search(self) -> Any:
        return self.folders(recursive=True)

    def folder_get(self, id: str) -> Any:
        return self.ws.folder_dto(self.folder(id))

    def subfolders(self, id: str) -> Any:
        return self.folders(parent=self.folder(id))

    def folder_create(self) -> Any:
        from encord.orm.storage import CreateStorageFolderPayload

        p = parse(CreateStorageFolderPayload, self.body)
        if p.parent is not None:
            self.folder(str(p.parent))
        fid = self.ws.add_folder(p.name, str(p.parent) if p.parent else None, p.description or "", p.client_metadata)
        return self.ws.folder_dto(fid)

    def items(self, id: str) -> Any:
        from encord.orm.storage import ListItemsParams

        parse(ListItemsParams, self.q)
        fid = self.folder(id)
        return self.page([self.ws.item_dto(i.uuid) for i in self.ws.items.values() if i.parent == fid])

    def job_start(self, id: str) -> Any:
        from encord.orm.storage import PostUploadJobParams

        p = parse(PostUploadJobParams, self.body)
        fid = self.folder(id)
        if p.integration_hash is None or str(p.integration_hash) not in self.ws.integrations:
            raise _Answer(404, {"message": "integration not found"})
        job = JobRec(new_id(), fid, str(p.integration_hash), p.external_files or {}, p.ignore_errors,
                     self.ws.job_polls_pending)
        self.ws.jobs[job.uuid] = job
        return job.uuid

    def job_get(self, id: str, job: str) -> Any:
        from encord.orm.storage import GetUploadJobParams

        parse(GetUploadJobParams, self.q)
        rec = self.ws.jobs.get(job)
        if rec is None or rec.folder != self.folder(id):
            raise _Answer(404, {"message": "upload job not found"})
        return self.ws.upload_state(rec)

    def datasets(self) -> Any:
        from encord.orm.dataset import (
            DatasetsWithUserRolesListParams,
            DatasetsWithUserRolesListResponse,
            DatasetUserRoleV2,
            DatasetWithUserRole,
        )

        parse(DatasetsWithUserRolesListParams, self.q)
        return DatasetsWithUserRolesListResponse(result=[
            DatasetWithUserRole(dataset_uuid=d.hash, title=d.title, description=d.description, created_at=d.created_at,
                                last_edited_at=d.created_at, user_role=DatasetUserRoleV2.ADMIN)
            for d in self.ws.datasets.values()])

    def dataset_create(self) -> Any:
        from encord.orm.dataset import CreateDatasetPayload, CreateDatasetResponseV2

        p = parse(CreateDatasetPayload, self.body)
        return CreateDatasetResponseV2(dataset_uuid=self.ws.add_dataset(p.title, p.description or ""))

    def ontologies(self) -> Any:
        from encord.utilities.ontology_user import OntologiesFilterParams

        parse(OntologiesFilterParams, self.q)
        # encord 0.1.x user_client.get_ontologies: `self._api_client.get("ontologies", ...,
        # result_type=Page[OntologyWithUserRole])` and reads `page.results` once, no next page.
        return self.whole([self.ws.ontology_dto(o) for o in self.ws.ontologies])

    def ontology_get(self, id: str) -> Any:
        if id not in self.ws.ontologies:
            raise _Answer(404, {"message": "ontology not found"})
        return self.ws.ontology_dto(id)

    def projects(self) -> Any:
        from encord.orm.project import ProjectFilterParams

        parse(ProjectFilterParams, self.q)
        return self.page([self.ws.project_dto(p) for p in self.ws.projects])

    def project(self, id: str) -> Any:
        if id not in self.ws.projects:
            raise _Answer(404, {"message": "project not found"})
        return self.ws.projects[id]

    def project_get(self, id: str) -> Any:
        return self.ws.project_dto(self.project(id).hash)

    def project_datasets(self, id: str) -> Any:
        from encord.orm.project import ProjectDataset

        p = self.project(id)
        # encord 0.1.x client.list_project_datasets: `self._api_client.get(f"projects/{hash}/datasets",
        # result_type=Page[ProjectDataset]).results`: one page, never a second.
        return self.whole([ProjectDataset(dataset_hash=d, title=self.ws.datasets[d].title,
                                          description=self.ws.datasets[d].description) for d in p.datasets])

    def project_users(self, id: str) -> Any:
        from encord.orm.project import ProjectUserResponse

        p = self.project(id)
        return self.page([ProjectUserResponse(user_email=e, user_role=r) for e, r in sorted(p.users.items())])


_ID = r"(?P<id>[0-9a-f-]+)"
V2_ROUTES: list[Route] = [
    ("GET", r"cloud-integrations", "integrations.list", _V2.integrations),
    ("GET", r"storage/folders", "folders.list", _V2.folders_top),
    ("GET", r"storage/search/folders", "folders.search", _V2.folders_search),
    ("POST", r"storage/folders", "folders.create", _V2.folder_create),
    ("GET", rf"storage/folders/{_ID}", "folders.get", _V2.folder_get),
    ("GET", rf"storage/folders/{_ID}/folders", "folders.subfolders", _V2.subfolders),
    ("GET", rf"storage/folders/{_ID}/items", "items.list", _V2.items),
    ("POST", rf"storage/folders/{_ID}/data-upload-jobs", "jobs.start", _V2.job_start),
    ("GET", rf"storage/folders/{_ID}/data-upload-jobs/(?P<job>[0-9a-f-]+)", "jobs.get", _V2.job_get),
    ("GET", r"datasets/list", "datasets.list", _V2.datasets),
    ("POST", r"datasets", "datasets.create", _V2.dataset_create),
    ("GET", r"ontologies", "ontologies.list", _V2.ontologies),
    ("GET", rf"ontologies/{_ID}", "ontologies.get", _V2.ontology_get),
    ("GET", r"projects", "projects.list", _V2.projects),
    ("GET", rf"projects/{_ID}", "projects.get", _V2.project_get),
    ("GET", rf"projects/{_ID}/datasets", "projects.datasets", _V2.project_datasets),
    ("GET", rf"projects/{_ID}/users", "projects.users", _V2.project_users),
]


class _V1:
    """Handlers for the v1 (``/public``, ``/public/user``) query types."""

    def __init__(self, fake: FakeEncord, res_type: str, res_id: str, uid: Any, payload: Any) -> None:
        self.fake, self.ws = fake, fake.ws
        self.res_type, self.res_id, self.uid, self.payload = res_type, res_id, uid, payload or {}

    def dataset_rec(self) -> Any:
        if self.res_type != "dataset" or self.res_id not in self.ws.datasets:
            raise v1_error(404)
        return self.ws.datasets[self.res_id]

    def project_rec(self) -> Any:
        if self.res_type != "project" or self.res_id not in self.ws.projects:
            raise v1_error(404)
        return self.ws.projects[self.res_id]

    def dataset_get(self) -> Any:
        d = self.dataset_rec()
        settings = self.payload.get("dataset_access_settings") or {}
        return self.ws.dataset_orm(d.hash, with_rows=bool(settings.get("fetch_rows", True)))

    def data_rows(self) -> Any:
        return [self.ws.data_row(i) for i in self.dataset_rec().items]

    def link_items(self) -> Any:
        d = self.dataset_rec()
        new = []
        for iid in self.payload.get("item_uuids") or []:
            if iid not in self.ws.items:
                raise v1_error(404, f"item {iid} not found")
            if iid not in d.items:
                d.items.append(iid)
                new.append(iid)
        self.ws.sync_rows()
        return [self.ws.data_row(i) for i in new]

    def project_create(self) -> Any:
        p = self.payload
        if p.get("ontology_hash") not in self.ws.ontologies:
            raise v1_error(404, "ontology")
        for d in p.get("dataset_hashes") or []:
            if d not in self.ws.datasets:
                raise v1_error(404, "dataset")
        stages = None
        if p.get("workflow_template_id") is not None:
            stages = self.ws.templates.get(p["workflow_template_id"])
            if stages is None:
                raise v1_error(404, "template")
        return self.ws.add_project(p["title"], ontology=p["ontology_hash"], datasets=list(p.get("dataset_hashes") or []),
                                   description=p.get("description") or "", stages=stages)

    def row_metadata(self) -> Any:
        from datetime import datetime as dt

        p = self.project_rec()
        q = self.payload
        rows = list(p.rows.values())
        if q.get("data_hashes") is not None:
            rows = [r for r in rows if r.data_hash in set(q["data_hashes"])]
        if q.get("workflow_graph_node_title_eq") is not None:
            rows = [r for r in rows if self.ws.stage_title(p, r.stage_uuid) == q["workflow_graph_node_title_eq"]]
        if q.get("edited_after"):
            after = dt.fromisoformat(q["edited_after"])
            rows = [r for r in rows if r.last_edited_at is not None and r.last_edited_at > after]
        return [self.ws.row_metadata(p, r).to_dict() for r in rows]

    def label_rows_get(self) -> Any:
        p = self.project_rec()
        by_label = {r.label_hash: r for r in p.rows.values() if r.label_hash}
        return [self.ws.label_row(p, by_label[h]) for h in self.uid or [] if h in by_label]

    def label_rows_create(self) -> Any:
        p = self.project_rec()
        return [self.ws.label_row(p, p.rows[h]) for h in self.uid or [] if h in p.rows]

    def add_users(self) -> Any:
        from encord.utilities.project_user import ProjectUser

        p = self.project_rec()
        role = int(self.payload["user_role"])
        out = []
        for email in self.payload.get("user_emails") or []:
            p.users.setdefault(email, role)
            out.append(ProjectUser(user_email=email, user_role=p.users[email], project_hash=p.hash).to_dict())
        return out


V1_ROUTES: dict[str, Callable[[_V1], Any]] = {
    "v1.dataset.get": _V1.dataset_get,
    "v1.datarows.get": _V1.data_rows,
    "v1.datasetlinkitems.post": _V1.link_items,
    "v1.project.post": _V1.project_create,
    "v1.labelrowmetadata.get": _V1.row_metadata,
    "v1.labelrow.get": _V1.label_rows_get,
    "v1.labelrow.put": _V1.label_rows_create,
    "v1.projectusers.post": _V1.add_users,
}
