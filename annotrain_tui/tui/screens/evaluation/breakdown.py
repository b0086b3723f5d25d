"""One annotator's breakdown: by shape, by class, by classification question and by attribute,
with the class mismatches, the items finished and required, and the status with its reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Static

from annotrain_tui.core.evaluation.views import BreakdownView, EvaluationSnapshot, Filter
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.screens.evaluation.common import STATUS_STYLE, fmt_ratio, score_style
from annotrain_tui.tui.text import lit

if TYPE_CHECKING:
    import pandas as pd
else:
    from annotrain_tui.core.lazy import lazy_module

    pd = lazy_module("pandas")  # the evaluation screen's first view needs no frame

#: (column of the view's table, heading) of the shape and class tables: narrow headings, so a
#: label of 20 cells and nine numbers fit 80 columns
COUNT_HEADINGS = (("objects", "Obj"), ("benchmark_objects", "Bench"), ("matched", "Match"),
                  ("missed", "Miss"), ("extra", "Extra"))
RATIO_HEADINGS = (("precision", "P"), ("recall", "R"), ("f1", "F1"), ("mean_similarity", "Sim"))
LABEL_WIDTH = 20


def _ratio_cell(v: Any) -> Text:
    return Text(fmt_ratio(v), style=score_style(v) or "")


def breakdown_table(frame: pd.DataFrame, heading: str) -> Table:
    """A shape or class table: the label (untrusted, cut to fit), counts, P, R, F1, mean similarity."""
    table = Table(box=box.SIMPLE_HEAD, padding=0, show_edge=False, header_style="bold")
    table.add_column(heading, max_width=LABEL_WIDTH, no_wrap=True, overflow="ellipsis")
    for _key, title in COUNT_HEADINGS + RATIO_HEADINGS:
        table.add_column(title, justify="right", no_wrap=True, min_width=5)
    for rec in frame.to_dict(orient="records"):
        table.add_row(lit(rec["label"]), *(str(int(rec[k])) for k, _t in COUNT_HEADINGS),
                      *(_ratio_cell(rec[k]) for k, _t in RATIO_HEADINGS))
    return table


def question_table(frame: pd.DataFrame, heading: str) -> Table:
    """A question table: the question's label (untrusted), kind, answers compared, accuracy."""
    table = Table(box=box.SIMPLE_HEAD, padding=0, show_edge=False, header_style="bold")
    table.add_column(heading, max_width=40, no_wrap=True, overflow="ellipsis")
    table.add_column("Kind", no_wrap=True, max_width=10, overflow="ellipsis")
    table.add_column("Compared", justify="right", no_wrap=True)
    table.add_column("Accuracy", justify="right", no_wrap=True)
    for rec in frame.to_dict(orient="records"):
        table.add_row(lit(rec["label"]), lit(rec["kind"]), str(int(rec["compared"])), _ratio_cell(rec["accuracy"]))
    return table


def _section(title: str, note: str = "") -> Text:
    t = Text(title, style="bold underline")
    if note:
        t.append(f"  {note}", style="dim")
    return t


def render_breakdown(view: BreakdownView) -> RenderableType:
    """Everything the view says, top to bottom (the screen scrolls it)."""
    score = view.score
    parts: list[RenderableType] = []
    if score is None:
        parts.append(Text("Nothing of this annotator's was compared yet under this filter.", style="yellow"))
        return Group(*parts)
    head = Text()
    head.append("Status: ")
    status = lit(score.status or "-")
    if (style := STATUS_STYLE.get(score.status)) is not None:
        status.stylize(style)
    head.append_text(status)
    if score.reason:
        head.append_text(lit(f" ({score.reason})", "yellow"))
    parts.append(head)
    items = Text("Items: ")
    items.append(view.coverage or "not counted")
    items.append(f" · class mismatches: {score.class_mismatches}")
    parts.append(items)
    parts += [Text(""), _section("By shape")]
    parts.append(breakdown_table(view.by_shape, "Shape") if len(view.by_shape)
                 else Text("No objects compared.", style="dim"))
    parts += [Text(""), _section("By class", "a match counts for a class when both objects carry it")]
    parts.append(breakdown_table(view.by_class, "Class") if len(view.by_class)
                 else Text("No objects compared.", style="dim"))
    answers_note = "all their work (answers belong to no class: the class filter leaves them whole)" \
        if view.answers_unfiltered else ""
    attributes_note = "of the filtered class's objects only" if view.answers_unfiltered else ""
    acc = score.classification_accuracy
    parts += [Text(""), _section("Classifications" + (f" (accuracy {fmt_ratio(acc)})" if acc is not None else ""),
                                 answers_note)]
    parts.append(question_table(view.classifications, "Question") if len(view.classifications)
                 else Text("No classifications in this benchmark's paired items.", style="dim"))
    acc = score.attribute_accuracy
    parts += [Text(""), _section("Object attributes" + (f" (accuracy {fmt_ratio(acc)})" if acc is not None else ""),
                                 attributes_note)]
    parts.append(question_table(view.attributes, "Attribute") if len(view.attributes)
                 else Text("No object attributes compared (none in this benchmark's matched objects).", style="dim"))
    return Group(*parts)


class BreakdownScreen(AppScreen):
    """One annotator's scores broken down, from the snapshot (tables built by core.evaluation.views)."""

    TITLE = "Breakdown"
    SCREEN_HELP = ("The highlighted annotator's scores broken down: by shape and by class (objects, benchmark "
                   "objects, matched, missed, extra, precision, recall, F1, mean similarity), the class mismatches, "
                   "each classification question and each object attribute (kind, answers compared, accuracy), the "
                   "items finished of those the pass mark needs, and the status with its reason. Under a class "
                   "filter the object numbers and the object attributes count that class only; the classification "
                   "answers and the items are the annotator's whole work. ↑/↓/PgUp/PgDn scroll; Escape goes back.")
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="breakdown.back"),
    ]

    class Built(Message):
        """The worker's breakdown of this annotator under the filter."""

        bubble = False  # for this screen only

        def __init__(self, view: BreakdownView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, snapshot: EvaluationSnapshot, annotator: str, filter: Filter | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.annotator = annotator
        self.filter = filter or Filter()
        self.view: BreakdownView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(""), id="breakdown-title")
        with VerticalScroll(id="breakdown-body"):
            yield Static(Text("Loading…", style="dim"), id="breakdown-text")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.annotator
        self.query_one("#breakdown-body", VerticalScroll).focus()
        self.build()

    @work(thread=True, exclusive=True, exit_on_error=False, group="breakdown-build")
    def build(self) -> None:
        self.post_message(self.Built(self.snapshot.breakdown(self.annotator, self.filter)))

    @on(Built)
    def _built(self, event: Built) -> None:
        view = self.view = event.view
        t = Text()
        t.append_text(lit(view.annotator, "bold"))
        t.append(f"  {view.matching}")
        if view.filter.active:
            t.append_text(lit("  filter: " + view.filter.describe(), "magenta"))
        self.query_one("#breakdown-title", Static).update(t)
        self.query_one("#breakdown-text", Static).update(render_breakdown(view))
