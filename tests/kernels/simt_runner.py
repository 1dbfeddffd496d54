"""Run a CUDA kernel on the CPU through the product's emulator (kernel_skills.emulator): the PTX
NVRTC compiled from the kernel's own source, executed by the PTX engine.

`build_simt(source, kernel)` compiles the .cu file with NVRTC for sm_90a (as `compile_kernel` does)
and loads the kernel's PTX into the engine (`emulator.harness.emulated_kernel`; the engine itself is
built once per session by g++, never the kernel); `check_on_emulator(...)` runs that `EmulatedKernel`
through the benchmark's own correctness `Harness` with each launch one confined engine run
(`emulator.harness.emulator_harness`, the same code `benchmark(device="emulator")` uses), so the
kernels go through the checks a GPU run applies (NaN poison, three seeds, determinism re-run in the
other block/warp order, untouched inputs, dtype-aware tolerances). A fault the engine reports (race,
uninitialised shared read, out of bounds, misaligned access, warp misuse, trap, barrier divergence)
is a KernelFault caused by an EmulatorFault naming the kind, buffer, index, threads and kernel line;
a hang (the instruction budget spent) is a KernelFault caused by a Timeout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.shared_runtime import RUNTIME

from kernel_skills.bench.checking import check_shape
from kernel_skills.bench.launch import parse_launch
from kernel_skills.bench.spec import Problem
from kernel_skills.emulator import protocol
from kernel_skills.emulator.harness import EmulatedKernel, emulated_kernel, emulator_harness


def build_simt(
    source: Path,
    kernel: str,
    workdir: Path | None = None,
    *,
    timeout: float = 300,
    budget: int = protocol.DEFAULT_BUDGET,
) -> EmulatedKernel:
    """`kernel` (its PTX symbol) of the .cu file `source`, compiled by NVRTC and ready on the engine.

    The compile and the engine go to the session's caches (``paths.cache_dir()``, one per test
    session, as the product's own); ``workdir`` is kept so callers can say where their scratch files
    live. ``timeout`` is each launch's wall-clock backstop, ``budget`` its thread-instruction budget."""
    del workdir
    return emulated_kernel(
        source.read_text(encoding="utf-8"),
        kernel,
        timeout_s=timeout,
        budget=budget,
        toolchain=RUNTIME.toolchain,
    )


def check_on_emulator(
    kernel: EmulatedKernel,
    problem: Problem,
    sizes: dict[str, int],
    *,
    block: list[int],
    grid: list[str],
    shared_mem: str = "0",
    seeds: list[int],
) -> dict[str, Any]:
    """`check_shape` for one shape, the launch parsed and resolved as a submission's would be."""
    launch = parse_launch(block, grid, shared_mem, problem.size_names).resolve(sizes)
    return check_shape(emulator_harness(kernel, problem, sizes, launch), seeds)


def failed_comparisons(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparisons of a `check_shape` report that did not pass, over every seed."""
    return [c for run in report["runs"] for c in run["comparisons"] if not c["passed"]]
