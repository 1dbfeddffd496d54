"""Run the server on a transport: stdio (stdout carries protocol only) or streamable HTTP at /mcp."""

from __future__ import annotations

import errno
import json
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernel_skills.app import ServerConfig, build
from kernel_skills.errors import RefusedInput
from kernel_skills.surface import sdk
from kernel_skills.surface.event_store import RETRY_MS, EventLog

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from kernel_skills.runtime import Runtime

MCP_PATH = "/mcp"


def run_stdio(config: ServerConfig, runtime: Runtime) -> None:
    build(config, runtime).server.run("stdio")


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}{MCP_PATH}"


def connect_help(url: str, *, token: bool, results_db: Path | None = None) -> str:
    """How to point Claude Code and Cursor at this server, and where its results go (printed to stderr
    once the HTTP port is bound)."""
    header = ' --header "Authorization: Bearer $KERNEL_SKILLS_TOKEN"' if token else ""
    entry: dict[str, object] = {"type": "http", "url": url}
    if token:
        entry["headers"] = {"Authorization": "Bearer ${env:KERNEL_SKILLS_TOKEN}"}
    cursor = json.dumps({"mcpServers": {"kernel-skills": entry}}, indent=2)
    stored = f"  Results DB:   {results_db} (move it with --data-dir)\n" if results_db else ""
    return (
        f"kernel-skills: serving MCP over streamable HTTP at {url}\n"
        f"  Claude Code:  claude mcp add --transport http kernel-skills {url}{header}\n"
        f"  Cursor (.cursor/mcp.json):\n{_indent(cursor, 4)}\n{stored}"
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on ``host:port``; RefusedInput naming the port when it cannot be had
    (taken by another process, or not an address of this machine)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart reuses a TIME_WAIT port
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise RefusedInput(
                f"port {port} on {host} is already in use (another kernel-skills serve?): stop that "
                "process, or choose another port with --port"
            ) from exc
        raise RefusedInput(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from exc
    return sock


def http_app(config: ServerConfig, runtime: Runtime | None = None, *, host: str) -> Starlette:
    """The streamable-HTTP ASGI app at /mcp, with resumable streams: every SSE event has an id, and a client
    that reconnects with ``Last-Event-ID`` gets what it missed on that stream (its own session's only);
    SSE streams suggest a ``retry`` of RETRY_MS to reconnecting clients."""
    server = build(config, runtime).server
    log = EventLog()
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        host=host,
        event_store=log.for_session("unassigned"),  # replaced per session below
        retry_interval=RETRY_MS,
    )
    sdk.per_session_event_stores(server, log.for_session)
    return app


def run_http(config: ServerConfig, runtime: Runtime, *, host: str, port: int, token: str | None) -> None:
    """Bind first (a taken port is one clear error and no banner), then serve; the banner is printed
    once the server accepts connections."""
    import uvicorn

    from kernel_skills.surface.auth import BearerTokenGuard

    sock = bind(host, port)
    app = http_app(config, runtime, host=host)
    asgi = BearerTokenGuard(app, token) if token else app
    banner = connect_help(url_for(host, port), token=bool(token), results_db=runtime.db_path)
    uvicorn_config = uvicorn.Config(asgi, host=host, port=port, log_level="warning", lifespan="on")
    _announcing_server(uvicorn_config, banner).run(sockets=[sock])


def _announcing_server(config: Any, banner: str) -> Any:
    """uvicorn's server that prints ``banner`` once started (startup has run, the socket listens);
    built here so that uvicorn is imported only for HTTP."""
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                sys.stderr.write(banner)
                sys.stderr.flush()

    return AnnouncingServer(config)


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line for line in text.splitlines())
