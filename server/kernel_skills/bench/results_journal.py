"""Verdicts the results DB could not take, held in memory (bounded, oldest dropped first) until it
can. The journal lives in this process only: a restart loses what it holds (the warning says so)."""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path

from kernel_skills.bench.models import BenchResult

MAX_HELD = 1000


class Journal:
    def __init__(self, limit: int = MAX_HELD) -> None:
        self._held: deque[BenchResult] = deque()
        self._limit = limit
        self.dropped = 0  # verdicts pushed out by newer ones while the DB stayed unwritable
        self.lock = threading.RLock()

    def hold(self, result: BenchResult) -> int:
        """Keep a verdict; returns how many are held now."""
        with self.lock:
            self._held.append(result)
            while len(self._held) > self._limit:
                self._held.popleft()
                self.dropped += 1
            return len(self._held)

    def __len__(self) -> int:
        return len(self._held)

    def snapshot(self) -> list[BenchResult]:
        """What is held, oldest first (hold ``lock`` across snapshot, store and ``release``)."""
        return list(self._held)

    def release(self, count: int) -> None:
        """Forget the ``count`` oldest verdicts (they were stored)."""
        for _ in range(min(count, len(self._held))):
            self._held.popleft()


_JOURNALS: dict[Path, Journal] = {}
_LOCK = threading.Lock()


def journal_for(path: Path) -> Journal:
    with _LOCK:
        return _JOURNALS.setdefault(path.resolve(), Journal())


__all__ = ["MAX_HELD", "Journal", "journal_for"]
