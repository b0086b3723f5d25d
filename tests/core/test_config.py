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


def test_check_domain_accepts_addresses_and_refuses_the_rest():
    from annotrain_tui.core.config import check_domain

    assert check_domain(" https://api.us.encord.com/ ") == "https://api.us.encord.com"
    assert check_domain("http://[::1]:8080") == "http://[::1]:8080"
    for bad in ("http://[::1", "api.encord.com", "https://", "https://h:0x50", "https://h/p", "https://a b"):
        with pytest.raises(ValueError, match="is not an API address"):
            check_domain(bad)


def test_update_config_edits_the_files_own_keys(isolated_dirs):
    from annotrain_tui.core.config import read_config_data, update_config

    paths = Paths.default()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text("retry_attempts = 0\nkeymap = { help = 'f2' }\n")
    with pytest.raises(ConfigError, match="retry_attempts"):
        load_settings(paths)
    update_config(paths, "retry_attempts", "4")
    update_config(paths, "keymap.quit", "ctrl+x")
    assert read_config_data(paths.config_file) == {"retry_attempts": 4, "keymap": {"help": "f2", "quit": "ctrl+x"}}
    update_config(paths, "retry_attempts", "")  # unset: the default again
    assert load_settings(paths).retry_attempts == Settings().retry_attempts
    with pytest.raises(ConfigError, match="not a table"):
        update_config(paths, "backend.x", "y")


def test_a_broken_file_names_its_line_and_column(isolated_dirs):
    from annotrain_tui.core.config import read_config_data

    paths = Paths.default()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_bytes(b"backend = 'sandbox'\nname = 'caf\xe9'\n")
    with pytest.raises(ConfigError, match=r"config\.toml:2:12: not UTF-8 text"):
        read_config_data(paths.config_file)
    paths.config_file.write_text("a = 1\n\nb = [1,\n  2,, 3]\n")
    with pytest.raises(ConfigError, match=r"config\.toml:4:5: invalid TOML"):
        read_config_data(paths.config_file)
