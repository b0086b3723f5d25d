"""The start-up's hold on the cyclic garbage collector (issue 14: time to the first output).

A start-up makes about a hundred thousand objects (modules, classes, pydantic validators, Textual
widgets and styles) and frees almost none: every collection meanwhile only rescans them (about 10%
of the TUI's time to its first frame, 5% of ``annotrain status``). So the entry (``__main__``) holds
the collector off, and the start-up ends with :func:`release`: a command's just before its handler
runs (``cli._run``), the TUI's once Home's first frame is drawn (``tui/screens/home.py``). Release
freezes what the start-up made (``gc.freeze``: later collections skip it, it is never garbage) and
turns the collector back on, so a command's own work runs with it as before.

The hold also keeps Ctrl+C (SIGINT) pending over the imports: a KeyboardInterrupt raised inside
an extension module's initialisation (pydantic-core's, a Rust module) panics in its binding layer
and prints a Rust backtrace line, where the program owes one line and exit 130. Held, the signal
is delivered when the start-up ends (:func:`release_signals`, before any command's handler, the
TUI's included), as an ordinary KeyboardInterrupt in Python code.

Nothing here holds the collector or the signal unless :func:`hold` was called: a test process, or
a program that imports the package, is not touched.
"""

from __future__ import annotations

import gc
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_held = False
_signals_held = False


def hold() -> None:
    """Turn the collector off for the start-up (a no-op when it is off already: someone else's)."""
    global _held, _signals_held
    if gc.isenabled():
        gc.disable()
        _held = True
    if hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        _signals_held = True


def release_signals() -> None:
    """Let a Ctrl+C held over the start-up through (it is raised here, as KeyboardInterrupt)."""
    global _signals_held
    if _signals_held:
        _signals_held = False
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """The cyclic collector off over a bulk read (label rows, a manifest) and on again after, if it
    was on: what such a read makes holds no cycles, and each collection meanwhile only rescanned the
    growing heap (the cost per image grew with the file). A no-op when it is off already."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def held() -> bool:
    return _held


def release() -> None:
    """End the start-up: what it made is frozen and the collector is on again (once; a no-op when
    :func:`hold` did not turn it off)."""
    global _held
    release_signals()
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
