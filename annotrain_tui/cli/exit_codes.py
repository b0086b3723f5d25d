"""Exit codes are the CLI's contract (README: "Exit codes"), which is why the mapping lives here and
not in core: a core error says what kind of failure it is (``AnnotrainError.kind``), and this
module alone turns that into a number. Scripts rely on these numbers; change them only with the README.

- ``OK`` (0): the command did what was asked (warnings allowed).
- ``FAILURE`` (1): a domain failure: the work could not be done or found problems (a manifest with
  errors, a roster with problems, a failed check, a refusal from the workspace, a full disk).
- ``USAGE`` (2): usage or unreadable input: the command line, a setting or a file the user gave is
  wrong or cannot be read.
- ``INTERRUPTED`` (130): Ctrl+C, as a shell reports SIGINT.
"""

from __future__ import annotations

from annotrain_tui.core.errors import AnnotrainError, ErrorKind

OK = 0
FAILURE = 1
USAGE = 2
INTERRUPTED = 130

#: error kind (core.errors.ErrorKind) → exit code
BY_KIND: dict[ErrorKind, int] = {"failure": FAILURE, "input": USAGE}


def exit_code_for(err: AnnotrainError) -> int:
    """The exit code of a command that ended in ``err``."""
    return BY_KIND.get(err.kind, FAILURE)


def problems_code(found: bool) -> int:
    """The exit code of a command that checks something (``manifest validate``, ``roster check``,
    ``doctor``): FAILURE when it found problems, else OK."""
    return FAILURE if found else OK
