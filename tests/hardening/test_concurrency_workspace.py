"""Concurrency across state dirs, and read-only state dirs.

- The sandbox workspace file carries its own operation lock (``Backend.operation_lock``: an flock on
  the file itself, ``core.locks.file_lock``), held by provisioning across plan + apply together
  with the state-dir lock: operators with DIFFERENT state dirs sharing one file see it.
- ``sandbox reset`` (and ``init --force``) refuse while it is held, naming the holder; a run whose
  workspace is deleted or replaced meanwhile stops with one line.
- A read-only state dir: ``register`` starts nothing (exit 1, one line); ``jobs`` still reads.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from annotrain_tui.cli import main
from annotrain_tui.cli.exit_codes import exit_code_for
from annotrain_tui.core.backends.base import WorkspaceGone
from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.locks import file_lock
from annotrain_tui.core.markers import parse_training_marker
from annotrain_tui.core.provisioning import apply_plan, make_plan
from annotrain_tui.core.roster import parse_roster

CLI = [sys.executable, "-m", "annotrain_tui"]

# A real process holding the real provisioning lock (state dir + the workspace file's own lock) of
# the demo benchmark; on "delete" it deletes the workspace while holding it, as 'sandbox reset' does.
HOLDER = r"""
import sys
from pathlib import Path
from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.store import remove_files
from annotrain_tui.core.config import Paths
from annotrain_tui.core.lookup import find_project
from annotrain_tui.core.provisioning import provisioning_lock

path = Path(sys.argv[1])
backend = SandboxBackend(path, create=False)
bench = find_project(backend, "Benchmark Labels")
with provisioning_lock(bench, paths=Paths.default(), backend=backend):
    print("held", flush=True)
    if sys.stdin.readline().strip() == "delete":
        remove_files(path)
