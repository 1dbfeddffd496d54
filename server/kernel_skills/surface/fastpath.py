"""Serve our hottest, biggest answers without the SDK's per-request result re-validation.

For spec methods the SDK validates every handler result against the wire schema and dumps it again
(about 1 ms and a few MB of transient objects for a 1,000-skill ``resources/list``). Our handlers for
the methods below already return wire-shaped dicts built from the precomputed index, so this
middleware calls them directly, the way the SDK documents for middleware that short-circuits: it then
owns the envelope, so it adds the 2026-07-28 ``serverInfo`` stamp itself. Anything unusual (a
handshake-era connection not yet initialized, params that fail validation, a notification) takes the
normal path, so the SDK's own gates and error shapes still apply there.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp_types import SERVER_INFO_META_KEY
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from kernel_skills.surface.notify import ChangeNotifier


class FastPath:
    def __init__(self, low: Server[Any], notifier: ChangeNotifier, methods: frozenset[str]) -> None:
        self._low = low
        self._notifier = notifier
        self._methods = methods

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method not in self._methods or ctx.request_id is None:
            return await call_next(ctx)
        modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
        if not modern and not self._notifier.is_initialized(ctx.session):
            return await call_next(ctx)
        entry = self._low.get_request_handler(ctx.method)
        if entry is None:
            return await call_next(ctx)
        try:
            params = entry.params_type.model_validate(ctx.params or {}, by_name=False)
        except ValidationError:
            return await call_next(ctx)
        result = await entry.handler(ctx, params)
        if not isinstance(result, dict):
            return result
        if modern:
            result = {**result, "_meta": {SERVER_INFO_META_KEY: self._low.server_info_stamp}}
        return result
