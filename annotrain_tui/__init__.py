"""annotrain: run an annotator-training programme on Encord from the keyboard."""

__version__ = "0.1.0"


def _early_interrupt_handler() -> None:
    """Ctrl+C before the program's own handling starts (the console script imports this package
    first; ``python -m`` imports it, then compiles ``__main__``): one line and exit 130, never a
    traceback. ``__main__.entry`` puts Python's own handler back as its first step."""
    # Nothing slow runs before the handler is in place: os and sys are loaded by the interpreter
    # already, and the C module _signal is built in (``import signal`` builds enums in Python, and a
    # Ctrl+C landing there was a traceback from this very function).
    import os
    import sys

    try:
        import _signal as signal
    except ImportError:  # pragma: no cover - not CPython
        import signal

    # the `annotrain` script, or `python -m annotrain_tui` (while runpy imports the package and then
    # compiles __main__, argv[0] is still "-m"); a library import of the package changes nothing
    if os.path.basename(sys.argv[0] if sys.argv else "") not in ("annotrain", "-m"):
        return

    def interrupted(signum, frame):  # noqa: ARG001
        try:
            os.write(2, b"annotrain: interrupted\n")
        finally:
            os._exit(130)

    try:
        signal.signal(signal.SIGINT, interrupted)
    except (ValueError, OSError):  # not the main thread (an import from a worker), or no signals here
        pass


_early_interrupt_handler()
del _early_interrupt_handler
