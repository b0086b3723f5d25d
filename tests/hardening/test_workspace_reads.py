"""Issue 11 family 7: the workspace is never damaged by a read.

- a file that is not an annotrain workspace (another program's SQLite database, not SQLite at
  all, empty) is refused with one line and left byte-identical, same mtime, no -wal/-shm;
  ``sandbox reset`` and ``sandbox init --force`` refuse to delete it;
- a read-only workspace serves reads; a write fails with one line;
- a --sandbox path that does not exist is not created by any command but ``sandbox init``;
- the default workspace is created with the demo data by the first command (CLI or TUI);
- ``sandbox init --demo`` is all or nothing (failure, full disk, SIGKILL half-way).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from annotrain_tui.cli import main
from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.store import APPLICATION_ID, SCHEMA, SCHEMA_VERSION
from annotrain_tui.core.config import Paths
from annotrain_tui.core.errors import PermissionDenied
from tests.hardening.helpers import run

ROOT = Path(__file__).resolve().parents[2]


def snapshot(path: Path) -> tuple[bytes, int, list[str]]:
    """The bytes, the mtime and the directory listing: what a read must leave as it was."""
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def env_for_subprocess() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# -- files that are not ours ------------------------------------------------------------------
def _foreign_rollback(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('Ada', '555')")
    conn.commit()
    conn.close()


def _foreign_wal(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")  # one of our table names, not ours
    conn.execute("CREATE TABLE projects (id TEXT)")
    conn.commit()
    conn.close()


def _other_application(path: Path) -> None:
    _foreign_rollback(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id=1179403647")  # another program's marker
    conn.commit()
    conn.close()


def _not_sqlite(path: Path) -> None:
    path.write_text("name,email\nAda,ada@example.com\n" * 20)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


FOREIGN = {"sqlite": _foreign_rollback, "sqlite-wal": _foreign_wal, "other-app-id": _other_application,
           "text": _not_sqlite, "empty": _empty}

COMMANDS = [
    ["status"],
    ["projects", "list"],
    ["projects", "list", "--json"],
    ["folders", "list"],
    ["integrations", "list"],
    ["datasets", "list"],
    ["jobs"],
    ["sandbox", "simulate", "--for", "1"],
    ["sandbox", "import-labels", "P", "{rows}"],
    ["sandbox", "reset", "--yes"],
    ["sandbox", "init", "--force", "--demo"],
]


@pytest.mark.parametrize("kind", FOREIGN)
@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_a_file_that_is_not_ours_is_refused_untouched(kind, argv, tmp_path, capsys):
    target = tmp_path / "other.db"
    FOREIGN[kind](target)
    rows = tmp_path / "rows" / "rows.json"
    rows.parent.mkdir()
    rows.write_text("[]")
    os.utime(target, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = snapshot(target)
    code, out, err = run(capsys, "--sandbox", target, *[a.replace("{rows}", str(rows)) for a in argv])
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("annotrain: error: ")
    assert "not an annotrain workspace" in err and str(target) in err
    assert "sandbox reset" not in err  # never suggest deleting a file that is not ours
    assert "Traceback" not in err
    assert snapshot(target) == before


def test_a_foreign_database_keeps_its_journal_mode_and_tables(tmp_path, capsys):
    target = tmp_path / "app.db"
    _foreign_rollback(target)
    code, _, _ = run(capsys, "--sandbox", target, "status")
    assert code == 2
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["contacts"]
    conn.close()


def test_a_directory_is_refused(tmp_path, capsys):
    code, _, err = run(capsys, "--sandbox", tmp_path, "status")
    assert code == 2 and "not an annotrain workspace (a directory)" in err and err.count("\n") == 1
    code, _, err = run(capsys, "--sandbox", tmp_path, "sandbox", "reset", "--yes")
    assert code == 2 and tmp_path.is_dir()


def test_a_workspace_of_a_newer_schema_is_refused_untouched(tmp_path, capsys):
    target = tmp_path / "new.db"
    SandboxBackend(target).close()
    conn = sqlite3.connect(target)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = snapshot(target)
    code, _, err = run(capsys, "--sandbox", target, "status")
    assert code == 2 and "newer annotrain" in err and err.count("\n") == 1
    assert snapshot(target) == before


# -- workspaces made before the marker ----------------------------------------------------------
def _legacy_workspace(path: Path) -> None:
    """A workspace as the code before the marker made it: our tables, WAL, no application_id."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO integrations VALUES ('i1', 'Old S3', 'aws')")
    conn.close()


