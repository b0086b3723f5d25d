"""The live evaluation screens with Pilot: sort, drill-down, filters, canvas, export, copy, live update."""

from __future__ import annotations

import csv
import json

import numpy as np

from annotrain_tui.core.backends.sandbox.ops import simulate
from annotrain_tui.tui.screens.evaluation import AnnotatorScreen, EvaluationScreen, ItemScreen
from annotrain_tui.tui.widgets.dialogs import ChoiceDialog, FormDialog, PathDialog
from annotrain_tui.tui.widgets.frame_table import FrameTable
from annotrain_tui.tui.widgets.shape_canvas import ShapeCanvas
from tests.tui.helpers import make_app, settle

DEMO = ["alex.kim@example.com", "bea.santos@example.com", "chidi.okafor@example.com"]


def column(table: FrameTable, key: str) -> list:
    return [table.frame[key].iat[int(i)] for i in table.order]


async def open_eval(pilot, app) -> tuple[EvaluationScreen, FrameTable]:
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, EvaluationScreen)
    return screen, screen.query_one("#annotators", FrameTable)


async def test_sorting_by_each_column_and_reversing(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    async with app.run_test(size=(120, 30)) as pilot:
        screen, table = await open_eval(pilot, app)
        assert column(table, "annotator") == DEMO
        for i, col in enumerate(table.columns):
            table.cursor_column = i
            await pilot.press("s")
            values = column(table, col.key)
            keyed = [v for v in values if not (isinstance(v, float) and np.isnan(v))]
            if col.key == "annotator" and table.sort_reverse:  # annotator was already the sort: s reverses
                assert keyed == sorted(keyed, key=str.casefold, reverse=True)
            elif col.key not in ("last_activity", "iou_dist", "progress", "status", "annotator"):
                assert keyed == sorted(keyed, reverse=table.sort_reverse), col.key
            before_s = column(table, col.key)
            keys_before = column(table, "annotator")
            was_reverse = table.sort_reverse
            await pilot.press("S")
            assert table.sort_reverse is (not was_reverse)
            after_s = column(table, col.key)
            # S reverses the order exactly (the values, and with distinct values the rows themselves).
            if col.key not in ("last_activity", "iou_dist", "progress", "status", "annotator"):
                reversed_values = [v for v in after_s if not (isinstance(v, float) and np.isnan(v))]
                assert reversed_values == sorted(keyed, reverse=table.sort_reverse), col.key
                assert reversed_values == sorted(keyed, reverse=not was_reverse), col.key
            assert len(after_s) == len(before_s)
            if len(set(map(str, before_s))) == len(before_s) and len(keyed) == len(before_s):
                assert column(table, "annotator") == list(reversed(keys_before)), col.key
        table.cursor_column = [c.key for c in table.columns].index("f1")
        await pilot.press("s")
        f1 = column(table, "f1")
        assert f1 == sorted(f1) and table.sort_key == "f1" and not table.sort_reverse
        await pilot.press("S")
        assert column(table, "f1") == sorted(f1, reverse=True) and table.sort_reverse


async def test_drill_down_to_items_objects_and_the_canvas_and_back(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    async with app.run_test(size=(120, 34)) as pilot:
        screen, table = await open_eval(pilot, app)
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AnnotatorScreen) and app.screen.annotator == DEMO[1]
        items = app.screen.query_one("#items", FrameTable)
        assert items.row_count == 38
        await pilot.press("o")
        objects = app.screen.query_one("#objects", FrameTable)
        assert objects.display and objects.row_count == len(app.screen.object_rows)
        assert set(app.screen.object_rows["annotator"]) == {DEMO[1]}
        await pilot.press("o", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ItemScreen)
        canvas = app.screen.query_one(ShapeCanvas)
        sides = {s.side for s in canvas.shapes}
        assert sides == {"benchmark", "annotator"}
        raster = canvas.raster()
        assert raster.dots.any()
        await pilot.press("escape")
        assert isinstance(app.screen, AnnotatorScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, EvaluationScreen)
        assert table.current_key() == DEMO[1]  # the cursor is where we left it


async def test_filters_by_annotator_class_and_iou_threshold(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    async with app.run_test(size=(120, 30)) as pilot:
        screen, table = await open_eval(pilot, app)
        matched_before = screen.snapshot.result.annotators[DEMO[0]].matched
        await pilot.press("f")
        assert isinstance(app.screen, FormDialog)
        app.screen.query_one("#field-annotator").value = "BEA"
        app.screen.query_one("#field-iou").value = "0.9"
        await pilot.press("enter")
        await settle(app, pilot)
        assert column(table, "annotator") == [DEMO[1]]
        assert screen.snapshot.result.settings.iou_threshold == 0.9
        assert screen.snapshot.result.annotators[DEMO[0]].matched < matched_before
        await pilot.press("f")
        app.screen.query_one("#field-annotator").value = ""
        app.screen.query_one("#field-class").value = "road sign"
        await pilot.press("enter")
        await settle(app, pilot)
        assert len(column(table, "annotator")) >= 1
        await pilot.press("f")
        app.screen.query_one("#field-iou").value = "2"
        await pilot.press("enter")
        assert isinstance(app.screen, FormDialog)  # refused, with a message


async def test_export_seed_full_json_and_copy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    copied = []
    app.copy_to_clipboard = copied.append  # what would go out as OSC 52
    async with app.run_test(size=(120, 30)) as pilot:
        screen, table = await open_eval(pilot, app)
        for kind, name in (("seed", "iou_results.csv"), ("full", "evaluation_objects.csv"), ("json", "evaluation.json")):
            await pilot.press("e")
            assert isinstance(app.screen, ChoiceDialog)
            await pilot.press(*{"seed": [], "full": ["down"], "json": ["down", "down"]}[kind], "enter")
            assert isinstance(app.screen, PathDialog)
            await pilot.press("enter")
            await settle(app, pilot)
            assert (tmp_path / name).exists()
        header = next(csv.reader((tmp_path / "iou_results.csv").read_text().splitlines()))
        assert header == ["training_email", "data_unit_name", "label_id", "iou_score", "class_score"]
        doc = json.loads((tmp_path / "evaluation.json").read_text())
        assert set(doc["annotators"]) == set(DEMO)
        await pilot.press("y")
        assert copied and copied[-1].splitlines()[0].startswith("Annotator\tStatus")
        assert len(copied[-1].splitlines()) == 4


async def test_live_update_changes_rows_in_place_keeping_sort_cursor_and_scroll(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, table = await open_eval(pilot, app)
        table.cursor_column = [c.key for c in table.columns].index("f1")
        await pilot.press("s", "S", "down")
        key, sort, scroll = table.current_key(), (table.sort_key, table.sort_reverse), table.scroll_offset
        before = screen.snapshot.frame.set_index("annotator")["complete"].to_dict()
        steps = simulate(app.workspace.raw, rate=1000, duration=0.3, seed=5)  # annotators keep labelling
        assert steps > 0
        await pilot.press("r")
        await settle(app, pilot)
        after = screen.snapshot.frame.set_index("annotator")["complete"].to_dict()
        assert sum(after.values()) > sum(before.values())
        assert (table.sort_key, table.sort_reverse) == sort and table.current_key() == key
        assert table.scroll_offset == scroll
        assert column(table, "f1") == sorted(column(table, "f1"), reverse=True)


async def test_hostile_emails_and_titles_are_shown_literally_and_exported_safely(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    raw = app.workspace.raw
    hostile = "=HYPERLINK(\"x\")[bold red]Ünï[/]\x1b[2J@evil"
    # A project with no training marker: its objects are credited to their createdBy (a marked
    # project's are its trainee's, whoever createdBy names).
    bench = next(p for p in raw.list_projects() if p.title == "Benchmark Labels")
    unmarked = raw.create_project("Unmarked copy", description="", dataset_ids=bench.dataset_ids,
                                  ontology_id=bench.ontology_id)
    row = raw.list_label_rows(bench.id, stage="Complete")[0]
    from annotrain_tui.core.backends.sandbox.labels import objects_of

    objs = objects_of(raw.get_label_rows(bench.id, [row.data_hash])[0])
    for o in objs:
        o["createdBy"] = hostile
    raw.save_labels(unmarked.id, row.data_hash, objs, stage="Complete")
    app.screen_options = {"benchmark": bench.id, "training": [unmarked.id]}
    async with app.run_test(size=(120, 30)) as pilot:
        screen, table = await open_eval(pilot, app)
        shown = [r[0] for r in table.rows_as_text()]
        literal = next(s for s in shown if "HYPERLINK" in s)
        assert "[bold red]Ünï[/]" in literal and "\x1b" not in literal and "\\x1b[2J" in literal
        await pilot.press("e", "enter", "enter")
        await settle(app, pilot)
        cells = [r[0] for r in csv.reader((tmp_path / "iou_results.csv").read_text().splitlines())]
        assert any(c.startswith("'=HYPERLINK") for c in cells)
        assert not any(c.startswith("=") for c in cells)


async def test_offline_exports_open_in_the_same_screen(tmp_path):
    from tests.synth import make_programme

    prog = make_programme(seed=3, n_items=6)
    bm, paths = prog.write_files(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation",
                   options={"benchmark_labels": str(bm), "training_labels": paths})
    async with app.run_test(size=(120, 30)) as pilot:
        screen, table = await open_eval(pilot, app)
        assert not screen.snapshot.live
        assert column(table, "annotator") == sorted(prog.annotators.values())
