"""Run a CUDA kernel's own source on the CPU through the SIMT emulator (kernel_skills.emulator).

`build_simt(source, kernel, workdir)` builds the kernel's runner with the product's
`emulator.build.build_runner` (cached in `workdir`); `check_on_emulator(...)` runs it through the
benchmark's own correctness `Harness`, so the reference kernels go through the same checks a GPU run
applies (NaN poison, three seeds, determinism re-run, untouched inputs, dtype-aware tolerances), with
each launch a runner process speaking the product's job protocol (`emulator.protocol`). A fault the
engine reports (race, uninitialised shared read, out of bounds, misaligned access, warp misuse,
trap, forbidden syscall, deadlock) raises SimtFault with the report's kind, message and line.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from kernel_skills.bench.checking import Harness, check_shape
from kernel_skills.bench.launch import Launch, parse_launch
from kernel_skills.bench.spec import Problem
from kernel_skills.emulator.build import build_runner
from kernel_skills.emulator.protocol import (
    EXIT_FAULT,
    EngineReport,
    decode_outputs,
    encode_job,
    read_report,
    resolve_report,
)


class SimtFault(RuntimeError):
    """The emulated launch failed: an engine report, a crash, or a hang."""

    def __init__(self, message: str, report: EngineReport | None = None) -> None:
        super().__init__(message)
        self.report = report


def build_simt(source: Path, kernel: str, workdir: Path) -> Path:
    """Build (or reuse) the runner for `kernel` in the .cu file `source`."""
    return build_runner(source.read_text(encoding="utf-8"), kernel, cache_dir=workdir).exe


def run_simt(
    exe: Path,
    problem: Problem,
    sizes: dict[str, int],
    launch: Launch,
    tensors: dict[str, Any],
    *,
    timeout: float,
) -> None:
    """One emulated launch: every pointer's bytes go in, and come back into the same tensors."""
    with tempfile.TemporaryDirectory() as tmp:
        job, result, report = Path(tmp) / "job", Path(tmp) / "out", Path(tmp) / "report.json"
        job.write_bytes(encode_job(problem, sizes, launch, tensors))
        try:
            done = subprocess.run(
                [str(exe), str(job), str(result), str(report)],
                capture_output=True,
                text=True,
                timeout=timeout,
                env={"PATH": "/usr/bin:/bin"},
            )
        except subprocess.TimeoutExpired as exc:
            raise SimtFault(
                f"the emulated launch did not finish in {timeout:.0f} s (a hang or a deadlock)"
            ) from exc
        if done.returncode == EXIT_FAULT:
            found = resolve_report(read_report(report), exe)
            where = f" (kernel.cu line {found.line})" if found.line else ""
            raise SimtFault(f"{found.kind}: {found.message}{where}", found)
        if done.returncode != 0:
            raise SimtFault(f"the emulated launch failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        decode_outputs(problem, tensors, result.read_bytes())


def simt_harness(
    exe: Path, problem: Problem, sizes: dict[str, int], launch: Launch, *, timeout: float = 300
) -> Harness:
    """The benchmark's correctness harness, with launches run by the emulator on CPU tensors."""

    def do_launch(inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        run_simt(exe, problem, sizes, launch, {**inputs, **outputs}, timeout=timeout)

    return Harness(problem, dict(sizes), "cpu", do_launch, lambda: None)


def check_on_emulator(
    exe: Path,
    problem: Problem,
    sizes: dict[str, int],
    *,
    block: list[int],
    grid: list[str],
    shared_mem: str = "0",
    seeds: list[int],
    timeout: float = 300,
) -> dict[str, Any]:
    """`check_shape` for one shape, the launch parsed and resolved as a submission's would be."""
    launch = parse_launch(block, grid, shared_mem, problem.size_names).resolve(sizes)
    return check_shape(simt_harness(exe, problem, sizes, launch, timeout=timeout), seeds)


def failed_comparisons(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparisons of a `check_shape` report that did not pass, over every seed."""
    return [c for run in report["runs"] for c in run["comparisons"] if not c["passed"]]
