"""Settings are a plain frozen object; the schema (pydantic) validates, and is imported only to
validate (issue 14). A file validated once is not validated again while its bytes, the home
directory and the validating code are the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from annotrain_tui.core.config import DEFAULTS, Paths, Settings, load_settings
from annotrain_tui.core.errors import ConfigError
from annotrain_tui.core.settings_schema import SettingsSchema

ROOT = Path(__file__).resolve().parents[2]


def test_the_schema_and_the_plain_settings_have_the_same_fields_and_defaults():
    assert list(SettingsSchema.model_fields) == list(DEFAULTS)
    assert dict(SettingsSchema()) == Settings().as_dict() == DEFAULTS


def test_settings_with_values_are_validated_by_the_schema():
    assert Settings(pass_f1=0.7).pass_f1 == 0.7
    with pytest.raises(ValueError, match="pass_confidence"):
        Settings(pass_confidence=1.0)
    with pytest.raises(ValueError, match="backend"):
        Settings(backend="elsewhere")
    with pytest.raises(ValueError):
        Settings(no_such_setting=1)


def test_settings_are_frozen_and_replace_makes_new_ones():
    s = Settings()
    with pytest.raises(AttributeError):
        s.pass_f1 = 0.1  # type: ignore[misc]
    t = s.replace(pass_f1=0.6, sandbox_path=Path("/tmp/x.db"))
    assert (s.pass_f1, t.pass_f1, t.sandbox_path) == (0.8, 0.6, Path("/tmp/x.db"))
    with pytest.raises(TypeError, match="no such setting"):
        s.replace(pas_f1=0.6)
    # tables are each settings' own
    t.keymap["app.help"] = "f2"
    assert Settings().keymap == {} and s.keymap == {}


def test_settings_copy_and_pickle_as_their_values():
    import copy
    import pickle

    s = Settings(pass_f1=0.7, keymap={"app.help": "f2"})
    for other in (copy.copy(s), copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert other == s and other is not s
    deep = copy.deepcopy(s)
    deep.keymap["app.quit"] = "f10"
    assert "app.quit" not in s.keymap


def test_the_json_form_round_trips():
    s = Settings(sandbox_path="/tmp/ws.db", class_thresholds={"car": 0.7}, keymap={"app.help": "f2"})
    data = s.to_json()
    assert data["sandbox_path"] == "/tmp/ws.db" and json.loads(json.dumps(data)) == data
    assert Settings.from_json(data) == s
    assert s.to_json(exclude_defaults=True) == {"sandbox_path": "/tmp/ws.db", "class_thresholds": {"car": 0.7},
                                               "keymap": {"app.help": "f2"}}


def _child(env: dict[str, str]) -> dict:
    code = ("import json, sys\n"
            "from annotrain_tui.core.config import load_settings\n"
            "try:\n"
            "    s = load_settings()\n"
            "    out = {'pass_f1': s.pass_f1, 'sandbox_path': str(s.sandbox_path)}\n"
            "except Exception as exc:\n"
            "    out = {'error': str(exc)}\n"
            "out['pydantic'] = 'pydantic' in sys.modules\n"
            "print(json.dumps(out))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def child_env(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / var.lower())
    config = tmp_path / "xdg_config_home" / "annotrain" / "config.toml"
    config.parent.mkdir(parents=True)
    return env, config


def test_no_file_and_an_already_validated_file_never_import_pydantic(child_env):
    env, config = child_env
    assert _child(env) == {"pass_f1": 0.8, "sandbox_path": "None", "pydantic": False}
    config.write_text('pass_f1 = 0.7\nsandbox_path = "~/ws.db"\n', encoding="utf-8")
    first = _child(env)
    assert first == {"pass_f1": 0.7, "sandbox_path": env["HOME"] + "/ws.db", "pydantic": True}
    assert _child(env) == {**first, "pydantic": False}  # the same bytes: the validated result
    # another home: '~' means another place, so the file is validated again
    other = {**env, "HOME": env["HOME"] + "2"}
    assert _child(other) == {"pass_f1": 0.7, "sandbox_path": other["HOME"] + "/ws.db", "pydantic": True}


def test_home_unset_or_empty_and_other_users_homes_are_validated_each_their_own_way(child_env):
    env, config = child_env
    config.write_text('sandbox_path = "~/ws.db"\n', encoding="utf-8")
    unset = {k: v for k, v in env.items() if k != "HOME"}
    home = os.path.expanduser("~" + __import__("pwd").getpwuid(os.getuid()).pw_name)
    assert _child(unset)["sandbox_path"] == os.path.join(home, "ws.db")  # the password database's home
    # an empty HOME is another home ('~' is then nothing): validated again, not the cached answer
    assert _child({**env, "HOME": ""}) == {"pass_f1": 0.8, "sandbox_path": "/ws.db", "pydantic": True}
    # ~name depends on the password database: validated every time, never cached
    config.write_text('sandbox_path = "~root/ws.db"\n', encoding="utf-8")
    assert _child(env)["pydantic"] and _child(env)["pydantic"]


def test_a_changed_file_is_validated_again_and_its_problem_reported(child_env):
    env, config = child_env
    config.write_text("pass_f1 = 0.7\n", encoding="utf-8")
    assert _child(env)["pass_f1"] == 0.7
    config.write_text("pass_f1 = 7\n", encoding="utf-8")
    out = _child(env)
    assert "config.toml:1" in out["error"] and "pass_f1" in out["error"]
    config.write_text("pass_f1 = 0.6\n", encoding="utf-8")
    assert _child(env)["pass_f1"] == 0.6


def test_a_damaged_or_foreign_cache_is_only_a_cache(tmp_path, monkeypatch):
    paths = Paths(config_dir=tmp_path / "c", data_dir=tmp_path / "d", state_dir=tmp_path / "s",
                  cache_dir=tmp_path / "k")
    paths.config_dir.mkdir()
    paths.config_file.write_text("pass_f1 = 0.7\n", encoding="utf-8")
    assert load_settings(paths).pass_f1 == 0.7
    cache = paths.cache_dir / "settings.validated.json"
    entry = json.loads(cache.read_text())
    for damaged in ("{", "[]", json.dumps({"key": entry["key"], "settings": "x"}),
                    json.dumps({"key": "another", "settings": {**entry["settings"], "pass_f1": 0.1}}),
                    # the right key, values of the wrong type or a setting missing: not the schema's output
                    json.dumps({"key": entry["key"], "settings": {**entry["settings"], "retry_attempts": "many"}}),
                    json.dumps({"key": entry["key"], "settings": {**entry["settings"], "backend": "elsewhere"}}),
                    json.dumps({"key": entry["key"], "settings": {k: v for k, v in entry["settings"].items()
                                                                  if k != "pass_f1"}})):
        cache.write_text(damaged, encoding="utf-8")
        assert load_settings(paths).pass_f1 == 0.7
    # a well-formed entry in a file others may write is not believed
    planted = {**entry, "settings": {**entry["settings"], "pass_f1": 0.1}}
    cache.write_text(json.dumps(planted), encoding="utf-8")
    cache.chmod(0o666)
    assert load_settings(paths).pass_f1 == 0.7
    cache.chmod(0o600)
    cache.write_text(json.dumps(planted), encoding="utf-8")
    assert load_settings(paths).pass_f1 == 0.1  # (the same entry, private: what the cache is for)
    # a cache that cannot be written: the settings still load (validated each time)
    cache.unlink()
    paths.cache_dir.chmod(0o500)
    try:
        assert load_settings(paths).pass_f1 == 0.7
    finally:
        paths.cache_dir.chmod(0o700)
    # a broken file is still one ConfigError, cache or not
    paths.config_file.write_text("pass_f1 = [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(paths)
