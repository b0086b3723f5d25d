"""Issue 16, gates: provisioning refuses a benchmark that is not Complete (the seed: "This project
must be completed before annotator training begins"), in make_plan and so in apply_plan (which
plans again under the lock), unless forced; forced, the plan says so."""

from __future__ import annotations

import pytest

from annotrain_tui.core.provisioning import SEED_GATE, BenchmarkIncomplete, apply_plan, make_plan
from annotrain_tui.core.roster import parse_roster


def roster(n: int = 2):
    return parse_roster("name,email\n" + "".join(f"Person {i},p{i}@example.com\n" for i in range(n)))


def reopen(backend, bench_id: str, keep: int) -> None:
    """Send every benchmark task but the first ``keep`` back to the annotation stage."""
    rows = sorted(backend.list_label_rows(bench_id), key=lambda r: r.data_hash)
    for r in rows[keep:]:
        backend.save_labels(bench_id, r.data_hash, [], stage="Annotate")


def empty_benchmark(backend, ids) -> str:
    """A benchmark on a dataset with no files: no tasks at all."""
    dataset = backend.create_dataset("Empty set")
    project = backend.create_project("Empty benchmark", description="", dataset_ids=[dataset.id],
                                     ontology_id=ids["ontology"])
    return project.id


def training_projects(backend, bench_id: str) -> list:
    return [p for p in backend.list_projects() if bench_id in (p.description or "") and p.id != bench_id]


def test_complete_benchmark_plans_without_a_forced_note(demo):
    backend, ids = demo
    plan = make_plan(backend, roster(), ids["benchmark"])
    assert [e.action for e in plan.entries] == ["create", "create"]
    assert not any("Forced" in n for n in plan.notes)


def test_incomplete_benchmark_is_refused_with_the_counts_and_the_seed(demo):
    backend, ids = demo
    total = len(backend.list_label_rows(ids["benchmark"]))
    reopen(backend, ids["benchmark"], keep=12)
    with pytest.raises(BenchmarkIncomplete) as caught:
        make_plan(backend, roster(), ids["benchmark"])
    err = caught.value
    line = str(err)
    assert "\n" not in line
    assert f"only 12 of {total} benchmark tasks are Complete" in line
    assert SEED_GATE in line and SEED_GATE == "This project must be completed before annotator training begins"
    assert (err.completeness.complete, err.completeness.total) == (12, total)
    assert "override" in line  # the core's hint names the override in no front's words


def test_one_task_short_is_still_refused(demo):
    backend, ids = demo
    total = len(backend.list_label_rows(ids["benchmark"]))
    reopen(backend, ids["benchmark"], keep=total - 1)
    with pytest.raises(BenchmarkIncomplete, match=f"only {total - 1} of {total} "):
        make_plan(backend, roster(), ids["benchmark"])


def test_benchmark_without_tasks_is_refused(demo):
    backend, ids = demo
    bench = empty_benchmark(backend, ids)
    with pytest.raises(BenchmarkIncomplete, match="has no tasks") as caught:
        make_plan(backend, roster(), bench)
    assert caught.value.completeness.total == 0


def test_forced_plan_goes_ahead_and_says_so(demo):
    backend, ids = demo
    reopen(backend, ids["benchmark"], keep=12)
    plan = make_plan(backend, roster(), ids["benchmark"], force=True)
    assert [e.action for e in plan.entries] == ["create", "create"]
    forced = [n for n in plan.notes if n.startswith("Forced")]
    assert len(forced) == 1 and "only 12 of" in forced[0]
    assert plan.recipe is not None and plan.recipe["force"] is True


def test_apply_plan_replans_under_the_lock_and_refuses_a_benchmark_reopened_meanwhile(demo, tmp_path):
    """The plan was made on a Complete benchmark; before apply, someone reopened tasks: apply's
    fresh plan under the lock hits the gate, and nothing is created."""
    from annotrain_tui.core.config import Paths

    backend, ids = demo
    plan = make_plan(backend, roster(), ids["benchmark"])
    reopen(backend, ids["benchmark"], keep=30)
    before = len(backend.list_projects())
    with pytest.raises(BenchmarkIncomplete, match="only 30 of"):
        apply_plan(backend, plan, paths=Paths.default())
    assert len(backend.list_projects()) == before


def test_apply_plan_keeps_force_through_the_replan(demo):
    from annotrain_tui.core.config import Paths

    backend, ids = demo
    reopen(backend, ids["benchmark"], keep=12)
    plan = make_plan(backend, roster(), ids["benchmark"], force=True)
    outcomes = apply_plan(backend, plan, paths=Paths.default())
    assert [o.status for o in outcomes] == ["created", "created"]
    made = {p.title for p in training_projects(backend, ids["benchmark"])}
    assert {o.title for o in outcomes} <= made


def test_apply_plan_of_an_empty_benchmark_is_refused(demo):
    from annotrain_tui.core.config import Paths

    backend, ids = demo
    bench = empty_benchmark(backend, ids)
    forced = make_plan(backend, roster(), bench, force=True)
    # the same plan without force (as a caller that never asked for it): apply refuses
    unforced = type(forced)(benchmark=forced.benchmark, template=forced.template, entries=forced.entries,
                            notes=forced.notes, recipe={**(forced.recipe or {}), "force": False})
    with pytest.raises(BenchmarkIncomplete, match="has no tasks"):
        apply_plan(backend, unforced, paths=Paths.default())
    assert training_projects(backend, bench) == []
