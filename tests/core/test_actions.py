"""Graduate and retake: plan, apply, record, resume; exact under faults and concurrent runs."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from annotrain_tui.core.actions import (
    apply_graduation,
    apply_retake,
    plan_graduation,
    plan_retake,
    programme_lock,
)
from annotrain_tui.core.backends.faults import FaultInjector
from annotrain_tui.core.errors import InvalidInput, PermissionDenied, Transient
from annotrain_tui.core.markers import parse_training_marker, training_description, training_round
from annotrain_tui.core.programme import graduated_emails, load_programme
from annotrain_tui.core.provisioning import apply_plan, make_plan
from annotrain_tui.core.retry import RetryingBackend, RetryPolicy
from annotrain_tui.core.roster import parse_roster

NO_SLEEP = RetryPolicy(attempts=12, base_delay=0, sleep=lambda s: None)
ALEX, BEA, CHIDI = "alex.kim@example.com", "bea.santos@example.com", "chidi.okafor@example.com"


def load(sb, tmp_path):
    return load_programme(sb, None, tmp_path / "records", "test-workspace")


def production(sb, title):
    onto = sb.list_ontologies()[0]
    return sb.create_project(title, description="production work", dataset_ids=[], ontology_id=onto.id)


def rounds_of(sb, bench_id):
    """(email, round) → how many projects carry that marker."""
    out: Counter = Counter()
    for p in sb.list_projects():
        m = parse_training_marker(p.description)
        if m and m[0] == bench_id:
            out[(m[1], training_round(p.description))] += 1
    return out


def role_in(sb, project_id, email):
    return next((u.role for u in sb.get_project(project_id).users if u.email == email), None)


def many_trainees(sb, ids, n):
    """n more round-1 trainees, provisioned as provisioning does."""
    r = parse_roster("name,email\n" + "".join(f"Trainee {i},t{i}@example.com\n" for i in range(n)))
    apply_plan(sb, make_plan(sb, r, ids["benchmark"]))
    return [f"t{i}@example.com" for i in range(n)]


# -- graduate -----------------------------------------------------------------------------------

def test_graduation_plan_has_add_done_and_every_kind_of_conflict(demo, tmp_path):
    sb, ids = demo
    prog = load(sb, tmp_path)
    prog.record.decide(ALEX, "graduate", round=1)
    prog.record.decide(BEA, "retake", round=1)
    a, b, c = production(sb, "Prod A"), production(sb, "Prod B"), production(sb, "Prod C")
    sb.add_users(b.id, [ALEX], "annotator")
    sb.add_users(c.id, [ALEX], "reviewer")
    bea_training = next(p for p in sb.list_projects() if p.title == "Annotator Training - Bea Santos")
    plan = plan_graduation(sb, prog, ["Prod A", b.id, "Prod C", "Benchmark Labels", bea_training.id, "No Such"])
    got = {e.title: (e.email, e.action) for e in plan.entries}
    assert got == {"Prod A": (ALEX, "add"), "Prod B": (ALEX, "done"), "Prod C": (ALEX, "conflict"),
                   "Benchmark Labels": (ALEX, "conflict"), bea_training.title: (ALEX, "conflict"),
                   "No Such": (ALEX, "conflict")}  # Bea (retake) and Chidi (undecided) are not in it
    reasons = {e.title: e.reason for e in plan.entries}
    assert "as reviewer already" in reasons["Prod C"] and "--role reviewer" in reasons["Prod C"]
    assert "this programme's benchmark" in reasons["Benchmark Labels"]
    assert "is a training project" in reasons[bea_training.title]
    assert "No Such" in reasons["No Such"]
    assert plan.has_work and plan.count("add") == 1
    assert next(e for e in plan.entries if e.title == "Prod A").project_id == a.id


def test_graduation_of_named_annotators_says_why_one_cannot_be(demo, tmp_path):
    sb, ids = demo
    prog = load(sb, tmp_path)
    prog.record.decide(ALEX, "graduate", round=1)
    prog.record.decide(BEA, "retake", round=1)
    production(sb, "Prod A")
    plan = plan_graduation(sb, prog, ["Prod A"], only=[BEA, CHIDI, "nobody@example.com", "ALEX.KIM@example.com"])
    got = {e.email: (e.action, e.reason) for e in plan.entries}
    assert [e.email for e in plan.entries] == [BEA, CHIDI, "nobody@example.com", ALEX]  # as named, then the work
    assert got[ALEX][0] == "add"
    assert got[BEA][0] == "conflict" and "decided 'retake' on round 1" in got[BEA][1]
    assert got[CHIDI][0] == "conflict" and "not decided yet" in got[CHIDI][1] and "record a 'graduate' decision first" in got[CHIDI][1]
    assert got["nobody@example.com"][0] == "conflict" and "no training project" in got["nobody@example.com"][1]


def test_a_role_encord_does_not_have_and_no_project_are_refused(demo, tmp_path):
    sb, _ = demo
    prog = load(sb, tmp_path)
    with pytest.raises(InvalidInput, match="unknown role 'owner'"):
        plan_graduation(sb, prog, ["x"], role="owner")
    with pytest.raises(InvalidInput, match="at least one production project"):
        plan_graduation(sb, prog, [" "])


def test_graduation_applies_once_records_done_once_and_closes_the_loop(demo, tmp_path):
    sb, ids = demo
    prog = load(sb, tmp_path)
    prog.record.decide(ALEX, "graduate", round=1)
    a, b = production(sb, "Prod A"), production(sb, "Prod B")
    outcomes = apply_graduation(sb, plan_graduation(sb, prog, ["Prod A", "Prod B"], role="annotator_reviewer"))
    assert [(o.title, o.status) for o in outcomes] == [("Prod A", "added"), ("Prod B", "added")]
    assert role_in(sb, a.id, ALEX) == role_in(sb, b.id, ALEX) == "annotator_reviewer"
    done = prog.record.events("graduate-done")
    assert len(done) == 1 and done[0]["email"] == ALEX and sorted(done[0]["project_ids"]) == sorted([a.id, b.id])
    assert graduated_emails(prog.record) == {ALEX}
    assert len(prog.record.events("graduate-added")) == 2 and len(prog.record.events("graduate-planned")) == 2
    # again: all done, nothing recorded twice
    again = apply_graduation(sb, plan_graduation(sb, prog, ["Prod A", "Prod B"], role="annotator_reviewer"))
    assert {o.status for o in again} == {"done"}
    assert len(prog.record.events("graduate-done")) == 1 and len(prog.record.events("graduate-added")) == 2
    assert ALEX in load(sb, tmp_path).graduated


def test_graduate_done_waits_for_every_project_and_a_rerun_finishes(demo, tmp_path):
    sb, ids = demo
    prog = load(sb, tmp_path)
    prog.record.decide(ALEX, "graduate", round=1)
    a, b = production(sb, "Prod A"), production(sb, "Prod B")

    class Refusing:  # the key may not add users to Prod B (today)
        def __init__(self, inner):
            self.inner, self.name = inner, inner.name

        def __getattr__(self, attr):
            return getattr(self.inner, attr)

        def add_users(self, project_id, emails, role="annotator"):
            if project_id == b.id:
                raise PermissionDenied("you may not add users to Prod B")
            return self.inner.add_users(project_id, emails, role)

    first = apply_graduation(Refusing(sb), plan_graduation(sb, prog, ["Prod A", "Prod B"]))
    assert [(o.title, o.status) for o in first] == [("Prod A", "added"), ("Prod B", "failed")]
    assert role_in(sb, a.id, ALEX) == "annotator" and role_in(sb, b.id, ALEX) is None
    assert "may not add users" in first[1].error
    assert prog.record.events("graduate-done") == [] and graduated_emails(prog.record) == set()
    (failed,) = prog.record.events("graduate-failed")
    assert failed["project_id"] == b.id and failed["email"] == ALEX
    again = apply_graduation(sb, plan_graduation(sb, prog, ["Prod A", "Prod B"]))
    assert [(o.title, o.status) for o in again] == [("Prod A", "done"), ("Prod B", "added")]
    assert len(prog.record.events("graduate-done")) == 1 and graduated_emails(prog.record) == {ALEX}


def test_graduation_under_faults_adds_everyone_exactly(demo, tmp_path):
    sb, ids = demo
    emails = many_trainees(sb, ids, 12)
    prog = load(sb, tmp_path)
    for e in emails:
        prog.record.decide(e, "graduate", round=1)
    a = production(sb, "Prod A")
    faulty = FaultInjector(sb, fault_rate=0.3, seed=5)
    backend = RetryingBackend(faulty, NO_SLEEP)
    outcomes = apply_graduation(backend, plan_graduation(backend, prog, ["Prod A"]), concurrency=4)
    assert faulty.injected["after"] > 0 and faulty.injected["before"] > 0
    assert Counter(o.status for o in outcomes) == {"added": 12}
    assert {u.email for u in sb.get_project(a.id).users if u.role == "annotator"} == set(emails)
    assert Counter(e["email"] for e in prog.record.events("graduate-done")) == Counter(emails)


# -- retake -------------------------------------------------------------------------------------

def test_retake_plan_has_create_invite_done_and_conflicts(demo, tmp_path):
    sb, ids = demo
    bench = sb.get_project(ids["benchmark"])
    prog = load(sb, tmp_path)
    for e in (ALEX, BEA, CHIDI):
        prog.record.decide(e, "retake", round=1)
    # Bea's round 2 exists (a run died before the invite); Chidi's title is taken by someone else's project
    bea2 = sb.create_project("Annotator Training - Bea Santos (round 2)",
                             description=training_description("Bea Santos", BEA, bench.id, round=2),
                             dataset_ids=bench.dataset_ids, ontology_id=bench.ontology_id)
    production(sb, "Annotator Training - Chidi Okafor (round 2)")
    plan = plan_retake(sb, prog)
    got = {e.email: e for e in plan.entries}
    assert {e: x.action for e, x in got.items()} == {ALEX: "create", BEA: "invite", CHIDI: "conflict"}
    alex1 = next(p for p in sb.list_projects() if p.title == "Annotator Training - Alex Kim")
    assert got[ALEX].title == "Annotator Training - Alex Kim (round 2)" and got[ALEX].round == 2
    assert got[ALEX].template_id == alex1.template_id == ids["template"] and got[ALEX].name == "Alex Kim"
    assert got[BEA].project_id == bea2.id
    assert "exists but is not round 2 of this annotator" in got[CHIDI].reason
    # two round-2 projects for Bea: a conflict naming both
    bea2b = sb.create_project("Bea again", description=training_description("Bea Santos", BEA, bench.id, round=2),
                              dataset_ids=bench.dataset_ids, ontology_id=bench.ontology_id)
    dup = next(e for e in plan_retake(sb, prog).entries if e.email == BEA)
    assert dup.action == "conflict" and bea2.id in dup.reason and bea2b.id in dup.reason
    assert dup.reason.startswith("2 training projects carry the round-2 marker of bea.santos@example.com")


def test_a_round_project_on_another_dataset_is_a_conflict(demo, tmp_path):
    sb, ids = demo
    bench = sb.get_project(ids["benchmark"])
    prog = load(sb, tmp_path)
    prog.record.decide(BEA, "retake", round=1)
    other = sb.create_dataset("Other")
    sb.create_project("Bea 2", description=training_description("Bea Santos", BEA, bench.id, round=2),
                      dataset_ids=[other.id], ontology_id=bench.ontology_id)
    (entry,) = plan_retake(sb, prog).entries
    assert entry.action == "conflict" and "different dataset" in entry.reason


def test_retake_creates_the_next_round_once_and_it_becomes_the_current_round(demo, tmp_path):
    sb, ids = demo
    bench = sb.get_project(ids["benchmark"])
    prog = load(sb, tmp_path)
    prog.record.decide(BEA, "retake", round=1)
    prog.record.decide(CHIDI, "retake", round=1)
    outcomes = apply_retake(sb, plan_retake(sb, prog))
    assert [(o.email, o.status, o.round) for o in outcomes] == [(BEA, "created", 2), (CHIDI, "created", 2)]
    for o in outcomes:
        p = sb.get_project(o.project_id)
        assert p.dataset_ids == bench.dataset_ids and p.ontology_id == bench.ontology_id
        assert p.template_id == ids["template"]
        assert parse_training_marker(p.description) == (bench.id, o.email) and training_round(p.description) == 2
        assert role_in(sb, p.id, o.email) == "annotator"
        assert len(sb.list_label_rows(p.id)) == 60
    assert [e["event"] for e in prog.record.events() if e["event"].startswith("retake-")].count("retake-created") == 2
    assert {e["tasks_assigned"] for e in prog.record.events("retake-invited")} == {60}
    again = apply_retake(sb, plan_retake(sb, prog))
    assert {o.status for o in again} == {"done"} and [o.project_id for o in again] == [o.project_id for o in outcomes]
    counts = rounds_of(sb, bench.id)
    assert counts[(BEA, 2)] == counts[(CHIDI, 2)] == 1 and (ALEX, 2) not in counts
    fresh = load(sb, tmp_path)
    assert fresh.trainees[BEA].round == 2 and not fresh.trainees[BEA].decided
    assert fresh.trainees[BEA].current.project.title == "Annotator Training - Bea Santos (round 2)"
    # a retake decided on round 2 makes round 3, named from round 1's title
    fresh.record.decide(BEA, "retake", round=2)
    (third,) = apply_retake(sb, plan_retake(sb, fresh, only=[BEA]))
    assert third.status == "created" and third.round == 3
    assert third.title == "Annotator Training - Bea Santos (round 3)"


def test_a_decision_on_an_earlier_round_is_a_note_not_an_action(demo, tmp_path):
    sb, ids = demo
    bench = sb.get_project(ids["benchmark"])
    prog = load(sb, tmp_path)
    prog.record.decide(BEA, "retake", round=1)
    for r in (2, 3):
        sb.create_project(f"Bea {r}", description=training_description("Bea Santos", BEA, bench.id, round=r),
                          dataset_ids=bench.dataset_ids, ontology_id=bench.ontology_id)
    plan = plan_retake(sb, prog)
    assert plan.entries == [] and any("on round 1 but is on round 3" in n for n in plan.notes)
    (named,) = plan_retake(sb, prog, only=[BEA]).entries
    assert named.action == "conflict" and "decide again" in named.reason


def test_a_retake_title_pattern_without_the_round_is_refused(demo, tmp_path):
    sb, _ = demo
    prog = load(sb, tmp_path)
    with pytest.raises(InvalidInput, match="does not name the round"):
        plan_retake(sb, prog, title_pattern="{title} again")
    with pytest.raises(InvalidInput, match="not usable"):
        plan_retake(sb, prog, title_pattern="{nope} {round}")
    prog.record.decide(BEA, "retake", round=1)
    (e,) = plan_retake(sb, prog, title_pattern="Retake {round} - {name} <{email}>").entries
    assert e.title == "Retake 2 - Bea Santos <bea.santos@example.com>"


class LostAfterCreate:
    """The sandbox, whose first create of a round project acts and then loses its answer (a timeout)."""

    def __init__(self, inner):
        self.inner, self.name, self.lost = inner, inner.name, 0

    def __getattr__(self, attr):
        return getattr(self.inner, attr)

    def create_project(self, title, **kw):
        made = self.inner.create_project(title, **kw)
        if not self.lost:
            self.lost += 1
            raise Transient("create project timed out (answer lost)", acted=None)
        return made


class FailingInvite:
    """The sandbox, where every add_users fails (after the create succeeded)."""

    def __init__(self, inner):
        self.inner, self.name = inner, inner.name

    def __getattr__(self, attr):
        return getattr(self.inner, attr)

    def add_users(self, project_id, emails, role="annotator"):
        raise Transient("add users: the service is down", acted=False)


def test_a_lost_create_answer_is_recovered_not_repeated(demo, tmp_path):
    sb, ids = demo
    prog = load(sb, tmp_path)
    prog.record.decide(BEA, "retake", round=1)
    lossy = LostAfterCreate(sb)
    (o,) = apply_retake(RetryingBackend(lossy, NO_SLEEP), plan_retake(sb, prog))
    assert lossy.lost == 1 and o.status == "created"
    assert rounds_of(sb, ids["benchmark"])[(BEA, 2)] == 1
    assert role_in(sb, o.project_id, BEA) == "annotator"


def test_a_lost_create_without_retries_fails_then_a_rerun_invites_the_one_made(demo, tmp_path):
    sb, ids = demo
    prog = load(sb, tmp_path)
    prog.record.decide(BEA, "retake", round=1)
    (o,) = apply_retake(LostAfterCreate(sb), plan_retake(sb, prog))
    assert o.status == "failed" and "timed out" in o.error
    assert prog.record.events("retake-failed")[0]["email"] == BEA
    (plan_entry,) = plan_retake(sb, prog).entries
    assert plan_entry.action == "invite"  # the project the lost call made is found, by its marker
    (again,) = apply_retake(sb, plan_retake(sb, prog))
    assert again.status == "invited" and rounds_of(sb, ids["benchmark"])[(BEA, 2)] == 1
    assert role_in(sb, again.project_id, BEA) == "annotator"


def test_a_failing_invite_after_the_create_is_finished_by_a_rerun(demo, tmp_path):
    sb, ids = demo
    prog = load(sb, tmp_path)
    prog.record.decide(BEA, "retake", round=1)
    prog.record.decide(CHIDI, "retake", round=1)
    first = apply_retake(FailingInvite(sb), plan_retake(sb, prog))
    assert [o.status for o in first] == ["failed", "failed"] and all("service is down" in o.error for o in first)
    assert len(prog.record.events("retake-created")) == 2 and prog.record.events("retake-invited") == []
    assert [e.action for e in plan_retake(sb, prog).entries] == ["invite", "invite"]
    again = apply_retake(sb, plan_retake(sb, prog))
    assert [o.status for o in again] == ["invited", "invited"]
    assert [o.project_id for o in again] == [o.project_id for o in first]
    counts = rounds_of(sb, ids["benchmark"])
    assert counts[(BEA, 2)] == counts[(CHIDI, 2)] == 1
    assert {o.status for o in apply_retake(sb, plan_retake(sb, prog))} == {"done"}


def test_retake_under_faults_makes_exactly_one_round_each(demo, tmp_path):
    sb, ids = demo
    emails = many_trainees(sb, ids, 16)
    prog = load(sb, tmp_path)
    for e in emails:
        prog.record.decide(e, "retake", round=1)
    faulty = FaultInjector(sb, fault_rate=0.25, seed=11)
    backend = RetryingBackend(faulty, NO_SLEEP)
    outcomes = apply_retake(backend, plan_retake(backend, prog), concurrency=4)
    assert faulty.injected["after"] > 0
    assert Counter(o.status for o in outcomes) == {"created": 16}
    counts = rounds_of(sb, ids["benchmark"])
    assert {e: counts[(e, 2)] for e in emails} == {e: 1 for e in emails}
    for o in outcomes:
        assert role_in(sb, o.project_id, o.email) == "annotator"


class Rival:
    """The sandbox, plus another machine that makes a round-2 project behind our back."""

    def __init__(self, inner, bench, *, when, email):
        self.inner, self.name, self.bench, self.when, self.email = inner, inner.name, bench, when, email
        self.rival = None

    def __getattr__(self, attr):
        return getattr(self.inner, attr)

    def _strike(self):
        if self.rival is None:
            self.rival = self.inner.create_project(
                "Round 2 (made elsewhere)", description=training_description("X", self.email, self.bench.id, round=2),
                dataset_ids=self.bench.dataset_ids, ontology_id=self.bench.ontology_id)

    def add_users(self, project_id, emails, role="annotator"):
        if self.when == "after-plan":
            self._strike()
        return self.inner.add_users(project_id, emails, role)

    def create_project(self, title, **kw):
        if self.when == "during-create" and self.email in kw["description"]:
            self._strike()
        return self.inner.create_project(title, **kw)


def test_a_round_made_elsewhere_after_the_plan_is_found_not_duplicated(demo, tmp_path):
    sb, ids = demo
    bench = sb.get_project(ids["benchmark"])
    prog = load(sb, tmp_path)
    prog.record.decide(BEA, "retake", round=1)
    prog.record.decide(CHIDI, "retake", round=1)
    backend = Rival(sb, bench, when="after-plan", email=CHIDI)
    plan = plan_retake(backend, prog)
    plan.recipe = None  # apply exactly this plan: the rival strikes after it
    first, second = apply_retake(backend, plan, concurrency=1)
    assert first.status == "created"
    assert second.status == "invited" and second.project_id == backend.rival.id
    assert rounds_of(sb, bench.id)[(CHIDI, 2)] == 1
    assert any(e["project_id"] == backend.rival.id for e in prog.record.events("retake-found"))


def test_a_duplicate_round_made_behind_our_back_is_reported_naming_both(demo, tmp_path):
    sb, ids = demo
    bench = sb.get_project(ids["benchmark"])
    prog = load(sb, tmp_path)
    prog.record.decide(BEA, "retake", round=1)
    backend = Rival(sb, bench, when="during-create", email=BEA)
    updates = []
    (dup,) = apply_retake(backend, plan_retake(backend, prog), on_update=lambda e, o: updates.append(o.status))
    assert dup.status == "conflict" and updates == ["created", "conflict"]
    mine = [p for p in sb.list_projects() if parse_training_marker(p.description) == (bench.id, BEA)
            and training_round(p.description) == 2]
    assert len(mine) == 2 and all(p.id in dup.error for p in mine)
    assert prog.record.events("retake-duplicate")[0]["project_ids"] == [p.id for p in mine]
    (again,) = plan_retake(sb, prog).entries
    assert again.action == "conflict"  # a re-run makes no third one


def test_a_waiting_apply_plans_afresh_and_does_nothing_twice(demo, tmp_path):
    sb, ids = demo
    prog = load(sb, tmp_path)
    for e in (BEA, CHIDI):
        prog.record.decide(e, "retake", round=1)
    prog.record.decide(ALEX, "graduate", round=1)
    production(sb, "Prod A")
    first, second = plan_retake(sb, prog), plan_retake(sb, prog)
    g1, g2 = plan_graduation(sb, prog, ["Prod A"]), plan_graduation(sb, prog, ["Prod A"])
    waiting, result = threading.Event(), {}

    def later():
        on_wait = lambda line: (result.setdefault("line", line), waiting.set())  # noqa: E731
        result["retake"] = apply_retake(sb, second, on_wait=on_wait)
        result["graduate"] = apply_graduation(sb, g2, on_wait=on_wait)

    with programme_lock(prog):
        t = threading.Thread(target=later)
        t.start()
        assert waiting.wait(30)
        assert [o.status for o in apply_retake(sb, first)] == ["created", "created"]  # re-entrant here
        assert [o.status for o in apply_graduation(sb, g1)] == ["added"]
    t.join(30)
    assert result["line"].startswith("waiting for work on programme 'Benchmark Labels'")
    assert [o.status for o in result["retake"]] == ["done", "done"]
    assert [o.status for o in result["graduate"]] == ["done"]
    counts = rounds_of(sb, ids["benchmark"])
    assert counts[(BEA, 2)] == counts[(CHIDI, 2)] == 1
    assert len(prog.record.events("graduate-done")) == 1


def test_two_applies_at_once_from_two_threads_make_each_round_once(demo, tmp_path):
    sb, ids = demo
    emails = many_trainees(sb, ids, 8)
    prog = load(sb, tmp_path)
    for e in emails:
        prog.record.decide(e, "retake", round=1)
    plans = [plan_retake(sb, prog), plan_retake(sb, prog)]
    results: list = [None, None]
    threads = [threading.Thread(target=lambda k=k: results.__setitem__(k, apply_retake(sb, plans[k])))
               for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = Counter(o.status for r in results for o in r)
    assert statuses == {"created": 8, "done": 8}
    counts = rounds_of(sb, ids["benchmark"])
    assert {e: counts[(e, 2)] for e in emails} == {e: 1 for e in emails}


def test_a_round_made_from_a_template_without_a_final_stage_fails_then_is_a_conflict(demo, tmp_path):
    sb, ids = demo
    bench = sb.get_project(ids["benchmark"])
    bad = sb.add_template("Annotate only", ["Annotate"])
    r = parse_roster("name,email\nZed,zed@example.com\n")
    apply_plan(sb, make_plan(sb, r, bench.id, template_ref=ids["template"]))
    zed1 = next(p for p in sb.list_projects() if p.title == "Annotator Training - Zed")
    with sb.store.tx() as c:  # its round-1 project names the broken template (made before it was broken)
        c.execute("UPDATE projects SET template_id = ? WHERE id = ?", (bad.id, zed1.id))
    prog = load(sb, tmp_path)
    prog.record.decide("zed@example.com", "retake", round=1)
    (o,) = apply_retake(sb, plan_retake(sb, prog))
    assert o.status == "failed" and "was created, but its workflow has" in o.error
    assert o.project_id is not None and o.project_id in o.error
    assert rounds_of(sb, bench.id)[("zed@example.com", 2)] == 1  # made, kept (annotrain never deletes)
    (again,) = plan_retake(sb, prog).entries
    assert again.action == "conflict" and again.project_id == o.project_id and "its workflow has" in again.reason
