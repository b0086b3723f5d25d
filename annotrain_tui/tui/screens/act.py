"""Act on decisions: graduate (add the annotators decided 'graduate' to production projects with a
role) or retake (a new training round for those decided 'retake'), each as plan → confirm → apply,
as provisioning's screen does it: the plan as a table, progress as each outcome arrives, outcomes
in place, failures on their rows, Escape cancels a run. The work is core's (``core.actions``)."""

from __future__ import annotations

import threading
from typing import Literal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, ProgressBar, Select, SelectionList, Static
from textual.worker import Worker

from annotrain_tui.core.actions import (
    ROLES,
    ActionEntry,
    ActionOutcome,
    ActionPlan,
    apply_graduation,
    apply_retake,
    plan_graduation,
    plan_retake,
)
from annotrain_tui.core.errors import AnnotrainError, Cancelled
from annotrain_tui.core.markers import is_benchmark_marked, parse_training_marker
from annotrain_tui.core.models import Project
from annotrain_tui.core.programme import Programme
from annotrain_tui.tui.screens.base import AppScreen, failure_line
from annotrain_tui.tui.screens.programmes import NO_PROGRAMME, no_programme
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog
from annotrain_tui.tui.widgets.tables import SafeDataTable

Kind = Literal["graduate", "retake"]

STYLE = {
    "add": ("+ add", "green"), "create": ("+ create", "green"), "invite": ("~ invite", "yellow"),
    "done": ("= done", "dim"), "conflict": ("! conflict", "bold red"),
    "added": ("✓ added", "green"), "created": ("✓ created", "green"), "invited": ("✓ invited", "green"),
    "failed": ("✗ failed", "bold red"), "cancelled": ("· cancelled", "yellow"), "skipped": ("= done", "dim"),
    "working": ("… working", "cyan"),
}
COLUMNS = ("Email", "Round", "Plan", "Project", "Note")
NO_DECISIONS = ("No decisions to act on: decide on the evaluation screen (Evaluate, 5 on Home: g graduate, "
                "t retake, h hold), then plan here.")


def row_key(kind: str, entry: ActionEntry) -> str:
    """One table row per step: an annotator and a production project (graduate) or a round (retake)."""
    where = (entry.project_id or entry.title) if kind == "graduate" else str(entry.round)
    return f"{entry.email}\x1f{where}"


def production_choices(projects: list[Project], prog: Programme) -> list[Project]:
    """The projects a graduation may go into: neither a benchmark nor a training project."""
    benchmarks = {prog.id}
    for p in projects:
        marker = parse_training_marker(p.description)
        if marker:
            benchmarks.add(marker[0])
    return sorted((p for p in projects if p.id not in benchmarks and not parse_training_marker(p.description)
                   and not is_benchmark_marked(p.description)), key=lambda p: (p.title.casefold(), p.id))


def decided_counts(prog: Programme) -> dict[str, int]:
    """How many trainees are decided each way on their current round (``Trainee.decided``: a retake
    decided on round 1 and applied, the trainee now on round 2, is no decision any more)."""
    counts: dict[str, int] = {}
    for t in prog.trainees.values():
        if t.decided and t.decision is not None:
            counts[t.decision.decision] = counts.get(t.decision.decision, 0) + 1
    return counts


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def finish_line(kind: str, outcomes: list[ActionOutcome]) -> str:
    def n(*status: str) -> int:
        return sum(1 for o in outcomes if o.status in status)

    if kind == "graduate":
        added = [o for o in outcomes if o.status == "added"]
        places = len({o.project_id or o.title for o in added})
        line = f"Added {len({o.email for o in added})} annotator(s) to production"
        if places > 1:
            line += f" ({places} projects)"
    else:
        line = f"Created {n('created')} round project(s), invited {n('created', 'invited')} annotator(s)"
    if n("done"):
        line += f"; {n('done')} already done"
    if n("cancelled"):
        line += f"; {n('cancelled')} not started (cancelled)"
    return line + f"; {n('failed')} failed, {n('conflict')} in conflict."


