"""Issue 11 §3, found by a trial: no output, even with --force, may replace one of annotrain's own
files (the config file, a sandbox workspace and its SQLite side files, the state dir's jobs and
journals, the SSH key), a kernel file (/proc), and no file option may be an empty name."""

from __future__ import annotations

import json

import pytest

from annotrain_tui.core.config import Paths
from tests.hardening.helpers import run
from tests.synth import make_programme


@pytest.fixture
def labels(tmp_path):
    programme = make_programme(seed=3, n_items=3, annotators=("zoe@example.com",))
    bm = tmp_path / "B.json"
    bm.write_text(json.dumps(programme.benchmark))
    tr = tmp_path / "T.json"
    tr.write_text(json.dumps(next(iter(programme.training.values()))))
    return bm, tr


def _own_files(tmp_path):
    paths = Paths.default()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text('backend = "sandbox"\n')
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    paths.jobs_file.write_text("[]")
    return {
        "config": paths.config_file,
        "default workspace": paths.default_sandbox,
        "default workspace wal": paths.default_sandbox.with_name(paths.default_sandbox.name + "-wal"),
        "jobs": paths.jobs_file,
        "journal": paths.journal_dir / "provision-x.jsonl",
    }


@pytest.mark.parametrize("which", ["config", "default workspace", "default workspace wal", "jobs", "journal"])
def test_offline_outputs_never_replace_annotrains_own_files(capsys, tmp_path, labels, which):
    target = _own_files(tmp_path)[which]
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_text("mine\n")
    before = target.read_bytes()
    bm, tr = labels
    for option in ("--out", "--summary-json"):
        code, _, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr, option, target,
                           "--force")
        assert code == 2 and err.count("\n") == 1 and "writing it would destroy it" in err, err
        assert target.read_bytes() == before
    code, _, err = run(capsys, "manifest", "new", "--out", target, "--force")
    assert code == 2 and "writing it would destroy it" in err and target.read_bytes() == before


def test_the_workspace_a_command_opened_and_its_side_files_are_protected(capsys, tmp_path):
    ws = tmp_path / "ws.db"
    assert run(capsys, "--sandbox", ws, "sandbox", "init", "--demo")[0] == 0
    before = ws.read_bytes()
    for target in (ws, tmp_path / "ws.db-wal", tmp_path / "ws.db-shm"):  # side files come and go with SQLite
        code, _, err = run(capsys, "--sandbox", ws, "evaluate", "--benchmark", "Benchmark Labels", "--all",
                           "--out", target, "--force")
        assert code == 2 and "writing it would destroy" in err, err
    assert ws.read_bytes() == before
    code, _, _ = run(capsys, "--sandbox", ws, "status")
    assert code == 0


def test_kernel_files_are_refused_with_the_right_reason(capsys, labels):
    bm, tr = labels
    code, _, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr,
                       "--out", "/proc/self/status", "--force")
    assert code == 2 and "kernel file system" in err and "no such directory" not in err


@pytest.mark.parametrize("argv", [
    ["evaluate", "--benchmark-labels", "{bm}", "--training-labels", "{tr}", "--out", ""],
    ["evaluate", "--benchmark-labels", "{bm}", "--training-labels", "{tr}", "--summary-json", ""],
    ["evaluate", "--benchmark-labels", "", "--training-labels", "{tr}"],
    ["manifest", "convert", "{bm}", ""],
    ["manifest", "validate", ""],
    ["manifest", "new", "--out", " "],
    ["roster", "check", ""],
    ["--sandbox", "", "status"],
    ["sandbox", "import-labels", "P", ""],
    ["register", ""],
])
def test_an_empty_file_name_is_a_usage_error_not_no_file(capsys, labels, argv):
    bm, tr = labels
    argv = [a.format(bm=bm, tr=tr) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and "file name is empty" in err, err


@pytest.mark.parametrize("how", ["--ssh-key", "env", "config"])
def test_the_ssh_key_is_never_an_output_even_when_no_backend_opens_it(capsys, tmp_path, labels, monkeypatch, how):
    """A trial: `--ssh-key k evaluate … --out k --force` replaced the private key with a CSV (offline
    evaluation opens no backend, so the key was never registered as protected)."""
    key = tmp_path / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n")
    key.chmod(0o600)
    before = key.read_bytes()
    bm, tr = labels
    extra = []
    if how == "--ssh-key":
        extra = ["--ssh-key", str(key)]
    elif how == "env":
        monkeypatch.setenv("ENCORD_SSH_KEY_FILE", str(key))
    else:
        assert run(capsys, "config", "set", "ssh_key_path", str(key))[0] == 0
    for argv in (["evaluate", "--benchmark-labels", bm, "--training-labels", tr, "--out", key, "--force"],
                 ["manifest", "new", "--out", key, "--force"]):
        code, _, err = run(capsys, *extra, *argv)
        assert code == 2 and "is the SSH key" in err, err
    assert key.read_bytes() == before


def test_a_single_option_given_twice_is_a_usage_error_and_lists_extend(capsys, tmp_path, labels):
    """A round-3 trial: `--out a.csv --out b.csv` wrote only b.csv, and a repeated --training-labels
    dropped the earlier files, silently."""
    bm, tr = labels
    code, _, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr,
                       "--out", tmp_path / "a.csv", "--out", tmp_path / "b.csv")
    assert code == 2 and "--out is given twice" in err and not (tmp_path / "a.csv").exists()
    code, _, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--benchmark-labels", tr, "--training-labels", tr)
    assert code == 2 and "--benchmark-labels is given twice" in err
    tr2 = tmp_path / "T2.json"
    tr2.write_text(tr.read_text().replace("zoe@example.com", "yan@example.com"))
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr,
                         "--training-labels", tr2, "--json")
    assert code in (0, 1), err
    assert set(json.loads(out)["annotators"]) == {"zoe@example.com", "yan@example.com"}


def test_the_benchmark_given_as_a_training_file_is_refused(capsys, labels, tmp_path):
    bm, tr = labels
    link = tmp_path / "also-bm.json"
    link.symlink_to(bm)
    code, _, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr, link)
    assert code == 2 and "scored against itself" in err
