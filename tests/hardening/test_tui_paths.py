"""A path typed into the TUI is expanded the one way (core.files.user_path): `~nonuser/…` is a toast
naming the problem, never RuntimeError in an event handler (which would take the app down)."""

from __future__ import annotations

from textual.widgets import Input

from tests.tui.helpers import make_app, settle


def toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_an_unknown_user_in_a_typed_roster_path(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="provision")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        field = app.screen.query_one("#roster-path", Input)
        field.value = "~nonuser-annotrain/roster.csv"
        field.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.is_running
        assert any("there is no user 'nonuser-annotrain'" in m for m in toasts(app)), toasts(app)


async def test_an_unknown_user_in_a_typed_manifest_path(tmp_path):
    app = make_app(tmp_path / "ws.db", start_screen="manifest")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        field = next(w for w in app.screen.query(Input) if "manifest.json" in (w.placeholder or ""))
        field.value = "~nonuser-annotrain/m.json"
        field.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.is_running
        assert any("there is no user 'nonuser-annotrain'" in m for m in toasts(app)), toasts(app)


async def test_offline_evaluation_counts_a_training_file_once_under_two_spellings(tmp_path, monkeypatch):
    """A round-3 trial: the TUI doubled every count for `tr0.json ./tr0.json` (the CLI counted once)."""
    import json

    from tests.synth import make_programme

    programme = make_programme(seed=3, n_items=4, annotators=("zoe@example.com",))
    (tmp_path / "bm.json").write_text(json.dumps(programme.benchmark))
    (tmp_path / "tr.json").write_text(json.dumps(next(iter(programme.training.values()))))
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path / "ws.db", start_screen="evaluation",
                   options={"benchmark_labels": "bm.json", "training_labels": ["tr.json", "./tr.json", "bm.json"]})
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        session = app.screen.session
        assert session.source.training_paths == ["tr.json"]
        assert any("given twice count once" in m for m in toasts(app)) and any(
            "are the benchmark file" in m for m in toasts(app))
