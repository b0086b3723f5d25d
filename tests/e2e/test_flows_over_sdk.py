"""Every flow end to end over the SDK (issue 12, section 4).

The real CLI (``annotrain_tui.cli.main``) on the encord backend, i.e. the real ``encord`` SDK over
HTTP against the fake of Encord's API on 127.0.0.1: register a manifest with every section and
follow the job (one file unreachable, then retried), create the training dataset and verify it,
link files registered later into it, create the benchmark and let the expert label it, provision a
roster (with faults, and a project the caller may not administer in the workspace), let the
trainees label and a reviewer approve (both stage-move behaviours), evaluate live and export. The
same programme on the sandbox prints the same numbers.
"""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

from annotrain_tui.core.config import Paths, Settings
from annotrain_tui.core.evaluation.live import LiveEvaluation
from annotrain_tui.core.workspace import open_workspace
from tests.e2e.helpers import (
    BENCHMARK,
    BUCKET,
    DATASET,
    FLAKY,
    FOLDER,
    INTEGRATION,
    TRAINEE_BOXES,
    TRAINEES,
    EncordWorld,
    all_files,
    check_counts,
    cli,
    provision,
    scores,
    set_up_benchmark,
    trainees_label,
)
from tests.fake_encord.server import Fault

CHECKS = ["connection", "roles", "template", "integration", "benchmark", "annotators", "folders", "jobs"]
EMAILS = [e for _, e in TRAINEES]
# What the trainees drew (helpers.TRAINEE_BOXES) scores as: Ana perfect, Bo sloppy with an extra
# box, Cy confusing the classes and missing one. Each finished 2 or 3 of the 11 benchmark items, so
# none has a status yet (issue 15: no pass without evidence); MARKS are the statuses by the marks
# alone (with --min-items 1): Ana's and Bo's F1 pass the mark, but on 3 or 4 boxes its 95% interval
# straddles it (issue 16: uncertain); Cy's class accuracy 0 needs feedback whatever more items show.
EXPECTED = {
    "ana@example.com": dict(objects=4, benchmark_objects=4, matched=4, missed=0, extra=0, f1=1.0,
                            class_accuracy=1.0, status="not enough work yet"),
    "bo@example.com": dict(objects=4, benchmark_objects=3, matched=3, missed=0, extra=1, f1=0.857143,
                           class_accuracy=1.0, status="not enough work yet"),
    "cy@example.com": dict(objects=2, benchmark_objects=3, matched=2, missed=1, extra=0, f1=0.8,
                           class_accuracy=0.0, status="not enough work yet"),
}
MARKS = {"ana@example.com": "uncertain", "bo@example.com": "uncertain", "cy@example.com": "needs feedback"}


def settings_for(world: EncordWorld, **extra) -> Settings:
    """The settings the CLI runs with on this fake (a core session opened in the test itself)."""
    from annotrain_tui.core.config import load_settings

    base = load_settings(Paths.default())
    return base.replace(**{"backend": "encord", "ssh_key_path": world.key, "encord_domain": world.fake.url,
                                   "request_timeout": 5.0, "retry_base_delay": 0.0, **extra})


def assert_scores(doc: dict, expected: dict = EXPECTED) -> None:
    got = scores(doc)
    for who, want in expected.items():
        assert {k: got[who][k] for k in want} == want, who


# -- 1. registration ---------------------------------------------------------------------------

