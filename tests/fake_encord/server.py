"""A loopback HTTP fake of Encord's API for the unmodified ``encord`` SDK.

- Both signing schemes are verified with the registered public keys: the v1 API's
  ``Authorization: <public key hex>:<signature hex>`` over sha256(body), and the v2 API's HTTP
  message signature (``Content-Digest``, ``Signature-Input``, ``Signature``; ed25519 over the
  covered components). Unknown keys and bad signatures are refused (v2: HTTP 401; v1: the
  envelope's AUTHENTICATION_ERROR / SSH_KEY_NOT_FOUND_ERROR).
- Routes are named (``V2_ROUTES`` for v2, ``v1.<query type>.<method>`` for v1) and faults can be
  injected per route: an HTTP status (401/403/404/409/429 with Retry-After/5xx), a dropped
  connection (before or after the call acted), or a delay.
- Bearer tokens (``EncordUserClient.create_with_bearer_token``; SDK/configs.py BearerConfig sends
  ``Authorization: Bearer <token>`` on both APIs) are accepted when registered with
  :meth:`FakeEncord.register_token`; unknown ones are refused like unknown keys.
- Listings the SDK iterates (projects, folders, items, users, workflow tasks) page with a small page
  size so lazy iteration and errors on later pages are exercised; the ones it reads as one page
  (ontologies, a project's datasets) never page.
- What the fake does and why (the citation for each behaviour) is tabled in ``model.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from encord.http import error_utils as eu

from tests.fake_encord.model import JobRec, Workspace, aware, new_id, utc_naive

# The v1 API answers HTTP 200 with the error code (a one-element list, as the SDK compares it) in
# an envelope: {"status": 404, "response": ["RESOURCE_NOT_FOUND_ERROR"], "payload": ...}.
V1_ERRORS = {401: eu.AUTHENTICATION_ERROR, 403: eu.AUTHORISATION_ERROR, 404: eu.RESOURCE_NOT_FOUND_ERROR,
             409: eu.RESOURCE_EXISTS_ERROR, 400: eu.INVALID_ARGUMENTS_ERROR}


def v1_error(status: int, payload: Any = None, code: list[str] | None = None) -> _Answer:
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
    """One call. ``params``: v2: the query, plus ``body_bytes`` and ``items`` (the length of a JSON
    list body); v1: ``resource``, ``id``, ``body_bytes``, ``uids`` (how many uids, for a list),
    ``item_uuids`` (how many, in a link) and ``data_hashes`` (how many, in a metadata filter)."""

    scheme: str  # "v1" or "v2"
    route: str
    method: str
    key: str | None  # public key hex, or "bearer:<token>"
    verified: bool
    params: dict[str, Any] = field(default_factory=dict)


#: routes that change the workspace (every call is in ``FakeEncord.log``; ``writes()`` picks these)
WRITE_ROUTES = {"folders.create", "jobs.start", "jobs.cancel", "datasets.create", "tasks.actions", "tasks.move",
                "v1.datasetlinkitems.post", "v1.project.post", "v1.labelrow.put", "v1.labelrow.post",
                "v1.projectusers.post"}


_NO_CONTENT = object()  # a call whose answer is an empty body (the SDK's result_type=None)


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


def _is_list(annotation: Any) -> bool:
    import typing

    if getattr(annotation, "__origin__", None) is list:
        return True
    return any(_is_list(a) for a in typing.get_args(annotation) if a is not type(None))


def parse(dto: Any, data: dict[str, Any] | None) -> Any:
    """Validate request data with the SDK's model; absent optional query fields are None (or []).
    A list field sent once in a query string (``?dataHashes=x``) arrives as one value: made a list."""
    data = dict(data or {})
    for name, f in dto.model_fields.items():
        alias = f.alias or name
        key = alias if alias in data else name if name in data else None
        if key is None and f.is_required():
            data[alias] = [] if _is_list(f.annotation) else None
        elif key is not None and _is_list(f.annotation) and not isinstance(data[key], list):
            data[key] = [data[key]]
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
        self.tokens: set[str] = set()  # registered bearer tokens
        self.max_hold = 30.0  # never hold a long poll longer than this, whatever it asks
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
    def start(self) -> FakeEncord:
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

    def register_token(self, token: str) -> None:
        """Accept ``Authorization: Bearer <token>`` (EncordUserClient.create_with_bearer_token)."""
        self.tokens.add(token)

    def writes(self) -> list[Logged]:
        """The logged calls that change the workspace (creates, links, label-row PUTs, task actions)."""
        with self.lock:
            return [e for e in self.log if e.route in WRITE_ROUTES]

    def inject(self, route: str, fault: Fault) -> None:
        with self.lock:
            self.faults.setdefault(route, []).append(fault)

    def routes_called(self) -> set[str]:
        return {entry.route for entry in self.log}

    # -- faults ------------------------------------------------------------------------------
    def _long_poll(self, job_id: str, timeout: Any) -> None:
        """The long poll (SDK/orm/storage.py GetUploadJobParams.timeout_seconds: "Maximum number of
        seconds to wait before returning the current job status"): while a held job is pending, wait
        for it to settle, up to the requested seconds (never longer; 0 = one check, PR #278)."""
        job = self.ws.jobs.get(job_id)
        try:
            seconds = max(0.0, min(float(timeout if timeout is not None else 60), self.max_hold))
        except (TypeError, ValueError):
            seconds = 0.0
        if job is None:
            return
        job.waits.append(seconds)
        if job.held and job.result is None and seconds > 0:
            job.waiting.set()
            job.settled.wait(seconds)

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
    def verify_bearer(self, headers: Any) -> str | None:
        """``Bearer <token>`` (SDK/configs.py BearerConfig.define_headers / define_headers_v2): the
        caller's id, or None when the request is not bearer-authenticated."""
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        token = auth[len("Bearer "):]
        if token not in self.tokens:
            raise _Refused("unknown bearer token")
        return f"bearer:{token}"

    def verify_v1(self, headers: Any, body: bytes) -> str:
        bearer = self.verify_bearer(headers)
        if bearer is not None:
            return bearer
        auth = headers.get("Authorization", "")
        pub, _, sig = auth.partition(":")
        self._verify(pub, bytes.fromhex(sig) if re.fullmatch(r"[0-9a-f]*", sig) else b"",
                     hashlib.sha256(body).digest())
        return pub

    def verify_v2(self, method: str, target: str, headers: Any, body: bytes) -> str:
        bearer = self.verify_bearer(headers)
        if bearer is not None:
            return bearer
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
                route, call, params, groups = self._route_v2(split.path[len("/v2/public/"):], split.query, body)
                try:
                    key = fake.verify_v2(self.command, self.path, self.headers, body)
                except _Refused as why:
                    fake.refused.append(f"v2 {route}: {why}")
                    raise _Answer(401, {"message": "You are not authenticated to access the Encord platform."}) from None
            else:
                route, call, params = self._route_v1(split.path, body)
                groups = {}
                try:
                    key = fake.verify_v1(self.headers, body)
                except _Refused as why:
                    fake.refused.append(f"v1 {route}: {why}")
                    raise v1_error(401, code=eu.SSH_KEY_NOT_FOUND_ERROR if why.unknown_key else None) from None
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
            if route == "jobs.get":
                fake._long_poll(groups.get("job", ""), params.get("timeoutSeconds"))
            with fake.lock:
                result = call()
            if result is _NO_CONTENT:
                self._send(200, None)
                return
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
    def _route_v2(self, path: str, query: str,
                  body: bytes) -> tuple[str, Callable[[], Any], dict[str, Any], dict[str, str]]:
        raw = {k: (v[0] if len(v) == 1 else v) for k, v in parse_qs(query).items()}
        payload = json.loads(body) if body else None
        api = _V2(self.owner, raw, payload)
        logged: dict[str, Any] = {**raw, "body_bytes": len(body)}
        if isinstance(payload, list):
            logged["items"] = len(payload)
        for method, pattern, name, fn in V2_ROUTES:
            m = re.fullmatch(pattern, path)
            if m and method == self.command:
                return name, (lambda fn=fn, m=m: fn(api, **m.groupdict())), logged, m.groupdict()
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
        logged: dict[str, Any] = {"resource": res_type, "id": res_id, "body_bytes": len(body)}
        uid = values.get("uid")
        if isinstance(uid, list):
            logged["uids"] = len(uid)
        payload = values.get("payload") if isinstance(values.get("payload"), dict) else {}
        for key in ("item_uuids", "data_hashes"):
            if isinstance(payload.get(key), list):
                logged[key] = len(payload[key])
        return name, (lambda: fn(api)), logged


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

    # -- permissions ---------------------------------------------------------------------------
    def folder(self, fid: str) -> Any:
        # SDK/user_client.py get_storage_folder: "AuthorisationError: If the folder with the given
        # UUID does not exist or the user does not have access to it" -- 403 for both, never 404.
        f = self.ws.folders.get(fid)
        if f is None or not f.visible:
            raise _Answer(403, {"message": "You are not authorised to access this asset."})
        return fid

    def project(self, id: str) -> Any:
        p = self.ws.projects.get(id)
        if p is None:  # unknown: a switch (model.py, "Unknown (switches)")
            status = self.ws.unknown_project_status
            raise _Answer(status, {"message": "project not found" if status == 404 else
                                   "You are not authorised to access this asset."})
        if not p.visible:
            raise _Answer(403, {"message": "You are not authorised to access this asset."})
        return p

    def project_details(self, id: str) -> Any:
        """users / datasets of a project: only for admins and team managers (SDK/user_client.py
        get_project docstring: project admin, team manager or organisation admin)."""
        from tests.fake_encord.model import NO_PROJECT_DETAILS

        p = self.project(id)
        if p.role in NO_PROJECT_DETAILS:
            raise _Answer(403, {"message": "You are not authorised to access this asset."})
        return p

    # -- storage -------------------------------------------------------------------------------
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
        found = [f for f in self.ws.folders.values() if f.visible and (recursive or f.parent == parent)]
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
                     self.ws.job_polls_pending, held=self.ws.job_hold)
        if not job.held:
            job.settled.set()
        self.ws.jobs[job.uuid] = job
        return job.uuid

    def _job(self, id: str, job: str) -> Any:
        rec = self.ws.jobs.get(job)
        if rec is None or rec.folder != self.folder(id):
            raise _Answer(404, {"message": "upload job not found"})
        return rec

    def job_get(self, id: str, job: str) -> Any:
        from encord.orm.storage import GetUploadJobParams

        parse(GetUploadJobParams, self.q)
        return self.ws.upload_state(self._job(id, job))

    def job_cancel(self, id: str, job: str) -> Any:
        """SDK/storage.py StorageFolder.add_data_to_folder_job_cancel -> AddDataToFolderJobCancelResponse."""
        from encord.orm.storage import AddDataToFolderJobCancelResponse

        rec = self._job(id, job)
        return AddDataToFolderJobCancelResponse(units_cancelled_count=self.ws.cancel_job(rec.uuid))

    # -- datasets, ontologies, projects -------------------------------------------------------
    def datasets(self) -> Any:
        from encord.orm.dataset import (
            DatasetsWithUserRolesListParams,
            DatasetsWithUserRolesListResponse,
            DatasetUserRoleV2,
            DatasetWithUserRole,
        )

        parse(DatasetsWithUserRolesListParams, self.q)
        return DatasetsWithUserRolesListResponse(result=[
            DatasetWithUserRole(dataset_uuid=d.hash, title=d.title, description=d.description,
                                created_at=aware(d.created_at), last_edited_at=aware(d.created_at),
                                user_role=DatasetUserRoleV2[d.role])
            for d in self.ws.datasets.values() if d.visible])

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
        # user_client.list_projects: "projects the user has access to" -- hidden ones are not listed
        return self.page([self.ws.project_dto(p.hash) for p in self.ws.projects.values() if p.visible])

    def project_get(self, id: str) -> Any:
        return self.ws.project_dto(self.project(id).hash)

    def project_datasets(self, id: str) -> Any:
        from encord.orm.project import ProjectDataset

        p = self.project_details(id)
        # encord 0.1.x client.list_project_datasets: `self._api_client.get(f"projects/{hash}/datasets",
        # result_type=Page[ProjectDataset]).results`: one page, never a second.
        return self.whole([ProjectDataset(dataset_hash=d, title=self.ws.datasets[d].title,
                                          description=self.ws.datasets[d].description) for d in p.datasets])

    def project_users(self, id: str) -> Any:
        from encord.orm.project import ProjectUserResponse

        p = self.project_details(id)
        return self.page([ProjectUserResponse(user_email=e, user_role=r) for e, r in sorted(p.users.items())])

    # -- workflow tasks (SDK/workflow/common.py WorkflowClient) -------------------------------
    def _stage(self, p: Any, s: str) -> Any:
        stage = next((st for st in p.stages if st.uuid == s), None)
        if stage is None:
            raise _Answer(404, {"message": "stage not found"})
        return stage

    def tasks(self, id: str, s: str) -> Any:
        """GET .../workflow/stages/{s}/tasks, paged (get_paged_iterator), with the filters of
        annotation.py _AnnotationTasksQueryParams / review.py / final.py: userEmails, dataHashes,
        datasetHashes, dataTitleContains, statuses. Only rows in that stage have a task there."""
        from encord.workflow.stages.annotation import _AnnotationTasksQueryParams

        p = self.project(id)
        stage = self._stage(p, s)
        q = parse(_AnnotationTasksQueryParams, {k: v for k, v in self.q.items() if k != "statuses"})
        statuses = self.q.get("statuses")
        statuses = None if statuses is None else set(statuses if isinstance(statuses, list) else [statuses])
        found = []
        for row in p.rows.values():
            if row.stage_uuid != stage.uuid:
                continue
            dto = self.ws.task_dto(p, row)
            if q.user_emails and row.assignee not in q.user_emails:
                continue
            if q.data_hashes and uuid.UUID(row.data_hash) not in q.data_hashes:
                continue
            if q.dataset_hashes and uuid.UUID(self.ws.units[row.data_hash].dataset) not in q.dataset_hashes:
                continue
            if q.data_title_contains and q.data_title_contains.casefold() not in dto.data_title.casefold():
                continue
            if statuses and getattr(getattr(dto, "status", None), "value", None) not in statuses:
                continue
            found.append(dto)
        return self.page(found)

    def _task(self, p: Any, stage: Any, task_uuid: str) -> Any:
        row = next((r for r in p.rows.values() if r.task_uuid == str(task_uuid)), None)
        if row is None or row.stage_uuid != stage.uuid:
            raise _Answer(400, {"message": f"task {task_uuid} is not in stage {stage.title!r}"})
        return row

    def _next_stage(self, p: Any, stage: Any) -> Any:
        i = p.stages.index(stage)
        return p.stages[min(i + 1, len(p.stages) - 1)]

    def task_actions(self, id: str, s: str) -> Any:
        """POST .../actions: a list of actions (annotation.py _ActionAssign / _ActionRelease /
        _ActionSubmit; review.py _ActionApprove / _ActionReject, ASSIGN, RELEASE)."""
        p = self.project(id)
        stage = self._stage(p, s)
        actions = self.body if isinstance(self.body, list) else []
        rows = [(a, self._task(p, stage, a.get("taskUuid"))) for a in actions]  # all checked before any acts
        for a, _row in rows:
            kind = a.get("action")
            if kind == "ASSIGN":
                email = a.get("assignee")
                if not email or (self.ws.assign_requires_member and email not in p.users):
                    raise _Answer(400, {"message": f"{email} is not a user of the project"})
            elif kind not in ("RELEASE", "SUBMIT", "APPROVE", "REJECT"):
                raise _Answer(400, {"message": f"unknown action {kind!r}"})
        now = self.ws.tick()
        for a, row in rows:
            kind = a.get("action")
            row.task_updated_at = now
            if kind == "ASSIGN":
                row.assignee, row.task_status = a["assignee"], "ASSIGNED"
            elif kind == "RELEASE":
                row.assignee, row.task_status = None, "RELEASED"
            else:  # a stage move without a label edit
                target = self._next_stage(p, stage) if kind in ("SUBMIT", "APPROVE") else next(
                    (st for st in p.stages if st.stage_type == "ANNOTATION"), p.stages[0])
                keep = a.get("assignee") if a.get("assignee") else None
                self.ws._to_stage(p, row, target.uuid, now)
                if keep:
                    row.assignee, row.task_status = keep, "ASSIGNED"
                self.ws.touch_on_move(row)
        return _NO_CONTENT

    def task_move(self, id: str, s: str) -> Any:
        """POST .../move-tasks (common.py WorkflowMoveTasksRequest: taskUuids, destinationStageUuid)."""
        p = self.project(id)
        stage = self._stage(p, s)
        body = self.body if isinstance(self.body, dict) else {}
        target = self._stage(p, str(body.get("destinationStageUuid")))
        rows = [self._task(p, stage, t) for t in body.get("taskUuids") or []]
        now = self.ws.tick()
        for row in rows:
            self.ws._to_stage(p, row, target.uuid, now)
            self.ws.touch_on_move(row)
        return _NO_CONTENT


_ID = r"(?P<id>[0-9a-f-]+)"
_STAGE = rf"projects/{_ID}/workflow/stages/(?P<s>[0-9a-f-]+)"
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
    ("POST", rf"storage/folders/{_ID}/data-upload-jobs/(?P<job>[0-9a-f-]+)/cancel", "jobs.cancel", _V2.job_cancel),
    ("GET", r"datasets/list", "datasets.list", _V2.datasets),
    ("POST", r"datasets", "datasets.create", _V2.dataset_create),
    ("GET", r"ontologies", "ontologies.list", _V2.ontologies),
    ("GET", rf"ontologies/{_ID}", "ontologies.get", _V2.ontology_get),
    ("GET", r"projects", "projects.list", _V2.projects),
    ("GET", rf"projects/{_ID}", "projects.get", _V2.project_get),
    ("GET", rf"projects/{_ID}/datasets", "projects.datasets", _V2.project_datasets),
    ("GET", rf"projects/{_ID}/users", "projects.users", _V2.project_users),
    ("GET", rf"{_STAGE}/tasks", "tasks.list", _V2.tasks),
    ("POST", rf"{_STAGE}/actions", "tasks.actions", _V2.task_actions),
    ("POST", rf"{_STAGE}/move-tasks", "tasks.move", _V2.task_move),
]


