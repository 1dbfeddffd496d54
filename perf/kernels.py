"""`make bench` section "kernels": each bundled reference solution vs PyTorch eager, on the GPU.

For every problem in kernels/solutions.json, at its Flux / LTX / SDXL shape sets (the ragged set is
only checked): the kernel's median time, torch eager's median time measured in the same run with
the same timing function, the speedup, achieved GB/s and its fraction of the measured copy
bandwidth, and the fraction of the roofline floor. Without a GPU it prints why and skips.
"""

from __future__ import annotations

import argparse
from typing import Any


def run(args: argparse.Namespace) -> dict:
    from kernel_skills.bench.device import require_cuda_device
    from kernel_skills.errors import DeviceUnavailable

    try:
        require_cuda_device()
    except DeviceUnavailable as exc:
        print(f"skipped: {exc}")
        return {"skipped": str(exc)}
    return _run_on_gpu(quick=bool(getattr(args, "quick", False)))


def _run_on_gpu(*, quick: bool) -> dict:
    from kernel_skills.bench.models import BenchRequest
    from kernel_skills.bench.solutions import load_solutions, solution_request_fields
    from kernel_skills.dispatch import benchmark
    from kernel_skills.errors import KernelSkillsError
    from perf.runtime import RUNTIME

    rows: list[dict[str, Any]] = []
    device = None
    header = f"{'problem':<20} {'shapes':<10} {'kernel us':>10} {'torch us':>10} {'speedup':>8} {'GB/s':>7} "
    header += f"{'% copy bw':>9} {'% roofline':>10}  verdict"
    print(header)
    for problem in sorted(load_solutions()):
        request = BenchRequest(**solution_request_fields(problem), quick=quick)
        try:
            result = benchmark(request, runtime=RUNTIME)
        except KernelSkillsError as exc:
            print(f"{problem:<20} error ({type(exc).__name__}): {exc}")
            rows.append({"problem": problem, "error": f"{type(exc).__name__}: {exc}"})
            continue
        device = result.device.name if result.device else device
        if not result.timings:
            failed = [c.name for c in result.checks if not c.passed]
            print(f"{problem:<20} {'-':<10} not timed: failed {failed}")
            rows.append({"problem": problem, "correct": result.correct, "failed": failed})
        for timing in result.timings:
            line, row = timing_row(problem, result, timing)
            print(line)
            rows.append(row)
    print(f"device: {device}")
    return {"device": device, "rows": rows}


def timing_row(problem: str, result: Any, t: Any) -> tuple[str, dict[str, Any]]:
    """One table line and its JSON row for a timed shape set (``result``: a BenchResult, ``t``: one
    of its ShapeTimings)."""
    eager = t.baseline_us.get("torch_eager")
    copy_fraction = t.achieved.gbps / t.roofline.peaks.copy_gbps
    verdict = "ok" if result.ok else ("correct" if result.correct else "FAILED")
    eager_us = eager.median if eager else float("nan")
    speedup = t.speedup.get("torch_eager", float("nan"))
    line = (
        f"{problem:<20} {t.shape_set:<10} {t.time_us.median:>10.2f} "
        f"{eager_us:>10.2f} {speedup:>7.2f}x "
        f"{t.achieved.gbps:>7.0f} {100 * copy_fraction:>8.0f}% "
        f"{100 * (t.roofline.fraction_of_peak or 0):>9.0f}%  {verdict}"
    )
    row = {
        "problem": problem,
        "shape_set": t.shape_set,
        "sizes": t.sizes,
        "kernel_us": t.time_us.model_dump(),
        "torch_eager_us": eager.model_dump() if eager else None,
        "speedup_torch_eager": t.speedup.get("torch_eager"),
        "achieved_gbps": t.achieved.gbps,
        "achieved_tflops": t.achieved.tflops,
        "fraction_of_copy_bandwidth": copy_fraction,
        "roofline": t.roofline.model_dump(),
        "ok": result.ok,
        "correct": result.correct,
    }
    return line, row
