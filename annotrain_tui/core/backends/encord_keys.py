"""The SSH key file of the Encord backend: reading it, checking what it is, its fingerprint, its
passphrase, and one clear error when the SDK cannot load it.

No secret is shown, logged or chained: errors name the file and the problem, never the content
(an SDK key-parsing error can hold key text, so none is passed on, not even as ``__context__``).
Only the header of an OpenSSH key is parsed here (cipher, key type); the key itself is loaded by
the SDK.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from annotrain_tui.core.errors import AnnotrainError, AuthFailed, ConfigError, InvalidInput, UnreadableInput
from annotrain_tui.core.remedies import see
from annotrain_tui.core.text import shown

PASSPHRASE_ENV = "ENCORD_SSH_KEY_PASSPHRASE"
MAX_KEY_BYTES = 64 * 1024

#: A passphrase: the text itself, or a callback asked with the key path (None: not given).
PassphraseSource = str | Callable[[Path], str | None] | None

_OPENSSH_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----"
_OPENSSH_END = "-----END OPENSSH PRIVATE KEY-----"


class KeyInfo:
    """What the key file's unencrypted header says (no secret is read or kept)."""

    def __init__(self, encrypted: bool, key_type: str) -> None:
        self.encrypted = encrypted
        self.key_type = key_type


def _read_string(blob: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 4 > len(blob):
        raise ValueError
    n = int.from_bytes(blob[pos:pos + 4], "big")
    if pos + 4 + n > len(blob):
        raise ValueError
    return blob[pos + 4:pos + 4 + n], pos + 4 + n


def inspect_key(text: str, path: Path) -> KeyInfo:
    """Check the file is an OpenSSH private key and read its cipher and key type.

    Errors name the file and the problem, never the content.
    """
    hint = "Encord needs an Ed25519 key in OpenSSH format (ssh-keygen -t ed25519)"
    if _OPENSSH_BEGIN not in text:
        if re.search(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-\S+) AAAA", text.lstrip(), re.MULTILINE):
            raise InvalidInput(f"SSH key file {path} holds a public key", hint="give the private key file "
                               "(the one without .pub)")
        if "PRIVATE KEY-----" in text:
            raise InvalidInput(f"SSH key file {path} is not in OpenSSH format", hint=hint)
        raise InvalidInput(f"{path} is not an SSH private key file", hint=hint)
    body = text.split(_OPENSSH_BEGIN, 1)[1].split(_OPENSSH_END, 1)[0]
    key_type: bytes | None = None
    cipher = b""
    try:
        blob = base64.b64decode("".join(body.split()), validate=True)
        magic = b"openssh-key-v1\x00"
        if blob.startswith(magic):
            cipher, pos = _read_string(blob, len(magic))
            _kdf, pos = _read_string(blob, pos)
            _kdf_options, pos = _read_string(blob, pos)
            pos += 4  # number of keys
            public, pos = _read_string(blob, pos)
            key_type, _ = _read_string(public, 0)
    except (ValueError, binascii.Error):
        key_type = None
    # raised here, not in the except block: key errors never carry another exception along
    if key_type is None:
        raise InvalidInput(f"SSH key file {path} is damaged (not a readable OpenSSH private key)", hint=hint)
    kind = key_type.decode("ascii", "replace")
    if kind != "ssh-ed25519":
        raise InvalidInput(f"SSH key file {path} holds a {shown(kind, limit=40)} key, not an Ed25519 key",
                           hint=hint)
    return KeyInfo(encrypted=cipher != b"none", key_type=kind)


def read_key_file(path: Path) -> str:
    """The key file's text; failures name the file and the reason (errors are not chained)."""
    problem: AnnotrainError | None = None
    data = b""
    try:
        if path.is_dir():
            problem = UnreadableInput(f"SSH key file {path} is a directory, expected a file")
        else:
            with path.open("rb") as fh:
                data = fh.read(MAX_KEY_BYTES + 1)
    except FileNotFoundError:
        problem = UnreadableInput(f"SSH key file {path} does not exist",
                                  hint="pass --ssh-key PATH or save the key's path in the settings",
                                  see=see("config.set", key="ssh_key_path", value="PATH"))
    except PermissionError:
        problem = UnreadableInput(f"SSH key file {path}: permission denied")
    except OSError as exc:
        problem = UnreadableInput(f"SSH key file {path} cannot be read ({exc.strerror or type(exc).__name__})")
    if problem is None and len(data) > MAX_KEY_BYTES:
        problem = InvalidInput(f"{path} is not an SSH private key file (far too large)")
    if problem is None and not data.isascii():
        problem = InvalidInput(f"{path} is not an SSH private key file (not text)")
    if problem is not None:
        raise problem
    return data.decode("ascii")


def fingerprint(public_key: Any) -> str:
    """OpenSSH-style SHA256 fingerprint of a public key (what Encord's key settings show)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    blob = public_key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).split()[1]
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def resolve_passphrase(source: PassphraseSource, path: Path) -> str | None:
    if isinstance(source, str):
        return source or None
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    if callable(source):
        return source(path) or None
    return None



def key_failure(exc: Exception, path: Path, info: KeyInfo) -> AnnotrainError:
    """One clear error for a key the SDK could not load, without any of the exception's text."""
    from cryptography.exceptions import UnsupportedAlgorithm

    if isinstance(exc, FileNotFoundError):
        return UnreadableInput(f"SSH key file {path} does not exist")
    if isinstance(exc, PermissionError):
        return UnreadableInput(f"SSH key file {path}: permission denied")
    if isinstance(exc, UnicodeDecodeError):
        return InvalidInput(f"{path} is not an SSH private key file (not text)")
    if isinstance(exc, UnsupportedAlgorithm):
        return ConfigError(f"SSH key {path} needs the 'bcrypt' package to be read", hint="pip install bcrypt")
    if info.encrypted and isinstance(exc, (ValueError, TypeError)):
        return AuthFailed(f"wrong passphrase for SSH key {path}")
    if isinstance(exc, OSError):
        return UnreadableInput(f"SSH key file {path} cannot be read")
    return InvalidInput(f"SSH key file {path} could not be loaded as an Ed25519 private key",
                        hint="Encord needs an Ed25519 key in OpenSSH format (ssh-keygen -t ed25519)")
