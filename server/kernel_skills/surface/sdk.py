"""The one place that reaches below the MCP SDK's public ``MCPServer`` surface.

mcp 2.3.0 keeps the low-level ``Server`` behind the private attribute ``MCPServer._lowlevel_server`` and a
connection's teardown stack behind ``ServerSession._connection``. We need both: the low-level server to
serve resources from a precomputed index and to advertise ``listChanged`` honestly, the connection to learn
when a handshake-era client has gone. Every such access lives here so an SDK upgrade breaks one module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession


def lowlevel(server: MCPServer) -> Server[Any]:
    """The low-level ``Server`` an ``MCPServer`` wraps (the same object the SDK's in-memory Client uses)."""
    inner = getattr(server, "_lowlevel_server", None)
    if not isinstance(inner, Server):
        raise RuntimeError(
            "this mcp SDK version does not expose MCPServer._lowlevel_server; kernel-skills needs mcp>=2.3,<3"
        )
    return inner


def connection_key(session: ServerSession) -> int:
    """A key that is the same for every per-request session of one client connection."""
    connection = getattr(session, "_connection", None)
    return id(connection if connection is not None else session)


def on_connection_close(session: ServerSession, callback: Callable[[], None]) -> bool:
    """Run ``callback`` when the connection behind ``session`` is torn down.

    Returns False when the SDK offers no hook (then callers must prune by other means).
    """
    connection = getattr(session, "_connection", None)
    exit_stack = getattr(connection, "exit_stack", None)
    if exit_stack is None:
        return False
    exit_stack.callback(callback)
    return True
