"""The footer at 80 columns: F1 and the palette key on every screen, keys never cut in the middle
(trial item 23: `f▏^p palette`, `^q Qu▏`, `g Progress` invisible on Provision)."""

from __future__ import annotations

import pytest
from textual.widgets import Footer

from annotrain_tui.tui.widgets.footer import KeyFooter
from tests.tui.helpers import screen_text
from tests.tui.shots import SHOTS, build_app, drive

SCREEN_SHOTS = [s for s in SHOTS if s.name != "help"]


@pytest.mark.parametrize("shot", SCREEN_SHOTS, ids=[s.name for s in SCREEN_SHOTS])
async def test_every_screen_keeps_f1_and_the_palette_at_80x24(shot):
    app = build_app(shot, "footer")
    async with app.run_test(size=(80, 24)) as pilot:
        await drive(app, pilot, shot)
        assert not [w for w in app.screen.query(Footer) if type(w) is Footer], "a stock Footer is left"
        footer = app.screen.query_one(KeyFooter)
        bottom = screen_text(app).splitlines()[23]
        assert "F1 Help" in bottom and "^p palette" in bottom, bottom
        left, right = footer.layout_items(80)
        assert [i.text for i in right] == ["F1 Help", "^p palette"]
        # whatever is shown on the left is whole keys, in order, and nothing runs past the right part
        drawn = bottom.split("F1 Help")[0].strip()
        assert drawn == "  ".join(i.text for i in left)
        assert left, "no screen key fits at 80 columns"


async def test_the_screens_own_keys_come_first_and_secondary_ones_last(tmp_path):
    from tests.tui.helpers import make_app

    app = make_app(tmp_path / "ws.db", start_screen="pick")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        footer = app.screen.query_one(KeyFooter)
        ranked = footer.ranked_items()
        own = [b for b in type(app.screen).BINDINGS if getattr(b, "show", True) and getattr(b, "description", "")]
        assert ranked[0].description == own[0].description
        assert ranked.index(next(i for i in ranked if i.description == "Quit")) > len(own) - 1
        # Escape goes back from here, and says so
        assert any(i.key == "escape" for i in ranked)
        # a secondary key moves to the end
        type(app.screen).FOOTER_SECONDARY = frozenset({own[0].id or own[0].action})
        try:
            assert footer.ranked_items()[-1].description == own[0].description
        finally:
            del type(app.screen).FOOTER_SECONDARY


async def test_a_narrow_footer_drops_whole_keys_but_never_f1(tmp_path):
    from tests.tui.helpers import make_app

    app = make_app(tmp_path / "ws.db", start_screen="provision")
    async with app.run_test(size=(40, 24)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(KeyFooter)
        text = footer.plain
        assert "F1 Help" in text and "^p palette" in text
        assert len(text) <= 40
        left, _ = footer.layout_items(40)
        assert all(i.text in text for i in left)


async def test_clicking_a_footer_key_runs_it(tmp_path):
    from annotrain_tui.tui.screens.help import HelpScreen
    from tests.tui.helpers import make_app

    app = make_app(tmp_path / "ws.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(KeyFooter)
        at = footer.plain.index("F1 Help")
        await pilot.click(KeyFooter, offset=(at + 1, 0))
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_a_focused_text_field_hides_the_letter_keys_it_would_type(tmp_path):
    """Trial item 32: with the title field focused, `c` typed a "c" while the footer offered
    "c Create dataset". While a field has the focus, the footer shows only keys that act."""
    from tests.tui.helpers import make_app

    app = make_app(tmp_path / "ws.db", start_screen="benchmark")
    async with app.run_test(size=(120, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        footer = app.screen.query_one(KeyFooter)
        assert "c Create dataset" in footer.plain  # the folder select has the focus: c acts
        app.screen.query_one("#dataset-title").focus()
        await pilot.pause()
        assert "Create dataset" not in footer.plain and "Verify" not in footer.plain, footer.plain
        assert "F1 Help" in footer.plain and "esc Clear field" in footer.plain  # keys that act stay
        await pilot.press("c")
        assert app.screen.query_one("#dataset-title").value.endswith("c")  # it typed, as the footer says


async def test_escape_stays_while_a_field_has_the_focus(tmp_path):
    """Escape is a character to Textual ("\\x1b") but types nothing: the screen's Esc Back stays in
    the footer while the editor's text area has the focus (only printable keys step aside)."""
    from tests.tui.helpers import make_app

    path = tmp_path / "m.json"
    path.write_text('{"images": []}\n')
    app = make_app(tmp_path / "ws.db", start_screen="manifest", options={"manifest": str(path)})
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.screen.editor.focus()
        await pilot.pause()
        footer = app.screen.query_one(KeyFooter)
        assert "esc Back" in footer.plain, footer.plain
