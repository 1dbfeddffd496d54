"""Server-lifetime state: the catalog, its wire index, the change notifier and the file watcher.

The catalog is scanned in a worker thread once the server starts serving, not before: ``initialize``
needs no skills, so a client's handshake is not held up by a large catalog (1,000 skills scan in about
0.2 s here). Handlers await ``get_catalog()`` / ``get_index()``, which wait for that one scan.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from kernel_skills.errors import SkillError
from kernel_skills.surface.index import SkillIndex, skill_uri
from kernel_skills.surface.notify import ChangeNotifier

if TYPE_CHECKING:
    from kernel_skills.catalog import Catalog, CatalogChange

log = logging.getLogger("kernel_skills.serve")


class SkillsState:
    """Shared by every connection. The SDK enters the lifespan once per connection on stdio and the
    in-memory transport and once per process on streamable HTTP; exactly one watcher runs either way."""

    def __init__(
        self, load: Callable[[], Catalog], notifier: ChangeNotifier, *, debounce_ms: int = 50
    ) -> None:
        self._load = load
        self._catalog: Catalog | None = None
        self._load_error: str | None = None
        self._load_lock = anyio.Lock()
        self.notifier = notifier
        self.debounce_ms = debounce_ms
        self._index: SkillIndex | None = None
        self._watch_lock = anyio.Lock()
        self._watched_before = False

    async def get_catalog(self) -> Catalog:
        if self._catalog is None:
            async with self._load_lock:
                if self._catalog is None and self._load_error is None:
                    try:
                        # Shielded: a connection closing mid-scan must not throw the finished scan away.
                        with anyio.CancelScope(shield=True):
                            self._catalog = await anyio.to_thread.run_sync(self._load)
                    except Exception as exc:
                        log.exception("could not load the skill catalog")
                        self._load_error = f"{type(exc).__name__}: {exc}"
        if self._catalog is None:
            raise SkillError(
                f"the skill catalog could not be loaded ({self._load_error}); see the server log"
            )
        return self._catalog

    async def get_index(self) -> SkillIndex:
        await self.get_catalog()
        return self.index

    @property
    def catalog(self) -> Catalog:
        """The loaded catalog (only valid once ``get_catalog()`` has returned)."""
        if self._catalog is None:
            raise RuntimeError("the catalog is not loaded yet; await get_catalog() first")
        return self._catalog

    @property
    def index(self) -> SkillIndex:
        """The wire index for the current catalog version (rebuilt only after a change)."""
        index = self._index
        if index is None or index.version != self.catalog.version:
            index = self._index = SkillIndex.build(self.catalog)
        return index

    async def on_change(self, change: CatalogChange) -> None:
        if change.empty:
            return
        _ = self.index  # rebuild before anyone is told to refetch
        log.info(
            "catalog changed: added=%s removed=%s changed=%s files=%d",
            change.added,
            change.removed,
            change.changed,
            len(change.files),
        )
        await self.notifier.resources_list_changed()
        updated = [skill_uri(name, path) for name, path in change.files]
        if updated:
            await self.notifier.resources_updated(updated)

    async def _watch(self, stop: anyio.Event) -> None:
        from kernel_skills.catalog import watch_catalog

        try:
            catalog = await self.get_catalog()
        except SkillError:
            return
        # Connections that arrive while another one owns the watcher wait here; when the owner's
        # lifespan ends, the next waiter takes over after a rescan (nothing changed in between is lost).
        async with self._watch_lock:
            try:
                if self._watched_before:
                    await self.on_change(catalog.reload())
                self._watched_before = True
                await watch_catalog(catalog, self.on_change, debounce_ms=self.debounce_ms, stop_event=stop)
            except Exception:
                # A broken watcher must not take the server down: it keeps serving what it has.
                log.exception("the skill watcher stopped; edits are no longer picked up until restart")

    @asynccontextmanager
    async def lifespan(self, server: Any) -> AsyncIterator[SkillsState]:
        del server
        # The watcher's thread notices `stop` within one poll step; cancelling alone would wait out
        # watchfiles' 5 s Rust timeout before the connection could close.
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._watch, stop)
            try:
                yield self
            finally:
                stop.set()
                tg.cancel_scope.cancel()
