"""One hostile string, everywhere a string can come from, through every TUI screen.

The string carries terminal escapes (OSC 0/2 window title, OSC 52 clipboard, CSI, the 8-bit CSI
\\x9b), BEL, NUL, CR, LF, TAB, bidi overrides, isolates and marks, a lone surrogate and Rich
markup. It is put into workspace, project, dataset, folder, integration, ontology, template and
item titles, an annotator's email and the createdBy of label rows, a class name, roster names, a
file name and an error message; then every screen is opened with Pilot and what the app renders
(the compositor's strips, which is what a terminal would be sent), the Header's title and
sub-title, the notifications and what goes to the clipboard (OSC 52) are checked: no raw
control, bidi, format or surrogate character, escapes shown visibly, markup shown literally.
"""

from __future__ import annotations

import base64
import json
import unicodedata
from pathlib import Path

from annotrain_tui.core.backends.sandbox.demo import GOLD_EMAIL
from annotrain_tui.core.backends.sandbox.labels import object_entry
from annotrain_tui.core.markers import training_description
from annotrain_tui.core.models import Provider
from annotrain_tui.tui.app import AnnotrainApp
from tests.tui.helpers import demo_workspace, settle

MARKUP = "[bold red]x[/]"
H = ("\x1b]0;pwn-title\x07\x1b]2;pwn2\x1b\\\x1b]52;c;cHduZWQ=\x07\x1b[2J\x9b31m\x00nul\rcr\nlf\ttab"
     "\u202eevil\u2066iso\u200fmark\udc80" + MARKUP + "[link=https://evil.example]click[/link]")
H_DB = H.replace("\udc80", "")  # SQLite text columns cannot hold a lone surrogate (JSON can)
H_NAME = H_DB.replace("/", "|")  # a folder name has no '/'
H_FILE = "".join(c for c in H if c not in "/\x00")  # what a file name can hold
H_MAIL = "m\x1b[2j\x9b31m\x00\x07\u202e\u2066\u200f@evil.example"  # survives the training marker

RAW_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def raw_chars(text: str | None) -> list[str]:
    return sorted({c for c in (text or "") if unicodedata.category(c) in RAW_CATEGORIES})


