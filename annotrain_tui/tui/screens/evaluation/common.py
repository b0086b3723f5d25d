"""What the evaluation screens share: cell formats, column specs, the filter form and the copy
action (the export choice is the shared ``widgets.dialogs.ChoiceDialog``)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.binding import Binding

from annotrain_tui.core.decisions import DecisionRow
from annotrain_tui.core.errors import AnnotrainError, OutputExists
from annotrain_tui.core.evaluation.views import Filter
from annotrain_tui.core.files import check_output
from annotrain_tui.core.roster import identity
from annotrain_tui.core.text import shown
from annotrain_tui.tui.remedies import error_text
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog, PathDialog
from annotrain_tui.tui.widgets.frame_table import Column, FrameTable

if TYPE_CHECKING:
    from annotrain_tui.core.columns import Columns

STATUS_STYLE = {"passed": Style(color="green", bold=True), "close": Style(color="yellow"),
                "needs feedback": Style(color="red", bold=True), "not enough work yet": Style(dim=True, italic=True),
                # its own colour: neither a pass nor a miss, the interval straddles the mark
                "uncertain": Style(color="magenta", bold=True, italic=True)}
#: a decision made, coloured by what it does (a suggestion is drawn dim)
DECISION_STYLE = {"graduate": Style(color="green", bold=True), "retake": Style(color="yellow", bold=True),
                  "hold": Style(color="cyan", bold=True)}


def fmt_ratio(v: Any) -> str:
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def score_style(v: Any) -> Style | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return Style(dim=True)
    return Style(color="green") if v >= 0.8 else Style(color="yellow") if v >= 0.6 else Style(color="red")


def fmt_time(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "never"
    if isinstance(v, datetime):  # a datetime (a pandas Timestamp is one too)
        return "never" if v != v else v.strftime("%m-%d %H:%M")  # NaT is no date
    if isinstance(v, np.datetime64) and np.isnat(v):  # a naive datetime column's NaT, as numpy holds it
        return "never"
    import pandas as pd

    if v is pd.NaT:
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


def fmt_interval(v: Any) -> str:
    """An interval (low, high) as "0.70–0.90"; "" without one."""
    if not isinstance(v, tuple | list) or len(v) != 2:
        return ""
    return f"{v[0]:.2f}–{v[1]:.2f}"


def fmt_round(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(int(v))


ANNOTATOR_COLUMNS = [  # the scores that decide first, so 80 columns show them
    Column("annotator", "Annotator"),
    Column("status", "Status", style=lambda v: STATUS_STYLE.get(v)),
    Column("f1", "F1", align="right", format=fmt_ratio, style=score_style),
    Column("f1_interval", "F1 CI", width=9),  # the interval at the pass confidence (95% by default)
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
#: a programme's columns, after F1's interval: the decision made (on the current round), the one the
#: status suggests, and the round scored
DECISION_COLUMNS = [
    Column("decision", "Decision", style=lambda v: DECISION_STYLE.get(v)),
    Column("suggested", "Suggests", style=lambda v: Style(dim=True, italic=True)),
    Column("round", "Rnd", align="right", format=fmt_round),
]


def annotator_columns(*, decisions: bool) -> list[Column]:
    """The annotator table's columns; with ``decisions`` (a programme: live), the decision columns after F1's interval."""
    if not decisions:
        return list(ANNOTATOR_COLUMNS)
    at = [c.key for c in ANNOTATOR_COLUMNS].index("f1_interval") + 1
    return [*ANNOTATOR_COLUMNS[:at], *DECISION_COLUMNS, *ANNOTATOR_COLUMNS[at:]]


def with_decision_columns(frame: Columns, scores: Mapping[str, Any],
                          rows: Mapping[str, DecisionRow] | None) -> Columns:
    """The annotator frame with what the table shows beside the scores: F1's interval (from the
    score, when it has one) and, for a programme (``rows``: trainee email → its decision row), the
    round, the suggested decision and the decision made on that round ("" when none)."""
    names = [str(n) for n in frame["annotator"]]
    columns: dict[str, list[Any]] = {
        "f1_interval": [fmt_interval(getattr(scores.get(n), "f1_interval", None)) for n in names]}
    if rows is not None:
        found = [rows.get(n) or rows.get(identity(n)) for n in names]
        columns["round"] = [float(r.round) if r is not None else np.nan for r in found]
        columns["suggested"] = [(r.suggested or "") if r is not None else "" for r in found]
        columns["decision"] = [r.decision.decision if r is not None and r.decided and r.decision else ""
                               for r in found]
    return frame.assign(**columns)


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
    if v in ("missed", "extra", "class_mismatch"):
        return Style(color="red")
    return Style(color="yellow") if v == "low_overlap" else None


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


def key_of(screen: AppScreen, binding_id: str) -> str:
    """The key the user presses now for one of ``screen``'s bindings (after their keymap), as shown."""
    binding = next(b for b in screen.BINDINGS if isinstance(b, Binding) and b.id == binding_id)
    keymap: dict[str, str] = getattr(screen.app, "_keymap", {}) or {}
    first = keymap.get(binding_id, binding.key).split(",")[0].strip() or binding.key
    return screen.app.get_key_display(Binding(first, binding.action))


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


def export_refusal(screen: AppScreen, path: Path, inputs: Sequence[str]) -> str | None:
    """Why ``path`` cannot be an export (one line, for the path dialog), or None when it can; an
    existing file is not a refusal here: :func:`export_target` asks before overwriting it."""
    try:
        check_output(path, inputs=list(inputs))
    except OutputExists:
        return None
    except AnnotrainError as err:
        return error_text(err, screen.app, screen)
    return None


def ask_export_path(screen: AppScreen, default: str, inputs: Sequence[str], write: Callable[[str, str], object]) -> None:
    """The export path dialog (starting in the last export's directory; a bad path keeps it open
    with the reason, trial item 35), then :func:`export_target`, then ``write(target, as_typed)``."""

    def done(path: Path | None) -> None:
        if path is not None:
            export_target(screen, str(path), inputs, write)

    screen.app.push_screen(PathDialog("Export to", default, recent_key="export_dir",
                                      check=lambda p: export_refusal(screen, p, inputs), submit="Write"), done)


def export_target(screen: AppScreen, path: str, inputs: Sequence[str], write: Callable[[str, str], object], *,
                  force: bool = False) -> None:
    """Check the target (core.files.check_output): refuse one of the inputs or a target that is
    not a regular file; a symlink is written through; an existing file is overwritten only after
    the user says so. Then ``write(target, path as typed)``."""
    try:
        target = check_output(os.path.expanduser(path), inputs=list(inputs), force=force)
    except OutputExists:
        body = Text()
        body.append_text(lit(path, "bold"))
        body.append(" already exists. Overwrite it?")
        screen.app.push_screen(ConfirmDialog("Overwrite the file?", body, yes="Overwrite", enter_says_yes=True),
                               lambda yes: export_target(screen, path, inputs, write, force=True) if yes else None)
        return
    except AnnotrainError as err:
        screen.notify(str(err), title="Cannot export", severity="error", timeout=10)
        return
    write(str(target), path)


def filter_note(f: Filter) -> str:
    """What an export notice adds for a filter: `` (filter: class~'car')``, "" without one (raw
    text: notices are shown with markup off)."""
    return f" (filter: {shown(f.describe())})" if f.active else ""
