"""What every verdict shares, on a GPU or on the CPU emulator: plan -> prepare -> the shape loop.

``plan(request)`` validates the submission (no compiler, no device); ``prepare(plan)`` compiles it with
NVRTC for sm_90a, checks the kernel's parameter sizes against the problem's ABI and resolves the launch
for every shape. ``check_shapes(prepared, run_shape, steps)`` is the one correctness loop: for each
shape, ``N_CHECK_SEEDS`` fresh seeds go to ``run_shape`` (the GPU worker's check job, or
``check_shape`` over the emulator's ``Harness``), whose reply becomes the "correct on" and
"deterministic on" checks; ``ShapeChecks`` then gives the integrity checks ("writes in bounds",
"inputs unchanged"). ``provenance`` and ``launch_info`` fill the result the same way on both.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kernel_skills import __version__
from kernel_skills.bench.launch import Launch, LaunchSpec, parse_launch
from kernel_skills.bench.models import BenchRequest, BenchResult, Check, KernelInfo, LaunchInfo, Provenance
from kernel_skills.bench.registry import ProblemRegistry, load_registry
from kernel_skills.bench.spec import CHECK_ONLY_SET, Problem
from kernel_skills.errors import RefusedInput

if TYPE_CHECKING:
    from kernel_skills.toolchain import KernelReport, Toolchain

Progress = Callable[[float, float, str], None]
N_CHECK_SEEDS = 3
GUARD_TEXT = "guard bytes"
H100_ARCHS = ("sm_90", "sm_90a")


@dataclass(frozen=True)
class Timeouts:
    """Hard limits per worker job, in seconds (a hung kernel costs at most one of these)."""

    check: float = 90.0
    time: float = 120.0
    compile_baseline: float = 600.0


class Steps:
    """Progress in steps: ``step(message)`` reports (done, total, message) and advances."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    def step(self, message: str) -> None:
        self.progress(min(self.done, self.total - 1), self.total, message)
        self.done += 1

    def finish(self) -> None:
        self.progress(self.total, self.total, "done")


def no_progress(done: float, total: float, message: str) -> None:
    """A ``Progress`` that reports nothing."""
    del done, total, message


def fresh_seed() -> int:
    return secrets.randbits(62)


def sizes_text(sizes: dict[str, int]) -> str:
    """The shape "rows=4, cols=8", as the checks' names and ``Prepared.launches`` spell it."""
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


def timed_shapes(shapes: list[tuple[str, dict[str, int]]]) -> list[tuple[str, dict[str, int]]]:
    """Every selected shape outside the check-only "ragged" set (all of them if only ragged)."""
    timed = [(name, sizes) for name, sizes in shapes if name != CHECK_ONLY_SET]
    return timed or shapes


# --- plan and prepare --------------------------------------------------------------------------


@dataclass
class Compiled:
    """A compiled submission: the cubin, the chosen kernel (``kernel.name`` is the symbol launched)."""

    cubin: bytes
    kernel: KernelInfo
    log: str | None


@dataclass
class Plan:
    """A validated submission (no GPU, no compiler touched yet)."""

    request: BenchRequest
    problem: Problem
    shapes: list[tuple[str, dict[str, int]]]
    timed: list[tuple[str, dict[str, int]]]
    baselines: list[str]
    spec: LaunchSpec


@dataclass
class Prepared:
    """Compiled, ABI-checked, launch-resolved for every shape: ready for the GPU or the emulator."""

    plan: Plan
    compiled: Compiled
    checks: list[Check]
    launches: dict[str, Launch]  # by ``sizes_text(sizes)``

    def launch(self, sizes: dict[str, int]) -> Launch:
        return self.launches[sizes_text(sizes)]


