"""Issue 16's Pilot journey: the real app, keyboard first, on a starter sandbox (no programme yet)
to graduated and retaken annotators, a feedback pack written and a planted gold error found by the
audit. What happens outside the app — the expert labelling the gold in Encord, the trainees working
— is the sandbox's simulator, called between screens, as the world would act."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input, Select, SelectionList

from annotrain_tui.core.backends.sandbox import SandboxBackend
from annotrain_tui.core.backends.sandbox.ops import label_benchmark, simulate
from annotrain_tui.core.backends.sandbox.starter import PRODUCTION_TITLE, create_starter_workspace
from annotrain_tui.core.config import Paths, Settings
from annotrain_tui.core.workspace import open_workspace
from annotrain_tui.tui.app import AnnotrainApp
from annotrain_tui.tui.screens.act import ActScreen
from annotrain_tui.tui.screens.audit import AuditScreen
from annotrain_tui.tui.screens.benchmark import BenchmarkScreen
from annotrain_tui.tui.screens.evaluation import EvaluationScreen
from annotrain_tui.tui.screens.evaluation.drilldown import AnnotatorScreen
from annotrain_tui.tui.screens.home import HomeScreen
from annotrain_tui.tui.screens.pick import PickScreen
from annotrain_tui.tui.screens.programmes import ProgrammesScreen
from annotrain_tui.tui.screens.provision import ProvisionScreen
from annotrain_tui.tui.screens.register import RegisterScreen
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog
from annotrain_tui.tui.widgets.frame_table import FrameTable
from tests.tui.helpers import screen_text, settle

GOOD = ("ada@example.com", "cy@example.com", "dee@example.com")
WEAK = "ben@example.com"


def cells(table: DataTable, column: int) -> list[str]:
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


def world(path: Path):
    """The sandbox as the world outside the app sees it (the expert, the trainees)."""
    return SandboxBackend(path)


async def go_to(pilot, table: FrameTable, annotator: str) -> None:
    """The cursor on ``annotator``'s row, with the arrow keys."""
    table.focus()
    await pilot.press("home")
    for _ in range(table.row_count):
        if table.current_key() == annotator:
            return
        await pilot.press("down")
    assert table.current_key() == annotator


def value(table: FrameTable, annotator: str, column: str):
    frame = table.frame
    return frame.loc[frame["annotator"] == annotator, column].iat[0]


async def home(app, pilot) -> None:
    while not isinstance(app.screen, HomeScreen):
        await pilot.press("escape")
        await settle(app, pilot)


