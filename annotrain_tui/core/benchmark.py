"""Benchmark setup: the training dataset from a storage folder, and the benchmark project.

The seed's rules: the benchmark project has the ontology the training projects will share and
ONLY the training dataset; it must be complete before training starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annotrain_tui.core.backends.base import Backend
from annotrain_tui.core.errors import Conflict, InvalidInput
from annotrain_tui.core.lookup import find_dataset, find_folder, find_ontology, find_template, with_details
from annotrain_tui.core.markers import benchmark_description
from annotrain_tui.core.models import Dataset, Ontology, Project, StageCount, dump
from annotrain_tui.core.overview import completeness
from annotrain_tui.core.remedies import see

#: The benchmark project's title when the user gives none.
DEFAULT_BENCHMARK_TITLE = "Benchmark Labels"
#: The workflow template a training project is made from when neither the user nor the settings
#: (``default_template``) name one.
DEFAULT_TEMPLATE_TITLE = "Annotator Training"


@dataclass
class DatasetCheck:
    """A dataset compared with the files it should hold (a folder's items or a manifest's URLs)."""

    dataset: Dataset
    expected: int
    linked: int
    missing: list[str] = field(default_factory=list)  # expected but not in the dataset
    extra: list[str] = field(default_factory=list)  # in the dataset but not expected

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra

    def to_json(self) -> dict[str, Any]:
        return {"dataset_id": self.dataset.id, "title": self.dataset.title, "expected": self.expected,
                "linked": self.linked, "missing": self.missing, "extra": self.extra, "ok": self.ok}


def create_training_dataset(backend: Backend, folder_ref: str, title: str, *, description: str = "") -> DatasetCheck:
    folder = find_folder(backend, folder_ref)
    items = backend.list_items(folder.id)
    if not items:
        raise InvalidInput(f"folder {folder.path!r} has no files", hint="register files into it first")
    existing = [d for d in backend.list_datasets() if d.title == title]
    if existing:
        raise Conflict(f"a dataset titled {title!r} already exists ({existing[0].id})",
                       hint="link the folder into it, or choose another title",
                       see=[see("benchmark.link_folder", dataset=title, folder=folder.path),
                            see("benchmark.verify", dataset=title)])
    dataset = backend.create_dataset(title, description=description or f"Training files from {folder.path}")
    backend.link_items(dataset.id, [i.id for i in items])
    return verify_dataset(backend, dataset.id, folder_ref=folder.id)


@dataclass
class LinkResult:
    check: DatasetCheck
    linked_now: int  # items this call linked (those the dataset did not have)

    def to_json(self) -> dict[str, Any]:
        return {**self.check.to_json(), "linked_now": self.linked_now}


def link_folder(backend: Backend, folder_ref: str, dataset_ref: str) -> LinkResult:
    """Link a folder's items into an existing dataset, only those it does not hold yet (seed 002 step 7
    uses an existing dataset; files added to a folder later are not added to its datasets by
    themselves). The join is by storage item (``DataRow.item_id``), never by data hash."""
    folder = find_folder(backend, folder_ref)
    dataset = find_dataset(backend, dataset_ref)
    items = backend.list_items(folder.id)
    if not items:
        raise InvalidInput(f"folder {folder.path!r} has no files", hint="register files into it first")
    have = {_item_of(r) for r in backend.list_data_rows(dataset.id)}
    missing = [i.id for i in items if i.id not in have]
    if missing:
        backend.link_items(dataset.id, missing)
    return LinkResult(check=verify_dataset(backend, dataset.id, folder_ref=folder.id), linked_now=len(missing))


def _item_of(row: Any) -> str:
    """The storage item behind a data row (the sandbox's rows are their items)."""
    return row.item_id or row.data_hash


def verify_dataset(backend: Backend, dataset_ref: str, *, folder_ref: str | None = None,
                   urls: list[str] | list[list[str]] | None = None) -> DatasetCheck:
    """Compare a dataset with a folder's items (by item id) or with a manifest's entries (``urls``:
    one URL per data unit, or each unit's list of files, as ``manifest_urls`` gives them)."""
    dataset = find_dataset(backend, dataset_ref)
    rows = backend.list_data_rows(dataset.id)
    if folder_ref is not None:
        folder = find_folder(backend, folder_ref)
        items = backend.list_items(folder.id)
        want = {i.id: i.url or i.name for i in items}
        have = {_item_of(r): r.file_link or r.title for r in rows}  # by storage item: see DataRow
        missing = sorted(want[k] for k in want.keys() - have.keys())
        extra = sorted(have[k] for k in have.keys() - want.keys())
        expected = len(want)
    elif urls is not None:
        # One manifest entry is one data unit, whatever its number of files (an image group, an
        # image sequence or a DICOM series names several; its data row links one of them).
        groups = list(dict.fromkeys(tuple([u] if isinstance(u, str) else u) for u in urls))
        have_urls = {r.file_link for r in rows}
        missing = sorted(g[0] for g in groups if g and not have_urls.intersection(g))
        named = {u for g in groups for u in g}
        extra = sorted(have_urls - named)
        expected = len(groups)
    else:
        raise InvalidInput("verify needs a folder or a manifest to compare with")
    return DatasetCheck(dataset=dataset, expected=expected, linked=len(rows), missing=missing, extra=extra)


def create_benchmark_project(backend: Backend, title: str, *, dataset_ref: str, ontology_ref: str,
                             template_ref: str | None = None, description: str = "") -> Project:
    dataset = find_dataset(backend, dataset_ref)
    ontology = find_ontology(backend, ontology_ref)
    template = find_template(backend, template_ref) if template_ref else None
    clash = [p for p in backend.list_projects(search=title) if p.title == title]
    if clash:
        raise Conflict(f"a project titled {title!r} already exists ({clash[0].id})",
                       hint="choose another title for the benchmark")
    text = benchmark_description(description or "Benchmark: gold-standard labels by a trusted expert")
    project = backend.create_project(title, description=text, dataset_ids=[dataset.id], ontology_id=ontology.id,
                                     template_id=template.id if template else None)
    check_workflow(project, template)
    return project


def check_workflow(project: Project, template: Any = None) -> None:
    """After a create: refuse a workflow that cannot carry training, naming what it lacks (Encord has
    no call that shows a template's stages before a project is made from it)."""
    problems = project.workflow_problems()
    if problems:
        made = f"project '{project.title}' ({project.id}) was created"
        source = f" from template '{template.title}'" if template is not None else ""
        raise Conflict(f"{made}{source}, but its workflow has " + "; ".join(problems),
                       hint="fix the template (or name another for the run), archive this project and run again",
                       see="templates.list")


@dataclass
class BenchmarkStatus:
    project: Project
    ontology: Ontology | None
    completeness: StageCount
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"project_id": self.project.id, "title": self.project.title,
                "ontology": dump(self.ontology) if self.ontology else None,
                "complete": self.completeness.complete, "total": self.completeness.total,
                "ready": not self.warnings, "warnings": self.warnings}


