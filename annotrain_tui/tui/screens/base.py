"""The base of every annotrain screen: one place where worker failures become messages, and
titles that cannot be set raw."""

from __future__ import annotations

from typing import Any

from textual import getters
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from annotrain_tui.core.text import shown
from annotrain_tui.tui.app import AnnotrainApp


class SafeTitles:
    """``title`` and ``sub_title`` go through the one untrusted-text policy whenever they are set.

    Textual's reactives call ``validate_<name>`` on every assignment, so a screen that puts a
    label file's createdBy or a workspace path into its sub-title cannot put an escape sequence,
    a bidi override or a lone surrogate into the Header (or anywhere else a title is used).
    ``None`` stays ``None`` (a screen without its own title shows the app's).
    """

    def validate_title(self, title: Any) -> str | None:
        return None if title is None else shown(title)

    def validate_sub_title(self, sub_title: Any) -> str | None:
        return None if sub_title is None else shown(sub_title)


class AppScreen(SafeTitles, Screen[None]):
    """Worker.StateChanged does not bubble; every screen hands its workers' failures to the app."""

    #: the running app, typed (its workspace, selection and settings), not ``App[Any]``
    app = getters.app(AnnotrainApp)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.report_worker_state(event)
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker, event.worker.error)

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        """A screen's own reaction to a failed worker (the toast is the app's): replace a
        "Loading…" placeholder with what went wrong, so nothing stays loading for good."""
