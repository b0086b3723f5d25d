"""`annotrain projects|integrations|folders|datasets|ontologies|templates list` and `status`."""

from __future__ import annotations

import argparse
from typing import Any

from annotrain_tui.cli.common import add_command, add_json_flag, emit_json, table
from annotrain_tui.cli.context import report_backend_warnings, workspace_from_args
from annotrain_tui.core.lookup import with_details
from annotrain_tui.core.models import dump
from annotrain_tui.core.overview import load_overview
from annotrain_tui.core.text import shown


def _lister(kind: str):
    def run(args: argparse.Namespace) -> int:
        ws = workspace_from_args(args)
        try:
            return LISTERS[kind](ws, args)
        finally:
            report_backend_warnings(ws)
            ws.close()

    return run


def _projects(ws, args) -> int:
    b = ws.backend
    projects = b.list_projects(search=getattr(args, "search", None))
    if getattr(args, "details", False):  # one more call per project (Encord lists without them)
        projects = [with_details(b, p) for p in projects]
    datasets = {d.id: d.title for d in b.list_datasets()}
    ontologies = {o.id: o.title for o in b.list_ontologies()}
    templates = {t.id: t.title for t in b.list_workflow_templates()}
    docs: list[dict[str, Any]] = []
    for p in projects:
        docs.append({
            "id": p.id, "title": p.title, "description": p.description,
            "datasets": None if p.dataset_ids is None else [{"id": d, "title": datasets.get(d)} for d in p.dataset_ids],
            "ontology": {"id": p.ontology_id, "title": ontologies.get(p.ontology_id)},
            "template": {"id": p.template_id, "title": templates.get(p.template_id)} if p.template_id else None,
            "users": None if p.users is None else [{"email": u.email, "role": u.role} for u in p.users],
            "stages": [{"title": st.title, "kind": st.kind} for st in p.stages],
            "your_role": p.caller_role,
            "details_refused": p.details_refused,
            "created_at": p.created_at.isoformat() if p.created_at else None,
        })
    if args.json:
        emit_json({"backend": b.describe(), "projects": docs})
        return 0
    if not docs:
        print("No projects yet. Create a benchmark with 'annotrain benchmark create' or run "
              "'annotrain sandbox init --demo'.")
        return 0
    unknown = "(refused)" if any(d["details_refused"] for d in docs) else "(--details)"
    rows = [[d["title"], d["id"],
             unknown if d["datasets"] is None else ", ".join(x["title"] or x["id"] for x in d["datasets"]),
             d["ontology"]["title"] or "", (d["template"] or {}).get("title") or "",
             unknown if d["users"] is None else ", ".join(f"{u['email']} ({u['role']})" for u in d["users"])]
            for d in docs]
    print(table(rows, ["TITLE", "ID", "DATASET", "ONTOLOGY", "TEMPLATE", "USERS"]))
    return 0


def _integrations(ws, args) -> int:
    items = ws.backend.list_integrations()
    if args.json:
        emit_json({"integrations": [{"id": i.id, "title": i.title, "provider": i.provider.value} for i in items]})
        return 0
    if not items:
        print("No cloud integrations. Create one in Encord (Integrations > + New integration).")
        return 0
    print(table([[i.title, i.provider.label, i.id] for i in items], ["TITLE", "PROVIDER", "ID"]))
    return 0


def _folders(ws, args) -> int:
    folders = ws.backend.list_folders(search=getattr(args, "search", None))
    if args.json:
        emit_json({"folders": [dump(f) for f in folders]})
        return 0
    if not folders:
        print("No storage folders. Create one with the TUI folder picker ('annotrain tui --screen folders').")
        return 0
    print(table([[f.path, str(f.item_count if f.item_count is not None else ""), f.description, f.id]
                 for f in folders], ["PATH", "ITEMS", "DESCRIPTION", "ID"]))
    return 0


def _datasets(ws, args) -> int:
    ds = ws.backend.list_datasets()
    if args.json:
        emit_json({"datasets": [dump(d) for d in ds]})
        return 0
    print(table([[d.title, d.id, d.description] for d in ds], ["TITLE", "ID", "DESCRIPTION"]) if ds
          else "No datasets.")
    return 0