def plan(request: BenchRequest, registry: ProblemRegistry | None = None) -> Plan:
    """Validate names, shape sets, the source/compile id choice and the launch expressions."""
    problem = (registry or load_registry()).get(request.problem)
    shapes = problem.shape_list(request.shapes)
    if (request.source is None) == (request.compile_id is None):
        raise RefusedInput("give exactly one of source (CUDA C++) or compile_id (from compile_kernel)")
    if request.compile_id is not None:
        check_compiled_arch(request.compile_id)
    spec = parse_launch(request.block, request.grid, request.shared_mem, problem.size_names)
    baselines = list(dict.fromkeys(request.baseline or ["torch_eager"]))
    return Plan(request, problem, shapes, timed_shapes(shapes), baselines, spec)


def check_compiled_arch(compile_id: str) -> None:
    """An H100 loads only sm_90/sm_90a code: another arch's cubin is refused before any GPU work."""
    from kernel_skills.toolchain import load_report

    arch = load_report(compile_id).arch
    if arch not in H100_ARCHS:
        raise RefusedInput(
            f"compile_id {compile_id} was built for {arch}; the benchmark GPU is an H100, which needs "
            f"{' or '.join(H100_ARCHS)} code (a cubin for another arch cannot load there). "
            "Compile again with arch='sm_90a'"
        )


def prepare(p: Plan, toolchain: Toolchain) -> Prepared | BenchResult:
    """Compile (NVRTC with ``toolchain``, no GPU), check the parameter sizes against the ABI, resolve
    every launch.

    A compile with errors is a BenchResult (ok=False, the diagnostics in checks); an ABI mismatch
    or a launch over the limits is RefusedInput, before anything reaches the GPU."""
    spec = p.spec
    compiled = _compile(p.request, p.problem, spec.block[0] * spec.block[1] * spec.block[2], toolchain)
    if isinstance(compiled, BenchResult):
        return compiled
    checks: list[Check] = []
    if p.request.source is not None:
        k = compiled.kernel
        checks.append(
            Check(
                name="compile",
                passed=True,
                detail=f"{k.registers} registers, {k.spill_stores} spill stores, "
                f"{k.shared_bytes} B static shared",
            )
        )
    checks.append(check_abi(p.problem, compiled.kernel.param_sizes, compiled.kernel.name))
    launches = {
        sizes_text(sizes): spec.resolve(
            sizes, static_shared=compiled.kernel.shared_bytes or 0, registers=compiled.kernel.registers
        )
        for _, sizes in p.shapes
    }
    checks.append(Check(name="launch limits", passed=True, detail=f"valid for all {len(p.shapes)} shapes"))
    return Prepared(p, compiled, checks, launches)


def check_abi(problem: Problem, param_sizes: list[int] | None, kernel_name: str) -> Check:
    """Compare the cubin's parameter sizes with the problem's ABI; RefusedInput on a mismatch."""
    expected = problem.param_sizes()
    if param_sizes is None:
        return Check(
            name="abi",
            passed=True,
            detail=f"parameter sizes not available from the compiler; expected {problem.signature}",
        )
    if list(param_sizes) != expected:
        raise RefusedInput(
            f"kernel {kernel_name!r} takes {len(param_sizes)} parameters of sizes {list(param_sizes)} "
            "bytes, but "
            f"problem {problem.name!r} launches it as {problem.signature} (sizes {expected}: pointers 8, "
            'int and float 4). Declare it as extern "C" __global__ void NAME' + problem.signature
        )
    return Check(name="abi", passed=True, detail=f"parameter sizes {expected} match {problem.signature}")


