"""MCP tools ``list_problems``, ``benchmark_kernel`` and ``list_results``: thin adapters over ``bench``.

The benchmark blocks (a GPU worker process, or the confined CPU emulator, does the work), so it runs
in a worker thread and its progress is forwarded to ``ctx.report_progress`` from there. Domain errors
(no GPU, refused input, a kernel fault or timeout) become tool errors via ``surface.errors``; the
server keeps serving.
"""

from __future__ import annotations

from pathlib import Path

import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations

from kernel_skills.bench.models import Baseline, BenchResult, Device, ProblemList, ResultList
from kernel_skills.surface.errors import tool_errors

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
BENCH_ANNOTATIONS = ToolAnnotations(
    title="Benchmark a CUDA kernel",
    read_only_hint=False,  # it stores the result for list_results
    destructive_hint=False,
    idempotent_hint=False,  # fresh random inputs every time
    open_world_hint=False,
)


def register(server: MCPServer, *, problems_dirs: list[Path] | None = None) -> None:
    """Add the bench tools to ``server``. ``problems_dirs`` adds trusted user problem modules
    (``KERNEL_SKILLS_PROBLEMS_DIR``, os.pathsep-separated, is read as well)."""
    dirs = [Path(p) for p in (problems_dirs or [])]

    def registry():  # loaded per call so new problem files show up without a restart
        from kernel_skills.bench.registry import load_registry

        return load_registry(dirs)

    @tool_errors
    async def list_problems(ctx: Context) -> ProblemList:
        """The benchmark problems: each one's exact kernel C signature (pointers and scalars, which are
        outputs), size variables, named shape sets (a set named "ragged" is correctness-only),
        tolerances, and the expression syntax for grid and shared_mem."""
        from kernel_skills.bench.api import list_problems as domain_list

        return await anyio.to_thread.run_sync(lambda: domain_list(registry()))

    @tool_errors
    async def benchmark_kernel(
        problem: str,
        block: list[int],
        grid: list[str],
        ctx: Context,
        kernel: str | None = None,
        source: str | None = None,
        compile_id: str | None = None,
        shared_mem: str = "0",
        shapes: list[str] | None = None,
        baseline: list[Baseline] | None = None,
        device: Device = "auto",
    ) -> BenchResult:
        """Check and time a CUDA kernel for a named problem on the GPU (an H100), against PyTorch;
        without a GPU, check its correctness on the CPU emulator.

        Give exactly one of `source` (CUDA C++, compiled for sm_90a with -std=c++17) or `compile_id`
        (from compile_kernel, to choose options). `kernel`: the extern "C" __global__ name (optional
        if the module has one kernel); its parameters must match the problem's signature exactly
        (see list_problems). `block`: [x] or [x, y, z] threads. `grid`: 1-3 expressions over the
        problem's size variables, e.g. ["ceil_div(rows, 16)"] or ["ceil_div(seq_q, 64)", "batch * heads"];
        `shared_mem`: dynamic shared bytes, also an expression. Expressions accept integers, size names,
        + - * // ( ) and ceil_div(a, b), min(a, b), max(a, b). `shapes`: shape-set names (default all).
        `baseline`: ["torch_eager"] (default) and/or "torch_compile".

        Every shape is checked on 3 fresh random seeds (outputs poisoned with NaN, every element
        compared, inputs must stay unchanged, a re-run must agree); then the kernel and PyTorch are
        timed with CUDA events and L2 flushes. Returns ok/correct, checks with mismatch locations,
        time_us (median, mean, std, n), baseline_us, speedup, achieved GB/s and TFLOP/s, and the
        roofline (bound, floor_us, fraction_of_peak). A kernel that crashes or hangs is reported as
        an error and cannot harm the server.

        `device`: "auto" (default: the GPU when one is usable, else the CPU emulator), "gpu" (an error
        without one) or "emulator". The CPU emulator runs the kernel's own source, every CUDA thread,
        confined, on the problem's small emulator shapes (see list_problems) with the same checks,
        and also reports shared-memory races, uninitialised shared reads and out-of-bounds accesses
        with the buffer, index, threads and line. Its result says verified_on "cpu-emulator", has no
        time, speedup or roofline (timing needs a GPU), and its `limits` say what is not modelled.
        It needs `source` (not compile_id). verified_on "gpu" results name the device.
        """
        from kernel_skills.bench.models import BenchRequest
        from kernel_skills.dispatch import benchmark
        from kernel_skills.errors import RefusedInput

        try:
            request = BenchRequest(
                problem=problem,
                source=source,
                compile_id=compile_id,
                kernel=kernel,
                block=block,
                grid=grid,
                shared_mem=shared_mem,
                shapes=shapes,
                baseline=baseline,
                device=device,
            )
        except ValueError as exc:
            raise RefusedInput(f"bad benchmark request: {exc}") from exc

        def progress(done: float, total: float, message: str) -> None:
            anyio.from_thread.run(ctx.report_progress, done, total, message)

        return await anyio.to_thread.run_sync(
            lambda: benchmark(request, registry=registry(), progress=progress)
        )

    @tool_errors
    async def list_results(problem: str, ctx: Context) -> ResultList:
        """Your stored benchmark attempts for a problem, best first (accepted, correct, fastest), with
        the source hash, median time, speedup over torch eager, device and a one-line summary."""
        from kernel_skills.bench.api import list_results as domain_results

        return await anyio.to_thread.run_sync(lambda: domain_results(problem, registry=registry()))

    server.add_tool(list_problems, title="List benchmark problems", annotations=READ_ONLY)
    server.add_tool(benchmark_kernel, title="Benchmark a CUDA kernel", annotations=BENCH_ANNOTATIONS)
    server.add_tool(list_results, title="List benchmark results", annotations=READ_ONLY)


__all__ = ["register"]
