"""Key text: recognising it where a path belongs, and removing it from anything shown or logged.

An SSH private key's *text* is easy to give where its *path* belongs (``--ssh-key "$(cat key)"``,
``ENCORD_SSH_KEY_FILE=<text>``; the SDK's own ``ENCORD_SSH_KEY`` holds key text). annotrain keeps
a key as a path only, so :func:`looks_like_key_text` lets every entry point refuse such a value
without echoing it, and :func:`redact` is the last line of defence for every message the CLI
prints, every toast and every crash log.

What counts as key text:

- PEM / OpenSSH armour: ``-----BEGIN [...] PRIVATE KEY-----`` up to its END line (or to the end
  of the base64 that follows, when the END line is missing), and any left-over armour line;
- OpenSSH public key lines (``ssh-ed25519 AAAA...``, ``ssh-rsa``, ``ecdsa-sha2-*``, ``sk-*``);
- bare base64 blobs of key length: a run of 60 or more base64 characters mixing upper case, lower
  case and digits (a key body line is 70), together with the base64 runs around it. Hex digests,
  UUIDs, file paths and SHA256 fingerprints (43 characters) do not qualify.

Pure Python, standard library only: the CLI imports it on every start.
"""

from __future__ import annotations

import re

__all__ = ["REMOVED", "looks_like_key_text", "redact"]

REMOVED = "<key text removed>"

_B64 = r"[A-Za-z0-9+/=]"
# An armoured block: BEGIN line, then base64 and header text up to the END line, or (no END
# line) the base64 that follows the BEGIN line.
_ARMOUR_BLOCK = re.compile(
    r"-----\s*BEGIN[A-Z0-9 \t]*PRIVATE KEY\s*-----"
    r"(?:[A-Za-z0-9+/=\s\\:,._-]*?-----\s*END[A-Z0-9 \t]*PRIVATE KEY\s*-----"
    r"|(?:(?:\s|\\[nrt]|\\x0[9ad])*[A-Za-z0-9+/=]{16,})*)",
    re.DOTALL,
)
# A lone armour line (an END without BEGIN, a BEGIN cut in the middle).
_ARMOUR_LINE = re.compile(r"-----\s*(?:BEGIN|END)[A-Z0-9 \t]*(?:PRIVATE )?KEY(?: BLOCK)?\s*-----")
_PRIVATE_KEY_WORDS = re.compile(r"\bPRIVATE KEY-----|-----BEGIN OPENSSH\b")
_PUBLIC_LINE = re.compile(
    r"\b(?:ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-[a-z0-9]+|sk-ssh-ed25519@openssh\.com|"
    r"sk-ecdsa-sha2-[a-z0-9]+@openssh\.com)\s+AAAA" + _B64 + r"+")
_RUN = re.compile(_B64 + r"{16,}")
_MIN_BLOB = 60


def _blob_like(run: str) -> bool:
    """A long base64 run with upper case, lower case and digits (a key body line)."""
    if len(run) < _MIN_BLOB:
        return False
    upper = sum(c.isupper() for c in run)
    lower = sum(c.islower() for c in run)
    digits = sum(c.isdigit() for c in run)
    return upper >= 4 and lower >= 4 and digits >= 4


def _blob_spans(text: str) -> list[tuple[int, int]]:
    """Spans of key-like base64: every qualifying run, grown over neighbouring base64 runs
    separated only by whitespace (or a visible ``\\n``), so a key body goes as a whole."""
    runs = [(m.start(), m.end()) for m in _RUN.finditer(text)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(runs):
        start, end = runs[i]
        if not _blob_like(text[start:end]):
            i += 1
            continue
        lo = i
        while lo > 0 and _only_gap(text[runs[lo - 1][1]:runs[lo][0]]):
            lo -= 1
        hi = i
        while hi + 1 < len(runs) and _only_gap(text[runs[hi][1]:runs[hi + 1][0]]):
            hi += 1
        spans.append((runs[lo][0], runs[hi][1]))
        i = hi + 1
    return spans


# Between two lines of a key body: whitespace, or a line break as some front escaped it (``\n``
# from repr, ``\x0a`` from core.text.shown).
_GAP = re.compile(r"(?:\s|\\[nrt]|\\x0[9ad]|\\u202[89])+")


def _only_gap(between: str) -> bool:
    return bool(_GAP.fullmatch(between))


def looks_like_key_text(value: object) -> bool:
    """True when ``value`` holds (part of) a private or public SSH key's text rather than a path."""
    if value is None:
        return False
    text = value if isinstance(value, str) else str(value)
    if not text:
        return False
    if _ARMOUR_BLOCK.search(text) or _ARMOUR_LINE.search(text) or _PRIVATE_KEY_WORDS.search(text):
        return True
    if _PUBLIC_LINE.search(text):
        return True
    return bool(_blob_spans(text))


#: Secrets this process holds that look like nothing in particular (a bearer token): removed
#: wherever they appear, like key text. Filled by ``register_secret``; never written anywhere.
_LITERALS: set[str] = set()


def register_secret(value: str) -> None:
    """Remove ``value`` from everything annotrain shows or logs from now on (see ``redact``)."""
    value = value.strip()
    if len(value) >= 8:
        _LITERALS.add(value)


def redact(text: object) -> str:
    """``text`` with every key-like run (and every registered secret) replaced by
    ``<key text removed>`` (idempotent)."""
    if text is None:
        return ""
    out = text if isinstance(text, str) else str(text)
    if not out:
        return out
    for secret in _LITERALS:
        if secret in out:
            out = out.replace(secret, REMOVED)
    out = _ARMOUR_BLOCK.sub(REMOVED, out)
    out = _ARMOUR_LINE.sub(REMOVED, out)
    out = _PUBLIC_LINE.sub(REMOVED, out)
    spans = _blob_spans(out)
    for start, end in reversed(spans):
        out = out[:start] + REMOVED + out[end:]
    return out


# -- files only the user can read --------------------------------------------------------------
#: Permissions of every file annotrain writes under its config and state dirs, and of the
#: directories it creates there.
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_opener(path: str, flags: int) -> int:
    """``open(..., opener=private_opener)``: a file created by the call is 0600 (an existing one
    keeps its mode)."""
    import os

    return os.open(path, flags, PRIVATE_FILE)


def make_private_dir(path: object) -> None:
    """Create ``path`` and any missing parents as 0700 (directories that exist are left alone)."""
    import os
    from pathlib import Path

    target = Path(str(path))
    missing = []
    cur = target
    while not cur.exists() and cur != cur.parent:
        missing.append(cur)
        cur = cur.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, PRIVATE_DIR)
        except FileExistsError:
            continue
        os.chmod(d, PRIVATE_DIR)  # the umask may have taken bits away; never adds any beyond 0700
