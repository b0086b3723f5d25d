"""Issue 15 fix 2 with Pilot: a filter applies to the annotator table, the detail line, the
confusion matrix and every export, and each export names it; the confusion-matrix view."""

from __future__ import annotations

import csv
import json

import pandas as pd

from annotrain_tui.core.evaluation.views import Filter
from annotrain_tui.tui.screens.evaluation import AnnotatorScreen, EvaluationScreen
from annotrain_tui.tui.screens.evaluation.confusion import ConfusionScreen
from annotrain_tui.tui.widgets.dialogs import ChoiceDialog, FormDialog, PathDialog
from annotrain_tui.tui.widgets.frame_table import FrameTable
from annotrain_tui.tui.widgets.inputs import SafeInput
from tests.tui.helpers import make_app, screen_text, settle

BEA = "bea.santos@example.com"


async def set_class_filter(app, pilot, text: str) -> None:
    await pilot.press("f")
    assert isinstance(app.screen, FormDialog)
    app.screen.query_one("#field-class", SafeInput).value = text
    await pilot.press("enter")
    await settle(app, pilot)


async def export(app, pilot, downs: int) -> tuple[str, str]:
    """Export with the proposed name; (the name proposed, the notice after saving)."""
    await pilot.press("e")
    assert isinstance(app.screen, ChoiceDialog)
    await pilot.press(*["down"] * downs, "enter")
    await pilot.pause()
    assert isinstance(app.screen, PathDialog)
    proposed = app.screen.query_one("#field-path", SafeInput).value
    await pilot.press("enter")
    await settle(app, pilot)
    notice = list(app._notifications)[-1].message
    return proposed, notice


def row_of(table: FrameTable, key: str) -> pd.Series:
    return table.frame.set_index(table.key_column).loc[key]


async def test_a_class_filter_scores_the_table_and_the_detail_and_every_export_names_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EvaluationScreen)
        table = screen.query_one("#annotators", FrameTable)
        before = row_of(table, BEA).copy()
        await set_class_filter(app, pilot, "car")
        after = row_of(table, BEA)
        cars = screen.snapshot.scores(Filter(class_name="car"))[BEA]
        assert (after["objects"], after["matched"], after["missed"]) == (cars.objects, cars.matched, cars.missed)
        assert after["objects"] < before["objects"] and after["f1"] == cars.f1
        assert after["progress"] == before["progress"]
        # the detail line under the table: the filtered counts
        while table.current_key() != BEA:
            await pilot.press("down")
        await pilot.pause()
        detail = str(screen.query_one("#eval-detail").render())
        assert f"{cars.matched} matched, {cars.missed} missed" in detail

        proposed, notice = await export(app, pilot, 0)
        assert proposed.endswith("iou_results.class-car.csv") and "filter: class~'car'" in notice
        seed = list(csv.DictReader((tmp_path / "iou_results.class-car.csv").open()))
        assert 0 < len(seed) == len(screen.session.seed_rows(Filter(class_name="car")))
        assert len(seed) < len(screen.session.seed_rows())

        proposed, notice = await export(app, pilot, 1)
        assert proposed.endswith("evaluation_objects.class-car.csv") and "filter: class~'car'" in notice
        rows = list(csv.DictReader((tmp_path / "evaluation_objects.class-car.csv").open()))
        assert rows and all("car" in (r["class"] + r["benchmark_class"]).casefold() for r in rows)

        proposed, notice = await export(app, pilot, 2)
        assert proposed.endswith("evaluation.class-car.json") and "filter: class~'car'" in notice
        doc = json.loads((tmp_path / "evaluation.class-car.json").read_text())
        assert doc["filter"] == {"class": "car"}
        assert doc["annotators"][BEA]["objects"] == cars.objects

        await set_class_filter(app, pilot, "")  # cleared: the engine's scores again, names without a tag
        assert row_of(table, BEA)["objects"] == before["objects"]
        proposed, notice = await export(app, pilot, 2)
        assert proposed.endswith("evaluation.json") and "(filter:" not in notice
        assert json.loads((tmp_path / "evaluation.json").read_text())["filter"] is None


def matrix_of(screen: ConfusionScreen) -> pd.DataFrame:
    """The matrix the screen's table shows, back as benchmark class × drawn class."""
    table = screen.query_one("#confusion", FrameTable)
    labels = {c.key: c.label for c in table.columns}
    frame = table.frame.set_index("benchmark_class")
    return frame[[k for k in labels if k.startswith("c")]].rename(columns=labels)


