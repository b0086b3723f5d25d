"""A loopback fake of Encord's HTTP API that the real, unmodified ``encord`` SDK talks to."""

from tests.fake_encord.keys import PASSPHRASE, KeyFile, write_key, write_rsa_key
from tests.fake_encord.server import FakeEncord, Fault

__all__ = ["FakeEncord", "Fault", "PASSPHRASE", "KeyFile", "write_key", "write_rsa_key"]
