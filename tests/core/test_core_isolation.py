"""The core never imports Textual: each core module is imported alone in a fresh interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import annotrain_tui.core as core


def core_modules() -> list[str]:
    names = ["annotrain_tui.core"]
    for info in pkgutil.walk_packages(core.__path__, prefix="annotrain_tui.core."):
        names.append(info.name)
    return names


def test_there_are_core_modules_to_check():
    mods = core_modules()
    assert "annotrain_tui.core.backends.sandbox.backend" in mods
    assert "annotrain_tui.core.retry" in mods


def test_no_core_module_loads_textual():
    script = (
        "import importlib, sys\n"
        "bad = []\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "    if any(m == 'textual' or m.startswith('textual.') for m in sys.modules):\n"
        "        bad.append(name); break\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core module loaded textual: {out.stdout.strip()}"


@pytest.mark.parametrize("module", ["annotrain_tui.core.backends.sandbox.backend", "annotrain_tui.core.workspace"])
def test_core_does_not_import_the_encord_sdk_eagerly(module):
    out = subprocess.run([sys.executable, "-c", f"import {module}, sys; print('encord' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
