"""Issue 11, family 3: outputs never destroy inputs or the system.

Every writing command (evaluate --out / --summary-json, manifest convert / split / new --out)
refuses a target that is one of its inputs (any spelling: the same path, ./x, a hard link, a
symlink), a target that exists and is not a regular file (/dev/null, a FIFO, a directory), an
existing file without --force; it writes through a symlink and keeps the link. Inputs that are
not regular files are refused at once with one line. The real CLI is driven throughout.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from annotrain_tui.cli import main
from annotrain_tui.cli.exit_codes import exit_code_for
from annotrain_tui.core.errors import InvalidInput, OutputExists
from annotrain_tui.core.exports import atomic_write, write_csv, write_json
from annotrain_tui.core.files import atomic_write_text, check_distinct_outputs, check_output, read_user_bytes
from tests.hardening.helpers import run
from tests.synth import make_programme

S3 = "https://encord-integration.s3.eu-west-2.amazonaws.com"
TIMEOUT = 120  # seconds; only a hang (a FIFO opened) comes near it


def run_subprocess(*argv, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process: a FIFO that were opened would block it, not the test run."""
    return subprocess.run([sys.executable, "-m", "annotrain_tui", *[str(a) for a in argv]], cwd=cwd,
                          capture_output=True, text=True, timeout=TIMEOUT, env=os.environ.copy())


@pytest.fixture(scope="module")
def programme():
    return make_programme(seed=5, n_items=4, annotators=("zoe@example.com",), shapes=("bounding_box",))


@dataclass
class Writer:
    """One writing command set up in a directory: its input, and the argv that writes ``target``."""

    name: str
    input: Path
    argv: Callable[[Path, bool], list[str]]
    target_for: Callable[[str], Path]  # where the command writes, for a file name
    suffix: str


def _evaluate(tmp: Path, programme, option: str) -> Writer:
    bm = tmp / "BM.json"
    bm.write_text(json.dumps(programme.benchmark))
    tr = tmp / "TR.json"
    tr.write_text(json.dumps(next(iter(programme.training.values()))))

    def argv(target: Path, force: bool) -> list[str]:
        return ["evaluate", "--benchmark-labels", bm, "--training-labels", tr, option, target,
                *(["--force"] if force else [])]

    suffix = ".csv" if option == "--out" else ".json"
    return Writer(f"evaluate {option}", tr, argv, lambda name: tmp / f"{name}{suffix}", suffix)


def _convert(tmp: Path) -> Writer:
    src = tmp / "in.json"
    src.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/{i}.jpg"} for i in range(3)]}))

    def argv(target: Path, force: bool) -> list[str]:
        return ["manifest", "convert", src, target, *(["--force"] if force else [])]

    return Writer("manifest convert", src, argv, lambda name: tmp / f"{name}.csv", ".csv")


def _new(tmp: Path) -> Writer:
    urls = tmp / "urls.txt"
    urls.write_text("".join(f"{S3}/{i}.jpg\n" for i in range(3)))

    def argv(target: Path, force: bool) -> list[str]:
        return ["manifest", "new", "--urls", urls, "--out", target, *(["--force"] if force else [])]

    return Writer("manifest new", urls, argv, lambda name: tmp / f"{name}.json", ".json")


def _split(tmp: Path) -> Writer:
    src = tmp / "big.json"
    src.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/{i}.jpg"} for i in range(3)]}))
    parts: dict[str, Path] = {}

    def target_for(name: str) -> Path:
        # The command names its part files itself: each case gets its own --out-dir.
        d = tmp / f"parts-{name}"
        d.mkdir(exist_ok=True)
        parts[str(d / "big-part-001-of-001.json")] = d
        return d / "big-part-001-of-001.json"

    def argv(target: Path, force: bool) -> list[str]:
        return ["manifest", "split", src, "--out-dir", parts[str(target)], *(["--force"] if force else [])]

    return Writer("manifest split", src, argv, target_for, ".json")


WRITERS = ["evaluate --out", "evaluate --summary-json", "manifest convert", "manifest new", "manifest split"]


@pytest.fixture(params=WRITERS)
def writer(request, tmp_path, programme) -> Writer:
    name = request.param
    if name.startswith("evaluate"):
        return _evaluate(tmp_path, programme, name.split()[1])
    return {"manifest convert": _convert, "manifest new": _new, "manifest split": _split}[name](tmp_path)


# ---------------------------------------------------------------------------------------------
# The output is one of the inputs.

