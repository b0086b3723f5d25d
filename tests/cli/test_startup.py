"""Start-up (issue 14): a command imports only what it uses, and the laziness changes nothing a user
sees. The CLI's parser registers its commands from ``cli.COMMANDS`` without importing their modules
(argparse imports the module of the command it reaches); the TUI imports a screen when it opens.

What a run imports is ``sys.modules`` as the command exits, in a fresh process (so nothing this
test process has loaded counts)."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import annotrain_tui.cli as cli
from annotrain_tui.cli import COMMAND_MODULES, COMMANDS, build_parser

#: the libraries no start-up may pay for unless the command computes with them
HEAVY = ("numpy", "pandas", "scipy", "shapely", "textual", "rich", "encord", "pydantic")


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """Every command path of the parser, the top level (``()``) first: ('manifest', 'validate'), …"""
    yield prefix, parser
    sub = _subparsers(parser)
    if sub is not None:
        for name, child in sub.choices.items():
            yield from _paths(child, (*prefix, name))


_CHILD = """
import atexit, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w", encoding="utf-8").write("\\n".join(sorted(sys.modules))))
sys.argv[0] = "annotrain"
from annotrain_tui.__main__ import entry
sys.exit(entry())
"""


def _imported(*args: str, tmp: Path) -> tuple[set[str], subprocess.CompletedProcess]:
    """The modules ``annotrain ARGS`` has imported when it exits (in a fresh process), and the run."""
    out = tmp / "modules.txt"
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(out), *args], capture_output=True, text=True,
                          timeout=120)
    return set(out.read_text(encoding="utf-8").split("\n")), proc


def _heavy(modules: set[str], libraries=HEAVY) -> set[str]:
    return {m for m in modules if m.split(".")[0] in libraries}


# -- the table is what the modules register -----------------------------------------------------------

def test_the_table_names_every_command_with_its_help_in_the_order_of_the_eager_parser():
    eager = _subparsers(build_parser())
    assert [(a.dest, a.help) for a in eager._choices_actions] == [(name, help) for name, _, help in COMMANDS], (
        "cli.COMMANDS must list each command as its module registers it (name, help, order): update the table")


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_each_command_is_in_the_table_under_the_module_that_registers_it(module):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(module).register(sub)
    assert list(sub.choices) == [name for name, m, _ in COMMANDS if f"annotrain_tui.cli.{m}" == module]


def test_the_lazy_parser_shows_the_same_help_for_every_command(capsys, monkeypatch):
    """``annotrain [COMMAND …] --help`` through the lazy parser, each from a fresh parser (so each loads
    only its own module), against the eager parser's help of the same command."""
    monkeypatch.setenv("COLUMNS", "100")
    paths = list(_paths(build_parser()))
    assert len(paths) > 30  # every group and its actions
    for path, eager in paths:
        with pytest.raises(SystemExit) as done:
            build_parser(lazy=True).parse_args([*path, "--help"])
        assert done.value.code == 0
        assert capsys.readouterr().out == eager.format_help(), path


@pytest.mark.parametrize("columns", ["100", "52", None, "not a number"])
def test_the_help_is_as_wide_as_with_argparses_own_formatter(monkeypatch, columns):
    """The CLI's formatter finds the width without shutil: the same rule, the same help."""
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    import shutil

    assert cli._columns() == shutil.get_terminal_size().columns
    for path, parser in _paths(build_parser()):
        ours = parser.format_help()
        monkeypatch.setattr(parser, "formatter_class", argparse.HelpFormatter)
        assert parser.format_help() == ours, path


def test_a_command_line_error_reads_the_same_through_the_lazy_parser(capsys):
    for argv in (["statsu"], ["manifest", "validat"], ["--screen", "evaluation"], ["status", "--jsn"],
                 ["evaluate", "--matching", "best"], ["tui", "--screen", "nowhere"]):
        outs = []
        for lazy in (False, True):
            monkey_parser = build_parser(lazy=lazy)
            with pytest.raises(SystemExit) as done:
                monkey_parser.parse_args(argv)
            outs.append((done.value.code, capsys.readouterr().err))
        assert outs[0] == outs[1] and outs[0][0] == 2, argv


