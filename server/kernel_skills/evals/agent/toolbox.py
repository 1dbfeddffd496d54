"""The MCP tools an agentic episode calls, as this package sees them (the MCP client side lives in
``kernel_skills.surface.mcp_toolbox``: no MCP code here)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from pydantic import BaseModel, Field


class ToolSpec(BaseModel):
    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    def openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


class ToolOutcome(BaseModel):
    text: str
    is_error: bool = False


class Toolbox(Protocol):
    instructions: str

    async def list_tools(self) -> list[ToolSpec]: ...

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome: ...

    @property
    def trace(self) -> str | None: ...


ToolboxFactory = Callable[[str], AbstractAsyncContextManager[Toolbox]]  # client name -> toolbox