@pytest.mark.parametrize("spelling", ["same path", "./relative", "dir/../x", "hard link", "symlink"])
def test_output_that_is_an_input_is_refused(capsys, tmp_path, monkeypatch, writer, spelling):
    before = writer.input.read_bytes()
    if writer.name == "manifest split":  # the part file name is the command's: make it the input
        target = writer.target_for(spelling.replace(" ", "-").replace("/", "").replace(".", ""))
        if spelling in ("hard link", "symlink"):
            (os.link if spelling == "hard link" else os.symlink)(writer.input, target)
        else:
            pytest.skip("split names its part files itself; only links can make one an input")
        argv = writer.argv(target, True)
    else:
        monkeypatch.chdir(tmp_path)
        if spelling == "same path":
            target = writer.input
        elif spelling == "./relative":
            target = Path(f"./{writer.input.name}")
        elif spelling == "dir/../x":
            (tmp_path / "sub").mkdir()
            target = Path("sub") / ".." / writer.input.name
        else:
            target = tmp_path / f"link{writer.suffix}"
            (os.link if spelling == "hard link" else os.symlink)(writer.input, target)
        argv = writer.argv(target, True)  # even --force never replaces an input
    code, out, err = run(capsys, *argv)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("annotrain: error: ")
    assert "one of this command's inputs" in err
    assert writer.input.read_bytes() == before
    assert os.path.islink(target) == (spelling == "symlink")


# ---------------------------------------------------------------------------------------------
# Targets that are not regular files.

def test_dev_null_is_refused_and_stays_a_device(capsys, writer):
    if writer.name == "manifest split":
        target = writer.target_for("devnull")
        os.symlink("/dev/null", target)  # a part file that is /dev/null
    else:
        target = Path("/dev/null")
    code, _, err = run(capsys, *writer.argv(target, True))
    assert code == 2 and err.count("\n") == 1
    assert "character device" in err and "not a regular file" in err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_directory_target_is_refused(capsys, writer):
    target = writer.target_for("adir")
    target.mkdir()
    (target / "keep").write_text("x")
    code, _, err = run(capsys, *writer.argv(target, True))
    assert code == 2 and err.count("\n") == 1 and "is a directory" in err
    assert (target / "keep").read_text() == "x"


def test_a_fifo_target_is_refused_without_opening_it(tmp_path, writer):
    target = writer.target_for("fifo")
    os.mkfifo(target)
    proc = run_subprocess(*writer.argv(target, True), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "FIFO" in proc.stderr
    assert stat.S_ISFIFO(os.lstat(target).st_mode)


# ---------------------------------------------------------------------------------------------
# Symlinks are written through; existing files need --force.

def test_a_dangling_symlink_is_written_through_and_kept(capsys, tmp_path, writer):
    target = writer.target_for("link")
    real = tmp_path / f"real-{writer.name.replace(' ', '-')}{writer.suffix}"
    os.symlink(real, target)
    code, _, err = run(capsys, *writer.argv(target, False))
    assert code == 0, err
    assert os.path.islink(target) and os.readlink(target) == str(real)
    assert real.is_file() and real.stat().st_size > 0


def test_a_symlink_to_an_existing_file_needs_force_and_keeps_the_link(capsys, tmp_path, writer):
    target = writer.target_for("link2")
    real = tmp_path / f"real2{writer.suffix}"
    real.write_text("old\n")
    os.symlink(real, target)
    code, _, err = run(capsys, *writer.argv(target, False))
    assert code == 2 and "already exists" in err and "--force" in err
    assert real.read_text() == "old\n"
    code, _, err = run(capsys, *writer.argv(target, True))
    assert code == 0, err
    assert os.path.islink(target) and real.read_text() != "old\n"


def test_an_existing_file_is_refused_without_force_and_replaced_with_it(capsys, writer):
    target = writer.target_for("exists")
    target.write_text("precious\n")
    code, out, err = run(capsys, *writer.argv(target, False))
    assert code == 2 and out == ""
    assert err == f"annotrain: error: {target} already exists (pass --force to overwrite it)\n"
    assert target.read_text() == "precious\n"
    code, _, err = run(capsys, *writer.argv(target, True))
    assert code == 0, err
    assert target.read_text() != "precious\n"


def test_every_writing_command_has_force(capsys):
    for argv in (["evaluate"], ["manifest", "convert"], ["manifest", "split"], ["manifest", "new"]):
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        assert "--force" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# evaluate: two outputs, one file; one input, two spellings.

@pytest.mark.parametrize("other", ["same", "./same", "hard link", "symlink"])
def test_out_and_summary_json_naming_one_file_are_refused(capsys, tmp_path, monkeypatch, programme, other):
    w = _evaluate(tmp_path, programme, "--out")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "both.csv"
    if other == "same":
        second: Path = out
    elif other == "./same":
        second = Path("./both.csv")
    else:
        out.write_text("old\n")
        second = tmp_path / "alias.csv"
        (os.link if other == "hard link" else os.symlink)(out, second)
    code, stdout, err = run(capsys, *w.argv(out, True), "--summary-json", second)
    assert code == 2 and stdout == "" and err.count("\n") == 1
    assert "--out and --summary-json name the same file" in err
    assert not out.exists() or out.read_text() == "old\n"


def test_the_same_training_file_under_two_spellings_counts_once(capsys, tmp_path, monkeypatch, programme):
    w = _evaluate(tmp_path, programme, "--out")
    bm, tr = tmp_path / "BM.json", tmp_path / "TR.json"
    os.link(tr, tmp_path / "TR-hard.json")
    os.symlink(tr, tmp_path / "TR-sym.json")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    code, once, _ = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr, "--json")
    assert code == 0
    code, several, err = run(capsys, "evaluate", "--benchmark-labels", bm, "--training-labels", tr, "./TR.json",
                             "TR-hard.json", "TR-sym.json", "sub/../TR.json", "--json")
    assert code == 0
    assert "given twice" in err and "counts once" in err
    a, b = json.loads(once), json.loads(several)
    assert a["annotators"] == b["annotators"] and a["paired_rows"] == b["paired_rows"]
    assert w.input == tr


