"""`annotrain audit`: the gold audit on exported files and on a sandbox programme, and `audit
exclude|include` recording an exclusion that the scores then leave out (exit codes, one JSON
document, one line on stderr, untrusted names shown safely)."""

from __future__ import annotations

import json

import pytest

from annotrain_tui.cli.exit_codes import FAILURE, OK, USAGE
from annotrain_tui.core.backends.sandbox.labels import objects_of
from annotrain_tui.core.config import Paths
from annotrain_tui.core.decisions import score_programme
from annotrain_tui.core.workspace import open_workspace, resolve_settings
from tests.hardening.helpers import run
from tests.synth import DEFAULT_CLASSES, SynthClass, box, make_label_row, make_object

CAR, PERSON = DEFAULT_CLASSES[0], DEFAULT_CLASSES[1]
TRAINEES = [f"t{i}@example.com" for i in range(4)]
TRUTH = [(CAR, 0.05, 0.05, 0.2, 0.2), (PERSON, 0.4, 0.05, 0.2, 0.2), (CAR, 0.05, 0.5, 0.2, 0.2)]


def _rows(who: str, k: int, *, car: SynthClass = CAR, planted: bool = False) -> list[dict]:
    rows = []
    for i in range(4):
        objs = [(car if c is CAR else c, x + 0.002 * k, y, w, h) for c, x, y, w, h in TRUTH]
        if planted and i == 0:
            del objs[2]
        elif planted and i == 1:
            objs[2] = (objs[2][0], 0.7, 0.7, 0.2, 0.2)
        elif planted and i == 2:
            objs[0] = (PERSON, *objs[0][1:])
        frame = [make_object(c, box(x, y, w, h), object_hash=f"{who[:2]}-{i}-{j}", created_by=who)
                 for j, (c, x, y, w, h) in enumerate(objs)]
        rows.append(make_label_row(data_hash=f"item-{i}", data_title=f"img{i}.jpg", label_hash=f"{who}-{i}",
                                   objects=frame))
    return rows


def _files(tmp_path, *, planted: bool = True, car: SynthClass = CAR) -> tuple[str, list[str]]:
    bm = tmp_path / "bm.json"
    bm.write_text(json.dumps(_rows("gold@example.com", 0, car=car, planted=planted)))
    paths = []
    for k, who in enumerate(TRAINEES):
        p = tmp_path / f"tr{k}.json"
        p.write_text(json.dumps(_rows(who, k, car=car)))
        paths.append(str(p))
    return str(bm), paths


# -- on exported files -----------------------------------------------------------------------------

def test_audit_on_files_lists_the_planted_suspects_and_the_least_agreed_items(tmp_path, capsys):
    bm, training = _files(tmp_path)
    code, out, err = run(capsys, "audit", "--benchmark-labels", bm, "--training-labels", *training, "--json")
    assert code == OK, err
    doc = json.loads(out)
    assert doc["programme"] is None and doc["benchmark"] == bm and doc["trainees"] == training
    assert [(s["kind"], s["data_hash"], s["benchmark_object_hash"], s["trainees"]["agree"], s["trainees"]["of"])
            for s in doc["suspects"]] == [("missing", "item-0", None, 4, 4), ("misplaced", "item-1", "go-1-2", 4, 4),
                                          ("class", "item-2", "go-2-0", 4, 4)]
    assert len(doc["items"]) == 4 and all(i["pairs"] == 6 for i in doc["items"])

    code, out, err = run(capsys, "audit", "run", "--benchmark-labels", bm, "--training-labels", *training)
    assert code == OK and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("Gold audit of ") and "4 trainee(s); 4 of 4 benchmark item(s)" in lines[0]
    header = next(i for i, line in enumerate(lines) if line.startswith("KIND"))
    rows = [line.split() for line in lines[header + 2:header + 5]]
    assert [(r[0], r[1], r[2]) for r in rows] == [("missing", "img0.jpg", "item-0"), ("misplaced", "img1.jpg", "item-1"),
                                                  ("class", "img2.jpg", "item-2")]
    assert "Person → Car" in lines[header + 4] and lines[header + 4].rstrip().endswith("4/4")
    assert any("least" in line for line in lines)
    assert "audit exclude" not in out  # files have no record to exclude in