class ActScreen(AppScreen):
    TITLE = "Act on decisions"
    PALETTE_PREFIX = "Act"
    SCREEN_HELP = (
        "Carry out the decisions recorded on the evaluation screen. g: Graduate — add every annotator "
        "decided 'graduate' on their current round to the production projects ticked (space ticks one; "
        "benchmarks and training projects are not offered) with the role chosen. t: Retake — give every "
        "annotator decided 'retake' a new training round (a new project on the benchmark's dataset and "
        "ontology). p shows the plan (+ add/create, ~ invite, = done, ! conflict: the note says why), a or "
        "Enter applies it after a confirmation; each row shows its outcome as it arrives. A run can be "
        "cancelled (Escape) and run again: nothing is ever done twice, and a plan made after a run is all "
        "'= done'. r reads the projects and the decisions again (a production project made meanwhile is "
        "then offered); only decisions on each trainee's current round count (a retake already applied "
        "does not).")
    WIDGET_HELP = {
        "production": "The production projects to graduate into: space ticks or unticks the highlighted one; "
                      "benchmarks and training projects are not listed.",
        "role": "The project role the graduates get in the production projects. Enter opens the list.",
        "plan-table": "The plan, one row per step, then each step's outcome; the Note column says why a "
                      "conflict cannot be done. i shows the highlighted row whole.",
    }
    DEFAULT_CSS = """
    ActScreen #act-mode { height: auto; padding: 0 1; }
    ActScreen #act-graduate { height: 6; }
    ActScreen #production { width: 1fr; height: 6; }
    ActScreen #role { width: 26; }
    ActScreen #plan-table { height: 1fr; }
    ActScreen #act-note { height: auto; max-height: 4; padding: 0 1; }
    """
    BINDINGS = [
        Binding("p", "plan", "Plan", id="act.plan"),
        Binding("a", "apply", "Apply", id="act.apply"),
        Binding("g", "kind('graduate')", "Graduate", id="act.graduate"),
        Binding("t", "kind('retake')", "Retake", id="act.retake"),
        Binding("r", "refresh", "Reload", id="act.refresh"),  # "Refresh" would push Escape out at 80 columns
        Binding("escape", "back", "Back", id="act.back"),
    ]

    class Loaded(Message):
        def __init__(self, prog: Programme | None, projects: list[Project], problem: str = "",
                     decided: dict[str, int] | None = None) -> None:
            super().__init__()
            self.prog, self.projects, self.problem = prog, projects, problem
            self.decided = decided or {}  # decision → how many trainees have it on their current round

    class Planned(Message):
        def __init__(self, plan: ActionPlan) -> None:
            super().__init__()
            self.plan = plan

    class Progressed(Message):
        def __init__(self, entry: ActionEntry, outcome: ActionOutcome) -> None:
            super().__init__()
            self.entry, self.outcome = entry, outcome

    class Applied(Message):
        def __init__(self, outcomes: list[ActionOutcome], cancelled: str = "", error: str = "") -> None:
            super().__init__()
            self.outcomes, self.cancelled, self.error = outcomes, cancelled, error

    def __init__(self, benchmark: str | None = None, kind: Kind = "graduate") -> None:
        super().__init__()
        self.benchmark_ref = benchmark
        self.kind: Kind = kind
        self.prog: Programme | None = None
        self.plan: ActionPlan | None = None
        self.outcomes: dict[str, ActionOutcome] = {}
        self.decided: dict[str, int] = {}
        self.busy = False
        self.refreshing = False  # r was pressed: the load under way is a refresh
        self.cancel_event = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(""), id="act-mode")
        with Horizontal(id="act-graduate"):
            yield SelectionList[str](id="production")
            yield Select([(r, r) for r in ROLES], value="annotator", allow_blank=False, id="role")
        yield SafeDataTable(id="plan-table", cursor_type="row", zebra_stripes=True)
        yield Static(Text("Loading the programme…", style="dim"), id="act-note")
        yield ProgressBar(total=1, show_eta=False, id="act-progress")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#plan-table", DataTable)
        for col in COLUMNS:
            table.add_column(col, key=col, width={"Round": 5, "Plan": 11}.get(col))
        self.query_one("#act-progress", ProgressBar).display = False
        self.query_one("#production", SelectionList).border_title = "Production projects (space ticks)"
        self._show_mode()
        self.load()

    # -- loading --------------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, exclusive=True, group="act-load")
    def load(self) -> None:
        ws = self.app.workspace
        try:
            prog = ws.programme(self.benchmark_ref)
        except AnnotrainError as err:
            line = NO_PROGRAMME if no_programme(ws.backend, self.benchmark_ref, err) else \
                f"No programme to act on: {failure_line(err, self)}"
            self.post_message(self.Loaded(None, [], line))
            return
        self.post_message(self.Loaded(prog, production_choices(ws.backend.list_projects(), prog),
                                      decided=decided_counts(prog)))

    def action_refresh(self) -> None:
        """The projects and the decisions read again (a production project made meanwhile, a decision
        taken in the CLI); a plan shown is then stale: p plans again."""
        if self.busy:
            self.notify("A run is under way (Escape cancels it).", severity="warning")
            return
        self.refreshing = True
        self._note(lit("Reading the projects and the decisions again…", "dim"))
        self.load()

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.prog = event.prog
        refreshed, self.refreshing = self.refreshing, False
        if event.prog is None:
            self._note(lit(event.problem, "yellow"))
            return
        self.sub_title = event.prog.title
        chooser = self.query_one("#production", SelectionList)
        ticked = set(chooser.selected)
        chooser.clear_options()
        chooser.add_options([(lit(p.title), p.id, p.id in ticked) for p in event.projects])
        if event.projects and chooser.highlighted is None:
            chooser.highlighted = 0
        if self.kind == "graduate" and event.projects:
            chooser.focus()
        self.decided = event.decided
        decided = self.decided.get("graduate", 0) + self.decided.get("retake", 0)
        self._show_mode()
        if refreshed and self.plan is not None:  # what the plan was made from was read again
            self.plan = None
            offered = f"{_count(len(event.projects), 'production project')} offered. " \
                if self.kind == "graduate" else ""
            self._note(lit(self._decided_line() + offered + "Press p to plan again.", "yellow"))
            return
        if not decided:
            self._note(lit(NO_DECISIONS, "yellow"))
        elif self.kind == "graduate" and not event.projects:
            self._note(lit("No production project in the workspace to graduate into (benchmarks and training "
                           "projects are not offered): create one first.", "yellow"))
        else:
            self._note(lit(self._hint(), "dim"))

    def _decided_line(self) -> str:
        """How many trainees are decided each way (the record as read when the view loaded)."""
        if self.prog is None:
            return ""
        return (f"{self.decided.get('graduate', 0)} trainee(s) decided 'graduate', "
                f"{self.decided.get('retake', 0)} 'retake'. ")

    def _hint(self) -> str:
        if self.kind == "graduate":
            return self._decided_line() + "Tick the production projects (space), choose the role, then p plans."
        return self._decided_line() + "Press p for the plan of the retakes."

    def _show_mode(self) -> None:
        t = Text()
        for kind, key, label in (("graduate", "g", "Graduate"), ("retake", "t", "Retake")):
            on_it = kind == self.kind
            t.append(f" {label} ({key}) ", style="reverse bold" if on_it else "dim")
            t.append(" ")
        if self.prog is not None:
            t.append("  programme ")
            t.append_text(lit(self.prog.title, "bold", limit=60))
        self.query_one("#act-mode", Static).update(t)
        self.query_one("#act-graduate").display = self.kind == "graduate"

    def _note(self, text: Text) -> None:
        self.query_one("#act-note", Static).update(text)

    def action_kind(self, kind: Kind) -> None:
        if self.busy or kind == self.kind:
            return
        self.kind = kind
        self.plan, self.outcomes = None, {}
        self.query_one("#plan-table", DataTable).clear()
        self._show_mode()
        self._note(lit(self._hint(), "dim"))
        if kind == "graduate":
            self.query_one("#production", SelectionList).focus()
        else:
            self.query_one("#plan-table", DataTable).focus()

    # -- planning -------------------------------------------------------------------------
    def _role(self) -> str:
        value = self.query_one("#role", Select).value
        return value if isinstance(value, str) else "annotator"

    def action_plan(self) -> None:
        if self.busy:
            self.notify("A run is under way (Escape cancels it).", severity="warning")
            return
        if self.prog is None:
            self.notify("No programme to act on.", severity="warning")
            return
        production = [str(v) for v in self.query_one("#production", SelectionList).selected]
        if self.kind == "graduate" and not production:
            self.notify("Tick at least one production project (space) first.", severity="warning")
            return
        self._note(lit("Planning…", "dim"))
        self.compute_plan(self.prog, self.kind, production, self._role())

    @work(thread=True, exit_on_error=False, exclusive=True, group="act-plan")
    def compute_plan(self, prog: Programme, kind: Kind, production: list[str], role: str) -> None:
        ws = self.app.workspace
        if kind == "graduate":
            plan = plan_graduation(ws.backend, prog, production, role)
        else:
            plan = plan_retake(ws.backend, prog, default_template=ws.settings.default_template)
        self.post_message(self.Planned(plan))

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group == "act-load":
            self.refreshing = False
        if worker.group in ("act-plan", "act-load"):
            self._note(lit(f"✖ {failure_line(error, self)}", "red"))

    @on(Planned)
    def _planned(self, event: Planned) -> None:
        plan = self.plan = event.plan
        self.outcomes = {}
        table = self.query_one("#plan-table", DataTable)
        table.clear()
        for e in plan.entries:
            self._add_row(table, e)
        if not plan.entries:
            t = lit(f"No annotator is decided '{plan.kind}' on their current round: decide on the evaluation "
                    "screen (Evaluate, 5 on Home: g graduate, t retake, h hold), then plan again.", "yellow")
        else:
            if plan.kind == "graduate":
                counts = f"{plan.count('add')} to add"
            else:
                counts = f"{plan.count('create')} to create, {plan.count('invite')} to invite"
            t = Text(f"Plan: {counts}, {plan.count('done')} done, {plan.count('conflict')} conflict(s). ",
                     style="bold")
            t.append("Press a (or Enter) to apply." if plan.has_work else "Nothing to do.")
        for note in plan.notes:
            t.append("\n")
            t.append_text(lit(note, "dim"))
        self._note(t)
        table.focus()

    def _add_row(self, table: DataTable, e: ActionEntry, status: str | None = None, note: str | None = None) -> None:
        label, style = STYLE.get(status or e.action, (status or e.action, ""))
        key = row_key(self.kind if self.plan is None else self.plan.kind, e)
        cells = (lit(e.email), str(e.round), lit(label, style), lit(e.title or e.project_id or ""),
                 lit(note if note is not None else e.reason))
        try:
            table.add_row(*cells, key=key)
        except Exception:  # noqa: BLE001 - a key already there (a re-plan under the lock): update it
            self._update_row(key, label, style, e.title or e.project_id or "", note or e.reason)

    def _update_row(self, key: str, label: str, style: str, project: str, note: str) -> None:
        table = self.query_one("#plan-table", DataTable)
        table.update_cell(key, "Plan", lit(label, style))
        table.update_cell(key, "Project", lit(project))
        table.update_cell(key, "Note", lit(note))

    @on(SelectionList.SelectedChanged, "#production")
    @on(Select.Changed, "#role")
    def _choice_changed(self, event: Message) -> None:
        """The plan shown is the one applied: a new choice of projects or role asks for a new plan."""
        if self.plan is not None and not self.busy and self.plan.kind == "graduate":
            self.plan = None
            self._note(lit("The projects or the role changed: press p to plan again.", "yellow"))

    # -- applying -------------------------------------------------------------------------
    def action_apply(self) -> None:
        if self.busy:
            return
        plan = self.plan
        if plan is None:
            self.notify("Press p for the plan first.", severity="warning")
            return
        if not plan.has_work:
            self.notify("Nothing to do: press p to plan again.")
            return
        where = self.app.workspace.backend.describe()
        if plan.kind == "graduate":
            adds = [e for e in plan.entries if e.action == "add"]
            people = len({e.email for e in adds})
            places = len({e.project_id or e.title for e in adds})
            role = next((e.role for e in adds), self._role())
            body = Text(f"Add {people} annotator(s) to {_count(places, 'production project')} as {role} on ")
        else:
            body = Text(f"Create {plan.count('create')} round project(s) and invite "
                        f"{plan.count('create') + plan.count('invite')} annotator(s) on ")
        body.append_text(lit(where))
        body.append("?")
        title = "Graduate" if plan.kind == "graduate" else "Retake"
        def answered(yes: bool | None) -> None:
            if yes:
                self.run_apply(plan)

        self.app.push_screen(ConfirmDialog(title, body, yes="Apply"), answered)

    @on(DataTable.RowSelected, "#plan-table")
    def _enter(self, event: DataTable.RowSelected) -> None:
        self.action_apply()

    @work(thread=True, exit_on_error=False, exclusive=True, group="act-apply")
    def run_apply(self, plan: ActionPlan) -> None:
        ws = self.app.workspace
        self.cancel_event.clear()
        self.busy = True
        self.app.call_from_thread(self._start_progress, sum(1 for e in plan.entries))
        outcomes: list[ActionOutcome] = []

        def update(entry: ActionEntry, outcome: ActionOutcome) -> None:
            outcomes.append(outcome)
            self.post_message(self.Progressed(entry, outcome))

        def waiting(line: str) -> None:  # another run (CLI or app) holds the programme: say whose
            self.app.call_from_thread(self._note, lit(line + " Escape stops waiting.", "yellow"))

        apply = apply_graduation if plan.kind == "graduate" else apply_retake
        cancelled = ""
        error = "the run stopped on an unexpected error (see the message shown); press p to plan again"
        try:
            apply(ws.backend, plan, on_update=update, cancel=self.cancel_event, paths=ws.paths, on_wait=waiting)
            error = ""
        except Cancelled as err:
            cancelled, error = str(err), ""
        except AnnotrainError as err:
            error = failure_line(err, self)
        finally:
            self.busy = False
            self.post_message(self.Applied(outcomes, cancelled, error))

    def _start_progress(self, total: int) -> None:
        bar = self.query_one("#act-progress", ProgressBar)
        bar.update(total=max(1, total), progress=0)
        bar.display = True

    @on(Progressed)
    def _progressed(self, event: Progressed) -> None:
        e, o = event.entry, event.outcome
        key = row_key(self.plan.kind if self.plan else self.kind, e)
        self.outcomes[key] = o
        label, style = STYLE.get(o.status, (o.status, ""))
        project = o.title or o.project_id or ""
        if o.error:
            note = o.error
        elif o.status == "added":
            note = f"added as {o.role}"
        elif o.status in ("created", "invited"):
            note = o.project_id or ""
        else:
            note = e.reason
        table = self.query_one("#plan-table", DataTable)
        if key in table.rows:
            self._update_row(key, label, style, project, note)
        else:
            self._add_row(table, e, o.status, note)
        self.query_one("#act-progress", ProgressBar).advance(1)

    @on(Applied)
    def _applied(self, event: Applied) -> None:
        kind = self.plan.kind if self.plan else self.kind
        outcomes = list(self.outcomes.values()) or event.outcomes
        self.plan = None  # applied: a new plan shows what is left (all done after a full run)
        if event.error:
            self._note(lit(f"✖ {event.error}", "bold red"))
            self.notify(event.error, title="Not applied", severity="error", timeout=10)
            return
        msg = finish_line(kind, outcomes)
        if event.cancelled:
            msg = f"{event.cancelled}. {msg}"
        bad = any(o.status in ("failed", "conflict") for o in outcomes) or bool(event.cancelled)
        if bad:
            msg += " Press p to plan again (what is done stays done)."
        self._note(lit(msg, "bold red" if bad else "bold green"))
        self.notify(msg, title="Graduate" if kind == "graduate" else "Retake",
                    severity="warning" if bad else "information")

    # -- leaving --------------------------------------------------------------------------
    def action_back(self) -> None:
        if self.busy:
            self.cancel_event.set()
            self.notify("Cancelling after the steps in flight…")
            return
        self.app.pop_screen()

    def confirm_quit(self, quit) -> bool:  # noqa: ANN001 - Callable[[], None]
        if not self.busy:
            return False
        body = Text("A run is under way. Quit now? The steps in flight finish; the rest is left for the next "
                    "run, which does only what is left.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.cancel_event.set()
                quit()

        self.app.push_screen(ConfirmDialog("Quit annotrain", body, yes="Quit", no="Keep running"), answered)
        return True
