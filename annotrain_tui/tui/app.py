"""The Textual application: global keys, command palette, help, screen registry."""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from weakref import WeakSet

from textual.actions import SkipAction
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from annotrain_tui.core.errors import AnnotrainError
from annotrain_tui.core.models import Folder, Integration
from annotrain_tui.core.secrets import redact
from annotrain_tui.core.text import shown
from annotrain_tui.core.workspace import Workspace
from annotrain_tui.tui.text import RawTextFilter

if TYPE_CHECKING:
    from annotrain_tui.tui.screens.base import AppScreen


@dataclass
class Selection:
    """What the user picked; the manifest and registration screens act on it."""

    integration: Integration | None = None
    folder: Folder | None = None


@dataclass(frozen=True)
class Flow:
    """A screen the app can open by name: where its class is (``module:Class``, imported when the
    screen is first opened or asked about, so start-up loads Home alone), and the app options it
    takes."""

    where: str
    params: tuple[str, ...] = ()

    @property
    def cls(self) -> type[AppScreen]:
        module, name = self.where.split(":")
        cls: type[AppScreen] = getattr(importlib.import_module(module), name)
        return cls

    def __call__(self, **options: Any) -> AppScreen:
        return self.cls(**{k: v for k, v in options.items() if k in self.params})


def _screen_factories() -> dict[str, Flow]:
    """Screen name → the flow that builds it from the app's screen options (no screen imported)."""
    screens = "annotrain_tui.tui.screens"
    return {
        "home": Flow(f"{screens}.home:HomeScreen"),
        "pick": Flow(f"{screens}.pick:PickScreen"),
        "manifest": Flow(f"{screens}.manifest_editor:ManifestEditorScreen", ("manifest",)),
        "register": Flow(f"{screens}.register:RegisterScreen", ("manifest",)),
        "benchmark": Flow(f"{screens}.benchmark:BenchmarkScreen"),
        "provision": Flow(f"{screens}.provision:ProvisionScreen", ("roster", "benchmark")),
        "progress": Flow(f"{screens}.progress:ProgressScreen", ("benchmark",)),
        "evaluation": Flow(f"{screens}.evaluation:EvaluationScreen",
                           ("benchmark", "training", "benchmark_labels", "training_labels")),
        "doctor": Flow(f"{screens}.doctor:DoctorScreen", ("benchmark",)),
        "programmes": Flow(f"{screens}.programmes:ProgrammesScreen"),
        "act": Flow(f"{screens}.act:ActScreen", ("benchmark",)),
        "audit": Flow(f"{screens}.audit:AuditScreen", ("benchmark",)),
        "history": Flow(f"{screens}.history:HistoryScreen", ("benchmark",)),
    }


FLOW_TITLES = {
    "pick": "Pick integration and folder",
    "manifest": "Manifests and registration",
    "register": "Register files and follow upload jobs",
    "benchmark": "Benchmark setup",
    "provision": "Provision training projects",
    "progress": "Training progress",
    "evaluation": "Evaluate annotators",
    "doctor": "Doctor: preflight checks of the workspace",
    "programmes": "Switch programme (every programme, its state and next step)",
    "act": "Act on decisions (graduate or retake: plan, then apply)",
    "audit": "Gold audit (suspect gold and the least-agreed items)",
    "history": "History (each annotator's F1 trend per round)",
}


def shown_parts(text: object) -> list[str]:
    """``text`` split on TAB (the clipboard's field separator); a non-string goes through ``shown``."""
    return (text if isinstance(text, str) else shown(text, multiline=True)).split("\t")


#: what Tab does when nothing else claims it
FOCUS_ACTIONS = frozenset({"focus_next", "focus_previous", "app.focus_next", "app.focus_previous"})

#: the actions every Textual screen binds (Tab, Shift+Tab, copy): keys everywhere, not the screen's own
TEXTUAL_SCREEN_ACTIONS = frozenset(b.action for b in Screen.BINDINGS if isinstance(b, Binding))


