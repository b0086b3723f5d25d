"""The on-call watcher (core/watch.py): each event kind, triggered by a change made to a sandbox
programme between two polls, fires once; later polls refresh the session, never reload it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.demo import seed_demo
from annotrain_tui.core.backends.sandbox.labels import objects_of
from annotrain_tui.core.evaluation.results import STATUS_PASSED, EvaluationSettings, PassMark
from annotrain_tui.core.markers import training_description
from annotrain_tui.core.programme import Programme, load_programme
from annotrain_tui.core.watch import BENCHMARK_EDITED, CROSSED, ROUND_FINISHED, STALLED, Watcher, how_long

ALEX = "alex.kim@example.com"
BEA = "bea.santos@example.com"
CHIDI = "chidi.okafor@example.com"
#: a mark every demo trainee is judged against from their first item (alex passes it, chidi does not)
SETTINGS = EvaluationSettings(pass_mark=PassMark(f1=0.6, class_accuracy=0.5, min_items=1))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Counting:
    """The backend, counting its calls and the full label rows it hands out."""

    def __init__(self, inner: SandboxBackend) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.rows = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            out = attr(*args, **kwargs)
            if name == "get_label_rows":
                self.rows += len(out)
            elif name in ("poll_label_rows", "get_edited_label_rows"):
                self.rows += len(out[1])
            return out

        return call

    def reset(self) -> None:
        self.calls.clear()
        self.rows = 0


@pytest.fixture
def demo(tmp_path):
    now = datetime.now(UTC).replace(microsecond=0)
    backend = SandboxBackend(tmp_path / "demo.db")
    seed_demo(backend, now=now)
    prog = load_programme(backend, None, tmp_path / "programmes", "test-ws")
    yield backend, prog, Clock(now)
    backend.close()


def _of(events, kind: str) -> list:
    return [e for e in events if e.kind == kind]


def _project(prog: Programme, email: str) -> str:
    return prog.trainees[email].current.project.id


def _gold(backend: SandboxBackend, prog: Programme) -> dict[str, list[dict[str, Any]]]:
    hashes = [r.data_hash for r in backend.list_label_rows(prog.id)]
    return {r["data_hash"]: objects_of(r) for r in backend.get_label_rows(prog.id, hashes)}


def test_crossing_the_mark_either_way_fires_once_each_time(demo):
    backend, prog, clock = demo
    w = Watcher(backend, prog, SETTINGS, clock=clock)
    first = w.poll()
    assert _of(first, CROSSED) == []  # the first look is the baseline
    assert w.session is not None and w.session.result is not None
    assert w.session.result.annotators[ALEX].status == STATUS_PASSED
    alex = _project(prog, ALEX)
    mine = {r["data_hash"]: objects_of(r) for r in backend.get_label_rows(alex, [
        r.data_hash for r in backend.list_label_rows(alex)])}
    for dh in mine:  # alex's work is wiped: far below the mark
        backend.save_labels(alex, dh, [], stage="Complete")
    [down] = _of(w.poll(), CROSSED)
    assert (down.annotator, down.round) == (ALEX, 1)
    assert down.details["before"] == STATUS_PASSED and down.details["after"] != STATUS_PASSED
    assert down.details["direction"] == "down" and "fell below the mark" in down.message
    assert _of(w.poll(), CROSSED) == []  # once: nothing changed since
    for dh, objects in mine.items():  # and restored
        backend.save_labels(alex, dh, objects, stage="Complete")
    [up] = _of(w.poll(), CROSSED)
    assert up.annotator == ALEX and up.details["after"] == STATUS_PASSED and up.details["direction"] == "up"
    assert _of(w.poll(), CROSSED) == []
    doc = json.loads(json.dumps(up.to_json()))
    assert doc["kind"] == "crossed" and doc["annotator"] == ALEX and doc["round"] == 1 and doc["at"]


def test_a_status_change_that_stays_on_one_side_of_the_mark_is_no_crossing(demo):
    backend, prog, clock = demo
    w = Watcher(backend, prog, SETTINGS, clock=clock)
    w.poll()
    before = w.session.result.annotators[CHIDI].status  # type: ignore[union-attr]
    assert before != STATUS_PASSED
    chidi = _project(prog, CHIDI)
    done = [r.data_hash for r in backend.list_label_rows(chidi) if r.done]
    for dh in done[:5]:
        backend.save_labels(chidi, dh, [], stage="Complete")  # worse still
    events = w.poll()
    assert w.session.result.annotators[CHIDI].status != STATUS_PASSED  # type: ignore[union-attr]
    assert _of(events, CROSSED) == []


def test_a_stalled_trainee_is_said_once_per_stall(demo):
    backend, prog, clock = demo
    w = Watcher(backend, prog, SETTINGS, stalled_hours=24, clock=clock)
    # chidi's last submitted task is over 24 hours old; bea's 15; alex finished (never stalled)
    [chidi] = _of(w.poll(), STALLED)
    assert (chidi.annotator, chidi.round) == (CHIDI, 1) and chidi.details["hours"] > 24
    assert chidi.details["project_id"] == _project(prog, CHIDI)
    assert _of(w.poll(), STALLED) == []
    clock.now += timedelta(hours=10)
    [bea] = _of(w.poll(), STALLED)
    assert bea.annotator == BEA
    assert _of(w.poll(), STALLED) == []
    # chidi works again: no stall now; a day later, a new stall, said once more
    todo = next(r.data_hash for r in backend.list_label_rows(_project(prog, CHIDI)) if not r.done)
    backend.save_labels(_project(prog, CHIDI), todo, [], stage="Complete", edited_at=clock.now)
    assert _of(w.poll(), STALLED) == []
    clock.now += timedelta(hours=25)
    [again] = _of(w.poll(), STALLED)
    assert again.annotator == CHIDI and again.details["last_activity"] != chidi.details["last_activity"]
    assert _of(w.poll(), STALLED) == []


def test_a_finished_task_edited_again_is_no_new_work_so_no_new_stall(demo):
    """The trial saw one trainee said stalled twice, each with a new last activity: a time that moves
    without the trainee working (the simulator revising a finished task, a reviewer's edit) must not
    start a new stall; a task submitted, to review or to Complete, does."""
    backend, prog, clock = demo
    chidi = _project(prog, CHIDI)
    w = Watcher(backend, prog, SETTINGS, stalled_hours=24, clock=clock)
    [first] = [e for e in _of(w.poll(), STALLED) if e.annotator == CHIDI]
    finished = next(r.data_hash for r in backend.list_label_rows(chidi) if r.done)
    row = backend.get_label_rows(chidi, [finished])[0]
    clock.now += timedelta(hours=1)  # (later than the demo's rows were made)
    assert _of(w.poll(), STALLED) == []
    backend.save_labels(chidi, finished, objects_of(row)[1:], stage="Complete", edited_at=clock.now)  # revised
    assert _of(w.poll(), STALLED) == []  # the time moved: not stalled now
    assert w.session is not None and w.session.sources[chidi].last_activity is not None
    assert w.session.sources[chidi].last_activity > datetime.fromisoformat(first.details["last_activity"])
    clock.now += timedelta(hours=25)
    assert [e for e in _of(w.poll(), STALLED) if e.annotator == CHIDI] == []  # the same stall: said once
    # a task finished is work: the next stall is news
    todo = next(r.data_hash for r in backend.list_label_rows(chidi) if not r.done)
    backend.save_labels(chidi, todo, [], stage="Complete", edited_at=clock.now)
    assert [e for e in _of(w.poll(), STALLED) if e.annotator == CHIDI] == []
    clock.now += timedelta(hours=25)
    [again] = [e for e in _of(w.poll(), STALLED) if e.annotator == CHIDI]
    assert again.details["done"] == first.details["done"] + 1
    assert _of(w.poll(), STALLED) == []


def test_a_task_submitted_to_review_is_work_though_nothing_finished(demo):
    backend, prog, clock = demo
    bench = prog.benchmark
    p = backend.create_project("Training - Dana", description=training_description("Dana", "dana@x.com", bench.id),
                               dataset_ids=bench.dataset_ids or [], ontology_id=bench.ontology_id or "")
    assert "Review" in backend.project_stages(p.id)  # the default workflow: Annotate → Review → Complete
    made = backend.get_project(p.id).created_at
    assert made is not None
    clock.now = max(clock.now, made) + timedelta(hours=25)
    w = Watcher(backend, prog, SETTINGS, stalled_hours=24, clock=clock)
    assert "dana@x.com" in [e.annotator for e in _of(w.poll(), STALLED)]
    clock.now += timedelta(hours=1)
    dh = backend.list_label_rows(p.id)[0].data_hash
    backend.save_labels(p.id, dh, [], stage="Review", edited_at=clock.now)  # submitted, waiting for a reviewer
    assert "dana@x.com" not in [e.annotator for e in _of(w.poll(), STALLED)]
    clock.now += timedelta(hours=25)
    [again] = [e for e in _of(w.poll(), STALLED) if e.annotator == "dana@x.com"]
    assert again.details["done"] == 0 and again.details["last_activity"] is not None


def test_how_long_a_stall_is_said_in_minutes_hours_or_days():
    assert how_long(timedelta(seconds=4)) == "less than a minute"
    assert how_long(timedelta(minutes=35, seconds=59)) == "35 minute(s)"
    assert how_long(timedelta(minutes=59, seconds=59)) == "59 minute(s)"
    assert how_long(timedelta(hours=1)) == "1 hour(s)"
    assert how_long(timedelta(hours=47, minutes=59)) == "47 hour(s)"
    assert how_long(timedelta(hours=49)) == "2 day(s)"
    assert how_long(timedelta(seconds=-3)) == "less than a minute"  # a server clock ahead of ours


def test_a_stall_under_an_hour_is_said_in_minutes_never_zero_hours(demo):
    backend, prog, clock = demo
    bench = prog.benchmark
    p = backend.create_project("Training - Dana", description=training_description("Dana", "dana@x.com", bench.id),
                               dataset_ids=bench.dataset_ids or [], ontology_id=bench.ontology_id or "",
                               template_id=prog.trainees[ALEX].current.project.template_id)
    made = backend.get_project(p.id).created_at
    assert made is not None
    clock.now = made + timedelta(minutes=35, seconds=20)
    [dana] = [e for e in _of(Watcher(backend, prog, SETTINGS, stalled_hours=0.5, clock=clock).poll(), STALLED)
              if e.annotator == "dana@x.com"]
    assert "has done nothing for 35 minute(s) (0 of 60 task(s) done, last activity " in dana.message
    assert "hour" not in dana.message
    assert dana.details["seconds"] == 35 * 60 + 20 and (dana.details["done"], dana.details["total"]) == (0, 60)


def test_a_round_with_no_work_at_all_stalls_from_its_projects_creation(demo):
    backend, prog, clock = demo
    bench = prog.benchmark
    p = backend.create_project("Training - Dana", description=training_description("Dana", "dana@x.com", bench.id),
                               dataset_ids=bench.dataset_ids or [], ontology_id=bench.ontology_id or "",
                               template_id=prog.trainees[ALEX].current.project.template_id)
    w = Watcher(backend, prog, SETTINGS, stalled_hours=24, clock=clock)
    assert [e.annotator for e in _of(w.poll(), STALLED)] == [CHIDI]
    made = backend.get_project(p.id).created_at
    assert made is not None
    clock.now = made + timedelta(hours=25)
    assert "dana@x.com" in [e.annotator for e in _of(w.poll(), STALLED)]


def test_a_benchmark_edited_after_training_began_is_said_once_per_change(demo):
    backend, prog, clock = demo
    w = Watcher(backend, prog, SETTINGS, clock=clock)
    assert _of(w.poll(), BENCHMARK_EDITED) == []  # the gold was finished before the trainees' projects
    gold = _gold(backend, prog)
    first, second, third = list(gold)[:3]
    backend.save_labels(prog.id, first, gold[first][1:], stage="Complete")  # an object taken out
    [edited] = _of(w.poll(), BENCHMARK_EDITED)
    assert edited.annotator is None and edited.details["edited"] == 1 and edited.details["items"] == [first]
    assert _of(w.poll(), BENCHMARK_EDITED) == []
    backend.save_labels(prog.id, second, gold[second], stage="Review")  # sent back for review
    [left] = _of(w.poll(), BENCHMARK_EDITED)
    assert left.details["left_complete"] == 1 and left.details["items"] == [second]
    assert left.details["version"] != edited.details["version"]
    assert _of(w.poll(), BENCHMARK_EDITED) == []
    # a watch started now says at once that the gold changed after training began
    backend.save_labels(prog.id, third, gold[third], stage="Complete")
    [standing] = _of(Watcher(backend, prog, SETTINGS, clock=clock).poll(), BENCHMARK_EDITED)
    assert standing.details["edited"] == 2  # the first and the third (the second is not Complete)


def test_a_finished_round_is_said_once(demo):
    backend, prog, clock = demo
    w = Watcher(backend, prog, SETTINGS, clock=clock)
    assert _of(w.poll(), ROUND_FINISHED) == []  # alex had finished already: no news
    bea = _project(prog, BEA)
    gold = _gold(backend, prog)
    todo = [r.data_hash for r in backend.list_label_rows(bea) if not r.done]
    assert len(todo) > 1
    for dh in todo[:-1]:
        backend.save_labels(bea, dh, gold[dh], stage="Complete")
    assert _of(w.poll(), ROUND_FINISHED) == []
    backend.save_labels(bea, todo[-1], gold[todo[-1]], stage="Complete")
    [done] = _of(w.poll(), ROUND_FINISHED)
    assert (done.annotator, done.round, done.details["project_id"]) == (BEA, 1, bea)
    assert _of(w.poll(), ROUND_FINISHED) == []


def test_a_retake_round_replaces_the_round_before_it_and_starts_afresh(demo):
    backend, prog, clock = demo
    w = Watcher(backend, prog, SETTINGS, clock=clock)
    w.poll()
    round1 = prog.trainees[CHIDI].current.project
    r2 = backend.create_project("Training - Chidi (round 2)",
                                description=training_description("Chidi", CHIDI, prog.id, round=2),
                                dataset_ids=round1.dataset_ids or [], ontology_id=round1.ontology_id or "",
                                template_id=round1.template_id)
    events = w.poll()
    assert _of(events, CROSSED) == [] and _of(events, ROUND_FINISHED) == []
    session = w.session
    assert session is not None
    assert round1.id not in session.sources and r2.id in session.sources  # round 1 is out of the totals
    assert session.result is not None
    fresh = session.result.annotators.get(CHIDI)
    assert fresh is None or not fresh.items_done  # none of round 1's 14 items counts for round 2
    gold = _gold(backend, prog)
    for dh, objects in gold.items():  # chidi redoes the round perfectly
        backend.save_labels(r2.id, dh, objects, stage="Complete")
    events = w.poll()
    [done] = _of(events, ROUND_FINISHED)
    assert (done.annotator, done.round) == (CHIDI, 2)
    assert session.result.annotators[CHIDI].status == STATUS_PASSED
    assert _of(events, CROSSED) == []  # round 2's first status is no crossing


def test_later_polls_refresh_the_session_and_never_fetch_every_row_again(demo):
    backend, prog, clock = demo
    counting = Counting(backend)
    w = Watcher(counting, prog, SETTINGS, clock=clock)  # type: ignore[arg-type]
    w.poll()
    first_rows = counting.rows
    assert first_rows >= 60 + 60 + 38 + 14  # the load: the gold and every Complete training row
    counting.reset()
    assert w.poll() == []
    assert counting.rows == 0 and counting.calls["list_label_rows"] == 0
    bea = _project(prog, BEA)
    dh = next(r.data_hash for r in backend.list_label_rows(bea) if not r.done)
    backend.save_labels(bea, dh, [], stage="Complete")
    counting.reset()
    w.poll()
    assert counting.rows == 1  # the one row edited since
    assert counting.calls["list_label_rows"] == 0 and counting.calls["poll_label_rows"] == 3
    assert w.session is not None and dh in w.session.sources[bea].rows


def test_every_event_is_one_json_object_with_its_kind(demo):
    backend, prog, clock = demo
    clock.now += timedelta(hours=48)
    events = Watcher(backend, prog, SETTINGS, clock=clock).poll()
    assert {e.annotator for e in events} == {BEA, CHIDI}
    for e in events:
        doc = json.loads(json.dumps(e.to_json()))
        assert set(doc) >= {"kind", "annotator", "round", "message", "at"}
        assert "\n" not in e.line() and e.line().split(" ", 2)[1] == "stalled:"


def test_a_programme_without_trainees_yet_is_watched_until_it_has_some(tmp_path):
    from annotrain_tui.core.backends.sandbox.demo import GOLD_EMAIL

    backend = SandboxBackend(tmp_path / "demo.db")
    try:
        seed_demo(backend)
        full = load_programme(backend, None, tmp_path / "programmes", "ws")
        bench = full.benchmark
        fresh = backend.create_project("Another benchmark", description="gold", dataset_ids=bench.dataset_ids or [],
                                       ontology_id=bench.ontology_id or "", template_id=bench.template_id)
        backend.add_users(fresh.id, [GOLD_EMAIL], "annotator")
        prog = load_programme(backend, fresh.id, tmp_path / "programmes", "ws")
        w = Watcher(backend, prog, SETTINGS)
        assert w.poll() == [] and w.session is None
        backend.create_project("Training - Eve", description=training_description("Eve", "eve@x.com", fresh.id),
                               dataset_ids=bench.dataset_ids or [], ontology_id=bench.ontology_id or "",
                               template_id=full.trainees[ALEX].current.project.template_id)
        w.poll()
        assert w.session is not None and len(w.session.sources) == 1
    finally:
        backend.close()


def test_an_exclusion_made_while_watching_rescores_from_the_rows_held(demo):
    backend, prog, clock = demo
    counting = Counting(backend)
    w = Watcher(counting, prog, SETTINGS, clock=clock)  # type: ignore[arg-type]
    w.poll()
    assert w.session is not None and w.session.result is not None
    before = w.session.result.annotators[ALEX].benchmark_objects
    dh = backend.list_label_rows(prog.id)[0].data_hash
    prog.record.exclude(dh, object_hash=None, reason="suspect gold")
    counting.reset()
    w.poll()
    assert counting.rows == 0  # nothing fetched again
    result = w.session.result
    assert result.settings.excluded_items == frozenset({dh})
    assert result.annotators[ALEX].benchmark_objects < before
    prog.record.include(dh)
    w.poll()
    assert w.session.result.annotators[ALEX].benchmark_objects == before
