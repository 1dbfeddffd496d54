"""Run the server on a transport: stdio (stdout carries protocol only) or streamable HTTP at /mcp."""

from __future__ import annotations

import json
import sys

from kernel_skills.app import ServerConfig, build

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


def run_http(config: ServerConfig, *, host: str, port: int, token: str | None) -> None:
    import uvicorn

    from kernel_skills.surface.auth import BearerTokenGuard

    server = build(config).server
    app = server.streamable_http_app(streamable_http_path=MCP_PATH, host=host)
    asgi = BearerTokenGuard(app, token) if token else app
    sys.stderr.write(connect_help(url_for(host, port), token=bool(token)))
    sys.stderr.flush()
    uvicorn.Server(uvicorn.Config(asgi, host=host, port=port, log_level="warning", lifespan="on")).run()


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line for line in text.splitlines())
