"""Concurrent operators: two or three runs at once create each thing once, and say who they wait for.

The lock is ``core.locks.state_lock`` (flock in the state dir); provisioning holds the benchmark's
lock across plan + apply and re-checks the server before each create; registration keeps one
retry per job and a job list that no writer corrupts.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime

import pytest

from annotrain_tui.core import registration as reg
from annotrain_tui.core.config import Paths
from annotrain_tui.core.errors import Cancelled
from annotrain_tui.core.locks import LockBusy, holder_of, lock_path, state_lock
from annotrain_tui.core.markers import parse_training_marker, training_description
from annotrain_tui.core.models import dump
from annotrain_tui.core.provisioning import Journal, apply_plan, make_plan, provisioning_lock
from annotrain_tui.core.roster import parse_roster
from tests.hardening.helpers import run

CLI = [sys.executable, "-m", "annotrain_tui"]


def roster_text(n: int) -> str:
    return "name,email\n" + "".join(f"Trainee {i},t{i}@example.com\n" for i in range(n))


def marked(projects, bench_id):
    """email → number of projects carrying the training marker of this benchmark."""
    out: Counter = Counter()
    for p in projects:
        m = parse_training_marker(p["description"] if isinstance(p, dict) else p.description)
        if m and m[0] == bench_id:
            out[m[1]] += 1
    return out


# -- the lock primitive -----------------------------------------------------------------------

def test_lock_files_are_private_and_name_their_holder(tmp_path):
    state = tmp_path / "state"
    with state_lock(state, "provision-b/1 x", what="provisioning of benchmark 'B'") as path:
        assert path == lock_path(state, "provision-b/1 x") and path.parent == state / "locks"
        assert "/" not in path.name[:-5] and " " not in path.name
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        info = holder_of(path)
        assert info["pid"] == os.getpid() and info["host"] and info["command"]
        assert info["thread"] == threading.current_thread().name
    assert holder_of(path) is None  # released: no stale holder is named


def test_the_holding_thread_re_enters_and_another_thread_waits_then_is_told_who_holds(tmp_path):
    told, errors = [], []
    with state_lock(tmp_path, "k", what="the work"):
        with state_lock(tmp_path, "k", what="the work", timeout=0):  # re-entrant: no wait, no deadlock
            pass

        def other():
            try:
                with state_lock(tmp_path, "k", what="the work", timeout=0, on_wait=told.append):
                    pass
            except LockBusy as err:
                errors.append(str(err))

        t = threading.Thread(target=other, name="worker-2")
        t.start()
        t.join()
    assert told == []  # timeout 0: refused at once, no "waiting" line
    (message,) = errors
    assert message.startswith("the work is in progress by pid ") and "this process, thread MainThread" in message
    assert "\n" not in message
    # released: the other thread gets it now
    with state_lock(tmp_path, "k", what="the work", timeout=0):
        pass


def test_a_waiting_thread_gets_one_line_then_the_lock(tmp_path):
    told, got = [], threading.Event()
    waiting = threading.Event()

    def on_wait(line):
        told.append(line)
        waiting.set()

    def other():
        with state_lock(tmp_path, "k", what="provisioning of benchmark 'B'", timeout=30, on_wait=on_wait):
            got.set()

    with state_lock(tmp_path, "k", what="provisioning of benchmark 'B'"):
        t = threading.Thread(target=other)
        t.start()
        assert waiting.wait(30)
        assert not got.is_set()
    t.join(30)
    assert got.is_set()
    (line,) = told
    assert line.startswith(f"waiting for provisioning of benchmark 'B' by pid {os.getpid()}") and "30s" in line


def test_a_wait_is_cancellable(tmp_path):
    cancel = threading.Event()
    cancel.set()
    result = []

    def other():
        try:
            with state_lock(tmp_path, "k", what="the work", timeout=30, cancel=cancel):
                result.append("got it")
        except Cancelled as err:
            result.append(str(err))

    with state_lock(tmp_path, "k", what="the work"):
        t = threading.Thread(target=other)
        t.start()
        t.join(30)
    assert result == ["stopped waiting for the work; nothing was done"]


HOLDER = """
import sys
from pathlib import Path
from annotrain_tui.core.locks import state_lock
with state_lock(Path(sys.argv[1]), sys.argv[2], what="x"):
    print("held", flush=True)
    sys.stdin.read()
