"""The gold audit (issue 16 item 7, TUI): benchmark objects most trainees agree against (suspect
gold) and the items the trainees agree least on, from ``core.audit.audit_programme``. Enter draws
the item (the evaluation's item canvas: the gold solid, a trainee's shapes dashed); x excludes the
item from scoring with a reason (kept in the programme's record), i includes it back; the scores
then leave it out (an evaluation screen open on the programme is rescored)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Label, Static
from textual.worker import Worker

from annotrain_tui.core.audit import AuditResult, ItemAgreement, Suspect, audit_programme
from annotrain_tui.core.decisions import settings_of
from annotrain_tui.core.errors import AnnotrainError
from annotrain_tui.core.evaluation.results import EvaluationSettings
from annotrain_tui.core.programme import Exclusion, Programme
from annotrain_tui.tui.screens.base import AppScreen, failure_line
from annotrain_tui.tui.screens.programmes import NO_PROGRAMME, no_programme
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.dialogs import FormDialog
from annotrain_tui.tui.widgets.tables import SafeDataTable

if TYPE_CHECKING:
    from annotrain_tui.core.evaluation.views import EvaluationSnapshot

SUSPECT_COLUMNS = ("Kind", "Item", "Gold", "Trainees", "Agree", "Excluded")
ITEM_COLUMNS = ("Item", "Agreement", "Pairs", "Excluded")
KIND_STYLE = {"missing": "bold red", "misplaced": "yellow", "class": "magenta"}
LEAST = 20  # least-agreed items listed


class AuditScreen(AppScreen):
    TITLE = "Gold audit"
    PALETTE_PREFIX = "Audit"
    SCREEN_HELP = (
        "Where the benchmark itself looks wrong: a suspect is a gold object most trainees agree against (the "
        "gold is missing it, has it elsewhere, or gives it another class), and the lower table lists the items "
        "the trainees agree least on among themselves (mean pairwise F1). Enter draws the highlighted item: the "
        "gold's shapes solid, a trainee's dashed. x excludes the item from scoring for every trainee, with a "
        "reason (kept in the programme's record and its history); i includes it back. The Excluded column marks "
        "the items left out now; the scores leave them out from then on (an evaluation screen open on this "
        "programme is scored again). r runs the audit again.")
    WIDGET_HELP = {
        "suspects": "Suspect gold, one row per gold object the trainees agree against; the line under the tables "
                    "explains the highlighted one. Enter draws the item, x excludes it, i includes it back.",
        "items": "The items the trainees agree least on (mean pairwise F1 of their objects), lowest first. "
                 "Enter draws the item, x excludes it, i includes it back.",
    }
    DEFAULT_CSS = """
    AuditScreen #audit-summary { height: auto; padding: 0 1; }
    AuditScreen .audit-label { padding: 0 1; text-style: bold; }
    AuditScreen #suspects { height: 1fr; }
    AuditScreen #items { height: 1fr; }
    AuditScreen #audit-detail { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        # priority: a table's own i (the whole row) would take it first; x too, so the footer keeps their order
        Binding("x", "exclude", "Exclude", priority=True, id="audit.exclude"),
        Binding("i", "include", "Include", priority=True, id="audit.include"),
        Binding("r", "refresh", "Audit again", id="audit.refresh"),
        Binding("escape", "app.pop_screen", "Back", id="audit.back"),
    ]

    class Audited(Message):
        def __init__(self, prog: Programme | None, result: AuditResult | None, problem: str = "",
                     exclusions: dict[str, Exclusion] | None = None) -> None:
            super().__init__()
            self.prog, self.result, self.problem = prog, result, problem
            self.exclusions = exclusions or {}

    class Changed(Message):
        """An exclusion or inclusion was recorded: the exclusions now."""

        def __init__(self, exclusions: dict[str, Exclusion], line: str) -> None:
            super().__init__()
            self.exclusions, self.line = exclusions, line

    class Drawable(Message):
        def __init__(self, snapshot: EvaluationSnapshot, annotator: str, data_hash: str) -> None:
            super().__init__()
            self.snapshot, self.annotator, self.data_hash = snapshot, annotator, data_hash

    def __init__(self, benchmark: str | None = None) -> None:
        super().__init__()
        self.benchmark_ref = benchmark
        self.prog: Programme | None = None
        self.result: AuditResult | None = None
        self.exclusions: dict[str, Exclusion] = {}
        self.drawing: EvaluationSnapshot | None = None  # the programme scored once, for the item canvas

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Auditing the gold…", style="dim"), id="audit-summary")
        yield Label("Suspect gold", classes="audit-label")
        yield SafeDataTable(id="suspects", cursor_type="row", zebra_stripes=True)
        yield Label("Least-agreed items", classes="audit-label")
        yield SafeDataTable(id="items", cursor_type="row", zebra_stripes=True)
        yield Static(Text(""), id="audit-detail")
        yield Footer()

    def on_mount(self) -> None:
        suspects = self.query_one("#suspects", DataTable)
        for col in SUSPECT_COLUMNS:
            suspects.add_column(col, key=col, width={"Kind": 9, "Agree": 5, "Excluded": 8}.get(col))
        items = self.query_one("#items", DataTable)
        for col in ITEM_COLUMNS:
            items.add_column(col, key=col, width={"Agreement": 9, "Pairs": 5, "Excluded": 8}.get(col))
        suspects.focus()
        self.run_audit()

    # -- the audit ------------------------------------------------------------------------
    def _settings(self) -> EvaluationSettings:
        return EvaluationSettings.from_config(self.app.workspace.settings)

    @work(thread=True, exit_on_error=False, exclusive=True, group="audit-run")
    def run_audit(self) -> None:
        ws = self.app.workspace
        try:
            prog = ws.programme(self.benchmark_ref)
        except AnnotrainError as err:
            line = NO_PROGRAMME if no_programme(ws.backend, self.benchmark_ref, err) else \
                f"Nothing to audit: {failure_line(err, self)}"
            self.post_message(self.Audited(None, None, line))
            return
        if not prog.trainees:
            self.post_message(self.Audited(prog, None, "Nothing to audit: no trainee has a training project yet: "
                                                       "provision first (4 on Home), then audit once they have "
                                                       "labelled"))
            return
        result = audit_programme(ws.backend, prog, settings_of(prog, self._settings()))
        self.post_message(self.Audited(prog, result, exclusions=prog.record.exclusions()))

    def action_refresh(self) -> None:
        self.drawing = None
        self.run_audit()

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group == "audit-run":
            self.query_one("#audit-summary", Static).update(lit(f"✖ {failure_line(error, self)}", "red"))

    @on(Audited)
    def _audited(self, event: Audited) -> None:
        self.prog, self.result = event.prog, event.result
        summary = self.query_one("#audit-summary", Static)
        if event.result is None:
            summary.update(lit(event.problem, "yellow"))
            return
        assert event.prog is not None
        self.sub_title = event.prog.title
        self.exclusions = event.exclusions
        self._fill()

    def _fill(self) -> None:
        result = self.result
        if result is None:
            return
        suspects = self.query_one("#suspects", DataTable)
        items = self.query_one("#items", DataTable)
        at_s, at_i = suspects.cursor_row, items.cursor_row
        suspects.clear()
        items.clear()
        for n, s in enumerate(result.suspects):
            suspects.add_row(lit(s.kind, KIND_STYLE.get(s.kind, "")), lit(s.data_title or s.data_hash),
                             lit(s.benchmark_class or "—"), lit(s.trainee_class), f"{s.agree}/{s.finished}",
                             self._mark(s.data_hash), key=str(n))
        for n, i in enumerate(result.least_agreed(LEAST)):
            items.add_row(lit(i.data_title or i.data_hash), f"{i.agreement:.2f}", str(i.pairs), self._mark(i.data_hash),
                          key=str(n))
        if suspects.row_count:
            suspects.move_cursor(row=min(at_s, suspects.row_count - 1))
        if items.row_count:
            items.move_cursor(row=min(at_i, items.row_count - 1))
        t = Text()
        t.append_text(lit(self.prog.title if self.prog else "", "bold", limit=50))
        t.append(f": {len(result.trainees)} trainee(s), {result.audited_items} of {result.benchmark_items} item(s) "
                 f"audited; {len(result.suspects)} suspect(s)")
        if self.exclusions:
            t.append(f"; {len(self.exclusions)} item(s) excluded from scoring", style="yellow")
        t.append(".")
        if not result.suspects:
            t.append(" No suspect gold: the trainees' consensus agrees with the benchmark.", style="green")
        for w in result.warnings[:2]:
            t.append("\n")
            t.append_text(lit(w, "dim"))
        self.query_one("#audit-summary", Static).update(t)
        self._show_detail()

    def _mark(self, data_hash: str) -> Text:
        return lit("✗ out", "bold yellow") if data_hash in self.exclusions else Text("")

    # -- the highlighted row ----------------------------------------------------------------
    def _chosen(self) -> tuple[Suspect | None, ItemAgreement | None]:
        result = self.result
        if result is None:
            return None, None
        focused = self.focused
        if isinstance(focused, DataTable) and focused.id == "items":
            least = result.least_agreed(LEAST)
            row = focused.cursor_row
            return None, (least[row] if focused.row_count and 0 <= row < len(least) else None)
        table = self.query_one("#suspects", DataTable)
        row = table.cursor_row
        return (result.suspects[row] if table.row_count and 0 <= row < len(result.suspects) else None), None

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_descendant_focus(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        suspect, item = self._chosen()
        data_hash = suspect.data_hash if suspect else item.data_hash if item else None
        t = Text()
        if suspect is not None:
            t.append_text(lit(suspect.explanation))
        elif item is not None:
            t.append_text(lit(f"{item.data_title or item.data_hash}: the trainees agree {item.agreement:.0%} among "
                              f"themselves ({item.pairs} pair(s) of {item.finished} trainee(s))."))
        if data_hash in self.exclusions:
            t.append(" — excluded from scoring: ", style="yellow")
            t.append_text(lit(self.exclusions[data_hash].reason, "yellow"))
        self.query_one("#audit-detail", Static).update(t)

    # -- drawing an item ------------------------------------------------------------------
    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        suspect, item = self._chosen()
        if self.prog is None or self.result is None or (suspect is None and item is None):
            return
        if suspect is not None:
            data_hash = suspect.data_hash
            annotator = str(suspect.geometry.get("annotator") or (suspect.members[0][0] if suspect.members else ""))
        else:
            assert item is not None
            data_hash, annotator = item.data_hash, ""
        annotator = annotator or (self.result.trainees[0] if self.result.trainees else "")
        if self.drawing is not None:
            self._draw(self.drawing, annotator, data_hash)
            return
        self.notify("Loading the item's labels…", title="Gold audit")
        self.load_drawing(self.prog, annotator, data_hash)

    @work(thread=True, exit_on_error=False, exclusive=True, group="audit-draw")
    def load_drawing(self, prog: Programme, annotator: str, data_hash: str) -> None:
        from annotrain_tui.core.evaluation.session import EvaluationSession

        # every item drawable, excluded ones too: the scoring's exclusions are not applied here
        settings = dataclasses.replace(self._settings(), excluded_items=frozenset())
        session = EvaluationSession.of_workspace(self.app.workspace.backend, prog.id, None, settings,
                                                 keep_objects=True, block_size=10**9)
        session.load()
        self.post_message(self.Drawable(session.snapshot(), annotator, data_hash))

    @on(Drawable)
    def _drawable(self, event: Drawable) -> None:
        self.drawing = event.snapshot
        if self.app.screen is self:
            self._draw(event.snapshot, event.annotator, event.data_hash)

    def _draw(self, snapshot: EvaluationSnapshot, annotator: str, data_hash: str) -> None:
        from annotrain_tui.tui.screens.evaluation.drilldown import ItemScreen

        self.app.push_screen(ItemScreen(snapshot, annotator, data_hash))

    # -- exclusions -----------------------------------------------------------------------
    def _target(self) -> tuple[str, str | None, str] | None:
        """(data hash, suspect object hash, title) of the highlighted row, or None."""
        suspect, item = self._chosen()
        if suspect is not None:
            return suspect.data_hash, suspect.benchmark_object_hash, suspect.data_title or suspect.data_hash
        if item is not None:
            return item.data_hash, None, item.data_title or item.data_hash
        return None

    def action_exclude(self) -> None:
        target, prog = self._target(), self.prog
        if target is None or prog is None:
            self.notify("Highlight a suspect or an item first.", severity="warning")
            return
        data_hash, object_hash, title = target
        if data_hash in self.exclusions:
            self.notify(f"{title} is excluded already (i includes it back).")
            return

        def check(values: dict[str, str]) -> str | None:
            return None if values["reason"].strip() else "A reason is required: say why this gold is suspect."

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self.record_change(prog, data_hash, object_hash, title, values["reason"].strip())

        self.app.push_screen(FormDialog(f"Exclude {title} from scoring", [
            ("reason", "Reason (required; kept in the programme's record)", "")], validate=check, submit="Exclude"),
            done)

    def action_include(self) -> None:
        target, prog = self._target(), self.prog
        if target is None or prog is None:
            self.notify("Highlight a suspect or an item first.", severity="warning")
            return
        data_hash, _object_hash, title = target
        if data_hash not in self.exclusions:
            self.notify(f"{title} is not excluded (x excludes it).")
            return
        self.record_change(prog, data_hash, None, title, None)

    @work(thread=True, exit_on_error=False, group="audit-exclude")
    def record_change(self, prog: Programme, data_hash: str, object_hash: str | None, title: str,
                      reason: str | None) -> None:
        """Record an exclusion (``reason``) or an inclusion (None) in the programme's record."""
        if reason is None:
            prog.record.include(data_hash)
            what = f"Included {title} again"
        else:
            prog.record.exclude(data_hash, object_hash=object_hash, reason=reason)
            what = f"Excluded {title} from scoring"
        exclusions = prog.record.exclusions()
        line = (f"{what}: the scores now leave {len(exclusions)} item(s) out"
                if exclusions else f"{what}: the scores now leave no item out")
        self.post_message(self.Changed(exclusions, line))

    @on(Changed)
    def _changed(self, event: Changed) -> None:
        self.exclusions = event.exclusions
        rescored = self._rescore_evaluations()
        self._fill()
        self.notify(event.line + ("; the evaluation screen is scoring again." if rescored else
                                  " (the evaluation screen shows them when opened)."), title="Gold audit")

    def _rescore_evaluations(self) -> bool:
        """Score an evaluation screen open on this programme again with the exclusions now."""
        from annotrain_tui.tui.screens.evaluation.annotators import EvaluationScreen

        done = False
        for screen in self.app.screen_stack:
            if (isinstance(screen, EvaluationScreen) and self.prog is not None and screen.programme is not None
                    and screen.programme.id == self.prog.id and screen.session is not None):
                settings = dataclasses.replace(screen.current_settings(), excluded_items=frozenset(self.exclusions))
                screen.rescore(settings, "the gold audit's exclusions")
                done = True
        return done
