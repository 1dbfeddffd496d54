"""Where a verdict comes from: ``benchmark(request, runtime=...)`` picks the GPU worker or the CPU
emulator and the executor that runs it; ``calibrate()`` measures a leased GPU. The one domain entry
point for verdicts.

Order: validate everything on the server (``bench.plan``: problem, shapes, launch expressions,
source/compile id and its arch) -> then either
- the GPU: compile (NVRTC) and check the kernel's parameter sizes against the ABI, resolve and
  limit-check the launch for every shape (``bench.prepare``) -> only then: is there a GPU at all ->
  ``bench.execute`` on a worker leased from the executor; or
- the CPU emulator, without a usable GPU (``device="auto"``) or with ``device="emulator"``:
  ``executor.emulate`` (``emulator.verify``, here or on a Ray node): correctness only,
  ``verified_on="cpu-emulator"``.
A GPU run is never replaced by the emulator when a GPU is present and ``device`` is not "emulator".
The result is stored here, whichever executor ran it. The executor, the toolchain and the results DB
are the caller's ``kernel_skills.runtime.Runtime`` (the server's lifespan or one CLI command holds it).

Layering (enforced by ``tests/contract/test_layering.py``): ``bench`` < ``emulator`` < ``executors`` <
``runtime`` < ``dispatch``. ``bench`` imports none of those above it; ``emulator`` may import
``bench``; ``executors`` may import ``bench`` and ``emulator`` (it runs the emulator where CPU work
runs); ``runtime`` composes an executor and a toolchain; only this module, above them all, imports
the verdict layers. Callers (``surface``, ``commands``, ``evals``) import
``benchmark`` from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel_skills.bench import (
    BenchRequest,
    BenchResult,
    Plan,
    Progress,
    Steps,
    Timeouts,
    calibrate_device,
    execute,
    gpu_steps,
    keep_result,
    no_progress,
    plan,
    prepare,
    with_measurement,
)
from kernel_skills.errors import DeviceUnavailable, KernelSkillsError

if TYPE_CHECKING:
    from kernel_skills.bench import Calibration, ProblemRegistry
    from kernel_skills.executors import Executor
    from kernel_skills.runtime import Runtime


def benchmark(
    request: BenchRequest,
    *,
    runtime: Runtime,
    registry: ProblemRegistry | None = None,
    progress: Progress | None = None,
    store: bool = True,
    timeouts: Timeouts | None = None,
) -> BenchResult:
    """Judge one submission: correctness on fresh inputs, time, speedup, roofline (see module doc).
    The GPU half runs on a worker leased from ``runtime.executor``, compiled with ``runtime.toolchain``;
    the result is stored in ``runtime``'s results DB here, whichever executor ran it."""
    executor = runtime.executor
    the_plan = plan(request, registry)
    if on_emulator(request.device, executor):
        result = executor.emulate(the_plan, progress=progress or no_progress, timeouts=timeouts or Timeouts())
        if store and result.verified_on is not None:
            keep_result(result, path=runtime.db_path)
        return result
    steps = gpu_steps(the_plan, progress or no_progress)
    result = _on_gpu(the_plan, runtime, steps, timeouts or Timeouts())
    if result.verified_on is None:
        return result  # a compile error: judged without a device, never stored
    if the_plan.request.counters and result.correct:
        steps.step("counting on the CPU emulator")
        add_counters(result, the_plan, executor, timeouts or Timeouts())
    if store:
        keep_result(result, path=runtime.db_path)
    steps.finish()
    return result


def add_counters(result: BenchResult, the_plan: Plan, executor: Executor, timeouts: Timeouts) -> None:
    """Add the emulator's counters and estimate of the same kernel to a GPU result, the estimate beside
    the measured median; an emulator that cannot run it leaves a warning, never a changed verdict."""
    try:
        emulated = executor.emulate(the_plan, progress=no_progress, timeouts=timeouts)
    except KernelSkillsError as exc:
        result.warnings.append(f"counters: the CPU emulator could not run this kernel: {exc}")
        return
    result.counters = emulated.counters
    if emulated.estimate is not None and result.time_us is not None:
        result.estimate = with_measurement(emulated.estimate, result.time_us.median)
    elif not emulated.correct:
        failed = ", ".join(c.name for c in emulated.checks if not c.passed)
        result.warnings.append(f"the CPU emulator disagrees: it found this kernel incorrect ({failed})")


def _on_gpu(the_plan: Plan, runtime: Runtime, steps: Steps, timeouts: Timeouts) -> BenchResult:
    steps.step("compiling for sm_90a")
    prepared = prepare(the_plan, runtime.toolchain)
    executor = runtime.executor
    if isinstance(prepared, BenchResult):
        return prepared
    steps.step("looking for a CUDA device")  # after everything that can be judged without one
    executor.require_device()
    with executor.lease() as worker:
        return execute(prepared, worker, steps=steps, timeouts=timeouts)


def on_emulator(device: str, executor: Executor) -> bool:
    """Whether this request's verdict comes from the CPU emulator (auto: only when the executor has no
    usable GPU)."""
    if device != "auto":
        return device == "emulator"
    try:
        executor.require_device()
    except DeviceUnavailable:
        return True
    return False


def calibrate(*, executor: Executor, force: bool = True) -> Calibration:
    """Measure (or with ``force=False`` reuse) a device's copy bandwidth and bf16 matmul rate (the
    device of a worker leased from ``executor``, a runtime's)."""
    executor.require_device()
    with executor.lease() as worker:
        return calibrate_device(worker, force=force)


__all__ = ["add_counters", "benchmark", "calibrate", "on_emulator"]
