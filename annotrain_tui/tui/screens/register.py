"""Register a manifest into the picked folder and follow the upload job to the end; failed URLs
are listed and can be retried (only they are registered again). Jobs persist across restarts.

A large manifest is registered in batches (b): a sequence of jobs, one at a time, of the seed's
advised size (or the size typed in "Per job"), followed together as one batch row with its parts
below it; the batch row lists the failed URLs of every part, and t on it retries only those. A
batch stopped half way (Escape, a crash) is continued by registering the same manifest into the
same folder again in batches: only the parts not yet started are sent."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar, Static
from textual.worker import Worker

from annotrain_tui.core import registration as reg
from annotrain_tui.core.choices import RestoredSelection, restore_selection
from annotrain_tui.core.files import disk_identity
from annotrain_tui.core.errors import AnnotrainError
from annotrain_tui.core.models import Folder, Integration
from annotrain_tui.core.remedies import about
from annotrain_tui.tui.remedies import remedy_text
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.screens.home import failure_text
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog
from annotrain_tui.tui.widgets.inputs import SafeInput
from annotrain_tui.tui.widgets.pane import TextPane
from annotrain_tui.tui.widgets.tables import SafeDataTable

STATUS_STYLE = {"pending": "cyan", "done": "green", "failed": "bold red"}
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
#: the job table's columns and widths; Folder last and unbounded (shown whole under the tables)
JOB_COLUMNS = (("Job", 14), ("Status", 16), ("Registered", 11), ("Failed", 6), ("Started", 11), ("Folder", None))


#: diagnostics listed in the validation pane (the manifest editor lists every one)
MAX_SHOWN = 200


def when_yes(then: Callable[[], object]) -> Callable[[bool | None], None]:
    """A dialog callback that runs ``then`` only when the answer was yes."""

    def answered(yes: bool | None) -> None:
        if yes:
            then()

    return answered


def elapsed(since: datetime, now: datetime) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour) from ``since`` to ``now``: a pending job's age."""
    seconds = max(0, int((now - since).total_seconds()))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def started(at: datetime) -> str:
    """A start time in 11 columns, in local time: ``12-01 06:14``."""
    return at.astimezone().strftime("%m-%d %H:%M")