def test_register_every_section_follow_the_job_and_retry_the_failed_url(encord_world, tmp_path):
    prog = set_up_benchmark(encord_world, tmp_path)
    reg, retry = prog.register, prog.retry
    assert reg["status"] == "done" and reg["urls"] == 14 and reg["items_created"] == 10
    assert reg["failed_urls"] == [FLAKY]
    assert reg["unit_errors"] == [{"object_urls": [FLAKY], "error": "Encord could not access the file"}]
    assert retry["retry_of"] == reg["id"] and retry["urls"] == 1 and retry["items_created"] == 1
    assert retry["failed_urls"] == [] and retry["status"] == "done"
    # one item per entry, of the kind each section makes (image groups with createVideo: a sequence)
    ws = encord_world.ws
    kinds = Counter(i.item_type for i in ws.items.values())
    assert kinds == {"IMAGE": 3, "VIDEO": 1, "AUDIO": 1, "PDF": 1, "PLAIN_TEXT": 1, "NIFTI": 1, "IMAGE_GROUP": 1,
                     "IMAGE_SEQUENCE": 1, "DICOM_SERIES": 1}
    group = next(i for i in ws.items.values() if i.item_type == "IMAGE_GROUP")
    assert group.files == [f"{BUCKET}/images/g0.jpg", f"{BUCKET}/images/g1.jpg"]
    # the jobs as `jobs` lists them: the retry first, each with its outcome
    jobs = cli(*encord_world.args(), "jobs", "--json")
    assert jobs.code == 0, jobs.err
    listed = jobs.json["jobs"]
    assert [j["id"] for j in listed] == [retry["id"], reg["id"]]
    assert [j["failed_urls"] for j in listed] == [[], [FLAKY]]
    # a job already retried is not retried again: its retry is shown
    again = cli(*encord_world.args(), "jobs", "--retry", reg["id"], "--json")
    assert again.code == 0 and again.json["id"] == retry["id"] and again.json["existing"] is True
    folders = cli(*encord_world.args(), "folders", "list", "--json")
    assert FOLDER in [f["path"] for f in folders.json["folders"]]
    assert encord_world.ws.jobs and all(j.result is not None for j in encord_world.ws.jobs.values())
    assert not encord_world.fake.errors and not encord_world.fake.unhandled


def test_without_ignore_errors_a_failed_url_fails_the_job_and_registers_nothing(encord_world, tmp_path):
    from tests.e2e.helpers import programme_manifest

    encord_world.setup()
    encord_world.unreachable({FLAKY})
    ran = cli(*encord_world.args(), "register", programme_manifest(tmp_path / "m.json"), "--integration",
              INTEGRATION, "--folder", FOLDER, "--create-folder", "--no-ignore-errors", "--wait", "--json")
    assert ran.code == 1
    doc = ran.json
    assert doc["status"] == "failed" and doc["items_created"] == 0 and doc["failed_urls"] == [FLAKY]
    assert encord_world.ws.items == {}


def test_a_held_job_is_followed_to_done(encord_world, tmp_path):
    """The long poll: a job Encord keeps PENDING is polled (held server-side, no client sleeps)
    until the fake lets it finish."""
    import threading

    from tests.e2e.helpers import programme_manifest

    encord_world.setup()
    ws = encord_world.ws
    ws.job_hold = True
    started = cli(*encord_world.args(), "register", programme_manifest(tmp_path / "m.json"), "--integration",
                  INTEGRATION, "--folder", FOLDER, "--create-folder", "--json")
    assert started.code == 0, started.err
    job_id = started.json["id"]
    assert started.json["status"] == "pending"
    job = ws.jobs[job_id]

    def release() -> None:
        job.waiting.wait(10)  # a poll is being held right now
        ws.finish_job(job_id)

    helper = threading.Thread(target=release, daemon=True)
    helper.start()
    watched = cli(*encord_world.args(), "jobs", "--watch", "--json")
    helper.join(10)
    assert watched.code == 0, watched.err
    (done,) = watched.json["jobs"]
    assert done["id"] == job_id and done["status"] == "done" and done["items_created"] == 11
    assert job.polls >= 2 and max(job.waits) > 0  # it waited server-side at least once


# -- 2./3. dataset, link-folder, benchmark -------------------------------------------------------

def test_dataset_from_the_folder_verified_and_later_files_linked_once(encord_world, tmp_path):
    prog = set_up_benchmark(encord_world, tmp_path)
    assert check_counts(prog.dataset) == {"expected": 10, "linked": 10, "missing": 0, "extra": 0, "ok": True}
    # the retried file landed in the folder afterwards: the dataset lacks it until linked
    assert prog.verify_before_link["missing"] == [FLAKY] and prog.verify_before_link["ok"] is False
    assert prog.link["linked_now"] == 1 and prog.link["ok"] is True
    assert prog.link_again["linked_now"] == 0 and prog.link_again["linked"] == 11
    assert check_counts(prog.verify) == {"expected": 11, "linked": 11, "missing": 0, "extra": 0, "ok": True}
    # linking twice made no second data unit: one per item, joined by backing_item_uuid
    ws = encord_world.ws
    (ds,) = [d for d in ws.datasets.values() if d.title == DATASET]
    assert sorted(ws.units[h].item for h in ds.units) == sorted(ws.items)
    assert all(h not in ws.items for h in ds.units)  # data hashes are not item ids
    links = [w for w in encord_world.fake.writes() if w.route == "v1.datasetlinkitems.post"]
    assert [w.params.get("item_uuids") for w in links] == [10, 1]
    # the benchmark: the ontology and ONLY the training dataset, labelled Complete by the expert
    bench = ws.projects[prog.benchmark["project_id"]]
    assert bench.datasets == [ds.hash] and len(bench.rows) == 11
    assert prog.status["complete"] == prog.status["total"] == 11 and prog.status["ready"] is True