async def test_a_programme_from_an_empty_sandbox_to_graduates_a_retake_a_pack_and_an_audit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ws.db"
    create_starter_workspace(path)
    manifest = tmp_path / "cohort.json"
    manifest.write_text(json.dumps({"images": [
        {"objectUrl": f"https://bucket.s3.amazonaws.com/cohort-a/img_{i:03d}.jpg", "title": f"img_{i:03d}.jpg"}
        for i in range(12)]}), encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nAda Good,ada@example.com\nBen Weak,ben@example.com\nCy Good,cy@example.com\n"
                      "Dee Good,dee@example.com\n", encoding="utf-8")
    ws = open_workspace(Paths.default(), Settings(retry_base_delay=0).replace(**{"sandbox_path": path}))
    app = AnnotrainApp(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        # no programme yet: the Programmes view says how to start
        await pilot.press("P")
        await settle(app, pilot)
        assert isinstance(app.screen, ProgrammesScreen) and "No programme yet" in screen_text(app)
        await home(app, pilot)

        # -- 1. pick the integration, create the folder ------------------------------------------
        await pilot.press("1")
        await settle(app, pilot)
        assert isinstance(app.screen, PickScreen)
        await pilot.press("slash", *"AWS", "enter", "enter")
        assert app.selection.integration is not None and app.selection.integration.title.startswith("AWS")
        await pilot.press("n")
        assert isinstance(app.screen, FormDialog)
        app.screen.query_one("#field-path", Input).value = "/Training Data/Cohort A"
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.selection.folder is not None and app.selection.folder.path == "/Training Data/Cohort A"

        # -- 2. register the manifest into it --------------------------------------------------------
        app.open_flow("register", manifest=str(manifest))  # as `annotrain tui --screen register --manifest`
        await settle(app, pilot)
        assert isinstance(app.screen, RegisterScreen)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert len(ws.raw.list_items(app.selection.folder.id)) == 12
        await home(app, pilot)

        # -- 3. the training dataset and the benchmark ------------------------------------------------
        await pilot.press("3")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, BenchmarkScreen)
        screen.query_one("#folder", Select).value = app.selection.folder.id
        screen.query_one("#dataset-title", Input).value = "Cohort A files"
        await pilot.press("c")
        await settle(app, pilot)
        screen.query_one("#bench-title", Input).value = "Cohort A benchmark"
        await pilot.press("b")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        bench = next(p for p in ws.raw.list_projects() if p.title == "Cohort A benchmark")
        await home(app, pilot)

        # -- 4. the gate: provisioning refuses the unlabelled benchmark --------------------------------
        app.open_flow("provision", roster=str(roster), benchmark=bench.id)
        await settle(app, pilot)
        provision = app.screen
        assert isinstance(provision, ProvisionScreen)
        await pilot.press("p")
        await settle(app, pilot)
        assert "must be completed before annotator training begins" in " ".join(screen_text(app).split())
        await home(app, pilot)

        # the expert labels the gold (in Encord), with three errors planted
        backend = world(path)
        try:
            planted = label_benchmark(backend, bench.id, plant_errors=3, seed=3).planted
        finally:
            backend.close()
        assert sorted(p.kind for p in planted) == ["class", "misplaced", "missing"]

        # -- 5. provisioning, now allowed -----------------------------------------------------------
        app.open_flow("provision", roster=str(roster), benchmark=bench.id)
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        trainees = app.workspace.programme(bench.id).trainees
        assert sorted(trainees) == sorted((*GOOD, WEAK))
        await home(app, pilot)

        # the trainees work: three good, one weak
        backend = world(path)
        try:
            simulate(backend, until_done=True, seed=1, skills={**dict.fromkeys(GOOD, 0.97), WEAK: 0.45})
        finally:
            backend.close()

        # -- 6. evaluate and decide: C confirms every suggestion ------------------------------------------
        await pilot.press("5")
        await settle(app, pilot)
        evaluation = app.screen
        assert isinstance(evaluation, EvaluationScreen)
        table = evaluation.query_one("#annotators", FrameTable)
        statuses = {table.frame["annotator"].iat[i]: table.frame["status"].iat[i] for i in range(len(table.frame))}
        assert statuses[WEAK] == "needs feedback" and all(statuses[e] == "passed" for e in GOOD)
        await pilot.press("C")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        decisions = app.workspace.programme(bench.id).record.decisions()
        assert {e: d.decision for e, d in decisions.items()} == {**dict.fromkeys(GOOD, "graduate"), WEAK: "retake"}

        # -- 7. feedback for the weak trainee, from their screen -------------------------------------------
        await go_to(pilot, table, WEAK)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AnnotatorScreen) and app.screen.annotator == WEAK
        await pilot.press("F")
        await pilot.pause()
        app.screen.query_one("#field-dir").value = str(tmp_path / "packs")
        await pilot.press("enter")
        await settle(app, pilot)
        pack = (tmp_path / "packs" / f"{WEAK}.html").read_text(encoding="utf-8")
        assert "<svg" in pack and WEAK in pack
        await home(app, pilot)

        # -- 8. act: graduate the three, retake the one ----------------------------------------------------
        await pilot.press("6")
        await settle(app, pilot)
        act = app.screen
        assert isinstance(act, ActScreen)
        chooser = act.query_one("#production", SelectionList)
        production = next(p for p in ws.raw.list_projects() if p.title == PRODUCTION_TITLE)
        chooser.focus()
        chooser.highlighted = [chooser.get_option_at_index(i).value for i in range(chooser.option_count)].index(
            production.id)
        await pilot.press("space", "p")
        await settle(app, pilot)
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert sorted(cells(act.query_one("#plan-table", DataTable), 2)) == ["✓ added"] * 3
        users = {u.email for u in ws.raw.get_project(production.id).users or []}
        assert set(GOOD) <= users and WEAK not in users
        await pilot.press("t", "p")
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.press("y")
        await settle(app, pilot)
        assert cells(act.query_one("#plan-table", DataTable), 2) == ["✓ created"]
        assert app.workspace.programme(bench.id).trainees[WEAK].round == 2
        await home(app, pilot)

        # round two: the weak trainee does better
        backend = world(path)
        try:
            simulate(backend, until_done=True, seed=2, skills={WEAK: 0.97})
        finally:
            backend.close()

        # -- 9. round 2 scored on its own, graduated ---------------------------------------------------------
        await pilot.press("5")
        await settle(app, pilot)
        table = app.screen.query_one("#annotators", FrameTable)
        assert value(table, WEAK, "status") == "passed" and value(table, WEAK, "round") == 2
        await go_to(pilot, table, WEAK)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press(*"round 2 clean", "enter")
        await settle(app, pilot)
        await home(app, pilot)
        await pilot.press("6")
        await settle(app, pilot)
        act = app.screen
        chooser = act.query_one("#production", SelectionList)
        chooser.focus()
        chooser.highlighted = [chooser.get_option_at_index(i).value for i in range(chooser.option_count)].index(
            production.id)
        await pilot.press("space", "p")
        await settle(app, pilot)
        await pilot.press("a", "y")
        await settle(app, pilot)
        assert WEAK in {u.email for u in ws.raw.get_project(production.id).users or []}
        await home(app, pilot)

        # -- 10. the gold audit finds the planted errors -----------------------------------------------------
        await pilot.press("7")
        await settle(app, pilot)
        audit = app.screen
        assert isinstance(audit, AuditScreen) and audit.result is not None
        found = {(s.kind, s.data_hash) for s in audit.result.suspects}
        assert {(p.kind, p.data_hash) for p in planted} <= found
        await home(app, pilot)

        # -- 11. the programme is closed ------------------------------------------------------------------
        await pilot.press("P")
        await settle(app, pilot)
        assert isinstance(app.screen, ProgrammesScreen)
        assert "closed" in screen_text(app)
    ws.close()
