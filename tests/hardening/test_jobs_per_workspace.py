"""Registration jobs belong to the workspace that started them (one job list in the state dir serves all).

`annotrain jobs` lists and polls only the current workspace's jobs and says how many of other
workspaces it leaves out; `--all` lists every workspace's without polling; `--retry` refuses a job
of another workspace, naming it and the option that opens it. Records name their workspace by a
stable key (the sandbox file's real absolute path), so another cwd finds them; records of old
versions (a path as typed, or none) are matched by their folder and never crash.
"""

from __future__ import annotations

import json
import os

import pytest

from annotrain_tui.core import registration as reg
from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.config import Paths
from tests.hardening.helpers import run

OK = "https://street-scenes-training.s3.eu-west-1.amazonaws.com/w2/ok.jpg"
FLAKY = "https://street-scenes-training.s3.eu-west-1.amazonaws.com/w2/flaky.jpg"
INTEGRATION, FOLDER = "AWS S3 - street-scenes", "/Training Data/Street Scenes"


@pytest.fixture
def polled(monkeypatch):
    """The job ids the sandbox was asked about (every poll goes through get_registration_result)."""
    asked: list[str] = []
    real = SandboxBackend.get_registration_result

    def spy(self, folder_id, job_id, **kw):
        asked.append(job_id)
        return real(self, folder_id, job_id, **kw)

    monkeypatch.setattr(SandboxBackend, "get_registration_result", spy)
    return asked


@pytest.fixture
def two(tmp_path, monkeypatch, capsys):
    """Two demo workspaces w1.db and w2.db (given as relative paths, as a user types them), a pending
    job in w1 and a finished one with a failed URL in w1."""
    monkeypatch.chdir(tmp_path)
    for name in ("w1.db", "w2.db"):
        assert run(capsys, "--sandbox", name, "sandbox", "init", "--demo")[0] == 0
    m = tmp_path / "m.json"
    m.write_text(json.dumps({"images": [{"objectUrl": OK}, {"objectUrl": FLAKY}]}))
    code, out, _ = run(capsys, "--sandbox", "w1.db", "register", "m.json", "--integration", INTEGRATION,
                       "--folder", FOLDER, "--wait", "--json")
    done = json.loads(out)
    assert code == 1 and done["status"] == "done" and done["failed_urls"] == [FLAKY]
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "600")
    code, out, _ = run(capsys, "--sandbox", "w1.db", "register", "m.json", "--integration", INTEGRATION,
                       "--folder", FOLDER, "--json")
    pending = json.loads(out)
    assert code == 0 and pending["status"] == "pending"
    (tmp_path / "elsewhere").mkdir()
    return {"dir": tmp_path, "w1": os.path.realpath(tmp_path / "w1.db"), "w2": os.path.realpath(tmp_path / "w2.db"),
            "pending": pending["id"], "done": done["id"]}


def test_records_name_the_workspace_by_its_real_absolute_path(two):
    records = json.loads(Paths.default().jobs_file.read_text())
    assert {r["workspace"] for r in records} == {f"sandbox {two['w1']}"}


