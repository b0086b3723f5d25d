"""The retry layer: transient faults are retried, creates are never repeated blindly."""

from __future__ import annotations

import pytest

from annotrain_tui.core.backends.faults import FaultInjector
from annotrain_tui.core.errors import NotFound, RateLimited, Transient
from annotrain_tui.core.retry import RetryingBackend, RetryPolicy, call_with_retry

NO_SLEEP = RetryPolicy(attempts=12, base_delay=0, sleep=lambda s: None)


def test_a_fault_rate_of_0_3_still_completes_a_sequence_of_calls(sandbox):
    faulty = FaultInjector(sandbox, fault_rate=0.3, seed=1234)
    b = RetryingBackend(faulty, NO_SLEEP)
    integ = sandbox.add_integration("S3", "aws")
    folder = b.create_folder("Training")
    # (a registration whose answer is lost is not retried: start it on the plain backend)
    job = sandbox.start_registration(folder.id, integ.id, {"images": [{"objectUrl": "https://x/a.jpg"}]})
    assert b.get_registration_result(folder.id, job).status.value == "done"
    items = b.list_items(folder.id)
    ds = b.create_dataset("DS")
    b.link_items(ds.id, [i.id for i in items])
    onto = sandbox.add_ontology("O", [{"name": "Car", "shape": "bounding_box"}])
    for n in range(25):
        p = b.create_project(f"Training {n}", description=f"marker {n}", dataset_ids=[ds.id], ontology_id=onto.id)
        b.add_users(p.id, [f"a{n}@x.com"], "annotator")
    assert faulty.injected["before"] > 0 and faulty.injected["after"] > 0
    # exactly one of everything, even though some creates acted and then "timed out"
    assert sorted(p.title for p in sandbox.list_projects()) == sorted(f"Training {n}" for n in range(25))
    assert [f.name for f in sandbox.list_folders()] == ["Training"]
    assert [d.title for d in sandbox.list_datasets()] == ["DS"]
    for p in sandbox.list_projects():
        assert len(b.list_label_rows(p.id)) == 1
        assert any(u.role == "annotator" for u in p.users)


class ActsThenTimesOut:
    """A backend whose first create acts, then loses its answer (as an Encord timeout does)."""

    name = "test"

    def __init__(self, inner):
        self.inner = inner
        self.calls = 0

    def __getattr__(self, attr):
        return getattr(self.inner, attr)

    def create_project(self, *args, **kwargs):
        self.calls += 1
        project = self.inner.create_project(*args, **kwargs)
        if self.calls == 1:
            raise Transient("read timed out", acted=None)
        return project


def test_a_create_whose_answer_was_lost_is_found_not_repeated(sandbox):
    onto = sandbox.add_ontology("O", [{"name": "Car", "shape": "bounding_box"}])
    inner = ActsThenTimesOut(sandbox)
    b = RetryingBackend(inner, NO_SLEEP)
    p = b.create_project("Alex", description="d", dataset_ids=[], ontology_id=onto.id)
    assert inner.calls == 1  # found by looking, not created again
    assert [x.id for x in sandbox.list_projects()] == [p.id]


def test_an_existing_project_with_the_same_title_is_not_mistaken_for_the_lost_one(sandbox):
    onto = sandbox.add_ontology("O", [{"name": "Car", "shape": "bounding_box"}])
    old = sandbox.create_project("Alex", description="d", dataset_ids=[], ontology_id=onto.id)

    class FailsBeforeActing(ActsThenTimesOut):
        def create_project(self, *a, **k):
            self.calls += 1
            if self.calls == 1:
                raise Transient("connection reset", acted=None)  # unknown: it did not act here
            return self.inner.create_project(*a, **k)

    inner = FailsBeforeActing(sandbox)
    p = RetryingBackend(inner, NO_SLEEP).create_project("Alex", description="d", dataset_ids=[],
                                                        ontology_id=onto.id)
    assert p.id != old.id and inner.calls == 2


def test_a_registration_whose_answer_was_lost_is_not_started_twice(sandbox):
    integ = sandbox.add_integration("S3", "aws")
    folder = sandbox.create_folder("F")

    class Lost(ActsThenTimesOut):
        def start_registration(self, *a, **k):
            self.calls += 1
            self.inner.start_registration(*a, **k)
            raise Transient("timed out", acted=None)

    inner = Lost(sandbox)
    with pytest.raises(Transient, match="may have started"):
        RetryingBackend(inner, NO_SLEEP).start_registration(folder.id, integ.id, {"images": []})
    assert inner.calls == 1


def test_gives_up_after_the_attempts_with_a_clear_message():
    calls = []

    def always_fails():
        calls.append(1)
        raise Transient("503 Service Unavailable", acted=False)

    with pytest.raises(Transient, match="still failing after 3 attempts: 503"):
        call_with_retry(always_fails, RetryPolicy(attempts=3, base_delay=0, sleep=lambda s: None), what="list")
    assert len(calls) == 3


def test_rate_limits_wait_for_retry_after_and_other_errors_are_not_retried():
    slept = []
    policy = RetryPolicy(attempts=3, base_delay=0.01, sleep=slept.append)
    state = {"n": 0}

    def limited():
        state["n"] += 1
        if state["n"] == 1:
            raise RateLimited("429", retry_after=7.0)
        return "ok"

    assert call_with_retry(limited, policy, what="x") == "ok"
    assert slept == [7.0]

    def not_found():
        state["n"] += 1
        raise NotFound("gone")

    state["n"] = 0
    with pytest.raises(NotFound):
        call_with_retry(not_found, policy, what="x")
    assert state["n"] == 1


def test_fault_injection_from_environment(sandbox, monkeypatch):
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_FAULTS", "0.5")
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_SEED", "3")
    wrapped = FaultInjector.from_env(sandbox)
    assert isinstance(wrapped, FaultInjector) and wrapped.fault_rate == 0.5
    outcomes = []
    for _ in range(40):
        try:
            wrapped.list_projects()
            outcomes.append("ok")
        except Transient:
            outcomes.append("fault")
    assert 5 < outcomes.count("fault") < 35
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_FAULTS", "0")
    assert FaultInjector.from_env(sandbox) is sandbox
