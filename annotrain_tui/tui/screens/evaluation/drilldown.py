"""Levels 2 and 3 of the evaluation: one annotator's items and objects, and one item's canvas."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Footer, Header, Static
from textual.worker import Worker

from annotrain_tui.core.errors import AnnotrainError, OutputExists
from annotrain_tui.core.evaluation.views import EvaluationSnapshot, Filter, ItemView, object_counts
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.screens.evaluation.breakdown import BreakdownScreen
from annotrain_tui.tui.screens.evaluation.common import (
    ITEM_COLUMNS,
    ITEM_OBJECT_COLUMNS,
    OBJECT_COLUMNS,
    copy_table,
    filter_dialog,
    filter_from,
)
from annotrain_tui.tui.screens.evaluation.confusion import ConfusionScreen
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog
from annotrain_tui.tui.widgets.frame_table import FrameTable
from annotrain_tui.tui.widgets.shape_canvas import ShapeCanvas, canvas_shapes

if TYPE_CHECKING:
    import pandas as pd
else:
    from annotrain_tui.core.lazy import lazy_module

    pd = lazy_module("pandas")  # the evaluation screen's first view needs no frame


class AnnotatorScreen(AppScreen):
    """Level 2: one annotator's items (or all their objects, o toggles), from a snapshot."""

    TITLE = "Annotator"
    SCREEN_HELP = ("The annotator's items with their matched, missed and extra objects (o: every object instead). "
                   "Enter opens an item: its objects and both sides' shapes on a canvas. f filters by class "
                   "(and sets the IoU threshold; the annotator table follows), c shows the annotator's confusion "
                   "matrix (a there: everyone's; e exports it as CSV), b breaks the annotator's scores down (by shape, by "
                   "class, per classification question and attribute, items finished, the status's reason), F writes "
                   "the annotator's feedback pack (an HTML page and the same as Markdown: scores against the mark, "
                   "the errors they make most, their worst items drawn) into a directory you name, s/S sort, "
                   "Escape goes back.")
    BINDINGS = [
        Binding("o", "toggle_objects", "Items/objects", id="annotator.toggle"),
        Binding("f", "filters", "Filter", id="annotator.filter"),
        Binding("c", "confusion", "Confusion", id="annotator.confusion"),
        Binding("b", "breakdown", "Breakdown", id="annotator.breakdown"),
        # f is the filter, as on the annotator table: the pack is F
        Binding("F", "feedback", "Feedback", id="annotator.feedback"),
        Binding("y", "copy", "Copy", id="annotator.copy"),
        Binding("escape", "app.pop_screen", "Back", id="annotator.back"),
    ]
    #: after the rest: at 80 columns F (the pack) and Enter (open an item) keep their place; c, b and y
    #: are in the help
    FOOTER_SECONDARY = frozenset({"annotator.confusion", "annotator.breakdown", "annotator.copy"})

    class Built(Message):
        """The worker's tables for this annotator under the filter."""

        bubble = False  # for this screen only

        def __init__(self, items: pd.DataFrame, objects: pd.DataFrame) -> None:
            super().__init__()
            self.items = items
            self.objects = objects

    def __init__(self, snapshot: EvaluationSnapshot, annotator: str, filter: Filter | None = None, *,
                 on_filter: Callable[[Filter], None] | None = None, objects: bool = False,
                 inputs: list[str] | None = None) -> None:
        super().__init__()
        self.inputs = inputs or []  # the files the evaluation reads: an export never replaces one
        self.snapshot = snapshot
        self.annotator = annotator
        self.filter = filter or Filter()
        self.on_filter = on_filter
        self.show_objects = objects
        self.object_rows: pd.DataFrame = pd.DataFrame()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(lit(f"Loading the items and objects of {self.annotator}…", "dim", limit=120), id="annotator-title")
        # until the worker's tables come (a file session reads its files again for them: a second or
        # so), the tables say they are loading, not that there is nothing
        yield FrameTable(ITEM_COLUMNS, key_column="data_hash", id="items", empty="Loading…")
        yield FrameTable(OBJECT_COLUMNS, key_column="row_id", id="objects", empty="Loading…")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.annotator
        self.build()

    @work(thread=True, exclusive=True, exit_on_error=False, group="annotator-build")
    def build(self) -> None:
        f = Filter(class_name=self.filter.class_name)  # the annotator is chosen; the class still narrows
        self.post_message(self.Built(self.snapshot.items_of(self.annotator, f),
                                     self.snapshot.objects_of(self.annotator, f)))

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group != "annotator-build":
            return
        for table in self.query(FrameTable):  # the error bar says what went wrong
            table.empty_text = "Not loaded (see the line above)."
            table.refresh()
        self.query_one("#annotator-title", Static).update(lit(f"{self.annotator}: not loaded", "red", limit=120))

    @on(Built)
    def _built(self, event: Built) -> None:
        items, objects = event.items, event.objects
        self.object_rows = objects
        it = self.query_one("#items", FrameTable)
        ob = self.query_one("#objects", FrameTable)
        it.empty_text, ob.empty_text = "No paired items.", "No objects."
        it.set_frame(items)
        ob.set_frame(objects)
        it.display, ob.display = not self.show_objects, self.show_objects
        (ob if self.show_objects else it).focus()
        t = Text()
        t.append_text(lit(self.annotator, "bold"))
        n = object_counts(objects)  # the Missed column's definition (a class mismatch is a miss too)
        t.append(f": {len(items)} item(s), {n['object']} object(s), {n['missed']} missed. Enter opens an item.")
        if self.filter.class_name:
            t.append_text(lit(f"  filter: class~{self.filter.class_name!r}", "magenta"))
        self.query_one("#annotator-title", Static).update(t)

    def action_toggle_objects(self) -> None:
        self.show_objects = not self.show_objects
        it, ob = self.query_one("#items", FrameTable), self.query_one("#objects", FrameTable)
        it.display, ob.display = not self.show_objects, self.show_objects
        (ob if self.show_objects else it).focus()

    def action_confusion(self) -> None:
        self.app.push_screen(ConfusionScreen(self.snapshot, self.annotator, Filter(class_name=self.filter.class_name),
                                             inputs=self.inputs))

    def action_breakdown(self) -> None:
        self.app.push_screen(BreakdownScreen(self.snapshot, self.annotator, Filter(class_name=self.filter.class_name)))

    def action_filters(self) -> None:
        def done(values: dict[str, str] | None) -> None:
            if values is None or (new := filter_from(values, self.filter)) is None:
                return
            rescored = new.iou_threshold is not None and \
                abs(new.iou_threshold - self.snapshot.settings.iou_threshold) > 1e-12
            self.filter = new
            if self.on_filter is not None:
                self.on_filter(new)
            if rescored:  # the scores change: the annotator table shows them once re-scored
                self.notify("Scoring again with the new IoU threshold; the annotator table shows the result.",
                            title="Filter", markup=False)
                self.app.pop_screen()
                return
            self.build()

        self.app.push_screen(filter_dialog(self.filter, self.snapshot.settings.iou_threshold,
                                           annotator_field=False), done)

    @on(FrameTable.RowSelected)
    def _open(self, event: FrameTable.RowSelected) -> None:
        if event.table.id == "items":
            data_hash = str(event.key)
        else:
            row = self.object_rows[self.object_rows["row_id"] == event.key]
            if not len(row):
                return
            data_hash = str(row["data_hash"].iat[0])
        self.app.push_screen(ItemScreen(self.snapshot, self.annotator, data_hash,
                                        Filter(class_name=self.filter.class_name)))

    def action_copy(self) -> None:
        copy_table(self, self.query_one("#objects" if self.show_objects else "#items", FrameTable))

    # -- the feedback pack ----------------------------------------------------------------
    def action_feedback(self) -> None:
        """Ask for the directory (the last export's, else the working directory), then write the
        annotator's pack there in a worker; an existing pack is replaced only once the user says so."""
        from annotrain_tui.core.files import user_path

        if self.snapshot.result is None:
            self.notify("The evaluation has not loaded yet.", severity="warning")
            return
        remembered = self.app.workspace.recent().get("export_dir")
        start = remembered if remembered and Path(remembered).is_dir() else str(Path.cwd())

        def check(values: dict[str, str]) -> str | None:
            text = values["dir"].strip()
            if not text:
                return "Type the directory the pack goes in."
            try:
                path = user_path(text)
            except AnnotrainError as err:
                return str(err)
            if path.exists() and not path.is_dir():
                return f"{path} is not a directory."
            return None

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            path = user_path(values["dir"].strip())
            self.app.workspace.recent().set(export_dir=str(path))
            self.write_feedback(path)

        self.app.push_screen(FormDialog(f"Feedback pack of {self.annotator}", [
            ("dir", "Directory (the pack's .html and .md go in it; made when missing)", start)],
            validate=check, submit="Write"), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="annotator-feedback")
    def write_feedback(self, directory: Path, force: bool = False) -> None:
        from annotrain_tui.core.feedback import write_snapshot_packs

        try:
            written = write_snapshot_packs(self.snapshot, directory, [self.annotator], force=force,
                                           inputs=self.inputs)
        except OutputExists as err:  # its message only: the hint is the CLI's ("pass --force")
            self.app.call_from_thread(self._ask_overwrite, directory, err.message)
            return
        self.app.call_from_thread(self.notify, "Wrote the feedback pack of " + self.annotator + ": "
                                  + ", ".join(str(p) for p in written), title="Feedback", timeout=10)

    def _ask_overwrite(self, directory: Path, why: str) -> None:
        body = Text()  # wrapped (a long path must not cut the question off)
        body.append_text(lit(why))
        body.append(". Replace the pack of ")
        body.append_text(lit(self.annotator, "bold"))
        body.append(" in ")
        body.append_text(lit(directory))
        body.append(" with a new one?")

        def answered(yes: bool | None) -> None:
            if yes:
                self.write_feedback(directory, force=True)

        self.app.push_screen(ConfirmDialog("Overwrite the feedback pack?", body, yes="Overwrite", enter_says_yes=True),
                             answered)


