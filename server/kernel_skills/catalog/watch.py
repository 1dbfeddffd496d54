"""Watch every root and reload the catalog when files change.

File events come from watchfiles over the folders ``Catalog.watch_paths()`` names (existing roots and
the targets of symlinked skill folders). That set can change while the server runs — a root such as
``~/.claude/skills`` is created after start, a root is deleted, a skill folder is symlinked in — and
file events cannot announce it (nothing watches a folder that does not exist yet). So the watch also
re-checks the set every ``POLL_MS``; when it changed, the catalog is rescanned, the change is
reported, and watching resumes over the new set.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kernel_skills.catalog.index import Catalog
from kernel_skills.catalog.models import CatalogChange

if TYPE_CHECKING:
    import anyio

logger = logging.getLogger("kernel_skills.catalog")

POLL_MS = 1000  # how often the set of watched folders is re-checked (a stat per root)


async def watch_catalog(
    catalog: Catalog,
    on_change: Callable[[CatalogChange], Awaitable[None]],
    *,
    debounce_ms: int = 50,
    stop_event: anyio.Event | None = None,
    poll_ms: int = POLL_MS,
) -> None:
    """Reload ``catalog`` for each batch of file changes and await ``on_change`` for non-empty ones.

    Roots that appear, vanish or gain symlinked skill folders while watching are picked up within
    ``poll_ms``. Errors in reload or on_change are logged and the watch goes on. Returns when
    ``stop_event`` is set.
    """
    watched: list[Path] | None = None
    while not (stop_event is not None and stop_event.is_set()):
        paths = catalog.watch_paths()
        if watched is not None and paths != watched:
            logger.info("watched folders changed (%d now); rescanning the catalog", len(paths))
            await _reload(catalog, on_change, None)  # index what the new folders already hold
        watched = paths
        if not paths:
            await _pause(poll_ms, stop_event)  # nothing exists to watch yet: wait for a root to appear
            continue
        try:
            await _watch_while_unchanged(catalog, on_change, paths, debounce_ms, stop_event, poll_ms)
        except (FileNotFoundError, OSError, RuntimeError):
            # A watched folder vanished between the check and the watch starting: try again.
            logger.warning("could not watch %s; retrying", ", ".join(map(str, paths)), exc_info=True)
            await _pause(poll_ms, stop_event)


async def _watch_while_unchanged(
    catalog: Catalog,
    on_change: Callable[[CatalogChange], Awaitable[None]],
    paths: list[Path],
    debounce_ms: int,
    stop_event: anyio.Event | None,
    poll_ms: int,
) -> None:
    """Reload for each batch of file events under ``paths``; return when the set of watched folders
    changes (checked at least every ``poll_ms``) or ``stop_event`` is set."""
    import watchfiles  # imported here: the CLI's catalog commands do not need it

    async for batch in watchfiles.awatch(
        *paths,
        debounce=debounce_ms,
        step=min(debounce_ms, 50),
        stop_event=stop_event,
        recursive=True,
        ignore_permission_denied=True,
        rust_timeout=poll_ms,
        yield_on_timeout=True,
    ):
        if batch:
            await _reload(catalog, on_change, {Path(path) for _, path in batch})
        if catalog.watch_paths() != paths:
            return  # the caller restarts over the new set (rescanning first)


async def _reload(
    catalog: Catalog, on_change: Callable[[CatalogChange], Awaitable[None]], changed: set[Path] | None
) -> None:
    """Reload ``changed`` (None: everything) in a thread and await ``on_change`` for a non-empty change;
    errors in either are logged, not raised."""
    import anyio.to_thread

    try:
        change = await anyio.to_thread.run_sync(catalog.reload, changed)
    except Exception:
        logger.exception("catalog reload failed; still watching")
        return
    if change.empty:
        return
    try:
        await on_change(change)
    except Exception:
        logger.exception("catalog change handler failed; still watching")


async def _pause(poll_ms: int, stop_event: anyio.Event | None) -> None:
    """Sleep ``poll_ms``, or less if ``stop_event`` is set."""
    import anyio

    with anyio.move_on_after(poll_ms / 1000):
        if stop_event is None:
            await anyio.sleep_forever()
        await stop_event.wait()
