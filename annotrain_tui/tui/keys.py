"""The binding ids a keymap entry may name: one list, read from the TUI's own classes.

The app checks the user's ``keymap`` at launch against it (an unknown id is said in a toast) and
``annotrain config set keymap.ID`` refuses an id not in it: both ask :func:`binding_ids`, so an id
one accepts the other never calls unknown. Every module of this package is imported and every
class of it that can hold bindings (a ``DOMNode``: the app, screens, dialogs, widgets) is read, so a
dialog or widget added tomorrow needs no list to be kept by hand.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from textual.binding import Binding
from textual.dom import DOMNode

_PACKAGE = "annotrain_tui.tui"


@cache
def _modules_imported() -> None:
    import annotrain_tui.tui as tui

    for info in pkgutil.walk_packages(tui.__path__, f"{_PACKAGE}."):
        importlib.import_module(info.name)


def all_bindings() -> list[Binding]:
    """Every ``Binding`` declared in a ``BINDINGS`` of a class of this package (its own, not inherited)."""
    _modules_imported()
    found: list[Binding] = []
    seen: set[type] = set()
    todo: list[type] = [DOMNode]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if cls.__module__ == _PACKAGE or cls.__module__.startswith(f"{_PACKAGE}."):
            found.extend(b for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding))
    return found


def binding_ids() -> set[str]:
    """Every binding id of the app, its screens, dialogs and widgets: what a keymap entry may name."""
    return {b.id for b in all_bindings() if b.id}
