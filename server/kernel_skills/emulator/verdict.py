"""``verify(plan)``: a submission's correctness verdict computed on the CPU, labelled as such.

Same order as a GPU run up to the device: the plan (validated by ``bench.plan``) -> NVRTC compile
for sm_90a, ABI and launch-limit checks (``bench.prepare``, on the problem's emulator shapes) ->
the source refused if it uses what the emulator cannot model (``rewrite.prepare_source``) -> a confined
g++ build of the runner (cached by source, engine and compiler) -> ``bench.check_shapes``, the GPU
run's shape loop and checks, with ``check_shape`` over the emulator's ``Harness`` on every emulator
shape, each launch a confined run. The result has the GPU result's shape with ``verified_on:
"cpu-emulator"``; nothing is timed (``time_us``, ``speedup``, ``roofline`` null, ``ok`` = ``correct``).
"""

from __future__ import annotations

import dataclasses
import functools
import platform
from typing import TYPE_CHECKING, Any

from kernel_skills import paths
from kernel_skills.bench import (
    Plan,
    Progress,
    Steps,
    Timeouts,
    check_shapes,
    launch_info,
    prepare,
    provenance,
)
from kernel_skills.bench.checking import check_shape
from kernel_skills.bench.models import BenchResult, Check, DeviceInfo
from kernel_skills.emulator.gxx import find_gxx, gxx_version
from kernel_skills.emulator.harness import (
    CHECK_KINDS,
    EmulatedKernel,
    EmulatorFault,
    emulator_harness,
    engine_cause,
)
from kernel_skills.emulator.sandbox import require_confinement, run_confined
from kernel_skills.errors import DeviceUnavailable, EmulatorUnsupported, KernelFault, RefusedInput

if TYPE_CHECKING:
    from kernel_skills.bench.launch import Launch
    from kernel_skills.bench.spec import Problem

TIMING_NOTE = "verified on the CPU emulator: correctness only; timing, speedup and the roofline need a GPU"
LIMITS = (
    "Modelled: every CUDA thread of every block runs the kernel's own source on the CPU (g++), with "
    "__syncthreads, warp shuffles/votes/ballots with their masks, shared memory (static and dynamic), "
    "atomics, bf16/f16 arithmetic, and mma.sync.m16n8k16 bf16; global-memory bounds are checked per "
    "buffer; races (shared memory between two barriers, global elements written by unordered threads) "
    "and reads of never-written shared memory are reported; the determinism re-run uses the reversed "
    "thread and block order. Not modelled: timing and occupancy (nothing is timed), the GPU's fast-math "
    "rounding "
    "(results are compared with the problem's tolerances, like a GPU run), memory ordering beyond "
    "barriers, asynchronous copies, and state kept between launches (each launch is a fresh confined "
    "process: __device__ variables start from their initial values every time, so a result cache keyed "
    "on pointers is not caught here). Refused before building, with the supported list: inline asm "
    "other than mma.sync.m16n8k16 bf16, wgmma/TMA/cp.async/mbarrier, cooperative groups, clusters, "
    "textures, host-only headers, code that runs at program start; printf beyond 64 KiB is dropped."
)


def _emulator_device() -> DeviceInfo:
    return DeviceInfo(name=f"CPU emulator ({platform.machine()}, {gxx_version()})")


