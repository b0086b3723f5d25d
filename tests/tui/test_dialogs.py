"""Dialogs: a path dialog that keeps a bad path open with the error inside and starts in the last
directory used (trial item 35), and one Dialog base that styles every dialog."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from annotrain_tui.tui.widgets.dialogs import ChoiceDialog, ConfirmDialog, Dialog, FormDialog, PathDialog
from annotrain_tui.tui.widgets.inputs import SafeInput
from tests.tui.helpers import make_app, settle


async def type_path(pilot, dialog: PathDialog, text: str) -> None:
    dialog.query_one("#field-path", SafeInput).value = text
    await pilot.press("enter")
    await pilot.pause()


async def test_a_bad_path_keeps_the_dialog_open_and_a_good_one_is_remembered(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        answers: list = []
        refused = tmp_path / "refused.csv"
        dialog = PathDialog("Export to", "out.csv", recent_key="export_dir",
                            check=lambda p: "not that one" if p == refused else None)
        app.push_screen(dialog, answers.append)
        await pilot.pause()
        assert dialog.query_one("#field-path", SafeInput).value == str(Path.cwd() / "out.csv")
        for bad, says in ((str(tmp_path / "nope" / "x.csv"), "No directory"), (str(tmp_path), "is a directory"),
                          (str(refused), "not that one"), ("~no-such-user-here/x.csv", "no-such-user-here")):
            await type_path(pilot, dialog, bad)
            assert app.screen is dialog and not answers
            assert says in str(dialog.query_one("#form-error", Static).render())
            assert dialog.query_one("#field-path", SafeInput).value == bad  # kept, not retyped
        out = tmp_path / "out" / "scores.csv"
        out.parent.mkdir()
        await type_path(pilot, dialog, str(out))
        assert answers == [out] and app.screen is not dialog
        assert app.workspace.recent().get("export_dir") == str(out.parent)

        again = PathDialog("Export to", "other.csv", recent_key="export_dir")
        app.push_screen(again)
        await pilot.pause()
        assert again.query_one("#field-path", SafeInput).value == str(out.parent / "other.csv")


async def test_every_dialog_has_the_dialog_look():
    for cls in (ConfirmDialog, FormDialog, PathDialog, ChoiceDialog):
        assert issubclass(cls, Dialog)
        assert "{cls}" not in (cls.DEFAULT_CSS or "")


async def test_a_choice_dialog_answers_the_key(tmp_path):
    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        answers: list = []
        app.push_screen(ChoiceDialog("Export", [("csv", "CSV"), ("json", "JSON")]), answers.append)
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert answers == ["json"]


async def test_the_dialog_base_styles_a_subclass_it_does_not_know(tmp_path):
    from textual.containers import Vertical

    class Custom(Dialog[None]):
        def compose(self):
            with Vertical():
                yield Static("x", classes="dialog-title")

    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.push_screen(Custom())
        await pilot.pause()
        box = app.screen.query_one(Vertical)
        assert box.styles.border_top[0] == "round" and box.region.width == 70
        assert app.screen.styles.align_horizontal == "center"
