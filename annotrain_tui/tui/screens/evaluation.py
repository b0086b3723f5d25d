"""Evaluation: live per-annotator tables, drill-down to items and objects, the item canvas,
filters, IoU distributions, export and copy. Refreshes in place, keeping sort, cursor and scroll."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from annotrain_tui.core.errors import AnnotrainError, OutputExists
from annotrain_tui.core.evaluation import EvaluationSettings, PassMark
from annotrain_tui.core.evaluation.session import EvaluationSession, FileSource
from annotrain_tui.core.evaluation.views import EvaluationSnapshot, Filter, ItemView
from annotrain_tui.core.exports import write_csv, write_json
from annotrain_tui.core.files import check_output
from annotrain_tui.core.overview import default_benchmark
from annotrain_tui.core.text import shown
from annotrain_tui.tui.screens.base import AppScreen, SafeTitles, failure_line
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog
from annotrain_tui.tui.widgets.frame_table import Column, FrameTable
from annotrain_tui.tui.widgets.shape_canvas import ShapeCanvas, canvas_shapes

STATUS_STYLE = {"passed": Style(color="green", bold=True), "close": Style(color="yellow"),
                "needs feedback": Style(color="red", bold=True)}


def fmt_ratio(v: Any) -> str:
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def score_style(v: Any) -> Style | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return Style(dim=True)
    return Style(color="green") if v >= 0.8 else Style(color="yellow") if v >= 0.6 else Style(color="red")


def fmt_time(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return "never"
    return pd.Timestamp(v).strftime("%m-%d %H:%M")


def iou_threshold(text: str) -> tuple[float | None, str | None]:
    """The IoU threshold the user typed, or (None, why not): a finite number in (0, 1]."""
    raw = text.strip()
    what = shown(raw, limit=40)
    try:
        value = float(raw)
    except ValueError:
        return None, f"The IoU threshold must be a number in (0, 1]; '{what}' is not a number."
    if not math.isfinite(value):
        return None, f"The IoU threshold must be a finite number in (0, 1]; '{what}' is not."
    if not 0 < value <= 1:
        return None, f"The IoU threshold must be in (0, 1] (above 0, at most 1); '{what}' is out of range."
    return value, None


ANNOTATOR_COLUMNS = [  # the scores that decide first, so 80 columns show them
    Column("annotator", "Annotator"),
    Column("status", "Status", style=lambda v: STATUS_STYLE.get(v)),
    Column("f1", "F1", align="right", format=fmt_ratio, style=score_style),
    Column("mean_iou", "IoU", align="right", format=fmt_ratio, style=score_style),
    Column("class_accuracy", "Class", align="right", format=fmt_ratio, style=score_style),
    Column("progress", "Done", align="right"),
    Column("iou_dist", "IoU 0→1", width=8),
    Column("precision", "Precision", align="right", format=fmt_ratio, style=score_style),
    Column("recall", "Recall", align="right", format=fmt_ratio, style=score_style),
    Column("objects", "Objects", align="right"),
    Column("missed", "Missed", align="right"),
    Column("extra", "Extra", align="right"),
    Column("projects", "Proj", align="right"),
    Column("last_activity", "Last activity", format=fmt_time),
]
ITEM_COLUMNS = [
    Column("data_title", "Item"),
    Column("frames", "Frames", align="right"),
    Column("objects", "Objects", align="right"),
    Column("matched", "Matched", align="right"),
    Column("missed", "Missed", align="right"),
    Column("extra", "Extra", align="right"),
    Column("low_overlap", "Low IoU", align="right"),
    Column("mean_iou", "Mean IoU", align="right", format=fmt_ratio, style=score_style),
    Column("class_accuracy", "Class acc", align="right", format=fmt_ratio, style=score_style),
]
def outcome_style(v: Any) -> Style | None:
    return Style(color="red") if v in ("missed", "extra") else Style(color="yellow") if v == "low_overlap" else None


OBJECT_COLUMNS = [
    Column("data_title", "Item"),
    Column("frame", "Frame", align="right"),
    Column("shape", "Shape"),
    Column("class", "Class"),
    Column("benchmark_class", "Benchmark class"),
    Column("iou", "IoU", align="right", format=fmt_ratio, style=score_style),
    Column("class_score", "Class", align="right", format=fmt_ratio),
    Column("outcome", "Outcome", style=outcome_style),
]
#: the item screen's table, narrowest first so 80 columns show the pair number, IoU and outcome;
#: "#" is the number drawn on the canvas next to both shapes of a match
ITEM_OBJECT_COLUMNS = [
    Column("pair", "#", align="right", format=lambda v: "" if v is None else str(v)),
    Column("iou", "IoU", align="right", format=fmt_ratio, style=score_style, width=5),
    Column("outcome", "Outcome", style=outcome_style, width=11),
    Column("class", "Class"),
    Column("benchmark_class", "Bench class"),
    Column("shape", "Shape"),
]


def copy_table(screen: AppScreen, table: FrameTable) -> None:
    """Put a table's rows, as shown, on the clipboard (tab-separated, header first; OSC 52)."""
    rows = table.rows_as_text()
    screen.app.copy_to_clipboard("\n".join("\t".join(r) for r in [[c.label for c in table.columns]] + rows))
    screen.notify(f"Copied {len(rows)} row(s) (tab-separated)", title="Clipboard", markup=False)


