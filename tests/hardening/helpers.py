"""What the hardening tests share: the real CLI run in process."""

from __future__ import annotations

from annotrain_tui.cli import main


def run(capsys, *argv) -> tuple[int, str, str]:
    """The real CLI on ``argv`` (paths may be Path objects); argparse's SystemExit (a usage error,
    --help) comes back as its exit code. Returns (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def cli(argv, capsys) -> tuple[int, str, str]:
    """:func:`run` with the argument list first."""
    return run(capsys, *argv)
