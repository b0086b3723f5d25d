"""CLI contract of the workspace commands: --json, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from annotrain_tui.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("projects", "integrations", "folders", "sandbox", "config", "tui", "status"):
        assert cmd in out


def test_init_demo_then_projects_list_json(capsys):
    code, out, _ = run(capsys, "sandbox", "init", "--demo")
    assert code == 0 and "demo data" in out
    code, out, _ = run(capsys, "projects", "list", "--json")
    assert code == 0
    doc = json.loads(out)
    titles = [p["title"] for p in doc["projects"]]
    assert "Benchmark Labels" in titles and len(titles) == 4
    bench = next(p for p in doc["projects"] if p["title"] == "Benchmark Labels")
    assert bench["ontology"]["title"] == "Street Scene Objects"
    assert bench["datasets"][0]["title"] == "Annotator Training Set"
    assert {"email": "gold.expert@example.com", "role": "annotator"} in bench["users"]
    training = next(p for p in doc["projects"] if p["title"] == "Annotator Training - Alex Kim")
    assert training["template"]["title"] == "Annotator Training"


def test_integrations_and_folders_list(capsys):
    run(capsys, "sandbox", "init", "--demo")
    code, out, _ = run(capsys, "integrations", "list", "--json")
    assert code == 0 and len(json.loads(out)["integrations"]) == 7
    code, out, _ = run(capsys, "folders", "list", "--json")
    paths = [f["path"] for f in json.loads(out)["folders"]]
    assert "/Training Data/Street Scenes" in paths
    code, out, _ = run(capsys, "folders", "list")
    assert code == 0 and "/Training Data/Street Scenes" in out and "60" in out


def test_init_twice_is_a_domain_failure_with_one_line(capsys):
    run(capsys, "sandbox", "init")
    code, out, err = run(capsys, "sandbox", "init")
    assert code == 1 and err.count("\n") == 1 and "--force" in err and "Traceback" not in err
    code, _, _ = run(capsys, "sandbox", "init", "--force", "--demo")
    assert code == 0


def test_usage_errors_exit_2_with_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["projects", "frobnicate"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "usage error" in err


def test_missing_workspace_for_import_is_clear(capsys, tmp_path):
    f = tmp_path / "rows.json"
    f.write_text("[")
    code, _, err = run(capsys, "sandbox", "import-labels", "P", str(f))
    # the one label-file reader: the same located wording as 'evaluate'
    assert code == 2 and "rows.json: invalid JSON at line 1 column 2" in err
    code, _, err = run(capsys, "sandbox", "import-labels", "P", str(tmp_path / "nope.json"))
    assert code == 2 and "no such file" in err


def test_import_refuses_rows_that_evaluation_would_refuse(capsys, tmp_path):
    run(capsys, "sandbox", "init", "--demo")
    for content, message in [
        ('[{"data_hash": "d", "data_type": "hologram", "data_units": {}}]', "data_type"),
        ('[{"data_hash": "d", "x": ' + "9" * 5000 + "}]", "4,300 digits"),
        ("[" * 5000 + "]" * 5000, "nested"),
    ]:
        f = tmp_path / "rows.json"
        f.write_text(content)
        code, _, err = run(capsys, "sandbox", "import-labels", "Benchmark Labels", str(f))
        assert code == 2 and err.count("\n") == 1 and message in err, err


def test_unknown_project_suggests_the_closest(capsys, tmp_path):
    run(capsys, "sandbox", "init", "--demo")
    f = tmp_path / "rows.json"
    f.write_text("[]")
    code, _, err = run(capsys, "sandbox", "import-labels", "Benchmark Label", str(f))
    assert code == 1 and "did you mean 'Benchmark Labels'" in err


def test_config_set_show_and_bad_key(capsys):
    code, out, _ = run(capsys, "config", "set", "refresh_interval", "5")
    assert code == 0
    code, out, _ = run(capsys, "config", "show", "--json")
    assert json.loads(out)["settings"]["refresh_interval"] == 5.0
    code, _, err = run(capsys, "config", "set", "refresh_intervl", "5")
    assert code == 2 and "did you mean 'refresh_interval'" in err


def test_encord_backend_without_a_key_is_a_usage_error(capsys):
    code, _, err = run(capsys, "--backend", "encord", "projects", "list")
    assert code == 2 and "--ssh-key" in err


def test_nothing_is_written_outside_the_xdg_dirs(tmp_path):
    """Run the real console entry point with HOME and all four XDG variables in a temp dir."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / var.lower())
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    cmd = [sys.executable, "-m", "annotrain_tui"]
    subprocess.run([*cmd, "sandbox", "init", "--demo"], env=env, cwd=cwd, check=True, capture_output=True)
    out = subprocess.run([*cmd, "projects", "list", "--json"], env=env, cwd=cwd, check=True, capture_output=True,
                         text=True)
    assert len(json.loads(out.stdout)["projects"]) == 4
    subprocess.run([*cmd, "config", "set", "refresh_interval", "3"], env=env, cwd=cwd, check=True,
                   capture_output=True)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written, "expected the workspace to be written"
    for p in written:
        rel = p.relative_to(tmp_path)
        assert rel.parts[0].startswith("xdg_"), f"wrote outside the XDG dirs: {rel}"
    assert list(home.iterdir()) == [] and list(cwd.iterdir()) == []


