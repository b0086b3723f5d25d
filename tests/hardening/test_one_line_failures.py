"""Every failure ends in one line: at the CLI's edge, at the config reader, at --domain, with a
full disk, a full stdout, Ctrl+C during the imports, and no terminal for the TUI."""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import annotrain_tui
from annotrain_tui.cli import build_parser, main
from annotrain_tui.core.config import Paths
from tests.hardening.helpers import cli, interpreter_startup_only

ANNOTRAIN = [sys.executable, "-m", "annotrain_tui"]


def run_cli(*argv: str, stdout=None, stdin=subprocess.DEVNULL, preexec_fn=None, timeout: float = 120,
            env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*ANNOTRAIN, *argv], stdin=stdin, stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn, timeout=timeout,
                          env={**os.environ, **(env or {})})


def one_line(err: str) -> str:
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err.strip()


# -- stdout on a full device -------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["status"], ["status", "--json"], ["projects", "list", "--json"],
                                  ["--help"], ["config", "paths"]])
def test_stdout_on_a_full_device_is_one_line_and_exit_1(argv):
    run_cli("sandbox", "init", "--demo")
    with open("/dev/full", "w") as full:
        proc = run_cli(*argv, stdout=full)
    line = one_line(proc.stderr)
    assert proc.returncode == 1
    assert line.startswith("annotrain: error: cannot write the output: No space left on device")


