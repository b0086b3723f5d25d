"""Names a package exports but loads on first use (PEP 562 ``__getattr__``): importing one of its
submodules, or the package for one name, does not import every module behind the others."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports", "lazy_module"]


def lazy_exports(package: str, where: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose name ``n`` lives in submodule
    ``where[n]``; a name is imported once, then kept as a plain global of the package."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # once: the next lookup is a plain global
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__


class _LazyModule:
    """A module imported on its first attribute access (``pd = lazy_module("pandas")``)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        value = getattr(importlib.import_module(self._name), attr)
        setattr(self, attr, value)  # kept: the next use is a plain attribute (shapely's calls in a loop)
        return value


def lazy_module(name: str) -> Any:
    """``name`` imported when first used: a command that never touches it never pays its import
    (pandas is 0.16 s of an evaluation that writes only a summary)."""
    return _LazyModule(name)
