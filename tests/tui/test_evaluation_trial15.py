"""The evaluation screens' defects of the issue 15 new-user trial (items 7, 8, 9, 17, 18), with Pilot:
the drill-down's header counts as its Missed column, the Done column is the status's coverage,
offline mode offers no polling keys, the matching choice opens on the current one, the item
screen's title is the drill-down's, and a class filter reaches the item canvas."""

from __future__ import annotations

import json
from pathlib import Path

from annotrain_tui.tui.screens.evaluation import AnnotatorScreen, EvaluationScreen
from annotrain_tui.tui.screens.evaluation.drilldown import ItemScreen
from annotrain_tui.tui.widgets.dialogs import ChoiceDialog
from annotrain_tui.tui.widgets.frame_table import FrameTable
from annotrain_tui.tui.widgets.inputs import SafeInput
from annotrain_tui.tui.widgets.shape_canvas import ShapeCanvas
from tests.tui.helpers import make_app, screen_text, settle

ALEX, BEA = "alex.kim@example.com", "bea.santos@example.com"


async def open_eval(app, pilot) -> EvaluationScreen:
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, EvaluationScreen) and screen.snapshot is not None
    return screen


def title_of(app) -> str:
    return str(app.screen.query_one("#annotator-title").render())


def put_cursor(table: FrameTable, key) -> None:
    """The cursor on the row whose key is ``key`` (as the arrow keys would put it)."""
    import numpy as np

    pos = int(np.flatnonzero(table.frame[table.key_column].to_numpy() == key)[0])
    table.cursor_row = int(np.flatnonzero(table.order == pos)[0])
    assert table.current_key() == key


async def set_class_filter(app, pilot, text: str) -> None:
    await pilot.press("f")
    await pilot.pause()
    app.screen.query_one("#field-class", SafeInput).value = text
    await pilot.press("enter")
    await settle(app, pilot)


# -- item 8: the drill-down's header says the Missed column's number --------------------------------

async def test_the_drill_down_header_counts_missed_as_its_column_within_a_class_filtered_or_not(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600, class_matching="same")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_eval(app, pilot)
        objects = screen.snapshot.objects
        assert ((objects["annotator"] == BEA) & (objects["outcome"] == "class_mismatch")).any()
        for class_text in ("", "car"):
            if class_text:
                await set_class_filter(app, pilot, class_text)
            table = screen.query_one("#annotators", FrameTable)
            put_cursor(table, BEA)
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, AnnotatorScreen)
            items = app.screen.query_one("#items", FrameTable).frame
            missed = int(items["missed"].sum())
            assert missed > int((app.screen.object_rows["outcome"] == "missed").sum())  # class mismatches too
            assert f"{int(items['objects'].sum())} object(s), {missed} missed." in title_of(app)
            if not class_text:  # the annotator's whole work: the CLI's MISSED (the engine's score)
                assert missed == screen.snapshot.result.annotators[BEA].missed
            await pilot.press("escape")
            await settle(app, pilot)


# -- items 9 and 17: offline, the Done column is the status's, and nothing polls --------------------

def _offline_files(tmp_path):
    from tests.synth import make_mixed_programme

    prog = make_mixed_programme(seed=3, n_items=2, annotators=("ann@example.com",))
    bm, paths = prog.write_files(tmp_path)
    path = Path(paths[0])
    path.write_text(json.dumps(json.loads(path.read_text())[:1]))  # the trainee finished one of two items
    return str(bm), paths


async def test_offline_the_done_column_is_the_coverage_the_status_uses(tmp_path):
    bm, paths = _offline_files(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation",
                   options={"benchmark_labels": bm, "training_labels": paths})
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_eval(app, pilot)
        frame = screen.query_one("#annotators", FrameTable).frame.set_index("annotator")
        score = screen.snapshot.result.annotators["ann@example.com"]
        assert (score.items_done, score.items_required, score.status) == (1, 2, "not enough work yet")
        assert frame.at["ann@example.com", "progress"] == "1/2"
        assert "1 of 2 item(s) finished" in str(screen.query_one("#eval-detail").render())


async def test_offline_the_screen_offers_no_polling_keys_and_its_help_says_what_r_does(tmp_path):
    bm, paths = _offline_files(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation",
                   options={"benchmark_labels": bm, "training_labels": paths})
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_eval(app, pilot)
        assert screen.check_action("pause", ()) is False and screen.check_action("resume", ()) is False
        assert "offline export" in str(screen.query_one("#eval-status").render())
        footer = screen_text(app).splitlines()[-1]
        assert "Pause" not in footer and "Resume" not in footer and "Filter" in footer
        await pilot.press("p")  # does nothing offline: no state to pause
        await pilot.pause()
        assert screen.live_on
        await pilot.press("f1")
        await settle(app, pilot)
        text = " ".join(screen_text(app).split())
        assert "Nothing refreshes on its own" in text
        assert "poll" not in text and "pauses" not in text


