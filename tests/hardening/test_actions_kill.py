"""Graduate and retake killed with SIGKILL (between plan and apply, and in the middle of the apply),
and two runs at once: a re-run makes nothing twice and finishes exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from annotrain_tui.core.config import Paths
from annotrain_tui.core.markers import parse_training_marker, training_round
from annotrain_tui.core.workspace import open_workspace, resolve_settings
from tests.hardening.helpers import run

CLI = [sys.executable, "-m", "annotrain_tui"]
DEMO = ["alex.kim@example.com", "bea.santos@example.com", "chidi.okafor@example.com"]


HOLDER = """
import sys
from pathlib import Path
from annotrain_tui.core.locks import state_lock
with state_lock(Path(sys.argv[1]), sys.argv[2], what="x"):
    print("held", flush=True)
    sys.stdin.read()
"""


def hold_in_other_process(state_dir, key):
    """Another process holding the state-dir lock ``key`` until it is killed."""
    proc = subprocess.Popen([*CLI[:1], "-c", HOLDER, str(state_dir), key], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def workspace():
    paths, settings = resolve_settings(Paths.default())
    return open_workspace(paths, settings)


def programme_with(capsys, tmp_path, n: int, decision: str, *, production: bool = False):
    """A demo sandbox with n more trainees, every trainee decided ``decision``; (emails, record path,
    production project id or None)."""
    assert run(capsys, "sandbox", "init", "--demo")[0] == 0
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\n" + "".join(f"Trainee {i},t{i}@example.com\n" for i in range(n)), encoding="utf-8")
    if n:
        code, _, err = run(capsys, "provision", "--roster", roster, "--benchmark", "Benchmark Labels", "--yes")
        assert code == 0, err
    ws = workspace()
    try:
        prog = ws.programme()
        emails = sorted(prog.trainees)
        assert len(emails) == n + len(DEMO)
        for email in emails:
            prog.record.decide(email, decision, round=1)
        prod = None
        if production:
            onto = ws.raw.list_ontologies()[0]
            prod = ws.raw.create_project("Production", description="production", dataset_ids=[], ontology_id=onto.id).id
        return emails, prog.record.path, prod
    finally:
        ws.close()


def rounds():
    """(email, round) → how many training projects carry that marker."""
    ws = workspace()
    try:
        out: Counter = Counter()
        for p in ws.raw.list_projects():
            m = parse_training_marker(p.description)
            if m:
                out[(m[1], training_round(p.description))] += 1
        return out
    finally:
        ws.close()


def events(path, kind):
    return [e for e in (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
            if e.get("event") == kind]


def kill_when(proc, path, needle: str, count: int, deadline: float = 60.0) -> int:
    """SIGKILL ``proc`` once the record holds ``count`` lines with ``needle``; how many it held."""
    end = time.monotonic() + deadline
    seen = 0
    try:
        while time.monotonic() < end and proc.poll() is None:
            seen = path.read_text(encoding="utf-8").count(needle)
            if seen >= count:
                break
            time.sleep(0.01)  # polling for a condition, not timing anything
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    return path.read_text(encoding="utf-8").count(needle)


def test_retake_killed_between_plan_and_apply_then_a_rerun_makes_each_round_once(capsys, tmp_path):
    emails, record, _ = programme_with(capsys, tmp_path, 6, "retake")
    slow = {**os.environ, "ANNOTRAIN_SANDBOX_LATENCY_MS": "150", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*CLI, "retake", "--yes"], env=slow, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the plan is printed: the apply has not begun
            if "will create" in line:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert events(record, "retake-created") == [], "killed after the apply had begun"
    assert all(n == 0 for (e, r), n in rounds().items() if r == 2)
    out = subprocess.run([*CLI, "retake", "--yes", "--json"], env=dict(os.environ), check=True, capture_output=True,
                         text=True).stdout
    assert Counter(s["status"] for s in json.loads(out)["steps"]) == {"created": len(emails)}
    counts = rounds()
    assert {e: counts[(e, 2)] for e in emails} == {e: 1 for e in emails}


def test_retake_killed_in_the_middle_of_the_apply_resumes_without_duplicates(capsys, tmp_path):
    emails, record, _ = programme_with(capsys, tmp_path, 17, "retake")
    slow = {**os.environ, "ANNOTRAIN_SANDBOX_LATENCY_MS": "60"}
    proc = subprocess.Popen([*CLI, "retake", "--yes"], env=slow, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    invited = kill_when(proc, record, '"event": "retake-invited"', 4)
    assert 4 <= invited < len(emails)
    out = subprocess.run([*CLI, "retake", "--yes", "--json"], env=dict(os.environ), check=True, capture_output=True,
                         text=True).stdout
    statuses = Counter(s["status"] for s in json.loads(out)["steps"])
    assert statuses["created"] + statuses["invited"] + statuses["done"] == len(emails), statuses
    assert statuses["done"] == invited  # the ones finished before the kill are recognised, not made again
    counts = rounds()
    assert {e: counts[(e, 2)] for e in emails} == {e: 1 for e in emails}
    ws = workspace()
    try:
        prog = ws.programme()
        for email in emails:
            t = prog.trainees[email]
            assert t.round == 2 and any(u.email == email and u.role == "annotator" for u in t.current.project.users)
    finally:
        ws.close()
    again = subprocess.run([*CLI, "retake", "--yes", "--json"], env=dict(os.environ), check=True, capture_output=True,
                           text=True).stdout
    assert {s["status"] for s in json.loads(again)["steps"]} == {"done"}


def test_graduation_killed_in_the_middle_resumes_and_records_each_graduate_once(capsys, tmp_path):
    emails, record, prod = programme_with(capsys, tmp_path, 17, "graduate", production=True)
    slow = {**os.environ, "ANNOTRAIN_SANDBOX_LATENCY_MS": "60"}
    proc = subprocess.Popen([*CLI, "graduate", "--production", "Production", "--yes"], env=slow,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    added = kill_when(proc, record, '"event": "graduate-added"', 4)
    assert 4 <= added < len(emails)
    out = subprocess.run([*CLI, "graduate", "--production", "Production", "--yes", "--json"], env=dict(os.environ),
                         check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    statuses = Counter(s["status"] for s in doc["steps"])
    assert statuses["added"] + statuses["done"] == len(emails) and statuses["done"] >= added, statuses
    assert doc["graduated"] == emails
    assert Counter(e["email"] for e in events(record, "graduate-done")) == Counter(emails)
    ws = workspace()
    try:
        roles = Counter((u.email, u.role) for u in ws.raw.get_project(prod).users)
        assert {e: roles[(e, "annotator")] for e in emails} == {e: 1 for e in emails}
        assert ws.programme().graduated == set(emails)
    finally:
        ws.close()


def test_two_retake_processes_at_once_make_each_round_once(capsys, tmp_path):
    emails, record, _ = programme_with(capsys, tmp_path, 9, "retake")
    slow = {**os.environ, "ANNOTRAIN_SANDBOX_LATENCY_MS": "80"}
    procs = [subprocess.Popen([*CLI, "retake", "--yes", "--json"], env=slow, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    statuses = Counter(s["status"] for _, out, _ in results for s in json.loads(out)["steps"])
    assert statuses == {"created": len(emails), "done": len(emails)}
    errs = [err for _, _, err in results]
    for err in errs:  # nothing but the one "waiting" line, never a traceback
        assert all(line.startswith("annotrain: waiting for work on programme 'Benchmark Labels'")
                   for line in err.splitlines()), err
    assert sum(1 for err in errs if "waiting for work on programme" in err) == 1, "the two runs did not overlap"
    counts = rounds()
    assert {e: counts[(e, 2)] for e in emails} == {e: 1 for e in emails}
    assert len(events(record, "retake-created")) == len(emails)


def test_a_run_refused_at_once_names_the_holder_then_goes_through_once_the_holder_is_killed(capsys, tmp_path,
                                                                                          monkeypatch):
    emails, record, _ = programme_with(capsys, tmp_path, 0, "retake")
    ws = workspace()
    try:
        bench_id = ws.programme().id
    finally:
        ws.close()
    proc = hold_in_other_process(Paths.default().state_dir, f"programme-{bench_id}")
    try:
        monkeypatch.setenv("ANNOTRAIN_LOCK_TIMEOUT", "0")
        code, out, err = run(capsys, "retake", "--yes")
    finally:
        proc.kill()  # SIGKILL: the kernel frees the lock
        proc.wait()
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("annotrain: error: work on programme 'Benchmark Labels'")
    assert f"is in progress by pid {proc.pid} on host" in err
    assert events(record, "retake-planned") == [] and not any(r == 2 for _, r in rounds())
    code, out, _ = run(capsys, "retake", "--yes", "--json")
    assert code == 0 and [s["status"] for s in json.loads(out)["steps"]] == ["created"] * len(emails)
