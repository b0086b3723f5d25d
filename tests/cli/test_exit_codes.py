"""Exit codes are the CLI's contract (README: 0 ok, 1 domain failure, 2 usage or unreadable input):
one mapping in cli/exit_codes.py from each core error's kind, none in core."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import annotrain_tui.core as core
from annotrain_tui.cli import main
from annotrain_tui.cli.exit_codes import FAILURE, OK, USAGE, exit_code_for, problems_code
from annotrain_tui.core.errors import AnnotrainError

#: every error class of core → the code the README documents for it
EXPECTED = {
    "AnnotrainError": FAILURE, "AuthFailed": FAILURE, "Cancelled": FAILURE, "Conflict": FAILURE,
    "NotFound": FAILURE, "PermissionDenied": FAILURE, "RateLimited": FAILURE, "SdkCannotLoad": FAILURE,
    "Transient": FAILURE, "Unusable": FAILURE, "WriteFailed": FAILURE, "WorkspaceGone": FAILURE,
    "SdkChanged": FAILURE, "LockBusy": FAILURE, "LockUnwritable": FAILURE, "RetryExists": FAILURE,
    "BenchmarkIncomplete": FAILURE,  # the provisioning gate (issue 16): a refusal of the workspace's state
    # read, but with problems: a domain failure, though the input is the user's
    "ManifestHasErrors": FAILURE, "ManifestInvalid": FAILURE, "RosterInvalid": FAILURE,
    # usage, settings, unreadable or unusable input
    "InvalidInput": USAGE, "UnreadableInput": USAGE, "UsageError": USAGE, "ConfigError": USAGE,
    "OutputExists": USAGE, "WrongWorkspace": USAGE, "WorkspaceMissing": USAGE,
}


def _error_classes() -> list[type[AnnotrainError]]:
    for info in pkgutil.walk_packages(core.__path__, "annotrain_tui.core."):
        importlib.import_module(info.name)
    found: list[type[AnnotrainError]] = [AnnotrainError]
    todo = [AnnotrainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                todo.append(sub)
    return [c for c in found if c.__module__.startswith("annotrain_tui.core")]  # not a test's own


def _instance(cls: type[AnnotrainError]) -> AnnotrainError:
    err = cls.__new__(cls)  # some take a roster or a path: the code depends on the class alone
    Exception.__init__(err, "x")
    return err


def test_every_core_error_class_has_the_documented_code():
    classes = _error_classes()
    names = {c.__name__ for c in classes}
    assert names == set(EXPECTED), ("an error class was added or renamed: give it a kind and list it here "
                                    f"(new: {sorted(names - set(EXPECTED))}, gone: {sorted(set(EXPECTED) - names)})")
    for cls in classes:
        assert exit_code_for(_instance(cls)) == EXPECTED[cls.__name__], cls.__name__


def test_core_holds_no_exit_code():
    root = Path(core.__file__).parent
    holders = [str(p.relative_to(root)) for p in root.rglob("*.py")
               if re.search(r"\bexit_code\b", p.read_text(encoding="utf-8"))]
    assert holders == []


def test_problems_found_is_a_failure_not_a_usage_error():
    assert problems_code(True) == FAILURE and problems_code(False) == OK


def test_the_front_returns_the_mapped_code(tmp_path, capsys):
    """Through main(): a usage error, an unreadable file, and a domain failure."""
    assert main(["--sandbox", str(tmp_path / "ws.db"), "sandbox", "init"]) == OK
    ws = ["--sandbox", str(tmp_path / "ws.db")]
    assert main([*ws, "manifest", "validate", str(tmp_path / "missing.json")]) == USAGE
    assert main([*ws, "progress", "--benchmark", "no such project"]) == FAILURE
    bad = tmp_path / "roster.csv"
    bad.write_text("name,email\nAlex,not-an-address\n", encoding="utf-8")
    assert main([*ws, "roster", "check", str(bad)]) == FAILURE  # problems found: 1 (trial item 38)
    capsys.readouterr()
