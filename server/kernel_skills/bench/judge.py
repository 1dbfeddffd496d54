"""The GPU verdict: ``execute(prepared, worker, ...)`` on a leased GPU worker.

On the worker: device info, calibration (cached per device), correctness on every shape
(``verdicts.check_shapes`` with the worker's check job, ``N_CHECK_SEEDS`` fresh seeds each), then
timing of the kernel and the PyTorch baselines on each timed shape -> roofline and plausibility.
Planning, compiling and the shared checks are in ``bench.verdicts``; choosing between this and the CPU
emulator, and leasing the worker, is ``kernel_skills.dispatch``'s job.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from kernel_skills.bench import calibration, roofline
from kernel_skills.bench.launch import Launch
from kernel_skills.bench.models import BenchResult, Check, DeviceInfo, ShapeTiming
from kernel_skills.bench.spec import Problem
from kernel_skills.bench.stats import TimeStats
from kernel_skills.bench.verdicts import (
    Compiled,
    Plan,
    Prepared,
    Progress,
    Steps,
    Timeouts,
    check_shapes,
    fresh_seed,
    launch_info,
    provenance,
    sizes_text,
)

N_TIMING_SETS = 2
HELLO_TIMEOUT_S = 180.0
QUICK_CAP_MS = 500.0
PLAUSIBILITY_CHECK = "plausible time"  # not a correctness check: it decides ``ok``, not ``correct``


def gpu_steps(the_plan: Plan, progress: Progress) -> Steps:
    """The progress steps of a GPU verdict: compile, device, worker, calibration, every shape, timings."""
    n_timed = len(the_plan.timed) * (1 + len(the_plan.baselines))
    return Steps(progress, 4 + len(the_plan.shapes) + n_timed + int(the_plan.request.counters))


def _job(
    kind: str,
    problem: Problem,
    sizes: dict[str, int],
    compiled: Compiled | None,
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
            launch=launch_info(self.p.plan.spec),
            device=device_info,
            provenance=provenance(self.p.plan.request, device["device"], self.p.compiled.cubin, self.seeds),
            warnings=self.warnings,
            compile_log=self.p.compiled.log or None,
        )

    def _check_all(self) -> None:
        found = check_shapes(self.p, self._check_shape, self.steps)
        self.seeds += found.seeds
        self.checks += [*found.checks, found.writes_in_bounds(), found.inputs_unchanged()]

    def _check_shape(
        self, label: str, sizes: dict[str, int], launch: Launch, seeds: list[int]
    ) -> dict[str, Any]:
        return self.worker.request(
            _job("check", self.problem, sizes, self.p.compiled, launch, seeds=seeds),
            timeout_s=self.limits.check,
            what=f"the correctness check on {label}",
        )

    def _time(self, set_name: str, sizes: dict[str, int], peaks: roofline.Peaks) -> ShapeTiming | None:
        """Time the kernel and the baselines on one shape; None when the timed outputs fail to verify."""
        label = f"{set_name} ({sizes_text(sizes)})"
        seeds = [fresh_seed() for _ in range(N_TIMING_SETS)]
        self.seeds += seeds
        kernel_time = self._time_kernel(label, sizes, seeds)
        if kernel_time is None:
            return None
        baseline_us = self._time_baselines(label, sizes, seeds)
        bytes_moved, flops = int(self.problem.bytes_moved(sizes)), int(self.problem.flops(sizes))
        speedup = {name: stats.median / kernel_time.median for name, stats in baseline_us.items()}
        assessed = roofline.assess(bytes_moved, flops, kernel_time.median, peaks)
        self._check_plausible(label, kernel_time, assessed)
        self._flag_speedups(label, speedup)
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

    def _time_kernel(self, label: str, sizes: dict[str, int], seeds: list[int]) -> TimeStats | None:
        """The kernel's time on one shape, with a check that its timed outputs verified (None if not)."""
        self.steps.step(f"timing the kernel on {label}")
        reply = self.worker.request(
            _job(
                "time_kernel",
                self.problem,
                sizes,
                self.p.compiled,
                self.p.launch(sizes),
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
        return TimeStats.model_validate(reply["stats"]) if verified else None

    def _time_baselines(self, label: str, sizes: dict[str, int], seeds: list[int]) -> dict[str, TimeStats]:
        """Each requested PyTorch baseline's time on one shape, on the same inputs as the kernel."""
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
        return baseline_us

    def _check_plausible(self, label: str, kernel_time: TimeStats, assessed: roofline.Roofline) -> None:
        """A check that the kernel's time is not below the roofline's floor (a measurement error or cheat)."""
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

    def _flag_speedups(self, label: str, speedup: dict[str, float]) -> None:
        """A warning for each speedup high enough to deserve a second look."""
        for name, value in speedup.items():
            if roofline.speedup_flagged(value):
                self.warnings.append(
                    f"{value:.1f}x over {name} on {label} is unusually high (> {roofline.SPEEDUP_FLAG:g}x): "
                    "worth a second look before trusting it"
                )


def _peaks(worker: Any, device: DeviceInfo, step: Callable[[str], None]) -> roofline.Peaks:
    found = calibration.cached(device)
    if found is None:
        step("calibrating the device (once per device): copy bandwidth and bf16 matmul rate")
        found = calibration.measure(worker)
    return found.peaks


__all__ = ["HELLO_TIMEOUT_S", "PLAUSIBILITY_CHECK", "execute", "gpu_steps"]
