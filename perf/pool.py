"""`make bench` section *pool*: CPU verdicts through the local executor vs the Ray executor.

The jobs are CPU emulator verdicts (``emulate`` tasks: NVRTC compile, the cached g++ build, every
emulator shape checked with 3 seeds) of the bundled gelu_tanh solution; where the emulator cannot run
(no g++ or no Landlock) they are compile jobs instead (a cold full report each of the *compile*
section's RMSNorm, a fresh source per job). The output says which. Measured in one run, on one machine:
1. Ray's start-up cost: ``ray.init`` of a local in-process cluster, then the first round of tasks
   (Ray workers and their compile workers starting), apart from the steady state.
2. Throughput: N jobs, local (one at a time in this process, its workers warm) vs Ray (one task per
   CPU); the ratio is local wall time / Ray wall time.
3. Per-job overhead: one cache-hit compile job at a time (whatever the jobs above), the round trip
   minus the task's own time where it ran (median over repetitions), for each executor.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from perf.compile import RMSNORM


@contextlib.contextmanager
def _private_cache() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kernel-skills-perf-pool-") as folder:
        before = os.environ.get("KERNEL_SKILLS_CACHE_DIR")
        os.environ["KERNEL_SKILLS_CACHE_DIR"] = folder  # set before ray.init: its workers inherit it
        try:
            yield Path(folder)
        finally:
            if before is None:
                os.environ.pop("KERNEL_SKILLS_CACHE_DIR", None)
            else:
                os.environ["KERNEL_SKILLS_CACHE_DIR"] = before


def _emulator_reason() -> str | None:
    import shutil

    from kernel_skills import confine

    if shutil.which("g++") is None:
        return "no g++"
    if not confine.landlock_available():
        return "no Landlock"
    return None


def _verdicts(count: int) -> list[Any]:
    from kernel_skills.bench.solutions import solution_request_fields
    from kernel_skills.executors.models import CpuTask

    payload = {**solution_request_fields("gelu_tanh"), "device": "emulator"}
    return [CpuTask(kind="emulate", payload=payload) for _ in range(count)]


def _tasks(count: int, tag: str) -> list[Any]:
    from kernel_skills.executors.models import CpuTask

    return [
        CpuTask(kind="compile", payload={"source": f"{RMSNORM}\n// {tag} {i} {time.time_ns()}\n"})
        for i in range(count)
    ]


def _wall(executor: Any, tasks: list[Any]) -> float:
    started = time.perf_counter()
    outcomes = executor.run_cpu(tasks)
    wall = time.perf_counter() - started
    bad = [o.error for o in outcomes if not o.ok]
    if bad:
        raise RuntimeError(f"a benchmark job failed: {bad[0]}")
    return wall


def _overhead_ms(executor: Any, reps: int) -> float:
    """Median of (round trip - time inside the task) for one cache-hit compile job at a time."""
    (task,) = _tasks(1, "overhead")
    executor.run_cpu([task])  # now cached
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        (outcome,) = executor.run_cpu([task])
        samples.append((time.perf_counter() - started) * 1000 - outcome.ms)
    return statistics.median(samples)


def run(args: argparse.Namespace) -> dict:
    try:
        import ray
    except ImportError:
        print("skipped: ray is not installed (pip install -e '.[ray]')")
        return {"skipped": "ray is not installed"}
    from kernel_skills.executors.local import LocalExecutor
    from kernel_skills.executors.ray_executor import RayExecutor
    from perf.runtime import RUNTIME

    count = 4 if args.quick else 12
    reps = 5 if args.quick else 15
    cpus = os.cpu_count() or 1
    reason = _emulator_reason()
    if reason is None:
        job = "CPU emulator verdict of the bundled gelu_tanh (g++ build cached)"
        jobs = lambda n, tag: _verdicts(n)  # noqa: E731
    else:
        job = f"cold compile, full report (RMSNorm); the emulator cannot run here ({reason})"
        jobs = _tasks
    figures: dict[str, Any] = {"jobs": count, "cpus": cpus, "job": job}
    with _private_cache():
        local = LocalExecutor(toolchain=RUNTIME.toolchain)
        _wall(local, jobs(1, "warm-local"))  # worker start and the g++ build, once per server
        figures["local_wall_s"] = _wall(local, jobs(count, "local"))
        figures["local_overhead_ms"] = _overhead_ms(local, reps)

        started = time.perf_counter()
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
        figures["ray_init_s"] = time.perf_counter() - started
        try:
            remote = RayExecutor()
            figures["ray_first_round_s"] = _wall(remote, jobs(cpus, "warm-ray"))
            figures["ray_wall_s"] = _wall(remote, jobs(count, "ray"))
            figures["ray_overhead_ms"] = _overhead_ms(remote, reps)
        finally:
            ray.shutdown()
    figures["throughput_ratio"] = figures["local_wall_s"] / figures["ray_wall_s"]
    _print(figures)
    return figures


def _print(f: dict) -> None:
    print(f"{f['jobs']} jobs: {f['job']}; {f['cpus']} CPUs; baseline: the local executor in the same run")
    rows = [
        ("local executor, wall for all jobs", f"{f['local_wall_s'] * 1000:.0f} ms"),
        ("ray executor, wall for all jobs", f"{f['ray_wall_s'] * 1000:.0f} ms"),
        ("throughput, ray / local", f"{f['throughput_ratio']:.2f}x"),
        ("per-job overhead, local (round trip - task)", f"{f['local_overhead_ms']:.2f} ms"),
        ("per-job overhead, ray (round trip - task)", f"{f['ray_overhead_ms']:.2f} ms"),
        ("ray start-up: ray.init, local cluster", f"{f['ray_init_s'] * 1000:.0f} ms"),
        ("ray start-up: first round of tasks", f"{f['ray_first_round_s'] * 1000:.0f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>10}")


__all__ = ["run"]
