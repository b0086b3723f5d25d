"""The workspace-at-a-glance services: which benchmark a flow opens when the user named none."""

from __future__ import annotations

from annotrain_tui.core.overview import benchmark_ids, default_benchmark


def _project(sb, title):
    ds = sb.create_dataset(f"{title} data")
    onto = sb.list_ontologies()[0] if sb.list_ontologies() else sb.add_ontology("O", [])
    return sb.create_project(title, description="", dataset_ids=[ds.id], ontology_id=onto.id)


def test_default_benchmark_is_the_first_benchmark_id(demo):
    backend, ids = demo
    projects = backend.list_projects()
    first = benchmark_ids(projects)[0]
    assert default_benchmark(backend).id == first
    # the listing the caller already has gives the same answer
    assert default_benchmark(backend, projects).id == first


def test_default_benchmark_prefers_a_remembered_one_that_is_still_a_benchmark(sandbox):
    a = _project(sandbox, "Cohort A Benchmark")
    b = _project(sandbox, "Cohort B Benchmark")
    plain = _project(sandbox, "Street scenes")
    assert default_benchmark(sandbox).id == a.id
    assert default_benchmark(sandbox, preferred=b.id).id == b.id
    assert default_benchmark(sandbox, preferred="Cohort B Benchmark").id == b.id
    # not a benchmark (or gone): the rule's own first pick
    assert default_benchmark(sandbox, preferred=plain.id).id == a.id
    assert default_benchmark(sandbox, preferred="no such").id == a.id


def test_no_benchmark_yet_is_none(sandbox):
    assert default_benchmark(sandbox) is None
    _project(sandbox, "Street scenes")
    assert default_benchmark(sandbox) is None


def test_a_benchmark_annotrain_created_is_one_whatever_its_title(sandbox):
    """Trial: 'Cohort A Bench' made on the Benchmark screen was no benchmark anywhere in the TUI
    (Home, Provision's select, --benchmark) until a training project named it."""
    from annotrain_tui.core.benchmark import create_benchmark_project
    from annotrain_tui.core.choices import benchmark_choices, provision_choices
    from annotrain_tui.core.overview import load_overview

    ds = sandbox.create_dataset("Cohort A set")
    onto = sandbox.list_ontologies()[0] if sandbox.list_ontologies() else sandbox.add_ontology("O", [])
    made = create_benchmark_project(sandbox, "Cohort A Bench", dataset_ref=ds.id, ontology_ref=onto.id)
    _project(sandbox, "Street scenes")  # not a benchmark: no marker, no such title
    assert benchmark_ids(sandbox.list_projects()) == [made.id]
    assert [s.project.id for s in benchmark_choices(sandbox).statuses] == [made.id]
    assert provision_choices(sandbox, "Cohort A Bench").unknown is None
    assert [b.project.id for b in load_overview(sandbox).benchmarks] == [made.id]
    # a description the user wrote keeps its words and gains the marker once
    again = create_benchmark_project(sandbox, "Cohort B", dataset_ref=ds.id, ontology_ref=onto.id,
                                     description="gold for cohort B")
    assert again.description.startswith("gold for cohort B") and again.description.count("[annotrain:benchmark]") == 1
    assert again.id in benchmark_ids(sandbox.list_projects())
