"""The feedback key on the annotator screen (issue 16 item 5, TUI): F asks for the directory (the
working directory at first, then the last export's), writes that annotator's pack (HTML and
Markdown, holding their email) in a worker, says where; an existing pack is overwritten only after
a yes; a path that is a file keeps the dialog open with the reason."""

from __future__ import annotations

from textual.widgets import Static

from annotrain_tui.tui.screens.evaluation import EvaluationScreen
from annotrain_tui.tui.screens.evaluation.drilldown import AnnotatorScreen
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog, FormDialog
from annotrain_tui.tui.widgets.inputs import SafeInput
from tests.tui.helpers import make_app, screen_text, settle


async def open_annotator(app, pilot) -> AnnotatorScreen:
    await settle(app, pilot)
    assert isinstance(app.screen, EvaluationScreen)
    await pilot.press("down", "enter")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, AnnotatorScreen)
    return screen


async def test_F_writes_the_annotators_pack_and_asks_before_overwriting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_annotator(app, pilot)
        email = screen.annotator
        await pilot.press("F")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        field = dialog.query_one("#field-dir", SafeInput)
        assert field.value == str(tmp_path)  # nothing exported yet: the working directory
        # a file is no directory: the dialog stays, saying so
        (tmp_path / "a-file").write_text("x")
        field.value = str(tmp_path / "a-file")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog
        assert "is not a directory" in str(dialog.query_one("#form-error", Static).render())
        field.value = str(tmp_path / "packs")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen
        files = sorted((tmp_path / "packs").iterdir())
        assert [p.suffix for p in files] == [".html", ".md"]
        for p in files:
            assert email in p.read_text(encoding="utf-8")
        toast = next(n.message for n in app._notifications if n.title == "Feedback")
        assert all(str(p) in toast for p in files)
        assert app.workspace.recent().get("export_dir") == str(tmp_path / "packs")

        # again: the remembered directory; the pack exists: asked, No keeps it as it was
        before = {p: p.stat().st_mtime_ns for p in files}
        (files[1]).write_text("kept", encoding="utf-8")
        await pilot.press("F")
        await pilot.pause()
        assert app.screen.query_one("#field-dir", SafeInput).value == str(tmp_path / "packs")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        asked = " ".join(str(w.render()) for w in app.screen.query(Static))  # the TUI's own question, not the CLI's hint
        assert "already exists" in asked and "Replace the pack of" in asked
        assert "--force" not in asked and "pass" not in asked
        await pilot.press("n")
        await settle(app, pilot)
        assert app.screen is screen and files[1].read_text(encoding="utf-8") == "kept"
        # and Yes replaces it
        await pilot.press("F")
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen is screen
        assert email in files[1].read_text(encoding="utf-8") and set(before) == set(files)


async def test_the_footer_names_F_at_80_columns(tmp_path):
    """Trial 16 item 17: F was only in the help; the footer at 80 columns shows it (and Enter)."""
    app = make_app(tmp_path / "ws.db", start_screen="evaluation", refresh_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_annotator(app, pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "F Feedback" in footer and "⏎ Open" in footer and "F1 Help" in footer
