"""MCP logging: the server's own warnings reach handshake-era clients as notifications/message, at the
level each client set with logging/setLevel; domain code only uses the standard logging module."""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning

from kernel_skills.surface.client_log import LEVELS, mcp_level

pytestmark = pytest.mark.anyio

STEP_TIMEOUT = 10  # seconds; a message normally arrives at once


class LogInbox:
    def __init__(self) -> None:
        self.send, self.receive = anyio.create_memory_object_stream[types.LoggingMessageNotificationParams](
            100
        )

    async def handler(self, message: Any) -> None:
        if isinstance(message, types.ServerNotification) and message.method == "notifications/message":
            self.send.send_nowait(message.params)

    async def next_matching(self, needle: str) -> types.LoggingMessageNotificationParams:
        with anyio.fail_after(STEP_TIMEOUT):
            while True:
                params = await self.receive.receive()
                if needle in str(params.data):
                    return params

    def close(self) -> None:
        self.send.close()
        self.receive.close()

    def pending(self) -> list[types.LoggingMessageNotificationParams]:
        found = []
        while True:
            try:
                found.append(self.receive.receive_nowait())
            except anyio.WouldBlock:
                return found


@pytest.fixture
def inboxes() -> Iterator[Callable[[], LogInbox]]:
    made: list[LogInbox] = []

    def make() -> LogInbox:
        made.append(LogInbox())
        return made[-1]

    yield make
    for inbox in made:
        inbox.close()


async def set_level(client: Client, level: types.LoggingLevel) -> None:
    # logging/setLevel is the handshake era's (deprecated at 2026-07-28, which the SDK warns about).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.set_logging_level(level)


def test_stdlib_levels_map_to_the_mcp_scale():
    assert mcp_level(logging.DEBUG) == "debug"
    assert mcp_level(logging.INFO) == "info"
    assert mcp_level(logging.WARNING) == "warning"
    assert mcp_level(logging.ERROR) == "error"
    assert mcp_level(logging.CRITICAL) == "critical"
    assert LEVELS["notice"] < LEVELS["warning"] < LEVELS["emergency"]


async def test_a_skill_turning_invalid_reaches_the_client_as_a_warning_log_message(
    app, skills_root: Path, inboxes
):
    inbox = inboxes()
    async with Client(app.server, mode="legacy", message_handler=inbox.handler) as client:
        await client.list_resources()  # the catalog is loaded and watched
        (skills_root / "beta" / "SKILL.md").write_text(
            "---\nname: beta\n---\nno description\n", encoding="utf-8"
        )
        params = await inbox.next_matching("is now invalid")
    assert params.level == "warning"
    assert params.logger == "kernel_skills.catalog"
    assert "'beta'" in str(params.data)


async def test_set_level_filters_what_each_client_receives(app, inboxes):
    quiet, chatty = inboxes(), inboxes()
    server_logger = logging.getLogger("kernel_skills.test")
    server_logger.setLevel(logging.INFO)
    try:
        async with (
            Client(app.server, mode="legacy", message_handler=quiet.handler) as quiet_client,
            Client(app.server, mode="legacy", message_handler=chatty.handler) as chatty_client,
        ):
            await set_level(quiet_client, "error")
            await set_level(chatty_client, "info")
            server_logger.info("INFO-MARKER from the event loop")
            await anyio.to_thread.run_sync(lambda: server_logger.error("ERROR-MARKER from a worker thread"))
            assert (await chatty.next_matching("INFO-MARKER")).level == "info"
            assert (await chatty.next_matching("ERROR-MARKER")).level == "error"
            assert (await quiet.next_matching("ERROR-MARKER")).level == "error"
            assert not [p for p in quiet.pending() if "INFO-MARKER" in str(p.data)]
    finally:
        server_logger.setLevel(logging.NOTSET)


async def test_records_are_not_forwarded_once_the_server_stops(app):
    async with Client(app.server, mode="legacy") as client:
        await client.list_tools()
    handlers = logging.getLogger("kernel_skills").handlers
    assert app.client_log not in handlers
    # logging from another thread after shutdown is harmless
    thread = threading.Thread(target=lambda: logging.getLogger("kernel_skills.test").warning("late"))
    thread.start()
    thread.join()
