"""The workspace at a glance (home screen, `annotrain status`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annotrain_tui.core.backends.base import Backend
from annotrain_tui.core.lookup import with_details
from annotrain_tui.core.markers import current_rounds, is_benchmark_marked, parse_training_marker
from annotrain_tui.core.models import Dataset, Folder, Integration, Project, StageCount, dump


@dataclass
class BenchmarkSummary:
    """One benchmark as the workspace overview shows it: its completeness and its training projects
    (``core.benchmark.BenchmarkStatus`` is the full check: ontology, warnings)."""

    project: Project
    completeness: StageCount
    training_projects: list[Project] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.completeness.total > 0 and self.completeness.complete == self.completeness.total


@dataclass
class Overview:
    backend: str
    integrations: list[Integration]
    folders: list[Folder]
    datasets: list[Dataset]
    projects: list[Project]
    benchmarks: list[BenchmarkSummary]

    def current_benchmark(self, preferred: str | None = None) -> BenchmarkSummary | None:
        """The benchmark the flows open when the user names none (``default_benchmark``'s rule:
        ``preferred`` while it is still a benchmark, else the first), so Home names the one that
        Evaluate and Progress will show."""
        ids = [b.project.id for b in self.benchmarks]
        chosen = preferred_of(ids, {b.project.id: b.project.title for b in self.benchmarks}, preferred)
        return None if chosen is None else self.benchmarks[ids.index(chosen)]

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "integrations": [dump(i) for i in self.integrations],
            "folders": [dump(f) for f in self.folders],
            "datasets": [dump(d) for d in self.datasets],
            "projects": [dump(p) for p in self.projects],
            "benchmarks": [{"project_id": b.project.id, "title": b.project.title,
                            "complete": b.completeness.complete, "total": b.completeness.total,
                            "training_projects": [p.id for p in b.training_projects]} for b in self.benchmarks],
        }


def completeness(backend: Backend, project_id: str) -> StageCount:
    rows = backend.list_label_rows(project_id)
    return StageCount(complete=sum(1 for r in rows if r.done), total=len(rows))


def training_projects_of(projects: list[Project], benchmark_id: str) -> list[Project]:
    """The benchmark's training projects, each trainee's current round only (a retake's round 2
    stands for the trainee; ``core.programme`` keeps every round)."""
    return current_rounds(projects, benchmark_id)


def benchmark_ids(projects: list[Project]) -> list[str]:
    """Projects referenced by a training marker, then those annotrain created as benchmarks (their
    marker, whatever the title), then any other titled like a benchmark (made outside annotrain)."""
    ids: list[str] = []
    for p in projects:
        marker = parse_training_marker(p.description)
        if marker and marker[0] not in ids:
            ids.append(marker[0])
    for p in projects:
        if is_benchmark_marked(p.description) and p.id not in ids and not parse_training_marker(p.description):
            ids.append(p.id)
    for p in projects:
        if "benchmark" in p.title.casefold() and p.id not in ids and not parse_training_marker(p.description):
            ids.append(p.id)
    known = {p.id for p in projects}
    return [i for i in ids if i in known]


def default_benchmark(backend: Backend, projects: list[Project] | None = None, *,
                      preferred: str | None = None) -> Project | None:
    """The benchmark a flow opens when the user named none: ``preferred`` (an id or exact title, e.g.
    the one remembered by ``core.recent``) when it is still a benchmark of the workspace, else the
    first of ``benchmark_ids``; None when the workspace has no benchmark yet. ``projects``: the
    listing when the caller already has it (saves one call)."""
    projects = backend.list_projects() if projects is None else projects
    ids = benchmark_ids(projects)
    by_id = {p.id: p for p in projects}
    chosen = preferred_of(ids, {i: by_id[i].title for i in ids}, preferred)
    return None if chosen is None else by_id[chosen]


def preferred_of(ids: list[str], titles: dict[str, str], preferred: str | None) -> str | None:
    """The one rule for "which benchmark": ``preferred`` (an id or exact title) when it is one of
    ``ids``, else the first; None when there is none."""
    if not ids:
        return None
    if preferred:
        for i in ids:
            if preferred in (i, titles.get(i)):
                return i
    return ids[0]


def load_overview(backend: Backend) -> Overview:
    projects = backend.list_projects()
    # details (datasets, users) only for the benchmarks: on Encord each costs calls and may be refused
    bench_ids = set(benchmark_ids(projects))
    projects = [with_details(backend, p) if p.id in bench_ids else p for p in projects]
    by_id = {p.id: p for p in projects}
    benches = [BenchmarkSummary(project=by_id[b], completeness=completeness(backend, b),
                               training_projects=training_projects_of(projects, b)) for b in benchmark_ids(projects)]
    return Overview(backend=backend.describe(),
                    integrations=backend.list_integrations(), folders=backend.list_folders(),
                    datasets=backend.list_datasets(), projects=projects, benchmarks=benches)
