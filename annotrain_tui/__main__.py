"""``python -m annotrain_tui``: the CLI, with Ctrl+C handled from the very first import."""

import sys


def entry() -> int:
    """The program: ``python -m annotrain_tui`` (and a console-script target that catches Ctrl+C
    during the first import too)."""
    import signal

    # A Ctrl+C that lands in code Python calls from C (a __del__, an import hook) is "ignored" and
    # printed with a traceback by the unraisable hook; here it is remembered instead, and the run
    # ends as interrupted.
    swallowed: list[BaseException] = []
    default_hook = sys.unraisablehook

    def unraisable(info) -> None:  # noqa: ANN001 - sys.UnraisableHookArgs
        if isinstance(info.exc_value, KeyboardInterrupt):
            swallowed.append(info.exc_value)
            return
        default_hook(info)

    sys.unraisablehook = unraisable
    try:
        try:
            # Until here the package's early handler (console script only) exits at once; from here
            # on Ctrl+C is Python's KeyboardInterrupt again, which every part of the program handles.
            signal.signal(signal.SIGINT, signal.default_int_handler)
        except (ValueError, OSError):  # pragma: no cover - not the main thread
            pass
        try:
            # every import is inside the handling: Ctrl+C may arrive during any of them (Python's
            # own handler is back from the first line of entry)
            from annotrain_tui.core import startup

            startup.hold()  # no cyclic collection over the start-up's imports (released by cli._run or the TUI)
            from annotrain_tui.cli import main  # imports the core: Ctrl+C may arrive meanwhile

            code = main()
            if not swallowed:
                return code
        except KeyboardInterrupt:
            pass
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
