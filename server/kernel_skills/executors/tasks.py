"""CPU tasks: domain functions callable by name, wherever an executor runs them (in this process, or in a
Ray worker on another machine). JSON in, JSON out; a name not in ``TASKS`` is refused, never imported.

``run_task`` is the one entry point both executors call, so a task gives the same answer on either.
A domain error becomes ``CpuOutcome(ok=False, error=...)``; anything else is a bug and propagates.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kernel_skills.errors import KernelSkillsError, RefusedInput
from kernel_skills.executors.models import CpuOutcome, ErrorInfo

if TYPE_CHECKING:
    from kernel_skills.toolchain import Toolchain

Task = Callable[[dict[str, Any], "Toolchain"], dict[str, Any]]
TEST_TASKS_ENV = "KERNEL_SKILLS_WORKER_TEST_JOBS"  # the same switch as the GPU worker's test jobs


def compile_task(payload: dict[str, Any], toolchain: Toolchain) -> dict[str, Any]:
    """``compile_source`` with this machine's ``toolchain`` (its own confined compile worker); a
    successful compile also carries its cubin back (``CompileArtifact``)."""
    from kernel_skills.toolchain import CompileRequest, compile_source, export_artifact

    try:
        request = CompileRequest.model_validate(payload)
    except ValueError as exc:
        raise RefusedInput(f"bad compile request: {exc}") from exc
    result = compile_source(request, toolchain=toolchain)
    artifact = export_artifact(result.compile_id) if result.ok and result.compile_id else None
    return {
        "result": result.model_dump(mode="json"),
        "artifact": artifact.model_dump(mode="json") if artifact is not None else None,
    }


def emulate_task(payload: dict[str, Any], toolchain: Toolchain) -> dict[str, Any]:
    """The CPU emulator's verdict (``emulator.verify``) for a BenchRequest on a bundled problem;
    the caller stores the result (``store`` happens where the judge runs, never here)."""
    from kernel_skills.bench import BenchRequest, Timeouts, no_progress, plan
    from kernel_skills.emulator import verify

    try:
        request = BenchRequest.model_validate({**payload, "device": "emulator"})
    except ValueError as exc:
        raise RefusedInput(f"bad benchmark request: {exc}") from exc
    result = verify(plan(request), toolchain=toolchain, progress=no_progress, timeouts=Timeouts())
    return {"result": result.model_dump(mode="json")}


def _sleep_task(payload: dict[str, Any], toolchain: Toolchain) -> dict[str, Any]:
    del toolchain
    time.sleep(float(payload.get("seconds", 0)))
    return {"pid": os.getpid()}


TASKS: dict[str, Task] = {"compile": compile_task, "emulate": emulate_task}


def _tasks() -> dict[str, Task]:
    if os.environ.get(TEST_TASKS_ENV) == "1":
        return {**TASKS, "sleep": _sleep_task}
    return TASKS


def run_task(kind: str, payload: dict[str, Any], toolchain: Toolchain) -> dict[str, Any]:
    """Run one task here, compiling with ``toolchain``; returns ``CpuOutcome`` as a JSON dict (what
    crosses a process boundary)."""
    started = time.perf_counter()
    task = _tasks().get(kind)
    try:
        if task is None:
            raise RefusedInput(f"unknown CPU task {kind!r}; the tasks are: {', '.join(sorted(TASKS))}")
        outcome = CpuOutcome(ok=True, result=task(payload, toolchain), ms=0.0)
    except KernelSkillsError as exc:
        outcome = CpuOutcome(ok=False, error=ErrorInfo.of(exc), ms=0.0)
    outcome.ms = (time.perf_counter() - started) * 1000
    return outcome.model_dump(mode="json")


__all__ = ["TASKS", "TEST_TASKS_ENV", "compile_task", "emulate_task", "run_task"]