def verify(the_plan: Plan, *, progress: Progress, timeouts: Timeouts) -> BenchResult:
    """The emulator verdict for a planned submission (see the module docstring)."""
    request, problem = the_plan.request, the_plan.problem
    shapes = problem.emulator_shape_list()
    if not shapes:
        raise EmulatorUnsupported(
            f"problem {problem.name!r} has no shape small enough for the CPU emulator: its module needs an "
            "EMULATOR_SHAPES entry (see kernel_skills.bench.spec)"
        )
    emu_plan = dataclasses.replace(the_plan, shapes=shapes, timed=[])
    steps = Steps(progress, 3 + len(shapes))
    steps.step("compiling for sm_90a (NVRTC: the ABI and launch limits)")
    prepared = prepare(emu_plan)
    if isinstance(prepared, BenchResult):
        return prepared
    # Only now, with the compile, ABI and launch judged like on a GPU: what the emulator needs.
    if request.source is None and request.device == "auto":
        raise DeviceUnavailable(
            "no CUDA device is usable here, and the CPU emulator (used without a GPU) builds the kernel "
            "from its CUDA source while a compile_id holds only the cubin: pass source= instead"
        )
    if request.source is None:
        raise RefusedInput(
            "the CPU emulator builds the kernel from its CUDA source, and a compile_id holds only the "
            "cubin: pass source= (or run on a GPU)"
        )
    if request.headers:
        raise EmulatorUnsupported(
            "inline headers are not supported on the CPU emulator yet: put the header's code in the "
            f"source (got headers {sorted(request.headers)})"
        )
    confinement = require_confinement()
    find_gxx()
    from kernel_skills.emulator.build import build_runner

    steps.step("building the kernel for the CPU emulator (g++, confined)")
    kernel_name = _c_name(request.kernel, prepared.compiled.kernel.name)
    built = build_runner(  # refuses what the emulator cannot model, with the supported list
        request.source,
        kernel_name,
        cache_dir=paths.cache_dir() / "emulator",
        run=functools.partial(run_confined, allow_exec=True),
    )
    checks = [
        *prepared.checks,
        Check(
            name="emulator build",
            passed=True,
            detail=("cached" if built.cached else f"built in {built.build_ms / 1000:.1f} s")
            + f" with {gxx_version()}; confinement: {confinement}",
        ),
    ]
    kernel = EmulatedKernel(built.exe, timeout_s=timeouts.check)  # per launch
    run_shape = functools.partial(_check_one, kernel, problem)
    found = check_shapes(prepared, run_shape, steps, where=" on the CPU emulator")
    checks += [*found.checks, found.inputs_unchanged()]
    correct = all(c.passed for c in checks)
    notes = [TIMING_NOTE]
    if request.shapes:
        notes.append(
            f"shapes={request.shapes} selects GPU shape sets; the CPU emulator checks the problem's emulator "
            "shapes (list_problems shows them)"
        )
    steps.finish()
    return BenchResult(
        ok=correct,
        correct=correct,
        problem=problem.name,
        verified_on="cpu-emulator",
        checks=checks,
        kernel=prepared.compiled.kernel,
        launch=launch_info(the_plan.spec),
        device=_emulator_device(),
        provenance=provenance(request, None, prepared.compiled.cubin, found.seeds),
        notes=notes,
        limits=LIMITS,
        compile_log=prepared.compiled.log or None,
    )


def _check_one(
    kernel: EmulatedKernel,
    problem: Problem,
    label: str,
    sizes: dict[str, int],
    launch: Launch,
    seeds: list[int],
) -> dict[str, Any] | Check:
    """One shape for ``bench.check_shapes``: ``check_shape``'s reply over the emulator's ``Harness``, or
    a failed Check for a race / uninitialised read; other faults raise."""
    try:
        return check_shape(emulator_harness(kernel, problem, sizes, launch), seeds)
    except KernelFault as exc:
        cause = engine_cause(exc)
        if isinstance(cause, EmulatorFault) and cause.report.get("kind") in CHECK_KINDS:
            return Check(
                name=f"{CHECK_KINDS[cause.report['kind']]} on {label}", passed=False, detail=str(cause)
            )
        if cause is not exc:
            if isinstance(cause, EmulatorFault):
                raise KernelFault(f"the kernel faulted on the CPU emulator on {label}: {cause}") from cause
            raise cause from exc
        raise


def _c_name(requested: str | None, symbol: str) -> str:
    """The kernel's C name (the emulator calls it by name; extern "C" symbols are already that)."""
    if requested and requested.isidentifier():
        return requested
    return symbol


__all__ = ["LIMITS", "TIMING_NOTE", "verify"]
