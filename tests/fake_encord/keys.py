"""Test keys, generated at test time (no key material is ever committed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PASSPHRASE = "correct horse battery staple"


@dataclass(frozen=True)
class KeyFile:
    path: Path
    public_hex: str
    pem: str  # the file's text, to assert none of it leaks

    @property
    def secret_fragment(self) -> str:
        """A distinctive run of the key's base64 body (what a leak would contain)."""
        body = "".join(line for line in self.pem.splitlines() if not line.startswith("-----"))
        return body[40:72]


def write_key(path: Path, *, passphrase: str | None = None) -> KeyFile:
    """An Ed25519 key in OpenSSH format, mode 0600, optionally passphrase-protected (needs bcrypt)."""
    key = Ed25519PrivateKey.generate()
    enc = ser.BestAvailableEncryption(passphrase.encode()) if passphrase else ser.NoEncryption()
    pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH, enc).decode()
    path.write_text(pem)
    os.chmod(path, 0o600)
    public_hex = key.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw).hex()
    return KeyFile(path=path, public_hex=public_hex, pem=pem)


def write_rsa_key(path: Path) -> KeyFile:
    """An RSA key in OpenSSH format (Encord refuses these; the SDK's error quotes the key)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH, ser.NoEncryption()).decode()
    path.write_text(pem)
    os.chmod(path, 0o600)
    return KeyFile(path=path, public_hex="", pem=pem)