def test_a_workspace_without_the_marker_is_read_untouched_and_marked_by_a_write(tmp_path, capsys):
    target = tmp_path / "old.db"
    _legacy_workspace(target)
    before = snapshot(target)
    code, out, err = run(capsys, "--sandbox", target, "integrations", "list", "--json")
    assert code == 0, err
    assert [i["title"] for i in json.loads(out)["integrations"]] == ["Old S3"]
    assert target.read_bytes() == before[0]  # a read writes nothing, not even the marker
    backend = SandboxBackend(target, create=False)
    backend.add_integration("New GCP", "gcp")
    backend.close()
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


# -- read-only workspaces -----------------------------------------------------------------------
def _demo_at(path: Path) -> None:
    assert main(["--sandbox", str(path), "sandbox", "init", "--demo"]) == 0


def test_a_workspace_opened_read_only_serves_reads_and_refuses_writes(tmp_path, capsys):
    target = tmp_path / "ws.db"
    _demo_at(target)
    capsys.readouterr()
    before = target.read_bytes()
    backend = SandboxBackend(target, read_only=True)
    try:
        assert backend.read_only
        assert len(backend.list_projects()) == 4
        with pytest.raises(PermissionDenied) as err:
            backend.add_integration("X", "aws")
        assert str(err.value).startswith(f"workspace is read-only: {target}")
        with pytest.raises(PermissionDenied):
            backend.create_dataset("D")
    finally:
        backend.close()
    assert target.read_bytes() == before


