"""annotrain doctor (core): a healthy demo workspace is all ok; each check fails in turn on a mutated
sandbox; one failing check never stops the others; an unreachable workspace skips the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from annotrain_tui.core import registration as reg
from annotrain_tui.core.config import Paths, Settings
from annotrain_tui.core.doctor import FAIL, OK, PENDING_AFTER, SKIPPED, WARN, run_doctor, unopened_report
from annotrain_tui.core.errors import AnnotrainError, AuthFailed, Transient
from annotrain_tui.core.models import JobStatus

CHECKS = ["connection", "roles", "template", "integration", "benchmark", "annotators", "folders", "jobs"]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def doctor(backend, **kw):
    kw.setdefault("settings", Settings())
    kw.setdefault("paths", Paths.default())
    kw.setdefault("now", lambda: NOW)
    return run_doctor(backend, **kw)


def by_id(report) -> dict[str, Any]:
    return {c.id: c for c in report.checks}


def statuses(report) -> dict[str, str]:
    return {c.id: c.status for c in report.checks}


class Wrapped:
    """A backend seen through a change (what another server would answer), like the retry layer wraps one."""

    def __init__(self, inner, **overrides) -> None:
        self.inner = inner
        self.name = inner.name
        self.overrides = overrides

    def __getattr__(self, attr):
        if attr in self.overrides:
            return self.overrides[attr]
        return getattr(self.inner, attr)


def test_a_healthy_demo_workspace_is_all_ok(demo):
    backend, ids = demo
    report = doctor(backend)
    assert [c.id for c in report.checks] == CHECKS
    assert set(statuses(report).values()) == {OK}, [(c.id, c.message) for c in report.checks if c.status != OK]
    assert report.ok and report.ok and report.benchmarks == [ids["benchmark"]]
    checks = by_id(report)
    assert "60/60 tasks Complete" in checks["benchmark"].message
    assert "Annotator Training Set" in checks["benchmark"].message
    assert checks["template"].detail["template"]["title"] == "Annotator Training"
    assert len(checks["integration"].detail["integrations"]) == 7
    assert {p["role"] for p in checks["roles"].detail["projects"]} == {"admin"}
    doc = report.to_json()
    assert doc["ok"] is True and doc["counts"] == {"ok": 8, "warn": 0, "fail": 0, "skipped": 0}
    assert all(c["benchmark_id"] == ids["benchmark"] for c in doc["checks"]
               if c["id"] in ("benchmark", "annotators", "folders"))


def test_an_incomplete_benchmark_fails_that_check_only(demo):
    backend, ids = demo
    row = backend.list_label_rows(ids["benchmark"])[0]
    backend.save_labels(ids["benchmark"], row.data_hash, [], stage="Review")
    report = doctor(backend)
    check = by_id(report)["benchmark"]
    assert check.status == FAIL and "only 59 of 60 tasks are Complete" in check.message
    assert "finish the benchmark" in check.hint
    assert not report.ok
    assert [k for k, v in statuses(report).items() if v != OK] == ["benchmark"]


def test_a_benchmark_with_two_datasets_fails(demo):
    backend, ids = demo
    extra = backend.create_dataset("Stray dataset")
    with backend.store.tx() as c:
        c.execute("INSERT INTO project_datasets VALUES (?,?)", (ids["benchmark"], extra.id))
    check = by_id(doctor(backend))["benchmark"]
    assert check.status == FAIL and "2 datasets" in check.message and "ONLY the training dataset" in check.message
    assert check.detail["dataset_ids"] == [ids["dataset"], extra.id]


def test_an_annotator_removed_from_their_project_fails(demo):
    backend, ids = demo
    with backend.store.tx() as c:
        c.execute("DELETE FROM project_users WHERE email = ?", ("alex.kim@example.com",))
    report = doctor(backend)
    check = by_id(report)["annotators"]
    assert check.status == FAIL, check.message
    assert "alex.kim@example.com is not a user of 'Annotator Training - Alex Kim'" in check.message
    assert [r.action for r in check.see] == ["provision.apply"] and "provision again" in check.hint
    missing = [r for r in check.detail["projects"] if r["present"] is False]
    assert [r["annotator"] for r in missing] == ["alex.kim@example.com"]
    assert statuses(report)["folders"] == OK and statuses(report)["jobs"] == OK


def test_items_added_to_the_folder_later_are_reported_with_the_link_hint(demo):
    backend, ids = demo
    integration = backend.list_integrations()[0]
    job = backend.start_registration(ids["folder"], integration.id, {"images": [
        {"objectUrl": "https://street-scenes-training.s3.eu-west-1.amazonaws.com/2026-q4/late_01.jpg"},
        {"objectUrl": "https://street-scenes-training.s3.eu-west-1.amazonaws.com/2026-q4/late_02.jpg"}]})
    assert backend.get_registration_result(ids["folder"], job).status == JobStatus.DONE
    report = doctor(backend)
    check = by_id(report)["folders"]
    assert check.status == WARN and "2 items of folder '/Training Data/Street Scenes'" in check.message
    assert "late_01.jpg" in check.message and "link the folder" in check.hint
    assert [(r.action, r.arg("folder")) for r in check.see] == [("benchmark.link_folder", "/Training Data/Street Scenes")]
    row = check.detail["folders"][0]
    assert (row["items"], row["in_dataset"], row["missing"]) == (62, 60, 2)
    assert report.ok  # a warning is not a failure


def test_no_integration_visible_fails(demo):
    backend, _ = demo
    with backend.store.tx() as c:
        c.execute("DELETE FROM integrations")
    check = by_id(doctor(backend))["integration"]
    assert check.status == FAIL and "no cloud integration" in check.message and "Integrations" in check.hint


def test_a_configured_template_that_does_not_exist_fails_with_did_you_mean(demo):
    backend, _ = demo
    report = doctor(backend, settings=Settings(default_template="Annotator Trainin"))
    check = by_id(report)["template"]
    assert check.status == FAIL and "Annotator Trainin" in check.message and "did you mean" in check.hint
    assert statuses(report)["benchmark"] == OK


def test_a_template_without_an_annotation_stage_fails(demo):
    backend, _ = demo
    backend.add_template("Review only", ["Review", "Complete"])
    check = by_id(doctor(backend, settings=Settings(default_template="Review only")))["template"]
    assert check.status == FAIL and "no annotation stage" in check.message
    assert [s["kind"] for s in check.detail["stages"]] == ["review", "done"]


def test_no_template_at_all_is_a_warning(sandbox):
    check = by_id(doctor(sandbox))["template"]
    assert check.status == WARN and "default workflow" in check.message


def test_a_role_that_cannot_manage_and_refused_details_are_warnings_not_crashes(demo):
    backend, ids = demo
    refused = "403: only a project admin or team manager may read this"

    def weaken(p):
        if p.id == ids["benchmark"]:
            return p
        return p.replace(**{"caller_role": "annotator", "dataset_ids": None, "users": None,
                                    "details_refused": refused})

    wrapped = Wrapped(backend, list_projects=lambda **kw: [weaken(p) for p in backend.list_projects(**kw)],
                      get_project=lambda pid, **kw: weaken(backend.get_project(pid)))
    report = doctor(wrapped)
    checks = by_id(report)
    assert checks["roles"].status == WARN
    assert "you are not admin or team manager on" not in checks["roles"].message  # refused wins: said once
    assert "'Annotator Training - Alex Kim'" in checks["roles"].message and "refused" in checks["roles"].message
    assert {r["role"] for r in checks["roles"].detail["projects"] if r["kind"] == "training"} == {"annotator"}
    assert checks["annotators"].status == WARN and "cannot be read" in checks["annotators"].message
    assert "Annotator Training - Alex Kim" in checks["annotators"].message
    assert report.ok


def test_an_annotator_role_without_refusal_is_named(demo):
    backend, ids = demo
    wrapped = Wrapped(backend, list_projects=lambda **kw: [
        p.replace(**{"caller_role": "reviewer"}) if p.id == ids["benchmark"] else p
        for p in backend.list_projects(**kw)])
    check = by_id(doctor(wrapped))["roles"]
    assert check.status == WARN and "'Benchmark Labels'" in check.message and "you are reviewer" in check.message
    assert "team manager" in check.hint


def _job(backend, job_id: str, age: timedelta, status=JobStatus.PENDING) -> reg.JobRecord:
    when = NOW - age
    return reg.JobRecord(id=job_id, backend=backend.describe(), workspace=reg.workspace_key(backend),
                         folder_id="f", folder_path="/Training Data/Incoming", integration_id="i",
                         integration_title="AWS", manifest_path="batch.json", created_at=when, updated_at=when,
                         status=status, urls=3)


def test_registration_jobs_pending_for_hours_are_reported_by_the_injected_clock(demo, tmp_path):
    backend, _ = demo
    store = reg.JobStore(Paths.default())
    store.put(_job(backend, "aaaaaaaa-stale", PENDING_AFTER + timedelta(minutes=1)))
    store.put(_job(backend, "bbbbbbbb-fresh", PENDING_AFTER - timedelta(minutes=1)))
    store.put(_job(backend, "cccccccc-done", timedelta(hours=9), JobStatus.DONE))
    other = _job(backend, "dddddddd-other", timedelta(hours=9)).replace(
        **{"workspace": f"sandbox {tmp_path / 'another.db'}"})
    store.put(other)
    check = by_id(doctor(backend))["jobs"]
    assert check.status == WARN and "1 registration job pending for more than 2 h" in check.message
    assert "aaaaaaaa" in check.message and "bbbbbbbb" not in check.message and "dddddddd" not in check.message
    assert [j["id"] for j in check.detail["stale"]] == ["aaaaaaaa-stale"]
    assert [r.action for r in check.see] == ["jobs.list"]
    later = by_id(doctor(backend, now=lambda: NOW + timedelta(hours=1)))["jobs"]
    assert len(later.detail["stale"]) == 2


def test_one_failing_check_never_stops_the_others(demo):
    backend, _ = demo

    def broken():
        raise AnnotrainError("integrations cannot be listed", hint="try later")

    report = doctor(Wrapped(backend, list_integrations=broken))
    checks = by_id(report)
    assert checks["integration"].status == FAIL and checks["integration"].hint == "try later"
    assert all(checks[c].status == OK for c in CHECKS if c != "integration")


def test_an_unexpected_error_is_a_fail_with_a_crash_log(demo):
    backend, _ = demo

    def bug(*a, **kw):
        raise NameError("name '_stage_kind' is not defined")

    report = doctor(Wrapped(backend, list_projects=bug))
    checks = by_id(report)
    assert checks["roles"].status == FAIL and "NameError" in checks["roles"].message
    logs = {checks[c].detail.get("crash_log") for c in ("roles", "benchmark")}
    assert len(logs) == 1 and None not in logs  # one error, one crash log
    assert checks["integration"].status == OK and checks["connection"].status == OK
    assert checks["annotators"].status == SKIPPED


def test_an_unreachable_workspace_skips_the_rest(demo):
    backend, _ = demo

    def down():
        raise AuthFailed("the key was refused", hint="check ssh_key_path")

    report = doctor(Wrapped(backend, check=down))
    assert report.checks[0].status == FAIL and report.checks[0].hint == "check ssh_key_path"
    assert [c.status for c in report.checks[1:]] == [SKIPPED] * 7
    assert all("the key was refused" in c.message for c in report.checks[1:])
    assert not report.ok


def test_a_workspace_that_stops_answering_midway_skips_what_is_left(demo):
    backend, _ = demo

    def gone():
        raise Transient("list_integrations still failing after 5 attempts: timed out")

    report = doctor(Wrapped(backend, list_integrations=gone))
    st = statuses(report)
    assert st["connection"] == OK and st["integration"] == FAIL
    assert [st[c] for c in ("benchmark", "annotators", "folders", "jobs")] == [SKIPPED] * 4


def test_several_benchmarks_are_each_checked(demo):
    backend, ids = demo
    second = backend.create_project("Second benchmark", description="gold", dataset_ids=[ids["dataset"]],
                                    ontology_id=ids["ontology"])
    report = doctor(backend)
    assert report.benchmarks == [ids["benchmark"], second.id]
    benches = [c for c in report.checks if c.id == "benchmark"]
    assert [c.benchmark_id for c in benches] == [ids["benchmark"], second.id]
    assert benches[0].status == OK and benches[1].status == FAIL and "0 of 60" in benches[1].message
    assert "'Second benchmark'" in benches[1].name
    for check, title in zip(benches, ("'Benchmark Labels'", "'Second benchmark'"), strict=True):
        # the name says which benchmark; the message does not say it again (trial: "Benchmark
        # 'Benchmark Labels' (e013…): 'Benchmark Labels' (e013…): 60/60")
        assert title in check.name and check.benchmark_id in check.name
        assert title not in check.message and check.benchmark_id not in check.message
    assert benches[0].message.startswith("60/60 tasks Complete")
    only = doctor(backend, benchmark_ref="Benchmark Labels")
    assert only.benchmarks == [ids["benchmark"]] and only.ok


def test_a_benchmark_ref_that_names_nothing(demo):
    backend, _ = demo
    report = doctor(backend, benchmark_ref="Benchmark Lables")
    checks = by_id(report)
    assert checks["benchmark"].status == FAIL and "did you mean 'Benchmark Labels'" in checks["benchmark"].hint
    assert checks["annotators"].status == SKIPPED and checks["roles"].status == SKIPPED
    assert checks["integration"].status == OK


def test_no_benchmark_at_all(sandbox):
    report = doctor(sandbox)
    checks = by_id(report)
    assert checks["benchmark"].status == FAIL and [r.action for r in checks["benchmark"].see] == ["benchmark.create"]
    assert checks["folders"].status == SKIPPED and checks["roles"].status == SKIPPED


def test_open_warnings_make_the_connection_a_warning(demo):
    backend, _ = demo
    check = by_id(doctor(backend, warnings=["the key file is readable by others"]))["connection"]
    assert check.status == WARN and "readable by others" in check.message


def test_the_report_when_the_workspace_cannot_be_opened():
    report = unopened_report(AuthFailed("no key", hint="pass --ssh-key"), backend="encord")
    assert not report.ok and [c.id for c in report.checks] == CHECKS
    assert report.to_json()["counts"] == {"ok": 0, "warn": 0, "fail": 1, "skipped": 7}


@pytest.mark.parametrize("hostile,escaped", [("\x1b]0;pwned\x07Bench", "\\x1b"), ("Bench\u202eevil", "\\u202e")])
def test_untrusted_titles_are_escaped_in_messages(demo, hostile, escaped):
    backend, ids = demo
    with backend.store.tx() as c:
        c.execute("UPDATE projects SET title = ? WHERE id = ?", (hostile, ids["benchmark"]))
    report = doctor(backend, benchmark_ref=ids["benchmark"])
    message = by_id(report)["benchmark"].message
    assert "\x1b" not in message and "\u202e" not in message and escaped in message
