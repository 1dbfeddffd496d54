"""Run the server on a transport: stdio (stdout carries protocol only) or streamable HTTP at /mcp."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from kernel_skills.app import ServerConfig, build
from kernel_skills.surface import sdk
from kernel_skills.surface.event_store import RETRY_MS, EventLog

if TYPE_CHECKING:
    from starlette.applications import Starlette

MCP_PATH = "/mcp"


def run_stdio(config: ServerConfig) -> None:
    build(config).server.run("stdio")


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}{MCP_PATH}"


def connect_help(url: str, *, token: bool) -> str:
    """How to point Claude Code and Cursor at this server (printed to stderr on HTTP start)."""
    header = ' --header "Authorization: Bearer $KERNEL_SKILLS_TOKEN"' if token else ""
    entry: dict[str, object] = {"type": "http", "url": url}
    if token:
        entry["headers"] = {"Authorization": "Bearer ${env:KERNEL_SKILLS_TOKEN}"}
    cursor = json.dumps({"mcpServers": {"kernel-skills": entry}}, indent=2)
    return (
        f"kernel-skills: serving MCP over streamable HTTP at {url}\n"
        f"  Claude Code:  claude mcp add --transport http kernel-skills {url}{header}\n"
        f"  Cursor (.cursor/mcp.json):\n{_indent(cursor, 4)}\n"
    )


def http_app(config: ServerConfig, *, host: str) -> Starlette:
    """The streamable-HTTP ASGI app at /mcp, with resumable streams: every SSE event has an id, and a client
    that reconnects with ``Last-Event-ID`` gets what it missed on that stream (its own session's only);
    SSE streams suggest a ``retry`` of RETRY_MS to reconnecting clients."""
    server = build(config).server
    log = EventLog()
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        host=host,
        event_store=log.for_session("unassigned"),  # replaced per session below
        retry_interval=RETRY_MS,
    )
    sdk.per_session_event_stores(server, log.for_session)
    return app


def run_http(config: ServerConfig, *, host: str, port: int, token: str | None) -> None:
    import uvicorn

    from kernel_skills.surface.auth import BearerTokenGuard

    app = http_app(config, host=host)
    asgi = BearerTokenGuard(app, token) if token else app
    sys.stderr.write(connect_help(url_for(host, port), token=bool(token)))
    sys.stderr.flush()
    uvicorn.Server(uvicorn.Config(asgi, host=host, port=port, log_level="warning", lifespan="on")).run()


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line for line in text.splitlines())
