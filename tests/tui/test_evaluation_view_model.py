"""The evaluation screens over the session's snapshot (issue 13): workers post named messages,
empty states name their cause, p's label follows the state, f works on the drill-down, the item
canvas and its table agree at 80 columns."""

from __future__ import annotations

import json

from textual.message import Message

from annotrain_tui.core.evaluation.session import EvaluationSession
from annotrain_tui.tui.screens.evaluation import AnnotatorScreen, EvaluationScreen, ItemScreen
from annotrain_tui.tui.widgets.dialogs import FormDialog
from annotrain_tui.tui.widgets.frame_table import FrameTable
from annotrain_tui.tui.widgets.shape_canvas import ShapeCanvas
from tests.tui.helpers import make_app, screen_text, settle

DEMO = ["alex.kim@example.com", "bea.santos@example.com", "chidi.okafor@example.com"]


async def test_the_load_worker_publishes_a_snapshot_as_a_message(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    seen: list[Message] = []
    async with app.run_test(size=(120, 30), message_hook=seen.append) as pilot:
        await settle(app, pilot)
        def published() -> list[Message]:  # a message the hook sees more than once is one message
            return list({id(m): m for m in seen if isinstance(m, EvaluationScreen.Published)}.values())

        assert len(published()) == 1
        snap = published()[0].snapshot
        assert app.screen.snapshot is snap  # the handler, on the UI thread, took it
        assert sorted(snap.frame["annotator"]) == DEMO
        await pilot.press("r")  # nothing changed: a Polled message, no new snapshot
        await settle(app, pilot)
        assert len(published()) == 1
        assert any(isinstance(m, EvaluationScreen.Polled) for m in seen)


async def test_a_filter_that_hides_everyone_says_so(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("f")
        app.screen.query_one("#field-annotator").value = "zzz"
        await pilot.press("enter")
        await settle(app, pilot)
        table = app.screen.query_one("#annotators", FrameTable)
        assert table.row_count == 0
        assert table.empty_text == "No annotator matches the filter annotator~'zzz' (f changes it)."
        assert "No annotator matches the filter" in screen_text(app)


async def test_an_unknown_benchmark_is_shown_on_the_screen_not_only_in_a_toast(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", options={"benchmark": "Nope"})
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "Loading the evaluation" not in text
        assert "The evaluation is not loaded" in text and "Nope" in text


async def test_a_failed_load_says_its_reason_in_the_error_bar_and_a_toast_only(tmp_path):
    """Trial: `--benchmark Nope` showed the error three times at once (bar, body line, toast)."""
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", options={"benchmark": "Nope"},
                   keymap={"evaluation.refresh": "f5"})
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        reason = "no project 'Nope'"
        assert reason in screen.error_text  # the bar: persistent
        assert [n.message for n in app._notifications if reason in n.message]  # the toast: transient
        text = screen_text(app)
        assert text.count(reason) == 1  # once on screen: in the bar
        lines = [line for line in text.splitlines() if reason in line]
        assert len(lines) == 1 and "✖" in lines[0]
        table = screen.query_one("#annotators", FrameTable)
        # what helps: not trying again (the name matches nothing), the exact name (the bar says which is close)
        assert table.empty_text == "Nothing to show: open Evaluate with the benchmark's exact name."


async def test_a_transient_failure_says_the_users_key_tries_again(tmp_path, monkeypatch):
    from annotrain_tui.core.errors import Transient

    def unreachable(self, *args, **kwargs):
        raise Transient("cannot reach Encord", acted=False)

    monkeypatch.setattr(EvaluationSession, "load", unreachable)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", keymap={"evaluation.refresh": "f5"})
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert "cannot reach Encord" in app.screen.error_text
        table = app.screen.query_one("#annotators", FrameTable)
        assert table.empty_text == "Nothing to show: F5 tries again."  # what to do, with the user's key


async def test_a_benchmark_without_training_projects_says_to_provision_the_roster(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    raw = app.workspace.raw
    bench = next(p for p in raw.list_projects() if p.title == "Benchmark Labels")
    lonely = raw.create_project("Lonely benchmark", description="gold", dataset_ids=bench.dataset_ids,
                                ontology_id=bench.ontology_id)
    app.screen_options = {"benchmark": lonely.id}
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert "has no training projects" in app.screen.error_text
        table = app.screen.query_one("#annotators", FrameTable)
        # its tasks are not Complete: the gate wants them finished before the roster is provisioned
        # (a complete benchmark without trainees: tests/tui/test_programmes.py)
        assert table.empty_text == "Nothing to show: finish the benchmark: 0 of 60 task(s) Complete (3 on Home)."
        assert "tries again" not in screen_text(app)


def test_an_incomplete_benchmark_is_named_as_the_cause(tmp_path):
    bm, tr = tmp_path / "bm.json", tmp_path / "tr.json"
    bm.write_text("[]")
    tr.write_text(json.dumps([{"data_hash": "d", "data_units": {}}]))
    session = EvaluationSession.of_files(str(bm), [str(tr)])
    session.load()
    snap = session.snapshot()
    assert snap.result is not None and snap.result.paired_rows == 0
    assert "has no Complete label rows: complete its tasks first" in snap.nothing_paired
    assert snap.empty_text().startswith("No annotators: the benchmark")


async def test_p_reads_pause_while_live_and_resume_while_paused(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        def p_label() -> str:
            return app.screen.active_bindings["p"].binding.description

        def footer() -> str:
            return screen_text(app).splitlines()[-1]

        assert p_label() == "Pause" and app.screen.live_on
        assert "p Pause" in footer() and "esc Back" in footer()  # at 80 columns too
        await pilot.press("p")
        await pilot.pause()
        assert not app.screen.live_on and p_label() == "Resume"
        assert "paused" in screen_text(app)
        assert "p Resume" in footer() and "p Pause" not in footer()
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.live_on and p_label() == "Pause"


async def test_f_on_the_drill_down_filters_its_items_and_the_annotator_table_follows(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        main = app.screen
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AnnotatorScreen)
        items = app.screen.query_one("#items", FrameTable)
        before = items.row_count
        await pilot.press("f")
        assert isinstance(app.screen, FormDialog)
        app.screen.query_one("#field-class").value = "road sign"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AnnotatorScreen)
        after = items.row_count
        assert 0 < after < before
        objects = app.screen.object_rows
        shown_classes = set(objects["class"].dropna().str.casefold()) | set(objects["benchmark_class"].dropna().str.casefold())
        assert all("road sign" in c for c in shown_classes if isinstance(c, str)) or \
            all(("road sign" in str(a).casefold()) or ("road sign" in str(b).casefold())
                for a, b in zip(objects["class"], objects["benchmark_class"]))
        assert main.filter.class_name == "road sign"  # the annotator table uses the same filter


async def test_escape_in_the_filter_field_closes_the_dialog_only(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("f")
        assert isinstance(app.screen, FormDialog)
        assert app.screen.focused is not None and app.screen.focused.id == "field-annotator"
        await pilot.press("z", "escape")
        await pilot.pause()
        assert isinstance(app.screen, EvaluationScreen)
        assert app.screen.filter.annotator == ""  # cancelled, not applied


async def test_the_item_canvas_at_80_columns_shows_iou_and_outcome_and_its_numbers_are_the_tables(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "enter")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ItemScreen)
        table = screen.query_one("#item-objects", FrameTable)
        labels = [c.label for c in table.columns]
        widths = table._widths
        right = sum(widths[: labels.index("Outcome") + 1]) + labels.index("Outcome") + 1
        assert right <= table.size.width, (labels, widths, table.size.width)  # IoU and Outcome fully visible
        assert table.region.right <= app.size.width  # and the table itself is on the screen
        assert screen.query_one(ShapeCanvas).region.width >= 30  # the canvas keeps the rest
        header = screen_text(app).splitlines()
        assert any("IoU" in line and "Outcome" in line for line in header)
        canvas = screen.query_one(ShapeCanvas)
        raster = canvas.raster()
        pairs = sorted(int(v) for v in table.frame["pair"] if v is not None)
        assert pairs and pairs == list(range(1, len(pairs) + 1))
        assert raster.pair_numbers == {n: n for n in pairs}  # the canvas draws the table's "#"
        assert " bench/annot:  ■ " in screen_text(app)  # the legend's n/m counts are explained


async def test_an_incomplete_benchmark_says_why_nothing_was_scored_on_the_screen(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    raw = app.workspace.raw
    bench = next(p for p in raw.list_projects() if p.title == "Benchmark Labels")
    trainee = next(p for p in raw.list_projects() if p.id != bench.id and "Training" in p.title)
    raw.create_project("Cohort 3 Benchmark", description="", dataset_ids=bench.dataset_ids,
                       ontology_id=bench.ontology_id)
    app.screen_options = {"benchmark": "Cohort 3 Benchmark", "training": [trainee.id]}
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "Nothing compared: the benchmark 'Cohort 3 Benchmark' has no Complete label rows" in text
