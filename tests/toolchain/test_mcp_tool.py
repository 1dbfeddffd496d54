"""`compile_kernel` through a real in-memory MCP client on a minimal MCPServer."""

from __future__ import annotations

from pathlib import Path

import anyio
import anyio.lowlevel
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from tests.shared_runtime import runtime_lifespan

from kernel_skills.surface import compile_tools

from .conftest import kernel_source

pytestmark = pytest.mark.anyio


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MCPServer:
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    built = MCPServer(name="compile-test", lifespan=runtime_lifespan)
    compile_tools.register(built)
    return built


async def test_tool_is_listed_with_schema_and_annotations(server):
    async with Client(server) as client:
        (tool,) = (await client.list_tools()).tools
    assert tool.name == "compile_kernel"
    assert tool.annotations.idempotent_hint is True and tool.annotations.read_only_hint is False
    assert {"source", "arch", "options", "headers", "block_size", "want_ptx"} <= set(
        tool.input_schema["properties"]
    )
    assert tool.output_schema is not None and "kernels" in tool.output_schema["properties"]


async def test_successful_compile_is_structured_content(server):
    async with Client(server) as client:
        result = await client.call_tool(
            "compile_kernel", {"source": kernel_source("float4_scale.cu"), "block_size": 256}
        )
    assert not result.is_error
    report = result.structured_content
    assert report["ok"] and "ldg.128" in report["sass"]["features"]
    assert report["kernels"][0]["occupancy"]["block_size"] == 256


async def test_compile_error_is_a_normal_result_not_a_tool_error(server):
    async with Client(server) as client:
        result = await client.call_tool("compile_kernel", {"source": kernel_source("syntax_error.cu")})
    assert not result.is_error
    assert result.structured_content["ok"] is False
    assert result.structured_content["diagnostics"][0]["line"] == 3


async def test_refused_input_is_a_tool_error_saying_what_is_allowed(server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET_mcp\n")
    async with Client(server) as client:
        bad_option = await client.call_tool(
            "compile_kernel", {"source": "x", "options": ["--pre-include=/etc/x"]}
        )
        bad_include = await client.call_tool("compile_kernel", {"source": f'#include "{secret}"\n'})
    assert bad_option.is_error and "allowed: -std=c++17" in bad_option.content[0].text
    assert bad_include.is_error and "TOPSECRET" not in bad_include.content[0].text


async def test_server_keeps_answering_while_a_compile_runs(server):
    # ~0.5 s of constexpr evaluation in the front end: long enough to overlap another request.
    slow = (
        "__device__ constexpr unsigned long long spin(unsigned long long n) {\n"
        "  unsigned long long s = 0;\n"
        "  for (unsigned long long i = 0; i < n; ++i) s = s * 6364136223846793005ull + i;\n"
        "  return s;\n}\n"
        + "".join(f'static_assert(spin({700000 + i}ull) != 1ull, "");\n' for i in range(5))
        + 'extern "C" __global__ void k(unsigned long long* a) { a[0] = 1; }\n'
    )
    compiled = anyio.Event()

    async def compile_slow(client: Client) -> None:
        await client.call_tool("compile_kernel", {"source": slow})
        compiled.set()

    async with Client(server) as client:
        async with anyio.create_task_group() as group:
            group.start_soon(compile_slow, client)
            await anyio.lowlevel.checkpoint()  # let the compile request go out first
            with anyio.fail_after(5):
                tools = await client.list_tools()
            answered_during_compile = not compiled.is_set()
        assert tools.tools[0].name == "compile_kernel"
        assert answered_during_compile


async def test_cache_hit_through_the_tool(server):
    args = {"source": kernel_source("cp_async.cu"), "want_ptx": True}
    async with Client(server) as client:
        first = await client.call_tool("compile_kernel", args)
        second = await client.call_tool("compile_kernel", args)
    assert not first.structured_content["cached"] and second.structured_content["cached"]
    assert second.structured_content["ptx"] == first.structured_content["ptx"]