class ItemScreen(AppScreen):
    """Level 3: one item: its objects, and both sides' shapes drawn on a canvas (the item view of a snapshot)."""

    TITLE = "Item"
    SCREEN_HELP = ("The benchmark's shapes (solid) and the annotator's (dashed) on one image, coloured by class: "
                   "boxes, polygons and polylines as lines, masks by their outline, points and skeleton keypoints "
                   "as a dotted plus (benchmark) or cross (annotator), an invisible keypoint hollow; "
                   "a matched pair carries the same number on the canvas and in the table's # column, with the "
                   "annotator shape's IoU; ✗ marks a missed benchmark object, + an extra one. The legend counts "
                   "shapes per class as benchmark/annotator; k shows the whole legend, explained. [ and ] change the "
                   "frame of a video or image group; b/a/l toggle benchmark, annotator, links. Under a class filter "
                   "the table lists that class's objects (as the drill-down does) and the canvas draws the other "
                   "classes' shapes grey, for context; its title says so.")
    BINDINGS = [
        Binding("right_square_bracket", "frame(1)", "Next frame", id="item.next_frame"),
        Binding("left_square_bracket", "frame(-1)", "Prev frame", show=False, id="item.prev_frame"),
        # the canvas's own keys, here too: they work while the table has the focus, and the help
        # lists them as this screen's (the canvas's rows then go: the same keys, said once)
        Binding("b", "canvas('toggle_benchmark')", "Benchmark", id="item.toggle_benchmark"),
        Binding("a", "canvas('toggle_annotator')", "Annotator", id="item.toggle_annotator"),
        Binding("l", "canvas('toggle_links')", "Links", id="item.toggle_links"),
        Binding("k", "canvas('legend')", "Legend", id="item.legend"),
        Binding("escape", "app.pop_screen", "Back", id="item.back"),
    ]
    # The table keeps the width its first columns need (#, IoU, Outcome, Class) at 80 columns; the
    # canvas takes the rest. Screen CSS (not DEFAULT_CSS) so it wins over app.tcss's 3fr/2fr split.
    CSS = """
    ItemScreen #item-body { height: 1fr; }
    ItemScreen #canvas { width: 1fr; }
    ItemScreen #item-objects { width: 44; }
    ItemScreen.-wide #item-objects { width: 64; }
    """
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    class Drawn(Message):
        """The worker's view of the item on one frame."""

        bubble = False  # for this screen only

        def __init__(self, view: ItemView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, snapshot: EvaluationSnapshot, annotator: str, data_hash: str,
                 filter: Filter | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.annotator = annotator
        self.data_hash = data_hash
        self.filter = filter or Filter()
        self.view: ItemView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="item-body"):
            yield ShapeCanvas(id="canvas")
            yield FrameTable(ITEM_OBJECT_COLUMNS, key_column="row_id", id="item-objects", empty="No objects.")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#canvas", ShapeCanvas).focus()
        self.draw(None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="item-draw")
    def draw(self, frame: int | None) -> None:
        self.post_message(self.Drawn(self.snapshot.item_view(self.data_hash, self.annotator, frame, self.filter)))

    @on(Drawn)
    def _drawn(self, event: Drawn) -> None:
        view = self.view = event.view
        head = f"{view.title} · frame {view.frame}" if len(view.frames) > 1 else view.title
        if view.dim_note:  # the canvas says the class filter is on, and what grey means
            head = f"{head} · {view.dim_note}"
        self.query_one("#canvas", ShapeCanvas).set_shapes(canvas_shapes(view.shapes), image_size=view.size, title=head)
        self.query_one("#item-objects", FrameTable).set_frame(view.objects)
        self.sub_title = f"{self.annotator} · {view.title}"

    def action_canvas(self, action: str) -> None:
        """One of the canvas's toggles (b, a, l, k), whichever widget has the focus."""
        canvas = self.query_one("#canvas", ShapeCanvas)
        {"toggle_benchmark": canvas.action_toggle_benchmark, "toggle_annotator": canvas.action_toggle_annotator,
         "toggle_links": canvas.action_toggle_links, "legend": canvas.action_legend}[action]()

    def action_frame(self, step: int) -> None:
        view = self.view
        if view is not None and view.frame in view.frames:
            i = view.frames.index(view.frame)
            self.draw(view.frames[max(0, min(len(view.frames) - 1, i + step))])
