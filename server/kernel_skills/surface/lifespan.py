"""What the server's lifespan yields (``Served``: the skill state and the ``Runtime``) and how tools read
it: ``runtime_of(ctx)`` is ``ctx.request_context.lifespan_context.runtime``.

The runtime is per server, not per lifespan: the SDK enters the lifespan once per connection on stdio
and the in-memory transport, once per process on streamable HTTP, and a pool of GPU worker processes
per connection would be wrong. A runtime the server made itself is closed when its last lifespan exits
(nesting is counted); one handed to ``app.build`` is its caller's to close.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from kernel_skills.runtime import Runtime
    from kernel_skills.surface.state import SkillsState


@dataclass(frozen=True)
class Served:
    """The lifespan value every request's context carries."""

    state: SkillsState
    runtime: Runtime


class RuntimeHold:
    """Counts the lifespans using a runtime; closes an owned one when the last of them exits."""

    def __init__(self, runtime: Runtime, *, owned: bool) -> None:
        self.runtime = runtime
        self._owned = owned
        self._users = 0
        self._lock = threading.Lock()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[Runtime]:
        with self._lock:
            self._users += 1
        try:
            yield self.runtime
        finally:
            with self._lock:
                self._users -= 1
                last = self._users == 0
            if last and self._owned:
                await anyio.to_thread.run_sync(self.runtime.close)


def runtime_of(ctx: Context[Any, Any]) -> Runtime:
    """The server's runtime, from the lifespan value of the request ``ctx`` belongs to."""
    served: Served = ctx.request_context.lifespan_context
    return served.runtime


__all__ = ["RuntimeHold", "Served", "runtime_of"]
