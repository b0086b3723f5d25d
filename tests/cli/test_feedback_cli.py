"""`annotrain feedback`: packs written online (the demo sandbox's programme) and from label files,
the --json document, and the exit codes of the CLI contract."""

from __future__ import annotations

import json
import re

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


# --- the round a pack scores (trial 16, items 4 and 18) ------------------------------------------

CHIDI = "chidi.okafor@example.com"


def _retake_chidi(capsys):
    """The demo evaluated (a snapshot kept), chidi decided 'retake' and given round 2 (no work yet)."""
    for argv in (["evaluate", "--json"], ["decide", CHIDI, "retake"], ["retake", "--yes"]):
        code, _, err = run(capsys, *argv)
        assert code == 0, (argv, err)


def test_a_retaken_trainee_still_gets_the_pack_of_the_round_they_were_scored_on(capsys, demo, tmp_path):
    _retake_chidi(capsys)
    out = tmp_path / "packs"
    code, stdout, err = run(capsys, "feedback", "--annotator", CHIDI, "--out", out)
    assert code == 0, err
    assert f"{CHIDI} (not enough work yet, round 1 of 2)" in stdout
    page = (out / f"{CHIDI}.html").read_text()
    assert '<p class="round">Round 1 of 2</p>' in page and "Result: not enough work yet (round 1)" in page
    assert "Round 2: not scored in this pack (0/60 Complete)" in page
    assert "<svg class=\"drawing\"" in page  # round 1's worst items
    assert "**Round 1 of 2**" in (out / f"{CHIDI}.md").read_text()
    # --all: every trainee, chidi on round 1
    code, stdout, err = run(capsys, "feedback", "--all", "--out", tmp_path / "all", "--json")
    assert code == 0, err
    doc = json.loads(stdout)
    assert {p["annotator"]: (p["round"], p["rounds"]) for p in doc["packs"]} == {
        "alex.kim@example.com": (1, 1), "bea.santos@example.com": (1, 1), CHIDI: (1, 2)}
    assert doc["left_out"] == []
    # --round 2: nobody has finished work there: one line saying why for each, exit 1, nothing written
    code, stdout, err = run(capsys, "feedback", "--all", "--round", "2", "--out", tmp_path / "r2")
    assert code == 1 and stdout == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{CHIDI}: round 2 has no finished work yet (0/60 Complete)" in err
    assert "alex.kim@example.com: has no round 2" in err and not (tmp_path / "r2").exists()


def test_a_second_round_with_work_is_scored_and_says_how_the_first_went(capsys, demo, tmp_path):
    _retake_chidi(capsys)
    code, _, err = run(capsys, "sandbox", "simulate", "--until-done", "--seed", "2", "--quiet")
    assert code == 0, err
    code, stdout, err = run(capsys, "feedback", "--annotator", CHIDI, "--out", tmp_path / "now", "--json")
    assert code == 0, err
    assert [(p["round"], p["rounds"]) for p in json.loads(stdout)["packs"]] == [(2, 2)]
    page = (tmp_path / "now" / f"{CHIDI}.html").read_text()
    assert '<p class="round">Round 2 of 2</p>' in page
    # round 1's last evaluation, from the programme's history (the evaluate before the retake)
    assert re.search(r"<li>Round 1: F1 0\.\d{3}, not enough work yet \(evaluated \d{4}-\d\d-\d\d \d\d:\d\d\)</li>", page)
    # --round 1 still writes the pack of the first round
    code, stdout, err = run(capsys, "feedback", "--annotator", CHIDI, "--round", "1", "--out", tmp_path / "r1")
    assert code == 0, err
    assert "round 1 of 2" in stdout and '<p class="round">Round 1 of 2</p>' in (
        tmp_path / "r1" / f"{CHIDI}.html").read_text()