async def test_the_confusion_view_of_one_annotator_and_of_everyone_and_its_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        main = app.screen
        table = main.query_one("#annotators", FrameTable)
        while table.current_key() != BEA:
            await pilot.press("down")
        await pilot.press("c")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConfusionScreen)
        result = main.snapshot.result
        expected = result.confusion(BEA)
        shown = matrix_of(screen)
        assert list(shown.index) == list(expected.index) and list(shown.columns) == list(expected.columns)
        assert (shown.to_numpy() == expected.to_numpy()).all()
        assert list(shown.columns)[-1] == "unmatched" and list(shown.index)[-1] == "unmatched"
        text = screen_text(app)
        assert all(len(line) <= 80 for line in text.splitlines()) and "Pedestrian" in text  # it fits 80×24
        assert "a Everyone/one" in text.splitlines()[23]

        await pilot.press("a")  # everyone
        await settle(app, pilot)
        assert (matrix_of(screen).to_numpy() == result.confusion().to_numpy()).all()
        await pilot.press("a")  # back to the annotator
        await settle(app, pilot)

        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, PathDialog)
        assert app.screen.query_one("#field-path", SafeInput).value.endswith(
            "confusion.annotator-bea_santos_example_com.csv")
        await pilot.press("enter")
        await settle(app, pilot)
        rows = list(csv.DictReader((tmp_path / "confusion.annotator-bea_santos_example_com.csv").open()))
        assert {r["annotator"] for r in rows} == {BEA}
        assert sum(int(r["count"]) for r in rows) == int(expected.to_numpy().sum())
        await pilot.press("escape")
        assert app.screen is main


async def test_the_confusion_view_follows_the_class_filter_from_the_drill_down(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        main = app.screen
        await set_class_filter(app, pilot, "bus")
        await pilot.press("enter")  # the first annotator's items
        await settle(app, pilot)
        assert isinstance(app.screen, AnnotatorScreen)
        who = app.screen.annotator
        await pilot.press("c")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConfusionScreen) and screen.view.filter.class_name == "bus"
        shown = matrix_of(screen)
        assert set(shown.index) - {"unmatched"} >= {"Bus"}
        view = main.snapshot.confusion(who, Filter(class_name="bus"))
        assert (shown.to_numpy() == view.matrix.to_numpy()).all()
        assert shown.to_numpy().sum() < main.snapshot.result.confusion(who).to_numpy().sum()
        assert "filter: class~'bus'" in screen_text(app)


def test_class_names_in_the_matrix_go_through_the_untrusted_text_policy():
    from annotrain_tui.core.evaluation.views import ConfusionView, confusion_matrix
    from annotrain_tui.tui.screens.evaluation.confusion import matrix_columns

    counts = pd.DataFrame({"annotator": ["a"], "benchmark_class": ["\x1b[2J[bold]x[/]"],
                           "annotator_class": ["\u202eevil"], "count": [1]})
    view = ConfusionView(annotator="a", filter=Filter(), matrix=confusion_matrix(counts), counts=counts)
    labels = [c.label for c in matrix_columns(view)]
    assert not any("\x1b" in s or "\u202e" in s for s in labels)
    assert any("\\u202e" in s for s in labels)


async def test_a_class_filter_is_scored_off_the_ui_thread_and_a_stale_answer_is_dropped(tmp_path, monkeypatch):
    """Issue 14: a class filter scores every per-object row again (seconds at 150,000 objects);
    the screen asks a worker and keeps answering keys meanwhile. An answer for a filter the user
    has since changed is not shown."""
    import threading

    from annotrain_tui.core.evaluation import views

    threads: list[bool] = []
    release = threading.Event()
    scores = views.annotator_scores

    def slow_scores(objects, pass_mark, engine, class_name, labels):  # noqa: ANN001, ANN202
        threads.append(threading.current_thread() is threading.main_thread())
        if class_name == "car":
            release.wait(timeout=30)
        return scores(objects, pass_mark, engine, class_name, labels)

    monkeypatch.setattr(views, "annotator_scores", slow_scores)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EvaluationScreen)
        table = screen.query_one("#annotators", FrameTable)
        unfiltered = row_of(table, BEA).copy()
        screen.set_filter(Filter(class_name="car"))
        await pilot.pause()
        said = " ".join(screen_text(app).split())
        assert "scoring the class filter 'car'…" in said  # said at once, the table unchanged
        assert row_of(table, BEA)["objects"] == unfiltered["objects"]
        await pilot.press("question_mark")  # the app answers keys while the worker scores
        await pilot.pause()
        assert app.screen is not screen
        await pilot.press("escape")
        screen.set_filter(Filter(class_name="pedestrian"))  # the user moved on: car's answer is stale
        release.set()
        await settle(app, pilot)
        people = screen.snapshot.scores(Filter(class_name="pedestrian"))[BEA]
        assert row_of(table, BEA)["objects"] == people.objects
        assert threads and not any(threads)  # never scored on the UI thread
        assert len(threads) == 2  # once per filter: the detail line and the table share the scores
