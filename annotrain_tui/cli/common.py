"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotrain_tui.core.errors import AnnotrainError, UsageError
from annotrain_tui.core.files import read_user_bytes, shell_word
from annotrain_tui.core.remedies import ACTIONS, See, SeeLike, about, refs, with_remedy
from annotrain_tui.core.text import json_text, shown

if TYPE_CHECKING:
    from annotrain_tui.core.manifest.diagnostics import Diagnostic


class ArgumentError(UsageError):
    """What a command finds wrong with its own arguments after argparse has read them (an option
    that another one makes required): said like argparse's usage errors, ``annotrain: usage error:
    … (see 'annotrain COMMAND --help')``, exit 2."""


def add_command(sub: argparse._SubParsersAction, name: str, help: str, func, *, workspace: bool = True,
                **kwargs: Any) -> argparse.ArgumentParser:
    """Add a subcommand; ``workspace`` adds the --backend/--sandbox/... options after it too."""
    parser = sub.add_parser(name, help=help, description=help, **kwargs)
    if workspace:
        from annotrain_tui.cli import add_backend_options

        add_backend_options(parser)
    parser.set_defaults(func=func)
    return parser


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    # The untrusted-text policy for JSON: C1, bidi, format characters and lone surrogates as
    # \uXXXX escapes (the same strings to a reader, nothing raw for a terminal).
    text = json_text(json.dumps(document, ensure_ascii=False, indent=2, default=str))
    sys.stdout.write(text)
    sys.stdout.write("\n")


def read_bytes(path: str | Path) -> bytes:
    """Read a user's file; every OS failure is one clear UnreadableInput (exit 2)."""
    return read_user_bytes(path)


def table(rows: list[list[str]], headers: list[str]) -> str:
    """A plain, aligned text table (no colour codes: the output may be piped)."""
    cells = [headers] + [[_one_line(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _one_line(value: Any) -> str:
    # Untrusted text: the one policy (core/text.py); no escape sequence reaches the terminal.
    return shown(value)


def finite_float(text: str) -> float:
    """argparse type: a finite number (``nan``, ``inf`` and ``1e400`` are refused, exit 2), and one
    that reads as what was written (``1e-400``, not 0 but read as 0.0, is refused too)."""
    import math
    import re

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} is not a number") from None
    if not math.isfinite(value):
        if math.isinf(value) and re.search(r"[0-9]", text):
            raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} is too large to be a number (at most "
                                             f"{sys.float_info.max!r}".replace("e+", "e") + "): give a finite number")
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} is not a finite number")
    if value == 0.0 and re.search(r"[1-9]", re.split(r"[eE]", text, maxsplit=1)[0]):
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} is too small to be a number: it is not 0, "
                                         f"but it would be read as 0.0 (non-zero numbers go down to about "
                                         f"{5e-324!r}): give 0 or a larger value")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} must be greater than 0")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (no 4,300-digit literals: those are refused too)."""
    stripped = text.strip()
    if not stripped.isdigit() or len(stripped) > 9 or int(stripped) < 1:
        raise argparse.ArgumentTypeError(f"{shown(text, limit=40)!s} is not a whole number >= 1")
    return int(stripped)


