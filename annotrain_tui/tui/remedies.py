"""The TUI's rendering of the actions a core hint points at (``core.remedies``).

Core says what helps in words and names the action (``see="benchmark.verify"``); the TUI says how
to do it here: ``press v`` on the screen that does it, ``press v on Benchmark (3 on Home)`` from
elsewhere, or where to look (``the Projects tab on Home``). The keys are the ones the user has now
(a keymap may have rebound them). An action no screen does (e.g. ``config.reset``) is said as the
shell command, marked as such, since that is the only way; an id missing here adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from annotrain_tui.core.errors import AnnotrainError
from annotrain_tui.core.remedies import See, SeeLike, refs, with_remedy

if TYPE_CHECKING:
    from textual.app import App
    from textual.binding import Binding
    from textual.screen import Screen


@dataclass(frozen=True)
class Way:
    """How the TUI does one action: on the screen ``flow`` (a name of ``app.factories``), by the key
    of ``binding`` (a binding id); without a binding, ``look`` says what on that screen to look at."""

    flow: str
    binding: str | None = None
    look: str = ""


@dataclass(frozen=True)
class Shell:
    """An action only the command line does: said as a shell command (``{name}``: an argument)."""

    command: str


WAYS: dict[str, Way | Shell] = {
    "projects.list": Way("home", look="the Projects tab"),
    "integrations.list": Way("pick", look="the integrations listed"),
    "folders.list": Way("pick", look="the folders listed"),
    "datasets.list": Way("home", look="the Datasets tab"),
    "ontologies.list": Way("benchmark", look="the ontologies offered"),
    "templates.list": Way("provision", look="the templates offered"),
    "status": Way("home", look="the counts at the top"),
    "folders.create": Way("pick", "pick.new_folder"),
    "manifest.validate": Way("manifest", look="the problems listed as you edit"),
    # no screen splits a manifest (the editor cannot open one too big for it): the shell is the way
    "manifest.split": Shell("annotrain manifest split {path} --out-dir {dir}"),
    "register.batch": Way("register", "register.batch"),
    "jobs.list": Way("register", look="the jobs listed"),
    "jobs.retry": Way("register", "register.retry"),
    "jobs.watch": Way("register", look="the jobs, followed as they run"),
    "benchmark.verify": Way("benchmark", "benchmark.verify"),
    "benchmark.create": Way("benchmark", "benchmark.create"),
    "benchmark.status": Way("progress"),
    "provision.plan": Way("provision", "provision.plan"),
    "provision.apply": Way("provision", "provision.apply"),
    "doctor": Way("doctor"),
    # the programme
    "programmes.list": Way("home", look="the programmes listed"),
    "programmes.show": Way("home", look="the programmes listed"),
    "decide": Way("evaluation", look="the decision keys on the annotator table"),
    "graduate.plan": Way("act", "act.plan"),
    "retake.plan": Way("act", "act.plan"),
    "audit.run": Way("audit"),
    "feedback.write": Way("evaluation", look="the annotator's screen: Enter on a row, then F"),
    "history.show": Way("history"),
    "evaluate.include_incomplete": Shell("annotrain evaluate ... --include-incomplete"),
    "config.show": Shell("annotrain config show"),
    "config.paths": Shell("annotrain config paths"),
    "config.reset": Shell("annotrain config reset"),
    "config.set": Shell("annotrain config set {key} {value}"),
    # not here on purpose: the CLI's own options (register.create_folder), what no screen does
    # (benchmark.link_folder, jobs.list_all) and the sandbox's set-up (sandbox.*, done before the app runs)
}


def _binding(app: App, flow: str, binding_id: str) -> Binding | None:
    factories = getattr(app, "factories", {})
    cls = factories[flow].cls if flow in factories else None
    for b in getattr(cls, "BINDINGS", ()) if cls is not None else ():
        if getattr(b, "id", None) == binding_id:
            return b
    return None


def _key(app: App, binding: Binding) -> str:
    """The key the user presses now for ``binding`` (the first, after their keymap), as shown."""
    keymap: dict[str, str] = getattr(app, "_keymap", {}) or {}
    keys = keymap.get(binding.id or "", binding.key)
    first = next((k.strip() for k in keys.split(",") if k.strip()), binding.key)
    return app.get_key_display(binding.__class__(first, binding.action, binding.description,
                                                 key_display=binding.key_display if first == binding.key else None))


def _screen_name(app: App, flow: str) -> str:
    factories = getattr(app, "factories", {})
    title = getattr(factories[flow].cls, "TITLE", None) if flow in factories else None
    return str(title or flow)


def _where(app: App, screen: Screen | None, flow: str) -> str:
    """'' when ``screen`` is that flow's screen; else how to name it: ``Benchmark (3 on Home)``."""
    factories = getattr(app, "factories", {})
    if flow in factories and screen is not None and type(screen) is factories[flow].cls:
        return ""
    if flow == "home":
        return "Home"
    home_key = _binding(app, "home", f"home.flow.{flow}")
    name = _screen_name(app, flow)
    return f"{name} ({_key(app, home_key)} on Home)" if home_key is not None else name


def way_text(ref: See, app: App, screen: Screen | None) -> str:
    """How to do ``ref`` in the TUI from ``screen``, or '' when the TUI has no way."""
    way = WAYS.get(ref.action)
    if isinstance(way, Shell):
        import re

        from annotrain_tui.core.files import shell_word

        def field(match: re.Match[str]) -> str:
            value = ref.arg(match.group(1))
            return shell_word(value) if value else match.group(1).upper()

        return "in a shell: " + re.sub(r"\{(\w+)\}", field, way.command)
    if way is None:
        return ""
    where = _where(app, screen, way.flow)
    if way.binding is not None:
        binding = _binding(app, way.flow, way.binding)
        if binding is None:  # a renamed binding id: say where, never a wrong key
            return f"open {where}" if where else ""
        return f"press {_key(app, binding)}" + (f" on {where}" if where else "") + f" to {ref.words}"
    if way.look:
        return f"see {way.look}" + (f" on {where}" if where else "")
    return f"open {where}" if where else ""


def remedy_text(see: SeeLike, app: App, screen: Screen | None) -> str:
    """Every action of ``see`` (anything ``core.remedies.refs`` takes) the TUI has a way for, in one
    phrase (``press v or see the Projects tab on Home``)."""
    ways = [w for w in (way_text(r, app, screen) for r in refs(see)) if w]
    return " or ".join(dict.fromkeys(ways))


def error_text(err: AnnotrainError, app: App, screen: Screen | None = None) -> str:
    """A core error as the TUI says it: message, hint and how to do what helps here, one line."""
    return with_remedy(err.message, err.hint, remedy_text(err.see, app, screen if screen is not None
                                                          else getattr(app, "screen", None)))