def test_audit_on_a_clean_gold_finds_nothing_and_still_exits_0(tmp_path, capsys):
    bm, training = _files(tmp_path, planted=False)
    code, out, _ = run(capsys, "audit", "--benchmark-labels", bm, "--training-labels", *training)
    assert code == OK and "No suspect gold" in out
    code, out, _ = run(capsys, "audit", "--benchmark-labels", bm, "--training-labels", *training, "--json")
    assert code == OK and json.loads(out)["suspects"] == []


def test_audit_usage_and_unreadable_files_exit_2_and_nothing_to_audit_exits_1(tmp_path, capsys):
    bm, training = _files(tmp_path)
    for argv, says in [
        (["--benchmark-labels", bm, "--training-labels", training[0]], "two --training-labels files or more"),
        (["--benchmark-labels", bm], "needs --training-labels"),
        (["--training-labels", *training], "goes with --benchmark-labels"),
        (["--benchmark-labels", bm, "--training-labels", bm, training[0]], "as the benchmark and as a training file"),
        (["--benchmark-labels", bm, "--training-labels", *training, "--programme", "X"], "not both"),
        (["--benchmark-labels", str(tmp_path / "nope.json"), "--training-labels", *training], "nope.json"),
        (["--benchmark-labels", bm, "--training-labels", *training, "--iou-threshold", "0"], "(0, 1]"),
    ]:
        code, out, err = run(capsys, "audit", *argv)
        assert code == USAGE, (argv, err)
        assert out == "" and len(err.strip().splitlines()) == 1 and says in err, (argv, err)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, out, err = run(capsys, "audit", "--benchmark-labels", bad, "--training-labels", *training)
    assert code == USAGE and out == "" and len(err.strip().splitlines()) == 1
    # files that share no item: nothing to audit, a domain failure
    other = tmp_path / "other.json"
    other.write_text(json.dumps([make_label_row(data_hash="elsewhere", data_title="x.jpg", label_hash="l")]))
    code, out, err = run(capsys, "audit", "--benchmark-labels", str(other), "--training-labels", *training)
    assert code == FAILURE and out == "" and "nothing to audit" in err


def test_hostile_class_names_are_shown_safely_in_the_table_and_escaped_in_json(tmp_path, capsys):
    evil = SynthClass("Car\x1b]8;;http://x\x07\u202eRED", "evilFh01", "bounding_box")
    bm, training = _files(tmp_path, car=evil)
    code, out, err = run(capsys, "audit", "--benchmark-labels", bm, "--training-labels", *training)
    assert code == OK, err
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "missing" in out and "RED" in out
    code, out, _ = run(capsys, "audit", "--benchmark-labels", bm, "--training-labels", *training, "--json")
    assert "\u202e" not in out and "\x1b" not in out
    assert json.loads(out)["suspects"][0]["trainees"]["class"] == evil.name  # the same string to a reader


# -- on a sandbox programme -------------------------------------------------------------------------

@pytest.fixture
def ws(capsys):
    """The demo programme, its trainees redrawn as the gold (one each way off), then three gold errors
    planted: an object dropped, one moved away, one given another class (all bounding boxes)."""
    code, _, err = run(capsys, "sandbox", "init", "--demo")
    assert code == OK, err
    workspace = open_workspace(*resolve_settings(Paths.default()))
    prog = workspace.programme()
    sandbox = workspace.sandbox
    hashes = [i.data_hash for i in workspace.backend.list_label_rows(prog.id, done_only=True)]
    gold = {r["data_hash"]: objects_of(r) for r in sandbox.get_label_rows(prog.id, hashes)}
    for email, trainee in prog.trainees.items():
        project = trainee.current.project.id
        final = sandbox.final_stage(project)
        for dh, objs in gold.items():
            sandbox.save_labels(project, dh, [{**o, "createdBy": email} for o in objs], stage=final)
    boxes = [dh for dh, objs in gold.items() if sum(o.get("shape") == "bounding_box" for o in objs) >= 1]
    names = {(o["name"], o["featureHash"], o.get("color")) for objs in gold.values() for o in objs
             if o.get("shape") == "bounding_box"}
    planted: dict[str, tuple[str, str | None]] = {}
    for kind, dh in zip(("missing", "misplaced", "class"), boxes):
        objs = [dict(o) for o in gold[dh]]
        at = next(i for i, o in enumerate(objs) if o.get("shape") == "bounding_box")
        target = objs[at]
        if kind == "missing":
            objs = [o for o in objs if o["objectHash"] != target["objectHash"]]
            planted[dh] = (kind, None)
        elif kind == "misplaced":
            target["boundingBox"] = {"x": 0.97, "y": 0.97, "w": 0.02, "h": 0.02}
            planted[dh] = (kind, target["objectHash"])
        else:
            name, feature, color = next(n for n in sorted(names, key=str) if n[1] != target["featureHash"])
            target.update(name=name, featureHash=feature, value=name.lower(), color=color)
            planted[dh] = (kind, target["objectHash"])
        sandbox.save_labels(prog.id, dh, objs, stage=sandbox.final_stage(prog.id))
    workspace.planted = planted  # type: ignore[attr-defined]
    yield workspace
    workspace.close()


