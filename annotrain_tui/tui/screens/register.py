"""Register a manifest into the picked folder and follow the upload job to the end; failed URLs
are listed and can be retried (only they are registered again). Jobs persist across restarts."""

from __future__ import annotations

import threading

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar, Static

from annotrain_tui.core import registration as reg
from annotrain_tui.core.errors import AnnotrainError
from annotrain_tui.tui.messages import lit
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.widgets.tables import SafeDataTable
from annotrain_tui.tui.widgets.inputs import SafeInput
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog

STATUS_STYLE = {"pending": "cyan", "done": "green", "failed": "bold red"}


class RegisterScreen(AppScreen):
    TITLE = "Register files"
    SCREEN_HELP = (
        "Register the manifest's files into the picked storage folder through the picked integration. The "
        "manifest is validated first (annotrain's validator is the only one: the SDK sends whatever it is "
        "given). The job runs on the server; this screen follows it to the end and lists the URLs that failed. "
        "t re-registers only the failed URLs of the highlighted job. Jobs are kept, so a restart keeps "
        "following them."
    )
    BINDINGS = [
        Binding("v", "validate", "Validate", id="register.validate"),
        Binding("x", "register", "Register", id="register.start"),
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

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(""), id="reg-selection")
        with Horizontal(classes="form-row"):
            yield Label("Manifest ")
            yield SafeInput(placeholder="path to manifest.json or .csv — Enter validates", id="manifest-path")
        yield Static(Text(""), id="reg-validation")
        jobs = SafeDataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        jobs.HELP = "Registration jobs, newest first. The failed URLs of the highlighted job are listed below."  # type: ignore[attr-defined]
        yield jobs
        yield ProgressBar(total=None, show_eta=False, id="reg-progress")
        failed = SafeDataTable(id="failed", cursor_type="row")
        failed.HELP = "URLs of the highlighted job that Encord could not register, with the reason."  # type: ignore[attr-defined]
        yield failed
        yield Footer()

    def on_mount(self) -> None:
        self.store = reg.JobStore(self.app.workspace.paths)
        self.query_one("#jobs", DataTable).add_columns("Job", "Status", "Registered", "Failed", "Folder", "Started")
        self.query_one("#failed", DataTable).add_columns("Failed URL", "Reason")
        self.query_one("#reg-progress", ProgressBar).display = False
        if self.manifest_path:
            self.query_one("#manifest-path", Input).value = self.manifest_path
        self._show_selection()
        self.query_one("#jobs", DataTable).focus()
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self._show_selection()

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
            self._upsert(r)
        others = (f"{self.hidden_jobs} job(s) of other workspaces not shown: open their workspace to follow them."
                  if self.hidden_jobs else "")
        if not records and table.row_count == 0:
            self.query_one("#reg-validation", Static).update(
                Text("No registration jobs in this workspace yet. Type a manifest path above, check it (v), "
                     "register it (x). " + others, style="dim"))
        elif others:
            self.query_one("#reg-validation", Static).update(Text(others, style="dim"))
        self._show_failed()

    def _upsert(self, r: reg.JobRecord) -> None:
        self.records[r.id] = r
        table = self.query_one("#jobs", DataTable)
        cells = [lit(r.id[:8]), Text(r.status.value, style=STATUS_STYLE.get(r.status.value, "")),
                 Text(f"{r.items_created}/{r.urls}"), Text(str(len(r.failed_urls)),
                                                            style="bold red" if r.failed_urls else ""),
                 lit(r.folder_path), Text(r.created_at.strftime("%m-%d %H:%M"))]
        if r.id in table.rows:
            for col, cell in zip(table.columns, cells):
                table.update_cell(r.id, col, cell)
        else:
            # newest first
            ordered = sorted(self.records.values(), key=lambda x: x.created_at, reverse=True)
            table.clear()
            for x in ordered:
                table.add_row(lit(x.id[:8]), Text(x.status.value, style=STATUS_STYLE.get(x.status.value, "")),
                              Text(f"{x.items_created}/{x.urls}"), Text(str(len(x.failed_urls))),
                              lit(x.folder_path), Text(x.created_at.strftime("%m-%d %H:%M")), key=x.id)
        pending = any(not x.finished for x in self.records.values())
        self.query_one("#reg-progress", ProgressBar).display = pending

    def _current(self) -> reg.JobRecord | None:
        table = self.query_one("#jobs", DataTable)
        if table.row_count == 0 or table.cursor_row is None:
            return None
        try:
            key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        except Exception:  # noqa: BLE001
            return None
        return self.records.get(key)

    @on(DataTable.RowHighlighted, "#jobs")
    def _show_failed(self) -> None:
        table = self.query_one("#failed", DataTable)
        table.clear()
        r = self._current()
        if r is None:
            return
        for e in r.unit_errors:
            for url in e.object_urls:
                table.add_row(lit(url), lit(e.error))
        for err in r.errors:
            table.add_row(Text("(whole job)", style="bold red"), lit(err))

    def follow(self, record: reg.JobRecord) -> None:
        if record.id in self.following:
            return
        self.following.add(record.id)
        self.run_follow(record)

    @work(thread=True, exit_on_error=False, group="register-follow")
    def run_follow(self, record: reg.JobRecord) -> None:
        try:
            final = reg.wait(self.app.workspace.backend, self.store, record, step=1.0, cancel=self.cancel,
                             on_poll=lambda r: self.app.call_from_thread(self._upsert, r))
        finally:
            self.following.discard(record.id)
        if final.finished:
            self.app.call_from_thread(self._finished, final)

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

    def _show_validation(self, path: str, result) -> None:
        t = Text()
        style = "bold green" if result.valid else "bold red"
        t.append(f"{'✓ valid' if result.valid else '✗ invalid'}: {result.items} item(s), {result.urls} URL(s), "
                 f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)", style=style)
        for d in result.diagnostics[:4]:
            t.append("\n")
            t.append_text(lit(d.render(path.rsplit('/', 1)[-1]), "red" if d.severity == "error" else "yellow"))
        if len(result.diagnostics) > 4:
            t.append(f"\n… {len(result.diagnostics) - 4} more: open the manifest editor (2 on Home)", style="dim")
        self.query_one("#reg-validation", Static).update(t)

    def action_register(self) -> None:
        sel, path = self.app.selection, self._path()
        if not (sel.integration and sel.folder):
            self.notify("Pick the integration and the folder first (1 on Home).", severity="warning")
            return
        if not path:
            self.notify("Type the manifest's path first.", severity="warning")
            return
        body = Text("Register the files of ")
        body.append_text(lit(path, "bold"))
        body.append(" into ")
        body.append_text(lit(sel.folder.path, "bold"))
        body.append(" via ")
        body.append_text(lit(sel.integration.title, "bold"))
        body.append("?")
        self.app.push_screen(ConfirmDialog("Register files", body, yes="Register"),
                             lambda yes: self.run_register(path) if yes else None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-start")
    def run_register(self, path: str) -> None:
        sel = self.app.selection
        backend = self.app.workspace.backend
        manifest, warnings = reg.load_for_registration(path, provider=sel.integration.provider.value)
        record = reg.start(backend, self.store, manifest, manifest_path=path, integration_ref=sel.integration.id,
                           folder_ref=sel.folder.id)
        self.app.call_from_thread(self._started, record, len(warnings))

    def _started(self, record: reg.JobRecord, n_warnings: int) -> None:
        self._upsert(record)
        self.query_one("#jobs", DataTable).move_cursor(row=0)
        self.notify(f"Job {record.id[:8]} started: {record.urls} URL(s)"
                    + (f" ({n_warnings} warning(s))" if n_warnings else ""), title="Registration", markup=False)
        self.follow(record)

    def action_retry(self) -> None:
        r = self._current()
        if r is None or not r.failed_urls:
            self.notify("The highlighted job has no failed URLs.", markup=False)
            return
        self.app.push_screen(
            ConfirmDialog("Retry failed URLs", f"Register the {len(r.failed_urls)} failed URL(s) of job {r.id[:8]} "
                          "again (only those)?", yes="Retry"),
            lambda yes: self.run_retry(r) if yes else None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-start")
    def run_retry(self, r: reg.JobRecord) -> None:
        try:
            record = reg.retry_failed(self.app.workspace.backend, self.store, r)
        except reg.RetryExists as err:  # another run (or a second press) retried it already: follow that one
            self.app.call_from_thread(self._follow_existing, err)
            return
        self.app.call_from_thread(self._started, record, 0)

    def _follow_existing(self, err: "reg.RetryExists") -> None:
        self._upsert(err.existing)
        self.notify(str(err), title="Registration", severity="warning", markup=False)
        if not err.existing.finished:
            self.follow(err.existing)

    def action_copy_failed(self) -> None:
        r = self._current()
        if r is None or not r.failed_urls:
            self.notify("No failed URLs to copy.", markup=False)
            return
        self.app.copy_to_clipboard("\n".join(r.failed_urls))
        self.notify(f"Copied {len(r.failed_urls)} URL(s) to the clipboard", title="Clipboard", markup=False)

    def action_back(self) -> None:
        self.cancel.set()
        self.app.pop_screen()
