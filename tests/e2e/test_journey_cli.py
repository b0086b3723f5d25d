"""Issue 16's CLI journey: a programme from an empty (starter) sandbox to graduated and retaken
annotators, feedback packs written, and a planted gold error found by the audit — every step a real
command, the way a data-ops lead runs it, and each step's outcome checked before the next."""

from __future__ import annotations

import json
from pathlib import Path

from annotrain_tui.cli import main
from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.ops import planted_errors
from annotrain_tui.core.config import Paths

GOOD = ("ada@example.com", "cy@example.com", "dee@example.com")
WEAK = "ben@example.com"
PRODUCTION = "Street Scenes Production"


def cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own exits
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, *argv) -> str:
    code, out, err = cli(capsys, *argv)
    assert code == 0, f"annotrain {' '.join(argv)} -> {code}: {err}"
    return out


def doc(capsys, *argv) -> dict:
    return json.loads(ok(capsys, *argv, "--json"))


def test_a_programme_from_an_empty_sandbox_to_graduates_a_retake_feedback_and_an_audit(capsys, tmp_path):
    # -- 1. the workspace and the files ------------------------------------------------------------
    ok(capsys, "sandbox", "init", "--starter")
    assert doc(capsys, "programmes")["programmes"] == []
    manifest = tmp_path / "cohort.json"
    manifest.write_text(json.dumps({"images": [
        {"objectUrl": f"https://bucket.s3.amazonaws.com/cohort-a/img_{i:03d}.jpg", "title": f"img_{i:03d}.jpg"}
        for i in range(12)]}), encoding="utf-8")
    ok(capsys, "manifest", "validate", str(manifest))
    ok(capsys, "register", str(manifest), "--integration", "AWS S3 - training-data",
       "--folder", "/Training Data/Cohort A", "--create-folder", "--wait")

    # -- 2. the benchmark: dataset, project, gold labelled by the expert with three planted errors --
    ok(capsys, "benchmark", "create-dataset", "--folder", "/Training Data/Cohort A", "--title", "Cohort A files")
    ok(capsys, "benchmark", "create", "--dataset", "Cohort A files", "--ontology", "Street Scene Objects",
       "--title", "Cohort A benchmark")
    progs = doc(capsys, "programmes")["programmes"]
    assert [(p["title"], p["state"]) for p in progs] == [("Cohort A benchmark", "benchmark incomplete")]
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nAda Good,ada@example.com\nBen Weak,ben@example.com\nCy Good,cy@example.com\n"
                      "Dee Good,dee@example.com\n", encoding="utf-8")
    # the gate: no training before the benchmark is Complete (the dry run too)
    code, out, err = cli(capsys, "provision", "--roster", str(roster), "--dry-run")
    assert code == 1 and "must be completed before annotator training begins" in err and "--force" in err
    ok(capsys, "sandbox", "simulate", "--benchmark", "--plant-errors", "3", "--seed", "3")
    backend = SandboxBackend(Paths.default().default_sandbox)
    try:
        planted = [p.to_json() for p in planted_errors(backend)]
    finally:
        backend.close()
    assert sorted(p["kind"] for p in planted) == ["class", "misplaced", "missing"]

    # -- 3. provisioning and a first round -------------------------------------------------------------
    applied = doc(capsys, "provision", "--roster", str(roster), "--yes")
    assert [a["status"] for a in applied["annotators"]] == ["created"] * 4
    skills = [a for email in GOOD for a in ("--skill", f"{email}=0.97")] + ["--skill", f"{WEAK}=0.45"]
    ok(capsys, "sandbox", "simulate", "--until-done", "--seed", "1", *skills)
    assert doc(capsys, "programmes")["programmes"][0]["state"] == "ready for decisions"
    code, out, err = cli(capsys, "evaluate", "--check", "--json")
    assert code == 1, err
    check = json.loads(out)["check"]
    assert [f["annotator"] for f in check["failing"]] == [WEAK]

    # -- 4. decisions, then acting on them -----------------------------------------------------------
    made = doc(capsys, "decide", "--confirm-suggestions")["decisions"]
    assert {d["email"]: d["decision"] for d in made} == {**dict.fromkeys(GOOD, "graduate"), WEAK: "retake"}
    graduated = doc(capsys, "graduate", "--production", PRODUCTION, "--yes")
    assert sorted(graduated["graduated"]) == sorted(GOOD)
    retake = doc(capsys, "retake", "--yes")
    assert [(s["email"], s["status"]) for s in retake["steps"]] == [(WEAK, "created")]
    show = doc(capsys, "programmes", "show", "--no-scores")
    assert {t["email"]: t["round"] for t in show["trainees"]} == {**dict.fromkeys(GOOD, 1), WEAK: 2}
    # acting again changes nothing (plan → apply is idempotent)
    assert {s["status"] for s in doc(capsys, "retake", "--yes")["steps"]} == {"done"}

    # -- 5. round two, scored on its own; the history keeps both rounds -------------------------------
    ok(capsys, "sandbox", "simulate", "--until-done", "--seed", "2", "--skill", f"{WEAK}=0.97")
    result = doc(capsys, "evaluate", "--check")
    assert result["annotators"][WEAK]["status"] == "passed"
    history = doc(capsys, "history", "--annotator", WEAK)
    (weak,) = history["annotators"]
    assert weak["annotator"] == WEAK
    assert {r["round"]: [p["status"] for p in r["points"]] for r in weak["rounds"]} == {
        1: ["needs feedback"], 2: ["passed"]}
    # the second evaluation of round 2 (above, with --check) compared with the one before it
    since = doc(capsys, "evaluate", "--since", "last")["since"]
    assert since["since"] == "last" and any(d["annotator"] == WEAK for d in since["deltas"])
    ok(capsys, "decide", WEAK, "graduate", "--note", "round 2 clean")
    steps = doc(capsys, "graduate", "--production", PRODUCTION, "--yes")["steps"]
    assert {s["email"]: s["status"] for s in steps} == {**dict.fromkeys(GOOD, "done"), WEAK: "added"}
    assert doc(capsys, "programmes")["programmes"][0]["state"] == "closed"

    # -- 6. feedback packs --------------------------------------------------------------------------
    packs = tmp_path / "packs"
    written = doc(capsys, "feedback", "--all", "--out", str(packs))
    files = sorted(Path(f).name for f in written["files"])
    assert files == sorted(f"{e}.{ext}" for e in (*GOOD, WEAK) for ext in ("html", "md"))
    html = (packs / f"{WEAK}.html").read_text(encoding="utf-8")
    assert "<svg" in html and WEAK in html and "http://" not in html and "https://" not in html

    # -- 7. the gold audit finds the planted errors ----------------------------------------------------
    audit = doc(capsys, "audit")
    found = {(s["kind"], s["data_hash"]) for s in audit["suspects"]}
    assert {(p["kind"], p["data_hash"]) for p in planted} <= found
    # excluding one suspect is recorded and changes what is scored
    missing = next(p for p in planted if p["kind"] == "missing")
    ok(capsys, "audit", "exclude", missing["data_hash"], "--reason", "the gold misses a car")
    shown = doc(capsys, "programmes", "show", "--no-scores")
    assert [x["data_hash"] for x in shown["exclusions"]] == [missing["data_hash"]]
