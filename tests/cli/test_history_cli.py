"""`annotrain history` and the `annotrain watch` loop, run in process (the signals a real process
gets are in tests/hardening/test_watch_signals.py)."""

from __future__ import annotations

import json
import os
import signal

import pytest

from annotrain_tui.cli.exit_codes import FAILURE, INTERRUPTED, OK
from annotrain_tui.core.backends.base import WorkspaceGone
from annotrain_tui.core.backends.sandbox.labels import objects_of
from annotrain_tui.core.config import Paths
from annotrain_tui.core.errors import Transient
from annotrain_tui.core.evaluation.results import EvaluationSettings
from annotrain_tui.core.evaluation.session import EvaluationSession
from annotrain_tui.core.history import remember
from annotrain_tui.core.watch import Watcher
from annotrain_tui.core.workspace import open_workspace, resolve_settings
from tests.hardening.helpers import run

ALEX = "alex.kim@example.com"


@pytest.fixture
def ws(capsys):
    code, _, err = run(capsys, "sandbox", "init", "--demo")
    assert code == 0, err
    workspace = open_workspace(*resolve_settings(Paths.default()))
    yield workspace
    workspace.close()


def _snapshot(ws) -> dict:
    prog = ws.programme()
    result = EvaluationSession.of_workspace(ws.backend, prog.id, None, EvaluationSettings(),
                                            keep_objects=True).load()
    return remember(prog, result, ws.backend)


def test_history_without_snapshots_says_how_one_is_kept(ws, capsys):
    code, out, err = run(capsys, "history")
    assert code == OK, err
    assert "0 evaluation snapshot(s)" in out and "annotrain evaluate" in out
    code, out, _ = run(capsys, "history", "--json")
    doc = json.loads(out)
    assert code == OK and doc["snapshots"] == 0 and doc["annotators"] == []
    assert doc["programme"]["title"] == "Benchmark Labels"


def _gold_edited(ws) -> None:
    prog = ws.programme()
    dh = ws.backend.list_label_rows(prog.id)[0].data_hash
    gold = objects_of(ws.sandbox.get_label_rows(prog.id, [dh])[0])
    ws.sandbox.save_labels(prog.id, dh, gold[1:], stage="Complete")  # the gold changed


def test_history_shows_one_trend_row_per_annotator_and_round_by_default(ws, capsys):
    snaps = [_snapshot(ws), _snapshot(ws)]
    _gold_edited(ws)
    snaps.append(_snapshot(ws))
    prog = ws.programme()
    code, out, err = run(capsys, "history")
    assert code == OK, err
    lines = out.splitlines()
    assert lines[0].startswith("Programme 'Benchmark Labels': 3 evaluation snapshot(s), ")
    header = [c.strip() for c in lines[1].split("  ") if c.strip()]
    assert header == ["ANNOTATOR", "ROUND", "EVALS", "TREND", "F1 FIRST → LAST", "STATUS NOW", "LAST EVALUATED"]
    rows = [line for line in lines[3:] if "@" in line]
    assert len(rows) == len(prog.trainees)  # one per trainee and round, not one per evaluation
    cells = [c.strip() for c in next(r for r in rows if r.startswith(ALEX)).split("  ") if c.strip()]
    first, last = (snaps[0]["annotators"][ALEX]["f1"], snaps[2]["annotators"][ALEX]["f1"])
    assert cells[:3] == [ALEX, "1", "3"]
    assert len(cells[3]) == 4 and cells[3][2] == "◆"  # three bars, ◆ before the one on the new gold
    assert cells[4] == f"{first:.3f} → {last:.3f} ◆"  # first and last are against two golds
    assert cells[5] == snaps[2]["annotators"][ALEX]["status"]
    assert any(line.startswith("◆ the benchmark was edited") for line in lines)
    assert any(line.startswith("TREND: one bar per evaluation") for line in lines)
    assert "annotrain history --all" in lines[-1]
    # --annotator: that annotator's rows only
    code, out, _ = run(capsys, "history", "--annotator", ALEX)
    assert code == OK and len([line for line in out.splitlines() if line.startswith(ALEX)]) == 1


def test_history_summary_of_a_gold_never_edited_has_no_marker(ws, capsys):
    _snapshot(ws)
    _snapshot(ws)
    code, out, err = run(capsys, "history")
    assert code == OK, err
    assert "◆" not in out
    cells = [c.strip() for c in next(r for r in out.splitlines() if r.startswith(ALEX)).split("  ") if c.strip()]
    assert cells[2] == "2" and len(cells[3]) == 2 and not cells[4].endswith("◆")


