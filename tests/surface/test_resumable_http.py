"""Resumable streamable-HTTP streams: a client whose standalone stream drops (a network blip) reconnects
with Last-Event-ID and gets the list_changed it missed; another session's event ids replay nothing.

Driven with raw HTTP (httpx) against a real `kernel-skills serve --transport http` process, so the SSE
ids, the Last-Event-ID header and the reconnect are the wire's own."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest
from mcp_surface_support import free_port, http_server, server_env, write_skill

from kernel_skills.surface.event_store import RETRY_MS, EventLog

pytestmark = pytest.mark.anyio

PROTOCOL = "2025-11-25"
STEP_TIMEOUT = 15  # seconds; each step normally takes well under one
LIST_CHANGED = "notifications/resources/list_changed"


@dataclass
class SseEvent:
    id: str | None = None
    data: str = ""
    retry: int | None = None
    fields: list[str] = field(default_factory=list)

    @property
    def message(self) -> dict[str, Any] | None:
        return json.loads(self.data) if self.data.strip() else None


async def sse_events(response: httpx.Response) -> AsyncIterator[SseEvent]:
    event = SseEvent()
    async for line in response.aiter_lines():
        if not line:
            if event.fields:
                yield event
            event = SseEvent()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        event.fields.append(name)
        if name == "id":
            event.id = value
        elif name == "data":
            event.data += value
        elif name == "retry":
            event.retry = int(value)


class Session:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url
        self.id: str | None = None

    def headers(self, accept: str) -> dict[str, str]:
        headers = {"accept": accept, "mcp-protocol-version": PROTOCOL}
        if self.id:
            headers["mcp-session-id"] = self.id
        return headers

    async def post(self, body: dict[str, Any]) -> list[SseEvent]:
        async with self.http.stream(
            "POST", self.url, json=body, headers=self.headers("application/json, text/event-stream")
        ) as response:
            assert response.status_code in (200, 202), await response.aread()
            self.id = self.id or response.headers.get("mcp-session-id")
            if "text/event-stream" not in response.headers.get("content-type", ""):
                await response.aread()
                return []
            return [event async for event in sse_events(response)]

    async def open(self) -> list[SseEvent]:
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "resume-test", "version": "0"},
            },
        }
        events = await self.post(init)
        await self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return events

    @asynccontextmanager
    async def standalone(self, last_event_id: str | None = None) -> AsyncIterator[AsyncIterator[SseEvent]]:
        headers = self.headers("text/event-stream")
        if last_event_id:
            headers["last-event-id"] = last_event_id
        async with self.http.stream("GET", self.url, headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            yield sse_events(response)


async def next_list_changed(events: AsyncIterator[SseEvent]) -> SseEvent:
    with anyio.fail_after(STEP_TIMEOUT):
        async for event in events:
            if event.message and event.message.get("method") == LIST_CHANGED:
                return event
    raise AssertionError("the stream ended without a list_changed")


async def wait_until_listed(session: Session, uri: str) -> None:
    with anyio.fail_after(STEP_TIMEOUT):
        while True:
            events = await session.post({"jsonrpc": "2.0", "id": 7, "method": "resources/list"})
            listed = [r["uri"] for e in events if e.message for r in e.message["result"]["resources"]]
            if uri in listed:
                return
            await anyio.sleep(0.05)  # polling the server's catalog, bounded by the deadline above


def sequence(event_id: str | None) -> int:
    assert event_id
    return int(event_id.rsplit("-", 1)[1])  # EventLog ids are "<epoch>-<counter>"


async def test_a_reconnect_with_last_event_id_gets_the_list_changed_missed_during_a_blip(skills_root: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    args = ["--no-bundled", "--skills-dir", str(skills_root)]
    async with http_server(args, server_env(), port), httpx.AsyncClient(timeout=STEP_TIMEOUT) as http:
        session = Session(http, url)
        opening = await session.open()
        assert opening[0].id and opening[0].message is None  # a priming event: an id to resume from
        assert opening[0].retry == RETRY_MS  # the reconnect interval the server suggests

        async with session.standalone() as events:
            write_skill(skills_root, "gamma", "Gamma appears while the stream is up. Use for tests.")
            seen = await next_list_changed(events)
        assert seen.id
        # the blip: the standalone stream is gone while the catalog changes again
        write_skill(skills_root, "delta", "Delta appears while the client is away. Use for tests.")
        await wait_until_listed(session, "skill://delta/SKILL.md")
        (before_reconnect, *_) = await session.post({"jsonrpc": "2.0", "id": 8, "method": "ping"})

        async with session.standalone(last_event_id=seen.id) as events:
            missed = await next_list_changed(events)
        assert missed.id and missed.id != seen.id
        # it was stored before the client came back, so it arrived by replay, not live
        assert sequence(missed.id) < sequence(before_reconnect.id)


async def test_another_sessions_event_id_replays_nothing(skills_root: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    args = ["--no-bundled", "--skills-dir", str(skills_root)]
    async with http_server(args, server_env(), port), httpx.AsyncClient(timeout=STEP_TIMEOUT) as http:
        first, second = Session(http, url), Session(http, url)
        await first.open()
        await second.open()
        async with first.standalone() as events:
            write_skill(skills_root, "gamma", "Gamma appears. Use for tests.")
            theirs = await next_list_changed(events)
        with anyio.fail_after(STEP_TIMEOUT):
            async with second.standalone(last_event_id=theirs.id) as events:
                replayed = [event async for event in events]  # the stream ends: nothing to replay
        assert not [e for e in replayed if e.message]


def _note(n: int) -> types.JSONRPCNotification:
    return types.JSONRPCNotification(jsonrpc="2.0", method=LIST_CHANGED, params={"n": n})


def test_the_event_log_replays_one_sessions_stream_after_an_id_and_forgets_the_oldest():
    log = EventLog(max_events=4)
    a, b = log.for_session("a"), log.for_session("b")
    first = log.store("a", "_GET_stream", _note(1))
    log.store("b", "_GET_stream", _note(2))  # same stream key, other session
    log.store("a", "7", _note(3))  # same session, other stream
    log.store("a", "_GET_stream", _note(4))
    stream, replay = log.after("a", first)
    assert stream == "_GET_stream" and [e.message.params["n"] for e in replay] == [4]
    assert log.after("b", first) is None  # another session's id
    log.store("a", "_GET_stream", _note(5))  # the fifth event pushes out the first
    assert len(log) == 4 and log.after("a", first) is None
    assert isinstance(a, type(b))


def test_the_event_log_is_bounded_by_bytes_too():
    log = EventLog(max_events=1000, max_bytes=2000)
    for n in range(100):
        log.store("a", "s", _note(n))
    assert 0 < len(log) < 100