class RegisterScreen(AppScreen):
    TITLE = "Register files"
    SCREEN_HELP = (
        "Register the manifest's files into the picked storage folder through the picked integration. The "
        "manifest is validated first (annotrain's validator is the only one: the SDK sends whatever it is "
        "given). The job runs on the server; this screen follows it to the end and lists the URLs that failed. "
        "t re-registers only the failed URLs of the highlighted job. Jobs are kept, so a restart keeps "
        "following them. b registers in batches: a sequence of jobs, one at a time, of 100 videos or 1,000 images "
        "each (the seed's advice; an image group's or DICOM series' files count as images, other files like "
        "images), or of the number of items typed in 'Per job'. A batch is one row with its parts below it; on "
        "the batch row the failed URLs of every part are listed and t retries only those. Registering the same "
        "manifest into the same folder in batches again continues a batch that was stopped. A pending job's "
        "status counts the time since it started. Under the tables, the highlighted job (or failed URL) is "
        "shown whole: its folder and start time, or the URL and the reason it failed."
    )
    WIDGET_HELP = {
        "manifest-path": "The manifest's path (JSON or CSV). Enter validates it.",
        "batch-size": "Items per job when registering in batches (b); empty: the seed's advice (100 videos or "
                      "1,000 images).",
        "reg-validation-pane": "The manifest's validation: every error and warning, with how to fix it; ↑/↓, "
                               "PgUp/PgDn, Home/End scroll. x names the warnings before registering.",
        "jobs": "Registration jobs, newest first; a batch is one row (its overall progress) with its parts below. "
                "The failed URLs of the highlighted job, or of every part of the highlighted batch, are listed "
                "below; the job's folder and start time are shown whole under the tables (i opens the whole row).",
        "failed": "URLs of the highlighted job (or batch) that Encord could not register. The highlighted URL and "
                  "its whole reason are shown under the table (i opens the whole row); c copies every failed URL, t retries them.",
    }
    DEFAULT_CSS = """
    #reg-detail { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    """

    class JobUpdated(Message):
        """The follower read a job again; ``final`` once, when it stopped following a finished job."""

        def __init__(self, job: reg.JobRecord, final: bool = False) -> None:
            super().__init__()
            self.job, self.final = job, final
    BINDINGS = [
        Binding("v", "validate", "Validate", id="register.validate"),
        Binding("x", "register", "Register", id="register.start"),
        Binding("b", "register_batch", "In batches", id="register.batch"),
        Binding("t", "retry", "Retry failed", id="register.retry"),
        Binding("c", "copy_failed", "Copy failed", id="register.copy"),
        Binding("r", "refresh", "Refresh", id="register.refresh"),
        Binding("escape", "back", "Back", id="register.back"),
    ]

    def __init__(self, manifest: str | None = None) -> None:
        super().__init__()
        self.manifest_path = manifest
        self.records: dict[str, reg.JobRecord] = {}
        self.hidden_jobs = 0  # jobs of other workspaces in the shared job list (not shown, not polled)
        self.following: set[str] = set()
        self.cancel = threading.Event()
        self.batches: dict[str, reg.BatchStatus] = {}
        self.batch_running: str | None = None  # the id of the batch this screen is sending
        self._cells: dict[str, tuple[str, ...]] = {}
        self._empty_note = False
        self._spin = 0  # the pending spinner's frame, one per tick
        # the last validation: (path, the file's state then, its result); x names its warnings
        self._validated: tuple[str, tuple[int, ...] | None, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(""), id="reg-selection")
        with Horizontal(classes="form-row"):
            yield Label("Manifest ")
            yield SafeInput(placeholder="path to manifest.json or .csv — Enter validates", id="manifest-path")
            yield Label(" Per job ")
            yield SafeInput(placeholder="seed's advice", id="batch-size", restrict=r"[0-9]*", max_length=6)
        yield TextPane(Text(""), text_id="reg-validation", id="reg-validation-pane")
        yield Static(Text(""), id="reg-batch")
        yield SafeDataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(total=None, show_eta=False, id="reg-progress")
        yield SafeDataTable(id="failed", cursor_type="row")
        yield Static(Text(""), id="reg-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.store = reg.JobStore(self.app.workspace.paths)
        jobs = self.query_one("#jobs", DataTable)
        # fixed widths, the folder last: Started fits at 80 columns (the folder is shown whole below)
        for col, width in JOB_COLUMNS:
            jobs.add_column(col, key=col, width=width)
        self.tick = self.set_interval(1.0, self._tick, pause=True)  # runs only while a job is pending
        self.query_one("#failed", DataTable).add_columns("Failed URL", "Reason")
        self.query_one("#reg-progress", ProgressBar).display = False
        self.query_one("#reg-batch", Static).display = False
        self.query_one("#batch-size", Input).styles.width = 16  # a number: the path keeps the width
        self.query_one("#reg-batch", Static).styles.padding = (0, 1)
        if self.manifest_path:
            self.query_one("#manifest-path", Input).value = self.manifest_path
        self._show_selection()
        self.query_one("#jobs", DataTable).focus()
        self.action_refresh()
        if not (self.app.selection.integration and self.app.selection.folder):
            self.restore_pick()

    def on_screen_resume(self) -> None:
        self._show_selection()

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-restore")
    def restore_pick(self) -> None:
        """Opened straight from the command line: the last launch's pick, when nothing is picked yet."""
        recent = self.app.workspace.recent()
        found = restore_selection(self.app.workspace.backend, recent.get("integration"), recent.get("folder"))
        self.app.call_from_thread(self._restored, found)

    def _restored(self, found: RestoredSelection) -> None:
        sel = self.app.selection
        if found.dropped:
            self.app.workspace.recent().set(**dict.fromkeys(found.dropped))
        sel.integration = sel.integration or found.integration
        sel.folder = sel.folder or found.folder
        self._show_selection()

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group == "register-load":
            self._set_validation(failure_text("Could not read the jobs", error))

    def _tick(self) -> None:
        self._spin += 1
        self._render_jobs()
    def _show_selection(self) -> None:
        sel = self.app.selection
        t = Text("Into ")
        t.append_text(lit(sel.folder.path, "bold") if sel.folder else Text("(no folder picked)", style="yellow"))
        t.append(" via ")
        t.append_text(lit(sel.integration.title, "bold") if sel.integration else
                      Text("(no integration picked)", style="yellow"))
        if not (sel.folder and sel.integration):
            t.append("  — press 1 on Home (or Ctrl+P, Pick) to choose", style="dim")
        self.query_one("#reg-selection", Static).update(t)

    # -- jobs -----------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.load_jobs()

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-load")
    def load_jobs(self) -> None:
        # Only this workspace's jobs: another workspace's cannot be asked about here (registration.workspace_key).
        split = reg.jobs_of_workspace(self.app.workspace.backend, self.store)
        records, self.hidden_jobs = split.mine, len(split.others)
        fresh = []
        for r in records:
            if not r.finished:
                try:
                    r = reg.poll(self.app.workspace.backend, self.store, r)
                except AnnotrainError:
                    pass
            fresh.append(r)
        self.app.call_from_thread(self._show_jobs, fresh)
        for r in fresh:
            if not r.finished:
                self.app.call_from_thread(self.follow, r)

    def _show_jobs(self, records: list[reg.JobRecord]) -> None:
        table = self.query_one("#jobs", DataTable)
        for r in records:
            self.records[r.id] = r
        self._render_jobs()
        others = (f"{self.hidden_jobs} job(s) of other workspaces not shown: open their workspace to follow them."
                  if self.hidden_jobs else "")
        if not records and table.row_count == 0:
            self._empty_note = True
            self._set_validation(
                Text("No registration jobs in this workspace yet. Type a manifest path above, check it (v), "
                     "register it (x). " + others, style="dim"))
        elif others:
            self._set_validation(Text(others, style="dim"))
        self._show_failed()

    def _upsert(self, r: reg.JobRecord) -> None:
        self.records[r.id] = r
        self._render_jobs()

    def _job_cells(self, r: reg.JobRecord, label: str) -> list[Text]:
        status = r.status.value
        if not r.finished:  # ticking: the time since it started, and a spinner
            status = f"{status} {elapsed(r.created_at, self.app.now())} {SPINNER[self._spin % len(SPINNER)]}"
        return [lit(label), Text(status, style=STATUS_STYLE.get(r.status.value, "")),
                Text(f"{r.items_created}/{r.urls}"), Text(str(len(r.failed_urls)),
                                                           style="bold red" if r.failed_urls else ""),
                Text(started(r.created_at)), lit(r.folder_path)]

    @staticmethod
    def _batch_cells(b: reg.BatchStatus) -> list[Text]:
        style = {"pending": "cyan", "done": "green", "failed": "bold red", "incomplete": "yellow"}.get(b.status, "")
        return [lit(b.id, "bold"), Text(f"{b.status} {b.finished_parts}/{b.parts}", style=style),
                Text(f"{b.items_created}/{b.urls}"), Text(str(len(b.failed_urls)),
                                                           style="bold red" if b.failed_urls else ""),
                Text(started(b.created_at)), lit(b.folder_path)]

    def _rows(self) -> list[tuple[str, list[Text]]]:
        """(row key, cells), newest first: a job, or a batch's row followed by its parts (and their retries)."""
        batches, singles = reg.group_batches(list(self.records.values()))
        self.batches = {b.id: b for b in batches}
        entries = [(r.created_at, r) for r in singles] + [(b.created_at, b) for b in batches]
        rows: list[tuple[str, list[Text]]] = []
        for _, item in sorted(entries, key=lambda e: e[0], reverse=True):
            if isinstance(item, reg.JobRecord):
                rows.append((item.id, self._job_cells(item, item.id[:8])))
                continue
            rows.append((item.id, self._batch_cells(item)))
            for p in item.part_status:
                for a in p.attempts:
                    rows.append((a.id, self._job_cells(a, f"  {p.part}/{item.parts} {a.id[:8]}")))
        return rows

    def _render_jobs(self) -> None:
        table = self.query_one("#jobs", DataTable)
        rows = self._rows()
        keys = [k for k, _ in rows]
        if keys == [r.key.value for r in table.ordered_rows]:
            for key, cells in rows:  # in place: only the cells that changed
                plain = tuple(c.plain + "\0" + str(c.style) for c in cells)
                if self._cells.get(key) != plain:
                    for col, cell in zip(table.columns, cells):
                        table.update_cell(key, col, cell)
                    self._cells[key] = plain
        else:
            at = self._current_key()
            table.clear()
            for key, cells in rows:
                table.add_row(*cells, key=key)
                self._cells[key] = tuple(c.plain + "\0" + str(c.style) for c in cells)
            if at in keys:
                table.move_cursor(row=keys.index(at))
        if self._empty_note and self.records:  # "no jobs yet" is not true any more
            self._empty_note = False
            self._set_validation(Text(""))
        pending = any(not x.finished for x in self.records.values()) or self.batch_running is not None
        self.query_one("#reg-progress", ProgressBar).display = pending
        if pending:
            self.tick.resume()
        else:
            self.tick.pause()
        self._show_batch_line()

    def _show_batch_line(self) -> None:
        line = self.query_one("#reg-batch", Static)
        b = self.batches.get(self.batch_running or "") or self.batches.get(self._current_key() or "")
        if b is None:
            line.display = False
            return
        line.display = True
        t = Text("Batch ")
        t.append_text(lit(b.id, "bold"))
        t.append(f": {b.status}, {b.finished_parts}/{b.parts} part(s) finished, {b.items_created:,}/{b.urls:,} "
                 f"file(s) registered")
        if b.failed_urls:
            t.append(f", {len(b.failed_urls):,} URL(s) failed (t retries only those)", style="bold red")
        if b.status == "incomplete" and self.batch_running != b.id:
            t.append(f"; {len(b.not_started)} part(s) not started: register the same manifest in batches (b) "
                     "to continue", style="yellow")
        line.update(t)
        if self.batch_running == b.id:
            bar = self.query_one("#reg-progress", ProgressBar)
            bar.update(total=b.parts, progress=b.finished_parts)

    def _current_key(self) -> str | None:
        table = self.query_one("#jobs", DataTable)
        if table.row_count == 0 or table.cursor_row is None:
            return None
        try:
            return table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        except Exception:  # noqa: BLE001
            return None

    def _current(self) -> reg.JobRecord | None:
        key = self._current_key()
        return self.records.get(key) if key is not None else None

    def _current_batch(self) -> reg.BatchStatus | None:
        key = self._current_key()
        return self.batches.get(key) if key is not None else None

    @on(DataTable.RowHighlighted, "#jobs")
    def _show_failed(self) -> None:
        table = self.query_one("#failed", DataTable)
        table.clear()
        self._failed_rows: list[tuple[str, str]] = []
        self._show_batch_line()
        try:
            self._fill_failed(table)
        finally:
            self._show_detail()

    @on(DataTable.RowHighlighted, "#failed")
    def _failed_highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        """Under the tables, whole and wrapped: the highlighted failed URL and its reason when the failed list
        has the focus, else the highlighted job's folder, manifest and start."""
        detail = self.query_one("#reg-detail", Static)
        failed = self.query_one("#failed", DataTable)
        rows = getattr(self, "_failed_rows", [])
        t = Text()
        if self.focused is failed and rows and failed.cursor_row is not None and 0 <= failed.cursor_row < len(rows):
            url, reason = rows[failed.cursor_row]
            t.append_text(lit(url, "bold"))
            t.append(": ")
            t.append_text(lit(reason))
        else:
            r = self._current()
            b = self._current_batch()
            item = r or b
            if item is not None:
                t.append_text(lit(item.id, "bold"))
                t.append(" into ")
                t.append_text(lit(item.folder_path))
                t.append(f", started {item.created_at.astimezone().strftime('%Y-%m-%d %H:%M:%S')}")
                if r is not None:
                    t.append(" from ")
                    t.append_text(lit(r.manifest_path))
        detail.update(t)

    def on_descendant_focus(self) -> None:
        self._show_detail()

    def _add_failed(self, table: DataTable, url: Text, reason: str, url_text: str) -> None:
        table.add_row(url, lit(reason))
        self._failed_rows.append((url_text, reason))

    def _fill_failed(self, table: DataTable) -> None:
        b = self._current_batch()
        if b is not None:  # every part's failures (of its latest attempt)
            for p in b.part_status:
                if not p.leaf.finished:
                    continue
                for e in p.leaf.unit_errors:
                    for url in e.object_urls:
                        self._add_failed(table, lit(url), f"part {p.part}: {e.error}", url)
                for err in p.leaf.errors:
                    whole = f"(part {p.part}, whole job)"
                    self._add_failed(table, Text(whole, style="bold red"), err, whole)
            return
        r = self._current()
        if r is None:
            return
        for e in r.unit_errors:
            for url in e.object_urls:
                self._add_failed(table, lit(url), e.error, url)
        for err in r.errors:
            self._add_failed(table, Text("(whole job)", style="bold red"), err, "(whole job)")

    def follow(self, record: reg.JobRecord) -> None:
        if record.id in self.following:
            return
        self.following.add(record.id)
        self.run_follow(record)

    @work(thread=True, exit_on_error=False, group="register-follow")
    def run_follow(self, record: reg.JobRecord) -> None:
        try:
            final = reg.wait(self.app.workspace.backend, self.store, record, step=1.0, cancel=self.cancel,
                             on_poll=lambda r: self.post_message(self.JobUpdated(r)))
        finally:
            self.following.discard(record.id)
        if final.finished:
            self.post_message(self.JobUpdated(final, final=True))

    @on(JobUpdated)
    def _job_updated(self, event: JobUpdated) -> None:
        if event.final:
            self._finished(event.job)
        else:
            self._upsert(event.job)

    def _finished(self, r: reg.JobRecord) -> None:
        self._upsert(r)
        self._show_failed()
        if r.status.value == "done":
            msg = f"Job {r.id[:8]}: {r.items_created} file(s) registered into {r.folder_path}"
            if r.failed_urls:
                msg += f"; {len(r.failed_urls)} failed (t retries them)"
            self.notify(msg, title="Upload finished", severity="warning" if r.failed_urls else "information",
                        markup=False)
        else:
            self.notify(f"Job {r.id[:8]} failed: {'; '.join(r.errors)}", title="Upload failed", severity="error",
                        markup=False)

    # -- validate and register --------------------------------------------------------------
    def _path(self) -> str | None:
        value = self.query_one("#manifest-path", Input).value.strip()
        return value or None

    @on(Input.Submitted, "#manifest-path")
    def _path_entered(self) -> None:
        self.query_one("#jobs", DataTable).focus()
        self.action_validate()

    def action_validate(self) -> None:
        path = self._path()
        if not path:
            self.notify("Type the manifest's path first.", severity="warning")
            return
        self.run_validate(path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-validate")
    def run_validate(self, path: str) -> None:
        from annotrain_tui.core.manifest.validate import validate_path

        sel = self.app.selection
        result = validate_path(path, provider=sel.integration.provider.value if sel.integration else None)
        self.app.call_from_thread(self._show_validation, path, result)

    def _set_validation(self, text: Text) -> None:
        self.query_one("#reg-validation-pane", TextPane).update(text)

    def _diagnostic_line(self, path: str, d) -> Text:  # noqa: ANN001 - a core.manifest Diagnostic
        how = remedy_text(about(d.see, path=path), self.app, self)
        return lit(d.render(path.rsplit('/', 1)[-1], how), "red" if d.severity == "error" else "yellow")

    def _show_validation(self, path: str, result) -> None:
        """Every diagnostic, in a pane that scrolls (at 80×24 only the first of three warnings was readable)."""
        self._validated = (path, disk_identity(path), result)
        t = Text()
        style = "bold green" if result.valid else "bold red"
        t.append(f"{'✓ valid' if result.valid else '✗ invalid'}: {result.items} item(s), {result.urls} URL(s), "
                 f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)", style=style)
        if len(result.diagnostics) > 1:
            t.append(" (this list scrolls: Tab to it, then ↑↓ PgUp PgDn Home End)", style="dim")
        for d in result.diagnostics[:MAX_SHOWN]:
            t.append("\n")
            t.append_text(self._diagnostic_line(path, d))
        if len(result.diagnostics) > MAX_SHOWN:
            t.append(f"\n… {len(result.diagnostics) - MAX_SHOWN} more: open the manifest editor (2 on Home)",
                     style="dim")
        self._set_validation(t)

    def _target_ready(self) -> tuple[Integration, Folder, str] | None:
        """(integration, folder, manifest path) when all are there; else one toast saying what is missing."""
        sel, path = self.app.selection, self._path()
        if not (sel.integration and sel.folder):
            self.notify("Pick the integration and the folder first (1 on Home).", severity="warning")
            return None
        if not path:
            self.notify("Type the manifest's path first.", severity="warning")
            return None
        return sel.integration, sel.folder, path

    def action_register(self) -> None:
        """Ask before registering, naming the manifest's warnings (validated first when the last
        validation was not of this file as it is now)."""
        ready = self._target_ready()
        if ready is None:
            return
        integration, folder, path = ready
        last = self._validated
        if last is not None and last[0] == path and last[1] is not None and last[1] == disk_identity(path):
            self._confirm_register(integration, folder, path, last[2])
        else:
            self.validate_then_register(integration, folder, path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-validate")
    def validate_then_register(self, integration: Integration, folder: Folder, path: str) -> None:
        from annotrain_tui.core.manifest.validate import validate_path

        result = validate_path(path, provider=integration.provider.value)
        self.app.call_from_thread(self._show_validation, path, result)
        self.app.call_from_thread(self._confirm_register, integration, folder, path, result)

    def _confirm_register(self, integration: Integration, folder: Folder, path: str, result: Any) -> None:
        errors = list(result.errors) if result is not None else []
        if errors:
            # never offered: the registration would refuse it after the yes (trial: "Register (y)" asked
            # about 4 warnings of a manifest with 2 errors)
            from annotrain_tui.core.manifest.split import LIMIT_CODES

            how = ("it is too big for one job: b registers it in batches" if all(d.code in LIMIT_CODES for d in errors)
                   else "fix them in the manifest editor (2 on Home), then x again")
            first = self._diagnostic_line(path, errors[0]).plain
            self.show_error("register-start", f"Not registered: the manifest has {len(errors)} error(s); {how}. "
                                              f"The first: {first}")
            self.notify(f"The manifest has {len(errors)} error(s): nothing registered.", title="Not registered",
                        severity="error", markup=False)
            return
        self.clear_error("register-start")
        body = Text("Register the files of ")
        body.append_text(lit(path, "bold"))
        body.append(" into ")
        body.append_text(lit(folder.path, "bold"))
        body.append(" via ")
        body.append_text(lit(integration.title, "bold"))
        body.append("?")
        warnings = list(result.warnings) if result is not None else []
        if warnings:
            body.append(f"\n\nThe manifest has {len(warnings)} warning(s):", style="bold yellow")
            for d in warnings[:2]:
                body.append("\n• ")
                body.append_text(self._diagnostic_line(path, d))
            if len(warnings) > 2:
                body.append(f"\n… and {len(warnings) - 2} more, listed on the screen.", style="dim")
        self.app.push_screen(ConfirmDialog("Register files", body, yes="Register"),
                             when_yes(lambda: self.run_register(integration, folder, path)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-start")
    def run_register(self, integration: Integration, folder: Folder, path: str) -> None:
        backend = self.app.workspace.backend
        manifest, warnings = reg.load_for_registration(path, provider=integration.provider.value)
        record = reg.start(backend, self.store, manifest, manifest_path=path, integration_ref=integration.id,
                           folder_ref=folder.id)
        self.app.call_from_thread(self._started, record, len(warnings))

    def _batch_limit(self) -> int | None:
        value = self.query_one("#batch-size", Input).value.strip()
        return int(value) if value.isdigit() and int(value) > 0 else None

    def action_register_batch(self) -> None:
        ready = self._target_ready()
        if ready is None:
            return
        integration, folder, path = ready
        if self.batch_running is not None:
            self.notify("A batch is being registered; wait for it (Escape stops it between parts).",
                        severity="warning", markup=False)
            return
        limit = self._batch_limit()
        body = Text("Register the files of ")
        body.append_text(lit(path, "bold"))
        body.append(" into ")
        body.append_text(lit(folder.path, "bold"))
        body.append(" in batches of ")
        body.append(f"at most {limit:,} item(s)" if limit else "100 videos or 1,000 images (the seed's advice)")
        body.append(", one job at a time? A batch of this manifest and folder that was stopped is continued.")
        self.app.push_screen(ConfirmDialog("Register in batches", body, yes="Register"),
                             when_yes(lambda: self.run_register_batch(integration, folder, path, limit)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-start")
    def run_register_batch(self, integration: Integration, folder: Folder, path: str, limit: int | None) -> None:
        backend = self.app.workspace.backend
        manifest, _ = reg.load_for_registration(path, provider=integration.provider.value, batched=True)
        self.cancel.clear()

        def event(kind: str, plan: reg.BatchPlan, record: reg.JobRecord | None) -> None:
            self.app.call_from_thread(self._batch_event, kind, plan, record)

        try:
            status = reg.register_batch(backend, self.store, manifest, manifest_path=path,
                                        integration_ref=integration.id, folder_ref=folder.id, limit=limit,
                                        step=1.0, on_event=event, cancel=self.cancel)
        finally:
            self.app.call_from_thread(self._batch_stopped)
        self.app.call_from_thread(self._batch_finished, status)

    def _batch_event(self, kind: str, plan: reg.BatchPlan, record: reg.JobRecord | None) -> None:
        if kind == "plan":
            self.batch_running = plan.id
            for r in plan.started.values():
                self.records[r.id] = r
            self._render_jobs()
            note = (f"Continuing batch {plan.id}: {len(plan.started)} of {plan.parts} part(s) were started before"
                    if plan.resumed else f"Batch {plan.id}: {plan.urls:,} URL(s) as {plan.parts} job(s), one at a time")
            self.notify(note, title="Registration", markup=False)
            keys = [r.key.value for r in self.query_one("#jobs", DataTable).ordered_rows]
            if plan.id in keys:
                self.query_one("#jobs", DataTable).move_cursor(row=keys.index(plan.id))
            return
        if record is not None:
            self.following.add(record.id)  # followed by the batch's worker, not by follow()
            self._upsert(record)
            if kind == "finished":
                self.following.discard(record.id)
            if record.batch is not None and self._current_key() == record.batch.id:
                self._show_failed()

    def _batch_stopped(self) -> None:
        self.batch_running = None
        self._render_jobs()

    def _batch_finished(self, b: reg.BatchStatus) -> None:
        for r in b.jobs:
            self.records[r.id] = r
        self._render_jobs()
        self._show_failed()
        if b.status == "incomplete":
            self.notify(f"Batch {b.id} stopped: {len(b.not_started)} part(s) not started (b with the same manifest "
                        "continues it)", title="Registration", severity="warning", markup=False)
            return
        msg = f"Batch {b.id}: {b.items_created} file(s) registered into {b.folder_path} in {b.parts} job(s)"
        if b.failed_urls:
            msg += f"; {len(b.failed_urls)} failed (t on the batch retries them)"
        self.notify(msg, title="Upload finished", severity="warning" if b.failed_urls else "information",
                    markup=False)

    def _started(self, record: reg.JobRecord, n_warnings: int) -> None:
        self._upsert(record)
        self.query_one("#jobs", DataTable).move_cursor(row=0)
        self.notify(f"Job {record.id[:8]} started: {record.urls} URL(s)"
                    + (f" ({n_warnings} warning(s))" if n_warnings else ""), title="Registration", markup=False)
        self.follow(record)

    def action_retry(self) -> None:
        b = self._current_batch()
        if b is not None:
            if not b.failed_urls:
                self.notify("The highlighted batch has no failed URLs.", markup=False)
                return
            self.app.push_screen(
                ConfirmDialog("Retry failed URLs", f"Register the {len(b.failed_urls)} failed URL(s) of every part of "
                              f"batch {b.id} again (only those)?", yes="Retry"),
                when_yes(lambda: self.run_retry_batch(b)))
            return
        r = self._current()
        if r is None or not r.failed_urls:
            self.notify("The highlighted job has no failed URLs.", markup=False)
            return
        self.app.push_screen(
            ConfirmDialog("Retry failed URLs", f"Register the {len(r.failed_urls)} failed URL(s) of job {r.id[:8]} "
                          "again (only those)?", yes="Retry"),
            when_yes(lambda: self.run_retry(r)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-start")
    def run_retry(self, r: reg.JobRecord) -> None:
        try:
            record = reg.retry_failed(self.app.workspace.backend, self.store, r)
        except reg.RetryExists as err:  # another run (or a second press) retried it already: follow that one
            self.app.call_from_thread(self._follow_existing, err)
            return
        self.app.call_from_thread(self._started, record, 0)

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-start")
    def run_retry_batch(self, b: reg.BatchStatus) -> None:
        retries = reg.retry_batch(self.app.workspace.backend, self.store, b)
        for record in retries:
            self.app.call_from_thread(self._started, record, 0)

    def _follow_existing(self, err: reg.RetryExists) -> None:
        self._upsert(err.existing)
        self.notify(str(err), title="Registration", severity="warning", markup=False)
        if not err.existing.finished:
            self.follow(err.existing)

    def action_copy_failed(self) -> None:
        b = self._current_batch()
        urls = b.failed_urls if b is not None else (r.failed_urls if (r := self._current()) is not None else [])
        if not urls:
            self.notify("No failed URLs to copy.", markup=False)
            return
        self.app.copy_to_clipboard("\n".join(urls))
        self.notify(f"Copied {len(urls)} URL(s) to the clipboard", title="Clipboard", markup=False)

    def action_back(self) -> None:
        self.cancel.set()
        self.app.pop_screen()
