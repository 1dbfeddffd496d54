"""The default executor: the embedded local GPU worker process (``bench.worker``) and CPU tasks in this
process, one at a time (the compile worker serves one compile at a time anyway)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kernel_skills.bench.worker import WorkerPool, WorkerProcess, default_pool
from kernel_skills.executors.base import CPU_TASK_TIMEOUT_S
from kernel_skills.executors.models import CpuOutcome, CpuTask, PoolStatus, WorkerStatus
from kernel_skills.executors.tasks import run_task

if TYPE_CHECKING:
    from kernel_skills.bench import Plan, Progress, Timeouts
    from kernel_skills.bench.models import BenchResult


class LocalExecutor:
    kind = "local"

    def __init__(self, pool: WorkerPool | None = None) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._in_flight = 0
        self._jobs_done = 0

    @property
    def pool(self) -> WorkerPool:
        return self._pool or default_pool()

    def require_device(self) -> None:
        """A GPU, and the libraries the local GPU worker runs it with (each a named error)."""
        from kernel_skills.bench.device import require_cuda_device, require_module

        require_cuda_device()
        require_module("torch")
        require_module("cupy")

    @contextlib.contextmanager
    def lease(self) -> Iterator[WorkerProcess]:
        with self._lock:
            self._in_flight += 1
        try:
            with self.pool.lease() as worker:
                yield worker
        finally:
            with self._lock:
                self._in_flight -= 1
                self._jobs_done += 1

    def run_cpu(self, tasks: list[CpuTask], *, timeout_s: float = CPU_TASK_TIMEOUT_S) -> list[CpuOutcome]:
        del timeout_s  # each task's own worker (the compile worker) enforces its hard limit
        return [CpuOutcome.model_validate(run_task(task.kind, task.payload)) for task in tasks]

    def emulate(self, plan: Plan, *, progress: Progress, timeouts: Timeouts) -> BenchResult:
        from kernel_skills.emulator import verify

        return verify(plan, progress=progress, timeouts=timeouts)

    def status(self) -> PoolStatus:
        worker = self.pool.worker
        pid = worker.pid if worker.alive() else None
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        state = "not started" if pid is None else ("busy" if self._in_flight else "idle")
        return PoolStatus(
            executor="local",
            workers=[
                WorkerStatus(
                    name="local-gpu-worker",
                    state=state,
                    node=socket.gethostname(),
                    pid=pid,
                    devices=[visible] if visible else [],
                    jobs_done=self._jobs_done,
                    restarts=worker.restarts,
                )
            ],
            jobs_in_flight=self._in_flight,
            restarts=worker.restarts,
            notes=[
                "the local GPU worker lives in each server process and starts on its first GPU job; "
                "this shows only this process (--executor ray shows a whole cluster)"
            ],
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


__all__ = ["LocalExecutor"]
