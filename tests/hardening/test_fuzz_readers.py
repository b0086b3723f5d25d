"""Issue 11, "must show": a fuzz test over the CLI's readers (manifests, rosters, label files, config).

Each reader gets valid files mutated by a fixed-seed generator (byte flips, cuts, hostile tokens
spliced in at random places, numbers swapped for overflowing or 4,300-digit ones, deep nesting, other
encodings). The real CLI reads every mutant, in process. The contract, for every single mutant:

- nothing escapes ``main`` (no traceback), whatever the bytes; no numpy/Python warning is emitted;
- the exit code is 0, 1 or 2 (0 only when the mutant is still valid input);
- stderr is at most one line (``annotrain: warning:`` lines aside), and a failure (1 or 2) explains itself in one line on stderr or in
  located diagnostics on stdout;
- nothing printed carries a raw control, bidi or surrogate character (the one untrusted-text policy);
- the input file is left byte for byte as it was.

The time is bounded twice: a fixed number of mutants, and an alarm per mutant (a hang fails the
case instead of the run).
"""

from __future__ import annotations

import json
import random
import signal
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from annotrain_tui.cli import main
from tests.synth import make_programme

SEED = 1111
MUTANTS = 200         # per reader and per base file
PER_CASE_SECONDS = 20  # generous: a hang, not slowness, is what this catches

HOSTILE_TOKENS: list[bytes] = [
    b"\x00", b"\x00\x00\x00", b"\x1b]52;c;ZWNobyBoaQ==\x07", b"\x1b]0;owned\x07", b"\x1b[2J", b"\x9b",
    "\u202e\u2066".encode(), b"\xed\xa0\x80", b"\xff\xfe", b"\xef\xbb\xbf", b"\r", b"\r\n", b"\n", b"\t",
    b"9" * 5000, b"1e400", b"-1e400", b"NaN", b"Infinity", b"-0", b"1e-400", b"[" * 3000, b'{"a":' * 2000,
    b'"', b",", b"\\", b"\\ud800", b"=cmd|' /C calc'!A0", b"[bold red]x[/]", b"{email}", "\u200b".encode(), "\u00ad".encode(), b"null", b"true", b"{}", b"[]", b'"a"', b"-", b"+",
]

NUMBER_SWAPS = [b"9" * 4400, b"1e400", b"-1e400", b"NaN", b"-Infinity", b"1e-400", b"-0.0", b"1" * 300 + b".5",
                b"0x10", b"1_000", b'"1"', b"null", b"true", b"[]", b"{}"]


