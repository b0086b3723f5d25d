"""Provisioning: open a roster, edit its rows, see the plan as a diff, apply with per-annotator
progress, retry failures. Everything runs in thread workers; the table updates in place."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker

from annotrain_tui.core.benchmark import DEFAULT_TEMPLATE_TITLE
from annotrain_tui.core.choices import ProvisionChoices, provision_choices
from annotrain_tui.core.errors import AnnotrainError, Cancelled, OutputExists
from annotrain_tui.core.files import atomic_write_text, check_output, disk_identity
from annotrain_tui.core.provisioning import (
    BenchmarkIncomplete,
    Journal,
    Outcome,
    Plan,
    PlanEntry,
    apply_plan,
    make_plan,
)
from annotrain_tui.core.roster import Roster, RosterEntry, parse_roster, read_roster, roster_to_csv
from annotrain_tui.tui.screens.base import AppScreen, failure_line
from annotrain_tui.tui.screens.home import failure_text
from annotrain_tui.tui.screens.manifest_dialogs import UnsavedDialog
from annotrain_tui.tui.text import lit, typed_path
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog, PathDialog
from annotrain_tui.tui.widgets.inputs import SafeInput
from annotrain_tui.tui.widgets.pane import TextPane
from annotrain_tui.tui.widgets.tables import SafeDataTable

PLAN_STYLE = {
    "create": ("+ create", "green"), "invite": ("~ invite", "yellow"), "done": ("= done", "dim"),
    "conflict": ("! conflict", "bold red"),
    "created": ("✓ created", "green"), "invited": ("✓ invited", "green"), "failed": ("✗ failed", "bold red"),
    "cancelled": ("· cancelled", "yellow"), "skipped": ("= done", "dim"), "working": ("… working", "cyan"),
}
COLUMNS = ("#", "Name", "Email", "Plan", "Project / note")


def finish_line(outcomes: list[Outcome]) -> str:
    """What a run did, apart from what was already done before it: "Created 3 training project(s)
    and invited 3 annotator(s); 1 already provisioned; 0 failed, 0 in conflict." (the confirmation
    said "Create 3": the one already done is not counted as this run's)."""
    def n(status: str) -> int:
        return sum(1 for o in outcomes if o.status == status)

    created, invited = n("created"), n("invited")
    line = f"Created {created} training project(s) and invited {created + invited} annotator(s)"
    if n("done"):
        line += f"; {n('done')} already provisioned"
    if n("cancelled"):
        line += f"; {n('cancelled')} not started (cancelled)"
    return line + f"; {n('failed')} failed, {n('conflict')} in conflict."


