"""`make bench` section "estimate": every reference kernel's counters and H100 estimate (issue 20).

For every problem in kernels/solutions.json, one CPU-emulator verdict: the counted launch's ratios
(sectors per request of global loads, traffic vs ideal, unique traffic, bank conflicts), the waves at
the first timed shape, the estimate and its bound beside the roofline floor at that shape (the same
peaks), and the findings' rules. Where a GPU is usable, the same kernel is also timed there with
``counters=True`` and the estimate's error is printed (and stored, for ``calibrate --estimate``).
The table is printed as Markdown for docs/emulator.md.
"""

from __future__ import annotations

import argparse
from typing import Any


def run(args: argparse.Namespace) -> dict:
    import shutil

    from kernel_skills import confine

    del args
    if shutil.which("g++") is None or not confine.landlock_available():
        print("skipped: the emulator needs g++ and Linux Landlock")
        return {"skipped": "no emulator here"}
    gpu = _gpu_usable()
    print(
        "| problem | timed shape | roofline floor µs | estimate µs | bound | of roofline | ld sectors/req "
        "(ideal) | traffic / unique vs ideal | bank conflicts | waves | measured µs | error | findings |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = [_row(problem, gpu) for problem in _problems()]
    return {"gpu": gpu, "rows": rows}


def _problems() -> list[str]:
    from kernel_skills.bench.solutions import load_solutions

    return sorted(load_solutions())


def _gpu_usable() -> bool:
    from kernel_skills.dispatch import on_emulator
    from perf.runtime import RUNTIME

    return not on_emulator("auto", RUNTIME.executor)


def _row(problem: str, gpu: bool) -> dict[str, Any]:
    from kernel_skills.bench.models import BenchRequest
    from kernel_skills.bench.roofline import floor
    from kernel_skills.bench.solutions import solution_request_fields
    from kernel_skills.dispatch import benchmark
    from kernel_skills.errors import KernelSkillsError
    from perf.runtime import RUNTIME

    fields = solution_request_fields(problem)
    try:
        result = benchmark(BenchRequest(**fields, device="emulator"), runtime=RUNTIME, store=False)
        measured = (
            benchmark(BenchRequest(**fields, device="gpu", counters=True), runtime=RUNTIME) if gpu else None
        )
    except KernelSkillsError as exc:
        print(f"| {problem} | error: {type(exc).__name__}: {exc} |")
        return {"problem": problem, "error": str(exc)}
    c, e = result.counters, result.estimate
    if c is None or e is None or c.at_shape is None:
        print(f"| {problem} | no counters or estimate (correct: {result.correct}) |")
        return {"problem": problem, "correct": result.correct}
    from kernel_skills.bench.registry import load_registry

    spec = load_registry(use_env=False).get(problem)
    roof = floor(spec.bytes_moved(e.shape), spec.flops(e.shape), e.peaks)
    timed = measured.estimate if measured is not None else None
    cells = [
        problem,
        ", ".join(f"{k}={v}" for k, v in e.shape.items()),
        f"{roof.floor_us:.1f}",
        f"{e.time_us:.1f}",
        e.bound,
        f"{100 * (e.fraction_of_peak or 0):.0f}%",
        f"{c.global_load.sectors_per_request or 0:.1f} ({c.global_load.ideal_sectors_per_request or 0:.1f})",
        f"{c.traffic_vs_ideal} / {c.unique_traffic_vs_ideal}",
        str(c.shared.bank_conflicts),
        f"{c.launch.waves_on_h100:g}" if c.launch else "-",
        f"{timed.measured_us:.1f}" if timed and timed.measured_us else "no GPU",
        f"{timed.error:+.0%}" if timed and timed.error is not None else "-",
        ", ".join(f.rule.removeprefix("counter-") for f in c.findings) or "none",
    ]
    print("| " + " | ".join(cells) + " |", flush=True)
    return {
        "problem": problem,
        "shape": e.shape,
        "roofline_floor_us": roof.floor_us,
        "estimate": e.model_dump(mode="json"),
        "counters": {
            "traffic_vs_ideal": c.traffic_vs_ideal,
            "unique_traffic_vs_ideal": c.unique_traffic_vs_ideal,
            "bank_conflicts": c.shared.bank_conflicts,
            "findings": [f.message for f in c.findings],
        },
        "measured": timed.model_dump(mode="json") if timed else None,
    }
