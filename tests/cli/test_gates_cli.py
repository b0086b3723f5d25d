"""Issue 16, gates on the command line: `provision` (its plan, --dry-run and apply) refuses a
benchmark that is not Complete with one line naming --force; --force goes ahead. And
--programme / --benchmark on provision, progress and doctor: optional, the current programme by
default, switchable."""

from __future__ import annotations

import json

import pytest

from annotrain_tui.cli import main
from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.config import Paths
from annotrain_tui.core.provisioning import SEED_GATE


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_roster(path, n=2):
    path.write_text("name,email\n" + "".join(f"Person {i},p{i}@example.com\n" for i in range(n)), encoding="utf-8")
    return path


@pytest.fixture
def demo_cli(capsys):
    code, _, err = run(capsys, "sandbox", "init", "--demo")
    assert code == 0, err
    return Paths.default().default_sandbox


def reopen(sandbox_path, bench_title: str, keep: int) -> tuple[int, int]:
    backend = SandboxBackend(sandbox_path)
    try:
        bench = next(p for p in backend.list_projects() if p.title == bench_title)
        rows = sorted(backend.list_label_rows(bench.id), key=lambda r: r.data_hash)
        for r in rows[keep:]:
            backend.save_labels(bench.id, r.data_hash, [], stage="Annotate")
        return keep, len(rows)
    finally:
        backend.close()


def training_count(sandbox_path) -> int:
    backend = SandboxBackend(sandbox_path)
    try:
        return sum(1 for p in backend.list_projects() if "annotrain:training" in (p.description or ""))
    finally:
        backend.close()


def assert_refusal(code, out, err, complete, total):
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert f"only {complete} of {total} benchmark tasks are Complete" in lines[0]
    assert SEED_GATE in lines[0] and "--force" in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("mode", [["--dry-run"], ["--dry-run", "--json"], ["--yes"], ["--yes", "--json"]])
def test_provision_refuses_an_incomplete_benchmark(capsys, tmp_path, demo_cli, mode):
    complete, total = reopen(demo_cli, "Benchmark Labels", keep=12)
    before = training_count(demo_cli)
    r = write_roster(tmp_path / "r.csv")
    code, out, err = run(capsys, "provision", "--roster", r, "--benchmark", "Benchmark Labels", *mode)
    assert_refusal(code, out, err, complete, total)
    assert "will create" not in out  # no plan shown
    assert training_count(demo_cli) == before


def test_provision_refuses_a_benchmark_without_tasks(capsys, tmp_path, demo_cli):
    backend = SandboxBackend(demo_cli)
    try:
        ontology = next(o for o in backend.list_ontologies() if o.title == "Street Scene Objects")
        dataset = backend.create_dataset("Empty set")
        backend.create_project("Empty benchmark", description="", dataset_ids=[dataset.id], ontology_id=ontology.id)
    finally:
        backend.close()
    r = write_roster(tmp_path / "r.csv")
    code, _, err = run(capsys, "provision", "--roster", r, "--benchmark", "Empty benchmark", "--dry-run")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "has no tasks" in err and "--force" in err and SEED_GATE in err


def test_force_goes_ahead_and_the_plan_says_it_was_forced(capsys, tmp_path, demo_cli):
    complete, total = reopen(demo_cli, "Benchmark Labels", keep=12)
    before = training_count(demo_cli)
    r = write_roster(tmp_path / "r.csv")
    code, out, err = run(capsys, "provision", "--roster", r, "--benchmark", "Benchmark Labels", "--dry-run",
                         "--force")
    assert code == 0, err
    assert "will create" in out and f"note: Forced: benchmark 'Benchmark Labels' is not Complete: only {complete}" in out
    code, out, err = run(capsys, "provision", "--roster", r, "--benchmark", "Benchmark Labels", "--yes", "--force",
                         "--json")
    assert code == 0, err
    assert [a["status"] for a in json.loads(out)["annotators"]] == ["created", "created"]
    assert training_count(demo_cli) == before + 2


def test_provision_defaults_to_the_current_programme(capsys, tmp_path, demo_cli):
    r = write_roster(tmp_path / "r.csv")
    code, out, err = run(capsys, "provision", "--roster", r, "--dry-run", "--json")
    assert code == 0, err
    assert [a["status"] for a in json.loads(out)["annotators"]] == ["create", "create"]
    code, out, _ = run(capsys, "provision", "--roster", r, "--dry-run")
    assert out.startswith("Benchmark 'Benchmark Labels'")


