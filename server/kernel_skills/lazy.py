"""Lazy package facades (PEP 562): each public name loads its module on first use, so importing a
package for one name (a model, a constant) does not import the rest (torch, SQLite, the launcher).

A facade keeps a table ``{name: module}`` and sets ``__getattr__ = lazy.exports(__name__, _EXPORTS)``.
Nothing is cached here: a name patched in its module (tests) is the one every caller gets.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``package`` that resolves each name of ``table`` from its module."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__


__all__ = ["exports"]
