"""Evaluate's export path (trial item 35 / new-user defect 1): a bad path keeps the dialog open with
the reason and what was typed, so the keys typed next go to the field, not to the screen as
commands; a good export remembers its directory and the next export starts there."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from annotrain_tui.tui.screens.evaluation import EvaluationScreen
from annotrain_tui.tui.widgets.dialogs import ChoiceDialog, PathDialog
from annotrain_tui.tui.widgets.inputs import SafeInput
from tests.tui.helpers import make_app, settle


def error_of(dialog: PathDialog) -> str:
    return str(dialog.query_one("#form-error", Static).render())


async def open_export(app, pilot, downs: int = 0) -> PathDialog:
    await pilot.press("e")
    assert isinstance(app.screen, ChoiceDialog)
    await pilot.press(*["down"] * downs, "enter")
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, PathDialog)
    return dialog


async def test_a_bad_export_path_keeps_the_dialog_and_a_good_one_is_remembered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EvaluationScreen)
        dialog = await open_export(app, pilot)
        field = dialog.query_one("#field-path", SafeInput)
        assert field.value == str(tmp_path / "iou_results.csv")  # no export yet: the working directory

        # The trial's keys: clear the field, type a path in a directory that does not exist, Enter.
        bad = str(tmp_path / "nodir" / "o.csv")
        await pilot.press("ctrl+u", *bad, "enter")
        await pilot.pause()
        assert app.screen is dialog and "No directory" in error_of(dialog)
        assert field.value == bad  # kept, not retyped
        await pilot.press("p")  # typed into the field: the table is not paused
        assert field.value == bad + "p" and screen.live_on

        # A refusal of core.files.check_output (not a regular file) is said in the dialog too.
        field.value = "/dev/null"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and "/dev/null" in error_of(dialog)
        assert not list(app._notifications)  # said once, in the dialog

        out = tmp_path / "out"
        out.mkdir()
        field.value = str(out / "seed.csv")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen and (out / "seed.csv").exists()

        dialog = await open_export(app, pilot, downs=2)  # the JSON summary: starts where the last went
        assert dialog.query_one("#field-path", SafeInput).value == str(out / "evaluation.json")


async def test_an_existing_export_asks_before_overwriting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    existing = tmp_path / "iou_results.csv"
    existing.write_text("keep me\n")
    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await open_export(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"  # not a refusal: the overwrite question
        await pilot.press("n")
        await settle(app, pilot)
        assert existing.read_text() == "keep me\n"
        assert Path(app.workspace.recent().get("export_dir") or "") == tmp_path


async def test_the_seed_csv_is_the_seed_algorithms_as_the_cli_writes_it(tmp_path):
    """Issue 15 item 1 (a trial): the TUI's "Seed CSV" wrote the script's columns from the screen's
    optimal matching, every shape included (404 rows on the demo where `evaluate --matching seed
    --out` writes 274, the script's). It now runs the seed algorithm over the same rows."""
    from annotrain_tui.cli import main

    app = make_app(tmp_path / "ws.db", start_screen="evaluation")
    tui_csv = tmp_path / "tui.csv"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EvaluationScreen) and screen.session is not None
        assert screen.session.settings.matching == "optimal"  # what the screen shows
        dialog = await open_export(app, pilot)
        dialog.query_one("#field-path", SafeInput).value = str(tui_csv)
        await pilot.press("enter")
        await settle(app, pilot)
        optimal_rows = len(screen.snapshot.result.objects)
        assert screen.session.settings.matching == "optimal"  # the export left the session as it was
    cli_csv = tmp_path / "cli.csv"
    assert main(["--sandbox", str(tmp_path / "ws.db"), "evaluate", "--benchmark", "Benchmark Labels", "--all",
                 "--matching", "seed", "--out", str(cli_csv)]) == 0
    assert tui_csv.read_text(encoding="utf-8") == cli_csv.read_text(encoding="utf-8")
    assert len(tui_csv.read_text(encoding="utf-8").splitlines()) - 1 < optimal_rows
