"""The MCP adapters: thin translations from MCP requests to domain calls. Only this package and
``app.py`` import the MCP SDK."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "run_http": "kernel_skills.surface.serving",
    "run_stdio": "kernel_skills.surface.serving",
    "mcp_toolbox_factory": "kernel_skills.surface.mcp_toolbox",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """The names above load on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kernel_skills.surface' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