def filter_dialog(f: Filter, iou: float, *, annotator_field: bool = True) -> FormDialog:
    """The filter form (annotator, class, IoU threshold); its answer is read by :func:`filter_from`."""
    fields = [("annotator", "Annotator contains", f.annotator)] if annotator_field else []
    fields += [("class", "Class contains (benchmark or annotator class)", f.class_name),
               ("iou", "IoU threshold for a match (0–1]", f"{iou:g}")]

    def check(values: dict[str, str]) -> str | None:
        return iou_threshold(values["iou"])[1]

    return FormDialog("Filters", fields, validate=check, submit="Apply")


def filter_from(values: dict[str, str], before: Filter) -> Filter | None:
    """The Filter the form's values say (None when the IoU is refused: the form never lets that through)."""
    iou, _error = iou_threshold(values["iou"])
    if iou is None:
        return None
    return Filter(annotator=values.get("annotator", before.annotator), class_name=values["class"], iou_threshold=iou)


class ChoiceDialog(SafeTitles, ModalScreen["str | None"]):
    DEFAULT_CSS = """
    ChoiceDialog { align: center middle; }
    ChoiceDialog > OptionList { width: 60; max-width: 95%; height: auto; max-height: 80%; border: round $accent; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title, self._choices = title, choices

    def compose(self) -> ComposeResult:
        ol = OptionList(*[Option(lit(label), id=key) for key, label in self._choices])
        ol.border_title = lit(self._title)
        yield ol

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class EvaluationScreen(AppScreen):
    """Level 1: one row per annotator. Shows what the session's snapshot says; computes nothing."""

    TITLE = "Evaluation"
    SCREEN_HELP = (
        "One row per annotator: their projects, items Complete, objects, mean IoU, class accuracy, precision, "
        "recall, F1, missed and extra objects, the IoU distribution of their matches and their last activity. "
        "Left/Right pick a column, s sorts by it (again: reverse), S reverses. Enter drills down to the "
        "annotator's items; o shows all their objects. The table refreshes on its own (and with r): only label "
        "rows edited since the last poll are fetched and scored again, and rows update in place; p pauses "
        "and resumes that. f filters (annotator, class, IoU threshold; the class filter also applies to the "
        "drill-down, where f changes it too); e exports (seed CSV, full CSV, JSON); y copies the table (OSC 52)."
    )
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="evaluation.refresh"),
        Binding("f", "filters", "Filter", id="evaluation.filter"),
        Binding("o", "objects", "Objects", id="evaluation.objects"),
        Binding("e", "export", "Export", id="evaluation.export"),
        Binding("y", "copy", "Copy", id="evaluation.copy"),
        Binding("p", "pause", "Pause", id="evaluation.pause"),
        Binding("p", "resume", "Resume", id="evaluation.resume"),
        Binding("escape", "back", "Back", id="evaluation.back"),
    ]

    class Published(Message):
        """A worker finished a load, refresh or re-score: the snapshot the screen shows from now on."""

        bubble = False  # for this screen only

        def __init__(self, snapshot: EvaluationSnapshot, changed: int | None = None,
                     session: EvaluationSession | None = None) -> None:
            super().__init__()
            self.snapshot = snapshot
            self.changed = changed
            self.session = session  # a load's new session (the handler keeps it)

    class Polled(Message):
        """A refresh found nothing new (the "live" time moves on)."""

        bubble = False  # for this screen only

    class NoBenchmark(Message):
        """The workspace has no benchmark project yet."""

        bubble = False  # for this screen only

    def __init__(self, benchmark: str | None = None, training: list[str] | None = None,
                 benchmark_labels: str | None = None, training_labels: list[str] | None = None) -> None:
        super().__init__()
        self.benchmark_ref = benchmark
        self.training_refs = training
        self.benchmark_labels = benchmark_labels
        self.training_labels = training_labels
        self.session: EvaluationSession | None = None  # set by the Published handler; workers use it
        self.snapshot: EvaluationSnapshot | None = None
        self.filter = Filter()
        self.live_on = True
        self.last_refresh: datetime | None = None
        self.ticks = 0
        self.cancel = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Loading the evaluation…", style="dim"), id="eval-status")
        yield FrameTable(ANNOTATOR_COLUMNS, key_column="annotator", id="annotators", empty="Loading…")
        yield Static(Text(""), id="eval-detail")
        yield Footer()

    @property
    def table(self) -> FrameTable:
        return self.query_one("#annotators", FrameTable)

    def on_mount(self) -> None:
        self.table.sort_by("annotator", reverse=False)
        self.table.focus()
        self.load()
        self.timer = self.set_interval(self.app.workspace.settings.refresh_interval, self._tick)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``p`` is Pause while live, Resume while paused (the footer shows the one that applies)."""
        if action == "pause":
            return self.live_on
        if action == "resume":
            return not self.live_on
        return True

    # -- loading and refreshing (workers post messages; only handlers touch the screen) ---------
    def _settings(self) -> EvaluationSettings:
        s = self.app.workspace.settings
        return EvaluationSettings(iou_threshold=s.iou_threshold, low_overlap=s.low_overlap,
                                  pass_mark=PassMark(f1=s.pass_f1, class_accuracy=s.pass_class_accuracy))

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-load")
    def load(self) -> None:
        if self.benchmark_labels:
            source = FileSource(self.benchmark_labels, self.training_labels or [])
            for n, what in ((source.dropped_duplicates, "training file(s) given twice count once"),
                            (source.dropped_benchmark, "training file(s) that are the benchmark file left out")):
                if n:
                    self.app.call_from_thread(self.notify, f"{n} {what}", title="Evaluation", severity="warning",
                                              markup=False)
            session = EvaluationSession(source, self._settings())
        else:
            backend = self.app.workspace.backend
            ref = self.benchmark_ref
            if ref is None:
                chosen = default_benchmark(backend, preferred=self.app.workspace.recent().get("benchmark"))
                if chosen is None:
                    self.post_message(self.NoBenchmark())
                    return
                ref = chosen.id
            session = EvaluationSession.of_workspace(backend, ref, self.training_refs, self._settings())

        def progress(done: int, total: int, name: str) -> None:
            self.app.call_from_thread(self._status, lit(f"Loading {done}/{total} project(s)… {name}", "dim"))

        session.load(on_progress=progress, cancel=self.cancel)
        self.post_message(self.Published(session.snapshot(), session=session))

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-refresh")
    def refresh_worker(self, full: bool = True) -> None:
        """Poll for edited label rows; ``full`` also looks for new projects and benchmark edits."""
        session = self.session
        if session is None:
            return
        report = session.refresh(include_new_projects=full, check_benchmark=full)
        if report.changed_projects or report.new_projects or report.benchmark_changed:
            self.post_message(self.Published(session.snapshot(), report.changed_rows))
        else:
            self.post_message(self.Polled())

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-refresh")
    def rescore(self, iou: float) -> None:
        session = self.session
        assert session is not None
        session.rescore(session.with_iou(iou))
        self.post_message(self.Published(session.snapshot()))

    @on(Published)
    def _published(self, event: Published) -> None:
        if event.session is not None:
            self.session = event.session
        self.snapshot = event.snapshot
        self.last_refresh = self.app.now()
        self._show(event.changed)

    @on(Polled)
    def _polled(self) -> None:
        self.last_refresh = self.app.now()
        self._show_status()

    @on(NoBenchmark)
    def _no_benchmark(self) -> None:
        why = "No benchmark project yet: set one up (3 on Home), provision annotators (4), then come back."
        self._status(Text(why, style="yellow"))
        self.table.empty_text = why
        self.table.refresh()

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        """A failed load stays on the screen (not only in a toast): the status line and the table say it."""
        if worker.group != "evaluation-load":
            return
        line = failure_line(error)
        self._status(lit(f"Could not load the evaluation: {line}", "red"))
        self.table.empty_text = "Nothing to show: the evaluation could not be loaded (r tries again)."
        self.table.refresh()

    def _show(self, changed: int | None = None) -> None:
        snap = self.snapshot
        if snap is None:
            return
        self.table.empty_text = snap.empty_text(self.filter)
        self.table.set_frame(snap.annotators(self.filter))
        self._show_status(changed)
        self._show_detail()

    def _status(self, text: Text) -> None:
        self.query_one("#eval-status", Static).update(text)

    def _show_status(self, changed: int | None = None) -> None:
        snap = self.snapshot
        if snap is None:
            return
        s, r = snap.settings, snap.result
        t = Text()
        t.append_text(lit(snap.title, "bold"))
        t.append(f"  {s.matching}, IoU ≥ {s.iou_threshold:g}, pass: F1 ≥ {s.pass_mark.f1:g} & class ≥ "
                 f"{s.pass_mark.class_accuracy:g}")
        if r:
            t.append(f"  · {r.paired_rows} paired item(s)")
        if snap.live:
            when = self.last_refresh.astimezone().strftime("%H:%M:%S") if self.last_refresh else "-"
            t.append(f"  · {'live' if self.live_on else 'paused'} {when}", style="green" if self.live_on else "yellow")
            if changed:
                t.append(f" (+{changed} row(s))", style="cyan")
        else:
            t.append("  · offline export", style="dim")
        if self.filter.active:
            t.append_text(lit("  filter: " + self.filter.describe(), "magenta"))
        self._status(t)

    def _show_detail(self) -> None:
        if self.snapshot is None:
            return
        name = self.table.current_key()
        d = self.snapshot.detail(str(name) if name is not None else None)
        t = Text()
        if d.score is not None:
            t.append_text(lit(d.score.annotator, "bold"))
            t.append(f": {d.score.matched} matched, {d.score.missed} missed, {d.score.extra} extra, "
                     f"{d.score.low_overlap} low-overlap (< {d.low_overlap_mark:g}). ")
            if d.confusions:
                t.append("Class confusions: ")
                for k, (b, a, n) in enumerate(d.confusions):
                    t.append_text(lit(f"{', ' if k else ''}{b}→{a} ×{n}"))
        if d.warnings:
            t.append(f"\n⚠ {len(d.warnings)} warning(s): ", style="yellow")
            t.append_text(lit(d.warnings[0]))
        self.query_one("#eval-detail", Static).update(t)

    @on(FrameTable.RowHighlighted, "#annotators")
    def _highlighted(self) -> None:
        self._show_detail()

    def _tick(self) -> None:
        if self.live_on and self.snapshot is not None and self.snapshot.live and self.is_current:
            self.ticks += 1
            self.refresh_worker(full=self.ticks % 6 == 0)  # a full check every sixth poll

    def action_refresh(self) -> None:
        if self.session is None:
            self._status(Text("Loading the evaluation…", style="dim"))
            self.load()
        else:
            self.refresh_worker()

    def action_pause(self) -> None:
        self.live_on = False
        self.refresh_bindings()
        self._show_status()

    def action_resume(self) -> None:
        self.live_on = True
        self.refresh_bindings()
        self._show_status()

    # -- drill-down ---------------------------------------------------------------------
    def _drill(self, annotator: str, *, objects: bool = False) -> None:
        if self.snapshot is not None:
            self.app.push_screen(AnnotatorScreen(self.snapshot, annotator, self.filter, on_filter=self.set_filter,
                                                 objects=objects))

    @on(FrameTable.RowSelected, "#annotators")
    def _open(self, event: FrameTable.RowSelected) -> None:
        if event.key is not None:
            self._drill(str(event.key))

    def action_objects(self) -> None:
        name = self.table.current_key()
        if name is not None:
            self._drill(str(name), objects=True)

    # -- filters ------------------------------------------------------------------------
    def set_filter(self, new: Filter) -> None:
        """Apply a filter (from this screen's form or the drill-down's): a new IoU re-scores."""
        self.filter = new
        snap = self.snapshot
        if snap is not None and new.iou_threshold is not None and abs(new.iou_threshold - snap.settings.iou_threshold) > 1e-12:
            self.rescore(new.iou_threshold)
        else:
            self._show()
            self._show_status()

    def action_filters(self) -> None:
        iou = self.snapshot.settings.iou_threshold if self.snapshot else self._settings().iou_threshold

        def done(values: dict[str, str] | None) -> None:
            if values is not None and (new := filter_from(values, self.filter)) is not None:
                self.set_filter(new)

        self.app.push_screen(filter_dialog(self.filter, iou), done)

    # -- export and copy ----------------------------------------------------------------
    def action_export(self) -> None:
        if self.snapshot is None or self.snapshot.result is None:
            return
        choices = [("seed", "Seed CSV (iou_results.csv columns of the published script)"),
                   ("full", "Full CSV (every object: annotator, item, classes, IoU, outcome)"),
                   ("json", "JSON summary (per annotator, confusion, settings)")]

        def chosen(kind: str | None) -> None:
            if kind is None:
                return
            default = {"seed": "iou_results.csv", "full": "evaluation_objects.csv", "json": "evaluation.json"}[kind]

            def done(values: dict[str, str] | None) -> None:
                if values and values["path"].strip():
                    self.export_to(kind, values["path"].strip())

            self.app.push_screen(FormDialog("Export to", [("path", "File", str(Path.cwd() / default))],
                                            submit="Write"), done)

        self.app.push_screen(ChoiceDialog("Export", choices), chosen)

    def export_inputs(self) -> list[str]:
        """The files this evaluation reads (offline label exports): an export never replaces one."""
        return [p for p in [self.benchmark_labels, *(self.training_labels or [])] if p]

    def export_to(self, kind: str, path: str, *, force: bool = False) -> None:
        """Check the target (core.files.check_output): refuse one of the inputs or a target that is
        not a regular file; a symlink is written through; an existing file is overwritten only
        after the user says so."""
        try:
            target = check_output(os.path.expanduser(path), inputs=self.export_inputs(), force=force)
        except OutputExists:
            body = Text()
            body.append_text(lit(path, "bold"))
            body.append(" already exists. Overwrite it?")
            self.app.push_screen(ConfirmDialog("Overwrite the file?", body, yes="Overwrite", enter_says_yes=True),
                                 lambda yes: self.export_to(kind, path, force=True) if yes else None)
            return
        except AnnotrainError as err:
            self.notify(str(err), title="Cannot export", severity="error", timeout=10)
            return
        assert self.snapshot is not None
        self.export(self.snapshot, kind, str(target), shown_as=path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-export")
    def export(self, snapshot: EvaluationSnapshot, kind: str, path: str, shown_as: str | None = None) -> None:
        r = snapshot.result
        assert r is not None
        if kind == "json":
            write_json(path, r.to_json())
            n = len(r.annotators)
        else:
            rows = r.seed_rows() if kind == "seed" else r.objects
            assert rows is not None
            write_csv(Path(path), rows)
            n = len(rows)
        self.app.call_from_thread(self.notify, f"Wrote {n} row(s) to {shown_as or path}", title="Export",
                                  markup=False)

    def action_copy(self) -> None:
        copy_table(self, self.table)

    def action_back(self) -> None:
        self.cancel.set()
        self.app.pop_screen()


class AnnotatorScreen(AppScreen):
    """Level 2: one annotator's items (or all their objects, o toggles), from a snapshot."""

    TITLE = "Annotator"
    SCREEN_HELP = ("The annotator's items with their matched, missed and extra objects (o: every object instead). "
                   "Enter opens an item: its objects and both sides' shapes on a canvas. f filters by class "
                   "(and sets the IoU threshold; the annotator table follows), s/S sort, Escape goes back.")
    BINDINGS = [
        Binding("o", "toggle_objects", "Items/objects", id="annotator.toggle"),
        Binding("f", "filters", "Filter", id="annotator.filter"),
        Binding("y", "copy", "Copy", id="annotator.copy"),
        Binding("escape", "app.pop_screen", "Back", id="annotator.back"),
    ]

    class Built(Message):
        """The worker's tables for this annotator under the filter."""

        bubble = False  # for this screen only

        def __init__(self, items: pd.DataFrame, objects: pd.DataFrame) -> None:
            super().__init__()
            self.items = items
            self.objects = objects

    def __init__(self, snapshot: EvaluationSnapshot, annotator: str, filter: Filter | None = None, *,
                 on_filter: Callable[[Filter], None] | None = None, objects: bool = False) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.annotator = annotator
        self.filter = filter or Filter()
        self.on_filter = on_filter
        self.show_objects = objects
        self.object_rows: pd.DataFrame = pd.DataFrame()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(""), id="annotator-title")
        yield FrameTable(ITEM_COLUMNS, key_column="data_hash", id="items", empty="No paired items.")
        yield FrameTable(OBJECT_COLUMNS, key_column="row_id", id="objects", empty="No objects.")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.annotator
        self.build()

    @work(thread=True, exclusive=True, exit_on_error=False, group="annotator-build")
    def build(self) -> None:
        f = Filter(class_name=self.filter.class_name)  # the annotator is chosen; the class still narrows
        self.post_message(self.Built(self.snapshot.items_of(self.annotator, f),
                                     self.snapshot.objects_of(self.annotator, f)))

    @on(Built)
    def _built(self, event: Built) -> None:
        items, objects = event.items, event.objects
        self.object_rows = objects
        it = self.query_one("#items", FrameTable)
        ob = self.query_one("#objects", FrameTable)
        it.set_frame(items)
        ob.set_frame(objects)
        it.display, ob.display = not self.show_objects, self.show_objects
        (ob if self.show_objects else it).focus()
        t = Text()
        t.append_text(lit(self.annotator, "bold"))
        t.append(f": {len(items)} item(s), {int((objects['outcome'] != 'missed').sum())} object(s), "
                 f"{int((objects['outcome'] == 'missed').sum())} missed. Enter opens an item.")
        if self.filter.class_name:
            t.append_text(lit(f"  filter: class~{self.filter.class_name!r}", "magenta"))
        self.query_one("#annotator-title", Static).update(t)

    def action_toggle_objects(self) -> None:
        self.show_objects = not self.show_objects
        it, ob = self.query_one("#items", FrameTable), self.query_one("#objects", FrameTable)
        it.display, ob.display = not self.show_objects, self.show_objects
        (ob if self.show_objects else it).focus()

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
        self.app.push_screen(ItemScreen(self.snapshot, self.annotator, data_hash))

    def action_copy(self) -> None:
        copy_table(self, self.query_one("#objects" if self.show_objects else "#items", FrameTable))