class _V1:
    """Handlers for the v1 (``/public``, ``/public/user``) query types."""

    def __init__(self, fake: FakeEncord, res_type: str, res_id: str, uid: Any, payload: Any) -> None:
        self.fake, self.ws = fake, fake.ws
        self.res_type, self.res_id, self.uid, self.payload = res_type, res_id, uid, payload or {}

    def dataset_rec(self) -> Any:
        d = self.ws.datasets.get(self.res_id) if self.res_type == "dataset" else None
        if d is None:
            raise v1_error(404)
        if not d.visible:  # user_client.get_dataset: dataset admins and org admins only
            raise v1_error(403)
        return d

    def project_rec(self) -> Any:
        p = self.ws.projects.get(self.res_id) if self.res_type == "project" else None
        if p is None:
            raise v1_error(self.ws.unknown_project_status)
        if not p.visible:
            raise v1_error(403)
        return p

    def dataset_get(self) -> Any:
        d = self.dataset_rec()
        settings = self.payload.get("dataset_access_settings") or {}
        return self.ws.dataset_orm(d.hash, with_rows=bool(settings.get("fetch_rows", True)))

    def data_rows(self) -> Any:
        return [self.ws.data_row(h) for h in self.dataset_rec().units]

    def link_items(self) -> Any:
        """client.link_items sends item_uuids and duplicates_behavior (PR #623; orm/dataset.py
        DataLinkDuplicatesBehavior): SKIP (default) leaves items already in the dataset, DUPLICATE
        links them again (a second data unit), FAIL refuses the call if any is already linked. The
        answer is the data rows made."""
        d = self.dataset_rec()
        behaviour = str(self.payload.get("duplicates_behavior") or "SKIP")
        ids = [str(i) for i in self.payload.get("item_uuids") or []]
        for iid in ids:
            if iid not in self.ws.items:
                raise v1_error(404, f"item {iid} not found")
            if not self.ws.folders[self.ws.items[iid].parent].visible:
                raise v1_error(403, f"item {iid}")
        linked = {self.ws.units[h].item for h in d.units}
        if behaviour == "FAIL" and any(i in linked for i in ids):
            raise v1_error(409, "an item is already linked to the dataset")
        new = []
        for iid in ids:
            if iid in linked and behaviour != "DUPLICATE":
                continue
            new.append(self.ws.link(d.hash, iid).data_hash)
            linked.add(iid)
        self.ws.sync_rows()
        return [self.ws.data_row(h) for h in new]

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
        return self.ws.add_project(p["title"], ontology=p["ontology_hash"],
                                   datasets=list(p.get("dataset_hashes") or []),
                                   description=p.get("description") or "", stages=stages)

    def row_metadata(self) -> Any:
        """client.list_label_rows: one unpaged call; uninitialised rows included (project.py
        list_label_rows_v2 always asks for them). edited_after/before are isoformat strings
        (client_utilities.optional_datetime_to_iso_str), compared as UTC with the naive stamps."""
        p = self.project_rec()
        q = self.payload
        rows = list(p.rows.values())
        if q.get("data_hashes") is not None:
            rows = [r for r in rows if r.data_hash in set(q["data_hashes"])]
        if q.get("label_hashes") is not None:
            rows = [r for r in rows if r.label_hash in set(q["label_hashes"])]
        if not q.get("include_uninitialised_labels"):
            rows = [r for r in rows if r.label_hash is not None]
        if q.get("workflow_graph_node_title_eq") is not None:
            rows = [r for r in rows if self.ws.stage_title(p, r.stage_uuid) == q["workflow_graph_node_title_eq"]]
        if q.get("data_title_eq") is not None:
            rows = [r for r in rows if self.ws.item_of(r.data_hash).name == q["data_title_eq"]]
        if q.get("edited_after"):
            after = utc_naive(q["edited_after"])
            rows = [r for r in rows if r.last_edited_at is not None and r.last_edited_at > after]
        if q.get("edited_before"):
            before = utc_naive(q["edited_before"])
            rows = [r for r in rows if r.last_edited_at is not None and r.last_edited_at < before]
        return [self.ws.metadata_dict(p, r) for r in rows]

    def label_rows_get(self) -> Any:
        """client.get_label_rows: uids are label hashes; rows in ``bundle_omits`` (or deleted since
        the listing) are left out of the answer."""
        p = self.project_rec()
        by_label = {r.label_hash: r for r in p.rows.values() if r.label_hash}
        return [self.ws.label_row(p, by_label[h]) for h in self.uid or []
                if h in by_label and by_label[h].data_hash not in self.ws.bundle_omits]

    def label_rows_create(self) -> Any:
        """client.create_label_rows (a PUT; uids are data hashes): a write, logged like every call."""
        p = self.project_rec()
        out = []
        for h in self.uid or []:
            if h in p.rows:
                self.ws.create_label_row(p, p.rows[h])
                out.append(self.ws.label_row(p, p.rows[h]))
        return out

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