def test_a_closed_pipe_is_not_an_error():
    run_cli("sandbox", "init", "--demo")
    proc = subprocess.Popen([*ANNOTRAIN, "projects", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    proc.stdout.close()  # the reader is gone before anything was written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in err and "Exception ignored" not in err


# -- a full disk (RLIMIT_FSIZE: writes fail with EFBIG, no root needed) --------------------------------

def _file_size_limit(limit: int):
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


@pytest.mark.parametrize("limit", [0, 8192, 200_000])
def test_sandbox_init_on_a_full_disk_is_one_line(limit):
    proc = run_cli("sandbox", "init", "--demo", preexec_fn=_file_size_limit(limit))
    line = one_line(proc.stderr)
    # A write the system refused (core.files.write_error, SQLite) is a domain failure: exit 1.
    assert proc.returncode == 1 and line.startswith("annotrain: error: ")


def test_provisioning_on_a_full_disk_is_one_line(tmp_path):
    assert run_cli("sandbox", "init", "--demo").returncode == 0
    listing = json.loads(run_cli("projects", "list", "--json").stdout)
    projects = listing["projects"] if isinstance(listing, dict) else listing
    bench = next(p["id"] for p in projects if p["title"] == "Benchmark Labels")
    # The journal is already at the size limit: its next line cannot be written.
    limit = 4_000_000
    journal = Paths.default().journal_dir / f"provision-{bench}.jsonl"
    journal.parent.mkdir(parents=True, exist_ok=True)
    pad = b'{"event": "pad"}\n'
    journal.write_bytes(pad * (limit // len(pad)))
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nZed New,zed.new@example.com\n")
    proc = run_cli("provision", "--roster", str(roster), "--benchmark", "Benchmark Labels", "--yes",
                   preexec_fn=_file_size_limit(limit))
    line = one_line(proc.stderr)
    assert proc.returncode == 1 and line.startswith("annotrain: error: ")
    assert "File too large" in line and "ulimit -f" in line
    assert "provisioning journal" in line and journal.name in line


# -- OSError and sqlite3.Error at the edge ----------------------------------------------------------

@pytest.mark.parametrize("code,name,expect_exit,advice", [
    (errno.EROFS, "Read-only file system", 1, "writable place"),
    (errno.ENOSPC, "No space left on device", 1, "free some space"),
    (errno.EACCES, "Permission denied", 1, "permissions"),
    (errno.EFBIG, "File too large", 1, "ulimit -f"),
    (errno.ENOENT, "No such file or directory", 2, "check the path"),
])
def test_an_os_error_is_one_line_naming_the_file(capsys, monkeypatch, code, name, expect_exit, advice):
    from annotrain_tui.cli import list_cmd as ws_cmd

    def fail(*args, **kwargs):
        raise OSError(code, name, "/data/annotrain/sandbox.db\x1b[2J")

    monkeypatch.setattr(ws_cmd, "load_overview", fail)
    rc, out, err = cli(["status"], capsys)
    line = one_line(err)
    assert rc == expect_exit
    assert line.startswith("annotrain: error: /data/annotrain/sandbox.db\\x1b[2J: " + name)
    assert advice in line and "\x1b" not in err


@pytest.mark.parametrize("message,advice", [
    ("database or disk is full", "free some space"),
    ("attempt to write a readonly database", "read-only"),
    ("database is locked", "try again"),
])
def test_a_sqlite_error_is_one_line_naming_the_workspace(capsys, monkeypatch, message, advice):
    from annotrain_tui.cli import list_cmd as ws_cmd

    def fail(*args, **kwargs):
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr(ws_cmd, "load_overview", fail)
    rc, out, err = cli(["status"], capsys)
    line = one_line(err)
    assert rc == 1
    assert str(Paths.default().default_sandbox) in line and message in line and advice in line


def test_a_4300_digit_integer_is_mapped_at_the_edge_anyway(capsys, monkeypatch):
    from annotrain_tui.cli import list_cmd as ws_cmd

    monkeypatch.setattr(ws_cmd, "load_overview", lambda *a, **k: int("9" * 5000))
    rc, out, err = cli(["status"], capsys)
    assert rc == 2 and "more than 4300 digits" in one_line(err)


@pytest.mark.parametrize("argv", [
    ["manifest", "validate", "{big}"],
    ["evaluate", "--benchmark-labels", "{big}", "--training-labels", "{big}"],
])
def test_a_4300_digit_integer_in_a_users_file_never_gives_a_traceback(tmp_path, argv):
    big = tmp_path / "big.json"
    big.write_text('{"images": [{"objectUrl": "https://example.com/a.jpg", "n": ' + "9" * 5000 + "}]}")
    proc = run_cli(*[a.replace("{big}", str(big)) for a in argv])
    assert proc.returncode in (1, 2)
    assert "Traceback" not in proc.stderr + proc.stdout


# -- Ctrl+C at any point -------------------------------------------------------------------------------

def test_ctrl_c_while_the_command_modules_are_imported(capsys, monkeypatch):
    import importlib

    real = importlib.import_module

    def interrupted(name, *args, **kwargs):
        if name.startswith("annotrain_tui.cli.") and name.endswith("_cmd"):
            raise KeyboardInterrupt
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", interrupted)
    rc, out, err = cli(["status"], capsys)
    assert rc == 130 and one_line(err) == "annotrain: interrupted"


def test_ctrl_c_while_a_command_runs(capsys, monkeypatch):
    from annotrain_tui.cli import list_cmd as ws_cmd

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ws_cmd, "load_overview", interrupted)
    rc, out, err = cli(["status"], capsys)
    assert rc == 130 and one_line(err) == "annotrain: interrupted"


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.2, 0.3])
def test_ctrl_c_in_the_first_moments_of_a_real_run(delay):
    """SIGINT at several points of the start (interpreter, package and command imports, the
    command itself): exit 130 with the one line, or 0 when the run finished first. A signal that
    arrives before the interpreter installed its handler kills it silently (-SIGINT): still no
    traceback."""
    proc = subprocess.Popen([*ANNOTRAIN, "config", "paths"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if delay:
        time.sleep(delay)  # not timing a result: choosing where in the start the signal lands
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    if interpreter_startup_only(err):
        return  # the interpreter's own start-up (site, runpy finding the package): no line of annotrain ran yet
    assert "Traceback" not in err
    if proc.returncode == 130:
        assert err == "annotrain: interrupted\n"
    elif proc.returncode == -signal.SIGINT:  # the shell shows 130 for this too
        assert err in ("", "annotrain: interrupted\n")
    else:
        assert proc.returncode == 0 and err == ""


# -- the config file: one line with file:line:col, and a way out that exists --------------------------

def _write_config(text: str) -> Path:
    paths = Paths.default()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(text)
    return paths.config_file


@pytest.mark.parametrize("text,where,what", [
    ("backend = 'sandbox'\nx = " + "[" * 3000 + "]" * 3000 + "\n", ":2:", "nested too deeply"),
    ("retry_attempts = " + "9" * 5000 + "\n", ":1:18", "thousands of digits"),
    ("backend = \n", ":1:11", "invalid TOML"),
    ("[keymap\n", ":1:", "invalid TOML"),
])
def test_a_broken_config_is_one_line_and_config_reset_repairs_it(capsys, text, where, what):
    file = _write_config(text)
    for argv in (["status"], ["config", "show"], ["config", "set", "backend", "sandbox"]):
        rc, out, err = cli(argv, capsys)
        line = one_line(err)
        assert rc == 2, argv
        assert f"{file}{where}" in line and what in line and "'annotrain config reset'" in line
    assert file.read_text() == text  # refusing never rewrote it

    rc, out, err = cli(["config", "reset"], capsys)
    assert rc == 0 and not file.exists()
    kept = list(file.parent.glob("config.toml.*.bak"))
    assert len(kept) == 1 and kept[0].read_text() == text  # nothing the user wrote is lost
    rc, out, err = cli(["config", "set", "backend", "sandbox"], capsys)
    assert rc == 0, err
    rc, out, err = cli(["status"], capsys)
    assert rc == 0, err


def test_config_set_repairs_a_wrong_value_in_the_file(capsys):
    file = _write_config("retry_attempts = 0\nencord_domain = 'http://[::1'\n")
    rc, out, err = cli(["status"], capsys)
    line = one_line(err)
    assert rc == 2 and "retry_attempts" in line and "encord_domain" in line and "config set" in line
    assert cli(["config", "set", "retry_attempts", "3"], capsys)[0] == 2  # the domain is still wrong
    assert cli(["config", "set", "encord_domain", ""], capsys)[0] == 2    # ... and now the attempts
    file.write_text("retry_attempts = 0\n")
    rc, out, err = cli(["config", "set", "retry_attempts", "3"], capsys)
    assert rc == 0, err
    assert cli(["status"], capsys)[0] == 0


def test_config_reset_without_a_file_says_so(capsys):
    rc, out, err = cli(["config", "reset"], capsys)
    assert rc == 0 and "defaults apply already" in out


# -- --domain --------------------------------------------------------------------------------------

@pytest.mark.parametrize("domain", ["http://[::1", "api.encord.com", "https://", "ftp://api.encord.com",
                                    "https://api.encord.com:99999", "https://u:p@api.encord.com",
                                    "https://api.encord.com/v1?x=1", "https://api.encord.com\x1b[2J"])
def test_a_bad_domain_is_refused_at_parse_time(capsys, domain):
    with pytest.raises(SystemExit) as exc:
        main(["--domain", domain, "status"])
    out, err = capsys.readouterr()
    line = one_line(err)
    assert exc.value.code == 2 and "argument --domain" in line and "is not an API address" in line
    assert "\x1b" not in err
    assert not Paths.default().default_sandbox.exists()  # nothing was opened
    rc, out, err = cli(["config", "set", "encord_domain", domain], capsys)
    assert rc == 2 and "is not an API address" in one_line(err)


@pytest.mark.parametrize("domain,kept", [("https://api.us.encord.com/", "https://api.us.encord.com"),
                                         ("http://[::1]:8080", "http://[::1]:8080"),
                                         ("http://127.0.0.1:5000", "http://127.0.0.1:5000")])
def test_good_domains_pass(capsys, domain, kept):
    rc, out, err = cli(["config", "set", "encord_domain", domain], capsys)
    assert rc == 0, err
    assert kept in Paths.default().config_file.read_text()
    args = build_parser().parse_args(["--domain", domain, "status"])
    assert args.domain == kept


# -- the TUI without a terminal ----------------------------------------------------------------------

NO_TTY = "annotrain: the TUI needs a terminal (stdin/stdout is not a TTY); use a command, see 'annotrain --help'"


@pytest.mark.parametrize("argv", [[], ["tui"], ["tui", "--screen", "evaluation"]])
def test_the_tui_without_a_terminal_says_so_and_exits(argv):
    proc = run_cli(*argv, timeout=60)
    assert proc.returncode == 2 and one_line(proc.stderr) == NO_TTY and proc.stdout == ""
    assert not Paths.default().default_sandbox.exists()  # no demo workspace seeded for nothing


def test_the_tui_without_a_terminal_in_process(capsys):
    rc, out, err = cli([], capsys)
    assert rc == 2 and one_line(err) == NO_TTY


# -- hints name only commands that exist ------------------------------------------------------------

_HINT = re.compile(r"(?:'|\(|: |run |with |see )annotrain ((?:-[-\w]+|[a-z][\w-]*)[^'\")\n]*)")
#: Sentences about annotrain that the pattern above also finds; none of them is a hint.
_PROSE = {"never", "keeps"}


def _subparsers(parser: argparse.ArgumentParser):
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _check_hint(parser: argparse.ArgumentParser, hint: str) -> str | None:
    """None when every command, option and choice the hint names exists; else what is wrong."""
    tokens = hint.split()
    i = 0
    node = parser
    while i < len(tokens):
        tok = tokens[i]
        if "{" in tok:  # an f-string field: a value
            break
        if tok.startswith("-"):
            action = node._option_string_actions.get(tok)
            if action is None:
                return f"option {tok} does not exist"
            i += 1
            if action.nargs != 0 and i < len(tokens):
                value = tokens[i]
                if action.choices is not None and value.islower() and value not in action.choices:
                    return f"{tok} {value}: not one of {sorted(action.choices)}"
                i += 1
            continue
        sub = _subparsers(node)
        if sub is not None:
            if tok not in sub.choices:
                return f"command {tok!r} does not exist"
            node = sub.choices[tok]
            i += 1
            continue
        if tok.islower() and not tok.isupper():  # a leaf: the rest is prose or a value
            break
        i += 1  # a placeholder (MANIFEST, PATH, …)
    return None


def _hints() -> list[tuple[str, str]]:
    root = Path(annotrain_tui.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for m in _HINT.finditer(path.read_text(encoding="utf-8")):
            if m.group(1).split()[0] not in _PROSE:
                found.append((str(path.relative_to(root)), m.group(1)))
    return found


def test_the_hint_checker_catches_a_command_that_does_not_exist():
    parser = build_parser()
    assert _check_hint(parser, "config reset") is None
    assert _check_hint(parser, "config rest") is not None
    assert _check_hint(parser, "tui --screen nowhere") is not None
    assert _check_hint(parser, "jobs --retyr X") is not None
    assert _check_hint(parser, "sandbox init --demo") is None


def test_every_command_named_in_a_hint_exists():
    parser = build_parser()
    hints = _hints()
    assert len(hints) > 20  # the pattern finds them
    wrong = [(where, hint, why) for where, hint in hints if (why := _check_hint(parser, hint))]
    assert wrong == []


def test_every_command_a_remedy_renders_exists():
    """Core hints name actions (core.remedies); the CLI's command for each must exist, its options too."""
    import re as _re

    from annotrain_tui.cli.common import COMMANDS, command_of
    from annotrain_tui.core.remedies import See

    parser = build_parser()
    wrong = []
    for action, template in COMMANDS.items():
        names = _re.findall(r"\{(\w+)", template)
        command = command_of(See(action, tuple((n, "X") for n in names)))
        assert command.startswith("annotrain")
        why = _check_hint(parser, command.removeprefix("annotrain").strip())
        if why:
            wrong.append((action, command, why))
    assert wrong == []
