"""Evaluation snapshots of a programme: recorded, read back, the trend, and the deltas that never
mix two golds (core/history.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.demo import seed_demo
from annotrain_tui.core.backends.sandbox.labels import objects_of
from annotrain_tui.core.evaluation.results import EvaluationSettings, PassMark
from annotrain_tui.core.evaluation.session import EvaluationSession
from annotrain_tui.core.history import (
    ITEMS_SHOWN,
    OTHER_EXCLUSIONS,
    OTHER_GOLD,
    OTHER_ROUND,
    OTHER_SETTINGS,
    ItemChange,
    delta_lines,
    deltas,
    history_json,
    record_snapshot,
    remember,
    report_since,
    report_since_json,
    round_trends,
    since_last,
    snapshot_of,
    snapshots,
    status_path,
    trend,
    trend_bars,
)
from annotrain_tui.core.programme import Programme, ProgrammeRecord, load_programme

ALEX = "alex.kim@example.com"
BEA = "bea.santos@example.com"


@pytest.fixture
def demo_prog(tmp_path) -> tuple[SandboxBackend, Programme]:
    backend = SandboxBackend(tmp_path / "demo.db")
    seed_demo(backend, now=datetime.now(UTC))
    prog = load_programme(backend, None, tmp_path / "programmes", "test-ws")
    yield backend, prog
    backend.close()


def _evaluate(backend: SandboxBackend, prog: Programme, *, keep: bool = True,
              settings: EvaluationSettings | None = None):
    session = EvaluationSession.of_workspace(backend, prog.id, None, settings or EvaluationSettings(),
                                             keep_objects=keep)
    return session.load()


def _reload(backend: SandboxBackend, prog: Programme) -> Programme:
    return load_programme(backend, prog.id, prog.record.path.parent, "test-ws")


def _project_of(prog: Programme, email: str) -> str:
    return prog.trainees[email].current.project.id


def _items(backend: SandboxBackend, prog: Programme, n: int) -> list[str]:
    return [r.data_hash for r in backend.list_label_rows(prog.id)][:n]


def test_a_snapshot_is_recorded_and_read_back_with_its_items(demo_prog):
    backend, prog = demo_prog
    result = _evaluate(backend, prog)
    snap = remember(prog, result, backend)
    kept = snapshots(prog.record)
    assert len(kept) == 1
    back = kept[0]
    assert back["id"] == snap["id"] and back["ts"]
    assert back["benchmark_id"] == prog.id and back["benchmark_version"] == snap["benchmark_version"]
    assert back["exclusions"] == [] and back["settings"]["matching"] == "optimal"
    assert "excluded_items" not in back["settings"]  # said once, as the exclusions
    assert set(back["annotators"]) == set(result.annotators) == set(prog.trainees)
    alex = back["annotators"][ALEX]
    score = result.annotators[ALEX]
    assert alex["round"] == 1 and alex["project_id"] == _project_of(prog, ALEX)
    assert alex["status"] == score.status and alex["f1"] == pytest.approx(score.f1)
    assert (alex["matched"], alex["missed"], alex["extra"]) == (score.matched, score.missed, score.extra)
    assert set(alex["by_class"]) == set(score.by_class)
    # the per-item counts add up to the annotator's totals, one entry per item scored
    assert len(alex["items"]) == score.items_done
    assert sum(c[0] for c in alex["items"].values()) == score.missed
    assert sum(c[1] for c in alex["items"].values()) == score.extra
    # compact: no geometry anywhere
    assert "coordinates" not in prog.record.history_path.read_text() and "boundingBox" not in prog.record.history_path.read_text()


def test_the_interval_fields_are_kept_when_the_score_has_them(demo_prog):
    backend, prog = demo_prog
    result = _evaluate(backend, prog, keep=False)
    snap = snapshot_of(result, benchmark_version="v1", rounds={}, projects={}, exclusions=[])
    for email, score in result.annotators.items():
        for what in ("precision_interval", "recall_interval", "f1_interval"):
            interval = getattr(score, what, None)
            if interval is None:
                assert what not in snap["annotators"][email]
            else:
                assert snap["annotators"][email][what] == pytest.approx(list(interval))


def test_without_kept_objects_the_items_are_left_out_and_the_delta_says_they_are_unknown(demo_prog):
    backend, prog = demo_prog
    first = remember(prog, _evaluate(backend, prog, keep=False), backend)
    assert all("items" not in a for a in first["annotators"].values())
    second = remember(prog, _evaluate(backend, prog, keep=False), backend)
    found = {d.annotator: d for d in since_last(prog.record, second)}
    assert found[ALEX].compared and not found[ALEX].items_known
    assert any("not known" in line for line in report_since(prog, second))


def test_trend_lists_each_annotators_points_per_round_oldest_first(demo_prog):
    backend, prog = demo_prog
    remember(prog, _evaluate(backend, prog), backend)
    for dh in _items(backend, prog, 5):  # alex loses five items' objects
        backend.save_labels(_project_of(prog, ALEX), dh, [], stage="Complete")
    remember(prog, _evaluate(backend, prog), backend)
    got = trend(snapshots(prog.record))
    assert set(got) == set(prog.trainees)
    points = got[ALEX][1]
    assert len(points) == 2 and points[0].ts <= points[1].ts
    assert points[0].f1 is not None and points[1].f1 is not None and points[1].f1 < points[0].f1
    assert points[0].benchmark_version == points[1].benchmark_version
    doc = history_json(snapshots(prog.record), annotator=ALEX.upper())
    assert [a["annotator"] for a in doc["annotators"]] == [ALEX]
    assert [p["version_changed"] for p in doc["annotators"][0]["rounds"][0]["points"]] == [False, False]


def test_the_delta_names_the_items_behind_a_change(demo_prog):
    backend, prog = demo_prog
    before = remember(prog, _evaluate(backend, prog), backend)
    blanked = _items(backend, prog, 3)
    for dh in blanked:
        backend.save_labels(_project_of(prog, ALEX), dh, [], stage="Complete")
    current = remember(prog, _evaluate(backend, prog), backend)
    found = {d.annotator: d for d in since_last(prog.record, current)}
    alex = found[ALEX]
    assert alex.compared and alex.items_known and alex.before_ts
    assert alex.f1_change is not None and alex.f1_change < 0
    assert sorted(c.data_hash for c in alex.worse) == sorted(blanked)
    for change in alex.worse:  # all the gold objects of a blanked item are missed now, and nothing is extra
        assert change.after[0] == len(objects_of(backend.get_label_rows(prog.id, [change.data_hash])[0]))
        assert change.after[1] == 0
    assert alex.better == [] and alex.new_items == 0
    # nobody else's work changed: compared, and no item moved
    assert found[BEA].compared and found[BEA].worse == [] and found[BEA].better == []
    assert found[BEA].f1_change == pytest.approx(0)
    lines = report_since(prog, current)
    assert any(line.startswith(f"{ALEX} (round 1): F1 ") for line in lines)
    assert any(line.strip().startswith("items: 3 worse (") and line.endswith(", 0 better") for line in lines)
    titles = snapshots(prog.record)[-1]["titles"]
    for dh in blanked:  # each item named by its title and its data hash, with what its change is made of
        [named] = [line for line in lines if dh in line]
        change = next(c for c in alex.worse if c.data_hash == dh)
        assert named.strip().startswith(f"- {titles[dh]} ({dh}): {change.change} more error")
        assert f"missed {change.before[0]} → {change.after[0]}" in named
    assert lines[-1].startswith("errors per item: missed = ") and "loose = matched" in lines[-1]
    doc = report_since_json(prog, current)
    alex_json = next(d for d in doc["deltas"] if d["annotator"] == ALEX)
    assert {c["data_hash"] for c in alex_json["items"]["worse"]} == set(blanked)
    assert {c["data_title"] for c in alex_json["items"]["worse"]} == {titles[dh] for dh in blanked}
    assert alex_json["items"]["more_errors"] == sum(c.change for c in alex.worse) > 0
    assert alex_json["items"]["fewer_errors"] == 0 and alex_json["items"]["better"] == []
    assert alex_json["f1"]["after"] < alex_json["f1"]["before"]
    # the direct comparison of the two snapshots says the same
    assert [d.worse for d in deltas(before, current) if d.annotator == ALEX] == [alex.worse]


def test_items_scored_for_the_first_time_are_new_not_worse_and_fixed_ones_are_better(demo_prog):
    backend, prog = demo_prog
    bea_project = _project_of(prog, BEA)
    todo = [r.data_hash for r in backend.list_label_rows(bea_project) if not r.done][:2]
    gold = {r["data_hash"]: objects_of(r) for r in backend.get_label_rows(prog.id, todo)}
    remember(prog, _evaluate(backend, prog), backend)
    for dh in todo:  # two new items, drawn exactly as the gold
        backend.save_labels(bea_project, dh, gold[dh], stage="Complete")
    done = [r.data_hash for r in backend.list_label_rows(bea_project) if r.done and r.data_hash not in todo]
    mid = remember(prog, _evaluate(backend, prog), backend)
    bea = next(d for d in since_last(prog.record, mid) if d.annotator == BEA)
    assert bea.new_items == 2 and bea.worse == []
    # one of her earlier items redrawn as the gold: better, unless it was perfect already
    was = mid["annotators"][BEA]["items"]
    flawed = next(dh for dh in done if sum(was[dh]) > 0)
    gold_row = backend.get_label_rows(prog.id, [flawed])[0]
    backend.save_labels(bea_project, flawed, objects_of(gold_row), stage="Complete")
    after = remember(prog, _evaluate(backend, prog), backend)
    bea = next(d for d in since_last(prog.record, after) if d.annotator == BEA)
    assert [c.data_hash for c in bea.better] == [flawed] and bea.worse == [] and bea.new_items == 0
    assert sum(bea.better[0].after) == 0


def test_a_snapshot_keeps_each_items_title_once_not_per_annotator(demo_prog):
    backend, prog = demo_prog
    snap = remember(prog, _evaluate(backend, prog), backend)
    gold = {r.data_hash: r.data_title for r in backend.list_label_rows(prog.id)}
    scored = {dh for a in snap["annotators"].values() for dh in a["items"]}
    assert scored and set(snap["titles"]) == scored
    assert all(snap["titles"][dh] == gold[dh] for dh in scored)
    assert all("titles" not in a and "title" not in a for a in snap["annotators"].values())
    assert snapshots(prog.record)[-1]["titles"] == snap["titles"]  # kept in the record
    # an evaluation without its per-object rows knows no items, and so no titles
    assert "titles" not in remember(prog, _evaluate(backend, prog, keep=False), backend)


def test_the_delta_lists_better_and_worse_items_both_capped_with_counts(demo_prog):
    backend, prog = demo_prog
    bea_project = _project_of(prog, BEA)
    first = remember(prog, _evaluate(backend, prog), backend)
    was = first["annotators"][BEA]["items"]
    flawed = [dh for dh, c in sorted(was.items()) if sum(c) > 0]
    gold = {r["data_hash"]: len(objects_of(r)) for r in backend.get_label_rows(prog.id, sorted(was))}
    fixed = flawed[:2]
    # wiped, an item has all its gold objects missed and nothing else: worse when that is more errors
    spoilt = [dh for dh, c in sorted(was.items()) if dh not in fixed and gold[dh] > sum(c)][:ITEMS_SHOWN + 1]
    assert len(spoilt) == ITEMS_SHOWN + 1
    for dh in fixed:  # redrawn as the gold: better
        backend.save_labels(bea_project, dh, objects_of(backend.get_label_rows(prog.id, [dh])[0]), stage="Complete")
    for dh in spoilt:  # wiped: worse
        backend.save_labels(bea_project, dh, [], stage="Complete")
    current = remember(prog, _evaluate(backend, prog), backend)
    [bea] = [d for d in since_last(prog.record, current) if d.annotator == BEA]
    assert sorted(c.data_hash for c in bea.better) == sorted(fixed)
    assert sorted(c.data_hash for c in bea.worse) == sorted(spoilt)
    lines = report_since(prog, current)
    start = next(n for n, line in enumerate(lines) if line.startswith(f"{BEA} (round 1): "))
    more, fewer = sum(c.change for c in bea.worse), -sum(c.change for c in bea.better)
    assert lines[start + 1] == (f"  items: {ITEMS_SHOWN + 1} worse ({more} more errors), "
                                f"2 better ({fewer} fewer error{'s' if fewer != 1 else ''})")
    block = lines[start + 2:start + 2 + ITEMS_SHOWN + 1 + 2]
    assert [line.split()[0] for line in block] == ["-"] * (ITEMS_SHOWN + 1) + ["+"] * 2
    assert block[ITEMS_SHOWN] == "    - and 1 more worse item(s) (--json lists them all)"
    for line, change in zip(block[ITEMS_SHOWN + 1:], bea.better):  # the better ones named and explained too
        assert change.data_hash in line and change.title in line and "fewer error" in line
    doc = next(d for d in report_since_json(prog, current)["deltas"] if d["annotator"] == BEA)
    assert len(doc["items"]["worse"]) == ITEMS_SHOWN + 1 and len(doc["items"]["better"]) == 2  # JSON: every one
    assert doc["items"]["more_errors"] == more and doc["items"]["fewer_errors"] == fewer


def test_an_items_change_says_what_it_is_made_of():
    loose = ItemChange("h1", before=(0, 0, 0), after=(0, 0, 1), title="a.jpg")
    assert loose.change == 1 and loose.explained() == "1 more error: loose 0 → 1"
    fixed = ItemChange("h2", before=(2, 1, 0), after=(0, 1, 0))
    assert fixed.explained() == "2 fewer errors: missed 2 → 0"
    swapped = ItemChange("h3", before=(1, 0, 0), after=(0, 1, 0))
    assert swapped.change == 0 and swapped.explained() == "as many errors, of other kinds: missed 1 → 0, extra 0 → 1"
    assert loose.to_json()["data_title"] == "a.jpg" and fixed.to_json()["data_title"] is None


def test_items_of_snapshots_without_titles_are_named_by_hash_and_swaps_are_listed(tmp_path):
    record = ProgrammeRecord(tmp_path / "p.jsonl")
    before = _synthetic("v1", {"a@x.com": (1, 0.5, "close")})
    before["annotators"]["a@x.com"]["items"] = {"h-loose": [0, 0, 0], "h-swap": [1, 0, 0], "h-same": [1, 1, 1]}
    record_snapshot(record, before)  # kept before snapshots had titles
    current = {**_synthetic("v1", {"a@x.com": (1, 0.5, "close")}), "id": "now"}
    current["annotators"]["a@x.com"]["items"] = {"h-loose": [0, 0, 1], "h-swap": [0, 1, 0], "h-same": [1, 1, 1]}
    [d] = since_last(record, current)
    assert [c.data_hash for c in d.worse] == ["h-loose"] and d.better == []
    assert [c.data_hash for c in d.changed] == ["h-swap"]
    lines = delta_lines([d], low_overlap=0.75)
    assert "  items: 1 worse (1 more error), 0 better, 1 with as many errors of other kinds" in lines
    assert "    - h-loose: 1 more error: loose 0 → 1" in lines
    assert "    ~ h-swap: as many errors, of other kinds: missed 1 → 0, extra 0 → 1" in lines
    assert "h-same" not in "\n".join(lines)
    assert "less than 0.75 (F1 does not count it)" in lines[-1]
    # nothing moved: no item line and no legend
    still = delta_lines(deltas(before, before))
    assert still and not any(line.startswith(("  items", "errors per item")) for line in still)


def test_two_golds_are_never_mixed_a_benchmark_edit_refuses_the_comparison(demo_prog):
    backend, prog = demo_prog
    remember(prog, _evaluate(backend, prog), backend)
    dh = _items(backend, prog, 1)[0]
    gold = backend.get_label_rows(prog.id, [dh])[0]
    backend.save_labels(prog.id, dh, objects_of(gold)[1:], stage="Complete")  # the gold changed
    for email in prog.trainees:  # and everyone's work changed too: still nothing subtracted
        backend.save_labels(_project_of(prog, email), dh, [], stage="Complete")
    current = remember(prog, _evaluate(backend, prog), backend)
    first = snapshots(prog.record)[0]
    assert first["benchmark_version"] != current["benchmark_version"]
    found = since_last(prog.record, current)
    assert {d.annotator for d in found} == set(prog.trainees)
    for d in found:
        assert not d.compared and d.reason == OTHER_GOLD
        assert d.f1 == (None, None) and d.worse == [] and d.better == []
        assert "f1" not in d.to_json() and d.to_json()["reason"] == OTHER_GOLD
    assert all(OTHER_GOLD in line for line in report_since(prog, current))
    doc = history_json(snapshots(prog.record))
    assert all(a["rounds"][0]["points"][1]["version_changed"] for a in doc["annotators"])


def test_other_exclusions_and_other_settings_are_not_compared_either(demo_prog):
    backend, prog = demo_prog
    dh = _items(backend, prog, 1)[0]
    base = remember(prog, _evaluate(backend, prog), backend)
    prog.record.exclude(dh, object_hash=None, reason="suspect gold")
    prog = _reload(backend, prog)
    excluded = EvaluationSettings(excluded_items=frozenset({dh}))
    with_exclusion = remember(prog, _evaluate(backend, prog, settings=excluded), backend)
    assert with_exclusion["exclusions"] == [dh]
    assert {d.reason for d in deltas(base, with_exclusion)} == {OTHER_EXCLUSIONS}
    other = EvaluationSettings(excluded_items=frozenset({dh}), pass_mark=PassMark(f1=0.5))
    with_other_mark = remember(prog, _evaluate(backend, prog, settings=other), backend)
    assert {d.reason for d in deltas(with_exclusion, with_other_mark)} == {OTHER_SETTINGS}
    # since_last compares with the newest of the same round: the one with the other mark, refused
    again = remember(prog, _evaluate(backend, prog, settings=excluded), backend)
    assert {d.reason for d in since_last(prog.record, again)} == {OTHER_SETTINGS}


def _synthetic(version: str, entries: dict[str, tuple[int, float, str]]) -> dict:
    return {"id": f"s-{version}-{sorted(entries.items())}", "benchmark_version": version, "exclusions": [],
            "settings": {"matching": "optimal"},
            "annotators": {e: {"round": r, "f1": f1, "precision": f1, "recall": f1, "status": status}
                           for e, (r, f1, status) in entries.items()}}


def test_since_last_compares_with_the_newest_snapshot_of_the_same_round(tmp_path):
    record = ProgrammeRecord(tmp_path / "p.jsonl")
    record_snapshot(record, _synthetic("v1", {"a@x.com": (1, 0.5, "needs feedback"), "b@x.com": (1, 0.9, "passed")}))
    record_snapshot(record, _synthetic("v1", {"a@x.com": (1, 0.6, "needs feedback")}))
    record_snapshot(record, _synthetic("v1", {"a@x.com": (2, 0.2, "not enough work yet")}))
    current = _synthetic("v1", {"a@x.com": (1, 0.85, "passed"), "b@x.com": (1, 0.9, "passed"),
                                "c@x.com": (1, 0.7, "close")})
    found = {d.annotator: d for d in since_last(record, current)}
    assert set(found) == {"a@x.com", "b@x.com"}  # c has no earlier snapshot
    assert found["a@x.com"].f1 == (0.6, 0.85)  # the second snapshot, not the round-2 one after it
    assert found["a@x.com"].status == ("needs feedback", "passed") and found["a@x.com"].status_changed
    assert found["b@x.com"].f1 == (0.9, 0.9) and not found["b@x.com"].status_changed
    # compared directly, another round is refused
    [d] = deltas(snapshots(record)[2], _synthetic("v1", {"a@x.com": (1, 0.85, "passed")}))
    assert not d.compared and d.reason == OTHER_ROUND
    assert since_last(record, _synthetic("v1", {"z@x.com": (1, 0.5, "close")})) == []


def test_round_trends_summarise_each_annotator_and_round(tmp_path):
    record = ProgrammeRecord(tmp_path / "p.jsonl")
    for version, f1, status in (("v1", 0.2, "needs feedback"), ("v1", 0.55, "close"), ("v2", None, "close"),
                                ("v2", 1.0, "passed")):
        record_snapshot(record, _synthetic(version, {"a@x.com": (1, f1, status)}))
    record_snapshot(record, _synthetic("v2", {"a@x.com": (2, 0.9, "passed"), "b@x.com": (1, 0.7, "close")}))
    got = round_trends(snapshots(record))
    assert [(t.annotator, t.round, t.evaluations) for t in got] == [("a@x.com", 1, 4), ("a@x.com", 2, 1),
                                                                    ("b@x.com", 1, 1)]
    a1 = got[0]
    assert (a1.f1_first, a1.f1_last, a1.status_now, a1.version_changes) == (0.2, 1.0, "passed", 1)
    assert status_path(a1.points) == "needs feedback → close → passed"
    assert trend_bars(a1.points) == "▂▅◆·█"  # an absolute scale; ◆ before the first point of the new gold
    assert trend_bars(a1.points, limit=2) == "…◆·█"  # the last two: the first of them is on the new gold
    assert [t.round for t in round_trends(snapshots(record), annotator="A@X.COM")] == [1, 2]
    summary = history_json(snapshots(record), annotator="a@x.com")["annotators"][0]["rounds"][0]["summary"]
    assert summary == {"evaluations": 4, "f1_first": 0.2, "f1_last": 1.0, "status_now": "passed",
                       "statuses": "needs feedback → close → passed", "version_changes": 1, "trend": "▂▅◆·█",
                       "first_ts": a1.points[0].ts, "last_ts": a1.points[-1].ts}


def test_a_snapshot_line_cut_by_a_kill_is_skipped(tmp_path):
    record = ProgrammeRecord(tmp_path / "p.jsonl")
    record_snapshot(record, _synthetic("v1", {"a@x.com": (1, 0.5, "close")}))
    with open(record.history_path, "a", encoding="utf-8") as fh:
        fh.write('{"ts": "2026-12-01T00:00:00", "event": "snapshot", "annotators": {"a@x.com": {"rou')
    assert len(snapshots(record)) == 1
    assert [p.f1 for p in trend(snapshots(record))["a@x.com"][1]] == [0.5]


def test_hostile_text_in_a_snapshot_reaches_no_terminal(tmp_path):
    record = ProgrammeRecord(tmp_path / "p.jsonl")
    evil = "a\x1b[31m@x.com"
    record_snapshot(record, {**_synthetic("v1", {evil: (1, 0.5, "close")})})
    before = snapshots(record)[0]
    current = _synthetic("v1", {evil: (1, 0.7, "close\x1b]0;t\x07")})
    before_items = {"h\x1b[2J": [0, 0, 0]}
    record_snapshot(record, {**before, "annotators": {evil: {**before["annotators"][evil], "items": before_items}}})
    current["annotators"][evil]["items"] = {"h\x1b[2J": [1, 0, 0]}
    current["titles"] = {"h\x1b[2J": "t\x1b]0;pwn\x07\u202e.jpg"}
    lines = report_since(type("P", (), {"record": record})(), current)  # type: ignore[arg-type]
    assert any(line.strip().startswith("- ") for line in lines)  # the hostile item is named, safely
    assert lines and all("\x1b" not in line and "\x07" not in line and "\u202e" not in line for line in lines)


def test_a_record_in_another_directory_is_another_programme(tmp_path):
    a, b = ProgrammeRecord(tmp_path / "a.jsonl"), ProgrammeRecord(Path(tmp_path / "b.jsonl"))
    record_snapshot(a, _synthetic("v1", {"a@x.com": (1, 0.5, "close")}))
    assert snapshots(b) == [] and len(snapshots(a)) == 1
