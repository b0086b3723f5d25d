"""annotrain: run an annotator-training programme on Encord from the keyboard."""

__version__ = "0.1.0"


def _early_interrupt_handler() -> None:
    """Ctrl+C before the program's own handling starts (the console script imports this package
    first; ``python -m`` imports it, then compiles ``__main__``): one line and exit 130, never a
    traceback. ``__main__.entry`` puts Python's own handler back as its first step."""
    import os
    import signal
    import sys
    import threading

    # the `annotrain` script, or `python -m annotrain_tui` (while runpy imports the package and then
    # compiles __main__, argv[0] is still "-m"); a library import of the package changes nothing
    if os.path.basename(sys.argv[0] if sys.argv else "") not in ("annotrain", "-m"):
        return
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupted(signum, frame):  # noqa: ARG001
        try:
            os.write(2, b"annotrain: interrupted\n")
        finally:
            os._exit(130)

    try:
        signal.signal(signal.SIGINT, interrupted)
    except (ValueError, OSError):  # pragma: no cover - no signals here
        pass


_early_interrupt_handler()
del _early_interrupt_handler
