"""Plan, apply, journal, resume: one project per annotator, never two."""

from __future__ import annotations

import pytest

from annotrain_tui.core.backends.faults import FaultInjector
from annotrain_tui.core.errors import Conflict, InvalidInput
from annotrain_tui.core.markers import parse_training_marker
from annotrain_tui.core.models import dump
from annotrain_tui.core.provisioning import Journal, apply_plan, make_plan
from annotrain_tui.core.retry import RetryingBackend, RetryPolicy
from annotrain_tui.core.roster import parse_roster

NO_SLEEP = RetryPolicy(attempts=12, base_delay=0, sleep=lambda s: None)


def roster(n: int, start: int = 0):
    return parse_roster("name,email\n" + "".join(f"Annotator {i},a{i}@example.com\n" for i in range(start, start + n)))


def trainings(sb, bench_id):
    return [p for p in sb.list_projects() if (parse_training_marker(p.description) or ("",))[0] == bench_id]


def test_plan_recognises_done_create_and_conflict(demo):
    sb, ids = demo
    r = parse_roster("name,email\nAlex Kim,ALEX.KIM@example.com\nNew Person,new@example.com\n"
                     "Clash,clash@example.com\n")
    onto = sb.list_ontologies()[0]
    sb.create_project("Annotator Training - Clash", description="made by hand", dataset_ids=[], ontology_id=onto.id)
    plan = make_plan(sb, r, "Benchmark Labels")
    actions = {e.email: e.action for e in plan.entries}
    assert actions == {"ALEX.KIM@example.com": "done", "new@example.com": "create", "clash@example.com": "conflict"}
    assert plan.template.title == "Annotator Training"
    removed = {x["email"] for x in plan.removed}
    assert removed == {"bea.santos@example.com", "chidi.okafor@example.com"}
    assert any("project-level 'annotator' role" in n for n in plan.notes)


def test_a_training_project_with_another_dataset_is_a_conflict(demo):
    sb, ids = demo
    other = sb.create_dataset("Other")
    bench = sb.get_project(ids["benchmark"])
    from annotrain_tui.core.markers import training_description

    sb.create_project("Annotator Training - Zed", description=training_description("Zed", "zed@example.com", bench.id),
                      dataset_ids=[other.id], ontology_id=bench.ontology_id)
    plan = make_plan(sb, parse_roster("name,email\nZed,zed@example.com\n"), bench.id)
    (entry,) = plan.entries
    assert entry.action == "conflict" and "different dataset" in entry.reason


def test_apply_creates_with_the_benchmark_dataset_ontology_template_and_is_idempotent(demo, tmp_path):
    sb, ids = demo
    bench = sb.get_project(ids["benchmark"])
    journal = Journal(tmp_path / "j.jsonl")
    plan = make_plan(sb, roster(5), bench.id, journal=journal)
    outcomes = apply_plan(sb, plan, concurrency=3, journal=journal)
    assert sorted(o.status for o in outcomes) == ["created"] * 5
    tpl = next(t for t in sb.list_workflow_templates() if t.title == "Annotator Training")
    for o in outcomes:
        p = sb.get_project(o.project_id)
        assert p.dataset_ids == bench.dataset_ids and p.ontology_id == bench.ontology_id and p.template_id == tpl.id
        assert {"email": o.email, "role": "annotator"} in [dump(u) for u in p.users]
        assert len(sb.list_label_rows(p.id)) == 60
    assert len(journal.created_projects()) == 5
    # second run: nothing to do, nothing created
    before = len(sb.list_projects())
    again = apply_plan(sb, make_plan(sb, roster(5), bench.id, journal=journal), journal=journal)
    assert {o.status for o in again} == {"done"} and len(sb.list_projects()) == before


def test_a_missing_invite_is_completed_not_recreated(demo):
    sb, ids = demo
    plan = make_plan(sb, roster(1), ids["benchmark"])
    (entry,) = plan.entries
    bench = plan.benchmark
    from annotrain_tui.core.markers import training_description

    # a previous run created the project and died before inviting
    p = sb.create_project(entry.title, description=training_description(entry.name, entry.email, bench.id),
                          dataset_ids=bench.dataset_ids, ontology_id=bench.ontology_id)
    plan = make_plan(sb, roster(1), ids["benchmark"])
    assert [e.action for e in plan.entries] == ["invite"]
    (o,) = apply_plan(sb, plan)
    assert o.status == "invited" and o.project_id == p.id
    assert len(trainings(sb, bench.id)) == 4


def test_fault_injection_still_gives_exactly_one_project_each(demo):
    sb, ids = demo
    faulty = FaultInjector(sb, fault_rate=0.2, seed=99)
    backend = RetryingBackend(faulty, NO_SLEEP)
    plan = make_plan(backend, roster(40), ids["benchmark"])
    outcomes = apply_plan(backend, plan, concurrency=8)
    assert faulty.injected["after"] > 0
    assert {o.status for o in outcomes} == {"created"}
    mine = [p for p in trainings(sb, ids["benchmark"]) if p.title.startswith("Annotator Training - Annotator")]
    assert sorted(p.title for p in mine) == sorted(f"Annotator Training - Annotator {i}" for i in range(40))
    for p in mine:
        assert any(u.role == "annotator" for u in p.users)


def test_invalid_roster_provisions_nothing(demo):
    sb, ids = demo
    before = len(sb.list_projects())
    with pytest.raises(InvalidInput, match="2 problems in the roster; nothing was provisioned"):
        make_plan(sb, parse_roster("name,email\nA,bad\n,b@example.com\n"), ids["benchmark"])
    assert len(sb.list_projects()) == before


def test_a_benchmark_with_two_datasets_is_refused(demo):
    sb, ids = demo
    onto = sb.list_ontologies()[0]
    a, b = sb.create_dataset("A"), sb.create_dataset("B")
    sb.create_project("Two", description="", dataset_ids=[a.id, b.id], ontology_id=onto.id)
    with pytest.raises(Conflict, match="exactly one"):
        make_plan(sb, roster(1), "Two")
