"""Pytest fixtures for tests that run the SDK against the fake (import them into a test module)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from annotrain_tui.core.config import Settings
from tests.fake_encord.keys import PASSPHRASE, KeyFile, write_key
from tests.fake_encord.server import FakeEncord


@dataclass
class Demo:
    """Ids of what :func:`seed` put in the fake. ``items`` are storage item uuids, never data hashes:
    a dataset's data units have their own hashes (``fake.ws.data_hash(demo.dataset, item)``)."""

    integration: str
    top: str
    street: str
    items: list[str]
    dataset: str
    ontology: str
    template: str
    benchmark: str
    training: str


def seed(fake: FakeEncord) -> Demo:
    """A small programme: a folder tree with images, a dataset, an ontology, a benchmark and a trainee."""
    ws = fake.ws
    integ = ws.add_integration("Street Scenes S3")
    ws.add_integration("Research GCS bucket")
    top = ws.add_folder("Training Data", description="annotator training")
    street = ws.add_folder("Street Scenes", parent=top, client_metadata='{"source": "cams"}')
    ws.add_folder("Archive")
    items = [ws.add_item(street, f"img_{n:03}.jpg", f"s3://street-bucket/img_{n:03}.jpg") for n in range(5)]
    dataset = ws.add_dataset("Annotator Training Set", "benchmark images", items[:4])
    onto = ws.add_ontology("Street Scene Objects", [("Car", "bounding_box"), ("Truck", "rotatable_bounding_box"),
                                                    ("Road", "polygon")])
    template = ws.add_template()
    bench = ws.add_project("Benchmark Labels", ontology=onto, datasets=[dataset], description="gold labels",
                           users={"gold.expert@example.com": 1})
    for n, item in enumerate(items[:4]):
        ws.label(bench, item, stage="Complete", boxes=[("Car", {"x": 0.1 * n, "y": 0.1, "w": 0.2, "h": 0.3})])
    training = ws.add_project(
        "Annotator Training - Alex Kim", ontology=onto, datasets=[dataset],
        description=f"Annotator training project for Alex Kim <alex@example.com>. "
                    f"[annotrain:training benchmark={bench} annotator=alex@example.com]",
        users={"alex@example.com": 1})
    ws.label(training, items[0], stage="Review", boxes=[("Car", {"x": 0.0, "y": 0.1, "w": 0.2, "h": 0.3})])
    return Demo(integ, top, street, items, dataset, onto, template, bench, training)


@pytest.fixture(scope="session")
def encord_keys(tmp_path_factory) -> dict[str, KeyFile]:
    root = tmp_path_factory.mktemp("keys")
    return {"plain": write_key(root / "id_ed25519"),
            "locked": write_key(root / "id_ed25519_locked", passphrase=PASSPHRASE),
            "stranger": write_key(root / "id_stranger")}


@pytest.fixture
def no_proxy(monkeypatch) -> None:
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy",
                "ENCORD_SSH_KEY_FILE", "ENCORD_SSH_KEY_PASSPHRASE", "ENCORD_SSH_KEY", "ENCORD_BEARER_TOKEN"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def fake(encord_keys, no_proxy):
    server = FakeEncord()
    server.register_key(encord_keys["plain"].public_hex)
    server.register_key(encord_keys["locked"].public_hex)
    server.demo = seed(server)  # type: ignore[attr-defined]
    server.start()
    yield server
    server.stop()


def encord_settings(fake: FakeEncord, key: Path | None, **extra: Any) -> Settings:
    """Settings for the fake: short timeouts, no waiting between retries."""
    values: dict[str, Any] = {
        "backend": "encord", "ssh_key_path": key, "encord_domain": fake.url, "request_timeout": 5.0,
        "retry_base_delay": 0.0, "retry_attempts": 3,
        "workflow_templates": {"Annotator Training": fake.demo.template},  # type: ignore[attr-defined]
    }
    values.update(extra)
    return Settings(**values)


@pytest.fixture
def backend(fake, encord_keys):
    """The Encord adapter on the fake, checked afterwards for answers the fake could not give."""
    from annotrain_tui.core.backends.encord import EncordBackend

    b = EncordBackend.connect(encord_settings(fake, encord_keys["plain"].path))
    yield b
    b.close()
    assert not fake.errors, fake.errors
    assert not fake.unhandled, fake.unhandled