def test_all_says_on_stderr_who_was_left_out_and_why(capsys, demo, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nDan New,dan.new@example.com\n", encoding="utf-8")
    code, _, err = run(capsys, "provision", "--roster", roster, "--yes")
    assert code == 0, err
    code, stdout, err = run(capsys, "feedback", "--all", "--out", tmp_path / "packs")
    assert code == 0, err
    assert "Wrote 3 feedback pack(s)" in stdout and "dan.new" not in stdout
    assert "annotrain: no pack: dan.new@example.com: no finished work in any round (round 1: 0/60 Complete)" in err
    assert not list((tmp_path / "packs").glob("dan*"))
    # asked for by name alone: nothing to write, exit 1, the reason
    code, _, err = run(capsys, "feedback", "--annotator", "dan.new@example.com", "--out", tmp_path / "dan")
    assert code == 1 and "no finished work in any round" in err and not (tmp_path / "dan").exists()


@pytest.mark.parametrize("extra, message", [(["--round", "1"], "--round"), (["--audit"], "--audit")])
def test_round_and_audit_are_online_only(capsys, files, tmp_path, extra, message):
    bm, trs = files
    code, out, err = run(capsys, "feedback", "--all", "--out", tmp_path / "o", "--benchmark-labels", bm,
                         "--training-labels", *trs, *extra)
    assert code == 2 and out == "" and message in err and not (tmp_path / "o").exists()


# --- suspect gold under review (trial 16, item 6) ------------------------------------------------

ALEX = "alex.kim@example.com"


@pytest.fixture
def planted(capsys):
    """The demo's trainees redrawn as its gold, then three gold errors planted (as the audit's test
    does: a box dropped, one moved, one given another class) and one real error of alex's (a box of
    another item left out). Yields (the planted data hashes, alex's real error's data hash)."""
    from annotrain_tui.core.backends.sandbox.labels import objects_of
    from annotrain_tui.core.config import Paths
    from annotrain_tui.core.workspace import open_workspace, resolve_settings

    code, _, err = run(capsys, "sandbox", "init", "--demo")
    assert code == 0, err
    ws = open_workspace(*resolve_settings(Paths.default()))
    try:
        prog = ws.programme()
        sandbox = ws.sandbox
        hashes = sorted(i.data_hash for i in ws.backend.list_label_rows(prog.id, done_only=True))
        gold = {r["data_hash"]: objects_of(r) for r in sandbox.get_label_rows(prog.id, hashes)}
        boxes = [dh for dh in hashes if any(o.get("shape") == "bounding_box" for o in gold[dh])]
        mine = boxes[3]
        for email, trainee in prog.trainees.items():
            project = trainee.current.project.id
            for dh, objs in gold.items():
                drawn = [{**o, "createdBy": email} for o in objs]
                if email == ALEX and dh == mine:
                    drawn = [o for o in drawn if o.get("shape") != "bounding_box"]
                sandbox.save_labels(project, dh, drawn, stage=sandbox.final_stage(project))
        names = sorted({(o["name"], o["featureHash"], o.get("color")) for objs in gold.values() for o in objs
                        if o.get("shape") == "bounding_box"}, key=str)
        for kind, dh in zip(("missing", "misplaced", "class"), boxes):
            objs = [dict(o) for o in gold[dh]]
            at = next(i for i, o in enumerate(objs) if o.get("shape") == "bounding_box")
            if kind == "missing":
                del objs[at]
            elif kind == "misplaced":
                objs[at]["boundingBox"] = {"x": 0.97, "y": 0.97, "w": 0.02, "h": 0.02}
            else:
                name, feature, color = next(n for n in names if n[1] != objs[at]["featureHash"])
                objs[at].update(name=name, featureHash=feature, value=name.lower(), color=color)
            sandbox.save_labels(prog.id, dh, objs, stage=sandbox.final_stage(prog.id))
    finally:
        ws.close()
    return boxes[:3], mine


def _worst(page: str) -> list[str]:
    return re.findall(r"<code>([^<]+)</code>", page)


def test_audit_marks_suspect_gold_and_leaves_it_out_of_the_ranking(capsys, planted, tmp_path):
    from annotrain_tui.core.feedback import UNDER_REVIEW

    (missing, misplaced, swapped), mine = planted
    code, _, err = run(capsys, "feedback", "--annotator", ALEX, "--out", tmp_path / "plain")
    assert code == 0, err
    page = (tmp_path / "plain" / f"{ALEX}.html").read_text()
    # the gold's errors blamed on alex (a class swap is a confusion, not a worst item's miss or extra)
    assert set(_worst(page)) == {missing, misplaced, mine} and UNDER_REVIEW not in page

    code, stdout, err = run(capsys, "feedback", "--annotator", ALEX, "--out", tmp_path / "audited", "--audit",
                            "--json")
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["audited"] is True and sorted(doc["gold_under_review"]) == sorted([missing, misplaced, swapped])
    page = (tmp_path / "audited" / f"{ALEX}.html").read_text()
    assert _worst(page)[0] == mine and set(_worst(page)[1:]) == {missing, misplaced}  # ranked first; suspects last
    assert page.count(UNDER_REVIEW) == 2 and "<b>1. " in page.split(f"<code>{mine}")[0].rsplit("<figure>", 1)[1]
    assert "1 with something to fix, 2 more where the gold may be wrong (under review)" in page
    assert UNDER_REVIEW in (tmp_path / "audited" / f"{ALEX}.md").read_text()

    # an excluded item is not scored at all
    code, _, err = run(capsys, "audit", "exclude", missing, "--reason", "gold lacks a box")
    assert code == 0, err
    code, stdout, err = run(capsys, "feedback", "--annotator", ALEX, "--out", tmp_path / "excluded", "--audit")
    assert code == 0, err
    assert "Gold audit: 2 item(s) with suspect gold under review" in stdout
    page = (tmp_path / "excluded" / f"{ALEX}.html").read_text()
    assert missing not in page and page.count(UNDER_REVIEW) == 1 and _worst(page) == [mine, misplaced]
    # one put back after a review (the gold kept) is no longer marked: ranked as any other
    for argv in (["audit", "exclude", misplaced, "--reason", "check it"],
                 ["audit", "include", misplaced, "--reason", "the gold is right"]):
        code, _, err = run(capsys, *argv)
        assert code == 0, (argv, err)
    code, stdout, err = run(capsys, "feedback", "--annotator", ALEX, "--out", tmp_path / "reviewed", "--audit")
    assert code == 0, err
    page = (tmp_path / "reviewed" / f"{ALEX}.html").read_text()
    assert UNDER_REVIEW not in page and set(_worst(page)) == {mine, misplaced}
    assert "Gold audit: 1 item(s) with suspect gold under review" in stdout  # the class swap, not a worst item
