"""Command line front: argument → core service → text or ``--json``.

Exit codes (the CLI's contract, in cli/exit_codes.py): 0 ok, 1 domain failure, 2 usage or
unreadable input. Errors are one line on stderr.
Each command group lives in its own module exposing ``register(subparsers)``; handlers take the
parsed ``args`` and return an exit code (or raise a core ``AnnotrainError``). Its commands are
listed in :data:`COMMANDS`, from which the parser is built without importing the module: a run
imports the module of its command only, and ``--help`` none (issue 14: start-up).

:func:`main` is the edge: whatever happens -- Ctrl+C while the command modules are still being
imported, a full disk or a read-only directory (OSError), SQLite refusing to write, stdout on a
full device, an exception nobody expected -- ends in one line on stderr and an exit code, never a
traceback. Unexpected errors leave their traceback in a crash log (core/crashlog.py). Every line
goes through ``shown`` (no key text, no escape sequence).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from annotrain_tui import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which --help needs nowhere else
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

    from annotrain_tui.core.errors import AnnotrainError

#: Every top-level command, in the order of --help: (name, the module that registers it, its help).
#: The parser is built from this table without importing a command module; argparse imports the
#: one module of the command it reaches (_LazyCommands). tests/cli/test_startup.py checks the table
#: against what the modules register (names, order, help), so it cannot drift from them.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("projects", "list_cmd", "list projects (id, title, dataset, ontology, template, users with roles)"),
    ("integrations", "list_cmd", "list cloud integrations"),
    ("folders", "list_cmd", "list storage folders"),
    ("datasets", "list_cmd", "list datasets"),
    ("ontologies", "list_cmd", "list ontologies with their object classes"),
    ("templates", "list_cmd", "list workflow templates"),
    ("status", "list_cmd", "the workspace at a glance, with benchmark completeness"),
    ("sandbox", "sandbox_cmd", "the embedded sandbox workspace (init, reset, simulate, import)"),
    ("config", "config_cmd", "show or change settings"),
    ("manifest", "manifest_cmd", "check, fix, convert, split or create registration manifests (JSON/CSV)"),
    ("register", "register_cmd", "register a manifest's files into a storage folder (an upload job)"),
    ("jobs", "register_cmd", "registration jobs: status, failed URLs, retry"),
    ("benchmark", "provision_cmd", "training dataset and benchmark project"),
    ("roster", "provision_cmd", "check a roster file"),
    ("provision", "provision_cmd", "one training project per annotator of a roster (plan, then apply)"),
    ("progress", "provision_cmd", "training progress per annotator: tasks Complete / total, last activity"),
    ("evaluate", "evaluate_cmd",
     "score annotator training projects against the benchmark (shapes, classes and answers)"),
    ("programmes", "programmes_cmd", "every programme (benchmark) with its state and next step; the current one"),
    ("decide", "programmes_cmd", "record a decision on an annotator: graduate, retake or hold (with a note)"),
    ("graduate", "actions_cmd", "add the annotators decided 'graduate' to production projects (plan, then apply)"),
    ("retake", "actions_cmd", "give the annotators decided 'retake' a new round (plan, then apply)"),
    ("feedback", "feedback_cmd", "write a feedback pack per annotator (self-contained HTML and Markdown)"),
    ("history", "history_cmd", "every evaluation snapshot of a programme: the trend per annotator and round"),
    ("watch", "history_cmd", "print one line per programme event until interrupted (for on-call)"),
    ("audit", "audit_cmd", "gold audit: benchmark objects the trainees agree against, items they disagree on"),
    ("doctor", "doctor_cmd", "preflight: key, roles, template, integration, benchmark, annotators, folders, "
                             "registration jobs (ok / what is wrong / how to fix)"),
    ("tui", "tui_cmd", "open the terminal app (the default without a command)"),
)

# Command-group modules, in the order their commands appear in --help.
COMMAND_MODULES = tuple(dict.fromkeys(f"annotrain_tui.cli.{module}" for _, module, _ in COMMANDS))


class _LazyCommands(argparse._SubParsersAction):
    """The top level's COMMAND: every command is a choice (and a line of --help) from the start, but
    its module is imported, and its parser built, only when argparse reaches it. A module registers
    all its commands at once (``register(sub)``); each replaces its placeholder in place, so the
    choices keep the table's order and, once every module is loaded, the parser is the eager one."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._pending: dict[str, str] = {}  # command -> its module, not imported yet

    def add_lazy(self, name: str, module: str, help: str) -> None:
        self._pending[name] = module
        self._name_parser_map[name] = None  # a placeholder: a valid choice, no parser yet
        self._choices_actions.append(self._ChoicesPseudoAction(name, (), help))

    def add_parser(self, name, **kwargs):  # noqa: ANN001, ANN003, ANN201
        if name not in self._name_parser_map or self._name_parser_map[name] is not None:
            return super().add_parser(name, **kwargs)
        if kwargs.get("prog") is None:
            kwargs["prog"] = f"{self._prog_prefix} {name}"
        if "help" in kwargs:  # the module's help line takes the placeholder's place
            at = next(i for i, a in enumerate(self._choices_actions) if a.dest == name)
            self._choices_actions[at] = self._ChoicesPseudoAction(name, (), kwargs.pop("help"))
        parser = self._parser_class(**kwargs)
        self._name_parser_map[name] = parser
        return parser

    def load(self, name: str) -> None:
        """Import the module of command ``name`` (if not yet) and let it register its commands."""
        module = self._pending.get(name)
        if module is None:
            return
        importlib.import_module(module).register(self)
        for command in [c for c, m in self._pending.items() if m == module]:
            del self._pending[command]
            if self._name_parser_map[command] is None:  # the table names a command the module lacks
                raise RuntimeError(f"{module} registers no command {command!r} (cli.COMMANDS says it does)")

    def load_all(self) -> None:
        for name in list(self._pending):
            self.load(name)

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
        if values:
            self.load(values[0])
        super().__call__(parser, namespace, values, option_string)


