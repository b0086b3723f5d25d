"""The TUI home screen on the encord backend: the real SDK against the loopback fake."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from annotrain_tui.core.config import Paths
from annotrain_tui.core.workspace import open_workspace
from annotrain_tui.tui.app import AnnotrainApp
from annotrain_tui.tui.screens.home import HomeScreen
from tests.fake_encord.fixtures import encord_settings
from tests.tui.helpers import settle


def _column(table: DataTable, n: int = 0) -> list[str]:
    return [str(table.get_row_at(i)[n]) for i in range(table.row_count)]


async def test_home_loads_the_encord_workspace(fake, encord_keys):
    ws = open_workspace(Paths.default(), encord_settings(fake, encord_keys["plain"].path))
    app = AnnotrainApp(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.screen.sub_title == f"encord {fake.url}"
        projects = _column(app.screen.query_one("#table-projects", DataTable))
        assert projects == ["Benchmark Labels", "Annotator Training - Alex Kim"]
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "2 integrations" in summary and "3 folders" in summary and "2 projects" in summary
        bench = str(app.screen.query_one("#bench-label", Static).render())
        assert "4/4 Complete" in bench and "1 trainee" in bench
        folders = _column(app.screen.query_one("#table-folders", DataTable))
        assert "/Training Data/Street Scenes" in folders
    ws.close()
    assert not fake.errors and not fake.unhandled
    assert {e.scheme for e in fake.log} == {"v1", "v2"}
