"""The layers around a backend (retries, fault injection) unwrap by type, not by an attribute name."""

from __future__ import annotations

import pytest

from annotrain_tui.core.backends.base import Backend, BackendLayer, unwrap
from annotrain_tui.core.backends.faults import FaultInjector
from annotrain_tui.core.config import Paths, Settings
from annotrain_tui.core.errors import UsageError
from annotrain_tui.core.retry import RetryingBackend
from annotrain_tui.core.workspace import Workspace


def test_raw_and_sandbox_see_through_every_layer(sandbox):
    layered = RetryingBackend(FaultInjector(sandbox, fault_rate=0.0))
    assert isinstance(layered, Backend) and isinstance(layered, BackendLayer)
    assert unwrap(layered) is sandbox
    ws = Workspace(paths=Paths.default(), settings=Settings(), backend=layered)
    assert ws.raw is sandbox and ws.sandbox is sandbox
    assert layered.name == sandbox.name


def test_a_backend_with_an_inner_attribute_is_not_a_layer(sandbox):
    """The old rule unwrapped anything that had an ``inner``: an adapter's own attribute of that name
    would have been taken for a layer."""
    sandbox.inner = "the adapter's own state"  # type: ignore[attr-defined]
    assert unwrap(RetryingBackend(sandbox)) is sandbox


def test_sandbox_only_operations_refuse_another_backend(sandbox):
    class Other:
        name = "encord"

    ws = Workspace(paths=Paths.default(), settings=Settings(), backend=RetryingBackend(Other()))  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="sandbox backend only"):
        _ = ws.sandbox