"""


def hold_in_other_process(state_dir, key):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(state_dir), key], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_lock_held_by_another_process_is_refused_naming_it_and_freed_by_sigkill(tmp_path):
    proc = hold_in_other_process(tmp_path, "k")
    try:
        with pytest.raises(LockBusy) as info, state_lock(tmp_path, "k", what="the work", timeout=0):
            pass
        assert f"pid {proc.pid} on host " in str(info.value) and "python" in str(info.value)
    finally:
        proc.kill()  # SIGKILL: no clean-up code runs in the holder
        proc.wait()
    with state_lock(tmp_path, "k", what="the work", timeout=0):  # the kernel dropped the flock
        pass


def test_a_bad_lock_timeout_in_the_environment_is_one_clear_error(tmp_path, monkeypatch, capsys):
    run(capsys, "sandbox", "init", "--demo")
    r = tmp_path / "r.csv"
    r.write_text(roster_text(1))
    monkeypatch.setenv("ANNOTRAIN_LOCK_TIMEOUT", "soon")
    code, _, err = run(capsys, "provision", "--roster", str(r), "--benchmark", "Benchmark Labels", "--yes")
    assert code == 2 and err.count("\n") == 1 and "ANNOTRAIN_LOCK_TIMEOUT=soon is not a number" in err


# -- provisioning -------------------------------------------------------------------------------

def test_three_provision_processes_at_once_make_exactly_one_project_per_annotator(tmp_path):
    env = dict(os.environ)  # the test's own XDG dirs (conftest), shared by the three runs
    subprocess.run([*CLI, "sandbox", "init", "--demo"], env=env, check=True, capture_output=True)
    roster = tmp_path / "roster.csv"
    roster.write_text(roster_text(18), encoding="utf-8")
    slow = {**env, "ANNOTRAIN_SANDBOX_LATENCY_MS": "100"}
    procs = [subprocess.Popen([*CLI, "provision", "--roster", str(roster), "--benchmark", "Benchmark Labels",
                               "--yes", "--json", "--concurrency", "2"], env=slow, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0, 0], [err for _, _, err in results]
    statuses = Counter(a["status"] for _, out, _ in results for a in json.loads(out)["annotators"])
    assert statuses == {"created": 18, "done": 36}
    errs = [err for _, _, err in results]
    for err in errs:  # nothing but the one "waiting" line, never a traceback
        assert all(line.startswith("annotrain: waiting for provisioning of benchmark 'Benchmark Labels'")
                   for line in err.splitlines()), err
    assert sum(1 for err in errs if "waiting for provisioning" in err) >= 1, "the three runs did not overlap"
    listing = subprocess.run([*CLI, "projects", "list", "--json"], env=env, check=True, capture_output=True,
                             text=True).stdout
    projects = json.loads(listing)["projects"]
    bench_id = next(p["id"] for p in projects if p["title"] == "Benchmark Labels")
    counts = marked(projects, bench_id)
    assert {f"t{i}@example.com" for i in range(18)} <= set(counts)
    assert {e: n for e, n in counts.items() if n != 1} == {}


def test_a_run_refused_at_once_names_the_holder_and_creates_nothing(tmp_path, capsys, monkeypatch):
    run(capsys, "sandbox", "init", "--demo")
    code, out, _ = run(capsys, "projects", "list", "--json")
    bench_id = next(p["id"] for p in json.loads(out)["projects"] if p["title"] == "Benchmark Labels")
    before = len(json.loads(out)["projects"])
    key_path = lock_path(Paths.default().state_dir, f"provision-{bench_id}")
    proc = hold_in_other_process(Paths.default().state_dir, f"provision-{bench_id}")
    r = tmp_path / "r.csv"
    r.write_text(roster_text(3))
    try:
        monkeypatch.setenv("ANNOTRAIN_LOCK_TIMEOUT", "0")
        code, out, err = run(capsys, "provision", "--roster", str(r), "--benchmark", "Benchmark Labels", "--yes")
        assert holder_of(key_path)["pid"] == proc.pid
    finally:
        proc.kill()
        proc.wait()
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("annotrain: error: provisioning of benchmark 'Benchmark Labels'")
    assert f"is in progress by pid {proc.pid} on host" in err
    code, out, _ = run(capsys, "projects", "list", "--json")
    assert len(json.loads(out)["projects"]) == before
    # the holder was killed: the lock is free, the run goes through
    code, out, _ = run(capsys, "provision", "--roster", str(r), "--benchmark", "Benchmark Labels", "--yes", "--json")
    assert code == 0 and [a["status"] for a in json.loads(out)["annotators"]] == ["created"] * 3


def test_a_waiting_apply_plans_afresh_and_creates_nothing(demo):
    sb, ids = demo
    r = parse_roster(roster_text(4))
    first = make_plan(sb, r, ids["benchmark"])
    second = make_plan(sb, r, ids["benchmark"])
    assert [e.action for e in second.entries] == ["create"] * 4  # both plans were made before either applied
    waiting, result = threading.Event(), {}

    def later():
        result["outcomes"] = apply_plan(sb, second, on_wait=lambda line: (result.setdefault("line", line),
                                                                          waiting.set()))

    with provisioning_lock(first.benchmark):
        t = threading.Thread(target=later)
        t.start()
        assert waiting.wait(30)
        assert [o.status for o in apply_plan(sb, first)] == ["created"] * 4  # re-entrant for this thread
    t.join(30)
    assert result["line"].startswith("waiting for provisioning of benchmark 'Benchmark Labels'")
    assert [o.status for o in result["outcomes"]] == ["done"] * 4
    assert set(marked(sb.list_projects(), ids["benchmark"]).values()) == {1}


class Rival:
    """The sandbox, plus another machine that creates a training project behind our back."""

    def __init__(self, inner, bench, *, when: str, email: str):
        self.inner, self.name, self.bench, self.when, self.email = inner, inner.name, bench, when, email
        self.rival = None

    def __getattr__(self, attr):
        return getattr(self.inner, attr)

    def _strike(self):
        if self.rival is None:
            self.rival = self.inner.create_project(
                "Trainee (made elsewhere)", description=training_description("X", self.email, self.bench.id),
                dataset_ids=self.bench.dataset_ids, ontology_id=self.bench.ontology_id)

    def add_users(self, project_id, emails, role):
        if self.when == "after-plan":  # between our plan and our next create
            self._strike()
        return self.inner.add_users(project_id, emails, role)

    def create_project(self, title, **kw):
        if self.when == "during-create" and self.email in kw["description"]:  # after our re-check
            self._strike()
        return self.inner.create_project(title, **kw)


def test_a_project_made_elsewhere_between_plan_and_create_is_found_not_duplicated(demo, tmp_path):
    sb, ids = demo
    bench = sb.get_project(ids["benchmark"])
    backend = Rival(sb, bench, when="after-plan", email="t1@example.com")
    journal = Journal(tmp_path / "j.jsonl")
    plan = make_plan(backend, parse_roster(roster_text(2)), bench.id, journal=journal)
    assert [e.action for e in plan.entries] == ["create", "create"]
    first, second = apply_plan(backend, plan, concurrency=1, journal=journal)
    assert first.status == "created"
    assert second.status == "invited" and second.project_id == backend.rival.id  # the rival's, now with its trainee
    assert marked(sb.list_projects(), bench.id)["t1@example.com"] == 1
    assert {"email": "t1@example.com", "role": "annotator"} in [dump(u) for u in
                                                               sb.get_project(backend.rival.id).users]
    assert any(e["event"] == "found" and e["project_id"] == backend.rival.id for e in journal.events())


def test_a_duplicate_made_behind_our_back_is_reported_naming_both_projects(demo):
    sb, ids = demo
    bench = sb.get_project(ids["benchmark"])
    backend = Rival(sb, bench, when="during-create", email="t0@example.com")
    plan = make_plan(backend, parse_roster(roster_text(2)), bench.id)
    updates = []
    dup, other = apply_plan(backend, plan, concurrency=1, on_update=lambda e, o: updates.append(o.status))
    assert other.status == "created"
    assert dup.status == "conflict"
    mine = [p for p in sb.list_projects() if (parse_training_marker(p.description) or ("", ""))[1] == "t0@example.com"]
    assert len(mine) == 2
    for p in mine:  # both named, by title and id
        assert p.id in dup.error and repr(p.title) in dup.error
    assert dup.error.startswith("2 training projects carry the marker of t0@example.com")
    assert updates.count("conflict") == 1  # the front is told
    # a re-run does not make a third one: the plan shows the same conflict
    again = make_plan(sb, parse_roster(roster_text(2)), bench.id)
    assert again.entries[0].action == "conflict" and all(p.id in again.entries[0].reason for p in mine)


def test_the_cli_exits_1_on_a_duplicate_and_names_both(capsys, tmp_path):
    run(capsys, "sandbox", "init", "--demo")
    r = tmp_path / "r.csv"
    r.write_text(roster_text(1))
    code, out, _ = run(capsys, "provision", "--roster", str(r), "--benchmark", "Benchmark Labels", "--yes", "--json")
    assert code == 0
    (made,) = json.loads(out)["annotators"]
    # a copy with the same marker (another machine, or by hand)
    from annotrain_tui.core.workspace import open_workspace, resolve_settings

    paths, settings = resolve_settings()
    ws = open_workspace(paths, settings)
    try:
        original = ws.backend.get_project(made["project_id"])
        copy = ws.backend.create_project("Copy", description=original.description,
                                         dataset_ids=original.dataset_ids, ontology_id=original.ontology_id)
    finally:
        ws.close()
    code, out, _ = run(capsys, "provision", "--roster", str(r), "--benchmark", "Benchmark Labels", "--yes")
    assert code == 1
    assert made["project_id"] in out and copy.id in out and "keep one" in out


# -- registration -------------------------------------------------------------------------------

FLAKY = "https://street-scenes-training.s3.eu-west-1.amazonaws.com/b/flaky.jpg"


def failed_job(tmp_path, env) -> dict:
    m = tmp_path / "m.json"
    m.write_text(json.dumps({"images": [
        {"objectUrl": "https://street-scenes-training.s3.eu-west-1.amazonaws.com/b/ok.jpg"}, {"objectUrl": FLAKY}]}))
    subprocess.run([*CLI, "sandbox", "init", "--demo"], env=env, check=True, capture_output=True)
    done = subprocess.run([*CLI, "register", str(m), "--integration", "AWS S3 - street-scenes", "--folder",
                           "/Training Data/Batch 2", "--create-folder", "--wait", "--json"], env=env,
                          capture_output=True, text=True)
    doc = json.loads(done.stdout)
    assert done.returncode == 1 and doc["failed_urls"] == [FLAKY]
    return doc


def test_two_retries_of_one_failed_job_at_once_make_one_retry_job(tmp_path):
    env = dict(os.environ)
    job = failed_job(tmp_path, env)
    slow = {**env, "ANNOTRAIN_SANDBOX_LATENCY_MS": "150", "ANNOTRAIN_SANDBOX_JOB_SECONDS": "600"}
    procs = [subprocess.Popen([*CLI, "jobs", "--retry", job["id"][:8], "--json"], env=slow,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    docs = [json.loads(out) for _, out, _ in results]
    assert sorted(d["existing"] for d in docs) == [False, True]
    assert docs[0]["id"] == docs[1]["id"] and docs[0]["retry_of"] == job["id"]
    listing = json.loads(subprocess.run([*CLI, "jobs", "--json"], env=env, check=True, capture_output=True,
                                        text=True).stdout)["jobs"]
    assert sorted(j["id"] for j in listing) == sorted([job["id"], docs[0]["id"]])


def test_a_job_whose_retry_is_done_is_not_retried_again(capsys, tmp_path):
    failed_job(tmp_path, dict(os.environ))
    code, out, _ = run(capsys, "jobs", "--json")
    (job,) = json.loads(out)["jobs"]
    code, out, _ = run(capsys, "jobs", "--retry", job["id"], "--watch", "--json")
    retry = json.loads(out)
    assert code == 0 and retry["existing"] is False and retry["status"] == "done"
    code, out, err = run(capsys, "jobs", "--retry", job["id"][:8])
    assert code == 0 and err == ""
    assert out.startswith(f"Not retrying again: job {job['id']} already has a retry: job {retry['id']} (done)")
    code, out, _ = run(capsys, "jobs", "--json")
    assert len(json.loads(out)["jobs"]) == 2


def test_concurrent_retry_threads_in_one_process_make_one_job(sandbox):
    integ = sandbox.add_integration("S3", "aws")
    store = reg.JobStore(Paths.default())
    manifest = {"images": [{"objectUrl": "https://b.s3.amazonaws.com/ok/1.jpg"},
                           {"objectUrl": "https://b.s3.amazonaws.com/missing/2.jpg"}]}
    job = reg.wait(sandbox, store, reg.start(sandbox, store, manifest, manifest_path="m.json",
                                             integration_ref=integ.id, folder_ref="/F", create_folder=True), step=0)
    assert job.failed_urls
    barrier, results = threading.Barrier(4), []

    def retry():
        barrier.wait()
        try:
            results.append(("new", reg.retry_failed(sandbox, store, job).id))
        except reg.RetryExists as err:
            results.append(("existing", err.existing.id))

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(kind for kind, _ in results) == ["existing", "existing", "existing", "new"]
    assert len({jid for _, jid in results}) == 1
    assert len([r for r in store.all() if r.retry_of == job.id]) == 1


def fake_record(job_id: str, status: str = "done") -> reg.JobRecord:
    t = datetime.now(UTC)
    return reg.JobRecord(id=job_id, backend="sandbox", folder_id="f", folder_path="/F", integration_id="i",
                         integration_title="S3", manifest_path="m.json", created_at=t, updated_at=t,
                         status=status, urls=1)


def test_an_ambiguous_job_prefix_is_refused_listing_the_matches(capsys):
    run(capsys, "sandbox", "init", "--demo")
    store = reg.JobStore(Paths.default())
    for jid in ("abc12345-0001", "abc12345-0002", "def00000-0003"):
        store.put(fake_record(jid))
    code, out, err = run(capsys, "jobs", "--retry", "abc1")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "'abc1' is the start of 2 registration jobs: " in err
    assert "abc12345-0001" in err and "abc12345-0002" in err and "def00000" not in err
    code, _, err = run(capsys, "jobs", "--retry", "zzz")
    assert code == 1 and "no registration job 'zzz'" in err
    code, _, err = run(capsys, "jobs", "--retry", "  ")
    assert code == 2 and "give a registration job id" in err
    assert store.get("def").id == "def00000-0003" and store.get("abc12345-0002").id == "abc12345-0002"


WRITER = """
import sys
from datetime import datetime, timezone
from annotrain_tui.core import registration as reg
from annotrain_tui.core.config import Paths
store = reg.JobStore(Paths.default())
t = datetime.now(timezone.utc)
for i in range(int(sys.argv[2])):
    store.put(reg.JobRecord(id=f"{sys.argv[1]}-{i}", backend="sandbox", folder_id="f", folder_path="/F",
                            integration_id="i", integration_title="S3", manifest_path="m", created_at=t,
                            updated_at=t, urls=1))
