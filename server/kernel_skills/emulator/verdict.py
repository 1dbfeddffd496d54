"""``verify(plan)``: a submission's correctness verdict computed on the CPU, labelled as such.

Same order as a GPU run up to the device: the plan (validated by ``bench.plan``) -> NVRTC compile
for sm_90a, ABI and launch-limit checks (``bench.prepare``, on the problem's emulator shapes) -> the
PTX of that same compile read into the engine's program (``ptx.load_program``: what NVRTC compiled
is what runs; nothing of the submission is built or run natively) -> the engine (built once per
install) -> ``bench.check_shapes``, the GPU run's shape loop and checks, with ``check_shape`` over the
emulator's ``Harness`` on every emulator shape, each launch a confined engine run. The result has the
GPU result's shape with ``verified_on: "cpu-emulator"``; nothing is timed (``time_us``, ``speedup``,
``roofline`` null, ``ok`` = ``correct``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import platform
from typing import TYPE_CHECKING, Any

from kernel_skills import paths
from kernel_skills.bench import (
    DATASHEET_PEAKS,
    DATASHEET_SOURCE,
    BenchResult,
    Check,
    Counters,
    DeviceInfo,
    Estimate,
    KernelInfo,
    Plan,
    Progress,
    Steps,
    Timeouts,
    check_shape,
    check_shapes,
    estimate_model,
    h100_estimate,
    h100_peaks,
    launch_info,
    prepare,
    provenance,
    require_module,
)
from kernel_skills.confine import require_child_confinement
from kernel_skills.emulator.counters import launch_counters, summarise
from kernel_skills.emulator.engine_build import build_engine
from kernel_skills.emulator.harness import (
    CHECK_KINDS,
    PRINTF_KEPT,
    EmulatedKernel,
    EmulatorFault,
    compiled_program,
    emulator_harness,
    engine_cause,
)
from kernel_skills.emulator.protocol import PRINTF_LIMIT
from kernel_skills.errors import EmulatorUnsupported, KernelFault, RefusedInput
from kernel_skills.gxx import gxx_version

if TYPE_CHECKING:
    from kernel_skills.bench import Launch, Problem
    from kernel_skills.emulator.engine_build import Engine
    from kernel_skills.emulator.ptx import Program
    from kernel_skills.toolchain import Toolchain

TIMING_NOTE = (
    "verified on the CPU emulator: correctness only, not timed (timing, speedup and the roofline need a "
    "GPU); `estimate` is an H100 time modelled from the counters, not a measurement"
)
LIMITS = (
    "Runs the PTX NVRTC compiled for sm_90a (the code the GPU runs; nothing of the submission runs "
    "natively): every thread of every block, warps of 32 in lockstep with reconvergence at immediate "
    "post-dominators, shared memory (static and dynamic), local arrays, atomics, warp collectives with "
    "their member masks, named barriers, cp.async, ldmatrix/stmatrix, mma.sync (bf16/f16, m16n8k8/k16), "
    "device-function calls and printf. Checked: out-of-bounds per buffer (name and element index), "
    "misaligned accesses, reads of never-written shared memory, data races by the CUDA rules (barriers, "
    "__syncwarp, atomics, __threadfence with an atomic flag), barrier divergence, warp-collective masks, "
    "reads of cp.async data not yet waited for; a hang is an instruction budget spent; the determinism "
    "re-run runs blocks, warps and atomics in reverse order. Not modelled: timing and occupancy (nothing "
    "is timed), the GPU's exact .approx rounding (ex2/rsqrt/tanh/sin/cos/div.approx are computed to float "
    "precision; results are compared with the problem's tolerances, like a GPU run), memory ordering "
    "beyond those rules, and state kept between launches (each launch is a fresh run: __device__ "
    "variables start from their initial values every time, so a result cache keyed on pointers is not "
    "caught here). Refused, naming the instruction and line: wgmma, mbarrier, TMA (cp.async.bulk), "
    "clusters, textures, indirect calls, recursion; printf beyond 64 KiB per launch is dropped."
)


def _emulator_device() -> DeviceInfo:
    return DeviceInfo(name=f"CPU emulator (PTX engine, {platform.machine()}, {gxx_version()})")


def verify(the_plan: Plan, *, toolchain: Toolchain, progress: Progress, timeouts: Timeouts) -> BenchResult:
    """The emulator verdict for a planned submission (see the module docstring), compiled with
    ``toolchain``."""
    request, problem = the_plan.request, the_plan.problem
    shapes = _emulator_shapes(problem)
    emu_plan = dataclasses.replace(the_plan, shapes=shapes, timed=[])
    steps = Steps(progress, 3 + len(shapes))
    steps.step("compiling for sm_90a (NVRTC: the ABI and launch limits)")
    prepared = prepare(emu_plan, toolchain)
    if isinstance(prepared, BenchResult):
        return prepared
    require_module("torch")  # the problems' inputs and references (after the compile: its verdict stands)
    confinement = require_child_confinement()
    steps.step("reading the PTX NVRTC produced into the CPU emulator")
    program = compiled_program(prepared.compiled.kernel.compile_id, prepared.compiled.kernel.name)
    engine = build_engine(paths.cache_dir() / "emulator")
    checks = [*prepared.checks, _program_check(program, engine, confinement)]
    kernel = EmulatedKernel(engine.exe, program, timeout_s=max(timeouts.check, 1.0))
    counted = counted_shape(problem, [s for _, s in shapes], the_plan.timed[0][1] if the_plan.timed else None)
    run_shape = functools.partial(_check_one, kernel, problem, counted)
    found = check_shapes(prepared, run_shape, steps, where=" on the CPU emulator")
    checks += [*found.checks, found.inputs_unchanged()]
    correct = all(c.passed for c in checks)
    notes = _notes(kernel, request.shapes)
    counters = _counters(kernel, problem, counted, the_plan, prepared.compiled.kernel)
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
        findings=[f"{f.kind}: {f.message}" for f in kernel.findings],
        printf="".join(kernel.printf) or None,
        counters=counters,
        estimate=_estimate(counters, problem) if correct else None,
    )


def _emulator_shapes(problem: Problem) -> list[tuple[str, dict[str, int]]]:
    """The problem's shapes small enough for the emulator; EmulatorUnsupported when it has none."""
    shapes = problem.emulator_shape_list()
    if not shapes:
        raise EmulatorUnsupported(
            f"problem {problem.name!r} has no shape small enough for the CPU emulator: its module needs an "
            "EMULATOR_SHAPES entry (see kernel_skills.bench.spec)"
        )
    return shapes