def _compile(
    request: BenchRequest, problem: Problem, block_threads: int, toolchain: Toolchain
) -> Compiled | BenchResult:
    from kernel_skills.toolchain import CompileRequest, compile_source, load_cubin, load_report

    if request.source is not None:
        options = request.options if request.options is not None else ["-std=c++17"]
        result = compile_source(
            CompileRequest(
                source=request.source,
                arch="sm_90a",
                options=options,
                headers=request.headers or {},
                block_size=block_threads,
            ),
            toolchain=toolchain,
        )
        if not result.ok or result.compile_id is None:
            errors = [d for d in result.diagnostics if d.severity in ("error", "fatal")]
            detail = "\n".join(f"line {d.line}: {d.message}" for d in errors[:10]) or result.log[-2000:]
            return failed(
                request, problem, [Check(name="compile", passed=False, detail=detail)], log=result.log
            )
        report = _pick_kernel(request.kernel, result.kernels)
        cubin = load_cubin(result.compile_id)
        compile_id, log = result.compile_id, result.log
    else:
        assert request.compile_id is not None
        cubin = load_cubin(request.compile_id)
        compile_id, log = request.compile_id, None
        report = _pick_kernel(request.kernel, list(load_report(compile_id).kernels))
    kernel = KernelInfo(
        name=report.name,
        registers=report.registers,
        spill_stores=report.spill_stores,
        spill_loads=report.spill_loads,
        stack_bytes=report.stack_bytes,
        shared_bytes=report.shared_bytes,
        param_sizes=report.param_sizes,
        compile_id=compile_id,
    )
    return Compiled(cubin, kernel, log)


def _pick_kernel(requested: str | None, reports: list[KernelReport]) -> KernelReport:
    names = [r.name for r in reports]
    if requested is None:
        if len(reports) == 1:
            return reports[0]
        raise RefusedInput(
            f"the module has {len(reports)} kernels ({', '.join(names)}); name one with kernel="
        )
    for report in reports:
        if report.name == requested:
            return report
    for report in reports:
        demangled = report.demangled or ""
        if demangled.split("(")[0].split("<")[0].strip() == requested:
            return report
    raise RefusedInput(f"no kernel named {requested!r} in the module; it has: {', '.join(names) or '(none)'}")


# --- the shape loop and its checks --------------------------------------------------------------

ShapeRun = Callable[[str, dict[str, int], Launch, list[int]], "dict[str, Any] | Check"]
"""One shape's check job: (label, sizes, launch, seeds) -> ``bench.checking.check_shape``'s reply, or a
failed Check for a finding that ends the verdict (the emulator's race or uninitialised read)."""


@dataclass
class ShapeChecks:
    """What ``check_shapes`` found: the per-shape checks and what the integrity checks are made of."""

    checks: list[Check] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    mutated: list[str] = field(default_factory=list)
    out_of_bounds: list[str] = field(default_factory=list)
    stopped: bool = False  # a finding ended the loop before every shape was checked

    def writes_in_bounds(self) -> Check:
        return Check(
            name="writes in bounds",
            passed=not self.out_of_bounds,
            detail="\n".join(self.out_of_bounds[:5])
            if self.out_of_bounds
            else f"the {GUARD_TEXT} around every input and output intact after every launch",
        )

    def inputs_unchanged(self) -> Check:
        return Check(
            name="inputs unchanged",
            passed=not self.mutated,
            detail="\n".join(self.mutated[:5])
            if self.mutated
            else "every input bit-identical after every launch"
            + (" run (checking stopped at the first finding)" if self.stopped else ""),
        )


def check_shapes(prepared: Prepared, run_shape: ShapeRun, steps: Steps, *, where: str = "") -> ShapeChecks:
    """Every shape of the plan through ``run_shape`` with fresh seeds; stops at a finding (a Check)."""
    found = ShapeChecks()
    for set_name, sizes in prepared.plan.shapes:
        label = f"{set_name} ({sizes_text(sizes)})"
        steps.step(f"checking {label}{where}")
        seeds = [fresh_seed() for _ in range(N_CHECK_SEEDS)]
        found.seeds += seeds
        reply = run_shape(label, sizes, prepared.launch(sizes), seeds)
        if isinstance(reply, Check):
            found.checks.append(reply)
            found.stopped = True
            break  # the verdict is known, later shapes add nothing
        correct_check, notes, det_check = correctness_checks(label, reply)
        found.checks += [correct_check, det_check]
        found.mutated += [f"{label}: {n}" for n in notes]
        found.out_of_bounds += [f"{label}, {n}" for n in reply.get("out_of_bounds", [])]
    return found


