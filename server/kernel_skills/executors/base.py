"""The executor boundary. ``kernel_skills.dispatch`` asks an executor for a GPU worker (``lease``) and
sends it prepared jobs; CPU work goes through ``run_cpu``. Nothing above this boundary knows where a job runs.

A leased worker is exclusively the caller's until the lease ends: a submission's timing never shares
its GPU with another job. Its ``request(job, *, timeout_s, what)`` has the local worker's contract:
the reply's ``result`` dict, or ``Timeout`` / ``KernelFault`` (the worker was replaced) /
``DeviceUnavailable`` / ``RefusedInput`` with the same messages wherever the job ran.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from kernel_skills.executors.models import CpuOutcome, CpuTask, ErrorInfo, ExecutorKind, PoolStatus

if TYPE_CHECKING:
    from kernel_skills.bench import BenchResult, Plan, Progress, Timeouts

CPU_TASK_TIMEOUT_S = 300.0


class Worker(Protocol):
    def request(
        self, job: dict[str, Any], *, timeout_s: float, what: str | None = None
    ) -> dict[str, Any]: ...


class Executor(Protocol):
    kind: ExecutorKind

    def require_device(self) -> None:
        """DeviceUnavailable (saying what is missing) unless a GPU job can run at all."""

    def lease(self) -> AbstractContextManager[Worker]:
        """One GPU worker, held until the context ends (waits while every worker is leased)."""

    def run_cpu(self, tasks: list[CpuTask], *, timeout_s: float = CPU_TASK_TIMEOUT_S) -> list[CpuOutcome]:
        """Run CPU tasks (as parallel as the executor allows); one outcome per task, in order."""

    def emulate(self, plan: Plan, *, progress: Progress, timeouts: Timeouts) -> BenchResult:
        """The CPU emulator's verdict for a planned submission (``emulator.verify``), run where
        this executor runs CPU work; the caller stores it."""

    def status(self) -> PoolStatus: ...

    def close(self) -> None: ...


def raise_error(info: ErrorInfo) -> NoReturn:
    """Raise the domain error an ``ErrorInfo`` names (an unknown name is a KernelFault)."""
    from kernel_skills.bench import rebuilt_error

    raise rebuilt_error(info.type, info.message, info.fields)


__all__ = ["CPU_TASK_TIMEOUT_S", "Executor", "Worker", "raise_error"]
