"""The confusion matrix of one annotator (or everyone): benchmark classes down, the annotator's
classes across, ``unmatched`` last on both, under the evaluation's filter; exported as CSV."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Header, Static

from annotrain_tui.core.evaluation.views import ConfusionView, EvaluationSnapshot, Filter
from annotrain_tui.core.exports import write_confusion_csv
from annotrain_tui.core.text import shown
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.screens.evaluation.common import ask_export_path, copy_table, filter_note
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.frame_table import Column, FrameTable

#: a class column's width: its name's, at least a count's, at most 10 (a longer name is cut with
#: "…"; i shows a row whole): five classes and unmatched fit 80 columns, more scroll (Left/Right)
CLASS_WIDTH = (5, 10)
ROW_LABEL_WIDTH = 20


def _zero_dim(v: object) -> Style | None:
    return Style(dim=True) if v == 0 else None


def matrix_columns(view: ConfusionView) -> list[Column]:
    """The table's columns: the benchmark class, one per annotator class (labels through the
    untrusted-text policy, cut to fit; a wide matrix scrolls), the row total."""
    columns = [Column("benchmark_class", "Benchmark ↓ drawn →", width=ROW_LABEL_WIDTH)]
    lo, hi = CLASS_WIDTH
    columns += [Column(key, shown(name), width=min(hi, max(lo, len(shown(name)))), align="right", style=_zero_dim)
                for key, name in view.columns]
    columns.append(Column("total", "Total", width=6, align="right"))
    return columns


class ConfusionScreen(AppScreen):
    """A confusion matrix from the snapshot (computed by core.evaluation.views); shows, asks, exports."""

    TITLE = "Confusion"
    SCREEN_HELP = ("The confusion matrix: one row per benchmark class, one column per class the annotator drew, each "
                   "cell the objects of that benchmark class drawn as that class (a match); the unmatched column "
                   "counts benchmark objects nobody matched (missed), the unmatched row the annotator's objects "
                   "without a match (extra). Counts follow the evaluation's filter. a switches between the "
                   "annotator and everyone; e exports the matrix as CSV (annotator, benchmark_class, "
                   "annotator_class, count); y copies it; Left/Right scroll a wide matrix; Escape goes back.")
    BINDINGS = [
        Binding("a", "toggle_all", "Everyone/one", id="confusion.toggle"),
        Binding("e", "export", "Export CSV", id="confusion.export"),
        Binding("y", "copy", "Copy", id="confusion.copy"),
        Binding("escape", "app.pop_screen", "Back", id="confusion.back"),
    ]

    class Built(Message):
        """The worker's matrix."""

        bubble = False  # for this screen only

        def __init__(self, view: ConfusionView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, snapshot: EvaluationSnapshot, annotator: str | None, filter: Filter | None = None, *,
                 inputs: Sequence[str] = ()) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.annotator = annotator
        self.everyone = annotator is None
        self.filter = filter or Filter()
        self.inputs = list(inputs)
        self.view: ConfusionView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(""), id="confusion-title")
        yield FrameTable([Column("benchmark_class", "Benchmark")], key_column="benchmark_class", id="confusion",
                         empty="No objects compared.")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#confusion", FrameTable).focus()
        self.build()

    @work(thread=True, exclusive=True, exit_on_error=False, group="confusion-build")
    def build(self) -> None:
        self.post_message(self.Built(self.snapshot.confusion(None if self.everyone else self.annotator,
                                                             self.filter)))

    @on(Built)
    def _built(self, event: Built) -> None:
        view = self.view = event.view
        table = self.query_one("#confusion", FrameTable)
        table.columns = matrix_columns(view)
        table.set_frame(view.table if view.total else view.table.iloc[0:0], keep_position=False)
        who = "everyone" if view.annotator is None else view.annotator
        self.sub_title = shown(who)
        t = Text()
        t.append("Confusion of ")
        t.append_text(lit(who, "bold"))
        t.append(f": {view.total} object(s), {len(view.columns) - 1} class(es).")
        if view.filter.active:
            t.append_text(lit("  filter: " + view.filter.describe(), "magenta"))
        self.query_one("#confusion-title", Static).update(t)

    def action_toggle_all(self) -> None:
        if self.annotator is None:
            self.notify("No annotator is selected: this is everyone's matrix.", title="Confusion", markup=False)
            return
        self.everyone = not self.everyone
        self.build()

    def action_export(self) -> None:
        view = self.view
        if view is None:
            return
        ask_export_path(self, view.file_name(), self.inputs, lambda target, typed: self.export(view, target, typed))

    @work(thread=True, exclusive=True, exit_on_error=False, group="confusion-export")
    def export(self, view: ConfusionView, path: str, shown_as: str) -> None:
        n = write_confusion_csv(path, view.counts, view.annotator)
        self.app.call_from_thread(self.notify, f"Wrote {n} row(s) to {shown_as}{filter_note(view.filter)}",
                                  title="Export", markup=False)

    def action_copy(self) -> None:
        copy_table(self, self.query_one("#confusion", FrameTable))
