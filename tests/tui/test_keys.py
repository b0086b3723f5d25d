"""Keys behave the same everywhere (trial items 8, 9, 27; issue 13 item 10)."""

from __future__ import annotations

from textual import events

from annotrain_tui.tui.widgets.dialogs import FormDialog
from annotrain_tui.tui.widgets.inputs import SafeInput
from tests.tui.helpers import make_app, settle

BURST = ["/", "A", "tab", "d", "e", "s", "c", "tab", "k", "=", "v"]


def burst(app, keys: list[str]) -> None:
    """Keys as a paste or an SSH burst delivers them: all queued before the app handles the first."""
    for key in keys:
        char = {"tab": None, "=": "="}.get(key, key)
        key_name = {"/": "slash", "=": "equals_sign"}.get(key, key)
        app.post_message(events.Key(key_name, char))


async def open_form(app, pilot) -> FormDialog:
    app.push_screen(FormDialog("New folder", [("path", "Path", ""), ("description", "Description", ""),
                                              ("metadata", "Metadata", "")]))
    await pilot.pause()
    assert isinstance(app.screen, FormDialog)
    return app.screen


async def test_keys_typed_in_the_same_burst_as_tab_go_to_the_next_field(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        form = await open_form(app, pilot)
        burst(app, BURST)
        await settle(app, pilot)
        values = {k: form.query_one(f"#field-{k}", SafeInput).value for k in ("path", "description", "metadata")}
        assert values == {"path": "/A", "description": "desc", "metadata": "k=v"}


async def test_pilot_presses_with_tab_fill_the_fields_in_order(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        form = await open_form(app, pilot)
        await pilot.press("/", "A", "tab", "d", "e")
        assert form.query_one("#field-path", SafeInput).value == "/A"
        assert form.query_one("#field-description", SafeInput).value == "de"
        await pilot.press("shift+tab", "x")
        assert form.query_one("#field-path", SafeInput).value == "/Ax"


async def test_escape_in_a_filter_clears_it_then_leaves_it_never_the_screen(tmp_path):
    from annotrain_tui.tui.screens.pick import PickScreen

    app = make_app(tmp_path / "ws.db", start_screen="pick")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", "z", "z")
        field = app.screen.query_one("#filter", SafeInput)
        assert app.screen.focused is field and field.value == "zz"
        await pilot.press("escape")
        assert isinstance(app.screen, PickScreen) and field.value == "" and app.screen.focused is field
        await pilot.press("escape")
        assert isinstance(app.screen, PickScreen) and app.screen.focused is not field
        await pilot.press("escape")
        assert not isinstance(app.screen, PickScreen)  # now Escape is the screen's Back


async def test_escape_in_a_dialog_field_cancels_the_dialog(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        answers = []
        app.push_screen(FormDialog("New folder", [("path", "Path", "")]), answers.append)
        await pilot.pause()
        await pilot.press("a", "b", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog) and answers == [None]


async def test_enter_in_a_form_field_submits(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        answers = []
        app.push_screen(FormDialog("New folder", [("path", "Path", "/x")]), answers.append)
        await pilot.pause()
        await pilot.press("y", "enter")
        await pilot.pause()
        assert answers == [{"path": "/xy"}]


async def test_home_and_end_go_to_the_first_and_last_row_of_a_data_table(tmp_path):
    from annotrain_tui.tui.widgets.tables import SafeDataTable

    app = make_app(tmp_path / "ws.db", start_screen="progress")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(SafeDataTable)
        table.focus()
        assert table.row_count >= 2
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_x == 0


async def test_i_on_a_data_table_row_shows_it_whole(tmp_path):
    from annotrain_tui.tui.widgets.detail import RowDetail
    from annotrain_tui.tui.widgets.tables import SafeDataTable

    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(SafeDataTable)
        table.focus()
        await pilot.press("i")
        assert isinstance(app.screen, RowDetail)
        columns = [c for c, _ in app.screen.record]
        assert columns[0] == "Title" and "ID" in columns
        value = dict(app.screen.record)["ID"]
        assert len(value) == 36  # the whole id, cut to its column in the table
        body = app.screen.query_one("#detail-body")
        assert body.region.width <= 80


async def test_a_keymap_can_rebind_the_shared_widgets_keys(tmp_path):
    from annotrain_tui.tui.widgets.tables import SafeDataTable

    app = make_app(tmp_path / "ws.db", start_screen="progress", keymap={"table.last": "ctrl+l"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert not [n for n in app._notifications if "Unknown binding" in n.message]
        table = app.screen.query_one(SafeDataTable)
        table.focus()
        await pilot.press("ctrl+l")
        assert table.cursor_row == table.row_count - 1


async def test_a_widget_that_binds_tab_itself_keeps_it(tmp_path):
    from textual.binding import Binding
    from textual.widgets import Static

    from annotrain_tui.tui.screens.base import AppScreen

    class Indenting(SafeInput):
        BINDINGS = [Binding("tab", "indent", "Indent")]

        def action_indent(self) -> None:
            self.insert_text_at_cursor("    ")

    class TabScreen(AppScreen):
        def compose(self):
            yield Indenting(id="a")
            yield SafeInput(id="b")
            yield Static("")

    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = TabScreen()
        await app.push_screen(screen)
        screen.query_one("#a").focus()
        await pilot.press("x", "tab", "y")
        assert screen.query_one("#a", SafeInput).value == "x    y"
        assert screen.focused is screen.query_one("#a")


# -- the keymap's ids: one list for the launch check and `config set` ------------------------------

def _declared_ids() -> set[str]:
    """Every ``Binding(..., id="…")`` written in the package's source (constant ids; ids built from a
    table, like Home's ``home.flow.*``, are read by the class walk itself)."""
    import ast
    from pathlib import Path

    import annotrain_tui

    root = Path(annotrain_tui.__file__).parent
    ids = set()
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Binding":
                for kw in node.keywords:
                    if kw.arg == "id" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        ids.add(kw.value.value)
    return ids


def test_every_binding_id_in_the_source_is_known_to_the_keymap():
    from annotrain_tui.cli.config_cmd import binding_ids as config_ids
    from annotrain_tui.tui.keys import binding_ids

    declared = _declared_ids()
    # the dialogs and widgets a hand-kept list of classes missed (trial: "unknown binding id" at launch)
    assert {"unsaved.save", "template.cancel", "message.close", "fix.apply", "annotator.toggle",
            "item.next_frame"} <= declared
    assert declared - binding_ids() == set()
    assert config_ids() == binding_ids()  # `config set` accepts exactly what the launch check knows
    assert {f"home.flow.{f}" for f in ("pick", "manifest", "benchmark", "provision", "evaluation")} <= binding_ids()


async def test_a_keymap_entry_for_a_dialogs_binding_is_no_unknown_id_at_launch(tmp_path):
    app = make_app(tmp_path / "ws.db", keymap={"unsaved.save": "ctrl+w", "app.hlep": "f2"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        warnings = [n.message for n in app._notifications if "Unknown binding" in n.message]
        assert len(warnings) == 1 and "'app.hlep'" in warnings[0]  # the check runs, and says a real typo
        assert "unsaved.save" not in warnings[0]
        assert app._keymap.get("unsaved.save") == "ctrl+w"  # applied, not dropped as unknown


async def test_escape_in_the_editors_path_field_clears_it_before_it_leaves(tmp_path):
    """Trial: the manifest editor's path field was the one plain Input: Escape left the screen
    with the typed path still in it."""
    from annotrain_tui.tui.screens.manifest_editor import ManifestEditorScreen
    from tests.tui.helpers import make_app, settle

    app = make_app(tmp_path / "ws.db", start_screen="manifest")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        field = app.screen.query_one("#me-path")
        field.focus()
        field.value = ""
        await pilot.press(*"/tmp/foo.json")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ManifestEditorScreen) and field.value == ""
        await pilot.press("escape")  # empty: leaves the field, still on the editor
        await pilot.pause()
        assert isinstance(app.screen, ManifestEditorScreen) and app.screen.focused is not field


async def test_a_cleared_table_forgets_the_widths_of_its_old_rows():
    """Trial: after a roster with a 66-character name, the next roster's columns stayed that wide."""
    from textual.app import App

    from annotrain_tui.tui.widgets.tables import SafeDataTable

    class Host(App[None]):
        def compose(self):
            yield SafeDataTable(id="t")

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(SafeDataTable)
        table.add_column("Name", key="name")
        table.add_column("Email", key="email")
        table.add_row("N" * 66, "a@example.com")
        await pilot.pause()
        assert table.columns["name"].content_width == 66
        table.clear()
        table.add_row("Alex Kim", "alex.kim@example.com")
        await pilot.pause()
        assert table.columns["name"].content_width == len("Alex Kim")
        assert table.columns["email"].content_width == len("alex.kim@example.com")


async def test_keys_typed_in_the_same_burst_as_slash_go_into_the_pick_filter(tmp_path):
    """Trial: on Pick, '/Az' typed fast left the filter empty (the keys after '/' reached the table
    before the bubbled '/' moved the focus). In the field, '/' is typed like any character."""
    from textual.widgets import Input

    app = make_app(tmp_path / "ws.db", start_screen="pick")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        burst(app, ["/", "A", "z", "/", "b"])
        await settle(app, pilot)
        assert app.screen.query_one("#filter", Input).value == "Az/b"


async def test_a_folder_path_the_server_would_refuse_keeps_the_form_open(tmp_path):
    """Trial (own check): '/X/../y' closed the form and lost what was typed; the refusal came from
    the worker. The same core rule (registration.folder_path_names) now runs in the form."""
    from textual.widgets import Static

    app = make_app(tmp_path / "ws.db", start_screen="pick")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormDialog)
        for bad, why in (("/X/../y", "cannot be a folder name"), ("/X/./y", "cannot be a folder name")):
            form.query_one("#field-path", SafeInput).value = bad
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is form, bad  # still open
            assert why in str(form.query_one("#form-error", Static).render())
        assert not [f for f in app.workspace.raw.list_folders() if f.path.startswith("/X")]
