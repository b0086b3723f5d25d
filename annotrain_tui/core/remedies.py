"""What helps, named by id, in no front's words: the actions a core hint can point at.

A core error (or warning, or doctor check) says what helps in words that are true in any front --
``hint="list the projects to see their exact titles"`` -- and may name the action that does it:
``see="projects.list"``, or ``see=see("jobs.retry", job="4ec5e11e")`` for one that needs an
argument. Core never writes a command line or a key. Each front renders an action its own way:

- the CLI as ``(see 'annotrain projects list')`` (``annotrain_tui.cli.common.error_line``);
- the TUI as the key that does it on the screen the user is on, or nothing when no screen does
  it (``annotrain_tui.tui.remedies``).

An id not in :data:`ACTIONS` is a programming error (``ValueError`` when the reference is made), so
a typo fails at once, in a test, not in front of a user. A test checks that every front has a
rendering for every id, or says on purpose that it has none.

Besides errors, a manifest diagnostic (``Diagnostic.see``) and a warning line (:class:`Note`, a
``str`` that also names its actions) carry references the same way. To adopt it elsewhere: drop the
command from the hint's words, pass ``see=``, and add the action here if it is new (plus its CLI text
in cli/common.py and its TUI way in tui/remedies.py, or the reason it has none).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: action id → what it does, as an imperative (a front may say "press v to <this>")
ACTIONS: dict[str, str] = {
    # listings: the exact names and ids of what a workspace holds
    "projects.list": "list the projects",
    "integrations.list": "list the cloud integrations",
    "folders.list": "list the storage folders",
    "datasets.list": "list the datasets",
    "ontologies.list": "list the ontologies",
    "templates.list": "list the workflow templates",
    "status": "see the workspace at a glance",
    # storage and registration
    "folders.create": "create the folder",  # args: path
    "register.create_folder": "register with the folder created",
    "register.batch": "register in batches",
    "manifest.validate": "validate the manifest",  # args: path
    "manifest.split": "split the manifest into files within Encord's limits",  # args: path
    "jobs.list": "see the registration jobs",
    "jobs.list_all": "see the registration jobs of every workspace",
    "jobs.retry": "retry the job's failed URLs",  # args: job
    "jobs.watch": "follow the jobs",
    # benchmark and provisioning
    "benchmark.link_folder": "link the folder into the dataset",  # args: dataset, folder
    "benchmark.verify": "verify the dataset against its folder",  # args: dataset
    "benchmark.create": "create the benchmark project",  # args: title
    "benchmark.status": "see the benchmark's status",  # args: project
    "provision.plan": "plan the provisioning again",  # args: roster, benchmark
    "provision.apply": "provision the roster",  # args: roster, benchmark
    "doctor": "run the preflight checks",
    # the programme: decisions, actions, audit, history
    "programmes.list": "list the programmes",
    "programmes.show": "see the programme's trainees, statuses and decisions",  # args: benchmark
    "decide": "record a decision on the annotator",  # args: email, decision
    "graduate.plan": "plan the graduations",  # args: benchmark
    "retake.plan": "plan the retakes",  # args: benchmark
    "audit.run": "audit the gold",  # args: benchmark
    "feedback.write": "write the feedback packs",  # args: benchmark
    "history.show": "see the programme's history",  # args: benchmark
    "evaluate.include_incomplete": "evaluate the exports with unfinished tasks counted too",
    # settings and the workspace itself
    "config.show": "show the settings",
    "config.paths": "show where the settings and state live",
    "config.reset": "move the config file aside and start from the defaults",
    "config.set": "change a setting",  # args: key, value
    "sandbox.init": "create a sandbox workspace",  # args: path
    "sandbox.init_demo": "create a sandbox workspace with the demo programme",  # args: path
    "sandbox.replace_demo": "replace the sandbox workspace with a fresh demo",  # args: path
}


@dataclass(frozen=True)
class See:
    """A reference to one action of :data:`ACTIONS`, with the arguments it needs (text, untrusted:
    a front quotes or escapes them as it shows them)."""

    action: str
    args: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"no remedy action {self.action!r} (core.remedies.ACTIONS)")

    def arg(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.args if k == name), default)

    @property
    def words(self) -> str:
        return ACTIONS[self.action]


def see(action: str, **args: object) -> See:
    """``see("jobs.retry", job="4ec5e11e")``: a reference with arguments (None ones left out)."""
    return See(action, tuple((k, str(v)) for k, v in args.items() if v is not None))


SeeLike = str | See | Iterable[str | See] | None


def refs(value: SeeLike) -> tuple[See, ...]:
    """Whatever a caller passed as ``see=`` (an id, a See, several, None) as a tuple of See."""
    if value is None:
        return ()
    if isinstance(value, (str, See)):
        value = (value,)
    return tuple(v if isinstance(v, See) else See(v) for v in value)


def about(value: SeeLike, **args: object) -> tuple[See, ...]:
    """``refs(value)`` with ``args`` added to each reference that lacks them: a diagnostic does not
    know the file it is about, the front that shows it does (``about(d.see, path=...)``). An action
    that takes no such argument ignores it."""
    extra = tuple((k, str(v)) for k, v in args.items() if v is not None)
    return tuple(See(r.action, r.args + tuple((k, v) for k, v in extra if not r.arg(k))) for r in refs(value))


class Note(str):
    """A warning line in words true in any front, naming the actions that help (``see``). It is a
    ``str`` (lists of warnings stay lists of text, JSON-ready); a front that knows better renders
    ``see`` after it (the CLI: ``cli.common.note_line``), one that does not shows the words."""

    see: tuple[See, ...]

    def __new__(cls, text: str, *, see: SeeLike = None) -> Note:
        note = super().__new__(cls, text)
        note.see = refs(see)
        return note


def with_remedy(message: str, hint: str | None, how: str) -> str:
    """One line: the message, then in one pair of parentheses the hint and a front's rendering of
    the actions (``how``; empty: none). The layout both fronts use."""
    inside = "; ".join(part for part in (hint, how) if part)
    text = f"{message} ({inside})" if inside else message
    return " ".join(text.split())