def test_a_permission_failure_on_the_write_path_falls_back_to_reading(tmp_path, capsys):
    """The file cannot be opened for writing (immutable: even root gets EPERM), as on a read-only
    file. SQLite falls back to reading; every read command works; a write is one line."""
    target = tmp_path / "ws.db"
    _demo_at(target)
    rows = tmp_path / "rows.json"
    rows.write_text("[]")
    capsys.readouterr()
    if subprocess.run(["chattr", "+i", str(target)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        before = target.read_bytes()
        code, out, err = run(capsys, "--sandbox", target, "status")
        assert code == 0 and "Benchmark 'Benchmark Labels': 60/60" in out, err
        code, out, _ = run(capsys, "--sandbox", target, "projects", "list", "--json")
        assert code == 0 and len(json.loads(out)["projects"]) == 4
        code, _, err = run(capsys, "--sandbox", target, "sandbox", "import-labels", "Benchmark Labels", rows)
        assert code == 1 and err == f"annotrain: error: workspace is read-only: {target} " \
                                    f"(copy it somewhere writable and pass --sandbox COPY)\n"
        assert target.read_bytes() == before
    finally:
        subprocess.run(["chattr", "-i", str(target)], check=True)


def test_a_workspace_on_a_read_only_mount_serves_reads(tmp_path):
    """A real read-only bind mount (in a private user and mount namespace), cleanly closed
    workspace (no -wal/-shm): SQLite can read WAL there only as immutable."""
    if not shutil.which("unshare") or subprocess.run(
            ["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("no user namespaces here")
    ro = tmp_path / "ro"
    ro.mkdir()
    target = ro / "ws.db"
    _demo_at(target)
    assert sorted(os.listdir(ro)) == ["ws.db"]
    rows = tmp_path / "rows.json"
    rows.write_text("[]")
    cli = f"{sys.executable} -m annotrain_tui --sandbox {target}"
    script = (f"mount --bind {ro} {ro} && mount -o remount,ro,bind {ro} && touch {ro}/probe 2>/dev/null; "
              f"test ! -e {ro}/probe || exit 99; "
              f"{cli} status; echo \"rc=$?\"; "
              f"{cli} projects list --json > {tmp_path}/projects.json; echo \"rc=$?\"; "
              f"{cli} sandbox import-labels 'Benchmark Labels' {rows}; echo \"rc=$?\"")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True,
                          env=env_for_subprocess(), cwd=tmp_path)
    assert proc.returncode != 99, "the bind mount was not read-only"
    assert proc.stdout.count("rc=0") == 2 and "rc=1" in proc.stdout, (proc.stdout, proc.stderr)
    assert "Benchmark 'Benchmark Labels': 60/60" in proc.stdout
    assert len(json.loads((tmp_path / "projects.json").read_text())["projects"]) == 4
    assert proc.stderr == f"annotrain: error: workspace is read-only: {target} " \
                          f"(copy it somewhere writable and pass --sandbox COPY)\n"


# -- a path that does not exist ----------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["status"], ["projects", "list"], ["folders", "list", "--json"], ["templates", "list"], ["jobs"],
    ["sandbox", "simulate", "--for", "1"], ["sandbox", "import-labels", "P", "{rows}"],
], ids=lambda a: " ".join(a))
def test_a_missing_sandbox_path_is_not_created(argv, tmp_path, capsys):
    rows = tmp_path / "rows.json"
    rows.write_text("[]")
    target = tmp_path / "not" / "yet" / "ws.db"
    code, _, err = run(capsys, "--sandbox", target, *[a.replace("{rows}", str(rows)) for a in argv])
    # unreadable input (a mistyped path): exit 2, as for a missing manifest (trial item 13)
    assert code == 2 and err.count("\n") == 1 and f"no sandbox workspace at {target}" in err
    assert "sandbox init" in err
    assert not (tmp_path / "not").exists()
    assert not Paths.default().default_sandbox.exists()  # nor the default one instead


def test_sandbox_init_creates_a_missing_path(tmp_path, capsys):
    target = tmp_path / "new" / "ws.db"
    code, out, _ = run(capsys, "--sandbox", target, "sandbox", "init")
    assert code == 0 and target.exists()
    code, out, _ = run(capsys, "--sandbox", target, "projects", "list", "--json")
    assert code == 0 and json.loads(out)["projects"] == []


# -- the default workspace ----------------------------------------------------------------------
def test_the_first_cli_command_creates_the_default_workspace_with_the_demo(capsys):
    paths = Paths.default()
    assert not paths.default_sandbox.exists()
    code, out, err = run(capsys, "status")
    assert code == 0, err
    assert "Benchmark 'Benchmark Labels': 60/60 tasks Complete" in out and "4 projects" in out
    assert (paths.data_dir / "demo-roster.csv").read_text().startswith("name,email\n")
    code, out, _ = run(capsys, "projects", "list", "--json")  # the same workspace, not seeded twice
    assert len(json.loads(out)["projects"]) == 4


@pytest.mark.parametrize("argv", [["sandbox", "simulate", "--for", "0.001", "--quiet"], ["jobs"]],
                         ids=lambda a: " ".join(a))
def test_any_first_command_creates_the_default_workspace_with_the_demo(argv, capsys):
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    backend = SandboxBackend(Paths.default().default_sandbox, create=False)
    try:
        assert backend.store.meta("demo_benchmark")
    finally:
        backend.close()


def _run_tui(monkeypatch, argv) -> dict:
    """Run the real `annotrain` TUI front headless, reading the home screen with a Pilot."""
    from textual.widgets import DataTable

    from annotrain_tui.tui.app import AnnotrainApp

    seen: dict = {}
    original = AnnotrainApp.run

    async def look(pilot):
        app = pilot.app
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one("#table-projects", DataTable)
        seen["projects"] = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        app.exit()

    def headless_run(self, *args, **kwargs):
        return original(self, headless=True, size=(100, 30), auto_pilot=look)

    from annotrain_tui.cli import tui_cmd

    monkeypatch.setattr(AnnotrainApp, "run", headless_run)
    monkeypatch.setattr(tui_cmd, "_has_terminal", lambda: True, raising=False)  # headless stands for one
    assert main(argv) == 0
    return seen


def test_the_tui_first_creates_the_default_workspace_with_the_demo(monkeypatch):
    seen = _run_tui(monkeypatch, [])
    assert "Benchmark Labels" in seen["projects"] and len(seen["projects"]) == 4


def test_a_cli_first_run_then_the_tui_shows_the_demo(monkeypatch, capsys):
    code, out, _ = run(capsys, "folders", "list")
    assert code == 0 and "/Training Data/Street Scenes" in out
    seen = _run_tui(monkeypatch, ["tui"])
    assert "Benchmark Labels" in seen["projects"]


# -- sandbox init --demo: all or nothing --------------------------------------------------------
def _leftovers(directory: Path, name: str) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n.startswith(name) or n.startswith(f".{name}."))


