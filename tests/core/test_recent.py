"""core.recent: what the user picked last survives a restart, and a broken memory is an empty one."""

from __future__ import annotations

import pytest

from annotrain_tui.core.config import Paths
from annotrain_tui.core.recent import Recent


def test_values_survive_a_new_instance_and_are_kept_per_workspace(tmp_path):
    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "s", tmp_path / "k")
    Recent.of(paths, "sandbox:/a").set(manifest="/m.json", folder="f1")
    Recent.of(paths, "sandbox:/b").set(folder="f2")
    assert Recent.of(paths, "sandbox:/a").get("manifest") == "/m.json"
    assert Recent.of(paths, "sandbox:/a").get("folder") == "f1"
    assert Recent.of(paths, "sandbox:/b").get("folder") == "f2"
    Recent.of(paths, "sandbox:/a").set(folder=None)
    assert Recent.of(paths, "sandbox:/a").get("folder") is None


def test_a_corrupt_file_is_an_empty_memory_and_is_replaced(tmp_path):
    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "s", tmp_path / "k")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "recent.json").write_text("{not json")
    r = Recent.of(paths, "w")
    assert r.get("manifest") is None
    r.set(manifest="x")
    assert Recent.of(paths, "w").get("manifest") == "x"


def test_an_unwritable_state_dir_is_not_an_error(tmp_path):
    (tmp_path / "s").write_text("a file where the directory should be")
    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "s", tmp_path / "k")
    Recent.of(paths, "w").set(manifest="x")  # nothing raised
    assert Recent.of(paths, "w").get("manifest") is None


def test_an_unknown_key_is_a_programming_error(tmp_path):
    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "s", tmp_path / "k")
    with pytest.raises(KeyError):
        Recent.of(paths, "w").get("manfest")


def test_the_file_is_private_like_every_state_file(tmp_path):
    """It names the folders last exported to and the files last opened: 0600, as the README says."""
    import os
    import stat

    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "s", tmp_path / "k")
    old = os.umask(0o022)
    try:
        Recent.of(paths, "sandbox:/a").set(manifest="/m.json")
    finally:
        os.umask(old)
    files = [p for p in paths.state_dir.rglob("*") if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