def _ontologies(ws, args) -> int:
    onts = ws.backend.list_ontologies()
    if args.json:
        emit_json({"ontologies": [dump(o) for o in onts]})
        return 0
    print(table([[o.title, o.id, ", ".join(f"{c.name} ({c.shape})" for c in o.objects)] for o in onts],
                ["TITLE", "ID", "CLASSES"]) if onts else "No ontologies.")
    return 0


def _templates(ws, args) -> int:
    tpls = ws.backend.list_workflow_templates()
    if args.json:
        emit_json({"templates": [dump(t) for t in tpls]})
        return 0
    print(table([[t.title, t.id, " → ".join(t.stages)] for t in tpls], ["TITLE", "ID", "STAGES"]) if tpls
          else "No workflow templates (on Encord, name them in config: workflow_templates.TITLE = HASH).")
    return 0


def _folder_create(args: argparse.Namespace) -> int:
    """``folders create PATH``: the folder (and its missing parents), with a description and metadata."""
    from annotrain_tui.core.errors import Conflict
    from annotrain_tui.core.metadata import parse_metadata
    from annotrain_tui.core.registration import create_folder_path

    metadata = parse_metadata(", ".join(args.metadata)) if args.metadata else None  # one JSON, or k=v pairs
    ws = workspace_from_args(args)
    try:
        path = "/" + args.path.strip().strip("/")
        existing = next((f for f in ws.backend.list_folders() if f.path == path), None)
        if existing is not None:
            raise Conflict(f"folder '{shown(path)}' already exists ({shown(existing.id)})",
                           hint="register into it with 'annotrain register MANIFEST --folder PATH'")
        folder = create_folder_path(ws.backend, path, description=args.description or "", metadata=metadata)
    finally:
        ws.close()
    if args.json:
        emit_json({"created": True, "folder": dump(folder)})
    else:
        print(f"Created folder '{shown(folder.path)}' ({shown(folder.id)})")
    return 0


LISTERS = {"projects": _projects, "integrations": _integrations, "folders": _folders, "datasets": _datasets,
           "ontologies": _ontologies, "templates": _templates}


def _status(args: argparse.Namespace) -> int:
    ws = workspace_from_args(args)
    try:
        ov = load_overview(ws.backend)
    finally:
        report_backend_warnings(ws)
        ws.close()
    if args.json:
        emit_json(ov.to_json())
        return 0
    print(f"Workspace: {shown(ov.backend)}")
    print(f"{len(ov.integrations)} integrations, {len(ov.folders)} folders, {len(ov.datasets)} datasets, "
          f"{len(ov.projects)} projects")
    for b in ov.benchmarks:
        flag = "complete" if b.complete else "NOT complete: finish it before training starts"
        print(f"Benchmark '{shown(b.project.title)}': {b.completeness.complete}/{b.completeness.total} tasks "
              f"Complete ({flag}); {len(b.training_projects)} training project(s)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    for kind, help_text in [
        ("projects", "list projects (id, title, dataset, ontology, template, users with roles)"),
        ("integrations", "list cloud integrations"),
        ("folders", "list storage folders"),
        ("datasets", "list datasets"),
        ("ontologies", "list ontologies with their object classes"),
        ("templates", "list workflow templates"),
    ]:
        group = sub.add_parser(kind, help=help_text, description=help_text)
        group_sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
        lister = add_command(group_sub, "list", help_text, _lister(kind))
        add_json_flag(lister)
        if kind in ("projects", "folders"):
            lister.add_argument("--search", help="only those whose name contains this text")
        if kind == "folders":
            maker = add_command(group_sub, "create", "create a storage folder (and its missing parents)",
                                _folder_create)
            maker.add_argument("path", help="the folder's path, e.g. '/Training Data/Batch 2'")
            maker.add_argument("--description", default="", help="the folder's description")
            maker.add_argument("--metadata", nargs="+", metavar="JSON|K=V",
                               help='the folder\'s metadata: a JSON object, or key=value pairs')
            add_json_flag(maker)
        if kind == "projects":
            lister.add_argument("--details", action="store_true",
                                help="also load each project's datasets and users (on Encord one call per project)")
    status = add_command(sub, "status", "the workspace at a glance, with benchmark completeness", _status)
    add_json_flag(status)