def correctness_checks(label: str, reply: dict[str, Any]) -> tuple[Check, list[str], Check]:
    """(correct-on-this-shape check, mutated-input notes, determinism check) from a check reply."""
    failures = []
    max_abs = 0.0
    placements = []
    for run in reply["runs"]:
        placements.append(run["placement"])
        for comparison in run["comparisons"]:
            max_abs = max(max_abs, comparison.get("max_abs_error") or 0.0)
            if not comparison["passed"]:
                failures.append(f"seed #{run['seed']} ({run['placement']}): {comparison['report']}")
    if failures:
        correct = Check(name=f"correct on {label}", passed=False, detail="\n".join(failures[:2]))
    else:
        correct = Check(
            name=f"correct on {label}",
            passed=True,
            detail=f"{len(reply['runs'])} fresh seeds ({'; '.join(placements)}), max abs error {max_abs:.3g}",
        )
    return correct, list(reply.get("inputs_mutated", [])), _determinism_check(label, reply)


def _determinism_check(label: str, reply: dict[str, Any]) -> Check:
    det = reply.get("determinism") or {}
    if det.get("bitwise_identical", True):
        return Check(name=f"deterministic on {label}", passed=True, detail="re-run bitwise identical")
    bad = [c["report"] for c in det.get("comparisons", []) if not c["passed"]]
    return Check(
        name=f"deterministic on {label}",
        passed=not bad,
        detail=(
            "re-run with different output poison differs beyond tolerance (a race, or reading the output "
            "buffer): " + bad[0]
        )
        if bad
        else "re-run not bitwise identical but within tolerance",
    )


# --- the result's common fields -----------------------------------------------------------------


def provenance(
    request: BenchRequest, device: dict[str, Any] | None, cubin: bytes | None, seeds: list[int]
) -> Provenance:
    device = device or {}
    return Provenance(
        driver=device.get("nvidia_driver") or device.get("driver"),
        cuda_runtime=device.get("cuda_runtime"),
        torch=device.get("torch"),
        cupy=device.get("cupy"),
        kernel_skills=__version__,
        source_sha256=hashlib.sha256(request.source.encode()).hexdigest()
        if request.source is not None
        else None,
        cubin_sha256=hashlib.sha256(cubin).hexdigest() if cubin is not None else None,
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        seeds=seeds,
    )


def launch_info(spec: LaunchSpec) -> LaunchInfo:
    """The launch as the request wrote it (block, grid and shared_mem expressions)."""
    return LaunchInfo(
        block=list(spec.block), grid=[e.text for e in spec.grid], shared_mem=spec.shared_mem.text
    )


def failed(
    request: BenchRequest, problem: Problem, checks: list[Check], *, log: str | None = None
) -> BenchResult:
    """A verdict that ended before any device ran (a compile error): ok and correct False."""
    return BenchResult(
        ok=False,
        correct=False,
        problem=problem.name,
        checks=checks,
        provenance=provenance(request, None, None, []),
        compile_log=log,
    )


__all__ = [
    "GUARD_TEXT",
    "H100_ARCHS",
    "N_CHECK_SEEDS",
    "Compiled",
    "Plan",
    "Prepared",
    "Progress",
    "ShapeChecks",
    "ShapeRun",
    "Steps",
    "Timeouts",
    "check_abi",
    "check_compiled_arch",
    "check_shapes",
    "correctness_checks",
    "failed",
    "fresh_seed",
    "launch_info",
    "no_progress",
    "plan",
    "prepare",
    "provenance",
    "sizes_text",
    "timed_shapes",
]
