"""Decisions on the evaluation screen with Pilot: g/t/h record one trainee's decision (with a note)
in the programme's record, C confirms every finished trainee's suggestion, Escape records nothing;
the table shows each decision at once; the programme's exclusions reach the scores."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from annotrain_tui.core.decisions import DecisionRow
from annotrain_tui.core.programme import Decision, load_programme
from annotrain_tui.tui.screens.decision_dialog import DecisionDialog
from annotrain_tui.tui.screens.evaluation import EvaluationScreen
from annotrain_tui.tui.screens.evaluation.common import STATUS_STYLE, with_decision_columns
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog
from annotrain_tui.tui.widgets.frame_table import FrameTable
from tests.tui.helpers import make_app, screen_text, settle

ALEX, BEA, CHIDI = "alex.kim@example.com", "bea.santos@example.com", "chidi.okafor@example.com"


def recorded(app) -> dict[str, Decision]:
    """The decisions as the programme's record holds them, read back from disk."""
    ws = app.workspace
    prog = load_programme(ws.backend, app.demo_ids["benchmark"], ws.paths.programmes_dir, ws.key)
    return prog.record.decisions()


def cell(table: FrameTable, annotator: str, key: str):
    frame = table.frame
    return frame.loc[frame["annotator"] == annotator, key].iat[0]


async def open_eval(app, pilot) -> tuple[EvaluationScreen, FrameTable]:
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, EvaluationScreen)
    return screen, screen.query_one("#annotators", FrameTable)


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_g_records_a_graduation_with_its_note_and_the_table_shows_it(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = await open_eval(app, pilot)
        assert table.current_key() == ALEX
        assert cell(table, ALEX, "suggested") == "graduate" and cell(table, ALEX, "decision") == ""
        assert cell(table, ALEX, "round") == 1
        await pilot.press("g")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, DecisionDialog) and dialog.decision == "graduate"
        assert "passed" in str(dialog.query_one("#decision-body").render())
        await pilot.press(*"clean boxes", "enter")
        await settle(app, pilot)
        assert app.screen is screen
        made = recorded(app)[ALEX]
        assert (made.decision, made.round, made.note, made.status) == ("graduate", 1, "clean boxes", "passed")
        assert cell(table, ALEX, "decision") == "graduate" and table.current_key() == ALEX
        assert "Decided (round 1): graduate" in " ".join(screen_text(app).split())
        assert any(t.startswith(f"Recorded: graduate for {ALEX} (round 1)") for t in toasts(app))


