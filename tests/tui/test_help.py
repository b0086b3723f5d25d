"""F1 lists the screen's own keys first, each binding once with its real keys (trial items 20, 37:
`F8 Next` twice where the second was Ctrl+N, `[ ] Next tab`, 30 generic widget keys first)."""

from __future__ import annotations

from textual.widgets import Static

from annotrain_tui.tui.screens.help import WIDGET_SECTION, HelpScreen
from annotrain_tui.tui.widgets.footer import KeyFooter
from tests.tui.helpers import make_app, settle


def help_text(app) -> str:
    """Every part of the help, in order, as the terminal would print it (tables included)."""
    import io

    from rich.console import Console

    console = Console(width=100, file=io.StringIO(), record=True, color_system=None)
    for w in app.screen.query(Static):
        console.print(w.content)
    return console.export_text()


async def test_the_screens_keys_come_first_then_the_apps_then_the_widgets(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        titles = [title for title, _ in app.screen._sections]
        assert titles[0] == "Keys of this screen" and titles[1] == "Keys everywhere"
        assert titles[-1].startswith("Keys of the focused widget")
        own = {bid for _keys, _desc, bid in app.screen._sections[0][1]}
        assert "home.refresh" in own and "app.quit" not in own
        # Textual's Tab/Shift+Tab are everywhere, not the screen's own
        assert "Focus Next" not in {desc for _k, desc, _b in app.screen._sections[0][1]}
        text = help_text(app)
        assert text.index("Refresh") < text.index("Quit") < text.index("Cursor down")


async def test_a_key_display_never_hides_the_real_key(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "[ ]" not in app.screen.query_one(KeyFooter).plain
        await pilot.press("f1")
        rows = {bid: keys for keys, _desc, bid in app.screen.key_rows}
        assert rows["home.tab_next"] == "]" and rows["home.tab_prev"] == "["
        assert "[ ]" not in help_text(app)


async def test_a_binding_with_two_keys_is_one_row_naming_both(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="manifest")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        rows = app.screen.key_rows
        by_id = {bid: keys for keys, _desc, bid in rows}
        assert by_id["manifest.next"] == "F8, ^n"
        assert by_id["manifest.fix"] == "F4, ^."
        ids = [bid for _k, _d, bid in rows if bid]
        assert len(ids) == len(set(ids)), "a binding listed twice"


async def test_widget_help_comes_from_the_screens_registry_first(tmp_path):
    from annotrain_tui.tui.screens.base import widget_help

    app = make_app(tmp_path / "ws.db", start_screen="doctor")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        focused = screen.focused
        assert focused is not None
        type(screen).WIDGET_HELP = {focused.id or "": "From the registry."}
        try:
            if focused.id:
                assert widget_help(screen, focused) == "From the registry."
                await pilot.press("f1")
                assert "From the registry." in help_text(app)
        finally:
            del type(screen).WIDGET_HELP


async def test_help_names_the_keys_of_the_users_keymap(tmp_path):
    app = make_app(tmp_path / "ws.db", keymap={"home.refresh": "f9"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f1")
        rows = {bid: keys for keys, _desc, bid in app.screen.key_rows}
        assert rows["home.refresh"] == "F9"


async def test_keys_a_focused_field_takes_as_text_are_still_listed_and_marked(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="pick")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")  # the filter field has the focus: n, r, m type text now
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        rows = {bid: desc for _keys, desc, bid in app.screen.key_rows}
        assert rows["pick.new_folder"].endswith("(not while typing in a field)")
        assert not rows["app.help"].endswith("(not while typing in a field)")


# --- one row per key, nothing raw, nothing cut (the latest trial) -----------------------------------

def rows_of(app, section: str) -> list[tuple[str, str, str]]:
    return next(rows for title, rows in app.screen._sections if title.startswith(section))


async def open_help(app, pilot, *keys: str) -> HelpScreen:
    await settle(app, pilot)
    for key in keys:
        await pilot.press(key)
        await settle(app, pilot)
    await pilot.press("f1")
    await pilot.pause()
    assert isinstance(app.screen, HelpScreen)
    return app.screen


async def test_keys_everywhere_lists_each_key_once_and_no_internal_binding(tmp_path):
    for start in ("home", "evaluation", "manifest"):
        app = make_app(tmp_path / f"{start}.db", start_screen=start)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_help(app, pilot)
            everywhere = rows_of(app, "Keys everywhere")
            keys = [k for keys, _d, _b in everywhere for k in keys.split(", ")]
            assert len(keys) == len(set(keys)), (start, everywhere)
            tab = [(d, b) for keys, d, b in everywhere if "tab" in keys.split(", ")]
            assert tab == [("Next field", "app.focus_next")]  # what Tab does: the app's priority binding
            assert [(d, b) for keys, d, b in everywhere if "shift+tab" in keys.split(", ")] == [
                ("Previous field", "app.focus_previous")]
            descriptions = {d for _title, rows in app.screen._sections for _k, d, _b in rows}
            assert "help_quit" not in descriptions and "Focus Next" not in descriptions


async def test_a_long_action_wraps_in_the_help_instead_of_being_cut(tmp_path):
    from textual.containers import VerticalScroll

    from tests.tui.helpers import screen_text

    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_help(app, pilot)
        scroll = app.screen.query_one(VerticalScroll)
        seen: list[str] = []
        while True:
            seen += screen_text(app).splitlines()
            if scroll.scroll_y >= scroll.max_scroll_y:
                break
            scroll.scroll_page_down(animate=False)
            await pilot.pause()
        palette = next(i for i, line in enumerate(seen) if "^p" in line and "Command palette" in line)
        assert "…" not in seen[palette]
        bar = set("│▁▂▃▄▅▆▇█▔▏▎▍▌▋▊▉")  # the frame and the scroll bar
        words = [w for w in " ".join(seen[palette:palette + 2]).split() if not set(w) <= bar]
        assert " ".join(words).startswith("^p Command palette (every action is there)")


async def test_the_item_screen_lists_the_canvas_keys_as_its_own_and_they_work_from_the_table(tmp_path):
    from annotrain_tui.tui.screens.evaluation import ItemScreen
    from annotrain_tui.tui.widgets.shape_canvas import ShapeCanvas

    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_help(app, pilot, "down", "enter", "enter")
        own = {bid: (keys, desc) for keys, desc, bid in rows_of(app, "Keys of this screen")}
        assert own["item.toggle_benchmark"] == ("b", "Benchmark")
        assert own["item.toggle_annotator"] == ("a", "Annotator")
        assert own["item.toggle_links"] == ("l", "Links")
        assert own["item.legend"] == ("k", "Legend")
        all_keys = [k for _title, rows in app.screen._sections for keys, _d, _b in rows for k in keys.split(", ")]
        assert all_keys.count("b") == 1  # not again as the canvas's
        await pilot.press("escape")
        screen = app.screen
        assert isinstance(screen, ItemScreen)
        canvas = screen.query_one(ShapeCanvas)
        await pilot.press("tab")  # the shapes table has the focus now
        assert screen.focused is not canvas
        await pilot.press("b", "l")
        assert not canvas.show_benchmark and not canvas.show_links


async def test_the_drill_downs_help_lists_the_sort_keys_it_mentions(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    async with app.run_test(size=(100, 30)) as pilot:
        help_screen = await open_help(app, pilot, "down", "enter")
        assert "s/S sort" in (help_screen._screen_help or "")
        rows = {bid: (keys, desc) for keys, desc, bid in help_screen.key_rows}
        assert rows["table.sort"] == ("s", "Sort") and rows["table.reverse"] == ("S", "Reverse")
        assert "Sort" in help_text(app) and "Reverse" in help_text(app)


async def test_each_key_is_listed_once_on_evaluation_and_the_manifest_editor(tmp_path):
    """Trial: esc twice (evaluation.back and app.back; manifest.back and app.back): the screen's
    binding is what the key does there, so it is the one row."""
    for start, back in (("evaluation", "evaluation.back"), ("manifest", "manifest.back")):
        app = make_app(tmp_path / f"{start}.db", start_screen=start)
        async with app.run_test(size=(100, 30)) as pilot:
            await open_help(app, pilot)
            # the screen's keys and the app's (the focused widget's own section may say what a key
            # does inside it first: the manifest's field clears on esc, then esc is Back)
            rows = [row for title, section in app.screen._sections if not title.startswith(WIDGET_SECTION)
                    for row in section]
            keys = [k for keys, _d, _b in rows for k in keys.split(", ")]
            assert len(keys) == len(set(keys)), (start, sorted(k for k in keys if keys.count(k) > 1))
            assert [b for keys, _d, b in rows if "esc" in keys.split(", ")] == [back]
