"""The provisioning screen driven with Pilot: open, edit, plan, apply, retry; bad rosters."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static

from annotrain_tui.core.errors import Transient
from annotrain_tui.core.markers import parse_training_marker
from annotrain_tui.tui.screens.progress import ProgressScreen
from annotrain_tui.tui.screens.provision import ProvisionScreen
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog
from tests.tui.helpers import make_app, settle


def plan_column(screen) -> dict[str, str]:
    table = screen.query_one("#roster-table", DataTable)
    return {str(table.get_row_at(i)[2]): str(table.get_row_at(i)[3]) for i in range(table.row_count)}


async def test_open_edit_plan_apply(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nAlex Kim,alex.kim@example.com\nNew Person,new@example.com\n", encoding="utf-8")
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        assert len(screen.entries) == 2
        # add a row through the form, keyboard only
        await pilot.press("a")
        assert isinstance(app.screen, FormDialog)
        await pilot.press(*"Zoë Ñ")
        await pilot.press("tab")
        await pilot.press(*"zoe@example.com")
        await pilot.press("enter")
        await pilot.pause()
        assert [e.name for e in screen.entries] == ["Alex Kim", "New Person", "Zoë Ñ"] and screen.dirty
        await pilot.press("p")
        await settle(app, pilot)
        plans = plan_column(screen)
        assert plans == {"alex.kim@example.com": "= done", "new@example.com": "+ create",
                         "zoe@example.com": "+ create"}
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        plans = plan_column(screen)
        assert plans["new@example.com"] == "✓ created" and plans["zoe@example.com"] == "✓ created"
        bench = app.demo_ids["benchmark"]
        emails = sorted(parse_training_marker(p.description)[1] for p in app.workspace.raw.list_projects()
                        if parse_training_marker(p.description))
        assert "zoe@example.com" in emails and "new@example.com" in emails and len(emails) == 5
        assert all(parse_training_marker(p.description)[0] == bench for p in app.workspace.raw.list_projects()
                   if parse_training_marker(p.description))
        # save writes the edited roster atomically
        await pilot.press("s")
        assert "zoe@example.com" in roster.read_text(encoding="utf-8") and not screen.dirty


async def test_a_bad_roster_lists_problems_and_cannot_be_applied(tmp_path):
    roster = tmp_path / "bad.csv"
    roster.write_text("name,email\nA,not-an-email\n,b@example.com\n", encoding="utf-8")
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        problems = str(app.screen.query_one("#problems", Static).render())
        assert "2 problem(s)" in problems and "bad.csv:2:2: invalid email" in problems
        assert "bad.csv:3:1: missing name" in problems
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.plan is None
        assert any("Fix the roster" in n.message for n in app._notifications)


async def test_failures_are_listed_and_retried(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nOne,one@example.com\nTwo,two@example.com\n", encoding="utf-8")
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)},
                   retry_attempts=1)
    raw = app.workspace.raw
    real_add = raw.add_users
    failing = {"two@example.com"}

    def flaky_add(project_id, emails, role="annotator"):
        if set(emails) & failing:
            raise Transient("503 from the server", acted=False)
        return real_add(project_id, emails, role)

    raw.add_users = flaky_add
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        await pilot.press("x", "y")
        await settle(app, pilot)
        screen = app.screen
        assert plan_column(screen) == {"one@example.com": "✓ created", "two@example.com": "✗ failed"}
        assert "503" in (screen.outcomes["two@example.com"].error or "")
        failing.clear()
        await pilot.press("f")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        # the project was made on the first try; the retry only invites, it does not create again
        assert plan_column(screen)["two@example.com"] == "✓ invited"
        titles = [p.title for p in raw.list_projects() if p.title == "Annotator Training - Two"]
        assert len(titles) == 1


async def test_progress_view_shows_each_annotator(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="progress")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, ProgressScreen)
        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert rows == {"alex.kim@example.com": "60/60", "bea.santos@example.com": "38/60",
                        "chidi.okafor@example.com": "14/60"}


async def test_typing_a_missing_roster_path_is_a_message_not_a_crash(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(tmp_path / "none.csv")})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert any("no such file" in n.message for n in app._notifications)
        app.screen.query_one("#roster-path", Input).focus()


async def test_conflicts_are_not_offered_a_retry_and_their_note_is_readable_at_80x24(tmp_path):
    """Trial items 18 and 22: after conflicts the screen said "Press f to retry the failures", and the
    note that says how to resolve one was cut off at 80 (and even 160) columns."""
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nDana Müller,dana.mueller@example.com\nNew Person,new@example.com\n",
                      encoding="utf-8")
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    raw = app.workspace.raw
    onto = raw.list_ontologies()[0]
    raw.create_project("Annotator Training - Dana Müller", description="made by hand", dataset_ids=[],
                       ontology_id=onto.id)
    seen: list = []
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("p")
        await settle(app, pilot)
        assert plan_column(screen)["dana.mueller@example.com"] == "! conflict"
        problems = str(screen.query_one("#problems", Static).render())
        assert "1 conflict(s) will not be provisioned" in problems
        await pilot.press("x", "y")
        await settle(app, pilot)
        problems = str(screen.query_one("#problems", Static).render())
        assert "1 in conflict" in problems and "Press f to retry" not in problems
        assert "give the annotator a 'title' in the roster" in problems
        # the whole note of the highlighted row, wrapped under the table
        table = screen.query_one("#roster-table", DataTable)
        table.move_cursor(row=0)
        await pilot.pause()
        note = screen.outcomes["dana.mueller@example.com"].error
        assert note and len(note) > 80
        detail = screen.query_one("#row-detail", Static)
        shown = " ".join(str(detail.render()).split())
        assert " ".join(note.split()) in shown and detail.size.width <= 80 and detail.size.height >= 2
        # the apply worker's named messages, observed as they were handled
        once = list({id(m): m for m in seen}.values())  # a message is seen at the screen and where it bubbles
        progressed = [m for m in once if isinstance(m, ProvisionScreen.Progressed)]
        applied = [m for m in once if isinstance(m, ProvisionScreen.Applied)]
        assert [(m.done, m.total) for m in progressed] == [(1, 2), (2, 2)]
        assert {m.outcome.status for m in progressed} == {"conflict", "created"}
        assert len(applied) == 1 and not applied[0].cancelled
        assert applied[0].outcomes["new@example.com"].status == "created"


async def test_a_failed_open_keeps_the_roster_that_is_open(tmp_path):
    """Trial item 19: after a failed open the field kept the failed path while s saved to the old file."""
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nOne,one@example.com\n", encoding="utf-8")
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        field = screen.query_one("#roster-path", Input)
        field.focus()
        field.value = str(tmp_path / "nope.csv")
        await pilot.press("enter")
        await pilot.pause()
        assert any("no such file" in n.message for n in app._notifications)
        assert field.value == str(roster) and screen.roster_path == roster


async def test_the_last_roster_is_opened_again_next_time(tmp_path):
    roster = tmp_path / "cohort.csv"
    roster.write_text("name,email\nOne,one@example.com\n", encoding="utf-8")
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
    assert app.workspace.recent().get("roster") == str(roster)
    again = make_app(tmp_path / "ws.db", start_screen="provision")  # same XDG dirs, same sandbox path
    again.workspace.recent().set(roster=str(roster))
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        assert again.screen.roster_path == roster and [e.email for e in again.screen.entries] == ["one@example.com"]


async def test_the_benchmark_select_lists_only_benchmarks(tmp_path):
    """Trial item 32: it listed every project, training projects included."""
    from textual.widgets import Select

    app = make_app(tmp_path / "ws.db", start_screen="provision")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        select = app.screen.query_one("#benchmark", Select)
        assert [value for _label, value in select._options if value is not Select.NULL] == [app.demo_ids["benchmark"]]
        assert select.value == app.demo_ids["benchmark"]


async def test_the_flow_keys_fit_the_footer_at_80_columns(tmp_path):
    """Trial item 23: at 80 columns the footer ended in 'f Retry f▏' and g Progress was invisible."""
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nOne,one@example.com\n", encoding="utf-8")
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        footer = app.screen.query_one("KeyFooter")
        line = str(footer.render())
        for key in ("p Plan", "x Apply", "f Retry failed", "g Progress", "F1 Help"):
            assert key in line, (key, line)