class ProvisionScreen(AppScreen):
    TITLE = "Provision"
    SCREEN_HELP = (
        "Provision one training project per annotator. Open a roster CSV (name,email; optional title, "
        "notes), fix or edit its rows, press p for the plan (+ create, ~ invite, = done, ! conflict), then x "
        "to apply. Each project gets the benchmark's dataset and ontology and the training workflow "
        "template, and its annotator is invited with the project-level annotator role. A run can be "
        "cancelled (Escape) and resumed: nothing is ever created twice. s saves the roster over its file, every "
        "row and cell kept — never over a file annotrain cannot write back whole (lines above the header, bytes "
        "that are not UTF-8): then w saves it under another name. f retries the annotators that failed; a "
        "conflict is not retried: its note (under the table, for the highlighted row) says how to resolve it. "
        "The last roster opened and benchmark planned are remembered. A benchmark that is not Complete is "
        "refused (the seed: it must be completed before annotator training begins): the error line says how far "
        "it is, and F asks whether to provision from it anyway."
    )
    WIDGET_HELP = {
        "roster-path": "The roster CSV's path (name,email; optional title, notes). Enter opens it.",
        "benchmark": "The benchmark the training projects copy their dataset and ontology from (only benchmarks "
                     "are listed). Enter opens the list.",
        "template": "The workflow template of the training projects. Enter opens the list.",
        "roster-table": "The roster, one row per annotator, with the plan for each; the highlighted row's note is "
                        "shown whole under the table (i opens the whole row). e edits the row, a adds, d deletes, s saves the file, w "
                        "saves it as another file.",
        "problems-pane": "The roster's problems, or the plan and the last run: every line, scrolled with ↑/↓, "
                         "PgUp/PgDn, Home/End.",
    }

    DEFAULT_CSS = """
    #row-detail { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    """

    class Progressed(Message):
        """One annotator of a run is finished (``done`` of ``total``), with its outcome."""

        def __init__(self, outcome: Outcome, done: int, total: int) -> None:
            super().__init__()
            self.outcome, self.done, self.total = outcome, done, total

    class Applied(Message):
        """A run of the plan ended (finished, or cancelled: ``cancelled``); ``outcomes`` by email."""

        def __init__(self, outcomes: dict[str, Outcome], cancelled: bool) -> None:
            super().__init__()
            self.outcomes, self.cancelled = outcomes, cancelled
    BINDINGS = [  # the flow's keys first: they are the ones the footer keeps at 80 columns
        # shown only while the gate refuses the benchmark (check_action): then it is the key that matters
        Binding("F", "force_plan", "Provision anyway", id="provision.force"),
        Binding("p", "plan", "Plan", id="provision.plan"),
        Binding("x", "apply", "Apply", id="provision.apply"),
        Binding("f", "retry_failed", "Retry failed", id="provision.retry"),
        Binding("g", "progress", "Progress", id="provision.progress"),
        Binding("e", "edit_row", "Edit", id="provision.edit"),
        Binding("s", "save", "Save", id="provision.save"),
        Binding("o", "open_roster", "Open", id="provision.open"),
        Binding("a", "add_row", "Add", id="provision.add"),
        Binding("d", "delete_row", "Delete", id="provision.delete"),
        Binding("w", "save_as", "Save as", id="provision.save_as"),
        Binding("escape", "back", "Back", id="provision.back"),
    ]
    #: shown in the footer only when room is left (F1 and the palette list them always)
    FOOTER_SECONDARY = frozenset({"provision.add", "provision.delete", "provision.save_as"})

    def __init__(self, roster: str | None = None, benchmark: str | None = None) -> None:
        super().__init__()
        self.roster_path: Path | None = Path(roster) if roster else None
        self.initial_benchmark = benchmark
        self.entries: list[RosterEntry] = []
        self.roster: Roster | None = None
        self.plan: Plan | None = None
        self.outcomes: dict[str, Outcome] = {}
        self.dirty = False
        self.busy = False
        self.cancel_event = threading.Event()
        self.loaded_state: tuple[int, ...] | None = None  # the roster file as it was opened
        # the roster as read from its file: its layout (columns, line ends) and what a save cannot keep
        self.roster_file: Roster | None = None
        self.row_keys: dict[str, str] = {}  # email (lower case) -> table row key of its first row
        #: the gate's refusal of the benchmark chosen (not Complete): F offers to plan anyway
        self.gate: BenchmarkIncomplete | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="form-row"):
            yield Label("Roster ")
            yield SafeInput(placeholder="path to roster.csv (name,email) — Enter opens", id="roster-path")
        with Horizontal(classes="form-row"):
            yield Select([], prompt="benchmark project", id="benchmark", allow_blank=True)
            yield Select([], prompt="training template", id="template", allow_blank=True)
        yield SafeDataTable(id="roster-table", cursor_type="row", zebra_stripes=True)
        yield Static(Text(""), id="row-detail")
        yield TextPane(Text(""), text_id="problems", id="problems-pane")
        yield ProgressBar(total=1, show_eta=False, id="apply-progress")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#roster-table", DataTable)
        for col in COLUMNS:
            table.add_column(col, key=col, width={"#": 3, "Plan": 11}.get(col))
        self.query_one("#apply-progress", ProgressBar).display = False
        if self.roster_path is None:  # the roster opened last in this workspace, else the demo's
            last = self.app.workspace.recent().get("roster")
            demo = self.app.workspace.paths.data_dir / "demo-roster.csv"
            for candidate in ([Path(last)] if last else []) + [demo]:
                if candidate.is_file():
                    self.roster_path = candidate
                    break
        if self.roster_path is not None:
            self.query_one("#roster-path", Input).value = str(self.roster_path)
            self.load_roster(self.roster_path)
        else:
            self._set_problems(Text("Open a roster: type its path above and press Enter.", style="dim"))
            self.query_one("#roster-path", Input).focus()
        self.load_choices()

    # -- loading ------------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, exclusive=True, group="provision-choices")
    def load_choices(self) -> None:
        choices = provision_choices(self.app.workspace.backend, self.initial_benchmark,
                                    preferred=self.app.workspace.recent().get("benchmark"))
        self.app.call_from_thread(self._fill_choices, choices)

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group == "provision-choices":
            self._set_problems(failure_text("Could not list the benchmarks and templates", error,
                                            retry="press r to try again"))

    def action_refresh(self) -> None:
        self.load_choices()

    def _fill_choices(self, choices: ProvisionChoices) -> None:
        bench = self.query_one("#benchmark", Select)
        bench.set_options([(lit(p.title), p.id) for p in choices.benchmarks])
        if choices.selected is not None:
            bench.value = choices.selected
        if choices.unknown is not None:
            self.notify(f"No benchmark {choices.unknown!r}: pick one in the benchmark select.",
                        title="Provision", severity="warning", markup=False)
        elif not choices.benchmarks:
            self._set_problems(Text("No benchmark project yet: set one up first (3 on Home).", style="yellow"))
        templates = choices.templates
        tpl = self.query_one("#template", Select)
        tpl.set_options([(lit(t.title), t.id) for t in templates])
        default = self.app.workspace.settings.default_template or DEFAULT_TEMPLATE_TITLE
        for t in templates:
            if t.title == default:
                tpl.value = t.id

    @on(Input.Submitted, "#roster-path")
    def _path_entered(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            return
        path = typed_path(self, event.value)
        if path is not None:
            self._confirm_discard(lambda: self.load_roster(path))

    def load_roster(self, path: Path) -> None:
        try:
            roster = read_roster(path, title_pattern=self.app.workspace.settings.training_title)
        except AnnotrainError as err:
            self.notify(str(err), title="Cannot open roster", severity="error", markup=False)
            # kept on the screen until a roster opens (a toast goes in 5 s)
            self.show_error("roster-open", f"Cannot open roster: {failure_line(err, self)}")
            # the field shows the roster actually open (the one s saves to), not the path that failed
            self.query_one("#roster-path", Input).value = "" if self.roster_path is None else str(self.roster_path)
            return
        self.clear_error("roster-open")
        self.roster_path = path
        self.query_one("#roster-path", Input).value = str(path)
        self.app.workspace.recent().set(roster=str(path))
        self.loaded_state = disk_identity(path)
        self.roster_file = roster
        self.entries = list(roster.entries)
        self.plan, self.outcomes, self.dirty = None, {}, False
        self._revalidate(roster)
        self.query_one("#roster-table", DataTable).focus()

    # -- the table ------------------------------------------------------------------------
    def _revalidate(self, roster: Roster | None = None) -> None:
        if roster is None:
            # validate the roster as a save would write it (every row, in the file's layout)
            rebuilt = parse_roster(self._csv(), source=str(self.roster_path or "roster"),
                                   title_pattern=self.app.workspace.settings.training_title)
            # every entry is one row of the rebuilt CSV: its problems are on that row's line
            if len(rebuilt.entries) == len(self.entries):
                self.entries = [replace(e, line=r.line) for e, r in zip(self.entries, rebuilt.entries)]
            roster = replace(rebuilt, entries=self.entries)
        self.roster = roster
        self._render_rows()
        t = Text()
        if (why := self._unkept_line()):
            t.append_text(lit(why, "bold yellow"))
            t.append("\n")
        if roster.problems:
            t.append(f"{len(roster.problems)} problem(s) — nothing can be provisioned until they are fixed",
                     style="bold red")
            t.append(" (this list scrolls: Tab to it, then ↑↓ PgUp PgDn Home End):\n", style="red")
            for p in roster.problems[:500]:
                t.append_text(lit(p.render(Path(roster.source).name)))
                t.append("\n")
        else:
            t.append(f"{len(self.entries)} annotator(s). Press p to see the plan.", style="dim")
        self._set_problems(t)

    def _csv(self) -> str:
        """The roster shown, as a save writes it: in the layout of the file it came from."""
        if self.roster_file is not None and self.roster_file.columns is not None:
            return self.roster_file.to_csv(self.entries)
        return roster_to_csv(self.entries)

    def _unkept_line(self) -> str:
        """One line: why saving over the opened file would lose what it holds ('' when it would not)."""
        if self.roster_file is None or self.roster_file.lossless or self.roster_path is None:
            return ""
        name = Path(self.roster_file.source).name
        return (f"{name} has lines annotrain cannot keep ({self.roster_file.unkept_summary()}); "
                "fix them in an editor, or save under another name (w).")

    def _render_rows(self) -> None:
        table = self.query_one("#roster-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        plan_by_email = {e.email.lower(): e for e in (self.plan.entries if self.plan else [])}
        bad_lines = {p.line for p in (self.roster.problems if self.roster else [])}
        self.row_keys = {}
        for n, e in enumerate(self.entries):
            key = f"row-{n}"  # by position: rows with the same email (a problem) are all shown
            self.row_keys.setdefault(e.email.lower(), key)
            status, note = self._status_for(e, plan_by_email)
            label, style = PLAN_STYLE.get(status, (status, ""))
            marker = Text(str(n + 1), style="bold red" if e.line in bad_lines else "")
            table.add_row(marker, lit(e.name), lit(e.email), lit(label, style), lit(note), key=key)
        if self.entries:
            table.move_cursor(row=min(cursor, len(self.entries) - 1))
        self._show_row_detail()

    @on(DataTable.RowHighlighted, "#roster-table")
    def _show_row_detail(self) -> None:
        """The highlighted row's plan and note, whole and wrapped (the table's note column is cut at 80)."""
        idx = self._selected_index()
        detail = self.query_one("#row-detail", Static)
        if idx is None:
            detail.update(Text(""))
            return
        e = self.entries[idx]
        plan_by_email = {p.email.lower(): p for p in (self.plan.entries if self.plan else [])}
        status, note = self._status_for(e, plan_by_email)
        label, style = PLAN_STYLE.get(status, (status, ""))
        t = Text()
        t.append_text(lit(f"{e.name} <{e.email}>", "bold"))
        if label:
            t.append("  ")
            t.append_text(lit(label, style))
        if note:
            t.append(": ")
            t.append_text(lit(note))
        detail.update(t)

    def _status_for(self, e: RosterEntry, plan_by_email) -> tuple[str, str]:
        outcome = self.outcomes.get(e.email.lower())
        if outcome is not None:
            return outcome.status, outcome.error or outcome.project_id or ""
        pe = plan_by_email.get(e.email.lower())
        if pe is not None:
            return pe.action, pe.reason or pe.project_id or pe.title
        return "", e.project_title(self.app.workspace.settings.training_title)

    def _set_problems(self, text: Text) -> None:
        self.query_one("#problems-pane", TextPane).update(text)

    def _selected_index(self) -> int | None:
        table = self.query_one("#roster-table", DataTable)
        if not self.entries or table.cursor_row is None:
            return None
        return min(table.cursor_row, len(self.entries) - 1)

    # -- editing --------------------------------------------------------------------------
    def _edit_dialog(self, title: str, entry: RosterEntry | None, on_done) -> None:
        fields = [("name", "Name", entry.name if entry else ""), ("email", "Email", entry.email if entry else ""),
                  ("title", "Project title (optional)", (entry.title or "") if entry else "")]

        def check(values):
            if not values["name"].strip():
                return "A name is required."
            if "@" not in values["email"]:
                return "An email address is required (name@domain.tld)."
            return None

        self.app.push_screen(FormDialog(title, fields, validate=check), on_done)

    def action_edit_row(self) -> None:
        idx = self._selected_index()
        if idx is None or self.busy:
            return

        def done(values):
            if values:
                old = self.entries[idx]
                self.entries[idx] = replace(old, name=values["name"].strip(), email=values["email"].strip(),
                                            title=values["title"].strip() or None)
                self._changed()

        self._edit_dialog("Edit annotator", self.entries[idx], done)

    def action_add_row(self) -> None:
        if self.busy:
            return

        def done(values):
            if values:
                self.entries.append(RosterEntry(line=0, name=values["name"].strip(), email=values["email"].strip(),
                                                title=values["title"].strip() or None))
                self._changed()
                self.query_one("#roster-table", DataTable).move_cursor(row=len(self.entries) - 1)

        self._edit_dialog("Add annotator", None, done)

    def action_delete_row(self) -> None:
        idx = self._selected_index()
        if idx is None or self.busy:
            return
        e = self.entries[idx]
        body = Text("Remove ")
        body.append_text(lit(f"{e.name} <{e.email}>"))
        body.append(" from the roster? Their training project, if any, is kept.")

        def done(yes):
            if yes:
                del self.entries[idx]
                self._changed()

        self.app.push_screen(ConfirmDialog("Remove annotator", body, yes="Remove"), done)

    def _changed(self) -> None:
        self.dirty = True
        self.plan, self.outcomes = None, {}
        self._revalidate()

    def action_save(self, force: bool = False, then: Callable[[], object] | None = None) -> None:
        """Save the roster over the file it was opened from (core.files.check_output first).

        A file the roster cannot represent losslessly (``Roster.unkept``: undecodable bytes, lines
        above the header, malformed quoting, a cell the CSV writer would change) is never saved
        over: one line says why, and save-as offers another file. A target that is not a regular
        file is refused; a symlink is written through. The file as it was opened is saved over
        without a question (that is what saving is); one that changed on disk since (another
        operator, another program) is overwritten only after the user says so, and so is an
        existing file the roster was not opened from.

        ``then`` runs once the roster is saved (never when the save is refused, fails or is
        cancelled): leaving or quitting after "Save" in the unsaved-roster question."""
        path = self.roster_path
        if path is None:
            self.notify("Type a path in the Roster field first.", severity="warning")
            return
        if (why := self._unkept_line()):
            self.notify(why, title="Not saved", severity="warning", timeout=15, markup=False)
            self.action_save_as(then=then)
            return
        unchanged = self.loaded_state is not None and disk_identity(path) == self.loaded_state
        try:
            target = check_output(path, force=force or unchanged)
        except OutputExists:
            body = Text()
            body.append_text(lit(path, "bold"))
            body.append(" changed on disk since it was opened. Overwrite it with the roster shown here?"
                        if self.loaded_state is not None else " already exists. Overwrite it?")
            self.app.push_screen(ConfirmDialog("Overwrite the roster?", body, yes="Overwrite", enter_says_yes=True),
                                 lambda yes: self.action_save(force=True, then=then) if yes else None)
            return
        except AnnotrainError as err:
            self.notify(str(err), title="Cannot save the roster", severity="error", timeout=10, markup=False)
            return
        if self._write(path, target) and then is not None:
            then()

    def _save_inputs(self) -> list[str]:
        """The files a save-as must not write: the opened file when a save cannot keep what it holds."""
        return [] if self.roster_file is None or self.roster_file.lossless else [self.roster_file.source]

    def action_save_as(self, then: Callable[[], object] | None = None) -> None:
        """Save the roster to a file the user names (never over a file it cannot represent losslessly).

        The path dialog stays open on a path the save would refuse (no such directory, not a regular
        file, the file that cannot be kept), the reason under the field; an existing file is asked
        about after (overwrite it?). ``then`` runs once the roster is saved."""
        if self.busy:
            return
        base = self.roster_path or Path("roster.csv")
        suggestion = f"{base.stem}-edited{base.suffix or '.csv'}"
        keep = self._save_inputs()

        def check(path: Path) -> str | None:
            try:  # the refusal the save itself would give, while the path can still be changed
                check_output(path, inputs=keep)
            except OutputExists:
                return None  # asked about once the dialog closes
            except AnnotrainError as err:
                return str(err)
            return None

        def done(path: Path | None) -> None:
            if path is not None:
                self._save_as(path, then=then)

        start = base.parent if self.roster_path is not None else None
        self.app.push_screen(PathDialog("Save the roster as", suggestion, recent_key="save_dir", label="New file",
                                        check=check, start_dir=start), done)

    def _save_as(self, path: Path, force: bool = False, then: Callable[[], object] | None = None) -> None:
        try:  # the file that cannot be kept is an input: check_output refuses it, whatever its spelling
            target = check_output(path, inputs=self._save_inputs(), force=force)
        except OutputExists:
            body = Text()
            body.append_text(lit(path, "bold"))
            body.append(" already exists. Overwrite it with the roster shown here?")
            self.app.push_screen(ConfirmDialog("Overwrite the file?", body, yes="Overwrite"),
                                 lambda yes: self._save_as(path, force=True, then=then) if yes else None)
            return
        except AnnotrainError as err:
            self.notify(str(err), title="Cannot save the roster", severity="error", timeout=10, markup=False)
            return
        if self._write(path, target) and then is not None:
            then()

    def _write(self, path: Path, target: Path) -> bool:
        """Write the roster; True once it is saved (a failure is one toast)."""
        text = self._csv()
        try:
            atomic_write_text(target, text)
        except AnnotrainError as err:
            self.notify(str(err), title="Cannot save the roster", severity="error", timeout=10, markup=False)
            return False
        if path != self.roster_path:  # saved as: the screen now edits the new file
            self.roster_path = path
            self.query_one("#roster-path", Input).value = str(path)
        # the file now holds exactly what was written: its layout and rows are the ones to edit next
        written = parse_roster(text, source=str(path), title_pattern=self.app.workspace.settings.training_title)
        self.roster_file = written
        if len(written.entries) == len(self.entries):
            self.entries = list(written.entries)
        self.loaded_state = disk_identity(target)
        self.dirty = False
        self._revalidate()
        self.notify(f"Saved {path}", title="Roster", markup=False)
        return True

    def action_open_roster(self) -> None:
        self.query_one("#roster-path", Input).focus()

    def _confirm_discard(self, then: Callable[[], object], title: str = "Unsaved roster") -> None:
        """Run ``then`` now, or once the user saved (s), saved as (a) or discarded (d) the unsaved
        edits; nothing when they cancel or the save fails."""
        if not self.dirty:
            then()
            return
        body = Text("The roster ")
        if self.roster_path is not None:
            body.append_text(lit(self.roster_path, "bold"))
            body.append(" ")
        body.append("has unsaved edits. Save them, save them as another file, or discard them?")

        def answer(choice: str | None) -> None:
            if choice == "save":
                self.action_save(then=then)
            elif choice == "save_as":
                self.action_save_as(then=then)
            elif choice == "discard":
                then()

        self.app.push_screen(UnsavedDialog(title, body), answer)

    def confirm_quit(self, quit: Callable[[], None]) -> bool:
        """For the app's quit action (Ctrl+Q): True when the roster has unsaved edits and a dialog now
        asks (Save, Save as, Discard or Cancel), as Escape does; or while provisioning runs (quitting
        stops it after the requests in flight; running provision again resumes)."""
        if self.busy:
            body = Text("Provisioning is running. Quit now? The requests in flight finish; the rest is "
                        "left for the next run, which resumes where this one stopped.")

            def answered(yes: bool | None) -> None:
                if yes:
                    self.cancel_event.set()
                    quit()

            self.app.push_screen(ConfirmDialog("Quit annotrain", body, yes="Quit", no="Keep running"), answered)
            return True
        if not self.dirty:
            return False
        self._confirm_discard(quit, title="Quit annotrain")
        return True

    def action_back(self) -> None:
        if self.busy:
            self.cancel_event.set()
            self.notify("Cancelling after the requests in flight…", markup=False)
            return
        self._confirm_discard(self.app.pop_screen)

    # -- plan and apply -------------------------------------------------------------------
    def _ready(self) -> str | None:
        if self.busy:
            return "Provisioning is running."
        if self.roster is None or not self.entries:
            return "Open a roster first."
        if self.roster.problems:
            return "Fix the roster's problems first (listed below the table)."
        if self.query_one("#benchmark", Select).value in (Select.NULL, None):
            return "Choose the benchmark project."
        return None

    def action_plan(self) -> None:
        if (why := self._ready()):
            self.notify(why, severity="warning", markup=False)
            return
        self.compute_plan()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F (provision anyway) only while the gate refuses the benchmark: the footer shows it then."""
        if action == "force_plan":
            return self.gate is not None
        return True

    def action_force_plan(self) -> None:
        """Ask, then plan from the benchmark the gate refused (its notes say it was forced)."""
        gate = self.gate
        if gate is None:
            return
        if (why := self._ready()):
            self.notify(why, severity="warning", markup=False)
            return
        if str(self.query_one("#benchmark", Select).value) != gate.benchmark.id:
            self._clear_gate()  # another benchmark was chosen since: plan it first
            self.notify("Another benchmark is chosen now: press p to plan it.", severity="warning", markup=False)
            return
        body = Text()
        body.append_text(lit(gate.message))
        body.append(".\n\nProvision the roster from it anyway? The trainees are scored against the benchmark as it "
                    "is when they are evaluated; finishing it first is what the seed asks.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.compute_plan(force=True)

        self.app.push_screen(ConfirmDialog("Benchmark not Complete", body, yes="Provision anyway"), answered)

    @work(thread=True, exit_on_error=False, exclusive=True, group="provision-plan")
    def compute_plan(self, force: bool = False) -> Plan | None:
        ws = self.app.workspace
        bench = self.query_one("#benchmark", Select).value
        tpl = self.query_one("#template", Select).value
        roster = self.roster
        assert roster is not None
        journal = Journal.for_benchmark(ws.paths.journal_dir, str(bench))
        try:
            plan = make_plan(ws.backend, roster, str(bench), template_ref=None if tpl in (Select.NULL, None) else str(tpl),
                             title_pattern=ws.settings.training_title, journal=journal, force=force)
        except BenchmarkIncomplete as err:  # the gate: one error line, and F to go ahead anyway
            self.app.call_from_thread(self._gated, err)
            return None
        self.app.call_from_thread(self._show_plan, plan)
        return plan

    def _gated(self, err: BenchmarkIncomplete) -> None:
        self.gate = err
        self.plan, self.outcomes = None, {}
        self._render_rows()
        self.show_error("provision-gate", f"{err.message}. Press F to provision from it anyway.")
        self._set_problems(Text("No plan: the benchmark is not Complete (the line above says how far it is).",
                                style="yellow"))
        self.refresh_bindings()

    def _clear_gate(self) -> None:
        self.gate = None
        self.clear_error("provision-gate")
        self.refresh_bindings()

    def _show_plan(self, plan: Plan) -> None:
        self._clear_gate()
        self.plan, self.outcomes = plan, {}
        self._render_rows()
        t = Text(f"Plan: {plan.count('create')} to create, {plan.count('invite')} to invite, "
                 f"{plan.count('done')} done, {plan.count('conflict')} conflict(s).", style="bold")
        for r in plan.removed:
            t.append("\nNot in the roster (kept, never deleted): ")
            t.append_text(lit(f"{r['email']} → {r['title']}"))
        for note in plan.notes:
            t.append("\n")
            t.append_text(lit(note, "dim"))
        conflicts = plan.count("conflict")
        if conflicts:
            t.append(f"\n{conflicts} conflict(s) will not be provisioned: each row's note (under the table) says "
                     "how to resolve it; then p plans again.", style="yellow")
        t.append("\nPress x to apply." if plan.has_work else
                 "\nNothing to create or invite." if conflicts else "\nNothing to do.")
        self._set_problems(t)
        self._show_row_detail()
        self.app.workspace.recent().set(benchmark=plan.benchmark.id)

    def action_apply(self, only: set[str] | None = None) -> None:
        if (why := self._ready()):
            self.notify(why, severity="warning", markup=False)
            return
        if self.plan is None:
            self.notify("Press p for the plan first.", severity="warning")
            return
        plan = self.plan
        n_create, n_invite = plan.count("create"), plan.count("invite")
        if not plan.has_work and only is None:
            self.notify("Nothing to do: every annotator is provisioned.", markup=False)
            return
        body = Text(f"Create {n_create} training project(s) and invite {n_create + n_invite} annotator(s) on "
                    f"{self.app.workspace.backend.describe()}?")

        def go(yes):
            if yes:
                self.run_apply(plan, only)

        self.app.push_screen(ConfirmDialog("Apply the plan", body, yes="Apply"), go)

    @work(thread=True, exit_on_error=False, exclusive=True, group="provision-apply")
    def run_apply(self, plan: Plan, only: set[str] | None) -> None:
        ws = self.app.workspace
        self.cancel_event.clear()
        self.busy = True
        todo = [e for e in plan.entries if only is None or e.email.lower() in only]
        self.app.call_from_thread(self._start_progress, len(todo))
        journal = Journal.for_benchmark(ws.paths.journal_dir, plan.benchmark.id)
        outcomes: dict[str, Outcome] = {}

        def update(entry: PlanEntry, outcome: Outcome) -> None:
            outcomes[outcome.email.lower()] = outcome
            self.post_message(self.Progressed(outcome, len(outcomes), len(todo)))

        def waiting(line: str) -> None:  # another run (CLI or app) holds this benchmark: say who
            self.app.call_from_thread(self._set_problems, lit(line + " Escape stops waiting."))
            self.app.call_from_thread(self.notify, line, title="Waiting", severity="warning", markup=False)

        cancelled = False
        try:
            apply_plan(ws.backend, plan, concurrency=4, journal=journal, on_update=update,
                       cancel=self.cancel_event, only=only, paths=ws.paths, on_wait=waiting)
        except BenchmarkIncomplete as err:  # reopened since the plan (the re-plan under the lock saw it)
            self.app.call_from_thread(self._gated, err)
        except Cancelled as err:
            cancelled = True
            self.app.call_from_thread(self.notify, str(err), title="Cancelled", severity="warning", markup=False)
        finally:
            self.busy = False
            self.post_message(self.Applied(dict(outcomes), cancelled))

    def _start_progress(self, total: int) -> None:
        bar = self.query_one("#apply-progress", ProgressBar)
        bar.update(total=max(1, total), progress=0)
        bar.display = True

    @on(Progressed)
    def _progressed(self, event: Progressed) -> None:
        self._row_done(event.outcome)

    @on(Applied)
    def _applied(self, event: Applied) -> None:
        if self.gate is not None and not self.outcomes:  # the gate refused the run: its line says so
            self.query_one("#apply-progress", ProgressBar).display = False
            return
        self._finish_apply()

    def _row_done(self, outcome: Outcome) -> None:
        if outcome.status == "skipped":
            return
        self.outcomes[outcome.email.lower()] = outcome
        table = self.query_one("#roster-table", DataTable)
        label, style = PLAN_STYLE.get(outcome.status, (outcome.status, ""))
        key = self.row_keys.get(outcome.email.lower(), outcome.email.lower())
        try:
            table.update_cell(key, "Plan", lit(label, style))
            table.update_cell(key, "Project / note", lit(outcome.error or outcome.project_id or ""))
        except Exception:  # noqa: BLE001 - the row was removed meanwhile
            pass
        self.query_one("#apply-progress", ProgressBar).advance(1)
        self._show_row_detail()

    def _finish_apply(self) -> None:
        msg = finish_line(list(self.outcomes.values()))
        failed = [o for o in self.outcomes.values() if o.status == "failed"]
        conflicts = [o for o in self.outcomes.values() if o.status == "conflict"]
        if failed:
            msg += " Press f to retry the failures."
        if conflicts:
            msg += (" A retry cannot resolve a conflict: rename the project in the way, or give the annotator a "
                    "'title' in the roster (e edits the row), then p plans again.")
        bad = bool(failed or conflicts)
        self._set_problems(Text(msg, style="bold red" if bad else "bold green"))
        self.notify(msg, title="Provisioning finished", severity="warning" if bad else "information",
                    markup=False)

    def action_retry_failed(self) -> None:
        failed = {e for e, o in self.outcomes.items() if o.status == "failed"}
        if not failed:
            self.notify("No failures to retry.", markup=False)
            return
        self.retry_plan(failed)

    @work(thread=True, exit_on_error=False, exclusive=True, group="provision-plan")
    def retry_plan(self, failed: set[str]) -> None:
        """Re-plan (a failure may have half-succeeded), then apply to the failed annotators only."""
        ws = self.app.workspace
        assert self.plan is not None and self.roster is not None
        forced = bool(self.plan.recipe and self.plan.recipe.get("force"))  # a forced plan stays forced
        try:
            plan = make_plan(ws.backend, self.roster, self.plan.benchmark.id,
                             template_ref=self.plan.template.id if self.plan.template else None,
                             title_pattern=ws.settings.training_title, force=forced)
        except BenchmarkIncomplete as err:
            self.app.call_from_thread(self._gated, err)
            return
        self.app.call_from_thread(self._show_plan, plan)
        self.app.call_from_thread(self.action_apply, failed)

    def action_progress(self) -> None:
        bench = self.query_one("#benchmark", Select).value
        self.app.open_flow("progress", benchmark=None if bench in (Select.NULL, None) else str(bench))