def palette_prefix(screen: Screen) -> str:
    """The name a screen's actions carry in the palette ("Manifest: Save"): its ``PALETTE_PREFIX``,
    else its class name without "Screen", split into words."""
    own = getattr(screen, "PALETTE_PREFIX", "")
    if own:
        return str(own)
    name = type(screen).__name__.removesuffix("Screen") or type(screen).__name__
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)


def screen_commands(screen: Screen) -> list[tuple[str, Callable[[], Any], str]]:
    """The actions of ``screen`` (and of its focused widget) that have a description, as palette
    commands run through ``run_action`` on the node that declares them; the app's own keys are
    listed by the provider under "App:"/"Workspace:"."""
    out: list[tuple[str, Callable[[], Any], str]] = []
    seen: set[tuple[int, str]] = set()
    prefix = palette_prefix(screen)
    for key, active in screen.active_bindings.items():
        binding, node = active.binding, active.node
        if node is screen.app or not binding.description or not active.enabled:
            continue
        if binding.action in TEXTUAL_SCREEN_ACTIONS or (node is not screen and not binding.id):
            continue  # Tab, copy, and a stock widget's cursor keys are not commands
        if (id(node), binding.action) in seen:
            continue
        seen.add((id(node), binding.action))
        display = screen.app.get_key_display(binding) or key
        out.append((f"{prefix}: {binding.description}", partial(screen.app.run_action, binding.action, node),
                    f"{display} on this screen"))
    return out


