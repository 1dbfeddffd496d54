"""Progress notifications from the long tools (compile_kernel here; benchmark_kernel's are tested in
tests/bench/test_cli_and_mcp.py), through the real MCP client on both protocol generations."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

SOURCE = 'extern "C" __global__ void scale(float* x, float a) { x[threadIdx.x] *= a; }\n'


async def test_compile_kernel_reports_progress_from_start_to_done(app, connect):
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async with connect(app.server) as client:
        result = await client.call_tool("compile_kernel", {"source": SOURCE}, progress_callback=on_progress)
    assert not result.is_error and result.structured_content["ok"]
    assert progress[0] == (0, 1, "compiling for sm_90a with NVRTC")
    assert progress[-1][0] == 1 and progress[-1][1] == 1
    assert progress[-1][2] in ("cache hit",) or progress[-1][2].startswith("compiled in ")


async def test_compile_kernel_schema_does_not_expose_the_context(app, connect):
    async with connect(app.server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert "ctx" not in tools["compile_kernel"].input_schema["properties"]
    assert tools["compile_kernel"].input_schema["required"] == ["source"]
