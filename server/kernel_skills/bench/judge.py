"""``benchmark(request)``: compile, check, time and judge one submission. The one domain entry point.

Order: validate everything on the server (problem, shapes, launch expressions, source/compile id and
its arch) -> compile (NVRTC) and check the kernel's parameter sizes against the ABI -> resolve and
limit-check the launch for every shape -> only then: is there a GPU at all -> on the worker: device
info, calibration (cached per device), correctness on every shape (3 fresh seeds), then timing of
the kernel and the PyTorch baselines on each timed shape -> roofline, plausibility, result stored.
Without a usable GPU (``device="auto"``) or with ``device="emulator"``, the verdict comes from the CPU
emulator instead (``kernel_skills.emulator.verdict``): correctness only, ``verified_on="cpu-emulator"``.
A GPU run is never replaced by the emulator when a GPU is present and ``device`` is not "emulator".
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kernel_skills import __version__
from kernel_skills.bench import calibration, results_db, roofline
from kernel_skills.bench.launch import Launch, LaunchSpec, parse_launch
from kernel_skills.bench.models import (
    BenchRequest,
    BenchResult,
    Check,
    DeviceInfo,
    KernelInfo,
    LaunchInfo,
    Provenance,
    ShapeTiming,
)
from kernel_skills.bench.registry import ProblemRegistry, load_registry
from kernel_skills.bench.spec import CHECK_ONLY_SET, Problem
from kernel_skills.bench.stats import TimeStats
from kernel_skills.errors import DeviceUnavailable, RefusedInput

if TYPE_CHECKING:
    from kernel_skills.executors.base import Executor
    from kernel_skills.toolchain.models import KernelReport

Progress = Callable[[float, float, str], None]
N_CHECK_SEEDS = 3
N_TIMING_SETS = 2
HELLO_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Timeouts:
    """Hard limits per worker job, in seconds (a hung kernel costs at most one of these)."""

    check: float = 90.0
    time: float = 120.0
    compile_baseline: float = 600.0


QUICK_CAP_MS = 500.0
GUARD_TEXT = "guard bytes"
PLAUSIBILITY_CHECK = "plausible time"  # not a correctness check: it decides ``ok``, not ``correct``


def _noop_progress(done: float, total: float, message: str) -> None:
    del done, total, message


def _fresh_seed() -> int:
    return secrets.randbits(62)


def _sizes_text(sizes: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


def timed_shapes(shapes: list[tuple[str, dict[str, int]]]) -> list[tuple[str, dict[str, int]]]:
    """Every selected shape outside the check-only "ragged" set (all of them if only ragged)."""
    timed = [(name, sizes) for name, sizes in shapes if name != CHECK_ONLY_SET]
    return timed or shapes


class _Compiled:
    def __init__(self, cubin: bytes, kernel: KernelInfo, log: str | None) -> None:
        self.cubin = cubin
        self.kernel = kernel  # kernel.name is the symbol the worker launches
        self.log = log


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


def _compile(request: BenchRequest, problem: Problem, block_threads: int) -> _Compiled | BenchResult:
    from kernel_skills.toolchain import CompileRequest, compile_source, load_cubin

    if request.source is not None:
        options = request.options if request.options is not None else ["-std=c++17"]
        result = compile_source(
            CompileRequest(
                source=request.source,
                arch="sm_90a",
                options=options,
                headers=request.headers or {},
                block_size=block_threads,
            )
        )
        if not result.ok or result.compile_id is None:
            errors = [d for d in result.diagnostics if d.severity in ("error", "fatal")]
            detail = "\n".join(f"line {d.line}: {d.message}" for d in errors[:10]) or result.log[-2000:]
            return _failed(
                request, problem, [Check(name="compile", passed=False, detail=detail)], log=result.log
            )
        report = _pick_kernel(request.kernel, result.kernels)
        cubin = load_cubin(result.compile_id)
        compile_id, log = result.compile_id, result.log
    else:
        assert request.compile_id is not None
        cubin = load_cubin(request.compile_id)
        compile_id, log = request.compile_id, None
        report = _pick_kernel(request.kernel, _reports_for(request.compile_id))
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
    return _Compiled(cubin, kernel, log)


def _reports_for(compile_id: str) -> list[KernelReport]:
    """The kernel reports of an earlier compile (RefusedInput if the id is unknown or expired)."""
    from kernel_skills.toolchain import load_report

    return list(load_report(compile_id).kernels)


def _provenance(
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


def _failed(
    request: BenchRequest, problem: Problem, checks: list[Check], *, log: str | None = None
) -> BenchResult:
    return BenchResult(
        ok=False,
        correct=False,
        problem=problem.name,
        checks=checks,
        provenance=_provenance(request, None, None, []),
        compile_log=log,
    )


def _correctness_checks(label: str, reply: dict[str, Any]) -> tuple[Check, list[str], Check]:
    """(correct-on-this-shape check, mutated-input notes, determinism check) from a check job."""
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
    det = reply.get("determinism") or {}
    if det.get("bitwise_identical", True):
        deterministic = Check(
            name=f"deterministic on {label}", passed=True, detail="re-run bitwise identical"
        )
    else:
        bad = [c["report"] for c in det.get("comparisons", []) if not c["passed"]]
        deterministic = Check(
            name=f"deterministic on {label}",
            passed=not bad,
            detail=(
                "re-run with different output poison differs beyond tolerance (a race, or reading the output "
                "buffer): " + bad[0]
            )
            if bad
            else "re-run not bitwise identical but within tolerance",
        )
    return correct, list(reply.get("inputs_mutated", [])), deterministic


def _job(
    kind: str,
    problem: Problem,
    sizes: dict[str, int],
    compiled: _Compiled | None,
    launch: Launch | None,
    **extra: Any,
) -> dict[str, Any]:
    job: dict[str, Any] = {
        "kind": kind,
        "problem": problem.name,
        "problem_path": problem.module_path,
        "sizes": sizes,
    }
    if compiled is not None and launch is not None:
        job["cubin_b64"] = base64.b64encode(compiled.cubin).decode("ascii")
        job["kernel"] = compiled.kernel.name
        job["launch"] = {
            "grid": list(launch.grid),
            "block": list(launch.block),
            "shared_mem": launch.shared_mem,
        }
    job.update(extra)
    return job


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
    """Compiled, ABI-checked, launch-resolved for every shape: ready for the GPU."""

    plan: Plan
    compiled: _Compiled
    checks: list[Check]
    launches: dict[str, Launch]


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


H100_ARCHS = ("sm_90", "sm_90a")


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


def prepare(p: Plan) -> Prepared | BenchResult:
    """Compile (NVRTC, no GPU), check the parameter sizes against the ABI, resolve every launch.

    A compile with errors is a BenchResult (ok=False, the diagnostics in checks); an ABI mismatch
    or a launch over the limits is RefusedInput, before anything reaches the GPU."""
    spec = p.spec
    compiled = _compile(p.request, p.problem, spec.block[0] * spec.block[1] * spec.block[2])
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
        _sizes_text(sizes): spec.resolve(
            sizes, static_shared=compiled.kernel.shared_bytes or 0, registers=compiled.kernel.registers
        )
        for _, sizes in p.shapes
    }
    checks.append(Check(name="launch limits", passed=True, detail=f"valid for all {len(p.shapes)} shapes"))
    return Prepared(p, compiled, checks, launches)


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


def benchmark(
    request: BenchRequest,
    *,
    registry: ProblemRegistry | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
    store: bool = True,
    timeouts: Timeouts | None = None,
) -> BenchResult:
    """Judge one submission: correctness on fresh inputs, time, speedup, roofline (see module doc).
    The GPU half runs on a worker leased from ``executor`` (default: the configured one, see
    ``kernel_skills.executors``); the result is stored here whichever executor ran it."""
    from kernel_skills.executors import default_executor

    executor = executor or default_executor()
    the_plan = plan(request, registry)
    if _on_emulator(request.device, executor):
        result = executor.emulate(
            the_plan, progress=progress or _noop_progress, timeouts=timeouts or Timeouts()
        )
        if store and result.verified_on is not None:
            result.result_id = results_db.store(result)
        return result
    n_timed = len(the_plan.timed) * (1 + len(the_plan.baselines))
    steps = Steps(progress or _noop_progress, 4 + len(the_plan.shapes) + n_timed)  # +1 for calibration
    steps.step("compiling for sm_90a")
    prepared = prepare(the_plan)
    if isinstance(prepared, BenchResult):
        return prepared
    steps.step("looking for a CUDA device")  # after everything that can be judged without one
    executor.require_device()
    with executor.lease() as worker:
        result = execute(prepared, worker, steps=steps, timeouts=timeouts or Timeouts())
    if store:
        result.result_id = results_db.store(result)
    steps.finish()
    return result


def _on_emulator(device: str, executor: Executor) -> bool:
    """Whether this request's verdict comes from the CPU emulator (auto: only when the executor has no
    usable GPU)."""
    if device != "auto":
        return device == "emulator"
    try:
        executor.require_device()
    except DeviceUnavailable:
        return True
    return False


def execute(prepared: Prepared, worker: Any, *, steps: Steps, timeouts: Timeouts) -> BenchResult:
    """The GPU half on a leased worker (anything with ``request(job, timeout_s=, what=)``)."""
    run = _Run(prepared, worker, steps, timeouts)
    return run.result()


class _Run:
    def __init__(self, prepared: Prepared, worker: Any, steps: Steps, timeouts: Timeouts) -> None:
        self.p = prepared
        self.problem = prepared.plan.problem
        self.worker = worker
        self.steps = steps
        self.limits = timeouts
        self.checks: list[Check] = list(prepared.checks)
        self.warnings: list[str] = []
        self.seeds: list[int] = []
        self.extra: dict[str, Any] = {"cap_ms": QUICK_CAP_MS} if prepared.plan.request.quick else {}

    def _launch(self, sizes: dict[str, int]) -> Launch:
        return self.p.launches[_sizes_text(sizes)]

    def result(self) -> BenchResult:
        self.steps.step("starting the GPU worker")
        device = self.worker.request({"kind": "hello"}, timeout_s=HELLO_TIMEOUT_S, what="GPU worker start-up")
        device_info = DeviceInfo.model_validate(device["device"])
        peaks = _peaks(self.worker, device_info, self.steps.step)
        self._check_all()
        timings: list[ShapeTiming] = []
        if all(c.passed for c in self.checks):
            timings = [t for sizes in self.p.plan.timed if (t := self._time(*sizes, peaks)) is not None]
        correct = all(c.passed for c in self.checks if not c.name.startswith(PLAUSIBILITY_CHECK))
        plausible = all(roofline.plausible(t.time_us.median, t.roofline.floor_us) for t in timings)
        first = timings[0] if timings else None
        spec = self.p.plan.spec
        return BenchResult(
            ok=bool(correct and timings and plausible),
            correct=correct,
            problem=self.problem.name,
            verified_on="gpu",
            checks=self.checks,
            time_us=first.time_us if first else None,
            baseline_us=first.baseline_us if first else {},
            speedup=first.speedup if first else {},
            achieved=first.achieved if first else None,
            roofline=first.roofline if first else None,
            timings=timings,
            kernel=self.p.compiled.kernel,
            launch=LaunchInfo(
                block=list(spec.block), grid=[e.text for e in spec.grid], shared_mem=spec.shared_mem.text
            ),
            device=device_info,
            provenance=_provenance(self.p.plan.request, device["device"], self.p.compiled.cubin, self.seeds),
            warnings=self.warnings,
            compile_log=self.p.compiled.log or None,
        )

    def _check_all(self) -> None:
        mutated: list[str] = []
        out_of_bounds: list[str] = []
        for set_name, sizes in self.p.plan.shapes:
            label = f"{set_name} ({_sizes_text(sizes)})"
            self.steps.step(f"checking {label}")
            seeds = [_fresh_seed() for _ in range(N_CHECK_SEEDS)]
            self.seeds += seeds
            reply = self.worker.request(
                _job("check", self.problem, sizes, self.p.compiled, self._launch(sizes), seeds=seeds),
                timeout_s=self.limits.check,
                what=f"the correctness check on {label}",
            )
            correct_check, notes, det_check = _correctness_checks(label, reply)
            self.checks += [correct_check, det_check]
            mutated += [f"{label}: {n}" for n in notes]
            out_of_bounds += [f"{label}, {n}" for n in reply.get("out_of_bounds", [])]
        self.checks.append(
            Check(
                name="writes in bounds",
                passed=not out_of_bounds,
                detail="\n".join(out_of_bounds[:5])
                if out_of_bounds
                else f"the {GUARD_TEXT} around every input and output intact after every launch",
            )
        )
        self.checks.append(
            Check(
                name="inputs unchanged",
                passed=not mutated,
                detail="\n".join(mutated[:5]) if mutated else "every input bit-identical after every launch",
            )
        )

    def _time(self, set_name: str, sizes: dict[str, int], peaks: roofline.Peaks) -> ShapeTiming | None:
        label = f"{set_name} ({_sizes_text(sizes)})"
        seeds = [_fresh_seed() for _ in range(N_TIMING_SETS)]
        self.seeds += seeds
        self.steps.step(f"timing the kernel on {label}")
        reply = self.worker.request(
            _job(
                "time_kernel",
                self.problem,
                sizes,
                self.p.compiled,
                self._launch(sizes),
                seeds=seeds,
                **self.extra,
            ),
            timeout_s=self.limits.time,
            what=f"timing on {label}",
        )
        verified = bool(reply["verified"])
        self.checks.append(
            Check(name=f"timed outputs verified on {label}", passed=verified, detail=reply["detail"])
        )
        if not verified:
            return None
        kernel_time = TimeStats.model_validate(reply["stats"])
        baseline_us: dict[str, TimeStats] = {}
        for baseline in self.p.plan.baselines:
            self.steps.step(f"timing PyTorch ({baseline}) on {label}")
            timeout = self.limits.compile_baseline if baseline == "torch_compile" else self.limits.time
            base = self.worker.request(
                _job(
                    "time_baseline",
                    self.problem,
                    sizes,
                    None,
                    None,
                    seeds=seeds,
                    baseline=baseline,
                    **self.extra,
                ),
                timeout_s=timeout,
                what=f"the {baseline} baseline on {label}",
            )
            baseline_us[baseline] = TimeStats.model_validate(base["stats"])
            self.warnings += base.get("notes", [])
        bytes_moved, flops = int(self.problem.bytes_moved(sizes)), int(self.problem.flops(sizes))
        speedup = {name: stats.median / kernel_time.median for name, stats in baseline_us.items()}
        assessed = roofline.assess(bytes_moved, flops, kernel_time.median, peaks)
        ok = roofline.plausible(kernel_time.median, assessed.floor_us)
        self.checks.append(
            Check(
                name=f"{PLAUSIBILITY_CHECK} on {label}",
                passed=ok,
                detail=f"{kernel_time.median:.2f} us vs the {assessed.bound} floor of "
                f"{assessed.floor_us:.2f} us"
                + (
                    ""
                    if ok
                    else " — faster than the hardware allows: rejected as a measurement error or a cheat"
                ),
            )
        )
        for name, value in speedup.items():
            if roofline.speedup_flagged(value):
                self.warnings.append(
                    f"{value:.1f}x over {name} on {label} is unusually high (> {roofline.SPEEDUP_FLAG:g}x): "
                    "worth a second look before trusting it"
                )
        return ShapeTiming(
            shape_set=set_name,
            sizes=sizes,
            time_us=kernel_time,
            baseline_us=baseline_us,
            speedup=speedup,
            achieved=roofline.achieved(bytes_moved, flops, kernel_time.median),
            roofline=assessed,
            bytes_moved=bytes_moved,
            flops=flops,
        )


def _peaks(worker: Any, device: DeviceInfo, step: Callable[[str], None]) -> roofline.Peaks:
    found = calibration.cached(device)
    if found is None:
        step("calibrating the device (once per device): copy bandwidth and bf16 matmul rate")
        found = calibration.measure(worker)
    return found.peaks


__all__ = [
    "N_CHECK_SEEDS",
    "Plan",
    "Prepared",
    "Progress",
    "Steps",
    "Timeouts",
    "benchmark",
    "check_abi",
    "check_compiled_arch",
    "execute",
    "plan",
    "prepare",
    "timed_shapes",
]