async def test_t_and_h_record_retake_and_hold_and_a_new_decision_replaces_the_last(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, table = await open_eval(app, pilot)
        await pilot.press("down")  # bea: not finished, suggests hold
        assert table.current_key() == BEA
        await pilot.press("t")
        await pilot.pause()
        body = str(app.screen.query_one("#decision-body").render())
        assert "suggests hold: this overrides it" in body
        await pilot.press("enter")  # no note
        await settle(app, pilot)
        assert recorded(app)[BEA].decision == "retake" and recorded(app)[BEA].note == ""
        assert cell(table, BEA, "decision") == "retake"
        await pilot.press("h")
        await pilot.pause()
        assert "Replaces the decision made on this round: retake" in str(app.screen.query_one("#decision-body").render())
        await pilot.press(*"wait for more", "enter")
        await settle(app, pilot)
        assert recorded(app)[BEA].decision == "hold" and cell(table, BEA, "decision") == "hold"
        assert set(recorded(app)) == {BEA}


async def test_escape_in_the_dialog_records_nothing(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = await open_eval(app, pilot)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press(*"typed then cancelled", "escape")
        await settle(app, pilot)
        assert app.screen is screen
        assert recorded(app) == {}
        assert cell(table, ALEX, "decision") == ""
        assert not any(t.startswith("Recorded") for t in toasts(app))


async def test_c_confirms_the_suggestion_of_every_finished_undecided_trainee(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = await open_eval(app, pilot)
        await pilot.press("C")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        text = " ".join(screen_text(app).split())
        assert "Record the suggested decision of 1 trainee(s)" in text and f"{ALEX}: graduate" in text
        await pilot.press("n")  # no: nothing recorded
        await settle(app, pilot)
        assert recorded(app) == {}
        await pilot.press("C")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        # only alex finished the round (60/60); bea and chidi are still working: no decision for them
        assert {e: d.decision for e, d in recorded(app).items()} == {ALEX: "graduate"}
        assert recorded(app)[ALEX].note == "confirmed the suggestion"
        assert [cell(table, a, "decision") for a in (ALEX, BEA, CHIDI)] == ["graduate", "", ""]
        assert any(t.startswith(f"Recorded: graduate for {ALEX}") for t in toasts(app))
        await pilot.press("C")  # nothing left to confirm: it says so, no dialog
        await pilot.pause()
        assert app.screen is screen
        assert any("nothing to confirm" in t for t in toasts(app))


async def test_a_decision_made_elsewhere_shows_on_the_next_refresh(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        screen, table = await open_eval(app, pilot)
        prog = app.workspace.programme(app.demo_ids["benchmark"])
        prog.record.decide(CHIDI, "retake", round=1, note="from the CLI")
        await pilot.press("r")
        await settle(app, pilot)
        assert cell(table, CHIDI, "decision") == "retake"


async def test_the_programmes_exclusions_are_in_the_scores_settings(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    bench = app.demo_ids["benchmark"]
    dh = app.workspace.backend.list_label_rows(bench)[0].data_hash
    app.workspace.programme(bench).record.exclude(dh, object_hash=None, reason="the gold box is wrong")
    async with app.run_test(size=(80, 24)) as pilot:
        screen, _table = await open_eval(app, pilot)
        assert screen.snapshot is not None and screen.snapshot.settings.excluded_items == frozenset({dh})


async def test_offline_there_is_no_programme_and_no_decision_key(tmp_path):
    from tests.synth import make_programme

    prog = make_programme(seed=3, n_items=6)
    bm, paths = prog.write_files(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation",
                   options={"benchmark_labels": str(bm), "training_labels": paths})
    async with app.run_test(size=(120, 30)) as pilot:
        screen, table = await open_eval(app, pilot)
        assert screen.programme is None and not screen.snapshot.live
        keys = [c.key for c in table.columns]
        assert "f1_interval" in keys and "decision" not in keys and "suggested" not in keys
        assert "g" not in screen.active_bindings and "C" not in screen.active_bindings
        await pilot.press("g")
        await pilot.pause()
        assert app.screen is screen  # no dialog


def test_the_table_shows_the_interval_the_decision_on_this_round_and_the_suggestion():
    frame = pd.DataFrame({"annotator": ["a@x.com", "B@X.com", "c@x.com", "stranger"]})
    scores = {"a@x.com": SimpleNamespace(f1_interval=(0.7, 0.9)), "B@X.com": SimpleNamespace(f1_interval=None)}
    old = Decision(email="b@x.com", decision="retake", round=1)
    rows = {
        "a@x.com": DecisionRow(email="a@x.com", round=1, complete=5, total=5, status="uncertain", reason="",
                               f1=0.8, suggested="hold", decision=Decision(email="a@x.com", decision="hold", round=1),
                               graduated=False),
        "b@x.com": DecisionRow(email="b@x.com", round=2, complete=1, total=5, status="close", reason="", f1=0.7,
                               suggested="retake", decision=old, graduated=False),  # decided on round 1 only
        "c@x.com": DecisionRow(email="c@x.com", round=1, complete=0, total=5, status="not started", reason="",
                               f1=None, suggested=None, decision=None, graduated=False),  # not scored: no suggestion
    }
    out = with_decision_columns(frame, scores, rows)
    assert out["f1_interval"].tolist() == ["0.70–0.90", "", "", ""]
    assert out["decision"].tolist() == ["hold", "", "", ""]
    assert out["suggested"].tolist() == ["hold", "retake", "", ""]
    assert out["round"].tolist()[:3] == [1, 2, 1] and out["round"].isna().tolist()[3:] == [True]
    assert "decision" not in with_decision_columns(frame, scores, None)  # offline: no programme columns
    # "uncertain" has a style of its own, unlike any other status
    assert STATUS_STYLE["uncertain"] not in [v for k, v in STATUS_STYLE.items() if k != "uncertain"]


async def test_a_retake_applied_elsewhere_shows_the_new_round_on_refresh(tmp_path):
    from annotrain_tui.core.actions import apply_retake, plan_retake

    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, table = await open_eval(app, pilot)
        await pilot.press("end", "t")
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        assert cell(table, CHIDI, "decision") == "retake" and cell(table, CHIDI, "round") == 1
        ws = app.workspace
        prog = ws.programme(app.demo_ids["benchmark"])
        apply_retake(ws.backend, plan_retake(ws.backend, prog), paths=ws.paths)
        first = screen.session
        await pilot.press("r")
        for _ in range(20):  # the refresh sees the new round and loads the evaluation again (a second worker)
            await settle(app, pilot)
            if screen.session is not first and not any(not w.is_finished for w in screen.workers):
                break
        assert screen.session is not first
        assert screen.programme is not None and screen.programme.trainees[CHIDI].round == 2
        row = screen.rows[CHIDI]
        assert row.round == 2 and not row.decided  # the retake was round 1's decision
        # scored on round 2 alone (its new project, nothing done yet), not on both rounds together
        assert sorted(s.annotator for s in screen.session.sources.values()) == [ALEX, BEA, CHIDI]
        assert cell(table, CHIDI, "round") == 2 and cell(table, CHIDI, "decision") == ""
        assert cell(table, CHIDI, "projects") == 1 and cell(table, CHIDI, "progress") == "0/60"


async def test_each_evaluation_the_screen_loads_is_kept_in_the_programme_history(tmp_path):
    """Issue 16 item 6: the TUI's evaluation of the programme is a snapshot, as the CLI's is."""
    from annotrain_tui.core.history import snapshots

    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_eval(app, pilot)
        prog = app.workspace.programme(None)
        kept = snapshots(prog.record)
        assert len(kept) == 1 and set(kept[0]["annotators"]) == set(prog.trainees)
