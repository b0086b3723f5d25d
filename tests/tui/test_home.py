"""The app shell driven as a user would, with Textual's Pilot."""

from __future__ import annotations

from textual.widgets import DataTable, Static, TabbedContent

from annotrain_tui.tui.screens.help import HelpScreen
from annotrain_tui.tui.screens.home import HomeScreen
from tests.tui.helpers import make_app, settle


def _cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_home_shows_the_workspace(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        projects = _cells(app.screen.query_one("#table-projects", DataTable))
        assert [r[0] for r in projects][:2] == ["Benchmark Labels", "Annotator Training - Alex Kim"]
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "7 integrations" in summary and "4 projects" in summary
        bench = str(app.screen.query_one("#bench-label", Static).render())
        assert "60/60 Complete" in bench and "3 trainees" in bench


async def test_tabs_switch_with_the_keyboard(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("right_square_bracket")
        assert app.screen.query_one(TabbedContent).active == "tab-folders"
        folders = _cells(app.screen.query_one("#table-folders", DataTable))
        assert folders[3][:2] == ["/Training Data/Street Scenes", "60"]
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert app.screen.query_one(TabbedContent).active == "tab-datasets"


async def test_f1_and_question_mark_open_help_with_binding_ids(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for key in ("f1", "question_mark"):
            await pilot.press(key)
            assert isinstance(app.screen, HelpScreen)
            text = " ".join(str(w.render()) for w in app.screen.query(Static))
            assert "Focused widget" in text and "Rebind any key" in text
            rows = {bid: (keys, desc) for keys, desc, bid in app.screen._key_rows}
            assert rows["home.refresh"] == ("r", "Refresh")
            assert rows["app.quit"][1] == "Quit"
            await pilot.press("escape")
            assert isinstance(app.screen, HomeScreen)


async def test_command_palette_runs_namespaced_commands(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"App: Help")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_a_user_keymap_rebinds_by_id_and_reports_unknown_ids(tmp_path):
    app = make_app(tmp_path / "ws.db", keymap={"app.help": "f2", "hepl": "f3"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        notes = [n.message for n in app._notifications]
        assert any("'hepl'" in m for m in notes)
        await pilot.press("f2")
        assert isinstance(app.screen, HelpScreen)


async def test_hostile_titles_are_shown_literally(tmp_path):
    app = make_app(tmp_path / "ws.db")
    raw = app.workspace.raw
    onto = raw.list_ontologies()[0]
    hostile = "[bold red]pwn[/] \x1b[31m=HYPERLINK(\"x\") Ünïcødé 🚀"
    raw.create_project(hostile, description="", dataset_ids=[], ontology_id=onto.id)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#table-projects", DataTable)
        titles = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        shown = next(t for t in titles if "pwn" in t)
        assert "[bold red]pwn[/]" in shown  # markup not interpreted
        assert "\x1b" not in shown and "\\x1b[31m" in shown  # escape made visible, not emitted
        assert "Ünïcødé 🚀" in shown and '=HYPERLINK("x")' in shown


async def test_unavailable_flows_say_so_instead_of_failing(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.factories.pop("provision", None)
        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert any("Provision" in n.message for n in app._notifications)


async def test_a_failed_load_says_so_instead_of_loading_forever(tmp_path, monkeypatch):
    """Found by a trial: after the workspace failed to load (a toast), Home kept 'Loading workspace…'."""
    from annotrain_tui.core.errors import PermissionDenied
    from annotrain_tui.tui.screens import home

    calls = []

    def failing(backend):
        calls.append(1)
        if len(calls) == 1:
            raise PermissionDenied("Encord refused the listing (403)")
        return real(backend)

    real = home.load_overview
    monkeypatch.setattr(home, "load_overview", failing)
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "Loading" not in summary and "Could not load the workspace" in summary and "403" in summary
        await pilot.press("r")
        await settle(app, pilot)
        assert "4 projects" in str(app.screen.query_one("#summary", Static).render())


async def test_a_keymap_entry_with_no_key_is_ignored_and_ctrl_q_still_quits(tmp_path):
    """A round-3 trial: keymap.app.quit = ',,,' left no key that quits the app."""
    app = make_app(tmp_path / "ws.db", keymap={"app.quit": ",,,"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert any("no key ignored" in n.message and "'app.quit'" in n.message for n in app._notifications)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0 or not app.is_running


async def test_home_names_the_benchmark_the_flows_open_and_says_there_are_more(tmp_path):
    """Trial: after planning against a second benchmark, 5 opened it while Home still named the
    first (Home took benchmarks[0], the flows the remembered one)."""
    from annotrain_tui.core.benchmark import create_benchmark_project
    from tests.tui.helpers import screen_text

    app = make_app(tmp_path / "ws.db")
    raw = app.workspace.raw
    ds = raw.create_dataset("Cohort A set")
    made = create_benchmark_project(raw, "Cohort A Bench", dataset_ref=ds.id,
                                    ontology_ref=raw.list_ontologies()[0].id)
    app.workspace.recent().set(benchmark=made.id)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        import re

        text = " ".join(re.sub(r"[━╸╺]+\s*\d+%", "", screen_text(app)).split())  # the line wraps around its bar
        assert "Benchmark Cohort A Bench: 0/0 Complete" in text and "1 of 2 programmes: P switches" in text


async def test_the_first_frame_is_drawn_before_the_tabs_and_the_first_load_waits_for_them(tmp_path, monkeypatch):
    """Issue 14 (the TUI's first paint): Home's first frame is its header, summary, flows and keys; the
    four tables mount right after it, each with its columns and the projects table focused, and the
    first load starts only then, so every row it brings has its table."""
    from annotrain_tui.tui.screens import home
    from tests.tui.helpers import screen_text

    before_tabs: list[tuple[int, bool]] = []
    real_mount = home.HomeScreen._mount_tabs

    async def mount_tabs(self):
        before_tabs.append((len(self.query(TabbedContent)), "5  Evaluate" in screen_text(self.app)))
        await real_mount(self)

    loads: list[bool] = []
    real_load = home.load_overview

    def load_overview(backend):
        loads.append(app.screen.tabs_ready)
        return real_load(backend)

    monkeypatch.setattr(home.HomeScreen, "_mount_tabs", mount_tabs)
    monkeypatch.setattr(home, "load_overview", load_overview)
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert before_tabs == [(0, True)]  # drawn with the flows, no tabs yet
        assert loads == [True]
        screen = app.screen
        assert {tab: [str(c.label) for c in screen.query_one(f"#table-{tab}", DataTable).columns.values()]
                for tab in home.TABS} == home.TABS
        assert screen.focused is screen.query_one("#table-projects", DataTable)
        assert [r[0] for r in _cells(screen.query_one("#table-projects", DataTable))][0] == "Benchmark Labels"


async def test_the_collector_held_over_the_start_up_is_on_again_once_home_is_drawn(tmp_path):
    """``annotrain`` holds the cyclic collector off over its start-up (core.startup); the TUI's ends
    with Home's first frame, and the app runs with the collector on."""
    import gc

    from annotrain_tui.core import startup

    app = make_app(tmp_path / "ws.db")
    startup.hold()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert gc.isenabled() and not startup.held()
            assert isinstance(app.screen, HomeScreen) and app.screen.tabs_ready
    finally:
        startup.release()
        gc.enable()
        gc.unfreeze()


def _flat(app) -> str:
    from tests.tui.helpers import screen_text

    return " ".join(screen_text(app).split())


async def test_the_flows_line_names_6_7_and_8_on_a_second_line_at_80_columns(tmp_path):
    """Trial 16 item 17: Home showed only 1–5; 6 (Act), 7 (Gold audit) and 8 (History) were in F1
    only. At 80 columns they go on a line of their own; at 120 they follow 5 on the same line."""
    from tests.tui.helpers import screen_text

    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        lines = screen_text(app).splitlines()
        first = next(i for i, line in enumerate(lines) if "1  Pick" in line)
        assert "5  Evaluate" in lines[first] and "6  Act" not in lines[first]
        assert all(k in lines[first + 1] for k in ("6  Act", "7  Gold audit", "8  History"))
        assert all(len(line.rstrip()) <= 80 for line in lines)
        await pilot.resize_terminal(120, 30)
        await settle(app, pilot)
        lines = screen_text(app).splitlines()
        row = next(line for line in lines if "1  Pick" in line)
        assert all(k in row for k in ("5  Evaluate", "6  Act", "7  Gold audit", "8  History"))
        await pilot.press("7")  # the keys named open their flows
        await settle(app, pilot)
        assert type(app.screen).__name__ == "AuditScreen"


async def test_home_says_the_programmes_state_and_next_step(tmp_path):
    """Trial 16 item 17: the state and next step were only in the Programmes view (P). Home says
    them for the current programme, and r reads them again after a decision."""
    app = make_app(tmp_path / "ws.db")
    prog = app.workspace.programme()
    assert prog.state == "ready for decisions"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert f"Programme: ready for decisions. Next: {prog.next_step}" in _flat(app)
        finished = [t for t in prog.trainees.values() if t.current.finished]
        for t in finished:  # a decision taken meanwhile (the CLI's decide)
            prog.record.decide(t.email, "graduate", round=t.round)
        after = app.workspace.programme()
        assert after.state != prog.state
        await pilot.press("r")
        await settle(app, pilot)
        assert f"Programme: {after.state}. Next: {after.next_step}" in _flat(app)


async def test_the_programme_is_read_off_the_ui_thread_and_not_on_every_automatic_refresh(tmp_path):
    """Reading the programme lists every training project's label rows: never on the event loop, and
    the 30-second refresh asks for it only every PROGRAMME_EVERY ticks (r and coming back always do)."""
    import threading

    app = make_app(tmp_path / "ws.db")
    ws = app.workspace
    real = ws.programme
    threads: list[bool] = []

    def counted(ref=None):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(ref)

    ws.programme = counted  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, HomeScreen)
        assert threads == [False]
        for _ in range(HomeScreen.PROGRAMME_EVERY - 1):
            screen._refresh_tick()
            await settle(app, pilot)
        assert threads == [False]  # the overview only
        screen._refresh_tick()
        await settle(app, pilot)
        assert threads == [False, False]
        await pilot.press("r")
        await settle(app, pilot)
        assert threads == [False, False, False]


async def test_home_says_nothing_of_a_programme_when_there_is_no_benchmark(tmp_path):
    import sqlite3

    app = make_app(tmp_path / "ws.db")
    with sqlite3.connect(tmp_path / "ws.db") as db:
        db.execute("UPDATE projects SET description = '', title = 'Street project ' || id")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        text = _flat(app)
        assert "No benchmark project yet" in text and "Programme" not in text