def test_history_all_lists_every_point_and_marks_where_the_benchmark_changed(ws, capsys):
    _snapshot(ws)
    _gold_edited(ws)
    prog = ws.programme()
    _snapshot(ws)
    code, out, err = run(capsys, "history", "--all")
    assert code == OK, err
    lines = out.splitlines()
    assert "2 evaluation snapshot(s)" in lines[0]
    header = lines[1].split()
    assert header == ["ANNOTATOR", "ROUND", "WHEN", "F1", "STATUS", "BENCHMARK"]
    alex = [line for line in lines if line.startswith(ALEX)]
    assert len(alex) == 2
    assert not alex[0].rstrip().endswith("*") and alex[1].rstrip().endswith("*")
    assert any(line.startswith("* scored against another version") for line in lines)
    rows = [line for line in lines[3:] if "@" in line]
    assert len(rows) == 2 * len(prog.trainees)

    code, out, _ = run(capsys, "history", "--all", "--annotator", ALEX.upper())
    assert code == OK and [line.split()[0] for line in out.splitlines() if "@" in line] == [ALEX, ALEX]
    code, out, _ = run(capsys, "history", "--json", "--programme", "Benchmark Labels")
    doc = json.loads(out)
    assert code == OK and doc["snapshots"] == 2
    alex_doc = next(a for a in doc["annotators"] if a["annotator"] == ALEX)
    points = alex_doc["rounds"][0]["points"]
    assert [p["version_changed"] for p in points] == [False, True]
    assert points[0]["benchmark_version"] != points[1]["benchmark_version"]
    summary = alex_doc["rounds"][0]["summary"]  # the trend row, as JSON too
    assert summary["evaluations"] == 2 and summary["version_changes"] == 1 and summary["trend"][1] == "◆"
    assert (summary["f1_first"], summary["f1_last"]) == (points[0]["f1"], points[1]["f1"])


def test_history_of_an_unknown_programme_is_one_line(ws, capsys):
    code, out, err = run(capsys, "history", "--programme", "No such benchmark")
    assert code != OK and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _scripted(monkeypatch, steps):
    """Watcher.poll answers from ``steps``: a list of events, an exception to raise, or a signal
    to send this process (which the watch's handler turns into its stop)."""
    real = Watcher.poll
    calls = iter(steps)

    def poll(self):
        step = next(calls)
        if step == "real":
            return real(self)
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, signal.Signals):
            os.kill(os.getpid(), step)
            return []
        return step

    monkeypatch.setattr(Watcher, "poll", poll)


def test_watch_prints_events_and_one_warning_per_failure_and_keeps_watching(ws, capsys, monkeypatch):
    boom = Transient("the server did not answer")
    _scripted(monkeypatch, ["real", boom, boom, Transient("rate limited"), [], signal.SIGTERM])
    callers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}  # (a shell's & ignores SIGINT)
    code, out, err = run(capsys, "watch", "--interval", "0.01")
    assert code == OK, err
    lines = out.splitlines()
    assert lines and all(" stalled: " in line for line in lines)  # the demo's stalled trainee, nothing else
    assert "chidi.okafor@example.com" in out
    said = err.splitlines()
    assert said[0].startswith("annotrain: watching the programme 'Benchmark Labels'")
    warnings = [line for line in said if line.startswith("annotrain: warning:")]
    assert len(warnings) == 2  # the same failure twice in a row is said once
    assert "did not answer" in warnings[0] and "rate limited" in warnings[1]
    assert said[-1] == "annotrain: the watch stopped (terminated)"
    assert "Traceback" not in err
    # the handlers are the caller's again
    assert {s: signal.getsignal(s) for s in callers} == callers


def test_watch_json_prints_one_object_per_line_and_the_banner_on_stderr(ws, capsys, monkeypatch):
    _scripted(monkeypatch, ["real", signal.SIGINT])
    code, out, err = run(capsys, "watch", "--interval", "0.01", "--json")
    assert code == INTERRUPTED
    docs = [json.loads(line) for line in out.splitlines()]
    assert docs and {d["kind"] for d in docs} == {"stalled"}
    assert all(set(d) >= {"kind", "annotator", "round", "message", "at"} for d in docs)
    assert "watching" in err and "as JSON lines" in err and "watching" not in out
    assert err.splitlines()[-1] == "annotrain: interrupted: the watch stopped"


def test_watch_stops_with_exit_1_when_the_workspace_went_away(ws, capsys, monkeypatch):
    _scripted(monkeypatch, ["real", WorkspaceGone("the sandbox workspace was deleted or replaced")])
    code, out, err = run(capsys, "watch", "--interval", "0.01")
    assert code == FAILURE
    assert err.splitlines()[-1].startswith("annotrain: error: the sandbox workspace was deleted")
    assert "Traceback" not in err


def test_watch_refuses_a_zero_interval(ws, capsys):
    code, _, err = run(capsys, "watch", "--interval", "0")
    assert code == 2 and "greater than 0" in err


def test_a_hostile_benchmark_title_reaches_no_terminal(ws, capsys, monkeypatch):
    import sqlite3

    from tests.hardening.test_hostile_text_cli import H, raw

    _snapshot(ws)
    with sqlite3.connect(ws.sandbox.store.path) as c:
        c.execute("UPDATE projects SET title = title || ? WHERE title = 'Benchmark Labels'", (H,))
    for argv in (["history"], ["history", "--all"], ["history", "--json"]):
        code, out, err = run(capsys, *argv)
        assert code == OK, err
        assert raw(out) == [] and raw(err) == []
    _scripted(monkeypatch, ["real", signal.SIGTERM])
    code, out, err = run(capsys, "watch", "--interval", "0.01")
    assert code == OK and "watching the programme 'Benchmark Labels" in err
    assert raw(out) == [] and raw(err) == []
