"""One malloc arena for the whole process (glibc), for the TUI.

glibc gives a thread that allocates its own arena (up to eight per core), and the blocks a thread
frees stay in its arena for that thread to reuse. The TUI reads label rows in worker threads, one
new thread per load: measured on 1,000 × 10 label-row files, the same load peaked 9 MiB higher in
a worker (73 MiB) than on the main thread (64 MiB), and equal with one arena (issue 14: the
evaluation screen's memory against the CLI's). The app's threads take turns with the interpreter
anyway, so they gain nothing from arenas of their own. Elsewhere (musl, macOS, no ctypes) nothing
is done.
"""

from __future__ import annotations

__all__ = ["one_arena"]

#: glibc's <malloc.h>
_M_ARENA_MAX = -8


def one_arena() -> bool:
    """Ask glibc for a single malloc arena from now on; True when it agreed. Threads started later
    allocate from the arena every thread shares."""
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # not glibc (musl's mallopt does nothing)
            return False
        return bool(libc.mallopt(_M_ARENA_MAX, 1))
    except (OSError, AttributeError, ImportError):
        return False