def screen_lines(app) -> list[str]:
    """The text of every cell the compositor would send to the terminal for the current screen."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    lines = []
    for chops in update.strips:  # one line: the strips of its chops, left to right
        lines.append("".join(seg.text for strip in chops for seg in strip if not seg.control))
    return lines


def check(app, where: str, *, expect: tuple[str, ...] = ()) -> str:
    lines = screen_lines(app)
    bad = sorted(set().union(*(raw_chars(line) for line in lines)))
    assert not bad, f"{where}: raw characters rendered: {bad!r}"
    text = "\n".join(lines)
    # the app's line filter (the last line of defence) replaces a raw character by U+FFFD: every
    # string must have been escaped visibly before, so the filter never has anything to do
    assert "\ufffd" not in text, f"{where}: a raw string reached the line filter:\n" + "\n".join(
        line.rstrip() for line in lines if "\ufffd" in line)
    for name, value in [("app.title", app.title), ("app.sub_title", app.sub_title),
                        ("screen.title", app.screen.title), ("screen.sub_title", app.screen.sub_title)]:
        assert not raw_chars(value), f"{where}: {name} is raw: {value!r}"
    for n in list(app._notifications):
        assert not raw_chars(n.message) and not raw_chars(n.title), f"{where}: raw toast {n.message!r}"
        assert not n.markup, f"{where}: a toast interprets markup: {n.message!r}"
    for piece in expect:
        assert piece in text, f"{where}: {piece!r} not shown literally in:\n" + "\n".join(
            line.rstrip() for line in lines if line.strip())
    return text


def hostile_app(tmp_path: Path, start: str = "home", options: dict | None = None, **settings) -> AnnotrainApp:
    # SQLite cannot open a path with a lone surrogate: the workspace's own name goes without it
    ws, ids = demo_workspace(tmp_path / f"ws{H_FILE.replace(chr(0xDC80), '')}.db", **settings)
    raw = ws.raw
    integration = raw.add_integration(H_DB, Provider.AWS)
    raw.create_folder(H_NAME, description=H_DB, metadata={"k": H})
    raw.create_dataset(H_DB, description=H_DB)
    raw.add_ontology(H_DB, [{"name": H_DB, "shape": "bounding_box", "color": "#E6194B"}])
    raw.add_template(H_DB, ["Annotate", "Complete"])
    # an item with a hostile title in the benchmark's dataset, labelled by the expert and a hostile trainee
    job = raw.start_registration(ids["folder"], integration.id,
                                 {"images": [{"objectUrl": "https://x.example/hostile.jpg", "title": H_DB}]})
    raw.get_registration_result(ids["folder"], job)
    item = next(i for i in raw.list_items(ids["folder"]) if i.name == H_DB)
    raw.link_items(ids["dataset"], [item.id])
    cls = raw.ontology_structure(ids["ontology"])["objects"][0]
    box = {"x": 0.2, "y": 0.2, "w": 0.3, "h": 0.3}

    def objs(who: str, h: str) -> list[dict]:
        o = object_entry(object_hash=h, ontology_object=cls, coordinates=box, frame=0, created_by=who)
        o["name"] = H  # the class name as the label row carries it
        return [o]

    raw.save_labels(ids["benchmark"], item.id, objs(GOLD_EMAIL, "b0000001"), stage="Complete")
    project = raw.create_project(H_DB, description=training_description(H_DB, H_MAIL, ids["benchmark"]),
                                 dataset_ids=[ids["dataset"]], ontology_id=ids["ontology"],
                                 template_id=ids["template"])
    raw.add_users(project.id, [H_MAIL])
    raw.save_labels(project.id, item.id, objs(H_MAIL, "a0000001"), stage="Complete")
    ws.warnings.append("a config warning: " + H)
    app = AnnotrainApp(ws, start_screen=start, screen_options=options)
    app.demo_ids = ids  # type: ignore[attr-defined]
    return app


def spy_terminal(app) -> list[str]:
    """Everything the app writes to the terminal driver outside the screen (OSC 52, titles)."""
    written: list[str] = []
    original = app._driver.write

    def write(data: str) -> None:
        written.append(data)
        original(data)

    app._driver.write = write
    return written


def check_terminal(written: list[str]) -> None:
    for data in written:
        assert "\x1b]0;" not in data and "\x1b]2;" not in data, f"window title written: {data!r}"
        if data.startswith("\x1b]52;c;"):
            payload = base64.b64decode(data[len("\x1b]52;c;"):].rstrip("\x07"))
            text = payload.decode("utf-8")
            assert not [c for c in raw_chars(text) if c not in "\n\t"], f"raw clipboard: {text!r}"


async def help_of(app, pilot, where: str) -> None:
    from annotrain_tui.tui.screens.help import HelpScreen

    await pilot.press("f1")
    await pilot.pause()
    assert isinstance(app.screen, HelpScreen)
    check(app, f"help of {where}")
    await pilot.press("escape")
    await pilot.pause()


async def test_home_pick_benchmark_and_help_show_hostile_text_literally(tmp_path):
    app = hostile_app(tmp_path)
    async with app.run_test(size=(240, 60)) as pilot:
        written = spy_terminal(app)
        await settle(app, pilot)
        check(app, "home", expect=(MARKUP, "\\x1b]0;pwn-title\\x07", "\\u202eevil"))
        assert "\\x1b" in app.screen.sub_title  # the workspace's location, escaped visibly
        for tab in ("folders", "integrations", "datasets"):
            await pilot.press("right_square_bracket")
            await pilot.pause()
            check(app, f"home {tab}", expect=("\\x1b",))
        await help_of(app, pilot, "home")
        await pilot.press("1")
        await settle(app, pilot)
        check(app, "pick", expect=(MARKUP,))
        await help_of(app, pilot, "pick")
        await pilot.press("escape")
        await pilot.press("3")
        await settle(app, pilot)
        screen = app.screen
        from textual.widgets import Input, Select

        for sel in ("folder", "dataset", "ontology", "template"):
            widget = screen.query_one(f"#{sel}", Select)
            hostile = [v for label, v in widget._options if "\\x1b" in str(label)]
            assert hostile, sel
            widget.value = hostile[-1]
        await pilot.pause()
        check(app, "benchmark", expect=(MARKUP,))
        screen.query_one("#bench-title", Input).value = H
        await pilot.pause()
        check(app, "benchmark title typed")
        await pilot.press("b")
        await pilot.pause()
        check(app, "create-benchmark confirmation", expect=("\\x1b]0;",))
        await pilot.press("n")
        await help_of(app, pilot, "benchmark")
        app.action_copy_workspace()
        await pilot.pause()
        check(app, "copy workspace")
        assert app.clipboard and not [c for c in raw_chars(app.clipboard) if c not in "\n\t"]
        check_terminal(written)


async def test_provision_progress_and_dialogs_show_hostile_text_literally(tmp_path):
    roster = tmp_path / f"roster{H_FILE}.csv"
    roster.write_text('name,email\n"' + H_DB + '",' + H_MAIL + "\nAlex Kim,alex.kim@example.com\n",
                      encoding="utf-8")
    app = hostile_app(tmp_path, "provision", {"roster": str(roster)})
    async with app.run_test(size=(240, 60)) as pilot:
        written = spy_terminal(app)
        await settle(app, pilot)
        check(app, "provision", expect=(MARKUP,))
        from textual.widgets import DataTable

        app.screen.query_one("#roster-table", DataTable).focus()
        await pilot.press("e")
        await pilot.pause()
        check(app, "edit dialog")
        await pilot.press("escape")
        await pilot.press("d")
        await pilot.pause()
        check(app, "delete confirmation", expect=("x[/]", "\\u202eevil"))
        await pilot.press("n")
        await help_of(app, pilot, "provision")
        # an error carrying a hostile file name
        from textual.widgets import Input

        path_input = app.screen.query_one("#roster-path", Input)
        path_input.value = str(tmp_path / ("missing" + H_FILE + ".csv"))
        path_input.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        text = check(app, "roster error toast")
        assert any("missing" in n.message for n in app._notifications) and "missing" in text
        await pilot.press("g")
        await settle(app, pilot)
        check(app, "progress", expect=(MARKUP, "\\x1b[2j"))
        await help_of(app, pilot, "progress")
        check_terminal(written)


async def test_register_screen_shows_hostile_paths_and_errors_literally(tmp_path):
    manifest = tmp_path / f"manifest{H_FILE}.json"
    manifest.write_text('{"images": [{"objectUrl": "' + json.dumps(H)[1:-1] + '"}]', encoding="utf-8")
    app = hostile_app(tmp_path, "register", {"manifest": str(manifest)})
    async with app.run_test(size=(240, 60)) as pilot:
        await settle(app, pilot)
        check(app, "register")
        await pilot.press("v")
        await settle(app, pilot)
        check(app, "register validation", expect=("\\x1b",))
        await help_of(app, pilot, "register")


async def test_evaluation_drill_down_copy_and_filters_show_hostile_text_literally(tmp_path):
    app = hostile_app(tmp_path, "evaluation", refresh_interval=3600)
    async with app.run_test(size=(240, 60)) as pilot:
        written = spy_terminal(app)
        await settle(app, pilot)
        from annotrain_tui.tui.screens.evaluation import AnnotatorScreen, ItemScreen
        from annotrain_tui.tui.widgets.frame_table import FrameTable

        check(app, "evaluation", expect=("\\x1b[2j",))
        table = app.screen.query_one("#annotators", FrameTable)
        keys = [table.frame["annotator"].iat[int(i)] for i in table.order]
        table.cursor_row = keys.index(H_MAIL.lower())
        await pilot.pause()
        check(app, "evaluation detail")
        await pilot.press("y")
        await pilot.pause()
        assert not [c for c in raw_chars(app.clipboard) if c not in "\n\t"]
        await help_of(app, pilot, "evaluation")
        await pilot.press("f")
        await pilot.pause()
        app.screen.query_one("#field-annotator").value = H_MAIL.lower()
        await pilot.pause()
        check(app, "filter dialog")
        await pilot.press("enter")
        await settle(app, pilot)
        check(app, "evaluation filtered")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AnnotatorScreen)
        check(app, "annotator screen", expect=("\\x1b[2j",))
        assert "\\x1b[2j" in app.screen.sub_title
        await pilot.press("o")
        await pilot.pause()
        check(app, "annotator objects", expect=("\\x1b]0;pwn-title",))
        await pilot.press("y")
        await pilot.pause()
        assert not [c for c in raw_chars(app.clipboard) if c not in "\n\t"]
        await help_of(app, pilot, "annotator")
        objects = app.screen.query_one("#objects", FrameTable)
        titles = [objects.frame["data_title"].iat[int(i)] for i in objects.order]
        objects.cursor_row = titles.index(H_DB)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ItemScreen)
        check(app, "item screen", expect=("\\x1b]0;pwn-title",))
        assert "\\x1b]0;" in app.screen.sub_title
        await help_of(app, pilot, "item")
        check_terminal(written)


async def test_offline_export_with_a_hostile_created_by_and_a_lone_surrogate(tmp_path):
    """createdBy of an offline export names the annotator: it reaches the sub-title and the clipboard."""
    from tests.synth import make_programme

    prog = make_programme(seed=3, n_items=4)
    bm = tmp_path / "bm.json"
    bm.write_text(json.dumps(prog.benchmark))
    rows = next(iter(prog.training.values()))
    for row in rows:
        for unit in (row.get("data_units") or {}).values():
            labels = unit.get("labels") or {}
            frames = [labels] if "objects" in labels else list(labels.values())
            for frame in frames:
                for obj in frame.get("objects") or []:
                    obj["createdBy"] = H
                    obj["name"] = H
    tr = tmp_path / "tr.json"
    tr.write_text(json.dumps(rows))  # JSON carries the lone surrogate as \\udc80
    app = hostile_app(tmp_path, "evaluation", {"benchmark_labels": str(bm), "training_labels": [str(tr)]})
    async with app.run_test(size=(240, 60)) as pilot:
        written = spy_terminal(app)
        await settle(app, pilot)
        from annotrain_tui.tui.screens.evaluation import AnnotatorScreen
        from annotrain_tui.tui.widgets.frame_table import FrameTable

        check(app, "offline evaluation", expect=("\\udc80",))
        table = app.screen.query_one("#annotators", FrameTable)
        keys = [table.frame["annotator"].iat[int(i)] for i in table.order]
        assert H in keys
        table.cursor_row = keys.index(H)
        await pilot.press("y")  # a lone surrogate in the clipboard used to kill the app
        await pilot.pause()
        assert "\udc80" not in app.clipboard and "\\udc80" in app.clipboard
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AnnotatorScreen)
        check(app, "offline annotator", expect=("\\udc80",))
        assert "\\x1b]0;pwn-title" in app.screen.sub_title
        check_terminal(written)


async def test_a_screen_written_tomorrow_that_forgets_lit_still_sends_nothing_raw(tmp_path):
    """The mechanisms, not the call sites: titles validated, toasts escaped and never markup, the
    clipboard filtered, and a widget that draws raw text is caught by the app's line filter."""
    from rich.text import Text
    from textual.screen import Screen
    from textual.widgets import Footer, Header, Static

    from annotrain_tui.tui.screens.base import AppScreen

    class Careless(AppScreen):
        def compose(self):
            yield Header()
            yield Static(Text("careless " + H), id="careless")  # no lit(): raw text
            yield Footer()

        def on_mount(self) -> None:
            self.title = H
            self.sub_title = H
            self.notify(H, title=H, markup=True)

    class PlainTextual(Screen):  # not even an AppScreen: the Header still goes through the app
        def compose(self):
            yield Header()

        def on_mount(self) -> None:
            self.title = H
            self.sub_title = H

    app = hostile_app(tmp_path)
    async with app.run_test(size=(240, 40)) as pilot:
        written = spy_terminal(app)
        await settle(app, pilot)
        app.title = H
        app.sub_title = H
        assert app.title.startswith("\\x1b]0;") and not raw_chars(app.title)
        app.push_screen(Careless())
        await pilot.pause()
        assert app.screen.title.startswith("\\x1b]0;pwn-title\\x07") and "\\udc80" in app.screen.sub_title
        lines = screen_lines(app)
        assert not set().union(*(raw_chars(line) for line in lines))
        text = "\n".join(lines)
        assert "careless ]0;pwn-title" in text  # ESC (no cell) dropped by the filter, never sent
        assert "mark\ufffd" + MARKUP in text  # the lone surrogate (one cell) replaced, markup literal
        toast = [n for n in app._notifications if "pwn-title" in n.message][-1]
        assert toast.message.startswith("\\x1b]0;pwn-title") and not toast.markup and not raw_chars(toast.title)
        assert MARKUP in toast.message
        app.copy_to_clipboard(H)
        await pilot.pause()
        assert "\udc80" not in app.clipboard and "\\x1b]52;" in app.clipboard and "\\x0d" in app.clipboard
        assert "\n" in app.clipboard and "\t" in app.clipboard  # lines and fields are kept
        app.push_screen(PlainTextual())
        await pilot.pause()
        header = "\n".join(screen_lines(app)[:1])
        assert "\\x1b]0;pwn-title" in header and not raw_chars(header)
        check_terminal(written)
        assert any(w.startswith("\x1b]52;c;") for w in written)  # the clipboard write happened
        app.action_help_quit()  # Textual's own Ctrl+C hint has markup in it: shown as plain text
        await pilot.pause()
        hint = [n for n in app._notifications if "to quit" in n.message][-1]
        assert hint.message == "Press ^q to quit the app" and not hint.markup