class AnnotrainCommands(Provider):
    """Every action of the app, namespaced: the current screen's own actions ("Manifest: Save", read
    from its bindings, so a new key is in the palette with no list to update), then "Go: …",
    "Workspace: …", "App: …"."""

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app = self.app
        assert isinstance(app, AnnotrainApp)
        cmds: list[tuple[str, Callable[[], Any], str]] = []
        if not isinstance(self.screen, ModalScreen):
            cmds.extend(screen_commands(self.screen))
        cmds += [
            ("Go: Home", partial(app.open_flow, "home"), "the workspace at a glance"),
            ("App: Help", app.action_help, "keys of this screen and help for the focused widget"),
            ("Workspace: Refresh", app.action_refresh, "reload what the screen shows"),
            ("Workspace: Copy workspace location", app.action_copy_workspace, "to the clipboard (OSC 52)"),
            ("App: Quit", app.action_quit, "leave annotrain"),
        ]
        for fid, title in FLOW_TITLES.items():
            cmds.append((f"Go: {title}", partial(app.open_flow, fid), f"open the {fid} flow"))
        return [(shown(name), callback, shown(help_text)) for name, callback, help_text in cmds]

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class AnnotrainApp(App[None]):
    TITLE = "annotrain"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {AnnotrainCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("question_mark", "help", "Help", show=False, id="app.help_alt"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("escape", "back", "Back", show=False, id="app.back"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="app.refresh"),
        # Priority: the focus moves while the app reads its queue, so the keys typed after Tab in the
        # same burst (a paste, SSH) reach the next field, not the one Tab left (see action_move_focus).
        Binding("tab", "move_focus(1)", "Next field", show=False, priority=True, id="app.focus_next"),
        Binding("shift+tab", "move_focus(-1)", "Previous field", show=False, priority=True,
                id="app.focus_previous"),
    ]

    def __init__(self, workspace: Workspace, *, start_screen: str = "home",
                 screen_options: dict[str, Any] | None = None) -> None:
        from annotrain_tui.core.malloc import one_arena

        one_arena()  # before any worker thread: a load in a worker peaked 9 MiB over the main thread's
        super().__init__()
        self.workspace = workspace
        self.start_screen = start_screen
        self.screen_options = screen_options or {}
        self.factories = _screen_factories()
        self.selection = Selection()
        self._raw_text_filter = RawTextFilter()
        self._reported_workers: WeakSet[Worker] = WeakSet()

    # -- the clock --------------------------------------------------------------------------
    def now(self) -> datetime:
        """The time a screen shows ("live 13:00:10", a job's age): one hook, so snapshot tests and
        screenshots freeze it (``tests/tui/shots.py``) instead of drawing the wall clock."""
        return datetime.now(UTC)

    # -- untrusted text: titles, toasts, the clipboard, and what reaches the terminal ------
    # Every string from a file, a server or the user goes through core.text.shown() at these
    # mechanisms, so a screen written tomorrow cannot show one raw.
    def validate_title(self, title: Any) -> str:
        return shown(title)

    def validate_sub_title(self, sub_title: Any) -> str:
        return shown(sub_title)

    def format_title(self, title: str, sub_title: str):  # noqa: ANN201 - textual Content
        """The Header's text: a screen's title that did not come through a validator is made safe here."""
        return super().format_title(shown(title), shown(sub_title))

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every toast (the screens' and Textual's own): message and title through the policy as one
        line each (like the CLI's one-line errors), never markup (``markup`` is accepted for
        Textual's signature and ignored)."""
        super().notify(shown(message), title=shown(title), severity=severity,
                       timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        """Textual's Ctrl+C hint, without markup (toasts never interpret it)."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {self.get_key_display(active.binding) or key} to quit the app",
                            title="Do you want to quit?")
                return

    def copy_to_clipboard(self, text: str) -> None:
        """OSC 52 carries only what the policy lets through: lines and tab-separated fields are kept,
        any other control, bidi or format character and any lone surrogate (which cannot be
        encoded, and used to kill the app) is escaped visibly. What is pasted is cells (TAB and line
        separated): each one is neutralised like a CSV export cell, so a spreadsheet runs no formula."""
        from annotrain_tui.core.exports import neutralise

        lines = (shown(part, multiline=True) for part in shown_parts(text))
        safe = "\t".join("\n".join(neutralise(cell) for cell in part.split("\n")) for part in lines)
        super().copy_to_clipboard(safe)

    def get_line_filters(self):  # noqa: ANN201 - Sequence[LineFilter]
        """The last line of defence: no raw control, bidi or surrogate character reaches the terminal,
        even from a widget that forgot ``lit()`` (those show a replacement character instead)."""
        own = getattr(self, "_raw_text_filter", None)
        return [*([own] if own is not None else []), *super().get_line_filters()]

    def on_mount(self) -> None:
        self._apply_keymap()
        for warning in self.workspace.warnings:
            self.notify(warning, title="Warning", severity="warning", timeout=10, markup=False)
        self.push_screen(self.factories["home"]())
        if self.start_screen != "home":
            self.open_flow(self.start_screen, **self.screen_options)

    def _apply_keymap(self) -> None:
        keymap = dict(self.workspace.settings.keymap)
        if not keymap:
            return
        from annotrain_tui.tui.keys import binding_ids

        known = binding_ids()  # the same ids `config set keymap.ID` accepts
        unknown = [k for k in keymap if k not in known]
        if unknown:
            parts = []
            for k in unknown:
                close = difflib.get_close_matches(k, sorted(known), n=1)
                parts.append(f"'{k}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
            self.notify("Unknown binding id(s) in keymap: " + ", ".join(parts), severity="warning",
                        timeout=10, markup=False)
        # a value with no key in it (",,,", "") would leave the action with no key at all, Ctrl+Q's
        # quit included: such entries are ignored, and said so
        empty = [k for k, v in keymap.items() if k in known and not [p for p in str(v).split(",") if p.strip()]]
        if empty:
            self.notify("Keymap entries with no key ignored (the default keys stay): " + ", ".join(
                f"'{k}'" for k in empty), severity="warning", timeout=10, markup=False)
        self.set_keymap({k: v for k, v in keymap.items() if k in known and k not in empty})

    # -- navigation ---------------------------------------------------------------------
    def open_flow(self, name: str, **options: Any) -> None:
        if name == "home":
            while len(self.screen_stack) > 2:
                self.pop_screen()
            return
        flow = self.factories.get(name)
        if flow is None:  # only a caller's typo reaches this (every FLOW_TITLES name is a flow)
            self.notify(f"No screen named {FLOW_TITLES.get(name, name)!r}.", title="Cannot open",
                        severity="error", markup=False)
            return
        try:
            screen = flow(**options)
        except AnnotrainError as err:
            self.notify(str(err), title="Cannot open", severity="error", markup=False)
            return
        self.push_screen(screen)

    async def action_quit(self) -> None:
        """Quit once every screen with unsaved or running work has asked, top screen first: each
        one's answer goes on to ask the next (two screens with unsaved work: both ask), and the app
        exits after the last. A screen that was cancelled stops the quit there."""
        from annotrain_tui.tui.screens.base import AppScreen

        screens = [s for s in reversed(self.screen_stack) if isinstance(s, AppScreen)]

        def ask_from(index: int) -> None:
            for n in range(index, len(screens)):
                if screens[n].confirm_quit(partial(ask_from, n + 1)):
                    return
            self.exit()

        ask_from(0)

    def action_move_focus(self, step: int) -> None:
        """Tab / Shift+Tab, handled before the key is forwarded.

        Textual forwards every key to the focused widget's queue as soon as the app reads it, and
        checks the (non-priority) Tab binding only when the key has bubbled back up from that widget.
        Keys that arrived in the same burst were by then already queued to the old field: "/A",
        Tab, "desc" gave "/Adesc" in the path. As a priority binding the focus moves at once, in
        the app's own order. A widget that uses Tab itself (a TextArea that indents, or any node
        from the focus up to the screen that binds Tab to something else) keeps it: the action
        steps aside."""
        screen = self.screen
        focused = screen.focused
        key = "tab" if step > 0 else "shift+tab"
        if focused is not None and focused.check_consume_key(key, "\t" if step > 0 else None):
            raise SkipAction()
        for node in focused.ancestors_with_self if focused is not None else [screen]:
            bound = node._bindings.key_to_bindings.get(key, ())  # Textual has no public lookup
            if any(b.action not in FOCUS_ACTIONS for b in bound):
                raise SkipAction()
            if node is screen:
                break
        if step > 0:
            screen.focus_next()
        else:
            screen.focus_previous()

    async def action_back(self) -> None:
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def action_refresh(self) -> None:
        from annotrain_tui.tui.screens.base import AppScreen

        if isinstance(self.screen, AppScreen):
            self.screen.clear_error()
            self.screen.action_refresh()

    def get_key_display(self, binding: Binding) -> str:
        """The key itself, always: a ``key_display`` ("[ ]" for "]", "F8" for the second key Ctrl+N) is
        ignored, so the footer and help never name a key that is not the one bound. F-keys are
        written F1, F8 (Textual writes f1)."""
        from dataclasses import replace

        display = super().get_key_display(replace(binding, key_display=None))
        return re.sub(r"(?<![A-Za-z])f(\d{1,2})$", r"F\1", display)

    def help_sections(self, screen: Screen) -> list[tuple[str, list[tuple[str, str, str]]]]:
        """F1's key lists: the screen's own keys first, then the app's, then the focused widget's.
        One row per binding (its keys joined: "F8, ^n"), each key shown as itself. Every key a node
        declares is listed, also one the focused field takes as text just now (Textual leaves those
        out of ``active_bindings``): it is marked "(not while typing in a field)"."""
        from textual.keys import key_to_character

        rows: dict[str, dict[tuple[int, str, str], tuple[list[str], str, str]]] = {
            "screen": {}, "app": {}, "widget": {}}
        focused = screen.focused
        chain = list(focused.ancestors_with_self) if focused is not None else [screen, self]
        for node in chain:
            declared = node._bindings.copy()  # every declared binding (Textual has no public list)
            if self._keymap:
                declared.apply_keymap(self._keymap)  # as Screen._binding_chain does: the user's keys
            for key, b in declared:
                if b.action in ("command_palette", "app.command_palette") and not b.description:
                    continue
                if self._check_action_state(b.action, node) is False:
                    continue  # the node hides it now (check_action)
                if node is screen:
                    section = "app" if b.action in TEXTUAL_SCREEN_ACTIONS else "screen"
                else:
                    section = "app" if node is self else "widget"
                description = "Command palette (every action is there)" if b.action in (
                    "command_palette", "app.command_palette") else b.description
                if not description:
                    continue  # Textual's internal keys (ctrl+c's help_quit): nothing to say to the user
                if (focused is not None and node is not focused
                        and focused.check_consume_key(key, key_to_character(key))):
                    description += " (not while typing in a field)"
                ident = (id(node), b.id or b.action, b.description)
                keys, _desc, _bid = rows[section].setdefault(ident, ([], description, b.id or ""))
                display = self.get_key_display(b) or key
                if display not in keys:
                    keys.append(display)
        widget_title = f"Keys of the focused widget ({type(focused).__name__})" if focused else "Keys of the focused widget"
        titles = {"screen": "Keys of this screen", "app": "Keys everywhere", "widget": widget_title}
        from annotrain_tui.tui.screens.help import one_row_per_key

        return one_row_per_key([(titles[name], [(", ".join(k), d, i) for k, d, i in rows[name].values()])
                                for name in ("screen", "app", "widget") if rows[name]])

    def action_help(self) -> None:
        from annotrain_tui.tui.screens.base import AppScreen, widget_help
        from annotrain_tui.tui.screens.help import HelpScreen

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        focused = screen.focused
        text = widget_help(screen, focused)
        if focused is not None and text is None:
            text = f"{type(focused).__name__}: Tab and Shift+Tab move the focus; arrow keys move inside."
        screen_help = getattr(screen, "SCREEN_HELP", None) or None
        error = screen.error_text if isinstance(screen, AppScreen) else ""
        if error:  # the error bar's text whole (the bar shows at most three lines)
            screen_help = f"✖ Now: {error}" + (f"\n\n{screen_help}" if screen_help else "")
        self.push_screen(HelpScreen(screen.title or type(screen).__name__, self.help_sections(screen), text,
                                    screen_help))

    def action_copy_workspace(self) -> None:
        text = self.workspace.backend.describe()
        self.copy_to_clipboard(text)
        self.notify(f"Copied: {text}", title="Clipboard", markup=False)

    # -- one place for worker failures --------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker_state(event)

    def report_worker_state(self, event: Worker.StateChanged) -> None:
        """One toast per failed worker, however many handlers pass the event on."""
        if event.state != WorkerState.ERROR or event.worker in self._reported_workers:
            return
        self._reported_workers.add(event.worker)
        err = event.worker.error
        if isinstance(err, AnnotrainError):
            from annotrain_tui.tui.remedies import error_text  # core's hint, plus how to do it here

            self.notify(redact(error_text(err, self)), title="Error", severity="error", timeout=10, markup=False)
        elif err is not None:
            what, tail = self.crash_report(err, where=f"worker {event.worker.name or ''}".strip())
            name, _, message = what.partition(": ")
            self.notify(f"Unexpected error ({name}){': ' + message if message else ''}; {tail}", title="Error",
                        severity="error", timeout=10, markup=False)

    def crash_report(self, err: BaseException, *, where: str = "tui") -> tuple[str, str]:
        """Write the crash log of an unexpected error (traceback without locals, no key text);
        return ``(<type>: <message>, "details in <path>")`` for the line that is shown."""
        from annotrain_tui.core import crashlog

        state_dir = getattr(getattr(self.workspace, "paths", None), "state_dir", None)
        try:
            path = crashlog.write_crash_log(err, state_dir=state_dir, where=where)
            tail = f"details in {path}"
        except Exception as failure:  # a full disk must not take the app down too
            path = None
            tail = f"no crash log written ({getattr(failure, 'strerror', None) or type(failure).__name__})"
        self.last_crash_log = path
        return crashlog.summary(err, limit=160), tail

    def _fatal_error(self) -> None:
        """An exception no handler caught: Textual would print a traceback *with locals* at exit.
        Instead the crash log gets the traceback (no locals, redacted) and ``fatal_line`` is the
        one line the exit shows."""
        import sys

        err = sys.exc_info()[1] or self._exception
        if err is None:
            super()._fatal_error()
            return
        self.bell()
        what, tail = self.crash_report(err, where="tui")
        # Nothing goes to _exit_renderables (Textual would wrap it at the terminal width): the entry
        # that ran the app (cli/tui_cmd.py) prints this line once the terminal is restored.
        self.fatal_line = f"annotrain: internal error: {what} ({tail})"
        self._close_messages_no_wait()
