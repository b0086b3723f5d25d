"""The programme as one object (issue 16 item 1): trainees by marker and round, state and next step,
and the record of decisions and exclusions that only annotrain keeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotrain_tui.core import programme as pg
from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.decisions import confirm_all, decide, decision_rows, score_programme, suggest
from annotrain_tui.core.errors import InvalidInput, NotFound
from annotrain_tui.core.markers import (
    benchmark_description,
    current_rounds,
    parse_training_marker,
    training_description,
    training_marker,
    training_round,
)
from annotrain_tui.core.models import Project
from annotrain_tui.core.provisioning import marked_projects

WS = "sandbox:/test"


def _load(backend, tmp_path: Path, ref=None) -> pg.Programme:
    return pg.load_programme(backend, ref, tmp_path / "records", WS)


def _finish(backend: SandboxBackend, project_id: str) -> None:
    """Move every task of a project to its final stage (labels as they are)."""
    final = backend.final_stage(project_id)
    for r in backend.list_label_rows(project_id):
        backend.save_labels(project_id, r.data_hash, [], stage=final)


# -- markers and rounds ---------------------------------------------------------------------------

def test_a_round_two_marker_names_its_round_and_round_one_keeps_the_old_form():
    assert training_marker("b1", "A@X.com") == "[annotrain:training benchmark=b1 annotator=a@x.com]"
    two = training_description("Ann", "a@x.com", "b1", round=2)
    assert "round=2]" in two and "(round 2)" in two
    assert parse_training_marker(two) == ("b1", "a@x.com")
    assert training_round(two) == 2
    assert training_round(training_description("Ann", "a@x.com", "b1")) == 1
    assert training_round("no marker here") == 1


def test_provisioning_counts_round_one_only_and_evaluation_takes_each_annotators_latest_round():
    def proj(pid, desc):
        return Project(id=pid, title=pid, description=desc)

    one = proj("p1", training_description("A", "a@x.com", "b"))
    two = proj("p2", training_description("A", "a@x.com", "b", round=2))
    other = proj("p3", training_description("B", "b@x.com", "b"))
    # a round-2 project is not a duplicate of round 1 for provisioning
    assert {e: [p.id for p in ps] for e, ps in marked_projects([one, two, other], "b").items()} == \
        {"a@x.com": ["p1"], "b@x.com": ["p3"]}
    assert [p.id for p in marked_projects([one, two, other], "b", round=2)["a@x.com"]] == ["p2"]
    assert [p.id for p in current_rounds([one, two, other], "b")] == ["p2", "p3"]


# -- states ----------------------------------------------------------------------------------------

def test_the_demo_programme_is_found_with_its_trainees_and_is_ready_for_decisions(demo, tmp_path):
    backend, ids = demo
    progs = pg.list_programmes(backend, tmp_path / "records", WS)
    assert [p.id for p in progs] == [ids["benchmark"]]
    prog = progs[0]
    assert prog.benchmark_complete and prog.dataset_id and prog.ontology_id
    assert len(prog.trainees) == 3
    finished = [t.email for t in prog.trainees.values() if t.current.finished]
    assert finished and prog.state == pg.READY
    assert "decide" in prog.next_step


def test_a_benchmark_with_unfinished_gold_is_benchmark_incomplete(demo, tmp_path):
    backend, ids = demo
    row = backend.list_label_rows(ids["benchmark"])[0]
    backend.save_labels(ids["benchmark"], row.data_hash, [], stage="Annotate")
    prog = _load(backend, tmp_path)
    assert prog.state == pg.BENCHMARK_INCOMPLETE
    assert f"{prog.completeness.complete} of {prog.completeness.total}" in prog.next_step


def test_a_benchmark_without_tasks_or_trainees_is_setting_up(sandbox, tmp_path):
    ds = sandbox.create_dataset("Training")
    onto = sandbox.add_ontology("O", [{"name": "Car", "shape": "bounding_box"}])
    bench = sandbox.create_project("Cohort benchmark", description=benchmark_description("gold"),
                                   dataset_ids=[ds.id], ontology_id=onto.id)
    prog = _load(sandbox, tmp_path)
    assert prog.id == bench.id and prog.state == pg.SETTING_UP
    assert "no tasks" in prog.next_step


def test_decisions_move_the_programme_and_graduation_applied_closes_it(demo, tmp_path):
    backend, ids = demo
    prog = _load(backend, tmp_path)
    for t in prog.trainees.values():
        _finish(backend, t.current.project.id)
    prog = _load(backend, tmp_path)
    assert prog.state == pg.READY
    for email in prog.trainees:
        prog.record.decide(email, "graduate", round=1)
    prog = _load(backend, tmp_path)
    assert prog.state == pg.TRAINING and "apply the decisions of 3" in prog.next_step
    for email in prog.trainees:
        prog.record.record("graduate-done", email=email, project_id="prod")
    assert _load(backend, tmp_path).state == pg.CLOSED


def test_no_benchmark_is_one_clear_not_found(sandbox, tmp_path):
    with pytest.raises(NotFound, match="no programme yet"):
        _load(sandbox, tmp_path)


# -- the record -------------------------------------------------------------------------------------

def test_the_latest_decision_counts_and_a_line_cut_by_a_kill_is_skipped(tmp_path):
    rec = pg.ProgrammeRecord(tmp_path / "r.jsonl")
    rec.decide("A@x.com", "retake", round=1, status="needs feedback", reason="F1 0.5", note="boxes loose")
    rec.decide("a@x.com", "graduate", round=2, note="fixed")
    with open(rec.path, "a", encoding="utf-8") as fh:
        fh.write('{"event": "decision", "email": "a@x.com", "decis')  # a kill mid-line
    got = rec.decisions()["a@x.com"]
    assert (got.decision, got.round, got.note) == ("graduate", 2, "fixed")
    assert [e["decision"] for e in rec.events("decision")] == ["retake", "graduate"]
    with pytest.raises(InvalidInput):
        rec.decide("a@x.com", "promote", round=1)


def test_an_exclusion_needs_a_reason_and_an_inclusion_undoes_it_with_both_kept(tmp_path):
    rec = pg.ProgrammeRecord(tmp_path / "r.jsonl")
    with pytest.raises(InvalidInput, match="reason"):
        rec.exclude("d1", object_hash="o1", reason="  ")
    rec.exclude("d1", object_hash="o1", reason="gold box on the wrong car")
    rec.exclude("d2", object_hash=None, reason="gold misses a pedestrian")
    assert set(rec.exclusions()) == {"d1", "d2"}
    rec.include("d1", reason="gold fixed")
    assert set(rec.exclusions()) == {"d2"}
    kinds = [json.loads(line)["event"] for line in rec.path.read_text().splitlines()]
    assert kinds == ["exclusion", "exclusion", "inclusion"]


def test_a_rebuilt_sandbox_with_the_same_ids_gets_a_new_record(demo, tmp_path):
    backend, ids = demo
    bench = backend.get_project(ids["benchmark"])
    later = bench.replace(**{"created_at": None})
    assert pg.programme_key(WS, bench) != pg.programme_key(WS, later)
    # the same workspace under another spelling, moved or copied: the same record
    assert pg.programme_key(WS, bench) == pg.programme_key("sandbox:/elsewhere/../copy.db", bench)
    assert pg.programme_key(WS, bench) != pg.programme_key("encord:https://api.encord.com", bench)


def test_the_benchmark_version_changes_when_the_gold_is_edited(demo):
    backend, ids = demo
    before = pg.benchmark_version(backend, ids["benchmark"])
    assert before == pg.benchmark_version(backend, ids["benchmark"])
    row = backend.list_label_rows(ids["benchmark"])[0]
    backend.save_labels(ids["benchmark"], row.data_hash, [], stage=backend.final_stage(ids["benchmark"]))
    assert pg.benchmark_version(backend, ids["benchmark"]) != before


# -- decisions --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "kind"), [("passed", "graduate"), ("needs feedback", "retake"),
                                              ("close", "retake"), ("uncertain", "hold"),
                                              ("not enough work yet", "hold"), (None, "hold")])
def test_each_status_suggests_its_decision(status, kind):
    assert suggest(status) == kind


def test_a_decision_records_the_status_it_was_made_on_and_confirm_records_the_rest(demo, tmp_path):
    backend, ids = demo
    prog = _load(backend, tmp_path)
    result = score_programme(backend, prog)
    rows = {r.email: r for r in decision_rows(prog, result)}
    best = max(rows.values(), key=lambda r: r.f1 or 0)
    made = decide(prog, best.email, "hold", result=result, note="one more week")
    assert (made.status, made.note) == (best.status, "one more week")
    confirmed = confirm_all(prog, result)
    finished = {t.email for t in prog.trainees.values() if t.current.finished} - {best.email}
    assert {d.email for d in confirmed} == finished
    again = _load(backend, tmp_path)
    assert again.trainees[best.email].decision.decision == "hold"
    with pytest.raises(NotFound):
        decide(again, "nobody@x.com", "hold")


def test_a_live_session_replaces_a_round_by_the_retake_found_on_refresh(demo, tmp_path):
    """Rounds are scored apart: once round 2 exists, the refresh scores it alone (not both rounds)."""
    from annotrain_tui.core.evaluation.session import EvaluationSession

    backend, ids = demo
    prog = _load(backend, tmp_path)
    email, trainee = next(iter(prog.trainees.items()))
    session = EvaluationSession.of_workspace(backend, prog.id, None, block_size=10**9)
    before = session.load().annotators[email]
    assert before.objects > 0
    first = trainee.current.project
    second = backend.create_project(first.title + " (round 2)", dataset_ids=first.dataset_ids or [],
                                    ontology_id=first.ontology_id or "", template_id=first.template_id,
                                    description=training_description(email, email, prog.id, round=2))
    report = session.refresh()
    assert report.new_projects == [second.id]
    assert first.id not in session.sources and second.id in session.sources
    after = session.result.annotators.get(email)
    assert after is None or after.objects == 0  # round 2 has no labels yet: round 1's are not counted


def test_a_record_that_exists_but_cannot_be_read_is_an_error_never_an_empty_programme(tmp_path):
    from annotrain_tui.core.errors import AnnotrainError

    rec = pg.ProgrammeRecord(tmp_path / "r.jsonl")
    assert rec.events() == []  # not there yet: a new programme
    rec.path.mkdir()  # there, but not a file it can read
    with pytest.raises(AnnotrainError, match="cannot read the programme record"):
        rec.decisions()


def test_lines_of_the_wrong_shape_in_a_record_are_skipped_and_the_rest_kept(tmp_path):
    rec = pg.ProgrammeRecord(tmp_path / "r.jsonl")
    rec.decide("a@x.com", "graduate", round=1)
    with open(rec.path, "a", encoding="utf-8") as fh:
        fh.write('[1, 2]\n"text"\n{"event": "decision", "email": 5, "decision": "graduate"}\n')
        fh.write('{"event": "decision", "email": "b@x.com", "decision": "retake", "round": "two", "note": 7}\n')
        fh.write('{"event": "exclusion", "data_hash": ["x"], "reason": "r"}\n\xff\xfe\n')
    got = rec.decisions()
    assert set(got) == {"a@x.com", "b@x.com"}
    assert (got["b@x.com"].round, got["b@x.com"].note) == (1, "")  # wrong types fall back, never crash
    assert rec.exclusions() == {}


def test_a_line_cut_short_by_a_kill_never_swallows_the_next_event(tmp_path):
    """Trial 16 #1: after a cut last line, the next event starts on a line of its own."""
    rec = pg.ProgrammeRecord(tmp_path / "r.jsonl")
    rec.decide("a@x.com", "hold", round=1)
    with open(rec.path, "a", encoding="utf-8") as fh:
        fh.write('{"ts": "2026-12-01T18:44:18", "event": "decis')  # what an interrupted append leaves
    rec.decide("b@x.com", "graduate", round=1, note="after the kill")
    got = rec.decisions()
    assert got["b@x.com"].note == "after the kill" and got["a@x.com"].decision == "hold"


def test_a_write_that_fails_half_way_is_taken_back_and_says_so(tmp_path, monkeypatch):
    """A full disk mid-line: the record is as it was (no half line), one error, nothing recorded."""
    import errno
    import os

    from annotrain_tui.core.errors import AnnotrainError

    rec = pg.ProgrammeRecord(tmp_path / "r.jsonl")
    rec.decide("a@x.com", "hold", round=1)
    before = rec.path.read_bytes()
    real_write = os.write

    def half(fd, data):
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half)
    with pytest.raises(AnnotrainError, match="cannot write the programme record") as err:
        rec.decide("b@x.com", "graduate", round=1)
    assert "nothing was recorded" in str(err.value) and "resumes" not in str(err.value)
    monkeypatch.setattr(os, "write", real_write)
    assert rec.path.read_bytes() == before
    rec.decide("c@x.com", "retake", round=1)
    assert set(rec.decisions()) == {"a@x.com", "c@x.com"}
