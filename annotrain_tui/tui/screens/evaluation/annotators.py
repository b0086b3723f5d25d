"""Level 1 of the evaluation: one row per annotator, live, with filters, export and copy."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Header, Static
from textual.worker import Worker

from annotrain_tui.core import history
from annotrain_tui.core.decisions import DecisionRow, confirm_all, decide, decision_rows, settings_of, to_confirm
from annotrain_tui.core.errors import AnnotrainError, NotFound, Transient
from annotrain_tui.core.evaluation import EvaluationSettings
from annotrain_tui.core.evaluation.results import EvaluationResult
from annotrain_tui.core.evaluation.session import EvaluationSession, FileSource
from annotrain_tui.core.evaluation.views import (
    MATCHING_CHOICES,
    EvaluationSnapshot,
    Filter,
    matching_of,
    matching_text,
    with_matching,
)
from annotrain_tui.core.exports import write_csv, write_json
from annotrain_tui.core.overview import default_benchmark
from annotrain_tui.core.programme import Decision, Programme
from annotrain_tui.core.roster import identity
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.screens.decision_dialog import DecisionDialog
from annotrain_tui.tui.screens.evaluation.breakdown import BreakdownScreen
from annotrain_tui.tui.screens.evaluation.common import (
    annotator_columns,
    ask_export_path,
    copy_table,
    filter_dialog,
    filter_from,
    filter_note,
    key_of,
    with_decision_columns,
)
from annotrain_tui.tui.screens.evaluation.confusion import ConfusionScreen
from annotrain_tui.tui.screens.evaluation.drilldown import AnnotatorScreen
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.dialogs import ChoiceDialog, ConfirmDialog
from annotrain_tui.tui.widgets.frame_table import FrameTable

if TYPE_CHECKING:
    from annotrain_tui.core.columns import Columns
    from annotrain_tui.core.evaluation.results import AnnotatorScore

#: the decisions (a workspace's programme: live only)
_DECISIONS_HELP = (
    "Decisions: the programme's trainees each get one, made or confirmed by a person and kept in the "
    "programme's record. F1 CI is F1's 95% interval (the pass confidence of the settings): a status of "
    "uncertain means it straddles the pass mark. Suggests is the decision the status suggests (passed: "
    "graduate; close or needs feedback: retake; uncertain or not enough work: hold), Decision the one made on "
    "the trainee's current round (Rnd), blank until then. g graduates, t retakes, h holds the highlighted "
    "trainee (a dialog takes an optional note; Enter records, Escape cancels); C confirms the suggestion of "
    "every trainee who finished their round and has no decision yet (it asks first, saying how many). "
    "Decisions are on the whole evaluation, whatever the filter; the gold audit's exclusions of the "
    "programme are left out of every score."
)
#: the evaluation screen's help after what differs live and offline
_HELP_REST = (
    "f filters (annotator, class, IoU threshold): a class filter scores every column on the objects of that "
    "class (theirs or the benchmark's) and their attributes, and applies to the detail line, the drill-down "
    "(where f changes it too), the item canvas (other classes grey), the confusion matrix and every export, "
    "whose file name and notice say the filter. A class is its feature hash, named as the benchmark names it. "
    "c shows the confusion matrix of the highlighted annotator (a there: everyone's; e exports it as CSV); b "
    "breaks their scores down (by shape, by class, per classification question and attribute, items finished "
    "and the status's reason). m chooses the matching, shown in the header: optimal (any class), optimal "
    "within a class, or seed (the published script: bounding boxes on frame 0 only); choosing scores the rows "
    "already fetched again. e exports (seed CSV, which is always the seed algorithm, full CSV, JSON); y copies "
    "the table (OSC 52)."
)


#: a decision's colour in text (the table's are common.DECISION_STYLE)
DECISION_TEXT_STYLE = {"graduate": "bold green", "retake": "bold yellow", "hold": "bold cyan"}


def decision_text(row: DecisionRow) -> Text:
    """The detail line's decision part: the decision made on this round (by whom, the note), else the
    suggestion and the keys that decide."""
    t = Text()
    if row.decided and row.decision is not None:
        d = row.decision
        t.append(f"Decided (round {d.round}): ")
        t.append(d.decision, style=DECISION_TEXT_STYLE.get(d.decision, ""))
        if d.by:
            t.append_text(lit(f" by {d.by}", limit=60))
        if d.note:
            t.append_text(lit(f" — {d.note}", limit=120))
        t.append(".")
    elif row.suggested is None:
        t.append(f"Round {row.round}, undecided, not scored yet (g/t/h decide).", style="dim")
    else:
        t.append(f"Round {row.round}, undecided: suggests ")
        t.append(row.suggested, style=DECISION_TEXT_STYLE.get(row.suggested, ""))
        t.append(" (g/t/h decide; C confirms all).", style="dim")
    return t


class EvaluationScreen(AppScreen):
    """Level 1: one row per annotator. Shows what the session's snapshot says; computes nothing."""

    TITLE = "Evaluation"
    #: F1 in live mode (a workspace: the table polls); offline (label-row files) :data:`OFFLINE_HELP`
    SCREEN_HELP = (
        "One row per annotator: status, F1, mean IoU, class accuracy, Done (items finished of those the pass "
        "mark needs), the IoU distribution of their matches, precision, recall, objects, missed and extra "
        "objects, projects and their last activity. Left/Right pick a column, s sorts by it (again: reverse), S "
        "reverses. Enter drills down to the annotator's items; o shows all their objects. The table refreshes on "
        "its own (and with r): only label rows edited since the last poll are fetched and scored again, and rows "
        "update in place; p pauses and resumes that. " + _HELP_REST + " " + _DECISIONS_HELP
    )
    OFFLINE_HELP = (
        "Offline: label-row export files. One row per annotator: status, F1, mean IoU, class accuracy, Done (items "
        "finished of those the pass mark needs), the IoU distribution of their matches, precision, recall, objects, "
        "missed and extra objects. Left/Right pick a column, s sorts by it (again: reverse), S reverses. Enter "
        "drills down to the annotator's items; o shows all their objects. Nothing refreshes on its own: r reads "
        "the files again. " + _HELP_REST
    )
    BINDINGS = [
        # first of the secondary keys (FOOTER_SECONDARY): after the rest, before r and the others
        Binding("C", "confirm_suggestions", "Confirm all", id="evaluation.confirm_all"),
        Binding("r", "refresh", "Refresh", id="evaluation.refresh"),
        Binding("f", "filters", "Filter", id="evaluation.filter"),
        # decisions: r is Refresh here, so retake is t
        Binding("g", "decide('graduate')", "Graduate", id="evaluation.graduate"),
        Binding("t", "decide('retake')", "Retake", id="evaluation.retake"),
        Binding("h", "decide('hold')", "Hold", id="evaluation.hold"),
        Binding("o", "objects", "Objects", id="evaluation.objects"),
        Binding("c", "confusion", "Confusion", id="evaluation.confusion"),
        Binding("b", "breakdown", "Breakdown", id="evaluation.breakdown"),
        Binding("m", "matching", "Matching", id="evaluation.matching"),
        Binding("e", "export", "Export", id="evaluation.export"),
        Binding("y", "copy", "Copy", id="evaluation.copy"),
        Binding("p", "pause", "Pause", id="evaluation.pause"),
        Binding("p", "resume", "Resume", id="evaluation.resume"),
        Binding("escape", "back", "Back", id="evaluation.back"),
    ]

    #: shown after the rest at 80 columns: the table refreshes on its own, o is also Enter then o, and
    #: c, b and m are in the help (a wider terminal shows them); the decision keys come before export
    #: and copy, which follow them
    FOOTER_SECONDARY = frozenset({"evaluation.refresh", "evaluation.objects", "evaluation.confusion",
                                  "evaluation.breakdown", "evaluation.matching", "evaluation.confirm_all",
                                  "evaluation.export", "evaluation.copy"})

    class Published(Message):
        """A worker finished a load, refresh or re-score: the snapshot the screen shows from now on."""

        bubble = False  # for this screen only

        def __init__(self, snapshot: EvaluationSnapshot, changed: int | None = None,
                     session: EvaluationSession | None = None, programme: Programme | None = None,
                     rows: dict[str, DecisionRow] | None = None) -> None:
            super().__init__()
            self.snapshot = snapshot
            self.changed = changed
            self.session = session  # a load's new session (the handler keeps it)
            self.programme = programme  # a load's programme (live: the benchmark's)
            self.rows = rows  # the trainees' decision rows for this snapshot (None: not a programme)

    class Decided(Message):
        """Decisions were recorded here (``made``), or read from the record (another front made them)."""

        bubble = False  # for this screen only

        def __init__(self, rows: dict[str, DecisionRow], made: list[Decision]) -> None:
            super().__init__()
            self.rows, self.made = rows, made

    class Reload(Message):
        """A trainee started a new round: the evaluation is loaded again (each trainee's latest round)."""

        bubble = False  # for this screen only

    class Polled(Message):
        """A refresh found nothing new (the "live" time moves on)."""

        bubble = False  # for this screen only

    class NoBenchmark(Message):
        """The workspace has no benchmark project yet."""

        bubble = False  # for this screen only

    class Filtered(Message):
        """A worker scored the annotators under a class filter (from every per-object row)."""

        bubble = False  # for this screen only

        def __init__(self, snapshot: EvaluationSnapshot, f: Filter, frame: Columns,
                     scores: Mapping[str, AnnotatorScore], changed: int | None) -> None:
            super().__init__()
            self.snapshot, self.filter, self.frame, self.scores, self.changed = snapshot, f, frame, scores, changed

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
        self._scoring_filter: Filter | None = None  # a class filter a worker is scoring (said in the status)
        self.live_on = True
        self.last_refresh: datetime | None = None
        self.ticks = 0
        self.cancel = threading.Event()
        #: how far the last load got: "find" (the benchmark named by its ref) or "load" (its rows
        #: and training projects), so a failure's empty table says what helps
        self._load_stage = "load"
        self._found: Programme | None = None  # the programme the last load found: its next step helps
        #: what a re-score under way is for ("seed matching", "IoU ≥ 0.7"), "" when none is
        self.rescoring = ""
        #: the settings last asked for (a choice made while a re-score runs builds on it, not on
        #: the snapshot still shown); None until the first re-score
        self.wanted: EvaluationSettings | None = None
        #: the programme being evaluated (live, once loaded) and its trainees' decision rows by email
        self.programme: Programme | None = None
        self.rows: dict[str, DecisionRow] = {}
        if benchmark_labels:  # offline: nothing polls, so F1 says so and p is not offered
            self.SCREEN_HELP = self.OFFLINE_HELP  # type: ignore[misc]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Loading the evaluation…", style="dim"), id="eval-status")
        yield FrameTable(annotator_columns(decisions=not self.benchmark_labels), key_column="annotator",
                         id="annotators", empty="Loading…")
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
        """``p`` is Pause while live, Resume while paused (the footer shows the one that applies);
        offline (label-row files) neither: nothing polls; nor the decision keys: no programme."""
        if action in ("pause", "resume", "decide", "confirm_suggestions") and self.benchmark_labels:
            return False  # offline: no programme to decide in
        if action == "pause":
            return self.live_on
        if action == "resume":
            return not self.live_on
        return True

    # -- loading and refreshing (workers post messages; only handlers touch the screen) ---------
    def _settings(self) -> EvaluationSettings:
        """The user's settings (thresholds, sigmas and pass marks, per class too; the minimum of
        finished items; the class matching) as the one rule the CLI uses too."""
        return EvaluationSettings.from_config(self.app.workspace.settings)

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-load")
    def load(self) -> None:
        prog: Programme | None = None
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
            self._load_stage = "find"
            prog = self._found = self.app.workspace.programme(ref)  # its exclusions apply to every score
            session = EvaluationSession.of_workspace(backend, ref, self.training_refs,
                                                     settings_of(prog, self._settings()))
        self._load_stage = "load"

        def progress(done: int, total: int, name: str) -> None:
            self.app.call_from_thread(self._status, lit(f"Loading {done}/{total} project(s)… {name}", "dim"))

        result = session.load(on_progress=progress, cancel=self.cancel)
        if prog is not None and not self.training_refs and result.paired_rows:
            self._keep_snapshot(prog, result, session.bench_rows.values())
        self.post_message(self.Published(session.snapshot(), session=session, programme=prog,
                                         rows=self._decision_rows(prog, result)))

    def _keep_snapshot(self, prog: Programme, result: EvaluationResult, gold: Iterable[Mapping[str, object]]) -> None:
        """(In a worker.) The evaluation of the programme's current rounds, kept in its history as the
        CLI's is; a record that cannot be written is said once, and the scores are still shown."""
        try:
            history.remember(prog, result, self.app.workspace.backend, gold=gold)
        except AnnotrainError as err:
            self.app.call_from_thread(self.notify, f"Not kept in the history: {err}", title="Evaluation",
                                      severity="warning", markup=False)

    @staticmethod
    def _decision_rows(prog: Programme | None, result: EvaluationResult | None) -> dict[str, DecisionRow] | None:
        """(In a worker.) The trainees' decision rows for ``result``, with the decisions as the record
        holds them now (the CLI, or another window, may have decided since)."""
        if prog is None:
            return None
        decisions = prog.record.decisions()
        for trainee in prog.trainees.values():
            trainee.decision = decisions.get(trainee.email)
        return {r.email: r for r in decision_rows(prog, result)}

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-refresh")
    def refresh_worker(self, full: bool = True) -> None:
        """Poll for edited label rows; ``full`` also looks for new projects and benchmark edits."""
        session = self.session
        if session is None:
            return
        report = session.refresh(include_new_projects=full, check_benchmark=full)
        prog = self.programme
        if prog is not None and report.new_projects:  # a new round (a retake) or a new trainee: read them again
            before = {e: t.round for e, t in prog.trainees.items()}
            prog = self.app.workspace.programme(prog.id)
            if any(before.get(e, t.round) != t.round for e, t in prog.trainees.items()):
                # a trainee's new round is scored alone: the session (which added the new project beside
                # the old one) is loaded again, as at the start
                self.post_message(self.Reload())
                return
        rows = self._decision_rows(prog, session.result)
        if report.changed_projects or report.new_projects or report.benchmark_changed:
            self.post_message(self.Published(session.snapshot(), report.changed_rows,
                                             programme=prog if prog is not self.programme else None, rows=rows))
        else:
            if rows is not None and rows != self.rows:  # decided elsewhere since (the record is shared)
                self.post_message(self.Decided(rows, []))
            self.post_message(self.Polled())

    def current_settings(self) -> EvaluationSettings:
        """The settings in force, or being put in force by a re-score under way."""
        if self.wanted is not None:
            return self.wanted
        return self.snapshot.settings if self.snapshot is not None else self._settings()

    def rescore(self, settings: EvaluationSettings, what: str) -> None:
        """Score the rows already fetched again with ``settings`` (in a worker: the screen stays
        live); the status line says ``what`` is being scored until the new snapshot arrives."""
        self.rescoring, self.wanted = what, settings
        self._show_status()
        self.rescore_worker(settings)

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-refresh")
    def rescore_worker(self, settings: EvaluationSettings) -> None:
        session = self.session
        assert session is not None
        session.rescore(settings)
        self.post_message(self.Published(session.snapshot(), rows=self._decision_rows(self.programme, session.result)))

    @on(Published)
    def _published(self, event: Published) -> None:
        if event.session is not None:
            self.session = event.session
        if event.programme is not None:
            self.programme = event.programme
        if event.rows is not None:
            self.rows = event.rows
        self.snapshot = event.snapshot
        self.last_refresh = self.app.now()
        if self.wanted is None or self.wanted == event.snapshot.settings:
            self.rescoring = ""  # this snapshot has the settings last asked for
        self._show(event.changed)

    @on(Reload)
    def _reload(self) -> None:
        self._status(Text("A trainee started a new round: loading the evaluation again…", style="dim"))
        self.load()

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
        """A failed load: the error bar holds the reason (and a toast says it once); the status line
        and the table say what to do, without the reason a third time."""
        if worker.group == "evaluation-refresh" and self.rescoring:
            self.rescoring = ""  # the error bar says why; the header keeps the matching in force
            self._show_status()
        if worker.group == "evaluation-filter" and self._scoring_filter is not None:
            # the class could not be scored (the error bar says why: a file changed since it was
            # scored): the table and the status say the filter without it, as they show
            self.filter = replace(self.filter, class_name="")
            self._show()
        if worker.group != "evaluation-load":
            return
        self._status(Text("The evaluation is not loaded.", style="red"))
        self.table.empty_text = f"Nothing to show: {self._what_helps(error)}."
        self.table.refresh()

    def _what_helps(self, error: BaseException | None) -> str:
        """What gets the evaluation loaded after ``error``: trying again only helps a transient
        failure; a name that matched nothing wants the exact name (the bar says which is close), a
        benchmark without training projects wants the roster provisioned."""
        if isinstance(error, Transient):
            return f"{key_of(self, 'evaluation.refresh')} tries again"
        if isinstance(error, NotFound) and not self.benchmark_labels:
            if self._load_stage == "find":
                return "open Evaluate with the benchmark's exact name"
            if self.training_refs:
                return "open Evaluate with the training projects' exact names"
            prog = self._found  # no trainee yet: finishing the benchmark may come first (the gate)
            if prog is not None and (prog.problems or not prog.benchmark_complete):
                return f"{prog.next_step} (3 on Home)"
            return "provision the roster first (4 on Home), then come back"
        return "the bar above says what went wrong"

    def _show(self, changed: int | None = None) -> None:
        snap = self.snapshot
        if snap is None:
            return
        self.table.empty_text = snap.empty_text(self.filter)
        if self.filter.class_name:  # scored again from every per-object row: seconds at 150,000 objects
            self._scoring_filter = self.filter
            self._show_status(changed)
            self._filter_scores(snap, self.filter, changed)
            return
        self._scoring_filter = None
        self._apply(snap.annotator_table(self.filter), snap.result.annotators if snap.result else {}, changed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-filter")
    def _filter_scores(self, snap: EvaluationSnapshot, f: Filter, changed: int | None) -> None:
        """The annotator rows under a class filter, off the UI thread (the snapshot is immutable)."""
        self.post_message(self.Filtered(snap, f, snap.annotator_table(f), snap.scores(f), changed))

    @on(Filtered)
    def _filtered(self, event: Filtered) -> None:
        if event.snapshot is self.snapshot and event.filter == self.filter:  # else a newer show is on its way
            self._scoring_filter = None
            self._apply(event.frame, event.scores, event.changed)

    def _apply(self, frame: Columns, scores: Mapping[str, AnnotatorScore], changed: int | None) -> None:
        self.table.set_frame(with_decision_columns(frame, scores, self.rows if self.programme is not None else None))
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
        t.append(f"  {matching_text(s)}, IoU ≥ {s.iou_threshold:g}, pass: F1 ≥ {s.pass_mark.f1:g} & class ≥ "
                 f"{s.pass_mark.class_accuracy:g}")
        if self.rescoring:
            t.append(f"  · scoring again with {self.rescoring}…", style="cyan")
        if self._scoring_filter is not None:
            t.append("  · scoring the class filter '", style="cyan")
            t.append_text(lit(self._scoring_filter.class_name, "cyan"))
            t.append("'…", style="cyan")
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
        d = self.snapshot.detail(str(name) if name is not None else None, self.filter)
        t = Text()
        if self.snapshot.nothing_paired:  # the annotators are listed, but nothing could be scored: say why
            t.append("Nothing compared: ", style="yellow bold")
            t.append_text(lit(self.snapshot.nothing_paired + ".\n"))
        if d.score is not None:
            t.append_text(lit(d.score.annotator, "bold"))
            t.append(f": {d.score.matched} matched, {d.score.missed} missed, {d.score.extra} extra, "
                     f"{d.score.low_overlap} low-overlap (< {d.low_overlap_mark:g}). ")
            if d.score.reason:  # why the status is not "passed" (the pass mark's verdict)
                t.append_text(lit(f"{d.score.status.capitalize()}: {d.score.reason}. ", "yellow"))
            elif d.score.items_required is not None:  # the evidence behind a status (coverage)
                t.append(f"{d.score.items_done or 0}/{d.score.items_required} item(s) finished. ")
            if d.confusions:
                t.append("Class confusions: ")
                for k, (b, a, n) in enumerate(d.confusions):
                    t.append_text(lit(f"{', ' if k else ''}{b}→{a} ×{n}"))
        row = self.decision_row(name)
        if row is not None:
            t.append("\n")
            t.append_text(decision_text(row))
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
                                                 objects=objects, inputs=self.export_inputs()))

    @on(FrameTable.RowSelected, "#annotators")
    def _open(self, event: FrameTable.RowSelected) -> None:
        if event.key is not None:
            self._drill(str(event.key))

    def action_objects(self) -> None:
        name = self.table.current_key()
        if name is not None:
            self._drill(str(name), objects=True)

    def action_breakdown(self) -> None:
        """The highlighted annotator's breakdown (by shape, class, question, attribute), under the filter."""
        name = self.table.current_key()
        if self.snapshot is None or self.snapshot.result is None or name is None:
            return
        self.app.push_screen(BreakdownScreen(self.snapshot, str(name), self.filter))

    def action_matching(self) -> None:
        """Choose the matching (optimal, optimal within a class, seed): the rows fetched are scored again."""
        snap = self.snapshot
        if snap is None or self.session is None:
            self.notify("The evaluation is still loading; choose the matching once it is shown.", title="Matching",
                        markup=False)
            return
        now = matching_of(self.current_settings())
        choices = [(key, ("✓ " if key == now else "  ") + label) for key, label in MATCHING_CHOICES]

        def chosen(key: str | None) -> None:
            if key is None or self.session is None:
                return
            before = self.current_settings()
            settings = with_matching(before, key)
            if settings == before:
                return
            self.rescore(settings, matching_text(settings))

        self.app.push_screen(ChoiceDialog(f"Matching (now: {matching_text(self.current_settings())})", choices,
                                          current=now), chosen)

    def action_confusion(self) -> None:
        """The confusion matrix of the highlighted annotator (everyone's when none), under the filter."""
        if self.snapshot is None or self.snapshot.result is None:
            return
        name = self.table.current_key()
        self.app.push_screen(ConfusionScreen(self.snapshot, str(name) if name is not None else None, self.filter,
                                             inputs=self.export_inputs()))

    # -- decisions ----------------------------------------------------------------------
    def decision_row(self, name: object) -> DecisionRow | None:
        """The decision row of the annotator named ``name`` in the table (None: not a trainee)."""
        if name is None or self.programme is None:
            return None
        return self.rows.get(str(name)) or self.rows.get(identity(str(name)))

    def _programme_ready(self, what: str) -> bool:
        if self.programme is None or self.snapshot is None or self.snapshot.result is None:
            self.notify(f"The evaluation is not shown yet; {what} once it is.", title="Decisions")
            return False
        return True

    def action_decide(self, kind: str) -> None:
        """Graduate, retake or hold the highlighted trainee: a dialog takes a note, then it is recorded."""
        if not self._programme_ready("decide"):
            return
        name = self.table.current_key()
        if name is None:
            return
        row = self.decision_row(name)
        if row is None:
            self.notify(f"{name} is not a trainee of this programme (no training project of its benchmark is "
                        "theirs): there is nothing to decide.", title="Decisions", severity="warning")
            return

        def chosen(note: str | None) -> None:
            if note is not None:
                self.record_decisions(kind, row.email, note)

        self.app.push_screen(DecisionDialog(kind, row), chosen)

    def pending_suggestions(self) -> list[DecisionRow]:
        """The trainees C would decide: finished their round, evaluated, no decision on it yet (the
        rule of ``core.decisions.confirm_all``, which records them)."""
        return to_confirm(list(self.rows.values()))

    def action_confirm_suggestions(self) -> None:
        """Record the suggested decision of every finished, undecided trainee, once the user says yes."""
        if not self._programme_ready("confirm the suggestions"):
            return
        pending = self.pending_suggestions()
        if not pending:
            self.notify("No trainee has finished their round without a decision: nothing to confirm.",
                        title="Decisions")
            return
        body = Text(f"Record the suggested decision of {len(pending)} trainee(s) who finished their round and "
                    f"have none yet:\n")
        for r in pending[:6]:
            body.append("  ")
            body.append_text(lit(r.email, limit=60))
            body.append(f": {r.suggested}", style=DECISION_TEXT_STYLE.get(str(r.suggested), ""))
            body.append(f" ({r.status})\n", style="dim")
        if len(pending) > 6:
            body.append(f"  and {len(pending) - 6} more\n", style="dim")
        counts = Counter(str(r.suggested) for r in pending)
        body.append(", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())), style="bold")

        def answered(yes: bool | None) -> None:
            if yes:
                self.record_decisions(None, None, "")

        self.app.push_screen(ConfirmDialog(f"Confirm {len(pending)} suggestion(s)", body,
                                           yes=f"Record {len(pending)}"), answered)

    @work(thread=True, exclusive=False, exit_on_error=False, group="evaluation-decide")
    def record_decisions(self, kind: str | None, email: str | None, note: str) -> None:
        """Record one decision (``kind`` on ``email``), or with ``kind`` None confirm every suggestion."""
        prog, snap = self.programme, self.snapshot
        assert prog is not None and snap is not None and snap.result is not None
        if kind is None:
            made = confirm_all(prog, snap.result)
        else:
            made = [decide(prog, str(email), kind, result=snap.result, note=note)]
        rows = dict(self.rows)
        for m in made:
            if m.email in rows:
                rows[m.email] = replace(rows[m.email], decision=m)
        self.post_message(self.Decided(rows, made))

    @on(Decided)
    def _decided(self, event: Decided) -> None:
        self.rows = event.rows
        self._show()
        if not event.made:
            return
        if len(event.made) == 1:
            m = event.made[0]
            self.notify(f"Recorded: {m.decision} for {m.email} (round {m.round})" + (f", note: {m.note}" if m.note
                        and m.note != "confirmed the suggestion" else ""), title="Decision")
        else:
            counts = Counter(m.decision for m in event.made)
            self.notify(f"Recorded {len(event.made)} decisions: " + ", ".join(
                f"{n} {kind}" for kind, n in sorted(counts.items())), title="Decisions")

    # -- filters ------------------------------------------------------------------------
    def set_filter(self, new: Filter) -> None:
        """Apply a filter (from this screen's form or the drill-down's): a new IoU re-scores."""
        self.filter = new
        snap = self.snapshot
        before = self.current_settings()
        if snap is not None and self.session is not None and new.iou_threshold is not None \
                and abs(new.iou_threshold - before.iou_threshold) > 1e-12:
            self.rescore(replace(before, iou_threshold=new.iou_threshold), f"IoU ≥ {new.iou_threshold:g}")
        else:
            self._show()
            self._show_status()

    def action_filters(self) -> None:
        iou = self.current_settings().iou_threshold

        def done(values: dict[str, str] | None) -> None:
            if values is not None and (new := filter_from(values, self.filter)) is not None:
                self.set_filter(new)

        self.app.push_screen(filter_dialog(self.filter, iou), done)

    # -- export and copy ----------------------------------------------------------------
    def action_export(self) -> None:
        """Export what the screen shows: every export carries the filter (its rows, its name in the
        proposed file name, a ``"filter"`` key in the JSON, and the notice after saving)."""
        if self.snapshot is None or self.snapshot.result is None:
            return
        f = self.filter
        choices = [("seed", "Seed CSV (iou_results.csv of the published script: its seed matching)"),
                   ("full", "Full CSV (every object: annotator, item, classes, IoU, outcome)"),
                   ("json", "JSON summary (per annotator, confusion, settings)")]
        title = "Export" + (f" (filter: {f.describe()})" if f.active else "")  # shown through lit()

        def chosen(kind: str | None) -> None:
            if kind is None:
                return
            default = {"seed": "iou_results.csv", "full": "evaluation_objects.csv", "json": "evaluation.json"}[kind]
            snapshot = self.snapshot
            assert snapshot is not None
            ask_export_path(self, f.file_name(default), self.export_inputs(),
                            lambda target, typed: self.export(snapshot, kind, target, f, shown_as=typed))

        self.app.push_screen(ChoiceDialog(title, choices), chosen)

    def export_inputs(self) -> list[str]:
        """The files this evaluation reads (offline label exports): an export never replaces one."""
        return [p for p in [self.benchmark_labels, *(self.training_labels or [])] if p]

    @work(thread=True, exclusive=True, exit_on_error=False, group="evaluation-export")
    def export(self, snapshot: EvaluationSnapshot, kind: str, path: str, f: Filter,
               shown_as: str | None = None) -> None:
        r = snapshot.result
        assert r is not None
        if kind == "json":
            doc = snapshot.summary_json(f)
            write_json(path, doc)
            n, what = len(doc["annotators"]), "annotator(s)"
        else:
            # the seed CSV is the published script's: its own matching over the same rows, whatever
            # matching the screen shows (the screen's optimal rows were 404 where the script writes 274)
            if kind == "seed" and self.session is not None:
                rows = self.session.seed_rows(f)
            else:
                rows = snapshot.filtered_objects(f)
            write_csv(Path(path), rows)
            n, what = len(rows), "row(s)"
        self.app.call_from_thread(self.notify, f"Wrote {n} {what} to {shown_as or path}{filter_note(f)}",
                                  title="Export", markup=False)

    def action_copy(self) -> None:
        copy_table(self, self.table)

    def action_back(self) -> None:
        self.cancel.set()
        self.app.pop_screen()