print("released", flush=True)
"""


def roster_text(n: int) -> str:
    return "name,email\n" + "".join(f"Ann {i},ann{i}@example.com\n" for i in range(n))


def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "shared" / "z.db"
    path.parent.mkdir()
    subprocess.run([*CLI, "--sandbox", str(path), "sandbox", "init", "--demo"], check=True, capture_output=True)
    return path


def marked_counts(path: Path) -> Counter:
    out = subprocess.run([*CLI, "--sandbox", str(path), "projects", "list", "--json"], check=True,
                         capture_output=True, text=True).stdout
    projects = json.loads(out)["projects"]
    bench = next(p["id"] for p in projects if p["title"] == "Benchmark Labels")
    counts: Counter = Counter()
    for p in projects:
        m = parse_training_marker(p["description"])
        if m and m[0] == bench:
            counts[m[1]] += 1
    return counts


def start_holder(path: Path, state: Path) -> subprocess.Popen:
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held", proc.stderr.read()
    return proc


def stop(proc: subprocess.Popen, command: str = "") -> None:
    try:
        proc.stdin.write(command + "\n")
        proc.stdin.flush()
    except (BrokenPipeError, ValueError):
        pass
    proc.wait(30)


# -- the lock primitive ----------------------------------------------------------------------------

def test_the_file_flock_and_sqlite_s_own_locks_are_independent(sandbox):
    """SQLite locks the workspace with POSIX fcntl locks; the workspace lock is an flock: neither
    blocks the other (Linux), so holding the operation lock never stalls a write, and a write in
    progress never stalls the lock."""
    path = sandbox.path
    sandbox.create_dataset("first")  # the file exists, in WAL mode
    with file_lock(path, what="the work", timeout=0):
        other = subprocess.run([sys.executable, "-c", (
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)\n"
            "c.execute('BEGIN IMMEDIATE'); c.execute(\"INSERT INTO meta(key, value) VALUES ('x', 'y')\")\n"
            "c.execute('COMMIT')\n"), str(path)], capture_output=True, text=True, timeout=30)
        assert other.returncode == 0, other.stderr
    conn = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        conn.execute("BEGIN EXCLUSIVE")  # SQLite's strongest lock, held by this process
        probe = subprocess.run([sys.executable, "-c", (
            "import sys\nfrom pathlib import Path\nfrom annotrain_tui.core.locks import file_lock\n"
            "with file_lock(Path(sys.argv[1]), what='w', timeout=0):\n    print('locked')\n"), str(path)],
            capture_output=True, text=True, timeout=30)
        assert probe.stdout.strip() == "locked", probe.stderr
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert sandbox.store.meta("x") == "y"


def test_a_read_only_workspace_can_be_locked(sandbox, tmp_path):
    sandbox.create_dataset("d")
    sandbox.close()
    os.chmod(sandbox.path, 0o444)
    try:
        backend = SandboxBackend(sandbox.path, create=False, read_only=True)
        with backend.operation_lock("a read", timeout=0):
            assert backend.list_datasets()
        backend.close()
    finally:
        os.chmod(sandbox.path, 0o644)


# -- reset while provisioning runs -----------------------------------------------------------------

def test_reset_refuses_while_provisioning_holds_the_workspace_and_the_workspace_is_intact(tmp_path):
    path = demo_file(tmp_path)
    before = path.read_bytes()
    holder = start_holder(path, tmp_path / "holder-state")  # another operator: another state dir
    try:
        reset = subprocess.run([*CLI, "--sandbox", str(path), "sandbox", "reset", "--yes"],
                               capture_output=True, text=True, timeout=60)
        init = subprocess.run([*CLI, "--sandbox", str(path), "sandbox", "init", "--demo", "--force"],
                              capture_output=True, text=True, timeout=60)
    finally:
        stop(holder)
    assert reset.returncode == 1 and reset.stderr.count("\n") == 1, reset.stderr
    assert reset.stderr.startswith(f"annotrain: error: not reset: the sandbox workspace {path} is in use by "
                                   f"pid {holder.pid} on host ")
    assert "provision" not in reset.stdout and "Deleted" not in reset.stdout
    assert init.returncode == 1 and init.stderr.count("\n") == 1, init.stderr
    assert f"is in use by pid {holder.pid}" in init.stderr and "left as it was" in init.stderr
    assert path.exists() and path.read_bytes() == before
    # the holder is gone: the lock is free, reset goes through
    again = subprocess.run([*CLI, "--sandbox", str(path), "sandbox", "reset", "--yes"],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and not path.exists(), again.stderr


def test_a_provision_whose_workspace_is_deleted_while_it_waits_fails_with_one_line(tmp_path):
    path = demo_file(tmp_path)
    roster = tmp_path / "r.csv"
    roster.write_text(roster_text(3), encoding="utf-8")
    holder = start_holder(path, tmp_path / "holder-state")
    prov = subprocess.Popen([*CLI, "--sandbox", str(path), "provision", "--roster", str(roster), "--benchmark",
                             "Benchmark Labels", "--yes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        waiting = prov.stderr.readline()  # it waits for the workspace's lock (its own state dir is free)
        assert waiting.startswith("annotrain: waiting for provisioning of benchmark 'Benchmark Labels'"), waiting
        assert f"on the sandbox workspace {path} by pid {holder.pid}" in waiting
        stop(holder, "delete")  # deleted while held, as 'sandbox reset' does
        out, err = prov.communicate(timeout=60)
    finally:
        prov.kill() if prov.poll() is None else None
    assert prov.returncode == 1, (out, err)
    assert err.count("\n") == 1 and err.startswith("annotrain: error: the sandbox workspace "), err
    assert "was deleted or replaced while this run was using it" in err and "Traceback" not in err
    assert "done, 0 failed" not in out and "created" not in out


def test_a_write_into_a_deleted_workspace_fails_and_a_run_stops_at_once(demo):
    backend, _ = demo
    roster = parse_roster(roster_text(6), source="r.csv")
    plan = make_plan(backend, roster, "Benchmark Labels")
    before = len(backend.list_projects())
    os.unlink(backend.path)
    with pytest.raises(WorkspaceGone) as info:
        backend.create_dataset("lost")
    assert "was deleted or replaced" in str(info.value)
    updates = []
    with pytest.raises(WorkspaceGone):
        apply_plan(backend, plan, concurrency=2, on_update=lambda e, o: updates.append(o))
    assert updates == []  # no per-annotator "failed" lines: the one error says it all
    # nothing was written into the deleted file (read through the open connection: a read through
    # the backend now says the workspace is gone, as a write does)
    assert backend.store.connect().execute("SELECT COUNT(*) FROM projects").fetchone()[0] == before
    with pytest.raises(WorkspaceGone):
        backend.list_projects()


# -- operators with different state dirs on one shared file ----------------------------------------

def test_three_operators_with_different_state_dirs_make_one_project_per_annotator(tmp_path):
    path = demo_file(tmp_path)
    roster = tmp_path / "r.csv"
    roster.write_text(roster_text(18), encoding="utf-8")
    procs = []
    for i in range(3):
        env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / f"st{i}"), "ANNOTRAIN_SANDBOX_LATENCY_MS": "100"}
        procs.append(subprocess.Popen([*CLI, "--sandbox", str(path), "provision", "--roster", str(roster),
                                       "--benchmark", "Benchmark Labels", "--yes", "--json", "--concurrency", "2"],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [(p.wait(180), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0, 0], [err for _, _, err in results]
    statuses = Counter(a["status"] for _, out, _ in results for a in json.loads(out)["annotators"])
    assert statuses == {"created": 18, "done": 36}
    for _, _, err in results:  # at most the one "waiting" line, never a traceback
        assert all(line.startswith("annotrain: waiting for provisioning of benchmark 'Benchmark Labels'")
                   for line in err.splitlines()), err
    counts = marked_counts(path)
    assert {f"ann{i}@example.com" for i in range(18)} <= set(counts)  # (the demo's own trainees too)
    assert {e: n for e, n in counts.items() if n != 1} == {}


# -- a read-only state dir ---------------------------------------------------------------------------

def _unshare_works() -> bool:
    if not shutil.which("unshare"):
        return False
    try:
        probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount --bind / / 2>/dev/null || mount -t tmpfs x /mnt"],
                               capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


needs_unshare = pytest.mark.skipif(not _unshare_works(), reason="unshare -rm (user + mount namespaces) unavailable")


def run_read_only(state: Path, *argv: str) -> subprocess.CompletedProcess:
    """``annotrain argv`` with ``state`` bind-mounted read-only (a private mount namespace)."""
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    return subprocess.run(["unshare", "-rm", "sh", "-c", script, str(state), *CLI, *argv],
                          capture_output=True, text=True, timeout=120)


def sandbox_jobs(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    finally:
        conn.close()


MANIFEST = {"images": [{"objectUrl": "https://street-scenes.s3.amazonaws.com/a.jpg"}]}


@needs_unshare
def test_register_with_a_read_only_state_dir_starts_nothing(tmp_path, capsys):
    assert main(["sandbox", "init", "--demo"]) == 0
    assert main(["jobs"]) == 0  # the state dir now has locks/, no jobs/
    capsys.readouterr()
    state = Path(os.environ["XDG_STATE_HOME"])
    ws = Path(os.environ["XDG_DATA_HOME"]) / "annotrain" / "sandbox.db"
    manifest = tmp_path / "mf.json"
    manifest.write_text(json.dumps(MANIFEST), encoding="utf-8")
    before = sandbox_jobs(ws)
    for extra in ([], ["--create-folder"]):
        r = run_read_only(state, "register", str(manifest), "--integration", "AWS S3 - street-scenes",
                          "--folder", "/Archive/New" if extra else "/Archive", *extra)
        assert r.returncode == 1, r.stderr
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("annotrain: error: cannot record registration jobs")
        assert "Read-only file system" in r.stderr and "nothing was started" in r.stderr
        assert "does not exist" not in r.stderr and "Traceback" not in r.stderr
    assert sandbox_jobs(ws) == before  # no job was started on the server
    assert main(["folders", "list", "--json"]) == 0
    assert "/Archive/New" not in capsys.readouterr().out  # nor a folder made


@needs_unshare
def test_jobs_reads_a_read_only_state_dir(tmp_path, capsys):
    assert main(["sandbox", "init", "--demo"]) == 0
    capsys.readouterr()
    manifest = tmp_path / "mf.json"
    manifest.write_text(json.dumps(MANIFEST), encoding="utf-8")
    assert main(["register", str(manifest), "--integration", "AWS S3 - street-scenes", "--folder", "/Archive",
                 "--json"]) == 0
    job = json.loads(capsys.readouterr().out)["id"]
    state = Path(os.environ["XDG_STATE_HOME"])
    r = run_read_only(state, "jobs")
    assert r.returncode == 0, r.stderr
    assert job[:8] in r.stdout and "error" not in r.stderr
    r = run_read_only(state, "jobs", "--json")
    assert r.returncode == 0 and [j["id"] for j in json.loads(r.stdout)["jobs"]] == [job]


def test_jobs_retry_with_an_empty_job_is_a_usage_error(capsys):
    assert main(["sandbox", "init", "--demo"]) == 0
    capsys.readouterr()
    code = main(["jobs", "--retry", ""])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("annotrain: error: give a registration job id")


def test_a_lock_file_a_read_only_file_system_refuses_is_exit_1_for_a_write(tmp_path, monkeypatch):
    """Without a mount namespace: the lock layer's own rule (a read goes on, a write fails, exit 1)."""
    import errno

    from annotrain_tui.core import locks

    def refuse(path):
        raise locks._lock_error(path, "cannot open the lock file", OSError(errno.EROFS, "Read-only file system"))

    monkeypatch.setattr(locks, "_open", refuse)
    with locks.state_lock(tmp_path, "jobs", what="a read", read=True):
        pass
    with pytest.raises(locks.LockUnwritable) as info, locks.state_lock(tmp_path, "jobs", what="a write"):
        pass
    assert exit_code_for(info.value) == 1 and "Read-only file system" in str(info.value)
    monkeypatch.undo()
    with locks.state_lock(tmp_path, "jobs", what="a write", timeout=0):  # nothing was left held
        pass