"""


def test_the_job_store_stays_valid_and_complete_under_concurrent_writers():
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, f"w{k}", "25"], env=dict(os.environ))
             for k in range(4)]
    store = reg.JobStore(Paths.default())
    threads = [threading.Thread(target=lambda k=k: [store.put(fake_record(f"t{k}-{i}", "pending"))
                                                     for i in range(25)]) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [p.wait(120) for p in procs] == [0] * 4
    raw = json.loads(Paths.default().jobs_file.read_text(encoding="utf-8"))
    ids = sorted(r["id"] for r in raw)
    assert ids == sorted([f"w{k}-{i}" for k in range(4) for i in range(25)]
                         + [f"t{k}-{i}" for k in range(3) for i in range(25)])
    leftovers = [p.name for p in Paths.default().state_dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_slow_poll_never_sets_a_finished_job_back_to_pending():
    store = reg.JobStore(Paths.default())
    store.put(fake_record("j1", "pending"))
    store.put(fake_record("j1", "done"))  # a fast poller saw it finish
    store.put(fake_record("j1", "pending"))  # a slow one, started earlier, answers late
    assert store.get("j1").status.value == "done"


# -- the TUI gets the same behaviour from the core ----------------------------------------------

async def test_the_provisioning_screen_says_who_it_waits_for_then_plans_afresh(tmp_path):
    import time

    from textual.widgets import DataTable, Static

    from tests.tui.helpers import make_app, settle

    roster = tmp_path / "roster.csv"
    roster.write_text(roster_text(2), encoding="utf-8")
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    bench = app.demo_ids["benchmark"]
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        holder = hold_in_other_process(Paths.default().state_dir, f"provision-{bench}")
        try:
            await pilot.press("x", "y")
            deadline = time.monotonic() + 30
            problems = ""
            while "waiting for provisioning" not in problems and time.monotonic() < deadline:
                await pilot.pause(0.02)  # polling for a condition, not timing anything
                problems = str(app.screen.query_one("#problems", Static).render())
            assert f"waiting for provisioning of benchmark 'Benchmark Labels' ({bench}) by pid {holder.pid}" in problems
            assert any("waiting for provisioning" in n.message for n in app._notifications)
            # meanwhile the other run made one of the two projects
            raw = app.workspace.raw
            b = raw.get_project(bench)
            other = raw.create_project("Made by the other run", description=training_description(
                "Trainee 0", "t0@example.com", bench), dataset_ids=b.dataset_ids, ontology_id=b.ontology_id)
            raw.add_users(other.id, ["t0@example.com"], "annotator")
        finally:
            holder.kill()
            holder.wait()
        await settle(app, pilot)
        table = app.screen.query_one("#roster-table", DataTable)
        plans = {str(table.get_row_at(i)[2]): str(table.get_row_at(i)[3]) for i in range(table.row_count)}
        assert plans == {"t0@example.com": "= done", "t1@example.com": "✓ created"}
        assert set(marked(app.workspace.raw.list_projects(), bench).values()) == {1}
