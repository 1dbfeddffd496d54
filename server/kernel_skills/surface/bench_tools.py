"""MCP tools ``list_problems``, ``benchmark_kernel`` and ``list_results``: thin adapters over ``bench``.

The benchmark blocks (a GPU worker process, or the confined CPU emulator, does the work), so it runs
in a worker thread and its progress is forwarded to ``ctx.report_progress`` from there. Domain errors
(no GPU, refused input, a kernel fault or timeout) become tool errors via ``surface.errors``; the
server keeps serving.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, ToolAnnotations

from kernel_skills.bench import Baseline, BenchResult, Device, ProblemList, ResultList
from kernel_skills.surface.answers import answer, bench_text, problems_text, results_text
from kernel_skills.surface.errors import tool_errors
from kernel_skills.surface.lifespan import runtime_of

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
        from kernel_skills.bench import load_registry

        return load_registry(dirs)

    @tool_errors
    async def list_problems(ctx: Context, name: str | None = None) -> Annotated[CallToolResult, ProblemList]:
        """The benchmark problems, one line each; with `name`, that problem's exact kernel signature,
        outputs, size names (for grid and shared_mem expressions), shapes, timed sets and tolerance."""
        from kernel_skills.bench import list_problems as domain_list

        listing = await anyio.to_thread.run_sync(lambda: domain_list(registry(), name=name))
        return answer(listing, problems_text(listing))

    @tool_errors
    async def benchmark_kernel(
        problem: str,
        block: list[int] | int | str,
        grid: list[str | int] | str | int,
        ctx: Context,
        kernel: str | None = None,
        source: str | None = None,
        compile_id: str | None = None,
        shared_mem: str | int = "0",
        shapes: list[str] | None = None,
        baseline: list[Baseline] | None = None,
        device: Device = "auto",
        counters: bool = False,
    ) -> Annotated[CallToolResult, BenchResult]:
        """Check a CUDA kernel for a problem against PyTorch and, on a GPU (an H100), time it.

        One of `source` (CUDA C++) or `compile_id` (from compile_kernel). `kernel`: the extern "C"
        name (optional with one kernel); its parameters must match list_problems' signature.
        `block`: [256] or [x, y, z]; `grid`: expressions over the size names, e.g. ["ceil_div(rows, 8)"]
        (+ - * // ( ), ceil_div, min, max); `shared_mem`: dynamic shared bytes, also an expression.
        Every shape is checked on fresh seeds (NaN-poisoned outputs, inputs unchanged, re-run agrees).
        `device`: "auto" (the GPU if present, else the CPU emulator), "gpu" or "emulator". On a GPU:
        median time, speedup over torch eager, roofline fraction. On the emulator (never timed): races,
        out-of-bounds and barrier faults with their line, `counters` with ranked findings, and an H100
        `estimate` (a model). `counters`: true on a GPU also runs the emulator for those."""
        from kernel_skills.bench import BenchRequest
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
                counters=counters,
            )
        except ValueError as exc:
            raise RefusedInput(bad_request(exc)) from exc

        def progress(done: float, total: float, message: str) -> None:
            anyio.from_thread.run(ctx.report_progress, done, total, message)

        runtime = runtime_of(ctx)
        result = await anyio.to_thread.run_sync(
            lambda: benchmark(request, runtime=runtime, registry=registry(), progress=progress)
        )
        return answer(result, bench_text(result))

    @tool_errors
    async def list_results(problem: str, ctx: Context) -> Annotated[CallToolResult, ResultList]:
        """Your stored attempts for a problem, best first (accepted, correct, fastest): id, kernel,
        median time, speedup, device, the emulator's H100 estimate (a model) and its error where a GPU
        timed the same kernel, and a one-line summary."""
        from kernel_skills.bench import list_results as domain_results

        db = runtime_of(ctx).db_path
        listing = await anyio.to_thread.run_sync(lambda: domain_results(problem, registry=registry(), db=db))
        return answer(listing, results_text(listing))

    server.add_tool(list_problems, title="List benchmark problems", annotations=READ_ONLY)
    server.add_tool(benchmark_kernel, title="Benchmark a CUDA kernel", annotations=BENCH_ANNOTATIONS)
    server.add_tool(list_results, title="List benchmark results", annotations=READ_ONLY)


def bad_request(exc: ValueError) -> str:
    """A request that failed validation, said per field without pydantic's links."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return f"bad benchmark request: {exc}"
    parts = []
    for e in errors(include_url=False):
        field = ".".join(str(x) for x in e.get("loc", ())) or "request"
        parts.append(f"{field}: {e.get('msg', 'invalid')} (got {e.get('input')!r})")
    return "bad benchmark request: " + "; ".join(parts) + LAUNCH_FORMS


LAUNCH_FORMS = (
    '. Accepted launch forms: block 256, "256", [256] or [32, 8]; grid "ceil_div(n, 256)", '
    '["ceil_div(rows, 8)", "batch"] or 64; shared_mem 0 or "4 * dim"'
)

__all__ = ["bad_request", "register"]