async def test_live_the_screen_still_offers_pause(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_eval(app, pilot)
        assert screen.check_action("pause", ()) is True
        assert "Pause" in screen_text(app).splitlines()[-1]
        assert "refreshes on its own" in screen.SCREEN_HELP and screen.SCREEN_HELP != screen.OFFLINE_HELP


# -- item 18: the matching choice opens on the current one; one item title -------------------------

async def test_the_matching_choice_opens_on_the_matching_in_force(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600, class_matching="same")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_eval(app, pilot)
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        from textual.widgets import OptionList

        ol = app.screen.query_one(OptionList)
        assert ol.highlighted is not None and ol.get_option_at_index(ol.highlighted).id == "same"
        await pilot.press("enter")  # Enter without moving keeps the matching
        await settle(app, pilot)
        assert screen.snapshot.settings.class_matching == "same" and not screen.rescoring


async def test_the_item_screen_title_is_the_drill_downs_item_name(tmp_path):
    from tests.synth import make_mixed_programme

    prog = make_mixed_programme(seed=3, n_items=2, annotators=("ann@example.com",))
    for r in prog.benchmark:  # the benchmark's copy of the item carries another title
        r["data_title"] = "BENCH-" + r["data_title"]
        for unit in r["data_units"].values():
            unit["data_title"] = "BENCH-" + unit["data_title"]
    bm, paths = prog.write_files(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation",
                   options={"benchmark_labels": str(bm), "training_labels": paths})
    async with app.run_test(size=(120, 30)) as pilot:
        await open_eval(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        items = app.screen.query_one("#items", FrameTable)
        listed = str(items.frame.set_index("data_hash").at[items.current_key(), "data_title"])
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ItemScreen)
        assert app.screen.view.title == listed and not listed.startswith("BENCH-")
        assert app.screen.sub_title.endswith(listed)


# -- item 7: a class filter reaches the item canvas and table ---------------------------------------

async def test_under_a_class_filter_the_item_canvas_greys_the_other_classes_and_says_so(tmp_path):
    from annotrain_tui.tui.canvas.model import DIMMED

    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_eval(app, pilot)
        await set_class_filter(app, pilot, "car")
        table = screen.query_one("#annotators", FrameTable)
        put_cursor(table, ALEX)
        await pilot.press("enter")
        await settle(app, pilot)
        # the item with the most objects of other classes beside its cars
        o = screen.snapshot.objects
        mine = o[o["annotator"] == ALEX]
        is_car = (mine["class"] == "Car") | (mine["benchmark_class"] == "Car")
        others = mine[~is_car].groupby("data_hash").size()
        cars = mine[is_car].groupby("data_hash").size()
        both = [h for h in cars.index if h in others.index]
        assert both
        items = app.screen.query_one("#items", FrameTable)
        put_cursor(items, both[0])
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ItemScreen)
        view = app.screen.view
        kept = view.objects
        assert all(((kept["class"] == "Car") | (kept["benchmark_class"] == "Car")).tolist())
        dim = [s for s in view.shapes if s.dimmed]
        assert dim and all(s.class_name != "Car" for s in dim)
        assert any(not s.dimmed and s.class_name == "Car" for s in view.shapes)
        canvas = app.screen.query_one("#canvas", ShapeCanvas)
        for drawn, shape in zip(canvas.shapes, view.shapes):  # the canvas draws the view's shapes, in order
            assert (drawn.color == DIMMED) == shape.dimmed
        assert "other classes grey" in canvas.title_text


def _offline_app(tmp_path, prog):
    """The evaluation screen on a programme's files (offline), and the training files' paths."""
    bm, paths = prog.write_files(tmp_path)
    return make_app(tmp_path / "ws.db", start_screen="evaluation",
                    options={"benchmark_labels": str(bm), "training_labels": paths}), paths


def _keep_two_rows(path: str) -> None:
    """The file changed on disk after it was scored: its first two rows only."""
    Path(path).write_text(json.dumps(json.loads(Path(path).read_text())[:2]))


async def test_offline_a_drill_down_into_a_file_changed_since_it_was_scored_says_so(tmp_path):
    """A file session keeps no rows: the drill-down reads the files again. One changed on disk since
    the scores is said in one line, and the tables say they were not loaded (not "No paired items")."""
    from tests.synth import make_programme

    app, paths = _offline_app(tmp_path, make_programme(seed=3, n_items=4, annotators=("ann@example.com",)))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_eval(app, pilot)
        assert screen.query_one("#annotators", FrameTable).row_count == 1
        _keep_two_rows(paths[0])
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AnnotatorScreen)
        text = screen_text(app)
        assert "changed since it was scored" in text and "Traceback" not in text
        assert "Not loaded" in text and "No paired items" not in text
        await pilot.press("escape", "r")  # read again: the drill-down follows the file
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AnnotatorScreen)
        assert app.screen.query_one("#items", FrameTable).row_count == 2


async def test_offline_a_class_filter_that_cannot_be_scored_is_dropped_not_left_scoring(tmp_path):
    """The class filter scores the per-object rows, which a file session reads again: a file changed
    since the scores makes it fail; the error line says why, and the status no longer says it is
    scoring, nor names a class the table is not filtered by."""
    from tests.synth import make_mixed_programme

    app, paths = _offline_app(tmp_path, make_mixed_programme(seed=3, n_items=4, annotators=("ann@example.com",)))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_eval(app, pilot)
        _keep_two_rows(paths[0])
        await set_class_filter(app, pilot, "car")
        status = str(screen.query_one("#eval-status").render())
        assert "scoring" not in status and "car" not in status
        assert screen.filter.class_name == "" and screen._scoring_filter is None
        assert "changed since it was scored" in screen_text(app)
