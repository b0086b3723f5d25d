"""`annotrain evaluate` names the real cause when nothing could be compared (trial item 16)."""

from __future__ import annotations

from annotrain_tui.cli import main
from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.demo import seed_demo


def test_a_benchmark_without_complete_rows_is_blamed_not_the_annotators(tmp_path, capsys):
    db = tmp_path / "ws.db"
    sb = SandboxBackend(db)
    seed_demo(sb, deterministic_ids=True)
    bench = next(p for p in sb.list_projects() if p.title == "Benchmark Labels")
    trainee = next(p for p in sb.list_projects() if p.id != bench.id and "Training" in p.title)
    fresh = sb.create_project("Cohort 3 Benchmark", description="", dataset_ids=bench.dataset_ids,
                              ontology_id=bench.ontology_id)
    assert not sb.list_label_rows(fresh.id, done_only=True)  # 0 Complete rows
    sb.close()
    code = main(["--sandbox", str(db), "evaluate", "--benchmark", "Cohort 3 Benchmark", "--training", trainee.id])
    err = capsys.readouterr().err
    assert code != 0
    assert "the benchmark 'Cohort 3 Benchmark' has no Complete label rows: complete its tasks first" in err
    assert "annotators must move their tasks" not in err
