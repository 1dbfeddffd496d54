"""Timing statistics and the stopping rule; plain floats, no GPU (tested on CPU)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from pydantic import BaseModel

REL_SEM_TARGET = 0.005  # stop once the standard error of the mean is <= 0.5% of the mean
MIN_REPS = 10
MAX_REPS = 10_000
CAP_MS = 3_000.0  # wall-clock cap on one measurement (timed region plus flushes and checks)


class TimeStats(BaseModel):
    """Microseconds per call over ``n`` timed repetitions; ``sem`` is the standard error of the mean."""

    median: float
    mean: float
    std: float
    n: int
    sem: float
    min: float


def summarize(samples_us: Sequence[float]) -> TimeStats:
    if not samples_us:
        raise ValueError("no timing samples")
    n = len(samples_us)
    mean = statistics.fmean(samples_us)
    std = statistics.stdev(samples_us) if n > 1 else 0.0
    return TimeStats(
        median=statistics.median(samples_us),
        mean=mean,
        std=std,
        n=n,
        sem=std / math.sqrt(n),
        min=min(samples_us),
    )


def relative_sem(samples_us: Sequence[float]) -> float:
    """Standard error of the mean over the mean; infinity while it cannot be estimated."""
    if len(samples_us) < 2:
        return math.inf
    mean = statistics.fmean(samples_us)
    if mean <= 0:
        return math.inf
    return statistics.stdev(samples_us) / math.sqrt(len(samples_us)) / mean


def should_stop(
    samples_us: Sequence[float],
    *,
    elapsed_ms: float,
    rel_sem_target: float = REL_SEM_TARGET,
    min_reps: int = MIN_REPS,
    max_reps: int = MAX_REPS,
    cap_ms: float = CAP_MS,
) -> bool:
    """Stop at ``max_reps``, or past the time cap, or once ``min_reps`` reached the SEM target."""
    n = len(samples_us)
    if n >= max_reps:
        return True
    if n >= 1 and elapsed_ms >= cap_ms:
        return True
    return n >= min_reps and relative_sem(samples_us) <= rel_sem_target


__all__ = [
    "CAP_MS",
    "MAX_REPS",
    "MIN_REPS",
    "REL_SEM_TARGET",
    "TimeStats",
    "relative_sem",
    "should_stop",
    "summarize",
]
