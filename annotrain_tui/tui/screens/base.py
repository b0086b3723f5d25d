"""The base of every annotrain screen: one place where worker failures become messages."""

from __future__ import annotations

from textual.screen import Screen
from textual.worker import Worker


class AppScreen(Screen[None]):
    """Worker.StateChanged does not bubble; every screen hands its workers' failures to the app."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.report_worker_state(event)  # type: ignore[attr-defined]