def benchmark_status(backend: Backend, project: Project) -> BenchmarkStatus:
    warnings = []
    project = with_details(backend, project)
    warnings += project.workflow_problems()
    if project.dataset_ids is None:
        warnings.append("the benchmark's datasets cannot be read with this key: " + (project.details_refused or "refused"))
    elif len(project.dataset_ids) != 1:
        warnings.append(f"the benchmark has {len(project.dataset_ids)} datasets: attach ONLY the training dataset")
    ontology = next((o for o in backend.list_ontologies() if o.id == project.ontology_id), None)
    if ontology is None:
        warnings.append("the benchmark has no ontology")
    done = completeness(backend, project.id)
    if done.total == 0:
        warnings.append("the benchmark has no tasks: link files to its dataset")
    elif done.complete < done.total:
        warnings.append(f"only {done.complete} of {done.total} benchmark tasks are Complete: finish the benchmark "
                        "before training starts")
    return BenchmarkStatus(project=project, ontology=ontology, completeness=done, warnings=warnings)


def manifest_urls(path: str) -> list[list[str]]:
    """The file URLs of each entry of a registration manifest (JSON or CSV), in order: one list per
    data unit (an image group, image sequence or DICOM series has several)."""
    from annotrain_tui.core.manifest.models import entry_urls, manifest_entries
    from annotrain_tui.core.manifest.validate import parse_path

    parsed = parse_path(path)
    if parsed.data is None:
        first = parsed.result.errors[0].render(path) if parsed.result.errors else path
        raise InvalidInput(f"cannot read the manifest: {first}",
                           hint="validate it to see every problem", see=see("manifest.validate", path=path))
    return [list(entry_urls(entry)) for _, entry in manifest_entries(parsed.data)]