async def test_data_table_string_cells_and_labels_are_never_markup(tmp_path):
    from annotrain_tui.tui.screens.base import AppScreen
    from annotrain_tui.tui.widgets.tables import SafeDataTable

    class Table(AppScreen):
        def compose(self):
            yield SafeDataTable(id="t")

        def on_mount(self) -> None:
            t = self.query_one(SafeDataTable)
            t.add_column("[b]col[/b]", key="c")
            t.add_row(H, key="r")
            t.add_row("second", key="r2")
            t.update_cell("r2", "c", "[link=https://evil.example]click[/link]")

    app = hostile_app(tmp_path)
    async with app.run_test(size=(240, 20)) as pilot:
        await settle(app, pilot)
        app.push_screen(Table())
        await pilot.pause()
        text = check(app, "data table", expect=("[b]col[/b]", MARKUP, "[link=https://evil.example]click[/link]",
                                                "\\x1b]0;pwn-title"))
        assert "\\udc80" in text


async def test_the_clipboard_copy_carries_no_live_formula(tmp_path):
    """Found by a trial: `y` copied an annotator whose createdBy is =HYPERLINK(...) unprefixed; pasted
    into a spreadsheet it ran. Each copied cell is neutralised like a CSV export cell."""
    from annotrain_tui.tui.widgets.frame_table import FrameTable
    from tests.synth import make_programme

    evil = '=HYPERLINK("http://x","y")@example.com'
    prog = make_programme(seed=3, n_items=4)
    bm = tmp_path / "bm.json"
    bm.write_text(json.dumps(prog.benchmark))
    rows = next(iter(prog.training.values()))
    for row in rows:
        for unit in (row.get("data_units") or {}).values():
            labels = unit.get("labels") or {}
            frames = [labels] if "objects" in labels else list(labels.values())
            for frame in frames:
                for obj in frame.get("objects") or []:
                    obj["createdBy"] = evil
    tr = tmp_path / "tr.json"
    tr.write_text(json.dumps(rows))
    app = hostile_app(tmp_path, "evaluation", {"benchmark_labels": str(bm), "training_labels": [str(tr)]})
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#annotators", FrameTable)
        keys = [table.frame["annotator"].iat[int(i)] for i in table.order]
        table.cursor_row = keys.index(evil)
        await pilot.press("y")
        await pilot.pause()
        cells = [c for line in app.clipboard.split("\n") for c in line.split("\t")]
        assert evil not in cells and "'" + evil in cells, app.clipboard
        assert not [c for c in cells if c.startswith(("=", "+", "@"))]