def _program_check(program: Program, engine: Engine, confinement: str) -> Check:
    """The (always passing) check that reports what the emulator runs: the PTX, the engine, confinement."""
    return Check(
        name="emulator program",
        passed=True,
        detail=f"{program.instructions} PTX instructions of {program.kernel}; engine "
        + ("cached" if engine.cached else f"built in {engine.build_ms / 1000:.1f} s")
        + f"; confinement: {confinement}",
    )


def _notes(kernel: EmulatedKernel, requested_shapes: list[str] | None) -> list[str]:
    """The verdict's notes: untimed, how much ran, dropped printf, GPU shape sets not applied."""
    notes = [TIMING_NOTE, f"the emulator ran {kernel.executed:,} thread-instructions"]
    if kernel.printf_dropped:
        notes.append(
            f"printf: the first {PRINTF_KEPT // 1024} KiB of the kernel's output are kept (at most "
            f"{PRINTF_LIMIT // 1024} KiB per launch are collected); the rest was dropped"
        )
    if requested_shapes:
        notes.append(
            f"shapes={requested_shapes} selects GPU shape sets; the CPU emulator checks the problem's "
            "emulator shapes (list_problems shows them)"
        )
    return notes


def counted_shape(
    problem: Problem, shapes: list[dict[str, int]], timed: dict[str, int] | None
) -> dict[str, int]:
    """The emulator shape whose launch is counted: the one nearest the first timed shape (the sum of
    |log(size / timed size)| over the size variables; the larger on a tie), so that a kernel with a
    code path per size (rows in registers up to some width, streamed above) is counted on the path
    the timed shape takes; the largest without a timed shape."""

    def distance(sizes: dict[str, int]) -> float:
        assert timed is not None
        return sum(abs(math.log(max(v, 1) / max(timed.get(k, v), 1))) for k, v in sizes.items())

    if timed is None:
        return max(shapes, key=problem.bytes_moved)
    return min(shapes, key=lambda s: (round(distance(s), 9), -problem.bytes_moved(s)))


def _counters(
    kernel: EmulatedKernel, problem: Problem, counted: dict[str, int], the_plan: Plan, info: KernelInfo
) -> Counters | None:
    """The counted launch's counters, with the launch at the first timed shape (when it resolves) and
    the totals scaled to it."""
    if kernel.counters is None:
        return None
    launch = None
    timed = the_plan.timed[0][1] if the_plan.timed else None
    if timed is not None:
        try:
            resolved = the_plan.spec.resolve(timed, static_shared=info.shared_bytes or 0)
        except RefusedInput:
            resolved = None
        if resolved is not None:
            launch = launch_counters(resolved, timed, info)
    return summarise(kernel.counters, problem, counted, launch, timed)


def _estimate(counters: Counters | None, problem: Problem) -> Estimate | None:
    """The H100 estimate from ``counters`` (only for a correct kernel: a wrong one has nothing to time)."""
    if counters is None or counters.at_shape is None:
        return None
    shape = counters.at_shape.shape
    peaks, source = h100_peaks(DATASHEET_PEAKS, DATASHEET_SOURCE)
    return h100_estimate(
        counters,
        bytes_moved=problem.bytes_moved(shape),
        flops=problem.flops(shape),
        peaks=peaks,
        peaks_source=source,
        model=estimate_model(),
    )


def _check_one(
    kernel: EmulatedKernel,
    problem: Problem,
    counted: dict[str, int],
    label: str,
    sizes: dict[str, int],
    launch: Launch,
    seeds: list[int],
) -> dict[str, Any] | Check:
    """One shape for ``bench.check_shapes``: ``check_shape``'s reply over the emulator's ``Harness``, or
    a failed Check for a race, an uninitialised read or barrier divergence; other faults raise. On the
    ``counted`` shape the first launch (the first seed) computes the counters."""
    kernel.count_next = sizes == counted
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


__all__ = ["LIMITS", "TIMING_NOTE", "counted_shape", "verify"]