class ItemScreen(AppScreen):
    """Level 3: one item: its objects, and both sides' shapes drawn on a canvas (the item view of a snapshot)."""

    TITLE = "Item"
    SCREEN_HELP = ("The benchmark's shapes (solid) and the annotator's (dashed) on one image, coloured by class; "
                   "a matched pair carries the same number on the canvas and in the table's # column, with the "
                   "annotator shape's IoU; ✗ marks a missed benchmark object, + an extra one. The legend counts "
                   "shapes per class as benchmark/annotator. [ and ] change the frame of a video or image group; "
                   "b/a/l toggle benchmark, annotator, links.")
    BINDINGS = [
        Binding("right_square_bracket", "frame(1)", "Next frame", id="item.next_frame"),
        Binding("left_square_bracket", "frame(-1)", "Prev frame", show=False, id="item.prev_frame"),
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

    def __init__(self, snapshot: EvaluationSnapshot, annotator: str, data_hash: str) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.annotator = annotator
        self.data_hash = data_hash
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
        self.post_message(self.Drawn(self.snapshot.item_view(self.data_hash, self.annotator, frame)))

    @on(Drawn)
    def _drawn(self, event: Drawn) -> None:
        view = self.view = event.view
        head = f"{view.title} · frame {view.frame}" if len(view.frames) > 1 else view.title
        self.query_one("#canvas", ShapeCanvas).set_shapes(canvas_shapes(view.shapes), image_size=view.size, title=head)
        self.query_one("#item-objects", FrameTable).set_frame(view.objects)
        self.sub_title = f"{self.annotator} · {view.title}"

    def action_frame(self, step: int) -> None:
        view = self.view
        if view is not None and view.frame in view.frames:
            i = view.frames.index(view.frame)
            self.draw(view.frames[max(0, min(len(view.frames) - 1, i + step))])
