"""Change notifications on both protocol generations the SDK serves at once.

- 2026-07-28 clients get change events only on a ``subscriptions/listen`` stream: we publish
  ``ResourcesListChanged`` / ``ResourceUpdated`` on the server's subscription bus.
- Handshake-era clients (<= 2025-11-25) get ``notifications/resources/list_changed`` on their standing
  stream: we remember each session when its ``notifications/initialized`` arrives and forget it when its
  connection closes; ``resources/subscribe`` registers per-URI interest for ``resources/updated``.

Each half is silently dropped on the other generation, so every change goes out both ways. This module
also makes the handshake-era ``initialize`` answer advertise ``listChanged: true`` (the SDK reports false
unless ``NotificationOptions`` is passed, which ``MCPServer`` never does) and ``subscribe: true`` (it
appears once a ``resources/subscribe`` handler exists).
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.mcpserver import MCPServer
from mcp.server.models import InitializationOptions
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourcesListChanged, ResourceUpdated
from mcp_types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from kernel_skills.surface import sdk

log = logging.getLogger("kernel_skills.notify")

NOTIFICATION_OPTIONS = NotificationOptions(resources_changed=True)
"""What we really send: resource list changes. Tools and prompts are fixed for the server's lifetime."""

_SEND_ERRORS = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError)


class ChangeNotifier:
    """Fans catalog changes out to every connected client, whatever protocol generation it speaks."""

    def __init__(self, bus: InMemorySubscriptionBus) -> None:
        self.bus = bus
        self._sessions: dict[int, ServerSession] = {}  # handshake-era sessions, by connection identity
        self._subscribed: dict[str, dict[int, ServerSession]] = {}  # uri -> subscribers, by connection

    # --- wiring -------------------------------------------------------------------------------

    def install(self, server: MCPServer) -> None:
        low = sdk.lowlevel(server)
        base = low.create_initialization_options

        def create_initialization_options(
            notification_options: NotificationOptions | None = None,
            experimental_capabilities: dict[str, dict[str, Any]] | None = None,
            extensions: dict[str, dict[str, Any]] | None = None,
        ) -> InitializationOptions:
            # The 2025-11-25 schema has no `extensions` capability (the SDK strips it from the handshake
            # answer), so handshake-era clients see SEP-2640 support under `experimental` instead.
            experimental = {**low.extensions, **(experimental_capabilities or {})} or None
            return base(notification_options or NOTIFICATION_OPTIONS, experimental, extensions)

        # Every transport (stdio, streamable HTTP, the in-memory test client) calls this method with no
        # arguments to build the handshake-era InitializeResult; the instance attribute shadows the method.
        low.create_initialization_options = create_initialization_options  # type: ignore[method-assign]
        low.middleware.append(self._remember_sessions)
        low.add_request_handler("resources/subscribe", SubscribeRequestParams, self._subscribe)
        low.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, self._unsubscribe)

    async def _remember_sessions(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method == "notifications/initialized" and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            self._remember(ctx.session)
        return result

    def _remember(self, session: ServerSession) -> int:
        key = sdk.connection_key(session)
        if key not in self._sessions:
            self._sessions[key] = session
            sdk.on_connection_close(session, lambda: self._forget(key))
        return key

    def _forget(self, key: int) -> None:
        self._sessions.pop(key, None)
        for subscribers in self._subscribed.values():
            subscribers.pop(key, None)
        self._subscribed = {uri: subs for uri, subs in self._subscribed.items() if subs}

    async def _subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams
    ) -> EmptyResult:
        key = self._remember(ctx.session)
        self._subscribed.setdefault(params.uri, {})[key] = self._sessions[key]
        return EmptyResult()

    async def _unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        subscribers = self._subscribed.get(params.uri)
        if subscribers is not None:
            subscribers.pop(sdk.connection_key(ctx.session), None)
            if not subscribers:
                del self._subscribed[params.uri]
        return EmptyResult()

    # --- sending ------------------------------------------------------------------------------

    def is_initialized(self, session: ServerSession) -> bool:
        """Whether this handshake-era connection has completed ``notifications/initialized``."""
        return sdk.connection_key(session) in self._sessions

    def sessions(self) -> list[ServerSession]:
        """The connected handshake-era sessions (one per connection)."""
        return list(self._sessions.values())

    @property
    def handshake_sessions(self) -> int:
        return len(self._sessions)

    def subscribers(self, uri: str) -> int:
        return len(self._subscribed.get(uri, {}))

    async def resources_list_changed(self) -> None:
        await self.bus.publish(ResourcesListChanged())
        for key, session in list(self._sessions.items()):
            try:
                await session.send_resource_list_changed()
            except _SEND_ERRORS:
                log.debug("dropping a closed handshake-era session")
                self._forget(key)

    async def resources_updated(self, uris: list[str]) -> None:
        for uri in uris:
            await self.bus.publish(ResourceUpdated(uri=uri))
            for key, session in list(self._subscribed.get(uri, {}).items()):
                try:
                    await session.send_resource_updated(uri)
                except _SEND_ERRORS:
                    self._forget(key)
