"""Caches are an optimisation, never a failure: a cache read or write that fails is recorded here,
logged once per (cache, operation, errno) with the path, counted, and the caller goes on uncached."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from pathlib import Path

from kernel_skills.errors import errno_text

_LOG = logging.getLogger(__name__)  # forwarded to MCP clients as log messages while serving


class CacheFaults:
    """Counts of failed cache operations, keyed ``"<cache> <operation> <ERRNO>"``."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record(self, cache: str, operation: str, path: Path | str, exc: BaseException) -> None:
        """Count a failure; the first of its kind is logged with the path and the errno."""
        why = errno_text(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
        name = why.split(" ", 1)[0]
        key = f"{cache} {operation} {name}"
        with self._lock:
            self._counts[key] += 1
            first = self._counts[key] == 1
        if first:
            _LOG.warning(
                "the %s cache could not %s %s: %s; going on without it (logged once; counted)",
                cache, operation, path, why,
            )  # fmt: skip

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


FAULTS = CacheFaults()

__all__ = ["FAULTS", "CacheFaults"]
