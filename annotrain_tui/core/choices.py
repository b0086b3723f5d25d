"""What the screens a user meets list and pick from, one call each (no Textual here).

Each screen's worker makes one call and gets records back: the Pick screen's integrations and
folders, the Benchmark screen's folders, datasets, ontologies, templates and the status of every
benchmark, the Provision screen's benchmarks (only benchmarks: never a training project) and
templates, the Progress screen's view of one benchmark. The rule "which benchmark is the default"
lives here once (``default_benchmark_id``), not in each screen.

``restore_selection`` turns the ids remembered across launches (core.recent) back into the
integration and folder they name, and quietly drops one that no longer exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annotrain_tui.core.backends.base import Backend
from annotrain_tui.core.benchmark import BenchmarkStatus, benchmark_status
from annotrain_tui.core.lookup import find_project
from annotrain_tui.core.markers import parse_training_marker
from annotrain_tui.core.models import Dataset, Folder, Integration, Ontology, Project, WorkflowTemplate
from annotrain_tui.core.overview import benchmark_ids, default_benchmark
from annotrain_tui.core.provisioning import TraineeProgress, training_progress


def default_benchmark_id(backend: Backend, projects: list[Project], preferred: str | None = None) -> str | None:
    """The benchmark a screen shows when none was asked for (``core.overview.default_benchmark``)."""
    bench = default_benchmark(backend, projects, preferred=preferred)
    return bench.id if bench is not None else None


def benchmarks_of(projects: list[Project]) -> list[Project]:
    """The projects that are benchmarks, in ``benchmark_ids`` order (training projects never)."""
    by_id = {p.id: p for p in projects}
    return [by_id[i] for i in benchmark_ids(projects)]


def benchmark_of_project(projects: list[Project], project_id: str) -> str | None:
    """The benchmark a project belongs to: itself when it is a benchmark, the one its training marker
    names when it is a training project, else None."""
    if project_id in benchmark_ids(projects):
        return project_id
    project = next((p for p in projects if p.id == project_id), None)
    marker = parse_training_marker(project.description) if project is not None else None
    return marker[0] if marker and marker[0] in {p.id for p in projects} else None


# -- Pick ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PickLists:
    integrations: list[Integration]
    folders: list[Folder]


def pick_lists(backend: Backend) -> PickLists:
    return PickLists(integrations=backend.list_integrations(), folders=backend.list_folders())


@dataclass(frozen=True)
class RestoredSelection:
    integration: Integration | None
    folder: Folder | None
    #: the remembered ids that name nothing any more (the caller forgets them)
    dropped: tuple[str, ...] = ()


def match_remembered(integrations: list[Integration], folders: list[Folder], integration_id: str | None,
                     folder_id: str | None) -> RestoredSelection:
    """The integration and folder of the remembered ids among lists the caller already has."""
    integration = next((i for i in integrations if i.id == integration_id), None) if integration_id else None
    folder = next((f for f in folders if f.id == folder_id), None) if folder_id else None
    dropped = [key for key, wanted, found in (("integration", integration_id, integration),
                                              ("folder", folder_id, folder)) if wanted and found is None]
    return RestoredSelection(integration=integration, folder=folder, dropped=tuple(dropped))


def restore_selection(backend: Backend, integration_id: str | None, folder_id: str | None) -> RestoredSelection:
    """The integration and folder of the remembered ids, when they still exist (one listing each,
    and none for an id that was not remembered)."""
    return match_remembered(backend.list_integrations() if integration_id else [],
                            backend.list_folders() if folder_id else [], integration_id, folder_id)


# -- Benchmark ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BenchmarkChoices:
    folders: list[Folder]
    datasets: list[Dataset]
    ontologies: list[Ontology]
    templates: list[WorkflowTemplate]
    statuses: list[BenchmarkStatus] = field(default_factory=list)


def benchmark_choices(backend: Backend) -> BenchmarkChoices:
    """Everything the Benchmark screen lists, and the status of each benchmark already there."""
    projects = backend.list_projects()
    return BenchmarkChoices(folders=backend.list_folders(), datasets=backend.list_datasets(),
                            ontologies=backend.list_ontologies(), templates=backend.list_workflow_templates(),
                            statuses=[benchmark_status(backend, p) for p in benchmarks_of(projects)])


# -- Provision ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ProvisionChoices:
    benchmarks: list[Project]
    templates: list[WorkflowTemplate]
    #: the benchmark to preselect: the one asked for (id or exact title), else the default one
    selected: str | None = None
    #: set when a benchmark was asked for and is not one of ``benchmarks``
    unknown: str | None = None


def provision_choices(backend: Backend, wanted: str | None = None, *, preferred: str | None = None) -> ProvisionChoices:
    """``wanted``: the benchmark the user named (said when unknown); ``preferred``: the one remembered
    (used quietly when it still is a benchmark)."""
    projects = backend.list_projects()
    benches = benchmarks_of(projects)
    selected, unknown = default_benchmark_id(backend, projects, preferred), None
    if wanted:
        match = [p.id for p in benches if wanted in (p.id, p.title)]
        if match:
            selected = match[0]
        else:
            unknown = wanted
    return ProvisionChoices(benchmarks=benches, templates=backend.list_workflow_templates(), selected=selected,
                            unknown=unknown)


# -- Progress -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgressView:
    """One benchmark's training progress; ``benchmark`` is None when the workspace has none yet."""

    benchmark: Project | None
    status: BenchmarkStatus | None
    rows: list[TraineeProgress] = field(default_factory=list)


def progress_view(backend: Backend, benchmark_ref: str | None = None, *, preferred: str | None = None) -> ProgressView:
    ref = benchmark_ref
    if ref is None:
        ref = default_benchmark_id(backend, backend.list_projects(), preferred)
        if ref is None:
            return ProgressView(None, None)
    bench, rows = training_progress(backend, ref)
    status = benchmark_status(backend, find_project(backend, bench.id))
    return ProgressView(bench, status, rows)


def restore_remembered(app: Any, integrations: list[Integration], folders: list[Folder]) -> bool:
    """Bring back the last launch's pick (ids kept by ``remember_selection``) into what nothing picked yet
    this launch (``app.selection``), among lists the caller already loaded; an id that names nothing any
    more is quietly forgotten (``app.workspace.recent()``). True when the selection changed. (Here, not in
    the Pick screen's module, so Home restores the pick without importing that screen's registration.)"""
    recent = app.workspace.recent()
    found = match_remembered(integrations, folders, recent.get("integration"), recent.get("folder"))
    if found.dropped:
        recent.set(**dict.fromkeys(found.dropped))
    sel, changed = app.selection, False
    if sel.integration is None and found.integration is not None:
        sel.integration, changed = found.integration, True
    if sel.folder is None and found.folder is not None:
        sel.folder, changed = found.folder, True
    return changed