def test_a_failure_while_seeding_leaves_no_workspace(tmp_path, capsys, monkeypatch):
    from annotrain_tui.core.errors import AnnotrainError

    target = tmp_path / "ws.db"
    calls = {"n": 0}
    original = SandboxBackend.save_labels

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 50:
            raise AnnotrainError("injected failure half-way")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SandboxBackend, "save_labels", failing)
    code, _, err = run(capsys, "--sandbox", target, "sandbox", "init", "--demo")
    assert code == 1 and "injected failure half-way" in err and err.count("\n") == 1
    assert calls["n"] == 50
    assert _leftovers(tmp_path, "ws.db") == []
    monkeypatch.setattr(SandboxBackend, "save_labels", original)
    code, out, err = run(capsys, "--sandbox", target, "sandbox", "init", "--demo")  # no --force needed
    assert code == 0, err
    code, out, _ = run(capsys, "--sandbox", target, "status")
    assert "60/60" in out


def test_a_failed_init_force_keeps_the_old_workspace(tmp_path, capsys, monkeypatch):
    target = tmp_path / "ws.db"
    _demo_at(target)
    assert main(["--sandbox", str(target), "sandbox", "simulate", "--for", "0.001", "--quiet"]) == 0
    capsys.readouterr()
    before = SandboxBackend(target, read_only=True)
    titles_before = sorted(p.title for p in before.list_projects())
    before.close()

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(SandboxBackend, "add_template", interrupted)
    code, _, err = run(capsys, "--sandbox", target, "sandbox", "init", "--demo", "--force")
    assert code == 130
    after = SandboxBackend(target, read_only=True)
    assert sorted(p.title for p in after.list_projects()) == titles_before
    after.close()
    assert [n for n in os.listdir(tmp_path) if n.endswith(".new")] == []


