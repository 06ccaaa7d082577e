"""Lazy public names for a package ``__init__``: ``import pkg`` loads no engine; ``pkg.Name``
imports the one submodule that defines ``Name`` on first use and caches it."""
from __future__ import annotations

import importlib
from collections.abc import Callable

__all__ = ["lazy_exports"]


def lazy_exports(package: str, table: dict[str, str]) -> tuple[Callable, Callable, list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package`` exporting ``table`` (public name ->
    submodule, relative to the package, dots allowed). Use in ``pkg/__init__.py`` as
    ``__getattr__, __dir__, __all__ = lazy_exports(__name__, _LAZY)``."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str):
        if name in table:
            value = getattr(importlib.import_module(f"{package}.{table[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__, sorted(table)
