"""MCP logging: the server's own log records as ``notifications/message`` to handshake-era clients.

Domain code needs no MCP hook: it logs with the standard library (``logging.getLogger("kernel_skills.x")
.warning(...)``), as it does for stderr. While the server serves, a handler on the ``kernel_skills``
logger forwards each record that passes the logger's level to every handshake-era connection whose
``logging/setLevel`` threshold it meets (``warning`` until a client sets another). That is how a client
hears that a skill turned invalid, a worker was restarted or the compile confinement is weaker than its
default. Records from worker threads are handed to the event loop without blocking the thread; when
the buffer is full (a flood), further records are dropped rather than stall the server.

2026-07-28 removed server-wide logging (SEP-2577): those clients get log entries only on a request
they opted into, so they see these warnings on stderr and in tool results, not here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp_types import (
    EmptyResult,
    LoggingLevel,
    LoggingMessageNotification,
    LoggingMessageNotificationParams,
    SetLevelRequestParams,
)

from kernel_skills.surface import sdk
from kernel_skills.surface.notify import ChangeNotifier

ROOT_LOGGER = "kernel_skills"
DEFAULT_LEVEL: LoggingLevel = "warning"
BUFFER = 256  # records waiting to be sent; beyond this a flood is dropped

# MCP levels (RFC 5424 severities) on the stdlib's numeric scale.
LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": 25,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": 60,
    "emergency": 70,
}

_SEND_ERRORS = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError)

Entry = tuple[int, str, str]  # levelno, logger name, message


def mcp_level(levelno: int) -> LoggingLevel:
    """The MCP level of a stdlib record: the most severe MCP level at or below ``levelno``."""
    found: LoggingLevel = "debug"
    for name, number in LEVELS.items():
        if levelno >= number:
            found = name  # type: ignore[assignment]
    return found


class ClientLog(logging.Handler):
    def __init__(self, notifier: ChangeNotifier) -> None:
        super().__init__(level=logging.DEBUG)
        self._notifier = notifier
        self._thresholds: dict[int, int] = {}  # connection key -> levelno
        self._users = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._send: MemoryObjectSendStream[Entry] | None = None
        self._receive: MemoryObjectReceiveStream[Entry] | None = None

    def install(self, server: MCPServer) -> None:
        sdk.lowlevel(server).add_request_handler("logging/setLevel", SetLevelRequestParams, self._set_level)

    def threshold(self, session: Any) -> int:
        return self._thresholds.get(sdk.connection_key(session), LEVELS[DEFAULT_LEVEL])

    async def _set_level(
        self, ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams
    ) -> EmptyResult:
        key = sdk.connection_key(ctx.session)
        if key not in self._thresholds:
            sdk.on_connection_close(ctx.session, lambda: self._thresholds.pop(key, None))
        self._thresholds[key] = LEVELS[params.level]
        return EmptyResult()

    # --- the stdlib side (any thread) ------------------------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        loop, send = self._loop, self._send
        if loop is None or send is None:
            return
        entry: Entry = (record.levelno, record.name, record.getMessage())
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            _offer(send, entry)
            return
        with suppress(RuntimeError):  # the loop has closed: the server is going away
            loop.call_soon_threadsafe(_offer, send, entry)

    # --- the MCP side (the event loop) -----------------------------------------------------------

    @asynccontextmanager
    async def forwarding(self) -> AsyncIterator[None]:
        """Forward records while the server serves (entered by the lifespan; nesting is counted, so the
        per-connection lifespans of stdio and the in-memory client share one handler)."""
        if self._users == 0:
            self._send, self._receive = anyio.create_memory_object_stream[Entry](BUFFER)
            self._loop = asyncio.get_running_loop()
            logging.getLogger(ROOT_LOGGER).addHandler(self)
        self._users += 1
        assert self._receive is not None
        receive = self._receive.clone()
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._forward, receive)
                try:
                    yield
                finally:
                    tg.cancel_scope.cancel()
        finally:
            receive.close()
            self._users -= 1
            if self._users == 0:
                logging.getLogger(ROOT_LOGGER).removeHandler(self)
                self._loop = None
                for stream in (self._send, self._receive):
                    if stream is not None:
                        stream.close()
                self._send = self._receive = None

    async def _forward(self, receive: MemoryObjectReceiveStream[Entry]) -> None:
        async for levelno, name, text in receive:
            notification = LoggingMessageNotification(
                params=LoggingMessageNotificationParams(level=mcp_level(levelno), logger=name, data=text)
            )
            for session in self._notifier.sessions():
                if levelno < self.threshold(session):
                    continue
                with suppress(*_SEND_ERRORS):  # the notifier drops closed sessions on its next send
                    await session.send_notification(notification)


def _offer(send: MemoryObjectSendStream[Entry], entry: Entry) -> None:
    with suppress(anyio.WouldBlock, anyio.ClosedResourceError, anyio.BrokenResourceError):
        send.send_nowait(entry)