def test_import_stores_what_sqlite_cannot_carry_as_is(capsys, tmp_path):
    """Found by a trial: a data_title with a lone surrogate (JSON "\\ud800"), a width of 10**30 or an
    object crashed the import (UnicodeEncodeError, OverflowError, binding error)."""
    import json as _json

    from tests.synth import make_programme

    run(capsys, "sandbox", "init", "--demo")
    rows = make_programme(seed=4, n_items=3, annotators=("a@example.com",)).benchmark
    rows[0]["data_title"] = "x\ud800y"
    unit = rows[1]["data_units"][rows[1]["data_hash"]]
    unit["width"] = 10**30
    rows[2]["data_units"][rows[2]["data_hash"]]["height"] = {"a": 1}
    f = tmp_path / "rows.json"
    f.write_text(_json.dumps(rows))
    code, out, err = run(capsys, "sandbox", "import-labels", "Benchmark Labels", str(f), "--add-items")
    assert code == 0 and "Imported 3 label row(s)" in out
    # the bad sizes are said (as offline evaluate says them), never a crash
    assert all(line.startswith("annotrain: warning: ") for line in err.splitlines()) and "width" in err
    code, out, err = run(capsys, "projects", "list", "--json")
    assert code == 0


def test_folders_create_with_description_and_metadata(capsys, tmp_path):
    """Issue 17, item 6: the CLI creates folders itself (not only register --create-folder)."""
    import json

    from annotrain_tui.cli import main

    def run(*argv):
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    run("sandbox", "init", "--demo")
    code, out, _ = run("folders", "create", "/Training Data/Batch 2", "--description", "second", "--metadata",
                       "source=cams", "region=eu", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["created"] and doc["folder"]["path"] == "/Training Data/Batch 2"
    assert doc["folder"]["metadata"] == {"source": "cams", "region": "eu"} and doc["folder"]["description"] == "second"
    code, out, _ = run("folders", "create", "/New/Deep", "--metadata", '{"n": 1}')
    assert code == 0 and "Created folder '/New/Deep'" in out
    code, _, err = run("folders", "create", "/New/Deep")
    assert code == 1 and "already exists" in err
    code, _, err = run("folders", "create", "/Z", "--metadata", "nokey")
    assert code == 2 and "not key=value" in err
    manifest = tmp_path / "m.json"
    manifest.write_text('{"images": [{"objectUrl": "https://b.s3.eu-west-1.amazonaws.com/a.jpg"}]}')
    code, _, err = run("register", str(manifest), "--folder", "/Nowhere at all", "--integration",
                       "AWS S3 - street-scenes")
    assert code == 1 and "annotrain folders create '/Nowhere at all'" in err  # a missing folder suggests it


def test_a_folder_name_with_a_hidden_character_is_refused_before_anything_is_made(capsys):
    """Trial (issue 17): a pasted ESC or bidi override in a folder name was sent to the server."""
    from annotrain_tui.cli import main

    main(["sandbox", "init", "--demo"])
    capsys.readouterr()
    code = main(["folders", "create", "/Fresh/x\x1b[31mred\u202eevil"])
    _, err = capsys.readouterr()
    assert code == 2 and "U+001B" in err and "\x1b" not in err and err.count("\n") == 1
    main(["folders", "list", "--json"])
    assert "/Fresh" not in capsys.readouterr().out  # not even the parent


@pytest.mark.parametrize("path", ["/Fresh/x/../sp", "/Fresh/./sp", "/Fresh/ .. /sp"])
def test_dot_names_are_refused_before_anything_is_made(capsys, path):
    """Trial (issue 13): '/Archive/x/../sp' made a folder literally named '..'."""
    main(["sandbox", "init", "--demo"])
    capsys.readouterr()
    code = main(["folders", "create", path])
    _, err = capsys.readouterr()
    assert code == 2 and "cannot be a folder name" in err and err.count("\n") == 1
    main(["folders", "list", "--json"])
    assert "/Fresh" not in capsys.readouterr().out  # not even the parent
