"""Fixtures of the end-to-end tests: an empty fake of Encord (the programme builds everything), and
the same programme ready on each backend."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import EncordWorld, SandboxWorld
from tests.fake_encord.server import FakeEncord


@pytest.fixture
def bare_fake(encord_keys, no_proxy):  # noqa: F811
    """A fake organisation with nothing in it but the caller's key."""
    server = FakeEncord()
    server.register_key(encord_keys["plain"].public_hex)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def encord_world(bare_fake, encord_keys) -> EncordWorld:  # noqa: F811
    return EncordWorld(bare_fake, encord_keys["plain"].path)


@pytest.fixture
def sandbox_world(tmp_path) -> SandboxWorld:
    return SandboxWorld(tmp_path / "programme.db")
