"""Pydantic models at the executor boundary: CPU tasks in, outcomes and pool status out."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kernel_skills.errors import KernelSkillsError

ExecutorKind = Literal["local", "ray"]
EXECUTOR_KINDS: tuple[str, ...] = ("local", "ray")


class ErrorInfo(BaseModel):
    """A domain error as data: ``type`` is a class name of ``kernel_skills.errors``."""

    type: str
    message: str
    fields: dict[str, str] | None = None  # a ProblemError's module, entry, expected and given

    @classmethod
    def of(cls, exc: KernelSkillsError) -> ErrorInfo:
        return cls(type=type(exc).__name__, message=str(exc), fields=getattr(exc, "fields", None))


class CpuTask(BaseModel):
    """One CPU job (a compile, an emulator verdict): a task name from ``executors.tasks``, JSON input."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="a registered task name, e.g. 'compile'")
    payload: dict[str, Any] = Field(default_factory=dict, description="the task's input, JSON only")


class CpuOutcome(BaseModel):
    """The answer to one CpuTask: ``result`` (JSON) when ``ok``, else ``error``. One failure never
    loses the rest of a batch."""

    ok: bool
    result: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    ms: float = Field(description="wall time of the task where it ran (ms)")


class WorkerStatus(BaseModel):
    """One GPU worker: a local process or a Ray actor holding ``num_gpus=1``."""

    name: str
    state: Literal["not started", "idle", "busy", "unreachable"]
    node: str | None = Field(default=None, description="host name (Ray: and node id prefix)")
    pid: int | None = Field(default=None, description="the process that owns the CUDA context")
    devices: list[str] = Field(default_factory=list, description="GPU ids it may use (CUDA_VISIBLE_DEVICES)")
    current_job: str | None = None
    jobs_done: int = 0
    restarts: int = 0


class PoolStatus(BaseModel):
    """What ``kernel-skills pool status`` prints: the workers, their devices, jobs in flight, restarts."""

    executor: ExecutorKind
    address: str | None = Field(default=None, description="the Ray cluster's address (ray only)")
    resources: dict[str, float] = Field(default_factory=dict, description="the cluster's total resources")
    workers: list[WorkerStatus] = Field(default_factory=list)
    jobs_in_flight: int = 0
    restarts: int = 0
    notes: list[str] = Field(default_factory=list)


__all__ = [
    "EXECUTOR_KINDS",
    "CpuOutcome",
    "CpuTask",
    "ErrorInfo",
    "ExecutorKind",
    "PoolStatus",
    "WorkerStatus",
]
