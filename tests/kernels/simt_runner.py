"""Run a CUDA kernel's own source on the CPU through the product's emulator (kernel_skills.emulator).

`build_simt(source, kernel, workdir)` builds the kernel's runner with the product's
`emulator.build.build_runner` (g++ confined by `emulator.sandbox`, cached in `workdir`);
`check_on_emulator(...)` runs it through the benchmark's own correctness `Harness` with each launch a
confined runner process (`emulator.harness`, the same code `benchmark(device="emulator")` uses), so
the kernels go through the checks a GPU run applies (NaN poison, three seeds, determinism re-run,
untouched inputs, dtype-aware tolerances). A fault the engine reports (race, uninitialised shared
read, out of bounds, misaligned access, warp misuse, trap, forbidden syscall, deadlock) is a
KernelFault naming the kind, buffer, index, threads and kernel line; a hang is a Timeout under it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from kernel_skills import paths
from kernel_skills.bench.checking import check_shape
from kernel_skills.bench.launch import parse_launch
from kernel_skills.bench.spec import Problem
from kernel_skills.emulator.build import build_runner
from kernel_skills.emulator.harness import EmulatedKernel, emulator_harness
from kernel_skills.emulator.sandbox import run_confined


def build_simt(source: Path, kernel: str, workdir: Path | None = None) -> Path:
    """Build (or reuse) the runner for `kernel` in the .cu file `source`.

    Every build goes to the session's emulator cache (``paths.cache_dir()``, one per test session, as
    the product's own): the engine object is compiled once per session and each kernel once, whatever
    ``workdir`` a caller passes (kept so callers can say where their scratch files live)."""
    del workdir
    confined = functools.partial(run_confined, allow_exec=True)
    cache = paths.cache_dir() / "emulator"
    return build_runner(source.read_text(encoding="utf-8"), kernel, cache_dir=cache, run=confined).exe


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
    kernel = EmulatedKernel(exe, timeout_s=timeout)
    return check_shape(emulator_harness(kernel, problem, sizes, launch), seeds)


def failed_comparisons(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparisons of a `check_shape` report that did not pass, over every seed."""
    return [c for run in report["runs"] for c in run["comparisons"] if not c["passed"]]
