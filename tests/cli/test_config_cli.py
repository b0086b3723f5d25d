"""`annotrain config set|show` (trial items 12 and 21): '' unsets, an unknown binding id is refused with
a did-you-mean, a TOML-quoted key is the key, and show prints TOML, not Python."""

from __future__ import annotations

import tomllib

from annotrain_tui.cli import main
from annotrain_tui.cli.config_cmd import binding_ids
from annotrain_tui.core.config import Paths


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _file() -> dict:
    path = Paths.default().config_file
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def test_the_binding_ids_are_the_apps_screens_and_widgets():
    ids = binding_ids()
    assert {"app.help", "app.quit", "home.refresh", "benchmark.verify", "manifest.save", "annotator.toggle",
            "item.next_frame"} <= ids
    assert all("." in i for i in ids)


def test_an_unknown_binding_id_is_refused_with_a_did_you_mean(capsys):
    code, out, err = run(capsys, "config", "set", "keymap.app.hlep", "f2")
    assert code == 2 and out == ""
    assert "no binding has the id 'app.hlep' (did you mean 'app.help'?); nothing was saved" in err
    assert _file() == {}


def test_a_quoted_key_is_the_key_and_an_empty_value_unsets_it(capsys):
    code, out, _ = run(capsys, "config", "set", 'keymap."app.help"', "f2")
    assert code == 0 and out.startswith("keymap.app.help set in")
    assert _file() == {"keymap": {"app.help": "f2"}}
    code, out, _ = run(capsys, "config", "set", "keymap.app.help", "")
    assert code == 0 and out.startswith("keymap.app.help unset in") and _file().get("keymap") is None
    assert run(capsys, "config", "set", "training_title", "T - {name}")[0] == 0
    assert run(capsys, "config", "set", "training_title", "")[0] == 0 and "training_title" not in _file()


def test_a_stale_unknown_entry_can_still_be_unset(capsys):
    path = Paths.default().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[keymap]\n"app.hlep" = "f2"\n', encoding="utf-8")
    code, _, err = run(capsys, "config", "set", "keymap.app.hlep", "")
    assert code == 0 and err == "" and _file().get("keymap") is None


def test_show_prints_toml_that_reads_back(capsys):
    assert run(capsys, "config", "set", "keymap.app.help", "f2")[0] == 0
    code, out, _ = run(capsys, "config", "show")
    assert code == 0 and "None" not in out and "# sandbox_path is not set" in out
    shown = tomllib.loads(out)
    assert shown["keymap"] == {"app.help": "f2"} and shown["backend"] == "sandbox" and shown["retry_attempts"] == 5
