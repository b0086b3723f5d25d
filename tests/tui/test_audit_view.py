"""The Audit view (issue 16 item 7, TUI): on the demo programme with its trainees redrawn as the
gold and three gold errors planted, the view lists exactly the planted suspects; Enter draws the
item; x excludes an item with a required reason (recorded, marked, the scores then leave it out;
Escape cancels and records nothing); i includes it back."""

from __future__ import annotations

from textual.widgets import DataTable

from annotrain_tui.core.backends.sandbox.labels import objects_of
from annotrain_tui.core.decisions import score_programme
from annotrain_tui.tui.screens.audit import AuditScreen
from annotrain_tui.tui.screens.evaluation.drilldown import ItemScreen
from annotrain_tui.tui.widgets.dialogs import FormDialog
from annotrain_tui.tui.widgets.inputs import SafeInput
from annotrain_tui.tui.widgets.shape_canvas import ShapeCanvas
from tests.tui.helpers import make_app, screen_text, settle


def plant(app) -> dict[str, tuple[str, str | None]]:
    """The trainees' current rounds redrawn as the gold, then three gold errors planted on items
    with a bounding box: data hash → (kind, the gold object's hash)."""
    ws = app.workspace
    prog = ws.programme()
    sandbox = ws.sandbox
    hashes = [i.data_hash for i in ws.backend.list_label_rows(prog.id, done_only=True)]
    gold = {r["data_hash"]: objects_of(r) for r in sandbox.get_label_rows(prog.id, hashes)}
    for email, trainee in prog.trainees.items():
        project = trainee.current.project.id
        for dh, objs in gold.items():
            sandbox.save_labels(project, dh, [{**o, "createdBy": email} for o in objs],
                                stage=sandbox.final_stage(project))
    boxes = sorted(dh for dh, objs in gold.items() if any(o.get("shape") == "bounding_box" for o in objs))
    names = sorted({(o["name"], o["featureHash"], o.get("color")) for objs in gold.values() for o in objs
                    if o.get("shape") == "bounding_box"}, key=str)
    planted: dict[str, tuple[str, str | None]] = {}
    for kind, dh in zip(("missing", "misplaced", "class"), boxes):
        objs = [dict(o) for o in gold[dh]]
        target = next(o for o in objs if o.get("shape") == "bounding_box")
        if kind == "missing":
            objs = [o for o in objs if o["objectHash"] != target["objectHash"]]
            planted[dh] = (kind, None)
        elif kind == "misplaced":
            target["boundingBox"] = {"x": 0.97, "y": 0.97, "w": 0.02, "h": 0.02}
            planted[dh] = (kind, target["objectHash"])
        else:
            name, feature, color = next(n for n in names if n[1] != target["featureHash"])
            target.update(name=name, featureHash=feature, value=name.lower(), color=color)
            planted[dh] = (kind, target["objectHash"])
        sandbox.save_labels(prog.id, dh, objs, stage=sandbox.final_stage(prog.id))
    return planted


async def open_audit(app, pilot) -> AuditScreen:
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, AuditScreen) and screen.result is not None
    return screen


def excluded_column(screen: AuditScreen) -> list[str]:
    table = screen.query_one("#suspects", DataTable)
    return [str(table.get_row_at(i)[5]) for i in range(table.row_count)]