def _mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    kind = rng.randrange(8)
    if kind == 0 and data:
        i = rng.randrange(len(data))
        return f"flip@{i}", data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
    if kind == 1:
        i = rng.randrange(len(data) + 1)
        return f"cut@{i}", data[:i]
    if kind in (2, 3):
        i = rng.randrange(len(data) + 1)
        token = rng.choice(HOSTILE_TOKENS)
        return f"insert {token[:12]!r}@{i}", data[:i] + token + data[i:]
    if kind == 4:
        import re

        numbers = [m.span() for m in re.finditer(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", data)]
        if numbers:
            a, b = rng.choice(numbers)
            token = rng.choice(NUMBER_SWAPS)
            return f"number@{a}->{token[:12]!r}", data[:a] + token + data[b:]
    if kind == 5 and len(data) > 2:
        a = rng.randrange(len(data))
        b = min(len(data), a + rng.randrange(1, 200))
        return f"dup[{a}:{b}]", data[:b] + data[a:b] + data[b:]
    if kind == 6:
        enc = rng.choice(["utf-16", "utf-16-be", "utf-32", "latin-1", "cp1252"])
        try:
            return f"encode {enc}", data.decode("utf-8", "replace").encode(enc, "replace")
        except Exception:  # pragma: no cover - a codec that cannot carry it
            return "encode failed", data
    # several at once
    name, out = "multi", data
    for _ in range(3):
        step, out = _mutate(rng, out)
        name += f"+{step}"
    return name, out


class _Hang(BaseException):
    """Raised by the alarm: a BaseException, so no 'catch everything' handler can swallow it."""


def _on_alarm(signum, frame):  # pragma: no cover - only when a reader hangs
    raise _Hang()


def _has_raw_controls(text: str) -> bool:
    for ch in text:
        if ch == "\n":
            continue
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            return True
        if 0xD800 <= code <= 0xDFFF:
            return True
    return False


def _run_one(capsys, argv: list[str]) -> tuple[int, str, str, list[str]]:
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(PER_CASE_SECONDS)
    caught: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
            caught = [f"{w.category.__name__}: {w.message}" for w in seen
                      if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    out, err = capsys.readouterr()
    return code, out, err, caught


def _check(capsys, label: str, argv: list[str], target: Path, mutant: bytes) -> str | None:
    target.write_bytes(mutant)
    try:
        code, out, err, caught = _run_one(capsys, argv)
    except _Hang:
        capsys.readouterr()
        return f"{label}: hung for over {PER_CASE_SECONDS}s"
    except BaseException as exc:  # the contract: nothing escapes main
        capsys.readouterr()
        return f"{label}: {type(exc).__name__} escaped main: {str(exc)[:160]!r}"
    problems = []
    if code not in (0, 1, 2):
        problems.append(f"exit {code}")
    said = [line for line in err.splitlines() if not line.startswith("annotrain: warning: ")]
    if len(said) > 1 or (err and not err.endswith("\n")):
        problems.append(f"stderr is not one line (warnings aside): {err[:300]!r}")
    if "Traceback" in err or "Traceback" in out:
        problems.append("a traceback was printed")
    if code != 0 and not (err.strip() or out.strip()):
        problems.append(f"exit {code} with nothing said")
    if _has_raw_controls(out) or _has_raw_controls(err):
        problems.append(f"raw control/bidi/surrogate printed: {(err or out)[:200]!r}")
    if caught:
        problems.append(f"warnings reached the user: {caught[:3]}")
    if target.read_bytes() != mutant:
        problems.append("the input file was changed")
    return f"{label}: " + "; ".join(problems) if problems else None


def _fuzz(capsys, base: bytes, target: Path, argv: list[str], seed: int, before: Callable[[], None] | None = None):
    rng = random.Random(seed)
    failures = []
    for n in range(MUTANTS):
        name, mutant = _mutate(rng, base)
        if before:
            before()
        problem = _check(capsys, f"#{n} {name}", argv, target, mutant)
        if problem:
            failures.append(problem)
    assert not failures, f"{len(failures)} of {MUTANTS} mutants broke the contract:\n" + "\n".join(failures[:25])


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "manifests"


@pytest.mark.parametrize("name", ["valid_images.json", "valid_mixed.csv"])
def test_fuzz_manifest_validate(capsys, tmp_path, name):
    source = FIXTURES / name
    if not source.exists():  # pick any valid fixture of that format
        source = sorted(FIXTURES.glob(f"valid*{Path(name).suffix}"))[0]
    target = tmp_path / f"m{source.suffix}"
    _fuzz(capsys, source.read_bytes(), target, ["manifest", "validate", str(target)], SEED)


def test_fuzz_manifest_convert(capsys, tmp_path):
    source = FIXTURES / "valid_images.json"
    target = tmp_path / "m.json"
    out = tmp_path / "out.csv"

    def fresh():
        out.unlink(missing_ok=True)

    _fuzz(capsys, source.read_bytes(), target, ["manifest", "convert", str(target), str(out)], SEED + 1, fresh)


ROSTER = ("name,email\n" + "".join(f"Person {i},p{i}@example.com\n" for i in range(6))
          + "José Ñandú,jose@example.com\n").encode()


def test_fuzz_roster_check(capsys, tmp_path):
    target = tmp_path / "roster.csv"
    _fuzz(capsys, ROSTER, target, ["roster", "check", str(target)], SEED + 2)


@pytest.fixture(scope="module")
def label_files():
    programme = make_programme(seed=5, n_items=4, annotators=("zoe@example.com",),
                               shapes=("bounding_box", "polygon", "rotatable_bounding_box"), video_every=3)
    bench = json.dumps(programme.benchmark).encode()
    training = json.dumps(next(iter(programme.training.values()))).encode()
    return bench, training


def test_fuzz_label_files_training(capsys, tmp_path, label_files):
    bench, training = label_files
    bm = tmp_path / "bm.json"
    bm.write_bytes(bench)
    target = tmp_path / "tr.json"
    _fuzz(capsys, training, target, ["evaluate", "--benchmark-labels", str(bm), "--training-labels", str(target)],
          SEED + 3)


def test_fuzz_label_files_benchmark_seed_mode(capsys, tmp_path, label_files):
    bench, training = label_files
    tr = tmp_path / "tr.json"
    tr.write_bytes(training)
    target = tmp_path / "bm.json"
    _fuzz(capsys, bench, target, ["evaluate", "--matching", "seed", "--benchmark-labels", str(target),
                                  "--training-labels", str(tr)], SEED + 4)


CONFIG = b'backend = "sandbox"\nretry_attempts = 4\nretry_base_delay = 0.5\n'


@pytest.mark.parametrize("command", [["config", "show"], ["config", "paths"], ["projects", "list"]])
def test_fuzz_config(capsys, isolated_dirs, command):
    target = isolated_dirs / "xdg_config_home" / "annotrain" / "config.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    sandbox = isolated_dirs / "ws.db"
    argv = list(command)
    if command[0] == "projects":
        argv += ["--sandbox", str(sandbox)]
        assert main(["sandbox", "init", "--sandbox", str(sandbox)]) == 0
        capsys.readouterr()
    _fuzz(capsys, CONFIG, target, argv, SEED + 5 + len(command[0]))
