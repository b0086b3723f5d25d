"""Issue 16, gates, in the app: the Provision screen refuses a benchmark that is not Complete with
one error line (the counts and the seed), offers the override (F, shown in the footer only then, a
confirmation, keyboard only), and a forced plan says so and applies."""

from __future__ import annotations

from annotrain_tui.core.markers import parse_training_marker
from annotrain_tui.core.provisioning import SEED_GATE
from annotrain_tui.tui.screens.provision import ProvisionScreen
from annotrain_tui.tui.widgets.dialogs import ConfirmDialog
from tests.tui.helpers import make_app, screen_text, settle
from tests.tui.test_provision_screen import plan_column


def reopen(backend, bench_id: str, keep: int) -> int:
    rows = sorted(backend.list_label_rows(bench_id), key=lambda r: r.data_hash)
    for r in rows[keep:]:
        backend.save_labels(bench_id, r.data_hash, [], stage="Annotate")
    return len(rows)


def footer_keys(app) -> str:
    return screen_text(app).splitlines()[-1]


def marked_emails(app) -> list[str]:
    return sorted(m[1] for p in app.workspace.raw.list_projects() if (m := parse_training_marker(p.description)))


async def _open(tmp_path, pilot_size=(120, 30)):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nNew Person,new@example.com\nZoe Ng,zoe@example.com\n", encoding="utf-8")
    app = make_app(tmp_path / "ws.db", start_screen="provision", options={"roster": str(roster)})
    return app


async def test_complete_benchmark_plans_and_no_force_key(tmp_path):
    app = await _open(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        assert screen.plan is not None and screen.gate is None and screen.error_text == ""
        assert "Provision anyway" not in footer_keys(app)
        await pilot.press("F")  # nothing to force: nothing happens
        await pilot.pause()
        assert app.screen is screen


async def test_incomplete_benchmark_is_refused_then_forced(tmp_path):
    app = await _open(tmp_path)
    total = reopen(app.workspace.raw, app.demo_ids["benchmark"], keep=12)
    before = marked_emails(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("p")
        await settle(app, pilot)
        # one error line: the counts, the seed, the key that overrides
        assert screen.plan is None and screen.gate is not None
        line = screen.error_text
        assert f"only 12 of {total} benchmark tasks are Complete" in line and SEED_GATE in line
        assert "Press F to provision from it anyway" in line and "\n" not in line
        assert "only 12 of" in screen_text(app)  # on screen, in the error bar
        assert "Provision anyway" in footer_keys(app)  # the footer offers the override now
        # x cannot apply: there is no plan
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        # F asks; n keeps the refusal
        await pilot.press("F")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(app, pilot)
        assert app.screen is screen and screen.plan is None and screen.gate is not None
        # F, y: the forced plan, its note says so, the error line is gone
        await pilot.press("F")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        assert screen.plan is not None and screen.gate is None and screen.error_text == ""
        assert any(n.startswith("Forced: ") for n in screen.plan.notes)
        assert "Provision anyway" not in footer_keys(app)
        assert plan_column(screen) == {"new@example.com": "+ create", "zoe@example.com": "+ create"}
        # apply: the re-plan under the lock keeps the force
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        assert plan_column(screen) == {"new@example.com": "✓ created", "zoe@example.com": "✓ created"}
        assert marked_emails(app) == sorted(before + ["new@example.com", "zoe@example.com"])


async def test_benchmark_reopened_after_the_plan_is_refused_at_apply(tmp_path):
    app = await _open(tmp_path)
    before = marked_emails(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("p")
        await settle(app, pilot)
        assert screen.plan is not None
        reopen(app.workspace.raw, app.demo_ids["benchmark"], keep=30)
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        assert screen.gate is not None and "only 30 of" in screen.error_text
        assert marked_emails(app) == before  # nothing created
        assert "Provision anyway" in footer_keys(app)
