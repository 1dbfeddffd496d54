"""Watch every existing root and reload the catalog when files change."""

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


async def watch_catalog(
    catalog: Catalog,
    on_change: Callable[[CatalogChange], Awaitable[None]],
    *,
    debounce_ms: int = 50,
    stop_event: anyio.Event | None = None,
) -> None:
    """Reload ``catalog`` for each batch of file changes and await ``on_change`` for non-empty ones.

    Watches every existing root and the targets of symlinked skill folders found at start.

    Errors in reload or on_change are logged and the watch goes on. Returns when ``stop_event`` is
    set (or at once when no root exists).
    """
    import anyio.to_thread  # imported here: the CLI's catalog commands need neither
    import watchfiles

    roots = catalog.watch_paths()
    if not roots:
        logger.warning("no skill root exists; not watching for changes")
        return
    async for batch in watchfiles.awatch(
        *roots,
        debounce=debounce_ms,
        step=min(debounce_ms, 50),
        stop_event=stop_event,
        recursive=True,
        ignore_permission_denied=True,
        yield_on_timeout=False,
    ):
        changed = {Path(path) for _, path in batch}
        try:
            change = await anyio.to_thread.run_sync(catalog.reload, changed)
        except Exception:
            logger.exception("catalog reload failed for %d changed paths; still watching", len(changed))
            continue
        if change.empty:
            continue
        try:
            await on_change(change)
        except Exception:
            logger.exception("catalog change handler failed; still watching")
