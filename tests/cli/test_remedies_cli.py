"""The CLI's rendering of core hints (cli/common.py), and the CLI slips of the trial (items 13, 39,
40, 41): each error one line, naming the command that helps."""

from __future__ import annotations

import shlex

import pytest

from annotrain_tui.cli import main
from annotrain_tui.cli.common import COMMANDS, command_of, error_line, see_text
from annotrain_tui.core.errors import NotFound
from annotrain_tui.core.remedies import ACTIONS, See, see


def run(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own usage errors end the run so
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def ws(tmp_path, capsys):
    db = tmp_path / "ws.db"
    assert main(["--sandbox", str(db), "sandbox", "init", "--demo"]) == 0
    capsys.readouterr()
    return ["--sandbox", str(db)]


def test_every_action_has_a_command_whose_arguments_are_shell_words():
    assert set(COMMANDS) == set(ACTIONS)
    ref = see("folders.create", path="/a b;rm x")
    assert shlex.split(command_of(ref)) == ["annotrain", "folders", "create", "/a b;rm x"]
    assert command_of(See("config.set")) == "annotrain config set KEY VALUE"  # placeholders when not given
    assert command_of(See("sandbox.init_demo")) == "annotrain sandbox init --demo"  # [optional] part left out
    assert command_of(see("sandbox.init_demo", path="x.db")) == "annotrain --sandbox x.db sandbox init --demo"


def test_the_layout_is_the_one_of_before():
    assert error_line(NotFound("no project 'X'", see="projects.list")) == "no project 'X' (see 'annotrain projects list')"
    assert error_line(NotFound("no job", hint="follow it", see=["jobs.list", "jobs.watch"])) == (
        "no job (follow it; see 'annotrain jobs' or 'annotrain jobs --watch')")
    assert see_text(None) == "" and error_line(NotFound("m")) == "m"


def test_a_project_that_is_not_there_points_at_the_listing(ws, capsys):
    code, _, err = run(capsys, *ws, "progress", "--benchmark", "zzzqqq")
    assert code == 1 and err == "annotrain: error: no project 'zzzqqq' (see 'annotrain projects list')\n"


def test_integrations_have_a_did_you_mean_too(ws, capsys, tmp_path):
    """Trial item 39: 'AWS S3' named nothing, with 'AWS S3 - street-scenes' right there."""
    manifest = tmp_path / "m.json"
    manifest.write_text('{"images": [{"objectUrl": "https://b.s3.amazonaws.com/a.jpg"}]}')
    code, _, err = run(capsys, *ws, "register", manifest, "--integration", "AWS S3", "--folder", "/Training Data")
    assert code == 1 and "no integration 'AWS S3' (did you mean 'AWS S3 - street-scenes'?)" in err


def test_a_missing_folder_offers_to_create_it_even_beside_a_did_you_mean(ws, capsys, tmp_path):
    manifest = tmp_path / "m.json"
    manifest.write_text('{"images": [{"objectUrl": "https://b.s3.amazonaws.com/a.jpg"}]}')
    args = [*ws, "register", manifest, "--integration", "AWS S3 - street-scenes", "--folder"]
    code, _, err = run(capsys, *args, "/Training Data/Street Scene")
    assert code == 1 and "did you mean '/Training Data/Street Scenes'? If not, create it" in err
    assert "--create-folder" in err and "annotrain folders create '/Training Data/Street Scene'" in err
    code, _, err = run(capsys, *args, "/Somewhere Else")
    assert code == 1 and "annotrain folders create '/Somewhere Else'" in err and "'annotrain folders list'" in err
    code, _, err = run(capsys, *args, "/Somewhere Else", "--create-folder")
    assert code == 0 and "created folder '/Somewhere Else'" in err  # and it says so


def test_a_taken_default_benchmark_title_names_the_option(ws, capsys):
    """Trial item 40: the default title was taken and the error never said --title."""
    bench = [*ws, "benchmark", "create", "--dataset", "Annotator Training Set", "--ontology", "Street Scene Objects"]
    code, _, err = run(capsys, *bench)
    assert code == 1 and "a project titled 'Benchmark Labels' already exists" in err
    assert "'Benchmark Labels' is the default title: give another with --title TITLE" in err
    code, _, err = run(capsys, *bench, "--title", "Benchmark Labels")  # named by the user: no word about defaults
    assert code == 1 and "choose another title for the benchmark" in err and "default" not in err
    code, out, _ = run(capsys, *bench, "--title", "Cohort 2 Benchmark")
    assert code == 0 and "Created benchmark project 'Cohort 2 Benchmark'" in out
    with pytest.raises(SystemExit):
        main(["benchmark", "create", "--help"])
    assert "title of the benchmark project (default: 'Benchmark Labels')" in " ".join(capsys.readouterr().out.split())


def test_a_mistyped_sandbox_path_creates_nothing_and_is_unreadable_input(tmp_path, capsys):
    """Trial item 13: exit 2, one line naming the path, nothing created; a command that creates still does."""
    target = tmp_path / "nodir3" / "x.db"
    code, out, err = run(capsys, "--sandbox", target, "status")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"annotrain: error: no sandbox workspace at {target} (check the path, or create it; ")
    assert not (tmp_path / "nodir3").exists()
    assert run(capsys, "--sandbox", target, "sandbox", "init")[0] == 0 and target.exists()


def test_an_unknown_option_points_at_the_help_of_its_command(capsys):
    """Trial item 41: '--jsn' said see 'annotrain --help'; 'manifest new' without --type said 'error:'."""
    code, _, err = run(capsys, "status", "--jsn")
    assert code == 2 and err == "annotrain: usage error: unrecognized arguments: --jsn (see 'annotrain status --help')\n"
    code, _, err = run(capsys, "benchmark", "status", "X", "--jsn")
    assert code == 2 and "(see 'annotrain benchmark status --help')" in err
    code, _, err = run(capsys, "--jsn")
    assert code == 2 and "(see 'annotrain --help')" in err
    code, _, err = run(capsys, "manifest", "new")
    assert code == 2 and err.startswith("annotrain: usage error: --type is required without --urls")
    assert err.rstrip().endswith("(see 'annotrain manifest new --help')")


def test_a_file_that_is_not_a_workspace_never_suggests_deleting_anything(tmp_path, capsys):
    junk = tmp_path / "notes.db"
    junk.write_text("my notes")
    code, _, err = run(capsys, "--sandbox", junk, "status")
    assert code == 2 and "not an annotrain workspace" in err and "reset" not in err
    assert junk.read_text() == "my notes"