# ---------------------------------------------------------------------------------------------
# Inputs that are not regular files: one line, at once (never read forever, never block).

def _input_cases(tmp: Path, fifo: Path) -> list[list[str]]:
    good = tmp / "good.json"
    good.write_text(json.dumps({"images": [{"objectUrl": f"{S3}/1.jpg"}]}))
    return [
        ["manifest", "validate", fifo],
        ["manifest", "validate", "/dev/zero"],
        ["manifest", "convert", fifo, tmp / "o.csv"],
        ["manifest", "convert", "/dev/zero", tmp / "o.csv"],
        ["manifest", "split", fifo, "--out-dir", tmp / "p"],
        ["manifest", "new", "--urls", fifo],
        ["manifest", "new", "--urls", "/dev/zero"],
        ["evaluate", "--benchmark-labels", fifo, "--training-labels", good],
        ["evaluate", "--benchmark-labels", good, "--training-labels", "/dev/zero"],
        ["evaluate", "--benchmark-labels", good, "--training-labels", good, fifo],
        ["provision", "--roster", fifo, "--benchmark", "B", "--dry-run"],
        ["provision", "--roster", "/dev/zero", "--benchmark", "B", "--dry-run"],
    ]


@pytest.mark.parametrize("case", range(12))
def test_inputs_that_are_not_regular_files_are_refused_at_once(tmp_path, case):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    argv = _input_cases(tmp_path, fifo)[case]
    proc = run_subprocess(*argv, cwd=tmp_path)  # would block (FIFO) or never end (/dev/zero)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("annotrain: error: ")
    assert "not a regular file" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "p").exists()


# ---------------------------------------------------------------------------------------------
# The core guards themselves (defence in depth: a writer alone never replaces /dev/null).

def test_check_output_contract(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("x")
    with pytest.raises(OutputExists) as exc:
        check_output(src)
    assert exc.value.hint == "pass --force to overwrite it" and isinstance(exc.value, InvalidInput)
    assert exit_code_for(exc.value) == 2
    assert check_output(src, force=True) == src.resolve()
    with pytest.raises(InvalidInput, match="one of this command's inputs"):
        check_output(tmp_path / "." / "in.txt", inputs=[src], force=True)
    with pytest.raises(InvalidInput, match="does not exist"):
        check_output(tmp_path / "nodir" / "o.txt")
    os.symlink(tmp_path / "target.txt", tmp_path / "l.txt")
    assert check_output(tmp_path / "l.txt") == (tmp_path / "target.txt").resolve()
    check_distinct_outputs({"--a": tmp_path / "a", "--b": tmp_path / "b", "--c": None})
    with pytest.raises(InvalidInput, match="--a and --b name the same file"):
        check_distinct_outputs({"--a": tmp_path / "a", "--b": tmp_path / "x" / ".." / "a"})


@pytest.mark.parametrize("writer_fn", ["atomic_write_text", "atomic_write", "write_csv", "write_json"])
def test_atomic_writers_refuse_non_regular_targets_and_write_through_links(tmp_path, writer_fn):
    def write(path: Path) -> None:
        if writer_fn == "atomic_write_text":
            atomic_write_text(path, "hello\n")
        elif writer_fn == "atomic_write":
            atomic_write(path, lambda tmp: Path(tmp).write_text("hello\n"))
        elif writer_fn == "write_csv":
            write_csv(path, [{"a": "hello"}])
        else:
            write_json(path, {"a": "hello"})

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for bad in (Path("/dev/null"), fifo, tmp_path):
        with pytest.raises(InvalidInput, match="not a regular file|is a directory"):
            write(bad)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    real = tmp_path / "real"
    real.write_text("old")
    os.chmod(real, 0o640)
    os.symlink(real, tmp_path / "link")
    write(tmp_path / "link")
    assert os.path.islink(tmp_path / "link") and "hello" in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_read_user_bytes_never_opens_a_fifo(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # Opening a FIFO for reading with no writer blocks: run in a child, which must answer at once.
    code = ("import sys\n"
            "from annotrain_tui.core.files import read_user_bytes\n"
            "from annotrain_tui.core.errors import UnreadableInput\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n"
            "        read_user_bytes(p)\n"
            "    except UnreadableInput as e:\n"
            "        print(e)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(fifo), "/dev/zero"], capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"{fifo}: is a FIFO (named pipe), not a regular file (give a file)",
                                        "/dev/zero: is a character device, not a regular file (give a file)"]
    with pytest.raises(InvalidInput, match="FIFO"):  # and in process too (safe now: it never opens)
        read_user_bytes(fifo)