def test_verify_against_the_manifest_counts_groups_as_one_file(encord_world, tmp_path):
    prog = set_up_benchmark(encord_world, tmp_path)
    ran = cli(*encord_world.args(), "benchmark", "verify", DATASET, "--manifest", prog.manifest, "--json")
    assert ran.json["missing"] == [] and ran.code == 0


# -- 4./5. provisioning with faults, labelling under both stage-move behaviours, evaluation -------

@pytest.mark.parametrize("touches_row", [True, False], ids=["move-touches-row", "move-leaves-row"])
def test_provision_with_faults_label_evaluate_live_and_export(encord_world, tmp_path, touches_row):
    world, fake, ws = encord_world, encord_world.fake, encord_world.ws
    ws.stage_move_touches_row = touches_row
    prog = set_up_benchmark(world, tmp_path)
    bid = prog.benchmark["project_id"]
    # a project the caller is only an annotator on: 403 on its users and datasets
    forbidden = ws.add_project("Someone Else's Project", ontology=next(iter(ws.ontologies)),
                               datasets=list(ws.datasets), role=1, users={"boss@example.com": 0})
    # faults on the create routes: a 500 before the first create, a dropped connection after the
    # second one acted (its answer lost), one on inviting and one on assigning
    fake.inject("v1.project.post", Fault(status=500))
    fake.inject("v1.project.post", Fault(drop=True, act=True, after=3))
    fake.inject("v1.projectusers.post", Fault(drop=True))
    fake.inject("tasks.actions", Fault(status=503))
    ran = provision(world, prog, tmp_path)
    assert ran.code == 0, ran.out + ran.err
    assert [a["status"] for a in prog.provision["annotators"]] == ["created"] * 3
    marked = [p for p in ws.projects.values() if f"benchmark={bid}" in p.description]
    assert sorted(p.hash for p in marked) == sorted(prog.projects.values())  # no duplicate for the lost answer
    for email, pid in prog.projects.items():
        p = ws.projects[pid]
        assert p.users.get(email) == 1  # project-level annotator role, as well
        assert {r.assignee for r in p.rows.values()} == {email}  # every Annotate-stage task is theirs
        assert len(p.rows) == 11 and p.ontology == ws.projects[bid].ontology and p.datasets == ws.projects[bid].datasets
    assert ws.projects[forbidden].users == {ws.owner: 1, "boss@example.com": 0}  # untouched
    assert all(f.times == 0 for faults in fake.faults.values() for f in faults)  # every fault was hit
    assert Counter(w.route for w in fake.writes())["v1.project.post"] == 1 + 1 + 3  # benchmark, the 500, 3 creates
    again = provision(world, prog, tmp_path)
    assert again.code == 0 and {a["status"] for a in again.json["annotators"]} == {"done"}

    # live evaluation: loaded before anyone worked, then refreshed as tasks reach Complete
    ws_core = open_workspace(Paths.default(), settings_for(world))
    try:
        live = LiveEvaluation(ws_core.backend, bid)
        first = live.load()
        assert first.annotators == {} or all(a.objects == 0 for a in first.annotators.values())
        frame = live.annotator_frame()
        assert sorted(frame["annotator"]) == EMAILS and list(frame["complete"]) == [0, 0, 0]
        one = f"{BUCKET}/images/a.jpg"
        trainees_label(world, prog, only={one})
        report = live.refresh()
        assert sorted(report.changed_projects) == sorted(prog.projects.values())
        frame = live.annotator_frame().set_index("annotator")
        assert list(frame.loc[EMAILS, "complete"]) == [1, 1, 1]
        assert frame.loc["ana@example.com", "matched"] == 2 and frame.loc["cy@example.com", "class_accuracy"] == 0
        trainees_label(world, prog, only=set(all_files(prog.manifest)) - {one})
        live.refresh()
        frame = live.annotator_frame().set_index("annotator")
        assert {e: int(frame.loc[e, "complete"]) for e in EMAILS} == {e: len(TRAINEE_BOXES[e]) for e in EMAILS}
        assert {e: int(frame.loc[e, "total"]) for e in EMAILS} == {e: 11 for e in EMAILS}
        live_scores = {e: {"matched": int(frame.loc[e, "matched"]), "extra": int(frame.loc[e, "extra"]),
                           "missed": int(frame.loc[e, "missed"])} for e in EMAILS}
        # a task sent back (out of Complete) leaves the evaluation on the next poll
        ws.move(prog.projects["bo@example.com"], world.item(prog.projects["bo@example.com"],
                                                            f"{BUCKET}/images/g0.jpg"), "Review")
        live.refresh()
        assert int(live.annotator_frame().set_index("annotator").loc["bo@example.com", "complete"]) == 1
        ws.move(prog.projects["bo@example.com"], world.item(prog.projects["bo@example.com"],
                                                            f"{BUCKET}/images/g0.jpg"), "Complete")
        live.refresh()
        assert int(live.annotator_frame().set_index("annotator").loc["bo@example.com", "complete"]) == 2
    finally:
        ws_core.close()

    writes_before = len(fake.writes())
    out_csv, summary = tmp_path / "objects.csv", tmp_path / "summary.json"
    ev = cli(*world.args(), "evaluate", "--benchmark", BENCHMARK, "--all", "--json", "--out", out_csv,
             "--summary-json", summary)
    assert ev.code == 0, ev.err
    doc = ev.json
    assert_scores(doc)
    assert {e: doc["annotators"][e]["items"] for e in EMAILS} == \
        {e: {"done": len(TRAINEE_BOXES[e]), "required": 11} for e in EMAILS}
    marks = cli(*world.args(), "evaluate", "--benchmark", BENCHMARK, "--all", "--json", "--min-items", "1").json
    assert {e: marks["annotators"][e]["status"] for e in EMAILS} == MARKS
    assert {e: {k: doc["annotators"][e][k] for k in ("matched", "extra", "missed")} for e in EMAILS} == live_scores
    assert doc["benchmark_rows"] == 11 and doc["paired_rows"] == sum(len(v) for v in TRAINEE_BOXES.values())
    written = scores(json.loads(summary.read_text(encoding="utf-8")))  # the summary: the scores without status
    assert written == {e: {k: v for k, v in a.items() if k in written[e]} for e, a in scores(doc).items()}
    with out_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    outcomes = Counter(r["outcome"] for r in rows)
    assert outcomes["matched"] + outcomes["low_overlap"] == sum(EXPECTED[e]["matched"] for e in EMAILS)
    assert outcomes["low_overlap"] == 2 and outcomes["missed"] == 1 and outcomes["extra"] == 1
    assert {r["created_by"] for r in rows if r["created_by"]} == set(EMAILS)
    # the same through `progress`
    prog_doc = cli(*world.args(), "progress", "--benchmark", BENCHMARK, "--json").json
    assert {a["email"]: a["complete"] for a in prog_doc["annotators"]} == \
        {e: len(TRAINEE_BOXES[e]) for e in EMAILS}
    # 9. reading Complete rows never writes
    assert fake.writes()[writes_before:] == []
    assert "v1.labelrow.put" not in {w.route for w in fake.writes()}
    assert not fake.errors and not fake.unhandled


