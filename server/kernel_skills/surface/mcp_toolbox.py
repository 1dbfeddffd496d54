"""The agentic eval's toolbox: this server's tools through the real MCP SDK client, in process.

Each episode gets a fresh server (``app.build``) with recording on, and a ``Client(server)`` that
names itself after the episode, so each episode leaves its own trace. The model sees the tools as the
server lists them (name, description, input schema), limited to the agent's tool set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import Client
from mcp_types import Implementation

from kernel_skills import __version__
from kernel_skills.app import ServerConfig, build
from kernel_skills.evals import AGENT_TOOLS, ToolboxFactory, ToolOutcome, ToolSpec
from kernel_skills.runtime import Runtime
from kernel_skills.traces import client_slug


class McpToolbox:
    def __init__(self, client: Client, record_dir: Path | None, client_name: str, instructions: str) -> None:
        self._client = client
        self._record_dir = record_dir
        self._client_name = client_name
        self.instructions = instructions

    async def list_tools(self) -> list[ToolSpec]:
        listed = await self._client.list_tools()
        return [
            ToolSpec(name=t.name, description=t.description or "", parameters=dict(t.input_schema))
            for t in listed.tools
            if t.name in AGENT_TOOLS
        ]

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        try:
            result = await self._client.call_tool(name, arguments)
        except Exception as exc:  # a JSON-RPC error: the server refused the request itself
            return ToolOutcome(text=str(exc) or type(exc).__name__, is_error=True)
        texts = [getattr(c, "text", "") for c in result.content]
        if result.is_error:
            return ToolOutcome(text=" ".join(t for t in texts if t) or "tool error", is_error=True)
        # the text content, as a client like Claude Code gives the model (structured content is for apps)
        return ToolOutcome(text="\n".join(texts))

    @property
    def trace(self) -> str | None:
        """The path of this episode's trace file (the recorder names files after the client)."""
        if self._record_dir is None:
            return None
        slug = client_slug(self._client_name)
        matches = sorted(Path(self._record_dir).glob(f"*-{slug}-*.jsonl"))
        return str(matches[-1]) if matches else None


def mcp_toolbox_factory(config: ServerConfig, runtime: Runtime) -> ToolboxFactory:
    """Each episode's toolbox: a fresh server over ``runtime`` (the command's: its workers are shared by
    every episode, never one per server)."""

    @asynccontextmanager
    async def factory(client_name: str) -> AsyncIterator[McpToolbox]:
        app = build(config, runtime)
        info = Implementation(name=client_name, version=__version__)
        async with Client(app.server, client_info=info) as client:
            yield McpToolbox(client, config.record_dir, client_name, app.server.instructions or "")

    return factory