class _StoreOnce(argparse._StoreAction):
    """Every single-value option of every command: given twice with two values, it is a usage error
    (argparse would keep the last one silently: `--out a.csv --out b.csv` wrote only b.csv)."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
        seen = namespace.__dict__.setdefault("_given_once", {})
        if option_string and self.dest in seen and seen[self.dest] != values:
            from annotrain_tui.core.text import shown

            parser.error(f"{option_string} is given twice ('{shown(seen[self.dest], limit=60)}' and "
                         f"'{shown(values, limit=60)}'): give it once")
        if option_string:
            seen[self.dest] = values
        setattr(namespace, self.dest, values)


def _columns() -> int:
    """``shutil.get_terminal_size().columns`` (its rule: $COLUMNS, else the terminal's, else 80)
    without importing shutil, which imports zlib, bz2 and lzma: a tenth of ``--help``'s time."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80
    return size.columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter at the same width, found without shutil (see _columns)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        # the registry is shared with argument groups: every plain option of this parser is "once"
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)

    def parse_known_args(self, args=None, namespace=None):  # noqa: ANN001, ANN201
        self._argv = list(sys.argv[1:] if args is None else args)  # for error(): whose option is misplaced
        parsed, extras = super().parse_known_args(args, namespace)
        # the innermost command that parsed (a subcommand's call ends first, its namespace is copied
        # up): an unknown option after it points at its help, not the top level's (trial item 41)
        if not hasattr(parsed, "_command_prog"):
            parsed._command_prog = self.prog
        return parsed, extras

    def parse_args(self, args=None, namespace=None):  # noqa: ANN001, ANN201
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            prog = getattr(parsed, "_command_prog", self.prog)
            _say(f"annotrain: usage error: unrecognized arguments: {' '.join(extras)} (see '{prog} --help')")
            raise SystemExit(2)
        return parsed

    def error(self, message: str) -> NoReturn:  # one line, exit 2
        _say(f"annotrain: usage error: {message}{self._misplaced_option()} (see '{self.prog} --help')")
        raise SystemExit(2)

    def _misplaced_option(self) -> str:
        """An option of a command given before it (``annotrain --screen home``): say whose it is."""
        action = next((a for a in self._actions if isinstance(a, argparse._SubParsersAction)), None)
        if action is None or not action.choices:
            return ""
        commands = action.choices
        for token in getattr(self, "_argv", []):
            option = token.split("=", 1)[0]
            if not option.startswith("--") or option in self._option_string_actions:
                continue
            if isinstance(action, _LazyCommands):  # whose option it is: every command's parser is needed
                action.load_all()
            owners = sorted({name for name, sub in commands.items() if option in sub._option_string_actions})
            if owners and len(owners) <= 3:
                return (f"; {option} is an option of " + " and ".join(f"'annotrain {o}'" for o in owners)
                        + f": put it after the command (annotrain {owners[0]} {option} …)")
        return ""