def path_arg(text: str) -> str:
    """argparse type for a file or directory the user names: an empty or blank name is a usage error
    (``--out ""`` would otherwise be taken as 'no output' and write nothing, silently)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the file name is empty (give a file name)")
    from annotrain_tui.core.secrets import looks_like_key_text

    if looks_like_key_text(text):  # never echoed: the message names no part of it
        raise argparse.ArgumentTypeError("this is the text of a key, not a file name: save the key to a file "
                                         "(chmod 600) and give the file's path")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("the file name contains a NUL character")
    return text


def add_force_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup, what: str = "output files") -> None:
    """``--force``: the one rule for every command that writes a file the user named."""
    parser.add_argument("--force", action="store_true", help=f"overwrite {what} that already exist")


# -- remedies: the CLI's rendering of core.remedies actions ----------------------------------------
#: action id → the command that does it; {name} is an argument of the reference (shell-quoted),
#: [text] is left out when the reference has none of the arguments inside it
COMMANDS: dict[str, str] = {
    "projects.list": "annotrain projects list",
    "integrations.list": "annotrain integrations list",
    "folders.list": "annotrain folders list",
    "datasets.list": "annotrain datasets list",
    "ontologies.list": "annotrain ontologies list",
    "templates.list": "annotrain templates list",
    "status": "annotrain status",
    "folders.create": "annotrain folders create {path}",
    "register.create_folder": "annotrain register ... --create-folder",
    "register.batch": "annotrain register ... --batch",
    "manifest.validate": "annotrain manifest validate {path}",
    "manifest.split": "annotrain manifest split {path=PATH} --out-dir DIR",
    "jobs.list": "annotrain jobs",
    "jobs.list_all": "annotrain jobs --all",
    "jobs.retry": "annotrain jobs --retry {job}",
    "jobs.watch": "annotrain jobs --watch",
    "benchmark.link_folder": "annotrain benchmark link-folder {dataset=DATASET} --folder {folder=PATH}",
    "benchmark.verify": "annotrain benchmark verify {dataset=DATASET}",
    "benchmark.create": "annotrain benchmark create[ --title {title}] --dataset D --ontology O",
    "benchmark.status": "annotrain benchmark status {project=PROJECT}",
    "provision.plan": "annotrain provision --roster {roster=ROSTER} --benchmark {benchmark=BENCHMARK} --dry-run",
    "provision.apply": "annotrain provision --roster {roster=ROSTER} --benchmark {benchmark=BENCHMARK}",
    "doctor": "annotrain doctor",
    "programmes.list": "annotrain programmes list",
    "programmes.show": "annotrain programmes show[ --programme {benchmark}]",
    "decide": "annotrain decide {email=EMAIL} {decision=graduate|retake|hold}",
    "graduate.plan": "annotrain graduate[ --programme {benchmark}] --production PROJECT --dry-run",
    "retake.plan": "annotrain retake[ --programme {benchmark}] --dry-run",
    "audit.run": "annotrain audit[ --programme {benchmark}]",
    "feedback.write": "annotrain feedback[ --programme {benchmark}] --all --out DIR",
    "history.show": "annotrain history[ --programme {benchmark}]",
    "evaluate.include_incomplete": "annotrain evaluate ... --include-incomplete",
    "config.show": "annotrain config show",
    "config.paths": "annotrain config paths",
    "config.reset": "annotrain config reset",
    "config.set": "annotrain config set {key=KEY} {value=VALUE}",
    "sandbox.init": "annotrain[ --sandbox {path}] sandbox init",
    "sandbox.init_demo": "annotrain[ --sandbox {path}] sandbox init --demo",
    "sandbox.replace_demo": "annotrain --sandbox {path} sandbox init --demo --force",
}


def command_of(ref: See) -> str:
    """The command line that does ``ref``'s action, its arguments shell-quoted."""
    import re

    template = COMMANDS[ref.action]

    def optional(match: re.Match[str]) -> str:
        names = re.findall(r"\{(\w+)", match.group(1))
        return match.group(1) if all(ref.arg(n) for n in names) else ""

    def field(match: re.Match[str]) -> str:
        name, _, default = match.group(1).partition("=")
        value = ref.arg(name)
        return shell_word(value) if value else default or name.upper()

    return re.sub(r"\{([\w=]+)\}", field, re.sub(r"\[([^\]]*)\]", optional, template))


def see_text(see: SeeLike) -> str:
    """``see 'annotrain projects list'`` (several: ``see 'a', 'b' or 'c'``); empty for none."""
    # each in quotes: '…', or "…" around one that holds a shell-quoted argument
    commands = [(f'"{c}"' if "'" in c and '"' not in c else c if "'" in c else f"'{c}'")
                for c in (command_of(r) for r in refs(see))]
    if not commands:
        return ""
    listed = commands[0] if len(commands) == 1 else ", ".join(commands[:-1]) + " or " + commands[-1]
    return f"see {listed}"


def error_line(err: AnnotrainError) -> str:
    """An error as the CLI says it: message, hint and the commands that help, one line."""
    return with_remedy(err.message, err.hint, see_text(err.see))


def note_line(note: str, path: str | None = None) -> str:
    """A warning line with the commands that help (a ``core.remedies.Note``; plain text as it is);
    ``path``: the file an action without one is about (``core.remedies.about``)."""
    refs_of = about(getattr(note, "see", ()), path=path)
    return with_remedy(note, None, see_text(refs_of)) if refs_of else note


def diagnostic_line(diag: Diagnostic, path: str) -> str:
    """``PATH:LINE:COL: error[CODE]: message (see 'annotrain …')``: a diagnostic with its commands."""
    return diag.render(path, see_text(about(diag.see, path=path)))


def diagnostic_json(diag: Diagnostic, path: str) -> dict[str, Any]:
    """A diagnostic's ``--json`` object (the core's keys), its message with the commands that help."""
    return {**diag.to_json(), "message": diag.said(see_text(about(diag.see, path=path)))}


def hint_line(hint: str | None, see: SeeLike) -> str:
    """A hint with its commands (a doctor check's fix, a warning's advice), or empty."""
    return "; ".join(part for part in (hint, see_text(see)) if part)


assert set(COMMANDS) == set(ACTIONS), "every remedy action has its command (core.remedies.ACTIONS)"



def add_programme_option(parser: argparse.ArgumentParser, *, help_text: str | None = None) -> None:
    """``--programme`` / ``--benchmark``: the programme a command works on (its benchmark's id or
    title, or one of its training projects); without it, the current one (the last used, else the
    first). Every programme command takes it, under either name."""
    parser.add_argument("--programme", "--benchmark", dest="benchmark", metavar="BENCHMARK", default=None,
                        help=help_text or "the programme (its benchmark's id or title); default: the current one")


def programme_from_args(args: argparse.Namespace, ws: Any) -> Any:
    """The programme ``--programme`` names (else the current one). Naming one does not make it the
    current one: only ``programmes use`` (and the TUI's switch) do, so a cron job's
    ``evaluate --check --programme B`` never retargets an operator's next ``retake --yes`` (trial 16 #3)."""
    return ws.programme(getattr(args, "benchmark", None))
