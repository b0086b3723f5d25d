"""Shared fixtures: every test runs with its own XDG dirs, so nothing touches the real home."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotrain_tui.core.backends.sandbox import SandboxBackend

#: the loopback Encord fixtures (fake, encord_keys, no_proxy, backend) for every test that asks for them
pytest_plugins = ["tests.fake_encord.fixtures"]


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch) -> Path:
    root = tmp_path_factory.mktemp("xdg")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        d = root / var.lower()
        d.mkdir()
        monkeypatch.setenv(var, str(d))
    # Registration jobs finish at once unless a test asks for a delay.
    monkeypatch.setenv("ANNOTRAIN_SANDBOX_JOB_SECONDS", "0")
    for var in ("ANNOTRAIN_SANDBOX_FAULTS", "ANNOTRAIN_SANDBOX_LATENCY_MS", "ANNOTRAIN_SANDBOX_SEED"):
        monkeypatch.delenv(var, raising=False)
    return root


@pytest.fixture
def sandbox(tmp_path) -> SandboxBackend:
    backend = SandboxBackend(tmp_path / "ws.db")
    yield backend
    backend.close()


@pytest.fixture
def demo(tmp_path):
    """A demo workspace: (backend, ids)."""
    from annotrain_tui.core.backends.sandbox.demo import seed_demo

    backend = SandboxBackend(tmp_path / "demo.db")
    ids = seed_demo(backend)
    yield backend, ids
    backend.close()


@pytest.fixture(autouse=True)
def signals_as_they_were():
    """A test leaves SIGINT and SIGTERM as it found them (their handlers and the thread's signal
    mask): a handler left at SIG_IGN, or SIGINT left blocked, is inherited by every process the
    worker starts afterwards, and another test's Ctrl+C then never arrives (a CI run)."""
    import signal
    import threading

    main = threading.current_thread() is threading.main_thread()
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} if main else {}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, []) if main and hasattr(signal, "pthread_sigmask") else None
    yield
    if not main:
        return
    changed = [f"{signal.Signals(s).name}: {before[s]!r} -> {h!r}" for s in before
               if (h := signal.getsignal(s)) != before[s]]
    for s, handler in before.items():
        if handler is not None:
            signal.signal(s, handler)
    if mask is not None:
        now = signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if set(now) != set(mask):
            changed.append(f"signal mask: {sorted(mask)} -> {sorted(now)}")
    if changed:
        pytest.fail("the test left signals changed: " + "; ".join(changed))
