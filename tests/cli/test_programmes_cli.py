"""`annotrain programmes` and `annotrain decide`: the CLI contract (one JSON document, exit codes,
one line on stderr) over the programme core."""

from __future__ import annotations

import json

from annotrain_tui.cli import main
from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.config import Paths
from annotrain_tui.core.markers import benchmark_description


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors leave main as SystemExit(2)
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _second_benchmark() -> str:
    backend = SandboxBackend(Paths.default().default_sandbox)
    try:
        ds = backend.create_dataset("Cohort B files")
        onto = backend.list_ontologies()[0]
        return backend.create_project("Cohort B bench", description=benchmark_description("gold"),
                                      dataset_ids=[ds.id], ontology_id=onto.id).id
    finally:
        backend.close()


def test_programmes_list_names_every_programme_with_state_and_the_current_one(capsys):
    run(capsys, "sandbox", "init", "--demo")
    second = _second_benchmark()
    code, out, _ = run(capsys, "programmes", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [p["title"] for p in doc["programmes"]] == ["Benchmark Labels", "Cohort B bench"]
    states = {p["title"]: p["state"] for p in doc["programmes"]}
    assert states == {"Benchmark Labels": "ready for decisions", "Cohort B bench": "setting up"}
    assert [p["current"] for p in doc["programmes"]] == [True, False]
    # switching: 'programmes use' makes the second current, and 'show' without --programme opens it
    assert run(capsys, "programmes", "use", "Cohort B bench")[0] == 0
    code, out, _ = run(capsys, "programmes", "show", "--json")
    assert code == 0 and json.loads(out)["benchmark_id"] == second
    code, out, _ = run(capsys, "programmes", "list")
    current = [line for line in out.splitlines() if line.startswith("*")]
    assert len(current) == 1 and "Cohort B bench" in current[0] and "setting up" in current[0]


def test_programmes_on_an_empty_workspace_say_how_to_start(capsys):
    run(capsys, "sandbox", "init")
    code, out, _ = run(capsys, "programmes")
    assert code == 0 and "No programme yet" in out
    code, out, err = run(capsys, "programmes", "show")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and "no programme yet" in err


def test_decide_records_with_the_status_and_show_displays_it(capsys):
    run(capsys, "sandbox", "init", "--demo")
    code, out, _ = run(capsys, "programmes", "show", "--json")
    rows = {r["email"]: r for r in json.loads(out)["rows"]}
    email = next(e for e, r in rows.items() if r["status"] == "passed")
    code, out, _ = run(capsys, "decide", email, "graduate", "--note", "clean boxes", "--json")
    assert code == 0
    made = json.loads(out)["decisions"][0]
    assert (made["email"], made["decision"], made["status"], made["note"]) == (email, "graduate", "passed",
                                                                               "clean boxes")
    code, out, _ = run(capsys, "programmes", "show")
    line = next(line for line in out.splitlines() if line.startswith(email))
    assert line.rstrip().endswith("graduate")
    # nothing else finished: confirming records nothing, and says so
    code, out, _ = run(capsys, "decide", "--confirm-suggestions")
    assert code == 0 and "Nothing to confirm" in out


def test_decide_usage_and_domain_errors_are_one_line(capsys):
    run(capsys, "sandbox", "init", "--demo")
    code, out, err = run(capsys, "decide", "someone@x.com")
    assert code == 2 and "give an annotator and a decision" in err
    code, out, err = run(capsys, "decide", "someone@x.com", "promote")
    assert code == 2 and "invalid choice" in err
    code, out, err = run(capsys, "decide", "nobody@x.com", "hold")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "not a trainee" in err
    code, out, err = run(capsys, "decide", "a@x.com", "hold", "--programme", "No such bench")
    assert code == 1 and len(err.strip().splitlines()) == 1


def test_each_online_evaluation_of_the_programme_is_kept_and_since_last_compares_with_the_one_before(capsys):
    run(capsys, "sandbox", "init", "--demo")
    code, out, err = run(capsys, "evaluate", "--since", "last", "--json")
    assert code == 0, err
    first = json.loads(out)["since"]
    assert first["deltas"] == []  # nothing before it
    code, out, _ = run(capsys, "evaluate", "--since", "last")
    assert code == 0 and "Since the last evaluation:" in out
    code, out, _ = run(capsys, "history", "--json")
    assert json.loads(out)["snapshots"] == 2
    # naming training projects is not an evaluation of the programme: nothing is kept
    code, out, _ = run(capsys, "projects", "list", "--json")
    training = next(p["title"] for p in json.loads(out)["projects"] if "Training" in p["title"])
    assert run(capsys, "evaluate", "--training", training)[0] == 0
    code, out, _ = run(capsys, "history", "--json")
    assert json.loads(out)["snapshots"] == 2


def test_since_needs_the_programme_online(capsys, tmp_path):
    run(capsys, "sandbox", "init", "--demo")
    bm = tmp_path / "bm.json"
    bm.write_text("[]", encoding="utf-8")
    code, _, err = run(capsys, "evaluate", "--benchmark-labels", str(bm), "--training-labels", str(bm),
                       "--since", "last")
    assert code == 2 and "--since" in err and len(err.strip().splitlines()) == 1


def test_a_history_that_cannot_be_written_is_a_warning_and_the_scores_still_print(capsys):
    """Where nothing can be written (a record path taken by a directory: what a read-only state dir
    is for root too), evaluate still prints the scores and says the history missed one; a decision,
    which is nothing but its record, is one line and exit 1."""
    from annotrain_tui.core.workspace import open_workspace, resolve_settings

    run(capsys, "sandbox", "init", "--demo")
    ws = open_workspace(*resolve_settings())
    try:
        record = ws.programme(None).record
    finally:
        ws.close()
    record.history_path.mkdir(parents=True)
    code, out, err = run(capsys, "evaluate", "--json")
    assert code == 0
    assert json.loads(out)["annotators"]
    assert "not kept in the programme's history" in err and "Traceback" not in err
    record.path.mkdir(parents=True)
    code, out, err = run(capsys, "decide", "alex.kim@example.com", "hold")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and "programme record" in err


def test_the_same_workspace_under_another_spelling_or_moved_keeps_its_decisions(capsys, tmp_path, monkeypatch):
    """Trial 16 #2: a relative path, a symlink or a copy of the workspace file reach its record."""
    import shutil

    ws = tmp_path / "w" / "ws.db"
    ws.parent.mkdir()
    assert run(capsys, "--sandbox", str(ws), "sandbox", "init", "--demo")[0] == 0
    assert run(capsys, "--sandbox", str(ws), "decide", "alex.kim@example.com", "graduate")[0] == 0
    link = tmp_path / "link"
    link.symlink_to(ws.parent)
    copy = tmp_path / "copy.db"
    shutil.copy(ws, copy)
    monkeypatch.chdir(tmp_path)
    for spelling in (str(link / "ws.db"), "w/../w/ws.db", str(copy)):
        code, out, _ = run(capsys, "--sandbox", spelling, "programmes", "show", "--no-scores", "--json")
        assert code == 0
        decided = {e: d["decision"] for e, d in json.loads(out)["decisions"].items()}
        assert decided == {"alex.kim@example.com": "graduate"}, spelling


def test_naming_a_programme_never_makes_it_current_only_use_does(capsys):
    """Trial 16 #3: reads, dry runs and failures with --programme leave the current programme be."""
    run(capsys, "sandbox", "init", "--demo")
    _second_benchmark()
    first = json.loads(run(capsys, "programmes", "--json")[1])["current"]
    for argv in (["history", "--programme", "Cohort B bench"], ["retake", "--dry-run", "--programme", "Cohort B bench"],
                 ["evaluate", "--programme", "Cohort B bench"], ["progress", "--programme", "Cohort B bench"],
                 ["programmes", "show", "--programme", "Cohort B bench", "--no-scores"]):
        run(capsys, *argv)
        assert json.loads(run(capsys, "programmes", "--json")[1])["current"] == first, argv
    run(capsys, "programmes", "use", "Cohort B bench")
    assert json.loads(run(capsys, "programmes", "--json")[1])["current"] != first


def test_check_names_trainees_not_started_and_leaves_graduates_apart(capsys, tmp_path):
    """Trial 16 #7, #8: a retaken trainee on an unstarted round fails the check by name; a trainee
    graduated by a person's decision (applied) no longer keeps the check red."""
    from annotrain_tui.core.workspace import open_workspace, resolve_settings

    run(capsys, "sandbox", "init", "--demo")
    code, out, _ = run(capsys, "evaluate", "--check", "--json")
    failing = {f["annotator"]: f["status"] for f in json.loads(out)["check"]["failing"]}
    assert code == 1 and "alex.kim@example.com" not in failing and failing  # bea, chidi: not enough work
    ws = open_workspace(*resolve_settings())
    try:
        prog = ws.programme(None)
        for email in failing:  # graduated by a person's decision, applied
            prog.record.decide(email, "graduate", round=1)
            prog.record.record("graduate-done", email=email, project_id="prod")
    finally:
        ws.close()
    code, out, err = run(capsys, "evaluate", "--check", "--json")
    check = json.loads(out)["check"]
    assert code == 0 and check["ok"] and sorted(check["graduated"]) == sorted(failing)
    # a trainee with a round 2 not started: named, status "not started"
    assert run(capsys, "decide", "alex.kim@example.com", "retake")[0] == 0
    assert run(capsys, "retake", "--yes")[0] == 0
    code, out, err = run(capsys, "evaluate", "--check", "--json")
    check = json.loads(out)["check"]
    assert code == 1 and check["failing"] == [{"annotator": "alex.kim@example.com", "status": "not started",
                                               "reason": "round 2: 0 of 60 task(s) Complete, nothing scored yet"}]
    assert "annotrain: check: alex.kim@example.com not started" in err


def test_history_of_someone_who_is_not_a_trainee_says_so(capsys):
    run(capsys, "sandbox", "init", "--demo")
    code, out, err = run(capsys, "history", "--annotator", "nobody@x.com", "--json")
    assert code == 1 and out == "" and "not a trainee" in err and len(err.strip().splitlines()) == 1


def test_the_same_gold_saved_again_is_the_same_version_and_an_edit_is_not(capsys, tmp_path):
    """Trial 16 #11: the history's benchmark version is the gold's content, not when it was saved."""
    from annotrain_tui.core.backends.sandbox import SandboxBackend

    run(capsys, "sandbox", "init", "--demo")
    assert run(capsys, "evaluate")[0] == 0
    backend = SandboxBackend(Paths.default().default_sandbox)
    try:
        bench = next(p for p in backend.list_projects() if p.title == "Benchmark Labels")
        rows = backend.get_label_rows(bench.id, [r.data_hash for r in backend.list_label_rows(bench.id)])
    finally:
        backend.close()
    same = tmp_path / "gold.json"
    same.write_text(json.dumps(rows), encoding="utf-8")
    assert run(capsys, "sandbox", "import-labels", "Benchmark Labels", str(same))[0] == 0  # saved again, unchanged
    assert run(capsys, "evaluate")[0] == 0
    edited = json.loads(json.dumps(rows))
    box = next(o["boundingBox"] for r in edited for o in r["data_units"][r["data_hash"]]["labels"]["objects"]
               if "boundingBox" in o)  # one gold box moved: an edit of the gold
    box["x"] = min(0.9, box["x"] + 0.05)
    changed = tmp_path / "gold2.json"
    changed.write_text(json.dumps(edited), encoding="utf-8")
    assert run(capsys, "sandbox", "import-labels", "Benchmark Labels", str(changed))[0] == 0
    assert run(capsys, "evaluate")[0] == 0
    code, out, _ = run(capsys, "history", "--all", "--json")
    versions = [p["benchmark_version"] for p in json.loads(out)["annotators"][0]["rounds"][0]["points"]]
    assert len(versions) == 3 and versions[0] == versions[1] != versions[2]
