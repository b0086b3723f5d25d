"""annotrain: run an annotator-training programme on Encord from the keyboard."""

__version__ = "0.1.0"


def _early_interrupt_handler() -> None:
    """Ctrl+C before the program's own handling starts (the console script imports this package
    first): one line and exit 130, never a traceback. Only for the `annotrain` command itself:
    importing the package as a library changes nothing. ``__main__.entry`` puts Python's own
    handler back as its first step."""
    import os
    import signal
    import sys
    import threading

    if os.path.basename(sys.argv[0] if sys.argv else "") != "annotrain":
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
