"""MCP tools for this domain (placeholder until its issue lands)."""

from __future__ import annotations

from typing import Any


def register(server: Any) -> None:
    """Add this domain's tools to the MCPServer ``server``."""
    del server
