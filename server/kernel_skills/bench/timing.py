"""The one timing function, used for submitted kernels, the PyTorch baselines and calibration.

``time_gpu(fn, ...)`` measures ``fn(i)`` (the i-th call) with CUDA events recorded on ``stream``:

1. Warm-up: calls (each with its setup, flush and after-hook) until ``warmup_ms`` of wall time and
   at least 3 calls have passed, synchronizing the device after each (so a fault surfaces here).
2. Timed repetitions in batches: per call, ``setup(i)`` (e.g. re-poison the outputs), then the L2
   flush (``flush.zero_()``, a buffer of at least twice the device's L2), then start event,
   ``fn(i)``, end event, then ``after(i)`` (e.g. checksum the outputs). Only ``fn`` lies between
   the events. After each batch the whole device is synchronized (errors surface) and the
   per-call times are read.
3. It stops when ``stats.should_stop`` says so: the standard error of the mean is at most
   ``rel_sem_target`` of the mean (after ``min_reps``), or the wall-clock cap, or ``max_reps``.

It returns every statistic (median, mean, std, n, sem, min) in microseconds; the benchmark
reports the median as "the" time. Torch is imported here, so only the worker imports this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kernel_skills.bench.stats import (
    CAP_MS,
    MAX_REPS,
    MIN_REPS,
    REL_SEM_TARGET,
    TimeStats,
    should_stop,
    summarize,
)

WARMUP_MS = 25.0
_MAX_BATCH = 64


def _noop(i: int) -> None:
    del i


def time_gpu(
    fn: Callable[[int], Any],
    *,
    stream: Any,
    flush: Any | None,
    setup: Callable[[int], Any] = _noop,
    after: Callable[[int], Any] = _noop,
    warmup_ms: float = WARMUP_MS,
    rel_sem_target: float = REL_SEM_TARGET,
    min_reps: int = MIN_REPS,
    max_reps: int = MAX_REPS,
    cap_ms: float = CAP_MS,
) -> TimeStats:
    import torch

    def one(i: int, events: tuple[Any, Any] | None) -> None:
        setup(i)
        if flush is not None:
            flush.zero_()
        if events is not None:
            events[0].record(stream)
        fn(i)
        if events is not None:
            events[1].record(stream)
        after(i)

    calls = 0
    with torch.cuda.stream(stream):
        started = time.perf_counter()
        while calls < 3 or (time.perf_counter() - started) * 1e3 < warmup_ms:
            one(calls, None)
            torch.cuda.synchronize()
            calls += 1
        samples: list[float] = []
        batch = min(min_reps, max_reps)
        pairs = [
            (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
            for _ in range(_MAX_BATCH)
        ]
        started = time.perf_counter()
        while True:
            count = max(1, min(batch, _MAX_BATCH, max_reps - len(samples)))
            for j in range(count):
                one(calls, pairs[j])
                calls += 1
            torch.cuda.synchronize()
            samples.extend(pairs[j][0].elapsed_time(pairs[j][1]) * 1e3 for j in range(count))
            elapsed_ms = (time.perf_counter() - started) * 1e3
            if should_stop(
                samples,
                elapsed_ms=elapsed_ms,
                rel_sem_target=rel_sem_target,
                min_reps=min_reps,
                max_reps=max_reps,
                cap_ms=cap_ms,
            ):
                return summarize(samples)
            batch = min(batch * 2, _MAX_BATCH)


__all__ = ["WARMUP_MS", "time_gpu"]
