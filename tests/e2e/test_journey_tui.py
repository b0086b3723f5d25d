"""One journey through the app on the encord backend (issue 12, section 4): the real SDK against the
fake, a workspace with a project the caller may not administer; Home shows the benchmark, 5 opens
the evaluation, the annotator's row is there and follows a task reaching Complete on r."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from annotrain_tui.core.config import Paths
from annotrain_tui.core.workspace import open_workspace
from annotrain_tui.tui.app import AnnotrainApp
from annotrain_tui.tui.screens.evaluation import EvaluationScreen
from annotrain_tui.tui.screens.home import HomeScreen
from annotrain_tui.tui.widgets.frame_table import FrameTable
from tests.fake_encord.fixtures import encord_settings
from tests.tui.helpers import settle


def row_of(table: FrameTable, annotator: str) -> dict:
    frame = table.frame
    (i,) = [int(i) for i in table.order if frame["annotator"].iat[int(i)] == annotator]
    return {k: frame[k].iat[i] for k in frame.columns}


async def test_home_to_the_evaluation_and_a_live_update(fake, encord_keys):
    ws, demo = fake.ws, fake.demo
    ws.add_project("Vendor QA (annotator only)", ontology=demo.ontology, datasets=[demo.dataset], role=1)
    ws.move(demo.training, demo.items[0], "Complete")  # Alex's first image, approved without an edit
    workspace = open_workspace(Paths.default(), encord_settings(fake, encord_keys["plain"].path))
    app = AnnotrainApp(workspace)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        bench = str(app.screen.query_one("#bench-label", Static).render())
        assert "Benchmark Labels" in bench and "4/4 Complete" in bench and "1 trainee" in bench
        projects = app.screen.query_one("#table-projects", DataTable)
        titles = [str(projects.get_row_at(i)[0]) for i in range(projects.row_count)]
        assert "Vendor QA (annotator only)" in titles and "Benchmark Labels" in titles

        await pilot.press("5")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, EvaluationScreen)
        table = screen.query_one("#annotators", FrameTable)
        alex = row_of(table, "alex@example.com")
        assert alex["complete"] == 1 and alex["total"] == 4 and alex["matched"] == 1 and alex["f1"] == 1.0
        status = str(screen.query_one("#eval-status", Static).render())
        assert "Benchmark Labels" in status and "1 paired item" in status

        # Alex labels a second image and it is approved: r picks it up
        ws.label(demo.training, demo.items[1], boxes=[("Car", {"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.3})],
                 stage="Review")
        ws.move(demo.training, demo.items[1], "Complete")
        await pilot.press("r")
        await settle(app, pilot)
        alex = row_of(table, "alex@example.com")
        assert alex["complete"] == 2 and alex["matched"] == 2

        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
    workspace.close()
    assert not fake.errors and not fake.unhandled
    assert "v1.labelrow.put" not in {w.route for w in fake.writes()}
