"""The default executor: the embedded local GPU worker process (``bench.worker``) and CPU tasks in this
process, one at a time (the compile worker serves one compile at a time anyway)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kernel_skills.bench import WorkerPool, WorkerProcess
from kernel_skills.executors.base import CPU_TASK_TIMEOUT_S
from kernel_skills.executors.models import CpuOutcome, CpuTask, PoolStatus, WorkerStatus
from kernel_skills.executors.tasks import run_task
from kernel_skills.toolchain import Toolchain

if TYPE_CHECKING:
    from kernel_skills.bench import BenchResult, Plan, Progress, Timeouts


class LocalExecutor:
    kind = "local"

    def __init__(self, pool: WorkerPool | None = None, *, toolchain: Toolchain | None = None) -> None:
        """``pool``: the GPU worker pool (None: its own, made on first use); ``toolchain``: what CPU tasks
        and the emulator compile with (None: its own). ``close`` stops the pool and an own toolchain."""
        self._pool = pool
        self._own_toolchain = toolchain is None
        self.toolchain = toolchain if toolchain is not None else Toolchain()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._jobs_done = 0

    @property
    def pool(self) -> WorkerPool:
        with self._lock:
            if self._pool is None:
                self._pool = WorkerPool()  # no process yet: the worker starts on the first GPU job
            return self._pool

    def require_device(self) -> None:
        """A GPU, and the libraries the local GPU worker runs it with (each a named error)."""
        from kernel_skills.bench import require_cuda_device, require_module

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
        return [
            CpuOutcome.model_validate(run_task(task.kind, task.payload, self.toolchain)) for task in tasks
        ]

    def emulate(self, plan: Plan, *, progress: Progress, timeouts: Timeouts) -> BenchResult:
        from kernel_skills.emulator import verify

        return verify(plan, toolchain=self.toolchain, progress=progress, timeouts=timeouts)

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
        """Stop the GPU worker and an own toolchain's compile worker (each starts again if used)."""
        with self._lock:
            pool = self._pool
        if pool is not None:
            pool.close()
        if self._own_toolchain:
            self.toolchain.close()


__all__ = ["LocalExecutor"]