def test_a_new_benchmark_is_current_and_naming_another_does_not_switch(capsys, tmp_path, demo_cli):
    """A second benchmark (incomplete) becomes the current programme once created; --programme (or
    --benchmark, the old name) works on another for one command without switching (trial 16 #3);
    'programmes use' switches."""
    code, _, err = run(capsys, "benchmark", "create-dataset", "--folder", "/Training Data/Street Scenes",
                       "--title", "Second set")
    assert code == 0, err
    code, _, err = run(capsys, "benchmark", "create", "--title", "Bench 2", "--dataset", "Second set",
                       "--ontology", "Street Scene Objects")
    assert code == 0, err
    r = write_roster(tmp_path / "r.csv")
    code, out, err = run(capsys, "provision", "--roster", r, "--dry-run")
    assert code == 1 and "'Bench 2'" in err and "only 0 of 60" in err
    code, out, err = run(capsys, "progress", "--benchmark", "Benchmark Labels", "--json")
    assert code == 0 and json.loads(out)["benchmark"]["title"] == "Benchmark Labels"
    code, out, err = run(capsys, "progress", "--json")
    assert code == 0 and json.loads(out)["benchmark"]["title"] == "Bench 2"  # not switched by naming
    assert run(capsys, "programmes", "use", "Benchmark Labels")[0] == 0
    code, out, err = run(capsys, "progress", "--json")
    assert json.loads(out)["benchmark"]["title"] == "Benchmark Labels"


def test_progress_without_programme_on_the_demo(capsys, demo_cli):
    code, out, err = run(capsys, "progress")
    assert code == 0, err
    assert out.startswith("Benchmark 'Benchmark Labels'")


def test_no_programme_yet_is_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "sandbox", "init")
    assert code == 0, err
    r = write_roster(tmp_path / "r.csv")
    for argv in (["provision", "--roster", r, "--dry-run"], ["progress"]):
        code, _, err = run(capsys, *argv)
        assert code == 1 and len(err.strip().splitlines()) == 1 and "no programme yet" in err


def test_help_says_the_default(capsys):
    for cmd in ("provision", "progress", "doctor"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        out, _ = capsys.readouterr()
        assert "--programme BENCHMARK, --benchmark BENCHMARK" in out, cmd
        assert "default" in out.split("--programme BENCHMARK, --benchmark BENCHMARK", 1)[1][:300]


# -- evaluate --check, and evaluate on the current programme --------------------------------------

EMAIL = "zoe@example.com"


def label_files(tmp_path, *, items: int):
    """A benchmark of ``items`` images with two boxes each, and a trainee's perfect copy."""
    from tests.synth import DEFAULT_CLASSES, box, make_label_row, make_object

    car, person = DEFAULT_CLASSES[0], DEFAULT_CLASSES[1]
    bench, train = [], []
    for i in range(items):
        objs = [make_object(car, box(0.1, 0.1, 0.2, 0.2), object_hash=f"c{i}", created_by="gold@x"),
                make_object(person, box(0.5, 0.5, 0.2, 0.3), object_hash=f"p{i}", created_by="gold@x")]
        mine = [make_object(car, box(0.1, 0.1, 0.2, 0.2), object_hash=f"tc{i}", created_by=EMAIL),
                make_object(person, box(0.5, 0.5, 0.2, 0.3), object_hash=f"tp{i}", created_by=EMAIL)]
        for rows, objects, lh in ((bench, objs, f"B{i}"), (train, mine, f"T{i}")):
            row = make_label_row(data_hash=f"d{i}", data_title=f"img{i}.jpg", label_hash=lh, objects=objects)
            row["annotation_task_status"] = "COMPLETED"
            rows.append(row)
    bm, tr = tmp_path / f"bm{items}.json", tmp_path / f"tr{items}.json"
    bm.write_text(json.dumps(bench))
    tr.write_text(json.dumps(train))
    return bm, tr


def test_check_offline_exit_0_when_every_annotator_passed(capsys, tmp_path):
    bm, tr = label_files(tmp_path, items=30)  # 60 perfect boxes: the interval clears the mark
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr, "--check")
    assert code == 0, err
    assert "annotrain: check:" not in err and "Check: all 1 annotator(s) passed" in out
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr, "--check", "--json")
    assert code == 0 and json.loads(out)["check"] == {"ok": True, "failing": [], "graduated": []}
    # without --check, no check key: the document is as before
    code, out, _ = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr, "--json")
    assert code == 0 and "check" not in json.loads(out)


