"""The recording hook: a low-level middleware that turns kernel work into trace events.

Installed only when asked (``serve --record DIR``, and by the agentic eval). It sees each request
after the SDK has answered it, so it records exactly what the client got, errors included; it never
changes an answer, and a failure to record is logged, never sent to the client. One trace per client
name per server process: 2026-07-28 clients are stateless (every request carries its client info, no
connection lasts), so the client's name is the only session identity both protocol generations share.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

from kernel_skills import __version__
from kernel_skills.catalog import parse_skill_uri
from kernel_skills.errors import RefusedInput
from kernel_skills.surface import sdk
from kernel_skills.traces import TraceRecorder, TraceSession, bench_record, compile_record

log = logging.getLogger("kernel_skills.recording")

RECORDED = frozenset({"tools/call", "resources/read", "resources/list", "skills/list", "skills/get"})
SKILL_TOOLS = {"list_skills": "skills_listed", "get_skill": "skill_read", "read_skill_file": "file_read"}
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"


def _client_name(ctx: ServerRequestContext[Any, Any]) -> str | None:
    params = ctx.session.client_params
    if params is not None and params.client_info is not None:
        return params.client_info.name
    meta = ctx.meta if isinstance(ctx.meta, dict) else {}
    info = meta.get(CLIENT_INFO_KEY)
    return info.get("name") if isinstance(info, dict) else None


def _as_dict(result: Any) -> dict[str, Any]:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result if isinstance(result, dict) else {}


def _error_text(result: dict[str, Any]) -> str | None:
    if not result.get("isError"):
        return None
    texts = [c.get("text", "") for c in result.get("content") or [] if isinstance(c, dict)]
    return " ".join(t for t in texts if t)[:2000] or "tool error"


def _skill_and_path(uri: str) -> tuple[str | None, str | None]:
    """The skill and file a read named (None, None for a URI that is not a skill file's: the read failed)."""
    try:
        return parse_skill_uri(uri)
    except RefusedInput:
        return None, None


class Recording:
    def __init__(self, recorder: TraceRecorder) -> None:
        self.recorder = recorder
        self._sessions: dict[str | None, TraceSession] = {}

    def install(self, server: MCPServer) -> None:
        # First in the chain: it must see the fast path's answers too.
        sdk.lowlevel(server).middleware.insert(0, self)

    def _session(self, ctx: ServerRequestContext[Any, Any]) -> TraceSession:
        name = _client_name(ctx)
        session = self._sessions.get(name)
        if session is None:
            session = self._sessions[name] = self.recorder.session(
                name, server_version=__version__, protocol_version=ctx.protocol_version
            )
        return session

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method not in RECORDED or ctx.request_id is None:
            return await call_next(ctx)
        start = time.perf_counter()
        try:
            result = await call_next(ctx)
        except Exception as exc:
            self._record(ctx, None, str(exc) or type(exc).__name__, start)
            raise
        self._record(ctx, result, None, start)
        return result

    def _record(
        self, ctx: ServerRequestContext[Any, Any], result: Any, raised: str | None, start: float
    ) -> None:
        try:
            fields = self._fields(ctx, _as_dict(result), raised)
            fields["duration_ms"] = round((time.perf_counter() - start) * 1000, 2)
            self._session(ctx).record(**fields)
        except Exception:
            log.exception("could not record %s in the trace", ctx.method)

    def _fields(
        self, ctx: ServerRequestContext[Any, Any], result: dict[str, Any], raised: str | None
    ) -> dict:
        params = dict(ctx.params or {})
        params.pop("_meta", None)
        error = raised or _error_text(result)
        base: dict[str, Any] = {"method": ctx.method, "ok": error is None, "error": error}
        if ctx.method in ("resources/list", "skills/list"):
            return {**base, "kind": "skills_listed"}
        if ctx.method == "resources/read":
            name, path = _skill_and_path(str(params.get("uri", "")))
            text = next((c.get("text") for c in result.get("contents") or [] if isinstance(c, dict)), None)
            kind = "skill_read" if path == "SKILL.md" else "file_read"
            return {**base, "kind": kind, "skill": name, "path": path, "chars": len(text) if text else None}
        if ctx.method == "skills/get":
            return {**base, "kind": "skill_read", "skill": params.get("name"), "path": "SKILL.md"}
        tool = str(params.get("name", ""))
        args = params.get("arguments") if isinstance(params.get("arguments"), dict) else {}
        structured = result.get("structuredContent") if error is None else None
        base["tool"] = tool
        if tool in SKILL_TOOLS:
            path = "SKILL.md" if tool == "get_skill" else args.get("path")
            body = (structured or {}).get("body") or (structured or {}).get("text")
            return {
                **base,
                "kind": SKILL_TOOLS[tool],
                "skill": args.get("name") if isinstance(args.get("name"), str) else None,
                "path": path if isinstance(path, str) else None,
                "chars": len(body) if isinstance(body, str) else None,
                "args": {"query": args["query"]} if tool == "list_skills" and args.get("query") else {},
            }
        if tool == "compile_kernel":
            return {
                **base,
                "kind": "compile",
                "compile": compile_record(args, structured, self.recorder.store_source),
            }
        if tool == "benchmark_kernel":
            return {
                **base,
                "kind": "benchmark",
                "benchmark": bench_record(args, structured, self.recorder.store_source),
            }
        small = {
            k: v for k, v in args.items() if isinstance(v, str | int | float | bool) and len(str(v)) < 200
        }
        return {**base, "kind": "tool", "args": small}