@pytest.mark.parametrize("where", [[], ["--sandbox", "w2.db"]], ids=["default", "w2"])
def test_jobs_elsewhere_lists_none_polls_none_and_counts_the_others(two, capsys, polled, where):
    code, out, err = run(capsys, *where, "jobs")
    assert code == 0, err
    assert two["pending"][:8] not in out and two["done"][:8] not in out
    assert [line for line in out.splitlines() if "other workspaces" in line] == [
        "2 job(s) of other workspaces not shown ('annotrain jobs --all' lists them)"]
    assert polled == []  # w1's pending job was never asked about in this workspace
    code, out, err = run(capsys, *where, "jobs", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["jobs"] == [] and doc["other_workspaces_jobs"] == 2
    assert doc["workspace"].startswith("sandbox /") and two["w1"] not in doc["workspace"]
    assert polled == []


def test_jobs_in_its_own_workspace_from_another_cwd(two, capsys, polled, monkeypatch):
    monkeypatch.chdir(two["dir"] / "elsewhere")
    code, out, err = run(capsys, "--sandbox", "../w1.db", "jobs", "--json")
    doc = json.loads(out)
    assert code == 0, err
    assert doc["workspace"] == f"sandbox {two['w1']}" and doc["other_workspaces_jobs"] == 0
    assert [j["id"] for j in doc["jobs"]] == [two["pending"], two["done"]]
    assert polled == [two["pending"]]  # the pending one is followed; the finished one needs no poll
    code, out, err = run(capsys, "--sandbox", two["w1"], "jobs")
    assert code == 0 and two["pending"][:8] in out and "other workspaces" not in out


def test_retry_of_another_workspaces_job_is_refused_naming_it(two, capsys, polled, monkeypatch):
    monkeypatch.chdir(two["dir"] / "elsewhere")
    before = Paths.default().jobs_file.read_text()
    code, out, err = run(capsys, "--sandbox", "../w2.db", "jobs", "--retry", two["done"][:8])
    assert code == 2 and out == ""
    assert err == (f"annotrain: error: job {two['done']} belongs to sandbox {two['w1']}: "
                   f"run with --sandbox {two['w1']}\n")
    assert polled == [] and Paths.default().jobs_file.read_text() == before  # nothing asked, nothing started
    # from its own workspace the retry runs (and registers only the failed URL)
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "0")
    code, out, err = run(capsys, "--sandbox", two["w1"], "jobs", "--retry", two["done"][:8], "--json")
    retry = json.loads(out)
    assert code == 0, err
    assert retry["retry_of"] == two["done"] and retry["urls"] == 1 and retry["workspace"] == f"sandbox {two['w1']}"


def test_an_unknown_job_is_not_found_in_this_workspace(two, capsys):
    code, _, err = run(capsys, "--sandbox", "w2.db", "jobs", "--retry", "ffffffff")
    assert code == 1 and err.count("\n") == 1 and "no registration job 'ffffffff' in this workspace" in err


def test_jobs_all_lists_every_workspace_without_polling(two, capsys, polled, monkeypatch):
    monkeypatch.chdir(two["dir"] / "elsewhere")
    code, out, err = run(capsys, "--sandbox", "../w2.db", "jobs", "--all")
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith((two["pending"][:8], two["done"][:8]))]
    assert len(lines) == 2 and all(f"sandbox {two['w1']}" in line and "(this one)" not in line for line in lines)
    assert polled == []
    code, out, err = run(capsys, "--sandbox", "../w1.db", "jobs", "--all", "--json")
    doc = json.loads(out)
    assert code == 0 and {j["workspace"] for j in doc["jobs"]} == {f"sandbox {two['w1']}"}
    assert all(j["this_workspace"] for j in doc["jobs"]) and polled == []
    code, out, err = run(capsys, "jobs", "--all", "--watch")
    assert code == 2 and out == "" and err.count("\n") == 1 and "--all" in err


def _rewrite(records_edit):
    f = Paths.default().jobs_file
    records = json.loads(f.read_text())
    records = records_edit(records)
    f.write_text(json.dumps(records))


def test_records_of_old_versions_are_matched_by_their_folder(two, capsys, polled, monkeypatch):
    def old(records):
        for r in records:
            del r["workspace"]  # written by the old code: the path as typed, relative
            r["backend"] = "sandbox w1.db"
        records[0].pop("backend")  # and one even older without any backend
        records.append(dict(records[1], id="legacy-elsewhere", backend="sandbox /no/such/dir/x.db"))
        records.append(dict(records[1], id="legacy-odd", backend="something else"))
        return records

    _rewrite(old)
    monkeypatch.chdir(two["dir"] / "elsewhere")
    code, out, err = run(capsys, "--sandbox", "../w1.db", "jobs", "--json")
    doc = json.loads(out)
    assert code == 0, err
    assert sorted(j["id"] for j in doc["jobs"]) == sorted([two["pending"], two["done"]])
    assert doc["other_workspaces_jobs"] == 2 and polled == [two["pending"]]
    # the polled record now names its workspace for good
    kept = {r["id"]: r for r in json.loads(Paths.default().jobs_file.read_text())}
    assert kept[two["pending"]]["workspace"] == f"sandbox {two['w1']}"
    polled.clear()
    code, out, err = run(capsys, "--sandbox", "../w2.db", "jobs")
    assert code == 0 and "4 job(s) of other workspaces not shown" in out and polled == []
    code, out, err = run(capsys, "--sandbox", "../w2.db", "jobs", "--all")
    assert code == 0 and "as typed, relative to an unknown directory" in out and "Traceback" not in err


