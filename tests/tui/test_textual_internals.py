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


#: the app's own uses of Textual's private members (tui/app.py): the same pin, the same loud failure
APP_PRIVATE_NAMES = (
    "textual.dom:DOMNode._bindings",  # a node's declared bindings (help, the Tab priority binding)
    "textual.app:App._keymap",  # the user's keymap, applied to a declared binding list for help
    "textual.app:App._check_action_state",  # a binding shown in help only where it acts
    "textual.app:App._exception",  # the fatal error, for the one-line crash report
    "textual.app:App._fatal_error",
    "textual.message_pump:MessagePump._close_messages_no_wait",
    "textual.widgets._data_table:DataTable._require_update_dimensions",  # tests/tui/shots.py waits on it
)


@pytest.mark.parametrize("entry", APP_PRIVATE_NAMES)
def test_every_private_textual_name_the_app_uses_exists(entry: str) -> None:
    module_name, _, dotted = entry.partition(":")
    name, _, attribute = dotted.partition(".")
    cls = getattr(importlib.import_module(module_name), name)
    assert _has_attribute(cls, attribute), (f"{module_name}.{name}.{attribute} is gone: tui/app.py was written "
                                            "against Textual 8.2; update it before widening the pin")


def test_the_app_list_covers_what_app_py_reads() -> None:
    from annotrain_tui.tui import app as app_module

    source = inspect.getsource(app_module)
    used = set(re.findall(r"(?:node|self|super\(\))\.(_[a-z][a-z_]+)\b", source))
    own = {name for name in used if hasattr(app_module.AnnotrainApp, name) and name in vars(app_module.AnnotrainApp)}
    own |= {"_reported_workers", "_raw_text_filter", "_commands"}  # the app's own attributes
    listed = {entry.rpartition(".")[2] for entry in APP_PRIVATE_NAMES}
    assert used - own - listed == set(), "a private Textual name used in tui/app.py is not in APP_PRIVATE_NAMES"
