"""Resolve what a user typed (an id or a title/path) to one workspace object, with did-you-mean."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import TypeVar

from annotrain_tui.core.backends.base import Backend
from annotrain_tui.core.errors import Conflict, NotFound, PermissionDenied
from annotrain_tui.core.models import Dataset, Folder, Integration, Ontology, Project, WorkflowTemplate
from annotrain_tui.core.remedies import SeeLike, refs, see
from annotrain_tui.core.text import shown

T = TypeVar("T")


def resolve(ref: str, candidates: Sequence[T], *, kind: str, id_of: Callable[[T], str],
            names_of: Callable[[T], Sequence[str]], hint: str = "", see: SeeLike = None,
            create: SeeLike = None) -> T:
    """The one candidate ``ref`` names: by id, by exact name, by a name in another case; else
    NotFound with a did-you-mean, or (when nothing is close) ``hint`` and ``see``. ``create``: the
    actions that make one of that name, offered beside a did-you-mean too."""
    ref = ref.strip()
    for c in candidates:
        if id_of(c) == ref:
            return c
    exact = [c for c in candidates if ref in names_of(c)]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise Conflict(f"{len(exact)} {kind}s are called {ref!r}", hint="use the id instead: "
                       + ", ".join(id_of(c) for c in exact[:5]))
    folded = [c for c in candidates if ref.casefold() in (n.casefold() for n in names_of(c))]
    if len(folded) == 1:
        return folded[0]
    names = [n for c in candidates for n in names_of(c)]
    close = difflib.get_close_matches(ref, names, n=1, cutoff=0.5)
    if not close and len(ref) >= 3:  # part of a longer name ('AWS S3' of 'AWS S3 - street-scenes')
        close = [n for n in names if ref.casefold() in n.casefold()][:1]
    if close:
        raise NotFound(f"no {kind} {ref!r}", hint=f"did you mean {close[0]!r}?" + (" If not, create it" if create else ""),
                       see=create)
    raise NotFound(f"no {kind} {ref!r}", hint=hint or None, see=[*refs(create), *refs(see)])


def find_project(backend: Backend, ref: str, *, details: bool = False) -> Project:
    """By id (one call: ``get_project``), else by title from the listing. ``details``: with its
    datasets and users loaded (see ``with_details``)."""
    ref = ref.strip()
    try:
        project = backend.get_project(ref, details=details)
    except (NotFound, PermissionDenied):
        project = None
    if project is None:
        project = resolve(ref, backend.list_projects(), kind="project", id_of=lambda p: p.id,
                          names_of=lambda p: [p.title], see="projects.list")
    return with_details(backend, project) if details else project


def with_details(backend: Backend, project: Project) -> Project:
    """The project with its datasets and users loaded (one call when the listing left them out)."""
    return project if project.has_details else backend.get_project(project.id)


def require_details(backend: Backend, project: Project, what: str) -> Project:
    """``with_details``, or a PermissionDenied naming the project when its details were refused."""
    project = with_details(backend, project)
    if not project.has_details:
        raise PermissionDenied(f"cannot {what}: the datasets and users of project '{shown(project.title, limit=80)}' "
                               f"({shown(project.id, limit=64)}) are not readable with this key"
                               + (f" ({project.details_refused})" if project.details_refused else ""),
                               hint="ask for the project admin or team manager role on it")
    return project


def find_integration(backend: Backend, ref: str) -> Integration:
    return resolve(ref, backend.list_integrations(), kind="integration", id_of=lambda i: i.id,
                   names_of=lambda i: [i.title], see="integrations.list")


def find_folder(backend: Backend, ref: str) -> Folder:
    """By id, by path ('/Training Data/Street Scenes') or by a unique name."""
    folders = backend.list_folders()
    path = "/" + ref.strip().strip("/") if "/" in ref else None
    if path:
        same = [f for f in folders if f.path == path]
        if len(same) > 1:  # Encord allows two folders of one name side by side: never pick one silently
            raise Conflict(f"{len(same)} folders have the path {ref!r}", hint="use the id instead: "
                           + ", ".join(f.id for f in same[:5]))
        if same:
            return same[0]
    make = "/" + ref.strip().strip("/")
    return resolve(ref, folders, kind="folder", id_of=lambda f: f.id, names_of=lambda f: [f.name, f.path],
                   hint="create it first, or let the registration create it", see="folders.list",
                   create=[see("folders.create", path=make), "register.create_folder"])


def find_dataset(backend: Backend, ref: str) -> Dataset:
    return resolve(ref, backend.list_datasets(), kind="dataset", id_of=lambda d: d.id,
                   names_of=lambda d: [d.title], see="datasets.list")


def find_ontology(backend: Backend, ref: str) -> Ontology:
    return resolve(ref, backend.list_ontologies(), kind="ontology", id_of=lambda o: o.id,
                   names_of=lambda o: [o.title], see="ontologies.list")


def find_template(backend: Backend, ref: str) -> WorkflowTemplate:
    return resolve(ref, backend.list_workflow_templates(), kind="workflow template", id_of=lambda t: t.id,
                   names_of=lambda t: [t.title], see="templates.list")
