"""Benchmark setup: training dataset from a folder (verified), ontology with its classes, and the
benchmark project with that ontology and ONLY that dataset; completeness of existing benchmarks."""

from __future__ import annotations

import re

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Input, Label, Select, Static
from textual.worker import Worker

from annotrain_tui.core.benchmark import (
    DEFAULT_BENCHMARK_TITLE,
    DatasetCheck,
    create_benchmark_project,
    create_training_dataset,
    verify_dataset,
)
from annotrain_tui.core.choices import BenchmarkChoices, benchmark_choices
from annotrain_tui.core.models import Dataset, Ontology
from annotrain_tui.tui.screens.base import AppScreen
from annotrain_tui.tui.screens.home import failure_text
from annotrain_tui.tui.text import lit
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog
from annotrain_tui.tui.widgets.inputs import SafeInput

_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")  # an ontology's colour is untrusted: a bad one would not parse
SHAPE_ICONS = {"bounding_box": "▭ box", "rotatable_bounding_box": "◇ rotated box", "polygon": "⬠ polygon",
               "polyline": "〰 polyline", "point": "• point", "bitmask": "▦ bitmask", "skeleton": "✳ skeleton"}


class BenchmarkScreen(AppScreen):
    TITLE = "Benchmark"
    SCREEN_HELP = (
        "Step 3 of the programme (3 on Home). Create the training dataset from a storage folder (c) — every file of the "
        "folder is linked and the result verified — or pick an existing dataset and verify it against a "
        "folder (v). Pick the ontology (its classes and shapes are listed), then create the benchmark project "
        "(b) with that ontology and ONLY that dataset. Training must not start before the benchmark is "
        "complete. The action letters work wherever the focus is not in a text field; in a title field, "
        "Enter does the step the field belongs to (the dataset title: c, the benchmark title: b)."
    )
    WIDGET_HELP = {
        "folder": "The storage folder whose files become the training dataset (c), or the folder an existing "
                  "dataset is verified against (v). Enter opens the list.",
        "dataset-title": "The title of the new training dataset. Enter creates it from the chosen folder (c).",
        "dataset": "An existing dataset to use as the training dataset: v verifies it against the folder; b "
                   "uses it for the benchmark. Enter opens the list.",
        "ontology": "The ontology the benchmark and every training project share; its classes are listed below. "
                    "Enter opens the list.",
        "template": "The workflow template of the benchmark project (optional: the default when none). Enter "
                    "opens the list.",
        "bench-title": "The benchmark project's title. Enter creates the benchmark (b) with the chosen ontology "
                       "and ONLY the chosen dataset.",
    }
    BINDINGS = [
        Binding("c", "create_dataset", "Create dataset", id="benchmark.create_dataset"),
        Binding("v", "verify", "Verify", id="benchmark.verify"),
        Binding("b", "create_benchmark", "Create benchmark", id="benchmark.create"),
        Binding("r", "refresh", "Refresh", id="benchmark.refresh"),
        Binding("escape", "app.back", "Back", id="benchmark.back"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(Text("1. Training dataset", style="bold"), classes="section")
            with Horizontal(classes="form-row"):
                yield Select([], prompt="storage folder", id="folder")
                yield SafeInput(placeholder="new dataset title", id="dataset-title", value="Annotator Training Set")
            with Horizontal(classes="form-row"):
                yield Select([], prompt="or an existing dataset", id="dataset")
            yield Static(Text(""), id="dataset-check")
            yield Static(Text("2. Ontology", style="bold"), classes="section")
            with Horizontal(classes="form-row"):
                yield Select([], prompt="ontology", id="ontology")
                yield Select([], prompt="workflow template (optional)", id="template")
            yield Static(Text(""), id="ontology-classes")
            yield Static(Text("3. Benchmark project", style="bold"), classes="section")
            with Horizontal(classes="form-row"):
                yield Label("Title ")
                yield SafeInput(value=DEFAULT_BENCHMARK_TITLE, id="bench-title")
            yield Static(Text(""), id="bench-status")
        yield Footer()

    def on_mount(self) -> None:
        self.ontologies: dict[str, Ontology] = {}
        self.datasets: dict[str, Dataset] = {}
        self.last_check: DatasetCheck | None = None
        self.query_one("#folder", Select).focus()  # the first step, and not a text field the letters type into
        self.action_refresh()

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group == "benchmark-load":
            self.query_one("#bench-status", Static).update(failure_text("Could not read the workspace", error))

    @on(Input.Submitted, "#dataset-title")
    def _dataset_title_entered(self) -> None:
        self.action_create_dataset()

    @on(Input.Submitted, "#bench-title")
    def _bench_title_entered(self) -> None:
        self.action_create_benchmark()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False, exclusive=True, group="benchmark-load")
    def load(self) -> None:
        choices = benchmark_choices(self.app.workspace.backend)
        self.app.call_from_thread(self._fill, choices)

    def _fill(self, choices: BenchmarkChoices) -> None:
        folders, datasets, ontologies = choices.folders, choices.datasets, choices.ontologies
        templates, statuses = choices.templates, choices.statuses
        self.ontologies = {o.id: o for o in ontologies}
        self.datasets = {d.id: d for d in datasets}
        keep = {sel: self.query_one(f"#{sel}", Select).value for sel in ("folder", "dataset", "ontology", "template")}
        self.query_one("#folder", Select).set_options(
            [(lit(f"{f.path} ({f.item_count or 0} files)"), f.id) for f in folders])
        self.query_one("#dataset", Select).set_options([(lit(d.title), d.id) for d in datasets])
        self.query_one("#ontology", Select).set_options([(lit(o.title), o.id) for o in ontologies])
        self.query_one("#template", Select).set_options([(lit(t.title), t.id) for t in templates])
        for sel, value in keep.items():
            widget = self.query_one(f"#{sel}", Select)
            if value not in (Select.NULL, None):
                try:
                    widget.value = value
                except Exception:  # noqa: BLE001 - it no longer exists
                    pass
        if self.query_one("#ontology", Select).value in (Select.NULL, None) and ontologies:
            self.query_one("#ontology", Select).value = ontologies[0].id
        t = Text()
        if not statuses:
            t.append("No benchmark project yet: pick the dataset and the ontology above, then b.", style="dim")
        for s in statuses:
            t.append("Benchmark ")
            t.append_text(lit(s.project.title, "bold"))
            t.append(f": {s.completeness.complete}/{s.completeness.total} tasks Complete")
            t.append(" ✓ ready for training\n" if not s.warnings else "\n", style="green")
            for w in s.warnings:
                t.append("  ⚠ ", style="yellow")
                t.append_text(lit(w, "yellow"))
                t.append("\n")
        self.query_one("#bench-status", Static).update(t)

    @on(Select.Changed, "#ontology")
    def _show_classes(self, event: Select.Changed) -> None:
        onto = self.ontologies.get(str(event.value))
        t = Text()
        if onto is None:
            t.append("Pick the ontology the benchmark and every training project share.", style="dim")
        else:
            for c in onto.objects:
                t.append("  ■ ", style=c.color if _HEX_COLOUR.fullmatch(str(c.color or "")) else "")
                t.append_text(lit(c.name))
                t.append("  ")
                t.append_text(lit(SHAPE_ICONS.get(c.shape, c.shape), "dim"))
                t.append("\n")
            if not onto.objects:
                t.append("This ontology has no object classes: nothing could be evaluated.", style="yellow")
        self.query_one("#ontology-classes", Static).update(t)

    def _value(self, sel: str) -> str | None:
        v = self.query_one(f"#{sel}", Select).value
        return None if v in (Select.NULL, None) else str(v)

    def action_create_dataset(self) -> None:
        folder, title = self._value("folder"), self.query_one("#dataset-title", Input).value.strip()
        if not folder or not title:
            self.notify("Pick a storage folder and give the dataset a title.", severity="warning")
            return
        self.run_create_dataset(folder, title)

    @work(thread=True, exit_on_error=False, exclusive=True, group="benchmark-action")
    def run_create_dataset(self, folder: str, title: str) -> None:
        check = create_training_dataset(self.app.workspace.backend, folder, title)
        self.app.call_from_thread(self._show_check, check)
        self.app.call_from_thread(self.action_refresh)

    def action_verify(self) -> None:
        dataset, folder = self._value("dataset"), self._value("folder")
        if not dataset or not folder:
            self.notify("Pick the dataset and the folder to compare it with.", severity="warning")
            return
        self.run_verify(dataset, folder)

    @work(thread=True, exit_on_error=False, exclusive=True, group="benchmark-action")
    def run_verify(self, dataset: str, folder: str) -> None:
        check = verify_dataset(self.app.workspace.backend, dataset, folder_ref=folder)
        self.app.call_from_thread(self._show_check, check)

    def _show_check(self, check: DatasetCheck) -> None:
        self.last_check = check
        t = Text()
        t.append_text(lit(check.dataset.title, "bold"))
        t.append(f": {check.linked} file(s) linked, {check.expected} expected. ")
        t.append("✓ matches" if check.ok else f"{len(check.missing)} missing, {len(check.extra)} extra",
                 style="green" if check.ok else "yellow")
        for m in check.missing[:5]:
            t.append("\n  missing: ", style="yellow")
            t.append_text(lit(m))
        for x in check.extra[:5]:
            t.append("\n  extra: ", style="yellow")
            t.append_text(lit(x))
        self.query_one("#dataset-check", Static).update(t)

    def action_create_benchmark(self) -> None:
        dataset_id = self._value("dataset") or (self.last_check.dataset.id if self.last_check else None)
        ontology, title = self._value("ontology"), self.query_one("#bench-title", Input).value.strip()
        if not dataset_id or not ontology or not title:
            self.notify("Pick (or create) the training dataset and the ontology, and give a title.",
                        severity="warning")
            return
        dataset = self.datasets.get(dataset_id) or (self.last_check.dataset if self.last_check else None)
        onto = self.ontologies.get(ontology)
        body = Text("Create the benchmark project ")
        body.append_text(lit(title, "bold"))
        body.append(" with the ontology ")
        body.append_text(lit(onto.title if onto else ontology, "bold"))
        body.append(" and ONLY the training dataset ")
        body.append_text(lit(dataset.title if dataset else dataset_id, "bold"))
        body.append("?")

        def go(yes):
            if yes:
                self.run_create_benchmark(title, dataset_id, ontology, self._value("template"))

        self.app.push_screen(ConfirmDialog("Create benchmark project", body, yes="Create"), go)

    @work(thread=True, exit_on_error=False, exclusive=True, group="benchmark-action")
    def run_create_benchmark(self, title: str, dataset: str, ontology: str, template: str | None) -> None:
        project = create_benchmark_project(self.app.workspace.backend, title, dataset_ref=dataset,
                                           ontology_ref=ontology, template_ref=template)
        self.app.call_from_thread(self.notify, f"Created {project.title} ({project.id})", title="Benchmark",
                                  markup=False)
        self.app.call_from_thread(self.action_refresh)