def test_one_job_the_server_does_not_know_leaves_the_others_listed(two, capsys, monkeypatch):
    records = json.loads(Paths.default().jobs_file.read_text())
    pending = next(r for r in records if r["id"] == two["pending"])
    _rewrite(lambda rs: rs + [dict(pending, id="gone-job-0000")])
    code, out, err = run(capsys, "--sandbox", "w1.db", "jobs")
    assert code == 1
    assert two["pending"][:8] in out and two["done"][:8] in out and "gone-job" in out
    assert err.count("\n") == 1 and err.startswith("annotrain: warning: job gone-job-0000 shown as last recorded")


def test_workspace_key_is_one_function_and_cwd_independent(tmp_path, monkeypatch):
    backend = SandboxBackend(tmp_path / "k.db")
    try:
        monkeypatch.chdir(tmp_path)
        relative = SandboxBackend("k.db")
        try:
            assert reg.workspace_key(relative) == reg.workspace_key(backend) == f"sandbox {os.path.realpath(tmp_path / 'k.db')}"
        finally:
            relative.close()
    finally:
        backend.close()
    assert reg.same_workspace("encord https://api.encord.com key SHA256:a", "encord https://api.encord.com")
    assert not reg.same_workspace("encord https://api.encord.com key SHA256:a", "encord https://api.encord.com key SHA256:b")
    assert not reg.same_workspace("encord https://api.encord.com", "sandbox /x")


# -- the TUI register screen -------------------------------------------------------------------------

async def test_register_screen_shows_only_this_workspaces_jobs(tmp_path, monkeypatch, polled):
    from textual.widgets import DataTable, Static

    from annotrain_tui.tui.screens.register import RegisterScreen
    from tests.tui.helpers import demo_workspace, make_app, settle

    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "600")
    other, _ = demo_workspace(tmp_path / "other.db")
    try:
        store = reg.JobStore(other.paths)
        foreign = reg.start(other.backend, store, {"images": [{"objectUrl": OK}]}, manifest_path="m.json",
                            integration_ref=INTEGRATION, folder_ref=FOLDER)
    finally:
        other.close()
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "0")
    app = make_app(tmp_path / "mine.db", start_screen="register")
    store = reg.JobStore(app.workspace.paths)
    own = reg.start(app.workspace.backend, store, {"images": [{"objectUrl": OK}]}, manifest_path="m.json",
                    integration_ref=INTEGRATION, folder_ref=FOLDER)
    polled.clear()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RegisterScreen)
        table = screen.query_one("#jobs", DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == [own.id[:8]]
        assert foreign.id not in screen.records and foreign.id not in polled
        note = str(screen.query_one("#reg-validation", Static).render())
        assert "1 job(s) of other workspaces not shown" in note


def test_an_encord_workspace_is_its_domain_and_key_fingerprint(fake, encord_keys):
    from annotrain_tui.core.backends.encord import EncordBackend
    from annotrain_tui.core.retry import RetryingBackend
    from tests.fake_encord.fixtures import encord_settings

    key = encord_keys["plain"]
    backend = EncordBackend.connect(encord_settings(fake, key.path))
    fingerprint = backend.check().removeprefix("SSH key ")  # the adapter's own fingerprint of the public key
    assert fingerprint.startswith("SHA256:")
    assert reg.workspace_key(RetryingBackend(backend)) == f"encord {fake.url.rstrip('/')} key {fingerprint}"
    text = key.path.read_text()
    assert not any(line in reg.workspace_key(backend) for line in text.splitlines()[1:-1] if len(line) > 8)
    old = reg.JobRecord(id="j", backend=f"encord {fake.url}", folder_id="f", folder_path="/f", integration_id="i",
                        integration_title="I", manifest_path="m", created_at=reg.now(), updated_at=reg.now())
    reg.check_workspace(backend, old)  # a record of an old version: the domain decides
    other = old.replace(**{"workspace": f"encord {fake.url} key SHA256:someoneelse"})
    with pytest.raises(reg.WrongWorkspace, match="belongs to encord .* run with --backend encord --domain"):
        reg.check_workspace(backend, other)