def _say(line: str) -> None:
    """One line on stderr: key text removed, control characters made visible (both by shown)."""
    from annotrain_tui.core.text import shown

    try:
        sys.stderr.write(shown(" ".join(str(line).split())) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr itself is gone: nothing more can be said
        pass


def _key_path_arg(text: str) -> str:
    """argparse type of --ssh-key: a path; key text is refused without being echoed."""
    from annotrain_tui.core.config import KEY_TEXT_MESSAGE
    from annotrain_tui.core.secrets import looks_like_key_text

    if looks_like_key_text(text):
        raise argparse.ArgumentTypeError(KEY_TEXT_MESSAGE.replace("ssh_key_path", "this", 1))
    from annotrain_tui.core.errors import AnnotrainError
    from annotrain_tui.core.files import protect, user_path

    try:  # no output of this run may replace it, whether a backend opens it or not
        protect(user_path(text), "the SSH key")
    except AnnotrainError:
        pass  # ~nonuser: reported where the key is opened
    return text


def _domain_arg(text: str) -> str:
    """argparse type of --domain: http(s)://host[:port]."""
    from annotrain_tui.core.config import check_domain

    try:
        return check_domain(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("encord_domain ")) from None


def build_parser(*, lazy: bool = False) -> argparse.ArgumentParser:
    """The whole command line. ``lazy`` (what :func:`main` uses): the commands come from
    :data:`COMMANDS` and a command's module is imported only when the command line reaches it, so
    ``--help``, ``--version`` and each command pay only for what they use. Eager (the default):
    every module is imported and registers its commands, as they are."""
    parser = _Parser(
        prog="annotrain",
        description="Run an annotator-training programme on Encord. Without a command, opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"annotrain {__version__}")
    add_backend_options(parser)
    if lazy:
        parser.register("action", "parsers", _LazyCommands)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    if isinstance(sub, _LazyCommands):
        for command, module, help_text in COMMANDS:
            sub.add_lazy(command, f"annotrain_tui.cli.{module}", help_text)
        return parser
    for name in COMMAND_MODULES:  # a module that cannot be imported is an error, never a group left out
        importlib.import_module(name).register(sub)
    return parser


def _path_arg(text: str) -> str:
    from annotrain_tui.cli.common import path_arg

    return path_arg(text)


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command (also accepted after the subcommand)."""
    group = parser.add_argument_group("workspace")
    group.add_argument("--backend", choices=["sandbox", "encord"], default=argparse.SUPPRESS,
                       help="backend to use (default: from config, else sandbox)")
    group.add_argument("--sandbox", metavar="PATH", default=argparse.SUPPRESS, type=_path_arg,
                       help="sandbox workspace file (default: in the user data dir)")
    group.add_argument("--ssh-key", metavar="PATH", default=argparse.SUPPRESS, type=_key_path_arg,
                       help="Encord SSH private key file (stored as a path only)")
    group.add_argument("--domain", metavar="URL", default=argparse.SUPPRESS, type=_domain_arg,
                       help="Encord API domain (US or private clouds)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every way it can end is an exit code and at most one line on stderr."""
    try:
        try:
            return _guarded(argv)
        except KeyboardInterrupt:  # Ctrl+C while a failure was being reported
            return _interrupted()
    except KeyboardInterrupt:  # ... or while the first one was
        return 130


def _run(argv: Sequence[str] | None, seen: dict) -> int:
    parser = build_parser(lazy=True)
    args = parser.parse_args(argv)
    seen["args"] = args
    from annotrain_tui.core import envvars

    envvars.check_all()  # every ANNOTRAIN_* variable, before anything is read, opened or created
    handler = getattr(args, "func", None)
    if handler is None:
        if getattr(args, "command", None):
            parser.parse_args([args.command, "--help"])
        from annotrain_tui.cli import tui_cmd

        handler = tui_cmd.run_default
    from annotrain_tui.core import startup

    startup.release_signals()  # a Ctrl+C held over the imports arrives now, in Python code
    if getattr(handler, "__module__", None) != "annotrain_tui.cli.tui_cmd":  # the TUI's ends at its first frame
        startup.release()
    return int(handler(args) or 0)


class _GuardedStdout:
    """sys.stdout while a command runs: every write passes the untrusted-text policy's last gate
    (core.text.output_text: no escape sequence, bidi control or lone surrogate reaches the
    terminal, even from a line a command forgot to pass through shown()); and it remembers the
    error a write or flush raised, so the edge knows a failure was the output's (a full /dev/full,
    a closed pipe) and not a file's."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.failure: BaseException | None = None

    def write(self, text: str) -> int:
        from annotrain_tui.core.text import output_text

        try:
            return self._stream.write(output_text(text) if isinstance(text, str) else text)
        except OSError as err:
            self.failure = err
            raise

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as err:
            self.failure = err
            raise

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _guarded(argv: Sequence[str] | None) -> int:
    seen: dict = {}
    if sys.stderr is None:  # started with 2>&-: say nothing, but never a crash
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    if sys.stdout is None:  # started with >&-: nowhere to put the answer
        sys.stderr.write("annotrain: error: standard output is closed; run it with its output somewhere "
                         "(e.g. > /dev/null)\n")
        return 1
    real = sys.stdout
    guard = _GuardedStdout(real) if real is not None else None
    if guard is not None:
        sys.stdout = guard
    real_err = sys.stderr
    err_gate = _GuardedStdout(real_err)  # the same last gate for what goes to stderr (the TUI draws on
    sys.stderr = err_gate  # sys.__stderr__, which stays as it is)
    try:
        return _handled(argv, seen, guard)
    finally:
        if guard is not None and sys.stdout is guard:
            sys.stdout = real
        if sys.stderr is err_gate:
            sys.stderr = real_err


def _handled(argv: Sequence[str] | None, seen: dict, guard: _GuardedStdout | None) -> int:
    try:
        code = _run(argv, seen)
        sys.stdout.flush()  # a full stdout fails here, inside the handler, not at interpreter exit
        if guard is not None and isinstance(guard.failure, OSError):  # a failure someone swallowed
            if isinstance(guard.failure, BrokenPipeError):
                _silence_stdout()
                return code
            return _stdout_failed(guard.failure)
        return code
    except SystemExit as exc:  # argparse: --help, --version, usage errors (it swallows write errors)
        try:
            sys.stdout.flush()
        except OSError as err:
            return _stdout_failed(err)
        if guard is not None and isinstance(guard.failure, OSError) and not isinstance(
                guard.failure, BrokenPipeError):
            return _stdout_failed(guard.failure)
        raise exc
    except KeyboardInterrupt:
        return _interrupted()
    except BrokenPipeError as err:  # the reader went away (annotrain ... | head): not an error
        if guard is not None and guard.failure is err:
            _silence_stdout()
            return 0
        return _os_failed(err)
    except _annotrain_error() as err:  # looked up only when an exception gets here: --help imports no core
        from annotrain_tui.cli.common import ArgumentError, error_line
        from annotrain_tui.cli.exit_codes import exit_code_for

        if isinstance(err, ArgumentError):  # the command line itself: said as argparse says its own
            prog = getattr(seen.get("args"), "_command_prog", "annotrain")
            _say(f"annotrain: usage error: {error_line(err)} (see '{prog} --help')")
        else:
            _say(f"annotrain: error: {error_line(err)}")
        return exit_code_for(err)
    except OSError as err:
        if guard is not None and guard.failure is err:
            return _stdout_failed(err)
        return _os_failed(err)
    except Exception as exc:
        import sqlite3

        if isinstance(exc, sqlite3.Error):
            return _sqlite_failed(exc, seen.get("args"))
        if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
            _say("annotrain: error: the input holds a number with more than 4300 digits, which no annotrain "
                 "file needs (remove or shorten it)")
            return 2
        return _internal(exc, argv)
    except BaseException as exc:  # MemoryError is an Exception; this is GeneratorExit and kin
        return _internal(exc, argv)


def _annotrain_error() -> type[AnnotrainError]:
    from annotrain_tui.core.errors import AnnotrainError

    return AnnotrainError


def _interrupted() -> int:
    import signal

    previous = None
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C cannot cut the line
    except (ValueError, OSError):  # not the main thread
        pass
    try:
        _say("annotrain: interrupted")
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail ("Exception ignored")."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, (sys.__stdout__ or sys.stdout).fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file behind stdout (tests capture it)
        pass
    except Exception:  # io.UnsupportedOperation is an OSError and ValueError; anything else: leave it
        pass


def _stdout_failed(err: OSError) -> int:
    _silence_stdout()
    _say(f"annotrain: error: cannot write the output: {err.strerror or type(err).__name__}"
         f"{_advice(err.errno, output=True)}")
    return 1


_ADVICE = {
    "ENOSPC": "free some space, then run the command again",
    "EDQUOT": "the disk quota is used up: free some space, then run the command again",
    "EFBIG": "the file-size limit is reached (see 'ulimit -f'), or the file system takes no larger files",
    "EROFS": "the file system is read-only: point annotrain at a writable place (--sandbox PATH, or the "
             "XDG_DATA_HOME / XDG_STATE_HOME / XDG_CONFIG_HOME variables)",
    "EACCES": "check the permissions of the file and its directory",
    "EPERM": "check the permissions of the file and its directory",
    "ENOENT": "check the path",
    "ENOTDIR": "check the path: a part of it is a file, not a directory",
    "EISDIR": "give a file, not a directory",
    "EMFILE": "too many open files: raise 'ulimit -n' or close other programs",
    "EIO": "the device reported an I/O error: check the disk",
}


def _advice(errno_value: int | None, *, output: bool = False) -> str:
    import errno

    name = errno.errorcode.get(errno_value or 0, "")
    if output and name in ("ENOSPC", "EFBIG", "EDQUOT"):
        return " (stdout is on a full device or over its size limit: redirect it elsewhere)"
    advice = _ADVICE.get(name)
    return f" ({advice})" if advice else ""


def _os_failed(err: OSError) -> int:
    import errno

    from annotrain_tui.core.text import shown

    what = err.strerror or type(err).__name__
    where = f"{shown(err.filename, limit=300)}: " if err.filename is not None else ""
    _say(f"annotrain: error: {where}{what}{_advice(err.errno)}")
    unreadable = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ELOOP}
    return 2 if err.errno in unreadable else 1


_SQLITE_ADVICE = (
    ("disk is full", "free some space, then run the command again"),
    ("readonly", "the file or its directory is read-only: check its permissions or point --sandbox at a "
                 "writable file"),
    ("locked", "another annotrain is writing to it: try again in a moment"),
    ("disk i/o", "the device reported an I/O error: check the disk"),
    ("not a database", "this file is not a sandbox workspace: point --sandbox at another file"),
    ("unable to open", "check the path and its permissions"),
)


def _sqlite_failed(exc: Exception, args: argparse.Namespace | None) -> int:
    from annotrain_tui.core.text import shown

    message = str(exc)
    advice = next((a for key, a in _SQLITE_ADVICE if key in message.lower()), None)
    where = "the sandbox workspace"
    try:  # name the file when the settings say which it is
        from annotrain_tui.cli.context import settings_from_args
        from annotrain_tui.core.workspace import sandbox_path

        if args is not None:
            paths, settings = settings_from_args(args)
            where = f"the sandbox workspace {shown(sandbox_path(paths, settings))}"
    except Exception:
        pass
    _say(f"annotrain: error: {where}: {shown(message, limit=200)}" + (f" ({advice})" if advice else ""))
    return 1


def _internal(exc: BaseException, argv: Sequence[str] | None) -> int:
    from annotrain_tui.core import crashlog

    try:
        line, _ = crashlog.report(exc, argv=list(sys.argv[1:] if argv is None else argv), where="cli")
    except Exception:  # the crash log machinery itself failed: still one line
        line = f"internal error: {type(exc).__name__} (no crash log written)"
    _say(f"annotrain: {line}")
    return 1
