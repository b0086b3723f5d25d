"""CLI contract of provisioning, and a run killed midway (kill -9) resumed without duplicates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from annotrain_tui.cli import main
from annotrain_tui.core.config import Paths


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_roster(path, n, start=0):
    path.write_text("name,email\n" + "".join(f"Person {i},p{i}@example.com\n" for i in range(start, start + n)),
                    encoding="utf-8")
    return str(path)


def test_dry_run_then_apply_then_noop_json(capsys, tmp_path):
    run(capsys, "sandbox", "init", "--demo")
    r = write_roster(tmp_path / "r.csv", 3)
    code, out, _ = run(capsys, "provision", "--roster", r, "--benchmark", "Benchmark Labels", "--dry-run", "--json")
    assert code == 0
    assert [a["status"] for a in json.loads(out)["annotators"]] == ["create"] * 3
    code, out, _ = run(capsys, "provision", "--roster", r, "--benchmark", "Benchmark Labels", "--yes", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [a["status"] for a in doc["annotators"]] == ["created"] * 3
    assert set(doc["annotators"][0]) == {"name", "email", "status", "project_id", "title", "error"}
    code, out, _ = run(capsys, "provision", "--roster", r, "--benchmark", "Benchmark Labels", "--yes", "--json")
    assert code == 0 and {a["status"] for a in json.loads(out)["annotators"]} == {"done"}
    code, out, _ = run(capsys, "progress", "--benchmark", "Benchmark Labels", "--json")
    rows = json.loads(out)["annotators"]
    assert len(rows) == 6 and {"email", "complete", "total", "last_activity"} <= set(rows[0])


def test_bad_roster_lists_every_problem_and_exits_1(capsys, tmp_path):
    """Issue 17: a roster with problems is a domain failure (1), like a manifest with errors; an
    unreadable one is input that cannot be read (2)."""
    run(capsys, "sandbox", "init", "--demo")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email\nA,not-an-email\n,b@example.com\nC,c@example.com\nC,c@example.com\n")
    code, out, _ = run(capsys, "roster", "check", str(bad))
    assert code == 1 and "4 problem(s)" in out
    code, out, err = run(capsys, "provision", "--roster", str(bad), "--benchmark", "Benchmark Labels", "--yes")
    assert code == 1
    lines = err.strip().splitlines()
    assert sum(1 for line in lines if line.startswith(f"{bad}:")) == 4
    assert "nothing was provisioned" in lines[-1]
    code, _, err = run(capsys, "provision", "--roster", str(tmp_path / "missing.csv"), "--benchmark", "B", "--yes")
    assert code == 2 and "no such file" in err


def test_without_yes_and_no_terminal_it_refuses(capsys, tmp_path, monkeypatch):
    run(capsys, "sandbox", "init", "--demo")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    code, _, err = run(capsys, "provision", "--roster", write_roster(tmp_path / "r.csv", 1),
                       "--benchmark", "Benchmark Labels")
    assert code == 2 and "--yes" in err


def test_conflicts_exit_1_with_the_reason(capsys, tmp_path):
    run(capsys, "sandbox", "init", "--demo")
    r = tmp_path / "r.csv"
    r.write_text("name,email\nAlex Kim,someone.else@example.com\n")  # Alex's title is taken by another annotator
    code, out, _ = run(capsys, "provision", "--roster", str(r), "--benchmark", "Benchmark Labels", "--yes", "--json")
    assert code == 1
    (a,) = json.loads(out)["annotators"]
    assert a["status"] == "conflict" and "not created for this annotator" in a["error"]


def test_benchmark_setup_commands(capsys):
    run(capsys, "sandbox", "init", "--demo")
    code, out, _ = run(capsys, "benchmark", "create-dataset", "--folder", "/Training Data/Street Scenes",
                       "--title", "Second set", "--json")
    assert code == 0 and json.loads(out)["linked"] == 60 and json.loads(out)["ok"]
    code, out, _ = run(capsys, "benchmark", "create", "--title", "Bench 2", "--dataset", "Second set",
                       "--ontology", "Street Scene Objects", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["total"] == 60 and doc["complete"] == 0 and not doc["ready"]
    assert any("finish the benchmark" in w for w in doc["warnings"])
    code, out, _ = run(capsys, "benchmark", "verify", "Second set", "--folder", "Archive", "--json")
    assert code == 1 and len(json.loads(out)["extra"]) == 60


def test_link_folder_into_an_existing_dataset(capsys):
    """Issue 12 (seed 002 step 7): a folder linked into an existing dataset; nothing linked twice."""
    run(capsys, "sandbox", "init", "--demo")
    code, out, _ = run(capsys, "benchmark", "link-folder", "Annotator Training Set", "--folder",
                       "/Training Data/Street Scenes", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["linked_now"] == 0 and doc["ok"]
    code, out, _ = run(capsys, "benchmark", "link-folder", "Annotator Training Set", "--folder",
                       "/Training Data/Street Scenes")
    assert code == 0 and "already in the dataset" in out


def test_a_killed_run_resumes_with_exactly_one_project_per_annotator(tmp_path):
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "annotrain_tui"]
    subprocess.run([*cmd, "sandbox", "init", "--demo"], env=env, check=True, capture_output=True)
    roster = write_roster(tmp_path / "r.csv", 30)
    journal = Paths.default().journal_dir
    slow = {**env, "ANNOTRAIN_SANDBOX_LATENCY_MS": "40"}
    proc = subprocess.Popen([*cmd, "provision", "--roster", roster, "--benchmark", "Benchmark Labels", "--yes",
                             "--concurrency", "2"], env=slow, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    created = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            files = list(journal.glob("*.jsonl")) if journal.exists() else []
            text = files[0].read_text() if files else ""
            created = text.count('"event": "created"')
            if created >= 5:
                break
            time.sleep(0.02)  # polling for a condition, not timing anything
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert 5 <= created < 30
    out = subprocess.run([*cmd, "provision", "--roster", roster, "--benchmark", "Benchmark Labels", "--yes",
                          "--json"], env=env, check=True, capture_output=True, text=True)
    statuses = Counter(a["status"] for a in json.loads(out.stdout)["annotators"])
    assert statuses["created"] + statuses["done"] + statuses["invited"] == 30
    assert statuses["done"] >= 4  # the ones finished before the kill are recognised, not recreated
    projects = json.loads(subprocess.run([*cmd, "projects", "list", "--json"], env=env, check=True,
                                         capture_output=True, text=True).stdout)["projects"]
    titles = Counter(p["title"] for p in projects if p["title"].startswith("Annotator Training - Person"))
    assert len(titles) == 30 and set(titles.values()) == {1}
    for p in projects:
        if p["title"].startswith("Annotator Training - Person"):
            n = p["title"].rsplit(" ", 1)[1]
            assert {"email": f"p{n}@example.com", "role": "annotator"} in p["users"]


def test_verify_a_dataset_against_a_manifest_lists_missing_and_extra(capsys, tmp_path):
    run(capsys, "sandbox", "init", "--demo")
    code, out, _ = run(capsys, "folders", "list", "--json")
    base = "https://street-scenes-training.s3.eu-west-1.amazonaws.com/2026-q4"
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"images": [{"objectUrl": f"{base}/scene_{i:03d}.jpg"} for i in range(2, 62)]}))
    code, out, _ = run(capsys, "benchmark", "verify", "Annotator Training Set", "--manifest", str(manifest), "--json")
    doc = json.loads(out)
    assert code == 1
    assert doc["missing"] == [f"{base}/scene_061.jpg"] and doc["extra"] == [f"{base}/scene_001.jpg"]
