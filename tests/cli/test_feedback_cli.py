"""`annotrain feedback`: packs written online (the demo sandbox's programme) and from label files,
the --json document, and the exit codes of the CLI contract."""

from __future__ import annotations

import json

import pytest

from annotrain_tui.cli import main
from tests.synth import make_programme

DEMO_TRAINEES = {"alex.kim@example.com", "bea.santos@example.com", "chidi.okafor@example.com"}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def demo(capsys):
    assert main(["sandbox", "init", "--demo"]) == 0
    capsys.readouterr()


@pytest.fixture(scope="module")
def programme():
    return make_programme(seed=7, n_items=8, annotators=("zoe@example.com", "adam@example.com"),
                          shapes=("bounding_box", "polygon"))


@pytest.fixture
def files(tmp_path, programme):
    bm = tmp_path / "BM.json"
    bm.write_text(json.dumps(programme.benchmark))
    trs = []
    for i, rows in enumerate(programme.training.values()):
        p = tmp_path / f"TR{i}.json"
        p.write_text(json.dumps(rows))
        trs.append(p)
    return bm, trs


def _self_contained(text: str) -> bool:
    lowered = text.lower()
    return not any(b in lowered for b in ("<link", "<script", "src=", "href=", "http://", "https://"))


def test_online_all_writes_one_pack_per_trainee_of_the_current_programme(capsys, demo, tmp_path):
    out = tmp_path / "packs"
    code, stdout, err = run(capsys, "feedback", "--all", "--out", out, "--json")
    assert code == 0, err
    doc = json.loads(stdout)
    assert {p["annotator"] for p in doc["packs"]} == DEMO_TRAINEES and doc["title"] == "Benchmark Labels"
    assert sorted(doc["files"]) == sorted(str(out / f"{a}.{ext}") for a in DEMO_TRAINEES for ext in ("html", "md"))
    for pack in doc["packs"]:
        page = (out / f"{pack['annotator']}.html").read_text()
        assert f"Feedback for {pack['annotator']}" in page and _self_contained(page)
        assert f"Result: {pack['status']}" in page
        assert "<svg class=\"drawing\"" in page  # the demo's trainees all have something to fix
        assert (out / f"{pack['annotator']}.md").read_text().startswith(f"# Feedback for {pack['annotator']}")


def test_online_one_annotator_and_the_exit_codes(capsys, demo, tmp_path):
    out = tmp_path / "packs"
    code, stdout, _ = run(capsys, "feedback", "--annotator", "Bea.Santos@example.com", "--out", out)
    assert code == 0 and "bea.santos@example.com" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["bea.santos@example.com.html", "bea.santos@example.com.md"]
    code, _, err = run(capsys, "feedback", "--annotator", "bea.santos@example.com", "--out", out)
    assert code == 2 and "already exists" in err and "--force" in err and "Traceback" not in err
    code, _, _ = run(capsys, "feedback", "--annotator", "bea.santos@example.com", "--out", out, "--force")
    assert code == 0
    code, _, err = run(capsys, "feedback", "--annotator", "nobody@example.com", "--out", tmp_path / "none")
    assert code == 1 and "nobody@example.com" in err and "alex.kim@example.com" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "none").exists()
    code, _, err = run(capsys, "feedback", "--all", "--out", out, "--programme", "No Such Benchmark")
    assert code != 0 and "Traceback" not in err


def test_offline_from_label_files(capsys, files, tmp_path):
    bm, trs = files
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "feedback", "--annotator", "zoe@example.com", "--out", out,
                            "--benchmark-labels", bm, "--training-labels", *trs, "--top", "2", "--json")
    assert code == 0, err
    doc = json.loads(stdout)
    assert [p["annotator"] for p in doc["packs"]] == ["zoe@example.com"]
    assert doc["benchmark_labels"] == str(bm)
    page = (out / "zoe@example.com.html").read_text()
    assert page.count("<svg class=\"drawing\"") <= 2 and _self_contained(page)
    code, stdout, _ = run(capsys, "feedback", "--all", "--out", out, "--force",
                          "--benchmark-labels", bm, "--training-labels", *trs)
    assert code == 0 and "Wrote 2 feedback pack(s)" in stdout


def test_offline_never_writes_over_an_input(capsys, files, tmp_path):
    bm, trs = files
    target = tmp_path / "zoe@example.com.md"
    code, _, _ = run(capsys, "feedback", "--annotator", "zoe@example.com", "--out", tmp_path, "--force",
                     "--benchmark-labels", bm, "--training-labels", *trs, target)
    # the extra training file does not exist: refused before any work, nothing written
    assert code == 2 and not target.exists()
    target.write_text(json.dumps([]))
    code, _, err = run(capsys, "feedback", "--annotator", "zoe@example.com", "--out", tmp_path, "--force",
                       "--benchmark-labels", bm, "--training-labels", *trs, target)
    assert code == 2 and "input" in err and target.read_text() == "[]"


@pytest.mark.parametrize("argv, message", [
    (["feedback", "--all", "--out", "d", "--training-labels", "t.json"], "--benchmark-labels"),
    (["feedback", "--all", "--out", "d", "--benchmark-labels", "b.json"], "--training-labels"),
    (["feedback", "--all", "--out", "d", "--benchmark-labels", "b.json", "--training-labels", "t.json",
      "--programme", "P"], "--programme"),
    (["feedback", "--all", "--out", "d", "--include-incomplete"], "--include-incomplete"),
])
def test_usage_errors_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (["feedback", "--out", "d"], "--annotator"),
    (["feedback", "--all", "--annotator", "a@x.org", "--out", "d"], "not allowed with"),
    (["feedback", "--all"], "--out"),
    (["feedback", "--all", "--out", "d", "--top", "-1"], "--top"),
])
def test_argparse_level_usage_errors_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_an_out_that_is_a_file_exits_2(capsys, files, tmp_path):
    bm, trs = files
    (tmp_path / "f").write_text("x")
    code, _, err = run(capsys, "feedback", "--all", "--out", tmp_path / "f", "--benchmark-labels", bm,
                       "--training-labels", *trs)
    assert code == 2 and "not a directory" in err


def test_nothing_paired_exits_1(capsys, files, tmp_path, programme):
    bm, _trs = files
    other = tmp_path / "other.json"
    rows = [dict(r, data_hash=f"x{i}") for i, r in enumerate(next(iter(programme.training.values())))]
    other.write_text(json.dumps(rows))
    code, _, err = run(capsys, "feedback", "--all", "--out", tmp_path / "o", "--benchmark-labels", bm,
                       "--training-labels", other)
    assert code == 1 and "data unit" in err and not (tmp_path / "o").exists()


def test_online_packs_leave_out_the_programmes_gold_exclusions(capsys, demo, tmp_path):
    import re

    out = tmp_path / "before"
    assert run(capsys, "feedback", "--annotator", "bea.santos@example.com", "--out", out)[0] == 0
    worst = re.findall(r"<code>([^<]+)</code>", (out / "bea.santos@example.com.html").read_text())
    assert worst
    code, _, err = run(capsys, "audit", "exclude", worst[0], "--reason", "suspect gold")
    assert code == 0, err
    after = tmp_path / "after"
    assert run(capsys, "feedback", "--annotator", "bea.santos@example.com", "--out", after)[0] == 0
    page = (after / "bea.santos@example.com.html").read_text()
    assert worst[0] not in page and re.findall(r"<code>([^<]+)</code>", page)[0] == worst[1]