def test_a_complete_row_without_labels_is_reported_never_created(encord_world, tmp_path):
    """A task approved to Complete that nobody ever saved has no label hash: evaluation and status
    read it without creating its label row (no labelrow.put)."""
    world, fake, ws = encord_world, encord_world.fake, encord_world.ws
    prog = set_up_benchmark(world, tmp_path)
    assert provision(world, prog, tmp_path).code == 0
    trainees_label(world, prog)
    ana = prog.projects["ana@example.com"]
    empty = world.item(ana, f"{BUCKET}/text/a.txt")
    assert ws.row(ana, empty).label_hash is None
    ws.move(ana, empty, "Complete")
    before = len(fake.writes())
    ev = cli(*world.args(), "evaluate", "--benchmark", BENCHMARK, "--all", "--json")
    assert ev.code == 0, ev.err
    assert_scores(ev.json)
    for argv in (["status", "--json"], ["progress", "--benchmark", BENCHMARK, "--json"],
                 ["benchmark", "status", BENCHMARK, "--json"], ["doctor", "--json"]):
        assert cli(*world.args(), *argv).code in (0, 1)
    assert fake.writes()[before:] == []
    assert ws.row(ana, empty).label_hash is None


def test_evaluation_survives_a_row_gone_from_the_bundle_and_rate_limits(encord_world, tmp_path):
    """A row listed but left out of the bundle (deleted between listing and fetch: ws.bundle_omits), a
    v1 rate limit inside the envelope on the listing and a 500 on the bundle: the evaluation scores
    the rest, says which row it left out, and writes nothing."""
    world, fake, ws = encord_world, encord_world.fake, encord_world.ws
    prog = set_up_benchmark(world, tmp_path)
    assert provision(world, prog, tmp_path).code == 0
    trainees_label(world, prog)
    ana = prog.projects["ana@example.com"]
    ws.bundle_omits.add(world.item(ana, f"{BUCKET}/images/b.jpg"))
    fake.inject("v1.labelrowmetadata.get", Fault(status=429, in_envelope=True))
    fake.inject("v1.labelrow.get", Fault(status=500))
    before = len(fake.writes())
    ev = cli(*world.args(), "evaluate", "--benchmark", BENCHMARK, "--all", "--json")
    assert ev.code == 0, ev.err
    assert "1 label row(s) listed by Encord were not in its answer" in ev.err and "'b.jpg'" in ev.err
    ana_scores = scores(ev.json)["ana@example.com"]
    assert (ana_scores["objects"], ana_scores["matched"], ana_scores["f1"]) == (3, 3, 1.0)  # b.jpg's box left out
    assert_scores(ev.json, {e: EXPECTED[e] for e in ("bo@example.com", "cy@example.com")})
    assert all(f.times == 0 for faults in fake.faults.values() for f in faults)
    assert fake.writes()[before:] == []


