"""The base of every annotrain screen: the declared contract the app relies on (help, refresh,
quit confirmation), one place where worker failures become messages, a persistent error bar,
and titles that cannot be set raw."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar
from weakref import WeakKeyDictionary

from rich.text import Text
from textual import getters
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from annotrain_tui.core.errors import AnnotrainError
from annotrain_tui.core.secrets import redact
from annotrain_tui.core.text import shown
from annotrain_tui.tui.app import AnnotrainApp
from annotrain_tui.tui.text import lit


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


#: the error bar's height at most (its CSS max-height)
ERROR_BAR_LINES = 3


class ErrorBar(Static):
    """A line (wrapped up to three) under the header: the failure that still holds (hidden, taking no room, when none does)."""

    DEFAULT_CSS = """
    ErrorBar { height: auto; max-height: 3; padding: 0 1; background: $error 30%; color: $text; display: none; }
    ErrorBar.-shown { display: block; }
    """


def widget_help(screen: Screen, widget: Widget | None) -> str | None:
    """The help text for ``widget`` on ``screen``: the screen's ``WIDGET_HELP`` entry for the widget's
    id, then the widget's own ``HELP`` (a class attribute such as ``FrameTable.HELP``, or the older
    per-instance assignment ``widget.HELP = …``), else None."""
    if widget is None:
        return None
    registry: dict[str, str] = getattr(screen, "WIDGET_HELP", {}) or {}
    if widget.id and widget.id in registry:
        return registry[widget.id]
    own = getattr(widget, "HELP", None)
    return own if isinstance(own, str) and own else None


class AppScreen(SafeTitles, Screen[None]):
    """The contract between a screen and the app.

    - ``SCREEN_HELP``: what the screen is for (F1 shows it above the keys).
    - ``WIDGET_HELP``: widget id → help for that widget when it has the focus (F1, "Focused widget").
    - ``FOOTER_SECONDARY``: binding ids (or action names) the footer shows only after every other key
      of the screen, when room is left (F1 and the palette key are always shown).
    - ``action_refresh``: reload what the screen shows (Ctrl+R, the palette's "Workspace: Refresh").
    - ``confirm_quit(quit)``: return True to ask first (and call ``quit`` once answered).
    - ``worker_failed``: a screen's own reaction to a failed worker (the toast and the error bar are
      the base's).

    Worker.StateChanged does not bubble; every screen hands its workers' failures to the app, once
    per worker and state (a subclass that also handles the event and calls ``super()`` is dispatched
    twice by Textual, once per class in the MRO: that was the "two identical toasts" of one failed save).
    """

    #: the running app, typed (its workspace, selection and settings), not ``App[Any]``
    app = getters.app(AnnotrainApp)

    SCREEN_HELP: ClassVar[str] = ""
    WIDGET_HELP: ClassVar[dict[str, str]] = {}
    FOOTER_SECONDARY: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen_worker_states: WeakKeyDictionary[Worker, set[WorkerState]] = WeakKeyDictionary()
        self._failed_groups: dict[str, str] = {}

    # -- declared members the app calls ---------------------------------------------------
    def action_refresh(self) -> None:
        """Reload what the screen shows; a screen with nothing to reload keeps this default."""

    def confirm_quit(self, quit: Callable[[], None]) -> bool:
        """True when the screen asks before quitting (and calls ``quit`` once the user said yes)."""
        return False

    def help_for(self, widget: Widget | None) -> str | None:
        return widget_help(self, widget)

    # -- shared widgets: the footer and the error bar ---------------------------------------
    async def mount_composed_widgets(self, widgets: list[Widget]) -> None:
        """Every screen gets the error bar, and Textual's ``Footer`` becomes :class:`KeyFooter`
        (which never drops F1 or the palette key), without code in the screens."""
        from annotrain_tui.tui.widgets.footer import KeyFooter

        widgets = [KeyFooter() if type(w) is Footer else w for w in widgets]
        if not any(isinstance(w, ErrorBar) for w in widgets):
            # first in the flow, so under the (docked) header and above the screen's content; not
            # docked itself (two widgets docked to one edge overlap: it hid the header)
            widgets.insert(0, ErrorBar(id="error-bar"))
        await super().mount_composed_widgets(widgets)

    def show_error(self, group: str, message: str) -> None:
        """Show ``message`` in the error bar until a worker of ``group`` succeeds (or a refresh)."""
        self._failed_groups[group] = message
        self._update_error_bar()

    def clear_error(self, group: str | None = None) -> None:
        """Clear the failure of ``group`` (every failure when None)."""
        if group is None:
            self._failed_groups.clear()
        else:
            self._failed_groups.pop(group, None)
        self._update_error_bar()

    @property
    def error_text(self) -> str:
        """What the error bar says ("" when hidden)."""
        return next(reversed(self._failed_groups.values()), "") if self._failed_groups else ""

    def _update_error_bar(self) -> None:
        bars = self.query(ErrorBar)
        if not bars:
            return
        bar = bars.first()
        text = self.error_text
        more = len(self._failed_groups) - 1
        line = lit(f"✖ {text}" + (f" (+{more} more)" if more > 0 else ""))
        line.no_wrap = False  # wrapped over up to 3 lines: the hint at the end is the useful part
        width = max(10, self.app.size.width - 2)
        wrapped = line.wrap(self.app.console, width)
        if len(wrapped) > ERROR_BAR_LINES:
            # never cut silently mid-sentence: say it goes on, and where it is whole
            tail = "… (F1 shows it whole)"
            keep = wrapped[:ERROR_BAR_LINES]
            last = keep[-1]
            last.truncate(max(1, width - len(tail)))
            last.rstrip()
            last.append(tail)
            line = Text("\n").join(keep)
        bar.update(line)
        bar.set_class(bool(text), "-shown")

    # -- the worker funnel --------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        seen = self._seen_worker_states.setdefault(event.worker, set())
        if event.state in seen:
            return
        seen.add(event.state)
        self.app.report_worker_state(event)
        group = event.worker.group or "default"
        if event.state == WorkerState.ERROR:
            self.show_error(group, failure_line(event.worker.error, self))
            self.worker_failed(event.worker, event.worker.error)
        elif event.state == WorkerState.SUCCESS and group in self._failed_groups:
            self.clear_error(group)

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        """A screen's own reaction to a failed worker (the toast is the app's): replace a
        "Loading…" placeholder with what went wrong, so nothing stays loading for good."""


def failure_line(error: BaseException | None, screen: AppScreen) -> str:
    """The one line the error bar shows for a failed worker (a domain error as its toast says it)."""
    if isinstance(error, AnnotrainError):
        from annotrain_tui.tui.remedies import error_text

        return redact(error_text(error, screen.app, screen))
    if error is None:
        return "failed"
    return f"unexpected error ({type(error).__name__}); see the crash log"
