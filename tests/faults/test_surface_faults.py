"""Faults as a client sees them, through the real MCP SDK client on an in-memory connection: a verdict
the DB cannot store comes back with ``result_id: null`` and a warning (in the structured result and
the text), and is listed once the DB is back; a full cache costs nothing; an unexpected exception is a
named "server fault" with the tool and the request id. On the CLI a ``ServerFault`` exits 6."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import Context, MCPServer
from tests.shared_runtime import runtime_lifespan

from kernel_skills.bench import results_db, results_journal
from kernel_skills.bench.device import FORCE_NO_DEVICE_ENV
from kernel_skills.bench.solutions import solution_request_fields
from kernel_skills.cli import main
from kernel_skills.surface import bench_tools, compile_tools
from kernel_skills.surface.errors import tool_errors

from .conftest import FullDisk, immutable, needs_emulator

pytestmark = pytest.mark.anyio


@pytest.fixture
def server() -> MCPServer:
    built = MCPServer(name="faults-test", lifespan=runtime_lifespan)
    bench_tools.register(built)
    compile_tools.register(built)

    @tool_errors
    async def explode(what: str, ctx: Context) -> str:
        """A tool with a bug (a test of the catch-all): it raises what no domain code maps."""
        raise RuntimeError(f"an unmapped {what}")

    built.add_tool(explode)
    return built


def _text(result: object) -> str:
    return "".join(getattr(c, "text", "") for c in getattr(result, "content", []))


async def test_an_unexpected_exception_is_a_named_server_fault_with_the_request_id(server: MCPServer) -> None:
    async with Client(server) as client:
        result = await client.call_tool("explode", {"what": "bug"})
        assert result.is_error
        text = _text(result)
        # the SDK puts "Error executing tool explode: " before every tool error's text; ours follows
        assert "server fault: explode (request " in text and "RuntimeError: an unmapped bug" in text
        assert text.strip() != "Error executing tool explode"
        assert not (await client.call_tool("list_problems", {})).is_error  # still serving


@needs_emulator
@pytest.mark.slow
async def test_a_verdict_the_db_cannot_store_is_returned_and_listed_once_it_can(
    server: MCPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FORCE_NO_DEVICE_ENV, "1")
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("KERNEL_SKILLS_DATA_DIR", str(data))
    results_journal._JOURNALS.clear()
    fields = solution_request_fields("gelu_tanh")
    args = {k: fields[k] for k in ("problem", "source", "kernel", "block", "grid", "shared_mem")}
    with anyio.fail_after(600):
        async with Client(server) as client:
            with immutable(data):
                told = await client.call_tool("benchmark_kernel", args)
                listed = await client.call_tool("list_results", {"problem": "gelu_tanh"})
            assert not told.is_error, _text(told)
            verdict = told.structured_content or {}
            assert verdict["correct"] and verdict["result_id"] is None
            assert any("not stored" in w and "held in memory" in w for w in verdict["warnings"])
            assert "not stored" in _text(told)
            assert listed.is_error and "server fault: the results DB" in _text(listed)
            back = await client.call_tool("list_results", {"problem": "gelu_tanh"})
    assert not back.is_error, _text(back)
    listing = back.structured_content or {}
    assert [r["source_sha256"] for r in listing["results"]] == [verdict["provenance"]["source_sha256"]]
    assert any("now stored" in w for w in listing["warnings"])
    assert results_db.db_path() == data / "results.sqlite3"


async def test_a_full_cache_disk_still_compiles(
    server: MCPServer, full_disk: FullDisk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(full_disk.path))
    full_disk.fill()
    source = 'extern "C" __global__ void k(float* o) { o[threadIdx.x] = 42.0f; }\n'
    async with Client(server) as client:
        result = await client.call_tool("compile_kernel", {"source": source})
    assert not result.is_error, _text(result)
    assert (result.structured_content or {})["ok"]


def test_a_server_fault_exits_6_on_the_cli(
    full_disk: FullDisk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kernel = tmp_path / "k.cu"
    kernel.write_text(
        'extern "C" __global__ void k(float* o) { o[threadIdx.x] = 43.0f; }\n', encoding="utf-8"
    )
    monkeypatch.setattr(tempfile, "tempdir", str(full_disk.path))
    full_disk.fill()
    code = main(["compile", str(kernel), "--json"])
    assert code == 6
    document = json.loads(capsys.readouterr().out)
    assert document["error"]["type"] == "ServerFault"
    assert "ENOSPC" in document["error"]["message"] and "not judged" in document["error"]["message"]
    assert os.listdir(full_disk.path) == [n for n in os.listdir(full_disk.path) if n.startswith(".")]
