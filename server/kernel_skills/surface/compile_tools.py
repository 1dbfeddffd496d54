"""MCP tool ``compile_kernel``: a thin adapter over ``kernel_skills.toolchain.compile_source``.

A compile with errors is a normal structured result (``ok: false`` with diagnostics); refused input
(options, includes, arch) and compiler failures become tool errors via ``surface.errors``. The
blocking compile runs in a worker thread so the event loop keeps serving other requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import anyio.to_thread
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ToolAnnotations

from kernel_skills.surface.answers import answer, compile_text
from kernel_skills.surface.errors import tool_errors
from kernel_skills.surface.lifespan import runtime_of
from kernel_skills.toolchain import CompileResult

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

COMPILE_ANNOTATIONS = ToolAnnotations(
    title="Compile a CUDA kernel",
    read_only_hint=False,  # it stores the cubin for benchmark_kernel
    destructive_hint=False,
    idempotent_hint=True,
    open_world_hint=False,
)


@tool_errors
async def compile_kernel(
    source: str,
    ctx: Context,
    arch: str = "sm_90a",
    options: list[str] | None = None,
    headers: dict[str, str] | None = None,
    block_size: int | None = None,
    want_ptx: bool = False,
    shared_mem: int | None = None,
) -> Annotated[CallToolResult, CompileResult]:
    """Compile CUDA C++ with NVRTC for an H100 (sm_90a) — no GPU needed. Returns errors with line and
    a code frame, or per kernel registers, spills, occupancy at `block_size` (and `shared_mem`
    dynamic bytes), SASS features (ldg.128, local-memory...) and lint findings linking the skill.
    `headers`: inline {name: source}; only those and CUDA toolkit headers may be included.
    `options`: -std=c++17|c++20, -use_fast_math, -maxrregcount=N, -DNAME[=VALUE], -ftz=, -prec-div=,
    -prec-sqrt=, -fmad=. Pass the `compile_id` to benchmark_kernel."""
    from kernel_skills.toolchain import CompileRequest, compile_source

    request = CompileRequest(
        source=source,
        arch=arch,
        options=options or [],
        headers=headers or {},
        block_size=block_size,
        want_ptx=want_ptx,
        shared_mem=shared_mem,
    )
    # Progress (a no-op unless the client asked): the first compile starts the sandboxed NVRTC worker.
    await ctx.report_progress(0, 1, f"compiling for {request.arch} with NVRTC")
    toolchain = runtime_of(ctx).toolchain
    result = await anyio.to_thread.run_sync(lambda: compile_source(request, toolchain=toolchain))
    done = "cache hit" if result.cached else f"compiled in {result.compile_ms:.0f} ms"
    await ctx.report_progress(1, 1, done if result.ok else f"{done}, with errors")
    return answer(result, compile_text(result))


def register(server: MCPServer) -> None:
    """Add this domain's tools to the MCPServer ``server``."""
    server.add_tool(compile_kernel, title="Compile a CUDA kernel", annotations=COMPILE_ANNOTATIONS)
