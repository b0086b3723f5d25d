"""Every command group is in --help: a module that moved or fails to import is an error, never a
group silently left out (build_parser used to skip a ModuleNotFoundError as "not written yet")."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pytest

import annotrain_tui.cli as cli
from annotrain_tui.cli import COMMAND_MODULES, build_parser

#: every top-level command, as the README lists them
COMMANDS = {"projects", "integrations", "folders", "datasets", "ontologies", "templates", "status", "sandbox",
            "config", "manifest", "register", "jobs", "benchmark", "roster", "provision", "progress", "evaluate",
            "programmes", "decide", "graduate", "retake", "feedback", "history", "watch", "audit", "doctor", "tui"}


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_every_command_is_in_the_parser():
    assert _commands(build_parser()) == COMMANDS


def test_every_command_module_of_the_package_is_registered():
    """Each module ending in _cmd (and nothing else) holds a group; all of them are listed."""
    root = Path(cli.__file__).parent
    modules = {f"annotrain_tui.cli.{p.stem}" for p in root.glob("*_cmd.py")}
    assert modules == set(COMMAND_MODULES)
    for name in COMMAND_MODULES:
        assert callable(importlib.import_module(name).register)


def test_a_module_that_cannot_be_imported_fails_loudly(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*COMMAND_MODULES, "annotrain_tui.cli.renamed_cmd"))
    with pytest.raises(ModuleNotFoundError, match="renamed_cmd"):
        cli.build_parser()


def test_an_option_given_before_its_command_says_whose_it_is(capsys):
    """Trial (issue 13): `annotrain --screen evaluation` said only "invalid choice: 'evaluation'"."""
    import pytest

    from annotrain_tui.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--screen", "evaluation"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--screen is an option of 'annotrain tui'" in err and "annotrain tui --screen" in err
    assert err.count("\n") == 1
    # a plain typo of a command gets no such guess
    with pytest.raises(SystemExit):
        main(["statsu"])
    assert "is an option of" not in capsys.readouterr().err
