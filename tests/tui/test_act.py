"""The Act view (issue 16 item 4, TUI): decisions recorded on a demo sandbox, then a retake and a
graduation planned and applied from the screen: outcomes in place, the steps done on the server,
and a second plan all done."""

from __future__ import annotations

from textual.widgets import DataTable, SelectionList, Static

from annotrain_tui.core.markers import parse_training_marker, training_round
from annotrain_tui.tui.screens.act import ActScreen
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog
from tests.tui.helpers import make_app, screen_text, settle

ALEX, BEA, CHIDI = "alex.kim@example.com", "bea.santos@example.com", "chidi.okafor@example.com"


def decided(app, decisions: dict[str, str]) -> None:
    prog = app.workspace.programme()
    for email, decision in decisions.items():
        prog.record.decide(email, decision, round=prog.trainees[email].round)


def plan_column(screen: ActScreen) -> list[str]:
    table = screen.query_one("#plan-table", DataTable)
    return [str(table.get_row_at(i)[2]) for i in range(table.row_count)]


async def open_act(app, pilot) -> ActScreen:
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, ActScreen)
    return screen


async def test_a_retake_is_planned_applied_and_then_all_done(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="act")
    decided(app, {BEA: "retake", ALEX: "graduate"})
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_act(app, pilot)
        await pilot.press("t", "p")
        await settle(app, pilot)
        assert plan_column(screen) == ["+ create"]
        assert "1 to create" in screen_text(app)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen is screen
        assert plan_column(screen) == ["✓ created"]
        assert "Created 1 round project(s)" in screen_text(app)
        rounds = [p for p in app.workspace.raw.list_projects()
                  if (m := parse_training_marker(p.description)) and m[1] == BEA]
        assert sorted(training_round(p.description) for p in rounds) == [1, 2]
        # planned again: the round exists and its annotator was invited: nothing left
        await pilot.press("p")
        await settle(app, pilot)
        assert plan_column(screen) == ["= done"]
        assert "Nothing to do" in screen_text(app)


async def test_a_graduation_into_a_ticked_production_project_with_a_role(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="act")
    decided(app, {ALEX: "graduate", CHIDI: "graduate", BEA: "retake"})
    onto = app.workspace.raw.list_ontologies()[0]
    prod = app.workspace.raw.create_project("Production Street", description="production", dataset_ids=[],
                                            ontology_id=onto.id)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_act(app, pilot)
        chooser = screen.query_one("#production", SelectionList)
        # only the production project is offered: not the benchmark, not a training project
        assert [chooser.get_option_at_index(i).value for i in range(chooser.option_count)] == [prod.id]
        await pilot.press("p")  # nothing ticked: said, no plan
        await pilot.pause()
        assert screen.plan is None
        chooser.focus()
        await pilot.press("space")
        assert chooser.selected == [prod.id]
        screen.query_one("#role").value = "reviewer"
        await pilot.press("p")
        await settle(app, pilot)
        assert plan_column(screen) == ["+ add", "+ add"]
        await pilot.press("a")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        asked = " ".join(str(w.render()) for w in app.screen.query(Static))  # the TUI's own words (trial 16 item 16)
        assert "Add 2 annotator(s) to 1 production project as reviewer on" in asked and "place" not in asked
        await pilot.press("y")
        await settle(app, pilot)
        assert plan_column(screen) == ["✓ added", "✓ added"]
        toast = next(n.message for n in app._notifications if n.title == "Graduate")
        assert toast.startswith("Added 2 annotator(s) to production;") and "place" not in toast
        users = {u.email: u.role for u in app.workspace.raw.get_project(prod.id).users}
        assert users.get(ALEX) == "reviewer" and users.get(CHIDI) == "reviewer" and BEA not in users
        prog = app.workspace.programme()
        assert {e["email"] for e in prog.record.events("graduate-done")} == {ALEX, CHIDI}
        await pilot.press("p")
        await settle(app, pilot)
        assert plan_column(screen) == ["= done", "= done"]


async def test_without_decisions_it_says_how_to_decide(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="act")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_act(app, pilot)
        assert "No decisions to act on" in screen_text(app)
        await pilot.press("t", "p")
        await settle(app, pilot)
        assert "No annotator is decided 'retake' on their current round" in " ".join(screen_text(app).split())


async def test_the_views_open_from_the_palette(tmp_path):
    from tests.tui.helpers import run_in_palette

    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        for name, cls in (("Act on decisions", "ActScreen"), ("Gold audit", "AuditScreen"),
                          ("History", "HistoryScreen")):
            await run_in_palette(app, pilot, name)
            assert type(app.screen).__name__ == cls
            await pilot.press("escape")
            await settle(app, pilot)


async def test_a_new_choice_of_role_asks_for_a_new_plan(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="act")
    decided(app, {ALEX: "graduate"})
    onto = app.workspace.raw.list_ontologies()[0]
    prod = app.workspace.raw.create_project("Production", description="", dataset_ids=[], ontology_id=onto.id)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_act(app, pilot)
        await pilot.press("space", "p")
        await settle(app, pilot)
        assert screen.plan is not None and plan_column(screen) == ["+ add"]
        screen.query_one("#role").value = "team_manager"
        await pilot.pause()
        assert screen.plan is None and "press p to plan again" in screen_text(app)
        await pilot.press("a")  # no plan: nothing applied
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert ALEX not in {u.email for u in app.workspace.raw.get_project(prod.id).users}