# -- 6. the same programme on the sandbox ----------------------------------------------------

def test_the_same_programme_on_the_sandbox_prints_the_same_numbers(encord_world, sandbox_world, tmp_path):
    outputs = {}
    for world in (encord_world, sandbox_world):
        where = tmp_path / world.name
        where.mkdir()
        prog = set_up_benchmark(world, where)
        assert provision(world, prog, where).code == 0
        for email, pid in prog.projects.items():
            assert set(world.assignees(pid).values()) == {email}, world.name
        trainees_label(world, prog)
        ev = cli(*world.args(), "evaluate", "--benchmark", BENCHMARK, "--all", "--json")
        assert ev.code == 0, (world.name, ev.err)
        progress = cli(*world.args(), "progress", "--benchmark", BENCHMARK, "--json").json
        doctor = cli(*world.args(), "doctor", "--json").json
        outputs[world.name] = {
            "register": {k: prog.register[k] for k in ("status", "urls", "items_created", "failed_urls")},
            "unit_errors": [e["object_urls"] for e in prog.register["unit_errors"]],
            "retry": {k: prog.retry[k] for k in ("status", "urls", "items_created", "failed_urls")},
            "dataset": check_counts(prog.dataset),
            "verify_before_link": check_counts(prog.verify_before_link),
            "link": check_counts(prog.link),
            "link_again": check_counts(prog.link_again),
            "verify": check_counts(prog.verify),
            "benchmark": {k: prog.status[k] for k in ("complete", "total", "ready")},
            "provision": [(a["email"], a["status"], a["title"]) for a in prog.provision["annotators"]],
            "scores": scores(ev.json),
            "rows": (ev.json["benchmark_rows"], ev.json["paired_rows"]),
            "progress": sorted((a["email"], a["complete"], a["total"]) for a in progress["annotators"]),
            "doctor": [c["id"] for c in doctor["checks"]],
        }
    assert outputs["encord"] == outputs["sandbox"]
    assert_scores({"annotators": outputs["sandbox"]["scores"]})


def test_the_programme_evaluates_without_warnings_on_encord(encord_world, tmp_path):
    prog = set_up_benchmark(encord_world, tmp_path)
    assert provision(encord_world, prog, tmp_path).code == 0
    trainees_label(encord_world, prog)
    ev = cli(*encord_world.args(), "evaluate", "--benchmark", BENCHMARK, "--all", "--json")
    assert ev.code == 0 and ev.json["warnings"] == [] and ev.err == ""


