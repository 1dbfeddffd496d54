"""CPU work through an executor, as typed results: the driver's side of ``executors.tasks``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel_skills.executors.models import CpuTask, ErrorInfo

if TYPE_CHECKING:
    from pathlib import Path

    from kernel_skills.bench import BenchRequest, BenchResult
    from kernel_skills.executors.base import Executor
    from kernel_skills.toolchain import CompileRequest, CompileResult


def compile_many(requests: list[CompileRequest], *, executor: Executor) -> list[CompileResult | ErrorInfo]:
    """Compile each request where the executor runs CPU tasks (in parallel on Ray); every successful
    compile's cubin lands in this machine's cache, so its ``compile_id`` works here for the benchmark."""
    from kernel_skills.toolchain import CompileArtifact, CompileResult, adopt_artifact

    tasks = [CpuTask(kind="compile", payload=request.model_dump(mode="json")) for request in requests]
    answers: list[CompileResult | ErrorInfo] = []
    for outcome in executor.run_cpu(tasks):
        if not outcome.ok or outcome.result is None:
            answers.append(outcome.error or ErrorInfo(type="KernelFault", message="the task sent no result"))
            continue
        artifact = outcome.result.get("artifact")
        if artifact is not None:
            adopt_artifact(CompileArtifact.model_validate(artifact))
        answers.append(CompileResult.model_validate(outcome.result["result"]))
    return answers


def emulate_many(
    requests: list[BenchRequest], *, executor: Executor, store: bool = True, db: Path | None = None
) -> list[BenchResult | ErrorInfo]:
    """CPU emulator verdicts for many submissions (bundled problems), in parallel where the executor
    allows; each result is stored in this machine's results database (``db``, None: ``db_path()``)
    unless ``store`` is False."""
    from kernel_skills.bench import BenchResult, keep_result

    tasks = [CpuTask(kind="emulate", payload=r.model_dump(mode="json", exclude_none=True)) for r in requests]
    answers: list[BenchResult | ErrorInfo] = []
    for outcome in executor.run_cpu(tasks):
        if not outcome.ok or outcome.result is None:
            answers.append(outcome.error or ErrorInfo(type="KernelFault", message="the task sent no result"))
            continue
        result = BenchResult.model_validate(outcome.result["result"])
        if store:
            keep_result(result, path=db)
        answers.append(result)
    return answers


__all__ = ["compile_many", "emulate_many"]