def test_once_every_module_is_loaded_the_lazy_parser_is_the_eager_one(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    lazy = build_parser(lazy=True)
    commands = _subparsers(lazy)
    assert isinstance(commands, cli._LazyCommands)
    assert all(p is None for p in commands.choices.values())  # nothing built, nothing imported for it
    commands.load_all()
    eager = dict(_paths(build_parser()))
    loaded = dict(_paths(lazy))
    assert list(loaded) == list(eager)
    assert {path: p.format_help() for path, p in loaded.items()} == {path: p.format_help() for path, p in eager.items()}
    # the same handlers and defaults: a parsed command line is the same namespace
    argv = ["manifest", "validate", "m.json", "--json"]
    assert vars(build_parser(lazy=True).parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_a_command_the_table_names_but_no_module_registers_is_a_loud_error(monkeypatch):
    monkeypatch.setattr(cli, "COMMANDS", (*COMMANDS, ("ghost", "list_cmd", "a command nobody wrote")))
    parser = build_parser(lazy=True)
    with pytest.raises(RuntimeError, match="registers no command 'ghost'"):
        parser.parse_args(["ghost"])


def test_a_module_that_cannot_be_imported_fails_loudly_when_its_command_runs(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMANDS", (("status", "renamed_cmd", "the workspace at a glance"),))
    assert cli.main(["status"]) == 1
    assert "internal error: ModuleNotFoundError" in capsys.readouterr().err


# -- what each start-up imports -----------------------------------------------------------------------

def test_help_and_version_import_no_command_module_and_no_core(tmp_path):
    for argv in (["--help"], ["--version"]):
        modules, proc = _imported(*argv, tmp=tmp_path)
        assert proc.returncode == 0, proc.stderr[-500:]
        assert _heavy(modules) == set(), argv
        assert {m for m in modules if m.startswith("annotrain_tui.cli.")} == set(), argv
        core = {m for m in modules if m.startswith("annotrain_tui.core.")}
        # only the untrusted-text gate that every write to stdout passes, and the entry's hold on the
        # collector (core.startup: gc alone)
        assert core <= {"annotrain_tui.core.text", "annotrain_tui.core.secrets", "annotrain_tui.core.startup"}, (
            argv, core)
        assert not modules & {"typing", "shutil", "zlib", "lzma", "bz2"}, argv  # see cli._columns


def test_a_commands_help_imports_only_its_own_module(tmp_path):
    modules, proc = _imported("evaluate", "--help", tmp=tmp_path)
    assert proc.returncode == 0 and "usage: annotrain evaluate" in proc.stdout
    assert {m for m in modules if m.endswith("_cmd")} == {"annotrain_tui.cli.evaluate_cmd"}
    assert _heavy(modules, ("numpy", "pandas", "scipy", "shapely", "textual")) == set()


def test_status_on_the_sandbox_imports_no_array_library_and_no_tui(tmp_path):
    db = tmp_path / "ws.db"
    assert cli.main(["sandbox", "init", "--demo", "--sandbox", str(db)]) == 0
    modules, proc = _imported("status", "--sandbox", str(db), tmp=tmp_path)
    assert proc.returncode == 0 and "Workspace: sandbox" in proc.stdout, proc.stderr[-500:]
    # nor pydantic: settings and the backend's records are plain objects (issue 14: its import
    # alone is four times python -c pass)
    assert _heavy(modules) == set()
    assert {m for m in modules if m.endswith("_cmd")} == {"annotrain_tui.cli.list_cmd"}
    assert "annotrain_tui.core.evaluation.engine" not in modules
    # opening the sandbox loads neither the manifest models (a registration's) nor the label-row
    # shapes (a label row's)
    assert not {m for m in modules if m.startswith(("annotrain_tui.core.manifest", "annotrain_tui.core.evaluation"))}


def test_manifest_validate_imports_no_array_library_and_neither_the_converter_nor_the_fixes(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"images": [{"objectUrl": "https://bucket.s3.amazonaws.com/a.jpg"}]}', encoding="utf-8")
    modules, proc = _imported("manifest", "validate", str(path), tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert _heavy(modules, ("numpy", "pandas", "scipy", "shapely", "textual", "rich", "encord")) == set()
    assert not modules & {"annotrain_tui.core.manifest.convert", "annotrain_tui.core.manifest.fixes",
                          "annotrain_tui.core.manifest.split"}


def test_seed_evaluation_never_imports_scipy_and_optimal_does_when_a_group_needs_the_solver():
    """scipy's assignment solver is for optimal matching where objects compete; seed never needs it."""
    code = ("import sys\n"
            "from tests.synth import make_programme\n"
            "from annotrain_tui.core.evaluation import evaluate\n"
            "p = make_programme(seed=3, n_items=30, objects_per_item=(6, 12), jitter=0.3)\n"
            "evaluate(p.benchmark, p.training_sets(), matching='seed').seed_rows()\n"
            "print('scipy' in sys.modules)\n"
            "evaluate(p.benchmark, p.training_sets(), matching='optimal')\n"
            "print('scipy' in sys.modules)\n")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root)
    assert proc.returncode == 0, proc.stderr[-800:]
    assert proc.stdout.split() == ["False", "True"]


def test_a_submodule_of_evaluation_or_manifest_loads_alone_and_every_name_still_resolves():
    code = ("import sys\n"
            "import annotrain_tui.core.evaluation.labels, annotrain_tui.core.manifest.models\n"
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'annotrain_tui.core.evaluation.engine',\n"
            "    'annotrain_tui.core.manifest.convert', 'annotrain_tui.core.manifest.fixes') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == "[]"
    import annotrain_tui.core.evaluation as evaluation
    import annotrain_tui.core.manifest as manifest

    for package in (evaluation, manifest):
        for name in package.__all__:
            assert getattr(package, name) is not None, name
        assert set(package.__all__) <= set(dir(package))
        with pytest.raises(AttributeError):
            package.no_such_name  # noqa: B018


# -- the TUI -----------------------------------------------------------------------------------------

def test_the_app_and_home_load_no_other_screen_and_no_array_library():
    code = ("import sys\n"
            "from annotrain_tui.tui.app import AnnotrainApp, _screen_factories\n"
            "from annotrain_tui.tui.screens.home import HomeScreen\n"
            "import annotrain_tui.tui.widgets.footer\n"
            "factories = _screen_factories()\n"
            "print(sorted(m for m in sys.modules if m.startswith('annotrain_tui.tui.screens.')))\n"
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'shapely') if m in sys.modules))\n"
            "print(sorted(m for m in sys.modules if m.startswith(('annotrain_tui.core.manifest',\n"
            "    'annotrain_tui.core.evaluation', 'annotrain_tui.core.provisioning', 'annotrain_tui.core.choices'))))\n"
            "print(sorted(m for m in ('textual.widgets._text_area', 'tree_sitter', 'textual.widgets._data_table',\n"
            "    'textual.widgets._tabbed_content') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    screens, heavy, core, widgets = proc.stdout.splitlines()
    assert screens == "['annotrain_tui.tui.screens.base', 'annotrain_tui.tui.screens.home']"
    assert heavy == "[]"
    assert core == "[]"  # Home's row picks load core.choices (with provisioning) when a row is picked
    # Home's tables and tabs load after its first frame; the key footer knows a TextArea without loading one
    assert widgets == "[]"


def test_every_flow_names_a_screen_that_exists():
    from annotrain_tui.tui.app import FLOW_TITLES, _screen_factories
    from annotrain_tui.tui.screens.base import AppScreen

    factories = _screen_factories()
    assert set(FLOW_TITLES) | {"home"} == set(factories)
    for name, flow in factories.items():
        assert issubclass(flow.cls, AppScreen), name
        assert flow.where.endswith(f":{flow.cls.__name__}"), name


# -- the collector over the start-up (core.startup) ------------------------------------------------

_GC_CHILD = """
import atexit, gc, sys
from annotrain_tui.core import startup
seen = []
real = startup.release
def release():
    seen.append((gc.isenabled(), startup.held(), "annotrain_tui.core.config" in sys.modules))
    real()
startup.release = release
atexit.register(lambda: sys.stderr.write(f"GC {seen} {gc.isenabled()}\\n"))
sys.argv[0] = "annotrain"
from annotrain_tui.__main__ import entry
sys.exit(entry())
"""


def test_a_command_starts_up_without_collections_and_runs_with_the_collector_on(tmp_path):
    """The entry holds the cyclic collector off over the imports and the parse (``status`` has loaded
    its settings module by then); the command's own work runs with it on, as before."""
    db = tmp_path / "ws.db"
    assert cli.main(["sandbox", "init", "--demo", "--sandbox", str(db)]) == 0
    for argv in (["status", "--sandbox", str(db)], ["--version"]):
        proc = subprocess.run([sys.executable, "-c", _GC_CHILD, *argv], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-500:]
        line = next(x for x in proc.stderr.splitlines() if x.startswith("GC "))
        if argv[0] == "status":
            assert line == "GC [(False, True, True)] True"
        else:  # --version ends in the parser: the process exits, the collector never ran
            assert line.startswith("GC [] ")


def test_release_freezes_the_start_up_once_and_touches_nothing_it_did_not_hold():
    import gc

    from annotrain_tui.core import startup

    assert gc.isenabled() and not startup.held()
    startup.release()  # nothing held: a no-op
    assert gc.isenabled() and gc.get_freeze_count() == 0
    try:
        startup.hold()
        assert not gc.isenabled() and startup.held()
        startup.release()
        assert gc.isenabled() and not startup.held() and gc.get_freeze_count() > 0
        gc.disable()  # someone else's hold is theirs: hold() does not take it over
        startup.hold()
        assert not startup.held()
    finally:
        startup.release_signals()  # the hold's Ctrl+C block is this thread's: left, every process the
        gc.enable()                # worker starts later inherits SIGINT blocked (a CI run's lost Ctrl+C)
        gc.unfreeze()


def test_an_evaluation_that_writes_a_summary_or_the_seed_csv_builds_no_pandas_frame(tmp_path, monkeypatch):
    """Issue 14: pandas was 0.16 s of an evaluation that writes only a summary or the seed CSV."""
    import json as _json

    from tests.synth import make_programme

    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    prog = make_programme(seed=1, n_items=4, annotators=("a@x.com",))
    bm, paths = prog.write_files(tmp_path)
    summary = tmp_path / "s.json"
    modules, proc = _imported("evaluate", "--benchmark-labels", str(bm), "--training-labels", *paths,
                              "--summary-json", str(summary), tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "a@x.com" in _json.loads(summary.read_text())["annotators"]
    assert not {m for m in modules if m.split(".")[0] == "pandas"}
    # nor does the seed script's iou_results.csv (its columns come as codes into vocabularies)
    modules, proc = _imported("evaluate", "--benchmark-labels", str(bm), "--training-labels", *paths,
                              "--matching", "seed", "--out", str(tmp_path / "seed.csv"), tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "seed.csv").read_text().startswith("training_email,data_unit_name,label_id,iou_score")
    assert not {m for m in modules if m.split(".")[0] in ("pandas", "scipy", "pydantic", "shapely")}
    # the full per-object CSV does build frames
    modules, proc = _imported("evaluate", "--benchmark-labels", str(bm), "--training-labels", *paths,
                              "--out", str(tmp_path / "o.csv"), tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "pandas" in modules


def test_a_ctrl_c_over_the_imports_waits_for_the_end_of_the_start_up():
    """A KeyboardInterrupt inside pydantic-core's initialisation panicked in its Rust binding (a CI
    run printed 'thread panicked at … pyo3' and exited 1); held, it arrives at release, in Python."""
    code = """
import os, signal, sys
# Python's own handler, as the entry sets it (a process started by a shell's & inherits SIGINT
# ignored, and Python then installs none: the Ctrl+C would never arrive)
signal.signal(signal.SIGINT, signal.default_int_handler)
from annotrain_tui.core import startup
startup.hold()
os.kill(os.getpid(), signal.SIGINT)  # arrives while held: nothing happens yet
print("still running", flush=True)
try:
    startup.release_signals()
except KeyboardInterrupt:
    print("interrupted at release", flush=True)
    sys.exit(130)
print("not interrupted")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split("\n")[:2] == ["still running", "interrupted at release"]
    assert proc.returncode == 130 and "Traceback" not in proc.stderr
