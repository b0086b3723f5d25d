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
    lines = [line.strip() for line in err.splitlines()]
    frames = [line for line in lines if line.startswith('File "')]
    if not frames:
        return False
    # the console script's own first line, `from annotrain_tui.__main__ import entry`, interrupted
    # while the import system is still finding the package: no line of annotrain has run yet (its
    # early handler is the package's first statement); a faster start-up lands there more often
    script = [f for f in frames if not f.startswith('File "<frozen ')]
    if (len(script) == 1 and script[0].endswith(", in <module>") and "annotrain_tui" not in script[0]
            and "from annotrain_tui.__main__ import entry" in lines):
        return True
    return all(f.startswith('File "<frozen ') for f in frames) or any(f.startswith('File "<frozen site>"')
                                                                      for f in frames)