async def test_the_view_lists_exactly_the_planted_suspects_and_draws_one(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="audit")
    planted = plant(app)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_audit(app, pilot)
        assert screen.result is not None
        found = {s.data_hash: (s.kind, s.benchmark_object_hash) for s in screen.result.suspects}
        assert found == planted
        table = screen.query_one("#suspects", DataTable)
        assert sorted(str(table.get_row_at(i)[0]) for i in range(table.row_count)) == ["class", "misplaced",
                                                                                     "missing"]
        text = screen_text(app)
        assert "3 suspect(s)" in text and "Least-agreed items" in text
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ItemScreen)
        assert app.screen.data_hash == screen.result.suspects[0].data_hash
        assert app.screen.query_one("#canvas", ShapeCanvas).shapes  # both sides drawn
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_an_exclusion_needs_a_reason_is_recorded_and_rescores_and_include_undoes_it(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="audit")
    planted = plant(app)
    missing = next(dh for dh, (kind, _o) in planted.items() if kind == "missing")
    before = score_programme(app.workspace.backend, app.workspace.programme())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_audit(app, pilot)
        assert screen.result is not None
        row = next(n for n, s in enumerate(screen.result.suspects) if s.data_hash == missing)
        screen.query_one("#suspects", DataTable).move_cursor(row=row)
        # Escape cancels: nothing recorded
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and app.workspace.programme().record.exclusions() == {}
        # no reason: refused, the dialog stays open
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert "reason is required" in screen_text(app)
        app.screen.query_one("#field-reason", SafeInput).value = "the gold lacks this box"
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen
        (exclusion,) = app.workspace.programme().record.exclusions().values()
        assert exclusion.data_hash == missing and exclusion.reason == "the gold lacks this box"
        assert excluded_column(screen)[row] == "✗ out" and excluded_column(screen).count("✗ out") == 1
        assert any("the scores now leave 1 item(s) out" in n.message for n in app._notifications)
        after = score_programme(app.workspace.backend, app.workspace.programme())
        for name, score in after.annotators.items():
            assert score.items_required == before.annotators[name].items_required - 1
        # i includes it back
        await pilot.press("i")
        await settle(app, pilot)
        assert app.workspace.programme().record.exclusions() == {}
        assert "✗ out" not in excluded_column(screen)
        assert any("leave no item out" in n.message for n in app._notifications)


async def test_from_the_evaluation_screen_by_the_palette_an_exclusion_rescores_it(tmp_path):
    from annotrain_tui.tui.screens.evaluation import EvaluationScreen
    from tests.tui.helpers import run_in_palette

    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    planted = plant(app)
    missing = next(dh for dh, (kind, _o) in planted.items() if kind == "missing")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        evaluation = app.screen
        assert isinstance(evaluation, EvaluationScreen) and evaluation.snapshot is not None
        assert evaluation.snapshot.settings.excluded_items == frozenset()
        await run_in_palette(app, pilot, "Gold audit")
        screen = await open_audit(app, pilot)
        assert screen.result is not None
        row = next(n for n, s in enumerate(screen.result.suspects) if s.data_hash == missing)
        screen.query_one("#suspects", DataTable).move_cursor(row=row)
        await pilot.press("x")
        await pilot.pause()
        app.screen.query_one("#field-reason", SafeInput).value = "no box in the gold"
        await pilot.press("enter")
        await settle(app, pilot)
        assert any("the evaluation screen is scoring again" in n.message for n in app._notifications)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is evaluation
        assert evaluation.snapshot.settings.excluded_items == frozenset({missing})


async def test_with_no_benchmark_at_all_one_clause_says_so(tmp_path):
    """Trial 16 item 16: the empty state said "the workspace has no programme yet: no benchmark
    project (…)" after its own "Nothing to audit": three clauses saying the same thing."""
    import sqlite3

    app = make_app(tmp_path / "ws.db", start_screen="audit")
    with sqlite3.connect(tmp_path / "ws.db") as db:  # no benchmark left: no marker, no such title
        db.execute("UPDATE projects SET description = '', title = 'Street project ' || id")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, AuditScreen)
        text = " ".join(screen_text(app).split())
        assert "No programme yet: set up a benchmark first (3 on Home)." in text
        assert "Nothing to audit" not in text and "no benchmark project" not in text


async def test_a_benchmark_that_cannot_be_found_still_says_why(tmp_path):
    """Only the workspace without any benchmark gets the one clause: a named benchmark that does not
    exist keeps the error's own words."""
    app = make_app(tmp_path / "ws.db", start_screen="audit", options={"benchmark": "No such bench"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        text = " ".join(screen_text(app).split())
        assert "Nothing to audit:" in text and "No such bench" in text and "No programme yet" not in text
