"""Resumable streamable-HTTP streams: a bounded in-memory event log, namespaced per session.

With an event store the SDK gives every SSE event an id, keeps what it sends (also while no stream
is open, e.g. a ``resources/list_changed`` during a network blip) and, when a client reconnects with
``Last-Event-ID``, replays what came after that id on the same stream. The SDK keys streams by request
id and one fixed key for the standalone GET stream, so those keys repeat across sessions: a single
shared store would replay one session's events (responses included) to another. Each session gets its
own view (``for_session``) of one log, and a view replays only its own session's events.

Bounded by events and by bytes (the oldest go first): a client away for longer than the log reaches
back gets no replay and must re-list, which it has to do anyway after a list_changed it missed.
"""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict
from dataclasses import dataclass

import pydantic_core
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCMessage

MAX_EVENTS = 2000
MAX_BYTES = 16 * 1024 * 1024
RETRY_MS = 2000  # the SSE `retry` the server suggests to reconnecting clients


@dataclass(frozen=True)
class _Event:
    session: str
    stream: StreamId
    message: JSONRPCMessage | None  # None: a priming event (an id to resume from, no data)
    size: int


class EventLog:
    """Every session's recent events in one bounded log (ids are unique across sessions and restarts)."""

    def __init__(self, *, max_events: int = MAX_EVENTS, max_bytes: int = MAX_BYTES) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._events: OrderedDict[EventId, _Event] = OrderedDict()
        self._bytes = 0
        self._epoch = secrets.token_hex(4)  # ids from an earlier server process never match
        self._counter = itertools.count(1)

    def __len__(self) -> int:
        return len(self._events)

    def for_session(self, session_id: str) -> SessionEvents:
        return SessionEvents(self, session_id)

    def store(self, session: str, stream: StreamId, message: JSONRPCMessage | None) -> EventId:
        size = 0 if message is None else len(pydantic_core.to_json(message, by_alias=True, exclude_none=True))
        event_id = f"{self._epoch}-{next(self._counter)}"
        self._events[event_id] = _Event(session, stream, message, size)
        self._bytes += size
        while self._events and (len(self._events) > self.max_events or self._bytes > self.max_bytes):
            _, dropped = self._events.popitem(last=False)
            self._bytes -= dropped.size
        return event_id

    def after(self, session: str, last_event_id: EventId) -> tuple[StreamId, list[EventMessage]] | None:
        """The stream ``last_event_id`` belongs to and its later events, or None when that id is not one
        of this session's (unknown, aged out, or another session's)."""
        anchor = self._events.get(last_event_id)
        if anchor is None or anchor.session != session:
            return None
        ids = list(self._events)
        later = ids[ids.index(last_event_id) + 1 :]
        replay = [
            EventMessage(event.message, event_id)
            for event_id in later
            if (event := self._events[event_id]).session == session
            and event.stream == anchor.stream
            and event.message is not None
        ]
        return anchor.stream, replay


class SessionEvents(EventStore):
    """The SDK's ``EventStore`` for one session: stores into the shared log, replays only its own."""

    def __init__(self, log: EventLog, session_id: str) -> None:
        self._log = log
        self._session = session_id

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        return self._log.store(self._session, stream_id, message)

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        found = self._log.after(self._session, last_event_id)
        if found is None:
            return None
        stream, events = found
        for event in events:
            await send_callback(event)
        return stream
