"""Hot reload while clients of both protocol generations are connected to the same server.

Each step (create, edit, break, fix, delete) must reach the 2026-07-28 client on its
``subscriptions/listen`` stream and the handshake-era client on its standing stream, and both
listings must then be right. A subscribed file's edit also yields ``resources/updated``.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream
from mcp import Client, StdioServerParameters
from mcp.shared.subscriptions import ResourcesListChanged, ResourceUpdated, ServerEvent
from mcp_surface_support import SERVE, free_port, http_server, server_env, skill_md, write_skill

pytestmark = pytest.mark.anyio

STEP_TIMEOUT = 10  # seconds; a notification normally arrives in ~0.1 s
LIST_CHANGED = "notifications/resources/list_changed"
UPDATED = "notifications/resources/updated"


@dataclass
class Clients:
    modern: Client
    legacy: Client
    modern_events: MemoryObjectReceiveStream[ServerEvent]
    legacy_events: MemoryObjectReceiveStream[tuple[str, str | None]]

    def drain(self) -> None:
        for stream in (self.modern_events, self.legacy_events):
            while True:
                try:
                    stream.receive_nowait()
                except anyio.WouldBlock:
                    break

    async def expect(self, modern: set[ServerEvent], legacy: set[tuple[str, str | None]]) -> None:
        """Wait until every expected event has arrived on each generation (others are ignored)."""
        with anyio.fail_after(STEP_TIMEOUT):
            missing_modern = set(modern)
            while missing_modern:
                missing_modern.discard(await self.modern_events.receive())
            missing_legacy = set(legacy)
            while missing_legacy:
                missing_legacy.discard(await self.legacy_events.receive())

    async def listing(self) -> tuple[dict[str, str | None], dict[str, str | None]]:
        modern = {r.uri: r.description for r in (await self.modern.list_resources()).resources}
        legacy = {r.uri: r.description for r in (await self.legacy.list_resources()).resources}
        return modern, legacy


@asynccontextmanager
async def both_generations(
    server: Any, watched_uri: str, legacy_server: Any = None
) -> AsyncIterator[Clients]:
    """A modern and a handshake-era client of ``server`` (or of ``legacy_server`` for the latter: a stdio
    process serves one client)."""
    modern_send, modern_recv = anyio.create_memory_object_stream[ServerEvent](100)
    legacy_send, legacy_recv = anyio.create_memory_object_stream[tuple[str, str | None]](100)

    async def on_legacy_message(message: Any) -> None:
        if isinstance(message, types.ServerNotification) and message.method in (LIST_CHANGED, UPDATED):
            uri = getattr(message.params, "uri", None)
            legacy_send.send_nowait((message.method, uri))

    async with (
        modern_send,
        modern_recv,
        legacy_send,
        legacy_recv,
        Client(
            server if legacy_server is None else legacy_server,
            mode="legacy",
            cache=None,
            message_handler=on_legacy_message,
        ) as legacy,
        Client(server, cache=None) as modern,
    ):
        await legacy.session.send_request(
            types.SubscribeRequest(params=types.SubscribeRequestParams(uri=watched_uri)), types.EmptyResult
        )
        async with (
            modern.listen(resources_list_changed=True, resource_subscriptions=[watched_uri]) as subscription,
            anyio.create_task_group() as tg,
        ):

            async def pump() -> None:
                async for event in subscription:
                    modern_send.send_nowait(event)

            tg.start_soon(pump)
            yield Clients(modern, legacy, modern_recv, legacy_recv)
            tg.cancel_scope.cancel()


async def wait_until_watching(clients: Clients, root: Path) -> None:
    """The watcher starts asynchronously; add probe skills until one is noticed, then remove them."""
    with anyio.fail_after(STEP_TIMEOUT):
        attempt = 0
        while True:
            attempt += 1
            write_skill(root, f"probe-{attempt}")
            with anyio.move_on_after(0.5):
                await clients.expect({ResourcesListChanged()}, {(LIST_CHANGED, None)})
                break
        for n in range(1, attempt + 1):
            shutil.rmtree(root / f"probe-{n}")
        await clients.expect({ResourcesListChanged()}, {(LIST_CHANGED, None)})
        while any("probe" in uri for uri in (await clients.listing())[0]):
            await clients.expect({ResourcesListChanged()}, {(LIST_CHANGED, None)})
    clients.drain()


async def step(clients: Clients, change: Callable[[], None], *, also: set[str] = frozenset()) -> None:
    clients.drain()
    change()
    await clients.expect(
        {ResourcesListChanged(), *(ResourceUpdated(uri=uri) for uri in also)},
        {(LIST_CHANGED, None), *((UPDATED, uri) for uri in also)},
    )


async def test_create_edit_break_fix_delete_each_notify_both_generations(tmp_path: Path, make_app):
    root = tmp_path / "skills"
    write_skill(root, "alpha", "Alpha.")
    app = make_app(root, debounce_ms=20)
    gamma_md = root / "gamma" / "SKILL.md"
    gamma_uri = "skill://gamma/SKILL.md"

    async with both_generations(app.server, gamma_uri) as clients:
        await wait_until_watching(clients, root)

        await step(clients, lambda: write_skill(root, "gamma", "Gamma, first version."))
        modern, legacy = await clients.listing()
        assert modern == legacy == {"skill://alpha/SKILL.md": "Alpha.", gamma_uri: "Gamma, first version."}

        edit = skill_md("gamma", "Gamma, edited.")
        await step(clients, lambda: gamma_md.write_text(edit), also={gamma_uri})
        modern, legacy = await clients.listing()
        assert modern[gamma_uri] == legacy[gamma_uri] == "Gamma, edited."

        # Broken: still served (last valid version), flagged stale with the reason.
        await step(clients, lambda: gamma_md.write_text("---\nname: gamma\n---\nno description now\n"))
        modern, legacy = await clients.listing()
        assert modern[gamma_uri] == legacy[gamma_uri] == "Gamma, edited."
        for client in (clients.modern, clients.legacy):
            listed = (await client.call_tool("list_skills", {})).structured_content
            gamma = next(s for s in listed["skills"] if s["name"] == "gamma")
            assert gamma["stale"] is True
            assert any(issue["field"] == "description" for issue in gamma["stale_errors"])

        await step(clients, lambda: gamma_md.write_text(skill_md("gamma", "Gamma, fixed.")), also={gamma_uri})
        modern, legacy = await clients.listing()
        assert modern[gamma_uri] == legacy[gamma_uri] == "Gamma, fixed."
        stale = (await clients.modern.call_tool("get_skill", {"name": "gamma"})).structured_content["stale"]
        assert stale is False

        await step(clients, lambda: shutil.rmtree(root / "gamma"))
        modern, legacy = await clients.listing()
        assert modern == legacy == {"skill://alpha/SKILL.md": "Alpha."}


async def test_editing_a_reference_sends_resources_updated_for_that_file(tmp_path: Path, make_app):
    root = tmp_path / "skills"
    folder = write_skill(root, "alpha", "Alpha.")
    (folder / "references").mkdir()
    guide = folder / "references" / "guide.md"
    guide.write_text("v1\n")
    guide_uri = "skill://alpha/references/guide.md"
    app = make_app(root, debounce_ms=20)

    async with both_generations(app.server, guide_uri) as clients:
        await wait_until_watching(clients, root)
        await step(clients, lambda: guide.write_text("v2\n"), also={guide_uri})
        [content] = (await clients.legacy.read_resource(guide_uri)).contents
        assert content.text == "v2\n"


async def test_closed_handshake_sessions_are_forgotten(app):
    async with Client(app.server, mode="legacy", cache=None) as client:
        await client.list_resources()
        assert app.state.notifier.handshake_sessions == 1
    assert app.state.notifier.handshake_sessions == 0


@pytest.mark.slow  # two real server processes, every step over the wire (~10 s)
async def test_hot_reload_reaches_clients_over_real_stdio_and_http(tmp_path: Path):
    """The same flow through real server processes: two stdio servers (one client each) and one HTTP
    server with a client of each generation, all watching one skills folder."""
    root = tmp_path / "skills"
    write_skill(root, "alpha", "Alpha.")
    alpha_uri = "skill://alpha/SKILL.md"
    command = [*SERVE, "--transport", "stdio", "--no-bundled", "--skills-dir", str(root)]

    def stdio() -> StdioServerParameters:
        return StdioServerParameters(command=command[0], args=command[1:], env=server_env())

    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    http_args = ["--no-bundled", "--skills-dir", str(root)]
    with anyio.fail_after(90):
        async with http_server(http_args, server_env(), port):
            for label, modern_target, legacy_target in (("stdio", stdio(), stdio()), ("http", url, url)):
                async with both_generations(modern_target, alpha_uri, legacy_server=legacy_target) as clients:
                    await wait_until_watching(clients, root)
                    description = f"Alpha over {label}."
                    edit = partial((root / "alpha" / "SKILL.md").write_text, skill_md("alpha", description))
                    await step(clients, edit, also={alpha_uri})
                    modern, legacy = await clients.listing()
                    assert modern[alpha_uri] == legacy[alpha_uri] == description


async def test_watcher_survives_the_connection_that_started_it(tmp_path: Path, make_app):
    """In-process and stdio servers enter the lifespan per connection; when the connection that owns
    the watcher leaves, another one takes it over and still hears about changes."""
    root = tmp_path / "skills"
    write_skill(root, "alpha", "Alpha.")
    app = make_app(root, debounce_ms=20)
    connected, leave, gone = anyio.Event(), anyio.Event(), anyio.Event()

    async def first_connection() -> None:
        async with Client(app.server, cache=None) as first:
            await first.list_resources()  # its lifespan now owns the watcher
            connected.set()
            await leave.wait()
        gone.set()

    with anyio.fail_after(STEP_TIMEOUT * 3):
        async with anyio.create_task_group() as tg:
            tg.start_soon(first_connection)
            await connected.wait()
            async with both_generations(app.server, "skill://alpha/SKILL.md") as clients:
                leave.set()
                await gone.wait()
                await wait_until_watching(clients, root)
                await step(clients, lambda: write_skill(root, "beta", "Beta."))
                modern, legacy = await clients.listing()
                assert "skill://beta/SKILL.md" in modern and "skill://beta/SKILL.md" in legacy
