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


def test_programme_switches_and_is_remembered(capsys, tmp_path, demo_cli):
    """A second benchmark (incomplete): --programme names it (the gate answers for it); the one
    named last is the current programme of the next command without the option."""
    code, _, err = run(capsys, "benchmark", "create-dataset", "--folder", "/Training Data/Street Scenes",
                       "--title", "Second set")
    assert code == 0, err
    code, _, err = run(capsys, "benchmark", "create", "--title", "Bench 2", "--dataset", "Second set",
                       "--ontology", "Street Scene Objects")
    assert code == 0, err
    r = write_roster(tmp_path / "r.csv")
    code, out, err = run(capsys, "provision", "--roster", r, "--programme", "Bench 2", "--dry-run")
    assert code == 1 and "'Bench 2'" in err and "only 0 of 60" in err
    # now current: the next command without --programme works on Bench 2 too
    code, out, err = run(capsys, "provision", "--roster", r, "--dry-run")
    assert code == 1 and "'Bench 2'" in err
    code, out, err = run(capsys, "progress", "--json")
    assert code == 0, err
    assert json.loads(out)["benchmark"]["title"] == "Bench 2"
    # --benchmark, the old name, switches back
    code, out, err = run(capsys, "progress", "--benchmark", "Benchmark Labels", "--json")
    assert code == 0 and json.loads(out)["benchmark"]["title"] == "Benchmark Labels"
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
