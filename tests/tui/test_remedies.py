"""What the TUI says for a core hint's action (tui/remedies.py): the key that does it here, never a
CLI command that this very screen has a key for (trial item 17)."""

from __future__ import annotations

from textual.widgets import Input, Select

from annotrain_tui.core.errors import Conflict, NotFound
from annotrain_tui.core.remedies import ACTIONS, see
from annotrain_tui.tui.remedies import WAYS, Shell, error_text, remedy_text
from annotrain_tui.tui.screens.benchmark import BenchmarkScreen
from tests.tui.helpers import make_app, settle

#: actions no screen does, on purpose (the CLI's own options, set-up done before the app runs)
NO_TUI_WAY = {"register.create_folder", "benchmark.link_folder", "jobs.list_all", "sandbox.init",
              "sandbox.init_demo", "sandbox.replace_demo"}


def test_every_action_has_a_tui_way_or_is_listed_as_having_none():
    assert set(WAYS) <= set(ACTIONS)
    assert set(ACTIONS) - set(WAYS) == NO_TUI_WAY


async def test_a_taken_dataset_title_on_the_benchmark_screen_names_its_key(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="benchmark")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, BenchmarkScreen)
        folder = next(f for f in app.workspace.raw.list_folders() if f.name == "Street Scenes")
        screen.query_one("#folder", Select).value = folder.id
        screen.query_one("#dataset-title", Input).value = "Annotator Training Set"  # the demo's
        await pilot.press("c")
        await settle(app, pilot)
        toasts = [n.message for n in app._notifications if "already exists" in n.message]
        assert len(toasts) == 1
        assert "link the folder into it, or choose another title; press v to verify the dataset" in toasts[0]
        assert "annotrain" not in toasts[0]


async def test_from_another_screen_it_says_where_and_follows_the_keymap(tmp_path):
    app = make_app(tmp_path / "ws.db", keymap={"benchmark.verify": "ctrl+e", "home.flow.benchmark": "b"})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        err = Conflict("a dataset titled 'X' already exists", hint="choose another title", see="benchmark.verify")
        assert error_text(err, app) == ("a dataset titled 'X' already exists (choose another title; press ^e on "
                                        "Benchmark (b on Home) to verify the dataset against its folder)")
        # a listing is where to look; the Home screen is named as such
        assert remedy_text("projects.list", app, app.screen) == "see the Projects tab"
        assert remedy_text("folders.list", app, app.screen) == (
            "see the folders listed on Pick integration and folder (1 on Home)")
        # an action only the command line does is said as one, marked so; one no screen does adds nothing
        assert remedy_text(see("config.set", key="ssh_key_path", value="PATH"), app, app.screen) == (
            "in a shell: annotrain config set ssh_key_path PATH")
        assert remedy_text("benchmark.link_folder", app, app.screen) == ""
        plain = NotFound("no project 'X'", see="benchmark.link_folder")
        assert error_text(plain, app) == "no project 'X'"


def test_shell_ways_name_only_config_commands_and_split():
    """The shell only for what no screen does: the settings, splitting a manifest (the editor
    cannot even open one too big for it), and an offline evaluation that counts unfinished tasks."""
    assert {a for a, w in WAYS.items() if isinstance(w, Shell)} == {"config.show", "config.paths", "config.reset",
                                                                       "config.set", "manifest.split",
                                                                       "evaluate.include_incomplete"}


async def test_every_way_names_a_screen_and_a_binding_that_exist(tmp_path):
    from annotrain_tui.tui.remedies import Way, _binding

    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        for action, way in WAYS.items():
            if isinstance(way, Way):
                assert way.flow in app.factories, action
                assert way.binding is None or _binding(app, way.flow, way.binding) is not None, action
                assert way.binding is not None or way.look or way.flow != "home", action


async def test_the_editor_says_a_diagnostics_actions_as_its_keys(tmp_path):
    """A manifest hint names actions by id (core/manifest): the editor's detail pane says them as
    this app does them (the Register screen's batch key; the shell for splitting), no CLI option."""
    import json

    from textual.widgets import Static

    path = tmp_path / "many.json"
    path.write_text(json.dumps({"videos": [{"objectUrl": f"https://b.s3.eu-west-1.amazonaws.com/v{i}.mp4"}
                                           for i in range(101)]}))
    app = make_app(tmp_path / "ws.db", start_screen="manifest", options={"manifest": str(path)})
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            await settle(app, pilot)
            if app.screen.diagnostics:
                break
        screen = app.screen
        (d,) = screen.diagnostics
        assert d.code == "batch-size"
        detail = str(screen.query_one("#me-detail", Static).render())
        assert d.message in detail
        assert "press b on Register files to register in batches" in detail
        assert f"in a shell: annotrain manifest split {path} --out-dir DIR" in detail
        assert "--batch" not in detail
