"""CLI contract of `annotrain graduate` and `annotrain retake` on a demo sandbox."""

from __future__ import annotations

import builtins
import json
import sys

from annotrain_tui.core.config import Paths
from annotrain_tui.core.markers import parse_training_marker, training_round
from annotrain_tui.core.workspace import open_workspace, resolve_settings
from tests.hardening.helpers import run

ALEX, BEA, CHIDI = "alex.kim@example.com", "bea.santos@example.com", "chidi.okafor@example.com"


def workspace():
    paths, settings = resolve_settings(Paths.default())
    return open_workspace(paths, settings)


def setup(capsys, *, decisions: dict[str, str], production: tuple[str, ...] = ()) -> dict[str, str]:
    """A demo sandbox, the decisions recorded in its programme, and production projects made."""
    code, _, err = run(capsys, "sandbox", "init", "--demo")
    assert code == 0, err
    ws = workspace()
    try:
        prog = ws.programme()
        for email, decision in decisions.items():
            prog.record.decide(email, decision, round=prog.trainees[email].round)
        onto = ws.raw.list_ontologies()[0]
        return {t: ws.raw.create_project(t, description="production", dataset_ids=[], ontology_id=onto.id).id
                for t in production}
    finally:
        ws.close()


def users(project_id):
    ws = workspace()
    try:
        return {u.email: u.role for u in ws.raw.get_project(project_id).users}
    finally:
        ws.close()


def round_projects(round: int):
    ws = workspace()
    try:
        return [p for p in ws.raw.list_projects()
                if parse_training_marker(p.description) and training_round(p.description) == round]
    finally:
        ws.close()


def test_without_a_decision_each_says_so_in_one_line_and_how_to_decide(capsys):
    setup(capsys, decisions={}, production=("Prod A",))
    code, out, err = run(capsys, "graduate", "--production", "Prod A", "--yes")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "is decided 'graduate'" in err and "annotrain decide EMAIL graduate" in err
    code, out, err = run(capsys, "retake", "--yes", "--json")
    assert code == 1 and out == "" and err.count("\n") == 1 and "annotrain decide EMAIL retake" in err


def test_graduate_dry_run_then_apply_then_noop(capsys, monkeypatch):
    ids = setup(capsys, decisions={ALEX: "graduate", BEA: "retake"}, production=("Prod A", "Prod B"))
    code, out, _ = run(capsys, "graduate", "--production", "Prod A", "Prod B", "--dry-run", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["dry_run"] and [(s["email"], s["status"], s["title"]) for s in doc["steps"]] == [
        (ALEX, "add", "Prod A"), (ALEX, "add", "Prod B")]
    assert ALEX not in users(ids["Prod A"])  # a dry run changes nothing
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    code, _, err = run(capsys, "graduate", "--production", "Prod A", "Prod B")
    assert code == 2 and "--yes" in err and ALEX not in users(ids["Prod A"])
    code, out, _ = run(capsys, "graduate", "--programme", "Benchmark Labels", "--production", "Prod A",
                       "--production", "Prod B", "--role", "reviewer", "--yes", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [s["status"] for s in doc["steps"]] == ["added", "added"] and doc["graduated"] == [ALEX]
    assert set(doc["steps"][0]) == {"email", "status", "title", "project_id", "round", "role", "error"}
    assert users(ids["Prod A"])[ALEX] == users(ids["Prod B"])[ALEX] == "reviewer"
    code, out, _ = run(capsys, "graduate", "--production", "Prod A", "Prod B", "--role", "reviewer", "--yes")
    assert code == 0 and "already done" in out and "graduated: alex.kim@example.com" in out
    ws = workspace()
    try:
        assert ws.programme().graduated == {ALEX}
    finally:
        ws.close()


def test_graduate_into_the_benchmark_or_an_unknown_project_is_a_conflict_exit_1(capsys):
    ids = setup(capsys, decisions={ALEX: "graduate"}, production=("Prod A",))
    code, out, _ = run(capsys, "graduate", "--production", "Prod A", "Benchmark Labels", "Nowhere", "--yes", "--json")
    assert code == 1
    steps = {s["title"]: s for s in json.loads(out)["steps"]}
    assert steps["Prod A"]["status"] == "added"
    assert steps["Benchmark Labels"]["status"] == "conflict" and "benchmark" in steps["Benchmark Labels"]["error"]
    assert steps["Nowhere"]["status"] == "conflict" and "Nowhere" in steps["Nowhere"]["error"]
    assert users(ids["Prod A"])[ALEX] == "annotator"
    code, _, err = run(capsys, "graduate", "--production", "Prod A", "--role", "owner", "--yes")
    assert code == 2 and "invalid choice: 'owner'" in err


def test_graduate_a_named_annotator_who_is_not_decided_graduate(capsys):
    setup(capsys, decisions={ALEX: "graduate", BEA: "hold"}, production=("Prod A",))
    code, out, _ = run(capsys, "graduate", "--production", "Prod A", "--annotator", BEA, "--dry-run")
    assert code == 1 and "CONFLICT" in out and "decided 'hold'" in out and ALEX not in out


def test_retake_plan_ask_and_apply(capsys, monkeypatch):
    setup(capsys, decisions={BEA: "retake", CHIDI: "retake", ALEX: "graduate"})
    code, out, _ = run(capsys, "retake", "--dry-run")
    assert code == 0 and out.count("will create") == 2 and "Annotator Training - Bea Santos (round 2)" in out
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(builtins, "input", lambda prompt: "n")
    code, out, _ = run(capsys, "retake")
    assert code == 1 and "Nothing done." in out and round_projects(2) == []
    asked = []
    monkeypatch.setattr(builtins, "input", lambda prompt: (asked.append(prompt), "y")[1])
    code, out, _ = run(capsys, "retake", "--annotator", BEA)
    assert code == 0 and asked == ["Create 1 round project(s) and invite 1 annotator(s)? [y/N] "]
    assert [p.title for p in round_projects(2)] == ["Annotator Training - Bea Santos (round 2)"]
    code, out, _ = run(capsys, "retake", "--yes", "--json")
    assert code == 0
    steps = {s["email"]: s for s in json.loads(out)["steps"]}
    assert (steps[BEA]["status"], steps[CHIDI]["status"]) == ("done", "created")
    assert steps[CHIDI]["round"] == 2 and steps[CHIDI]["title"] == "Annotator Training - Chidi Okafor (round 2)"
    for p in round_projects(2):
        email = parse_training_marker(p.description)[1]
        assert users(p.id)[email] == "annotator"
    code, out, _ = run(capsys, "retake", "--yes", "--json")
    assert code == 0 and {s["status"] for s in json.loads(out)["steps"]} == {"done"} and len(round_projects(2)) == 2
    ws = workspace()
    try:
        prog = ws.programme()
        assert prog.trainees[BEA].round == prog.trainees[CHIDI].round == 2 and prog.trainees[ALEX].round == 1
    finally:
        ws.close()
