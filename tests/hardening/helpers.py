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


def interpreter_startup_only(err: str) -> bool:
    """True when a traceback on stderr is the interpreter's own, from before any line of annotrain
    ran (a Ctrl+C landing in site -- which also runs the .pth files of site-packages --, encodings
    or runpy finding the package): every frame frozen, or the whole of it inside site."""
    frames = [line.strip() for line in err.splitlines() if line.strip().startswith('File "')]
    if not frames:
        return False
    return all(f.startswith('File "<frozen ') for f in frames) or any(f.startswith('File "<frozen site>"')
                                                                      for f in frames)
