"""The manifest editor's TextArea fork builds on private Textual names. pyproject pins Textual to the
minor version it was written against; this test fails loudly, naming the name, when one moves."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from annotrain_tui.tui.widgets import manifest_text_area as mta

WHY = ("the TextArea fork in manifest_text_area.py was written against Textual 8.2; "
       "update it before widening the pin")


def _has_attribute(cls: type, name: str) -> bool:
    """On the class (a method, property or class attribute) or set on its instances by Textual's own
    code (``self.name = …`` in a Textual class of its MRO)."""
    if hasattr(cls, name):
        return True
    for klass in cls.__mro__:
        if not klass.__module__.startswith("textual"):
            continue
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        if f"self.{name} =" in source or f"self.{name}:" in source:
            return True
    return False


@pytest.mark.parametrize("entry", mta.TEXTUAL_PRIVATE_NAMES)
def test_every_private_textual_name_the_fork_uses_exists(entry: str) -> None:
    module_name, _, dotted = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        pytest.fail(f"{module_name} cannot be imported ({err}): {WHY}")
    name, _, attribute = dotted.partition(".")
    if not hasattr(module, name):
        pytest.fail(f"{module_name}.{name} is gone: {WHY}")
    if attribute and not _has_attribute(getattr(module, name), attribute):
        pytest.fail(f"{module_name}.{name}.{attribute} is gone: {WHY}")


def test_the_fast_editor_is_on_with_the_pinned_textual() -> None:
    assert mta.FAST_EDITOR, f"the fork's Textual imports failed: {WHY}"


def test_the_list_covers_what_the_fork_reads() -> None:
    """A private name used in the fork's source but missing from the tuple would go unchecked."""
    source = inspect.getsource(mta)
    body = source[source.index("try:  # Textual internals"):]
    listed = {entry.rpartition(".")[2].rpartition(":")[2] for entry in mta.TEXTUAL_PRIVATE_NAMES}
    listed |= {part for entry in mta.TEXTUAL_PRIVATE_NAMES for part in entry.partition(":")[0].split(".")}
    fork_own = {"_cost", "_text", "_fast", "_gate", "_drop_syntax", "_highlight_window", "_document", "_make",
                "_bytes_of", "_tab_widths", "_tables", "_depths"}
    used = set(re.findall(r"(?:self|super\(\)|doc|document|self\.document)\.(_[a-z][a-z_]*)", body))
    missing = sorted(used - listed - fork_own)
    assert not missing, f"private names used by the fork but not in TEXTUAL_PRIVATE_NAMES: {missing}"