def test_audit_on_a_programme_finds_exactly_the_planted_errors(ws, capsys):
    code, out, err = run(capsys, "audit", "--json")
    assert code == OK, err
    doc = json.loads(out)
    prog = ws.programme()
    assert doc["programme"] == prog.id and doc["trainees"] == sorted(prog.trainees)
    found = {s["data_hash"]: (s["kind"], s["benchmark_object_hash"]) for s in doc["suspects"]}
    assert found == ws.planted
    assert all(s["trainees"]["agree"] == s["trainees"]["of"] == len(prog.trainees) for s in doc["suspects"])
    code, out, _ = run(capsys, "audit", "--programme", prog.title)
    assert code == OK and "annotrain audit exclude DATA_HASH" in out


def test_exclude_rescores_survives_a_reload_and_include_undoes_it(ws, capsys):
    dh = next(h for h, (kind, _o) in ws.planted.items() if kind == "missing")
    before = score_programme(ws.backend, ws.programme())
    code, out, err = run(capsys, "audit", "exclude", dh, "--reason", "the gold lacks a box", "--json")
    assert code == OK, err
    doc = json.loads(out)
    assert doc["exclusion"]["data_hash"] == dh and doc["exclusion"]["reason"] == "the gold lacks a box"
    assert doc["excluded_now"] == [dh] and doc["scored"] is True
    changed = {c["annotator"]: c for c in doc["changes"]}
    assert set(changed) == set(ws.programme().trainees)  # every trainee drew the object the gold lacks
    for c in changed.values():
        assert c["after"]["items_required"] == c["before"]["items_required"] - 1
        assert c["after"]["f1"] > c["before"]["f1"]

    # the record is the programme's: a new workspace reads it back, and the scores leave the item out
    reopened = open_workspace(*resolve_settings(Paths.default()))
    try:
        prog = reopened.programme()
        assert list(prog.record.exclusions()) == [dh]
        after = score_programme(reopened.backend, prog)
    finally:
        reopened.close()
    for name, score in after.annotators.items():
        assert score.items_required == before.annotators[name].items_required - 1
        assert score.f1 > before.annotators[name].f1
    assert any("excluded from scoring by the gold audit" in w for w in after.warnings)
    code, out, _ = run(capsys, "audit", "--json")
    marked = {s["data_hash"]: s["excluded"] for s in json.loads(out)["suspects"]}
    assert marked[dh] is True and sum(marked.values()) == 1

    code, out, err = run(capsys, "audit", "include", dh)
    assert code == OK, err
    assert out.startswith("Included: ") and out.count("F1 ") == len(changed)
    assert ws.programme().record.exclusions() == {}
    assert [e["event"] for e in ws.programme().record.events() if e.get("data_hash") == dh] == ["exclusion",
                                                                                                 "inclusion"]


def test_exclude_and_include_refuse_what_they_cannot_do(ws, capsys):
    dh = next(iter(ws.planted))
    for argv, code_wanted, says in [
        (["exclude", dh], USAGE, "--reason"),
        (["exclude", dh, "--reason", "  "], USAGE, "--reason"),
        (["exclude", "no-such-item", "--reason", "x"], FAILURE, "is not an item of the benchmark"),
        (["exclude", dh, "--reason", "x", "--object", "no-such-object"], FAILURE, "has no object"),
        (["include", dh], FAILURE, "is not excluded"),
    ]:
        code, out, err = run(capsys, "audit", *argv)
        assert code == code_wanted, (argv, err)
        assert out == "" and len(err.strip().splitlines()) == 1 and says in err, (argv, err)
    assert ws.programme().record.exclusions() == {}