def test_check_offline_exit_1_on_an_uncertain_annotator_and_the_outputs_still_written(capsys, tmp_path):
    bm, tr = label_files(tmp_path, items=2)  # 4 perfect boxes: F1 1.0, its interval 0.51–1.00
    summary = tmp_path / "summary.json"
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr, "--check",
                         "--summary-json", summary)
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("annotrain: check:")]
    assert lines == [f"annotrain: check: {EMAIL} uncertain: F1 1.000, 95% interval 0.51–1.00 straddles the mark "
                     "0.8: more items would tell"]
    assert "Traceback" not in err and summary.is_file() and EMAIL in json.loads(summary.read_text())["annotators"]
    assert "Check: 1 of 1 annotator(s) not passed" in out and "STATUS" in out  # the table is printed too
    code, out, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr, "--check", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["check"]["ok"] is False
    assert doc["check"]["failing"] == [{"annotator": EMAIL, "status": "uncertain",
                                        "reason": doc["annotators"][EMAIL]["reason"]}]
    assert doc["annotators"][EMAIL]["f1_interval"][0] == pytest.approx(0.5101, abs=1e-4)
    # uncertainty off: the point decides, the check passes
    code, _, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr, "--check",
                       "--pass-confidence", "0")
    assert code == 0, err
    code, _, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr, "--pass-confidence", "1")
    assert code == 2 and "--pass-confidence must be in [0, 1)" in err


def test_check_online_names_each_annotator_not_passed(capsys, demo_cli):
    code, out, err = run(capsys, "evaluate", "--check", "--json")  # the current programme, every trainee
    assert code == 1
    doc = json.loads(out)
    failing = {f["annotator"]: f["status"] for f in doc["check"]["failing"]}
    statuses = {name: a["status"] for name, a in doc["annotators"].items()}
    assert failing == {name: s for name, s in statuses.items() if s != "passed"} and failing
    assert "passed" in statuses.values()  # the demo's best trainee passed and is not listed
    for name, status in failing.items():
        assert f"annotrain: check: {name} {status}" in err
    # only the trainee who passed: exit 0
    passed = next(name for name, s in statuses.items() if s == "passed")
    project = next(a["title"] for a in json.loads(run(capsys, "progress", "--json")[1])["annotators"]
                   if a["email"] == passed)
    code, out, err = run(capsys, "evaluate", "--training", project, "--check")
    assert code == 0, err
    assert "Check: all 1 annotator(s) passed" in out


def test_evaluate_online_defaults_to_all_of_the_current_programme(capsys, demo_cli):
    code, out, err = run(capsys, "evaluate", "--json")
    assert code == 0, err
    default = json.loads(out)
    code, out, err = run(capsys, "evaluate", "--benchmark", "Benchmark Labels", "--all", "--json")
    assert code == 0, err
    explicit = json.loads(out)
    assert default["annotators"] == explicit["annotators"] and len(default["annotators"]) >= 2
    code, out, err = run(capsys, "evaluate", "--programme", "Benchmark Labels", "--json")
    assert code == 0 and json.loads(out)["annotators"] == explicit["annotators"]


def test_evaluate_on_the_current_programme_and_on_one_named(capsys, demo_cli):
    """A second programme without trainees is current once created: evaluating it says so (exit 1);
    --benchmark evaluates the first for one run, and the current one stays the second."""
    assert run(capsys, "benchmark", "create-dataset", "--folder", "/Training Data/Street Scenes", "--title",
               "Second set")[0] == 0
    assert run(capsys, "benchmark", "create", "--title", "Bench 2", "--dataset", "Second set", "--ontology",
               "Street Scene Objects")[0] == 0
    code, out, err = run(capsys, "evaluate")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and "Bench 2" in err
    code, out, err2 = run(capsys, "evaluate", "--benchmark", "Benchmark Labels", "--json")
    assert code == 0 and json.loads(out)["annotators"], err2
    code, _, err3 = run(capsys, "evaluate")
    assert code == 1 and err3 == err


def test_evaluate_help_names_the_default(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    out, _ = capsys.readouterr()
    assert "--programme BENCHMARK, --benchmark BENCHMARK" in out and "--check" in out
    assert "the current programme" in " ".join(out.split())


def test_doctor_checks_every_programme_or_the_one_named(capsys, demo_cli):
    assert run(capsys, "benchmark", "create-dataset", "--folder", "/Training Data/Street Scenes", "--title",
               "Second set")[0] == 0
    assert run(capsys, "benchmark", "create", "--title", "Bench 2", "--dataset", "Second set", "--ontology",
               "Street Scene Objects")[0] == 0
    code, out, _ = run(capsys, "doctor", "--json")
    benches = [c for c in json.loads(out)["checks"] if c["id"] == "benchmark"]
    assert code == 1 and len(benches) == 2  # a preflight of the workspace: every programme
    for flag, title, want in (("--programme", "Bench 2", 1), ("--benchmark", "Benchmark Labels", 0)):
        code, out, _ = run(capsys, "doctor", flag, title, "--json")
        benches = [c for c in json.loads(out)["checks"] if c["id"] == "benchmark"]
        assert code == want and len(benches) == 1 and title in benches[0]["message"] + json.dumps(benches[0]["detail"])
