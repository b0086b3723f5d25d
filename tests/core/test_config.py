from __future__ import annotations

import os

import pytest

from annotrain_tui.core.config import (
    Paths,
    Settings,
    key_file_warning,
    load_settings,
    parse_settings,
    save_settings,
    set_setting,
)
from annotrain_tui.core.errors import ConfigError


def test_paths_follow_the_xdg_variables(isolated_dirs):
    p = Paths.default()
    assert str(p.config_dir).startswith(os.environ["XDG_CONFIG_HOME"])
    assert str(p.data_dir).startswith(os.environ["XDG_DATA_HOME"])
    assert str(p.state_dir).startswith(os.environ["XDG_STATE_HOME"])
    assert str(p.cache_dir).startswith(os.environ["XDG_CACHE_HOME"])


def test_every_unknown_key_is_reported_at_once_with_a_did_you_mean():
    with pytest.raises(ConfigError) as exc:
        parse_settings({"backnd": "sandbox", "ssh_key": "/k", "zzz": 1, "retry_attempts": 0})
    msg = str(exc.value)
    assert "unknown key 'backnd' (did you mean 'backend'?)" in msg
    assert "unknown key 'ssh_key' (did you mean 'ssh_key_path'?)" in msg
    assert "unknown key 'zzz'" in msg
    assert "'retry_attempts'" in msg  # the bad value is reported in the same message
    assert "\n" not in msg


def test_set_save_load_round_trip_keeps_the_key_as_a_path_only(tmp_path):
    paths = Paths.default()
    key = tmp_path / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n-----END OPENSSH PRIVATE KEY-----\n")
    s = set_setting(Settings(), "ssh_key_path", str(key))
    s = set_setting(s, "workflow_templates.Annotator Training", "abc123")
    s = set_setting(s, "backend", "encord")
    save_settings(s, paths)
    text = paths.config_file.read_text()
    assert str(key) in text and "secret" not in text and "BEGIN" not in text
    loaded = load_settings(paths)
    assert loaded.ssh_key_path == key and loaded.workflow_templates == {"Annotator Training": "abc123"}
    assert loaded.backend == "encord"
    with pytest.raises(ConfigError, match="did you mean 'backend'"):
        set_setting(loaded, "backnd", "x")
    with pytest.raises(ConfigError):
        set_setting(loaded, "backend", "dropbox")


def test_broken_toml_is_one_clear_error():
    paths = Paths.default()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text("backend = \n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(paths)


def test_loose_key_permissions_warn_like_ssh(tmp_path):
    key = tmp_path / "key"
    key.write_text("x")
    key.chmod(0o644)
    assert "too open" in key_file_warning(key) and "chmod 600" in key_file_warning(key)
    key.chmod(0o600)
    assert key_file_warning(key) is None
