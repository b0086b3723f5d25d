"""Evaluation: live per-annotator tables, drill-down to items and objects, the item canvas,
filters, IoU distributions, export and copy. Refreshes in place, keeping sort, cursor and scroll."""

from __future__ import annotations

import math
import os
import threading
from datetime import datetime, timezone
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
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from annotrain_tui.core.evaluation import PassMark
from annotrain_tui.core.evaluation.live import LiveEvaluation, OfflineEvaluation
from annotrain_tui.core.errors import AnnotrainError, OutputExists
from annotrain_tui.core.exports import write_csv, write_json
from annotrain_tui.core.files import check_output
from annotrain_tui.core.overview import benchmark_ids
from annotrain_tui.core.text import shown
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.screens.base import AppScreen, SafeTitles
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog
from annotrain_tui.tui.widgets.frame_table import Column, FrameTable
from annotrain_tui.tui.widgets.shape_canvas import ShapeCanvas, shape_from_encord

SPARK = "▁▂▃▄▅▆▇█"
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


def _as_shown(column: pd.Series) -> pd.Series:
    """A text column as the user sees it (the policy's escapes), casefolded: filters match what is shown."""
    return column.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else shown(v)).astype(str).str.casefold()


def sparkline(values: np.ndarray, bins: int = 8) -> str:
    """IoU distribution of matches, 0..1 in ``bins`` bars."""
    if len(values) == 0:
        return ""
    counts, _ = np.histogram(np.clip(values, 0, 1), bins=bins, range=(0, 1))
    top = counts.max() or 1
    return "".join(SPARK[min(len(SPARK) - 1, int(round((len(SPARK) - 1) * c / top)))] if c else " " for c in counts)


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
OBJECT_COLUMNS = [
    Column("data_title", "Item"),
    Column("frame", "Frame", align="right"),
    Column("shape", "Shape"),
    Column("class", "Class"),
    Column("benchmark_class", "Benchmark class"),
    Column("iou", "IoU", align="right", format=fmt_ratio, style=score_style),
    Column("class_score", "Class", align="right", format=fmt_ratio),
    Column("outcome", "Outcome", style=lambda v: Style(color="red") if v in ("missed", "extra") else
           Style(color="yellow") if v == "low_overlap" else None),
]


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
    """Level 1: one row per annotator."""

    TITLE = "Evaluation"
    SCREEN_HELP = (
        "One row per annotator: their projects, items Complete, objects, mean IoU, class accuracy, precision, "
        "recall, F1, missed and extra objects, the IoU distribution of their matches and their last activity. "
        "Left/Right pick a column, s sorts by it (again: reverse), S reverses. Enter drills down to the "
        "annotator's items; o shows all their objects. The table refreshes on its own (and with r): only label "
        "rows edited since the last poll are fetched and scored again, and rows update in place. f filters "
        "(annotator, class, IoU threshold); e exports (seed CSV, full CSV, JSON); y copies the table (OSC 52)."
    )
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="evaluation.refresh"),
        Binding("f", "filters", "Filter", id="evaluation.filter"),
        Binding("o", "objects", "Objects", id="evaluation.objects"),
        Binding("e", "export", "Export", id="evaluation.export"),
        Binding("y", "copy", "Copy", id="evaluation.copy"),
        Binding("p", "toggle_live", "Pause", id="evaluation.pause"),
        Binding("escape", "back", "Back", id="evaluation.back"),
    ]

    def __init__(self, benchmark: str | None = None, training: list[str] | None = None,
                 benchmark_labels: str | None = None, training_labels: list[str] | None = None) -> None:
        super().__init__()
        self.benchmark_ref = benchmark
        self.training_refs = training
        self.benchmark_labels = benchmark_labels
        self.training_labels = training_labels
        self.session: LiveEvaluation | None = None
        self.filters = {"annotator": "", "class": ""}
        self.live_on = True
        self.last_refresh: datetime | None = None
        self.cancel = threading.Event()
        self.objects: pd.DataFrame | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Loading the evaluation…", style="dim"), id="eval-status")
        yield FrameTable(ANNOTATOR_COLUMNS, key_column="annotator", id="annotators",
                         empty="No annotators: no training project has Complete tasks paired with the benchmark.")
        yield Static(Text(""), id="eval-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#annotators", FrameTable).sort_by("annotator", reverse=False)
        self.query_one("#annotators", FrameTable).focus()
        self.load()
        self.timer = self.set_interval(self.app.workspace.settings.refresh_interval, self._tick)

    # -- loading and refreshing -----------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        s = self.app.workspace.settings
        return dict(iou_threshold=s.iou_threshold, low_overlap=s.low_overlap,
                    pass_mark=PassMark(f1=s.pass_f1, class_accuracy=s.pass_class_accuracy))

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-load")
    def load(self) -> None:
        if self.benchmark_labels:
            session: LiveEvaluation = OfflineEvaluation(self.benchmark_labels, self.training_labels or [],
                                                        **self._options())
            for n, what in ((session.dropped_duplicates, "training file(s) given twice count once"),
                            (session.dropped_benchmark, "training file(s) that are the benchmark file left out")):
                if n:
                    self.app.call_from_thread(self.notify, f"{n} {what}", title="Evaluation", severity="warning",
                                              markup=False)
        else:
            backend = self.app.workspace.backend
            ref = self.benchmark_ref
            if ref is None:
                ids = benchmark_ids(backend.list_projects())
                if not ids:
                    self.app.call_from_thread(self._status, Text(
                        "No benchmark project yet: set one up (3 on Home), provision annotators (4), then come "
                        "back.", style="yellow"))
                    return
                ref = ids[0]
            session = LiveEvaluation(backend, ref, self.training_refs, **self._options())

        def progress(done: int, total: int, name: str) -> None:
            self.app.call_from_thread(self._status, lit(f"Loading {done}/{total} project(s)… {name}", "dim"))

        session.load(on_progress=progress, cancel=self.cancel)
        self.session = session
        self._publish()

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-refresh")
    def refresh_worker(self, full: bool = True) -> None:
        """Poll for edited label rows; ``full`` also looks for new projects and benchmark edits."""
        if self.session is None:
            return
        report = self.session.refresh(include_new_projects=full, check_benchmark=full)
        if report.changed_projects or report.new_projects or report.benchmark_changed:
            self._publish(changed=report.changed_rows)
        else:
            self.last_refresh = datetime.now(timezone.utc)
            self.app.call_from_thread(self._show_status)

    def _publish(self, changed: int | None = None) -> None:
        """Build the frames in the worker thread; only the swap happens on the UI thread."""
        assert self.session is not None
        frame = self.session.annotator_frame()
        objects = self.session.result.objects if self.session.result is not None else None
        dist: dict[str, str] = {}
        if objects is not None and len(objects):
            ok = objects[objects["outcome"].isin(["matched", "low_overlap"])]
            for name, group in ok.groupby("annotator", sort=False)["iou"]:
                dist[name] = sparkline(group.to_numpy(dtype=float))
        frame["iou_dist"] = frame["annotator"].map(dist).fillna("")
        frame["progress"] = frame["complete"].astype(str) + "/" + frame["total"].astype(str)
        self.objects = objects
        self.last_refresh = datetime.now(timezone.utc)
        self.app.call_from_thread(self._show, frame, changed)

    def _filtered(self, frame: pd.DataFrame) -> pd.DataFrame:
        needle = self.filters["annotator"].casefold()
        if needle:
            frame = frame[_as_shown(frame["annotator"]).str.contains(needle, regex=False)]
        cls = self.filters["class"].casefold()
        if cls and self.objects is not None and len(self.objects):
            o = self.objects
            has = o[_as_shown(o["class"]).str.contains(cls, regex=False)
                    | _as_shown(o["benchmark_class"]).str.contains(cls, regex=False)]
            frame = frame[frame["annotator"].isin(set(has["annotator"]))]
        return frame

    def _show(self, frame: pd.DataFrame, changed: int | None) -> None:
        self.frame = frame
        self.query_one("#annotators", FrameTable).set_frame(self._filtered(frame))
        self._show_status(changed)
        self._show_detail()

    def _status(self, text: Text) -> None:
        self.query_one("#eval-status", Static).update(text)

    def _show_status(self, changed: int | None = None) -> None:
        if self.session is None:
            return
        r = self.session.result
        s = r.settings if r else None
        t = Text()
        t.append_text(lit(self.session.title, "bold"))
        if s:
            t.append(f"  {s.matching}, IoU ≥ {s.iou_threshold:g}, pass: F1 ≥ {s.pass_mark.f1:g} & class ≥ "
                     f"{s.pass_mark.class_accuracy:g}")
        if r:
            t.append(f"  · {r.paired_rows} paired item(s)")
        if self.session.live:
            when = self.last_refresh.astimezone().strftime("%H:%M:%S") if self.last_refresh else "-"
            t.append(f"  · {'live' if self.live_on else 'paused'} {when}", style="green" if self.live_on else "yellow")
            if changed:
                t.append(f" (+{changed} row(s))", style="cyan")
        else:
            t.append("  · offline export", style="dim")
        active = [f"{k}~{v!r}" for k, v in self.filters.items() if v]
        if active:
            t.append_text(lit("  filter: " + ", ".join(active), "magenta"))
        self._status(t)

    def _show_detail(self) -> None:
        if self.session is None or self.session.result is None:
            return
        r = self.session.result
        table = self.query_one("#annotators", FrameTable)
        name = table.current_key()
        t = Text()
        score = r.annotators.get(name) if name else None
        if score is not None:
            t.append_text(lit(name, "bold"))
            t.append(f": {score.matched} matched, {score.missed} missed, {score.extra} extra, "
                     f"{score.low_overlap} low-overlap (< {r.settings.low_overlap:g}). ")
            conf = r.confusion(name)
            wrong = [(b, a, int(conf.at[b, a])) for b in conf.index for a in conf.columns
                     if b != a and b != "unmatched" and a != "unmatched" and conf.at[b, a]]
            if wrong:
                t.append("Class confusions: ")
                for k, (b, a, n) in enumerate(wrong[:4]):
                    t.append_text(lit(f"{', ' if k else ''}{b}→{a} ×{n}"))
        if r.warnings:
            t.append(f"\n⚠ {len(r.warnings)} warning(s): ", style="yellow")
            t.append_text(lit(r.warnings[0]))
        self.query_one("#eval-detail", Static).update(t)

    @on(FrameTable.RowHighlighted, "#annotators")
    def _highlighted(self) -> None:
        self._show_detail()

    def _tick(self) -> None:
        if self.live_on and self.session is not None and self.session.live and self.is_current:
            self.ticks = getattr(self, "ticks", 0) + 1
            self.refresh_worker(full=self.ticks % 6 == 0)  # a full check every sixth poll

    def action_refresh(self) -> None:
        if self.session is None:
            self.load()
        else:
            self.refresh_worker()

    def action_toggle_live(self) -> None:
        self.live_on = not self.live_on
        self._show_status()

    # -- drill-down ---------------------------------------------------------------------
    @on(FrameTable.RowSelected, "#annotators")
    def _open(self, event: FrameTable.RowSelected) -> None:
        if self.session is not None and event.key is not None:
            self.app.push_screen(AnnotatorScreen(self, str(event.key)))

    def action_objects(self) -> None:
        name = self.query_one("#annotators", FrameTable).current_key()
        if self.session is not None and name is not None:
            self.app.push_screen(AnnotatorScreen(self, str(name), objects=True))

    # -- filters ------------------------------------------------------------------------
    def action_filters(self) -> None:
        s = self.session.options if self.session else {}
        fields = [("annotator", "Annotator contains", self.filters["annotator"]),
                  ("class", "Class contains (benchmark or annotator class)", self.filters["class"]),
                  ("iou", "IoU threshold for a match (0–1]", f"{s.get('iou_threshold', 0.5):g}")]

        def check(values):
            return iou_threshold(values["iou"])[1]

        def done(values):
            if values is None:
                return
            iou, error = iou_threshold(values["iou"])
            if iou is None:  # never applied: the form refuses it first
                self.notify(error or "bad IoU threshold", severity="error")
                return
            self.filters = {"annotator": values["annotator"].strip(), "class": values["class"].strip()}
            if self.session is not None and abs(iou - self.session.options.get("iou_threshold", 0.5)) > 1e-12:
                self.rescore(iou)
            elif hasattr(self, "frame"):
                self._show(self.frame, None)

        self.app.push_screen(FormDialog("Filters", fields, validate=check, submit="Apply"), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-refresh")
    def rescore(self, iou: float) -> None:
        assert self.session is not None
        self.session.rescore(iou_threshold=iou)
        self._publish()

    # -- export and copy ----------------------------------------------------------------
    def action_export(self) -> None:
        if self.session is None or self.session.result is None:
            return
        choices = [("seed", "Seed CSV (iou_results.csv columns of the published script)"),
                   ("full", "Full CSV (every object: annotator, item, classes, IoU, outcome)"),
                   ("json", "JSON summary (per annotator, confusion, settings)")]

        def chosen(kind):
            if kind is None:
                return
            default = {"seed": "iou_results.csv", "full": "evaluation_objects.csv", "json": "evaluation.json"}[kind]

            def done(values):
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
        self.export(kind, str(target), shown_as=path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-export")
    def export(self, kind: str, path: str, shown_as: str | None = None) -> None:
        assert self.session is not None and self.session.result is not None
        r = self.session.result
        if kind == "json":
            write_json(path, r.to_json())
            n = len(r.annotators)
        elif kind == "seed":
            rows = r.seed_rows()
            write_csv(Path(path), rows)
            n = len(rows)
        else:
            rows = r.objects
            write_csv(Path(path), rows)
            n = len(rows)
        self.app.call_from_thread(self.notify, f"Wrote {n} row(s) to {shown_as or path}", title="Export",
                                  markup=False)

    def action_copy(self) -> None:
        table = self.query_one("#annotators", FrameTable)
        rows = table.rows_as_text()
        text = "\n".join("\t".join(r) for r in [[c.label for c in table.columns]] + rows)
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {len(rows)} row(s) (tab-separated)", title="Clipboard", markup=False)

    def action_back(self) -> None:
        self.cancel.set()
        self.app.pop_screen()


class AnnotatorScreen(AppScreen):
    """Level 2: one annotator's items (or all their objects, o toggles)."""

    TITLE = "Annotator"
    SCREEN_HELP = ("The annotator's items with their matched, missed and extra objects (o: every object instead). "
                   "Enter opens an item: its objects and both sides' shapes on a canvas. s/S sort, Escape goes back.")
    BINDINGS = [
        Binding("o", "toggle_objects", "Items/objects", id="annotator.toggle"),
        Binding("y", "copy", "Copy", id="annotator.copy"),
        Binding("escape", "app.pop_screen", "Back", id="annotator.back"),
    ]

    def __init__(self, parent: EvaluationScreen, annotator: str, *, objects: bool = False) -> None:
        super().__init__()
        self.parent_screen = parent
        self.annotator = annotator
        self.show_objects = objects

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(""), id="annotator-title")
        yield FrameTable(ITEM_COLUMNS, key_column="data_hash", id="items", empty="No paired items.")
        yield FrameTable(OBJECT_COLUMNS, key_column="row_id", id="objects", empty="No objects.")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.annotator
        self.build()

    def _objects(self) -> pd.DataFrame:
        o = self.parent_screen.objects
        if o is None or not len(o):
            return pd.DataFrame(columns=["annotator", "data_hash", "data_title", "outcome", "iou", "class_score",
                                         "frame", "shape", "class", "benchmark_class", "row_id"])
        o = o[o["annotator"] == self.annotator]
        cls = self.parent_screen.filters["class"].casefold()
        if cls:
            o = o[_as_shown(o["class"]).str.contains(cls, regex=False)
                  | _as_shown(o["benchmark_class"]).str.contains(cls, regex=False)]
        return o.assign(row_id=np.arange(len(o)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="annotator-build")
    def build(self) -> None:
        o = self._objects()
        outcome = o["outcome"]
        matched = outcome.isin(["matched", "low_overlap"])
        g = o.assign(is_obj=(outcome != "missed").astype(int), is_match=matched.astype(int),
                     is_miss=(outcome == "missed").astype(int), is_extra=(outcome == "extra").astype(int),
                     is_low=(outcome == "low_overlap").astype(int),
                     m_iou=o["iou"].where(matched), m_cls=o["class_score"].where(matched))
        items = g.groupby(["data_hash", "data_title"], sort=False).agg(
            frames=("frame", "nunique"), objects=("is_obj", "sum"), matched=("is_match", "sum"),
            missed=("is_miss", "sum"), extra=("is_extra", "sum"), low_overlap=("is_low", "sum"),
            mean_iou=("m_iou", "mean"), class_accuracy=("m_cls", "mean")).reset_index()
        self.app.call_from_thread(self._show, items, o)

    def _show(self, items: pd.DataFrame, objects: pd.DataFrame) -> None:
        self.items, self.object_rows = items, objects
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
        self.query_one("#annotator-title", Static).update(t)

    def action_toggle_objects(self) -> None:
        self.show_objects = not self.show_objects
        it, ob = self.query_one("#items", FrameTable), self.query_one("#objects", FrameTable)
        it.display, ob.display = not self.show_objects, self.show_objects
        (ob if self.show_objects else it).focus()

    @on(FrameTable.RowSelected)
    def _open(self, event: FrameTable.RowSelected) -> None:
        if event.table.id == "items":
            data_hash = str(event.key)
        else:
            row = self.object_rows[self.object_rows["row_id"] == event.key]
            if not len(row):
                return
            data_hash = str(row["data_hash"].iat[0])
        self.app.push_screen(ItemScreen(self.parent_screen, self.annotator, data_hash))

    def action_copy(self) -> None:
        table = self.query_one("#objects" if self.show_objects else "#items", FrameTable)
        rows = table.rows_as_text()
        self.app.copy_to_clipboard("\n".join("\t".join(r) for r in [[c.label for c in table.columns]] + rows))
        self.notify(f"Copied {len(rows)} row(s) (tab-separated)", title="Clipboard", markup=False)


class ItemScreen(AppScreen):
    """Level 3: one item: its objects, and both sides' shapes drawn on a canvas."""

    TITLE = "Item"
    SCREEN_HELP = ("The benchmark's shapes (solid) and the annotator's (dashed) on one image, coloured by class; "
                   "matched pairs carry the same number, ✗ marks a missed benchmark object, + an extra one. "
                   "[ and ] change the frame of a video or image group; b/a/l toggle benchmark, annotator, links.")
    BINDINGS = [
        Binding("right_square_bracket", "frame(1)", "Next frame", id="item.next_frame"),
        Binding("left_square_bracket", "frame(-1)", "Prev frame", show=False, id="item.prev_frame"),
        Binding("escape", "app.pop_screen", "Back", id="item.back"),
    ]

    def __init__(self, parent: EvaluationScreen, annotator: str, data_hash: str) -> None:
        super().__init__()
        self.parent_screen = parent
        self.annotator = annotator
        self.data_hash = data_hash
        self.frame_no = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="item-body"):
            yield ShapeCanvas(id="canvas")
            yield FrameTable(OBJECT_COLUMNS[2:], key_column="row_id", id="item-objects", empty="No objects.")
        yield Footer()

    def on_mount(self) -> None:
        o = self.parent_screen.objects
        o = o[(o["annotator"] == self.annotator) & (o["data_hash"] == self.data_hash)] if o is not None else None
        self.objs = o.assign(row_id=np.arange(len(o))) if o is not None else pd.DataFrame()
        self.frames = sorted(set(self.objs["frame"].tolist())) if len(self.objs) else [0]
        self.frame_no = self.frames[0]
        self.query_one("#canvas", ShapeCanvas).focus()
        self._draw()

    def _draw(self) -> None:
        session = self.parent_screen.session
        assert session is not None
        bench_row, mine = session.item_rows(self.data_hash, self.annotator)
        objs = self.objs[self.objs["frame"] == self.frame_no] if len(self.objs) else self.objs
        pair_of: dict[str, str] = {}
        iou_of: dict[str, float] = {}
        for oh, bh, iou, outcome in zip(objs.get("object_hash", []), objs.get("benchmark_object_hash", []),
                                        objs.get("iou", []), objs.get("outcome", [])):
            if outcome in ("matched", "low_overlap") and isinstance(oh, str) and isinstance(bh, str):
                pair_of[oh] = pair_of[bh] = f"{bh}"
                iou_of[oh] = float(iou)
        shapes = []
        title = ""
        width = height = None
        for side, row in (("benchmark", bench_row), ("annotator", mine)):
            if not row:
                continue
            title = title or str(row.get("data_title") or "")
            for unit in (row.get("data_units") or {}).values():
                width = width or unit.get("width")
                height = height or unit.get("height")
                labels = unit.get("labels") or {}
                if "objects" in labels:
                    seq = int(unit.get("data_sequence") or 0) if row.get("data_type") in ("img_group",) else 0
                    frame_objects = labels.get("objects") or [] if seq == self.frame_no else []
                else:
                    frame_objects = (labels.get(str(self.frame_no)) or {}).get("objects") or []
                for obj in frame_objects:
                    oh = obj.get("objectHash")
                    if side == "annotator" and obj.get("createdBy") not in (None, self.annotator):
                        continue
                    label = f"{iou_of[oh]:.2f}" if side == "annotator" and oh in iou_of else None
                    shape = shape_from_encord(obj, side, pair_id=pair_of.get(oh), label=label,
                                              color=obj.get("color"))
                    if shape is not None:
                        shapes.append(shape)
        size = (width, height) if width and height else None
        head = f"{title} · frame {self.frame_no}" if len(self.frames) > 1 else title
        self.query_one("#canvas", ShapeCanvas).set_shapes(shapes, image_size=size, title=head)
        self.query_one("#item-objects", FrameTable).set_frame(objs)
        self.sub_title = f"{self.annotator} · {title}"

    def action_frame(self, step: int) -> None:
        if self.frame_no in self.frames:
            i = self.frames.index(self.frame_no)
            self.frame_no = self.frames[max(0, min(len(self.frames) - 1, i + step))]
            self._draw()
