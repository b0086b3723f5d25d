"""`annotrain sandbox simulate`: the expert who labels a benchmark (with planted gold errors), trainees
until done with skills given, and a programme rehearsed from an empty sandbox (issue 16, item 8)."""

from __future__ import annotations

import json

import pytest

from annotrain_tui.cli import main
from annotrain_tui.core.backends.sandbox import SandboxBackend

SHAPES = [("Car", "bounding_box"), ("Van", "bounding_box"), ("Bus", "rotatable_bounding_box"), ("Sign", "polygon"),
          ("Lane", "polyline"), ("Light", "point"), ("Person", "skeleton"), ("Road", "bitmask")]


def run(capsys, ws, *argv):
    try:
        code = main(["--sandbox", str(ws), *argv])
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def scratch(capsys, tmp_path):
    """An empty sandbox (init without --demo) with what a user finds there or makes outside annotrain:
    an integration, an ontology, a training template; then files registered, a dataset and a benchmark
    made with annotrain's own commands."""
    ws = tmp_path / "ws.db"
    assert run(capsys, ws, "sandbox", "init")[0] == 0
    backend = SandboxBackend(ws)
    try:
        backend.add_integration("Direct", "direct")
        backend.add_ontology("Street", [{"name": n, "shape": s} for n, s in SHAPES])
        backend.add_template("Annotator Training", ["Annotate", "Complete"])
    finally:
        backend.close()
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"images": [{"objectUrl": f"https://example.com/s/img_{i:03d}.jpg"}
                                               for i in range(10)]}))
    code, _, err = run(capsys, ws, "register", str(manifest), "--integration", "Direct", "--folder", "Scenes",
                       "--create-folder", "--wait")
    assert code == 0, err
    assert run(capsys, ws, "benchmark", "create-dataset", "--folder", "Scenes", "--title", "Train Set")[0] == 0
    code, _, err = run(capsys, ws, "benchmark", "create", "--dataset", "Train Set", "--ontology", "Street",
                       "--title", "Bench")
    assert code == 0, err
    return ws


