"""Fault and latency injection around any backend (used with the sandbox for tests and benches).

``ANNOTRAIN_SANDBOX_FAULTS=0.2``: each call fails with a Transient error with that probability,
half of them before the call acts and half after it acted with the answer lost (as a timeout
from Encord does). ``ANNOTRAIN_SANDBOX_LATENCY_MS=50`` adds that much to every call.
``ANNOTRAIN_SANDBOX_SEED`` makes the faults repeatable.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from typing import Any

from annotrain_tui.core.backends.base import PROTOCOL_METHODS, Backend, BackendLayer
from annotrain_tui.core.errors import InvalidInput, Transient


class FaultInjector(BackendLayer):
    def __init__(self, inner: Backend, *, fault_rate: float = 0.0, latency_ms: float = 0.0,
                 seed: int | None = None) -> None:
        if not 0.0 <= fault_rate < 1.0:
            raise InvalidInput(f"fault rate {fault_rate} must be in [0, 1)")
        super().__init__(inner)
        self.fault_rate = fault_rate
        self.latency = latency_ms / 1000.0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.injected = {"before": 0, "after": 0}

    @classmethod
    def from_env(cls, inner: Backend) -> Backend:
        from annotrain_tui.core import envvars

        rate = envvars.number("ANNOTRAIN_SANDBOX_FAULTS")
        latency = envvars.number("ANNOTRAIN_SANDBOX_LATENCY_MS")
        seed = envvars.integer("ANNOTRAIN_SANDBOX_SEED")
        if rate <= 0 and latency <= 0:
            return inner
        return cls(inner, fault_rate=rate, latency_ms=latency, seed=seed)

    def _draw(self) -> str | None:
        with self._lock:
            roll = self._rng.random()
        if roll >= self.fault_rate:
            return None
        return "before" if roll < self.fault_rate / 2 else "after"

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self.inner, attr)
        if attr not in PROTOCOL_METHODS:
            return target

        @functools.wraps(target)
        def call(*args: Any, **kwargs: Any) -> Any:
            if self.latency:
                time.sleep(self.latency)
            fault = self._draw()
            if fault == "before":
                self.injected["before"] += 1
                raise Transient(f"injected fault: {attr} failed before acting", acted=False)
            result = target(*args, **kwargs)
            if fault == "after":
                self.injected["after"] += 1
                raise Transient(f"injected fault: {attr} timed out after acting (answer lost)", acted=None)
            return result

        return call
