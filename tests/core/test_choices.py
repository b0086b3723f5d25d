"""The screens' pick lists and views as headless services (core.choices): one call, records back."""

from __future__ import annotations

from annotrain_tui.core.choices import (
    benchmark_choices,
    benchmarks_of,
    default_benchmark_id,
    pick_lists,
    progress_view,
    provision_choices,
    restore_selection,
)
from annotrain_tui.core.markers import parse_training_marker


class Counting:
    """A backend that counts the calls made through it (to show each service is one pass)."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*a, **k):
            self.calls.append(name)
            return attr(*a, **k)

        return call


def test_pick_lists_are_the_integrations_and_folders(demo):
    sb, ids = demo
    lists = pick_lists(sb)
    assert [i.id for i in lists.integrations] == [i.id for i in sb.list_integrations()]
    assert ids["folder"] in {f.id for f in lists.folders}


def test_provision_lists_only_benchmarks_never_training_projects(demo):
    """Trial item 32: the Provision benchmark select listed every project, training projects too."""
    sb, ids = demo
    choices = provision_choices(sb)
    assert [p.id for p in choices.benchmarks] == [ids["benchmark"]]
    assert not any(parse_training_marker(p.description) for p in choices.benchmarks)
    assert choices.selected == ids["benchmark"] and choices.unknown is None
    assert "Annotator Training" in [t.title for t in choices.templates]


def test_provision_preselects_the_benchmark_asked_for_or_says_it_is_unknown(demo):
    sb, ids = demo
    onto = sb.list_ontologies()[0]
    second = sb.create_project("Cohort 2 Benchmark", description="", dataset_ids=[], ontology_id=onto.id)
    assert provision_choices(sb, "Cohort 2 Benchmark").selected == second.id
    assert provision_choices(sb, second.id).selected == second.id
    training = next(p for p in sb.list_projects() if parse_training_marker(p.description))
    nope = provision_choices(sb, training.title)  # a training project is not a benchmark to provision against
    assert nope.unknown == training.title and nope.selected == ids["benchmark"]


def test_benchmark_choices_hold_every_list_and_each_benchmarks_status(demo):
    sb, ids = demo
    counting = Counting(sb)
    choices = benchmark_choices(counting)
    assert {o.id for o in choices.ontologies} == {ids["ontology"]}
    assert ids["dataset"] in {d.id for d in choices.datasets}
    assert [s.project.id for s in choices.statuses] == [ids["benchmark"]]
    assert choices.statuses[0].completeness.complete == choices.statuses[0].completeness.total == 60
    assert counting.calls.count("list_projects") == 1  # one listing, not one per use


def test_progress_view_of_the_default_benchmark(demo):
    sb, ids = demo
    view = progress_view(sb)
    assert view.benchmark is not None and view.benchmark.id == ids["benchmark"]
    assert view.status is not None and view.status.completeness.total == 60
    assert [r.email for r in view.rows] == ["alex.kim@example.com", "bea.santos@example.com",
                                            "chidi.okafor@example.com"]


def test_progress_view_without_a_benchmark_is_empty_not_an_error(tmp_path):
    from annotrain_tui.core.backends.sandbox import SandboxBackend

    sb = SandboxBackend(tmp_path / "empty.db")
    try:
        view = progress_view(sb)
        assert view.benchmark is None and view.rows == []
    finally:
        sb.close()


def test_default_benchmark_is_the_first_benchmark(demo):
    sb, ids = demo
    projects = sb.list_projects()
    assert default_benchmark_id(sb, projects) == ids["benchmark"]
    assert [p.id for p in benchmarks_of(projects)] == [ids["benchmark"]]
    assert default_benchmark_id(sb, []) is None
    onto = sb.list_ontologies()[0]
    second = sb.create_project("Cohort 2 Benchmark", description="", dataset_ids=[], ontology_id=onto.id)
    projects = sb.list_projects()
    assert default_benchmark_id(sb, projects, preferred=second.id) == second.id  # remembered, still there
    assert default_benchmark_id(sb, projects, preferred="gone") == ids["benchmark"]
    assert provision_choices(sb, preferred=second.id).selected == second.id
    assert progress_view(sb, preferred=second.id).benchmark.id == second.id


def test_restore_selection_keeps_what_exists_and_drops_what_does_not(demo):
    sb, ids = demo
    integration = sb.list_integrations()[0]
    kept = restore_selection(sb, integration.id, ids["folder"])
    assert kept.integration == integration and kept.folder is not None and kept.folder.id == ids["folder"]
    assert kept.dropped == ()
    gone = restore_selection(sb, "no-such-integration", "no-such-folder")
    assert gone.integration is None and gone.folder is None and gone.dropped == ("integration", "folder")
    counting = Counting(sb)
    assert restore_selection(counting, None, None).dropped == () and counting.calls == []