KILL_HALF_WAY = """
import os, signal, sys
from annotrain_tui.core.backends.sandbox.backend import SandboxBackend
original = SandboxBackend.save_labels
calls = [0]
def save_labels(self, *args, **kwargs):
    calls[0] += 1
    if calls[0] == 100:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, *args, **kwargs)
SandboxBackend.save_labels = save_labels
from annotrain_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_init_demo_killed_half_way_leaves_nothing_and_a_rerun_works(tmp_path):
    target = tmp_path / "ws.db"
    env = env_for_subprocess()
    proc = subprocess.run([sys.executable, "-c", KILL_HALF_WAY, "--sandbox", str(target), "sandbox", "init",
                           "--demo"], env=env, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not target.exists()
    assert [n for n in _leftovers(tmp_path, "ws.db") if not n.startswith(".")] == []
    cli = [sys.executable, "-m", "annotrain_tui", "--sandbox", str(target)]
    proc = subprocess.run([*cli, "sandbox", "init", "--demo"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert _leftovers(tmp_path, "ws.db") == ["ws.db"]  # the dead build's temporary file is gone too
    proc = subprocess.run([*cli, "status"], env=env, capture_output=True, text=True)
    assert "Benchmark 'Benchmark Labels': 60/60" in proc.stdout


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_init_demo_on_a_full_disk_leaves_nothing_and_a_rerun_works(tmp_path):
    target = tmp_path / "ws.db"
    env = env_for_subprocess()
    cli = [sys.executable, "-m", "annotrain_tui", "--sandbox", str(target)]
    proc = subprocess.run([*cli, "sandbox", "init", "--demo"], env=env, capture_output=True, text=True,
                          preexec_fn=_limit_file_size)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"annotrain: error: cannot create the sandbox workspace {target}:")
    assert "nothing was left there" in proc.stderr
    assert _leftovers(tmp_path, "ws.db") == []
    proc = subprocess.run([*cli, "sandbox", "init", "--demo"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([*cli, "projects", "list", "--json"], env=env, capture_output=True, text=True)
    assert len(json.loads(proc.stdout)["projects"]) == 4


def test_the_default_workspace_is_created_all_or_nothing_too(capsys, monkeypatch):
    from annotrain_tui.core.errors import AnnotrainError

    def failing(self, *args, **kwargs):
        raise AnnotrainError("injected failure")

    monkeypatch.setattr(SandboxBackend, "create_project", failing)
    code, _, err = run(capsys, "status")
    assert code == 1 and "injected failure" in err
    default = Paths.default().default_sandbox
    assert not default.exists() and _leftovers(default.parent, default.name) == []
    monkeypatch.undo()
    code, out, _ = run(capsys, "status")  # the next command seeds it, not an empty one
    assert code == 0 and "Benchmark 'Benchmark Labels'" in out


# -- sandbox reset ------------------------------------------------------------------------------
def test_reset_deletes_our_workspace_only(tmp_path, capsys):
    ours = tmp_path / "ws.db"
    _demo_at(ours)
    capsys.readouterr()
    code, out, _ = run(capsys, "--sandbox", ours, "sandbox", "reset", "--yes")
    assert code == 0 and not ours.exists()
    theirs = tmp_path / "theirs.db"
    _foreign_rollback(theirs)
    before = snapshot(theirs)
    code, _, err = run(capsys, "--sandbox", theirs, "sandbox", "reset", "--yes")
    assert code == 2 and "not an annotrain workspace" in err and "sandbox reset" not in err
    assert snapshot(theirs) == before


def test_init_without_force_on_a_foreign_file_says_it_is_not_ours(tmp_path, capsys):
    theirs = tmp_path / "theirs.db"
    _foreign_rollback(theirs)
    before = snapshot(theirs)
    code, _, err = run(capsys, "--sandbox", theirs, "sandbox", "init", "--demo")
    assert code == 2 and "not an annotrain workspace" in err and "--force" not in err
    assert snapshot(theirs) == before


def test_status_shows_a_hostile_title_and_path_escaped(tmp_path, capsys):
    target = tmp_path / "w\x1b]0;pwned\x07.db"
    _demo_at(target)
    backend = SandboxBackend(target)
    with backend.store.tx() as c:
        c.execute("UPDATE projects SET title = ? WHERE title = 'Benchmark Labels'", ("Bench\x1b[2J\u202emark",))
    backend.close()
    capsys.readouterr()
    code, out, _ = run(capsys, "--sandbox", target, "status")
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "Benchmark 'Bench\\x1b[2J\\u202emark'" in out and "w\\x1b]0;pwned\\x07.db" in out


def test_a_write_the_os_refuses_unforeseen_is_a_read_only_line(tmp_path, monkeypatch):
    """When nothing tells beforehand that the file cannot be written, SQLite opens it for reading
    by itself; the first write is then refused with the same one line (the write path's fallback)."""
    from annotrain_tui.core.backends.sandbox import store

    target = tmp_path / "ws.db"
    _demo_at(target)
    if subprocess.run(["chattr", "+i", str(target)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        monkeypatch.setattr(store, "_read_only_reason", lambda path: None)
        backend = SandboxBackend(target, create=False)
        try:
            assert not backend.read_only
            assert len(backend.list_projects()) == 4
            with pytest.raises(PermissionDenied, match=f"^workspace is read-only: {re.escape(str(target))}"):
                backend.add_integration("X", "aws")
        finally:
            backend.close()
    finally:
        subprocess.run(["chattr", "-i", str(target)], check=True)