async def test_escape_during_a_run_cancels_after_the_steps_in_flight_and_stays(tmp_path):
    import asyncio
    import threading

    app = make_app(tmp_path / "ws.db", start_screen="act")
    decided(app, {BEA: "retake"})
    backend = app.workspace.backend
    started, gate = threading.Event(), threading.Event()
    real = backend.add_users

    def held(*args, **kwargs):
        started.set()
        assert gate.wait(10)
        return real(*args, **kwargs)

    backend.add_users = held  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_act(app, pilot)
        await pilot.press("t", "p")
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")
        assert await asyncio.to_thread(started.wait, 10)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.cancel_event.is_set()
        assert any("Cancelling" in n.message for n in app._notifications)
        gate.set()
        await settle(app, pilot)
        assert app.screen is screen and not screen.busy
        text = " ".join(screen_text(app).split())
        assert "retake cancelled" in text and "Created 1 round project(s)" in text
        # the step in flight finished: planned again, nothing is left
        await pilot.press("p")
        await settle(app, pilot)
        assert plan_column(screen) == ["= done"]


async def test_a_hostile_project_title_is_offered_as_text(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="act")
    decided(app, {ALEX: "graduate"})
    onto = app.workspace.raw.list_ontologies()[0]
    app.workspace.raw.create_project("Prod\x1b[31m\u202eRED[b]x[/b]", description="", dataset_ids=[],
                                     ontology_id=onto.id)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_act(app, pilot)
        chooser = screen.query_one("#production", SelectionList)
        prompt = chooser.get_option_at_index(0).prompt
        plain = getattr(prompt, "plain", str(prompt))
        assert "\x1b" not in plain and "\u202e" not in plain and "[b]x[/b]" in plain
        await pilot.press("space", "p")
        await settle(app, pilot)
        cells = [getattr(c, "plain", str(c)) for c in screen.query_one("#plan-table", DataTable).get_row_at(0)]
        assert "[b]x[/b]" in cells[3] and "\x1b" not in cells[3] and "\u202e" not in cells[3]


def retake_applied(app, email: str) -> None:
    """``email``'s retake (decided on round 1) applied as the CLI would: they are on round 2 now."""
    from annotrain_tui.core.actions import apply_retake, plan_retake

    ws = app.workspace
    plan = plan_retake(ws.backend, ws.programme(), default_template=ws.settings.default_template)
    outcomes = apply_retake(ws.backend, plan, paths=ws.paths)
    assert [o.status for o in outcomes] == ["created"]
    assert ws.programme().trainees[email].round == 2


async def test_only_decisions_on_each_trainees_current_round_are_counted(tmp_path):
    """Trial 16 item 9: a retake decided on round 1 and applied (the trainee now on round 2) was
    still counted as "1 'retake'"."""
    app = make_app(tmp_path / "ws.db", start_screen="act")
    decided(app, {BEA: "retake", ALEX: "graduate"})
    retake_applied(app, BEA)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_act(app, pilot)
        assert screen.decided == {"graduate": 1}
        await pilot.press("t")
        await pilot.pause()
        assert "1 trainee(s) decided 'graduate', 0 'retake'" in " ".join(screen_text(app).split())


async def test_r_reads_the_projects_and_decisions_again(tmp_path):
    """Trial 16 item 15: a production project made while Act was open was not offered until the
    screen was left and opened again; r re-reads the projects and the decisions."""
    app = make_app(tmp_path / "ws.db", start_screen="act")
    decided(app, {ALEX: "graduate"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_act(app, pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "r Reload" in footer and "esc Back" in footer  # the footer names the key, and keeps Escape
        chooser = screen.query_one("#production", SelectionList)
        assert chooser.option_count == 0 and "No production project" in " ".join(screen_text(app).split())
        onto = app.workspace.raw.list_ontologies()[0]
        prod = app.workspace.raw.create_project("Production made meanwhile", description="", dataset_ids=[],
                                                ontology_id=onto.id)
        decided(app, {CHIDI: "graduate"})  # and a decision taken in the CLI meanwhile
        await pilot.press("r")
        await settle(app, pilot)
        assert [chooser.get_option_at_index(i).value for i in range(chooser.option_count)] == [prod.id]
        assert screen.decided == {"graduate": 2}
        chooser.focus()
        await pilot.press("space", "p")
        await settle(app, pilot)
        assert plan_column(screen) == ["+ add", "+ add"]
        # a refresh makes the plan shown stale: it asks for a new one, and a applies nothing meanwhile
        await pilot.press("r")
        await settle(app, pilot)
        assert screen.plan is None and "Press p to plan again" in " ".join(screen_text(app).split())
        assert chooser.selected == [prod.id]  # the tick is kept
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)


async def test_with_no_benchmark_at_all_one_clause_says_so(tmp_path):
    """Trial 16 item 16: "No programme: the workspace has no programme yet: no benchmark project (…)"."""
    import sqlite3

    app = make_app(tmp_path / "ws.db", start_screen="act")
    with sqlite3.connect(tmp_path / "ws.db") as db:  # no benchmark left: no marker, no such title
        db.execute("UPDATE projects SET description = '', title = 'Street project ' || id")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_act(app, pilot)
        text = " ".join(screen_text(app).split())
        assert "No programme yet: set up a benchmark first (3 on Home)." in text
        assert "no benchmark project" not in text and "no programme yet" not in text