# -- 7. a workspace with one forbidden project ----------------------------------------------------

def test_a_workspace_with_a_forbidden_project_lists_provisions_and_evaluates(fake, encord_keys, tmp_path):
    ws, demo = fake.ws, fake.demo
    forbidden = ws.add_project("Vendor QA (annotator only)", ontology=demo.ontology, datasets=[demo.dataset], role=1,
                               users={"vendor.lead@example.com": 0})
    args = ["--backend", "encord", "--ssh-key", encord_keys["plain"].path, "--domain", fake.url]
    assert cli("config", "set", "workflow_templates.Annotator Training", demo.template).code == 0
    listed = cli(*args, "projects", "list", "--json")
    assert listed.code == 0, listed.err
    titles = [p["title"] for p in listed.json["projects"]]
    assert "Vendor QA (annotator only)" in titles and "Benchmark Labels" in titles
    detailed = cli(*args, "projects", "list", "--details", "--json")
    assert detailed.code == 0, detailed.err
    by_title = {p["title"]: p for p in detailed.json["projects"]}
    assert by_title["Benchmark Labels"]["datasets"] == [{"id": demo.dataset, "title": "Annotator Training Set"}]
    vendor = by_title["Vendor QA (annotator only)"]  # kept, with what was refused
    assert vendor["your_role"] == "annotator" and vendor["datasets"] is None and vendor["users"] is None
    assert "no access to the users" in vendor["details_refused"]
    assert "Vendor QA (annotator only)" in detailed.err and detailed.err.startswith("annotrain: warning: ")
    roster = tmp_path / "r.csv"
    roster.write_text("name,email\nDana Park,dana@example.com\n", encoding="utf-8")
    prov = cli(*args, "provision", "--roster", roster, "--benchmark", "Benchmark Labels", "--yes", "--json")
    assert prov.code == 0, prov.out + prov.err
    (dana,) = prov.json["annotators"]
    assert dana["status"] == "created"
    rows = ws.projects[dana["project_id"]].rows.values()
    assert {r.assignee for r in rows} == {"dana@example.com"}
    # Dana and Alex finish an image each
    ws.label(dana["project_id"], demo.items[1], boxes=[("Car", {"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.3})],
             stage="Review")
    ws.move(dana["project_id"], demo.items[1], "Complete")
    ws.move(demo.training, demo.items[0], "Complete")
    ev = cli(*args, "evaluate", "--benchmark", "Benchmark Labels", "--all", "--json")
    assert ev.code == 0, ev.err
    assert ev.json["paired_rows"] == 2 and ev.json["annotators"]  # both training projects were read
    status = cli(*args, "status", "--json")
    assert status.code == 0, status.err
    assert ws.projects[forbidden].users == {ws.owner: 1, "vendor.lead@example.com": 0}
    assert "v1.labelrow.put" not in {w.route for w in fake.writes()}


# -- 8. doctor on both backends -----------------------------------------------------------------

def test_doctor_json_on_both_backends_after_the_programme(encord_world, sandbox_world, tmp_path):
    reports = {}
    for world in (encord_world, sandbox_world):
        where = tmp_path / world.name
        where.mkdir()
        prog = set_up_benchmark(world, where)
        assert provision(world, prog, where).code == 0
        ran = cli(*world.args(), "doctor", "--benchmark", BENCHMARK, "--json")
        doc = ran.json
        assert [c["id"] for c in doc["checks"]] == CHECKS, world.name
        crashed = [c for c in doc["checks"] if "this check could not run" in c["message"]]
        assert not crashed, crashed
        reports[world.name] = (ran.code, doc)
    for name, (code, doc) in reports.items():
        statuses = {c["id"]: c["status"] for c in doc["checks"]}
        assert statuses["connection"] == statuses["benchmark"] == statuses["annotators"] == "ok", (name, doc)
        assert statuses["folders"] == "ok" and statuses["jobs"] == "ok", (name, doc)
        assert code == (0 if doc["ok"] else 1)
    assert reports["encord"][1]["backend"] == f"encord {encord_world.fake.url}"
    assert {c["id"]: c["status"] for c in reports["encord"][1]["checks"]} == \
        {c["id"]: c["status"] for c in reports["sandbox"][1]["checks"]}
