"""The one place that reaches below the MCP SDK's public ``MCPServer`` surface.

mcp 2.3.0 keeps the low-level ``Server`` behind the private attribute ``MCPServer._lowlevel_server``, a
connection's teardown stack behind ``ServerSession._connection`` and a streamable-HTTP session's event
store behind its transport's ``_event_store``. We need them: the low-level server to serve resources from a
precomputed index and to advertise ``listChanged`` honestly, the connection to learn when a handshake-era
client has gone, the event store to keep each session's replay to itself. Every such access lives here
so an SDK upgrade breaks one module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession
from mcp.server.streamable_http import EventStore


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


def per_session_event_stores(server: MCPServer, store_for: Callable[[str], EventStore]) -> None:
    """Give every streamable-HTTP session its own event store (``store_for(session_id)``).

    The SDK's session manager hands one ``event_store`` to every session, while its stream keys (request
    ids, the GET stream's fixed key) repeat across sessions; this wraps its private session admission
    so each new transport gets a store of its own before it serves. Call after ``streamable_http_app()``.
    """
    manager = lowlevel(server).session_manager
    admit = getattr(manager, "_admit_session", None)
    if admit is None:
        raise RuntimeError(
            "this mcp SDK version has no StreamableHTTPSessionManager._admit_session; "
            "kernel-skills needs mcp>=2.3,<3 for resumable streams"
        )

    def admit_with_own_store(*args: Any, **kwargs: Any) -> Any:
        transport = admit(*args, **kwargs)
        if transport is not None and transport.mcp_session_id is not None:
            transport._event_store = store_for(transport.mcp_session_id)
        return transport

    manager._admit_session = admit_with_own_store  # type: ignore[method-assign]
