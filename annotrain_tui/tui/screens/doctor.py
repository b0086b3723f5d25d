"""Doctor: the workspace's preflight (core/doctor.py), one line per check with what to fix."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Static
from textual.worker import Worker

from annotrain_tui.core.doctor import FAIL, OK, SKIPPED, WARN, DoctorReport, run_doctor
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.screens.home import failure_text
from annotrain_tui.tui.text import lit

#: status → (badge, style)
BADGES = {
    OK: (" OK ", "bold black on green"),
    WARN: ("WARN", "bold black on yellow"),
    FAIL: ("FAIL", "bold white on red"),
    SKIPPED: ("SKIP", "bold white on grey37"),
}


def badge_text(status: str) -> Text:
    badge, style = BADGES.get(status, (status.upper()[:4], "bold"))
    return Text(f" {badge} ", style=style)


def check_text(check) -> Text:
    """One check beside its badge: its name, what was found, and (unless ok) how to fix it."""
    text = Text()
    text.append_text(lit(check.name, "bold"))
    text.append(": ")
    text.append_text(lit(check.message, "dim" if check.status == SKIPPED else ""))
    if check.hint and check.status != OK:
        text.append("\nfix: ", style="cyan")
        text.append_text(lit(check.hint, "cyan"))
    text.no_wrap = False
    return text


def check_row(check, n: int) -> Horizontal:
    """A coloured status, then the text wrapping beside it (a hanging indent)."""
    return Horizontal(Static(badge_text(check.status), classes="doctor-badge"),
                      Static(check_text(check), classes="doctor-body"),
                      classes=f"doctor-check -{check.status}", id=f"check-{n}")


class DoctorScreen(AppScreen):
    TITLE = "Doctor"
    SCREEN_HELP = (
        "One preflight of the workspace: the key (or sandbox file), your role on annotrain's projects, the "
        "workflow template, the cloud integration, the benchmark (complete, one dataset), annotators missing "
        "from their training projects, folders whose items are not all in the benchmark's dataset, and "
        "registration jobs pending for hours. Each says ok, what is wrong, and how to fix it. r runs the "
        "checks again; Escape goes back. The same report in a shell: annotrain doctor (also as JSON)."
    )
    WIDGET_HELP = {"doctor-checks": "Each check of the preflight. Up/Down scroll; r runs them again."}
    DEFAULT_CSS = """
    #doctor-summary { height: auto; padding: 0 1; }
    #doctor-checks { height: 1fr; padding: 0 1; }
    .doctor-check { height: auto; }
    .doctor-badge { width: 7; height: 1; }
    .doctor-body { width: 1fr; height: auto; }
    """
    BINDINGS = [Binding("r", "refresh", "Re-run", id="doctor.rerun"),
                Binding("escape", "app.back", "Back", id="doctor.back")]

    def __init__(self, benchmark: str | None = None) -> None:
        super().__init__()
        self.benchmark = benchmark
        self.report: DoctorReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Running checks…", style="dim"), id="doctor-summary")
        yield VerticalScroll(id="doctor-checks")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.app.workspace.backend.describe()
        self.query_one("#doctor-checks").focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.query_one("#doctor-summary", Static).update(Text("Running checks…", style="dim"))
        self.query_one("#doctor-checks").loading = True
        self.run_checks()

    @work(thread=True, exit_on_error=False, exclusive=True, group="doctor-run")
    def run_checks(self) -> DoctorReport:
        ws = self.app.workspace
        report = run_doctor(ws.backend, settings=ws.settings, paths=ws.paths, benchmark_ref=self.benchmark,
                            warnings=ws.warnings)
        self.app.call_from_thread(self.show, report)
        return report

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group != "doctor-run":
            return
        self.query_one("#doctor-summary", Static).update(failure_text("The checks could not run", error))
        self.query_one("#doctor-checks").loading = False

    def show(self, report: DoctorReport) -> None:
        self.call_next(self._show, report)

    async def _show(self, report: DoctorReport) -> None:
        self.report = report
        summary = Text()
        if report.ok:
            summary.append("Ready", style="bold green")
        else:
            summary.append("Not ready", style="bold red")
        summary.append(f": {len(report.checks)} checks, {report.summary()}")
        if not report.ok:
            summary.append(" · fix the FAIL lines first", style="dim")
        self.query_one("#doctor-summary", Static).update(summary)
        box = self.query_one("#doctor-checks", VerticalScroll)
        box.loading = False
        await box.remove_children()
        if not report.checks:
            await box.mount(Static(Text("No checks ran.", style="dim italic"), classes="doctor-check"))
        await box.mount_all([check_row(c, n) for n, c in enumerate(report.checks)])
