"""Issue 16's loop over the real SDK: programmes, decisions, graduate, retake, history, audit and
feedback through the CLI on the encord backend, against the fake of Encord's API on 127.0.0.1 —
the same commands the sandbox journey runs, and what they wrote checked in the fake's workspace."""

from __future__ import annotations

from annotrain_tui.core.markers import training_round
from tests.e2e.helpers import BENCHMARK, cli, provision, set_up_benchmark, trainees_label

ANA, BO, CY = "ana@example.com", "bo@example.com", "cy@example.com"


def test_decide_graduate_retake_history_audit_and_feedback_over_the_sdk(encord_world, tmp_path):
    world, fake, ws = encord_world, encord_world.fake, encord_world.ws
    a = world.args()
    prog = set_up_benchmark(world, tmp_path)
    assert provision(world, prog, tmp_path).code == 0
    trainees_label(world, prog)
    bid = prog.benchmark["project_id"]
    production = ws.add_project("Street Scenes Production", ontology=ws.projects[bid].ontology,
                                datasets=list(ws.projects[bid].datasets))

    listed = cli(*a, "programmes", "--json")
    assert listed.code == 0, listed.err
    (programme,) = listed.json["programmes"]
    assert programme["benchmark_id"] == bid and len(programme["trainees"]) == 3

    ev = cli(*a, "evaluate", "--programme", BENCHMARK, "--min-items", "1", "--json")
    assert ev.code == 0, ev.err
    assert cli(*a, "history", "--json").json["snapshots"] == 1

    for email, kind in ((ANA, "graduate"), (CY, "retake"), (BO, "hold")):
        made = cli(*a, "decide", email, kind, "--note", "over the SDK", "--json")
        assert made.code == 0, made.err
    grad = cli(*a, "graduate", "--production", "Street Scenes Production", "--yes", "--json")
    assert grad.code == 0, grad.err
    assert grad.json["graduated"] == [ANA]
    assert ws.projects[production].users.get(ANA) == 1  # Encord's annotator role, on the production project

    retake = cli(*a, "retake", "--yes", "--json")
    assert retake.code == 0, retake.err
    (step,) = retake.json["steps"]
    assert (step["email"], step["status"]) == (CY, "created")
    second = ws.projects[step["project_id"]]
    assert training_round(second.description) == 2 and "(round 2)" in second.title
    assert second.datasets == ws.projects[bid].datasets and second.ontology == ws.projects[bid].ontology
    assert second.users.get(CY) == 1
    again = cli(*a, "retake", "--yes", "--json")
    assert again.code == 0 and {s["status"] for s in again.json["steps"]} == {"done"}
    shown = cli(*a, "programmes", "show", "--no-scores", "--json").json
    assert {t["email"]: t["round"] for t in shown["trainees"]} == {ANA: 1, BO: 1, CY: 2}

    audit = cli(*a, "audit", "--json")
    assert audit.code == 0, audit.err
    assert "suspects" in audit.json
    packs = cli(*a, "feedback", "--annotator", BO, "--out", tmp_path / "packs", "--json")
    assert packs.code == 0, packs.err
    assert sorted(p.rsplit("/", 1)[-1] for p in packs.json["files"]) == [f"{BO}.html", f"{BO}.md"]
    assert not fake.errors and not fake.unhandled