def test_a_programme_from_scratch_rehearsed_to_evaluation(capsys, tmp_path, scratch):
    ws = scratch
    # the expert labels the benchmark (the current programme's), planting three gold errors
    code, out, err = run(capsys, ws, "sandbox", "simulate", "--benchmark", "--plant-errors", "3", "--seed", "5",
                         "--json")
    assert code == 0, err
    doc = json.loads(out)
    bench = doc["expert"]
    assert bench["benchmark"]["title"] == "Bench" and bench["labelled"] == 10 and bench["already_done"] == 0
    planted = bench["planted_now"]
    assert [e["kind"] for e in planted] == ["missing", "misplaced", "class"]
    assert len({e["data_hash"] for e in planted}) == 3 and planted == bench["planted_errors"]
    assert doc["steps"] == 0 and doc["labelled"] == []  # the trainees were not asked
    code, out, _ = run(capsys, ws, "programmes", "--json")
    (prog,) = json.loads(out)["programmes"]
    assert (prog["benchmark_complete"], prog["benchmark_total"]) == (10, 10)
    # again: nothing new labelled or planted
    code, out, _ = run(capsys, ws, "sandbox", "simulate", "--benchmark", "Bench", "--plant-errors", "3", "--json")
    again = json.loads(out)["expert"]
    assert code == 0 and again["labelled"] == 0 and again["planted_now"] == [] and again["planted_errors"] == planted
    # provision from a roster, then the trainees label until done: one good, one bad
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nGood One,good@example.com\nBad One,bad@example.com\n")
    code, _, err = run(capsys, ws, "provision", "--roster", str(roster), "--benchmark", "Bench", "--yes")
    assert code == 0, err
    code, out, err = run(capsys, ws, "sandbox", "simulate", "--until-done", "--skill", "good@example.com=0.98",
                         "--skill", "bad@example.com=0.5", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["steps"] == 20 and len(doc["labelled"]) == 20 and doc["expert"] is None
    code, out, _ = run(capsys, ws, "progress", "--benchmark", "Bench", "--json")
    assert {(a["email"], a["complete"], a["total"]) for a in json.loads(out)["annotators"]} == {
        ("good@example.com", 10, 10), ("bad@example.com", 10, 10)}
    code, out, err = run(capsys, ws, "evaluate", "--benchmark", "Bench", "--all", "--json")
    assert code in (0, 1), err
    scores = json.loads(out)["annotators"]
    assert scores["good@example.com"]["f1"] >= 0.85 and scores["good@example.com"]["status"] == "passed"
    assert scores["bad@example.com"]["f1"] < scores["good@example.com"]["f1"] - 0.2
    assert set(scores["good@example.com"]["by_shape"]) == {s for _, s in SHAPES}
    # nothing left to do
    code, out, _ = run(capsys, ws, "sandbox", "simulate", "--until-done")
    assert code == 0 and out.strip() == "Simulated 0 labelling step(s)."


def test_text_output_names_the_planted_errors(capsys, scratch):
    code, out, _ = run(capsys, scratch, "sandbox", "simulate", "--benchmark", "Bench", "--plant-errors", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Expert labelled 10 task(s) of 'Bench' → Complete (0 already finished)."
    assert lines[1].startswith("  planted missing: img_") and "object dropped" in lines[1]
    assert lines[2].startswith("  planted misplaced: img_") and "moved off its place" in lines[2]
    assert len(lines) == 3 and "Simulated" not in out  # the trainees were not asked
    code, out, _ = run(capsys, scratch, "sandbox", "simulate", "--benchmark", "--until-done")
    assert code == 0 and out.splitlines()[-1] == (
        "Trainees: no training projects of this benchmark yet: provision them, then simulate again.")
    assert "2 gold error(s) planted earlier; none now." in out


def test_benchmark_then_trainees_in_one_run_only_when_asked(capsys, tmp_path, scratch):
    roster = tmp_path / "r.csv"
    roster.write_text("name,email\nA,a@example.com\n")
    code, out, err = run(capsys, scratch, "provision", "--roster", str(roster), "--benchmark", "Bench", "--yes",
                         "--force")  # the benchmark is not Complete yet: a forced start
    assert code == 0, err
    code, out, _ = run(capsys, scratch, "sandbox", "simulate", "--benchmark", "--json")
    assert json.loads(out)["steps"] == 0 and json.loads(out)["note"] is None  # trainees not asked
    code, out, _ = run(capsys, scratch, "sandbox", "simulate", "--benchmark", "--until-done", "--json")
    doc = json.loads(out)
    assert doc["expert"]["labelled"] == 0 and doc["steps"] == 10


@pytest.mark.parametrize(("argv", "says"), [
    (["--plant-errors", "2"], "needs --benchmark"),
    (["--skill", "nobody"], "is not EMAIL=SKILL"),
    (["--skill", "a@example.com=2"], "from 0 to 1"),
    (["--benchmark", "--plant-errors", "-1"], "not a whole number"),
])
def test_bad_options_are_one_line_usage_errors(capsys, scratch, argv, says):
    code, out, err = run(capsys, scratch, "sandbox", "simulate", *argv)
    assert code == 2 and out == ""
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


def test_an_unknown_benchmark_is_one_line(capsys, scratch):
    code, _, err = run(capsys, scratch, "sandbox", "simulate", "--benchmark", "No such bench")
    assert code != 0 and err.count("\n") == 1 and "no project 'No such bench'" in err


def test_the_demo_simulation_is_as_before(capsys, tmp_path):
    ws = tmp_path / "demo.db"
    assert run(capsys, ws, "sandbox", "init", "--demo")[0] == 0
    code, out, _ = run(capsys, ws, "sandbox", "simulate", "--rate", "200", "--for", "0.2", "--seed", "1")
    lines = out.splitlines()
    assert code == 0 and lines[-1].startswith("Simulated ") and " → Complete" in lines[0]
    code, out, _ = run(capsys, ws, "sandbox", "simulate", "--rate", "200", "--for", "0.2", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["steps"] == len(doc["labelled"]) > 0 and doc["expert"] is None
    # the demo's benchmark is complete: the expert has nothing to do, and plants nothing
    code, out, _ = run(capsys, ws, "sandbox", "simulate", "--benchmark", "--plant-errors", "2", "--json")
    bench = json.loads(out)["expert"]
    assert bench["labelled"] == 0 and bench["planted_errors"] == [] and bench["already_done"] == 60
    code, out, _ = run(capsys, ws, "sandbox", "simulate", "--until-done", "--quiet")
    assert code == 0 and out.startswith("Simulated ")
    code, out, _ = run(capsys, ws, "progress", "--benchmark", "Benchmark Labels", "--json")
    provisioned = [a for a in json.loads(out)["annotators"] if a["total"]]
    assert provisioned and all(a["complete"] == a["total"] for a in provisioned)
