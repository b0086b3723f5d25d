"""``python -m annotrain_tui``: the CLI, with Ctrl+C handled from the very first import."""

import sys


def entry() -> int:
    """The program: ``python -m annotrain_tui`` (and a console-script target that catches Ctrl+C
    during the first import too)."""
    import signal

    try:
        # The package's early handler (console script only) exits at once; from here on Ctrl+C is
        # Python's KeyboardInterrupt again, which every part of the program handles.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except (ValueError, OSError):  # pragma: no cover - not the main thread
        pass
    try:
        try:
            from annotrain_tui.cli import main  # imports the core: Ctrl+C may arrive meanwhile

            return main()
        except KeyboardInterrupt:
            pass
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            sys.stderr.write("annotrain: interrupted\n")
        except (OSError, ValueError):
            pass
        return 130
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(entry())
