"""The server says what works on this machine (issue 21): without a GPU its instructions and the
write_kernel prompt give the emulator's loop, and that loop, walked step by step through the real
client, succeeds: list_results, compile_kernel, benchmark_kernel with the compile_id, optimise_kernel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mcp import Client
from tests.shared_runtime import RUNTIME

from kernel_skills.app import ServerConfig, build
from kernel_skills.bench.device import FORCE_NO_DEVICE_ENV
from kernel_skills.executors.local import LocalExecutor
from kernel_skills.surface.guidance import LOOPS, instructions, verdicts_where

pytestmark = pytest.mark.anyio
SOLUTION = Path(__file__).parents[2] / "kernels" / "gelu_tanh" / "gelu_tanh.cu"


def test_verdicts_come_from_the_emulator_without_a_device_and_a_ray_pool_is_not_contacted(
    monkeypatch,
) -> None:
    monkeypatch.setenv(FORCE_NO_DEVICE_ENV, "1")
    assert verdicts_where(LocalExecutor(toolchain=RUNTIME.toolchain)) == "emulator"
    assert "no GPU" in instructions("emulator") and "estimate" in instructions("emulator")
    assert "median" in instructions("gpu") and "verified_on" in instructions("ray")
    assert all(instructions(w).endswith(LOOPS[w]) for w in LOOPS)


async def test_without_a_gpu_the_write_kernel_loop_works_step_by_step(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(FORCE_NO_DEVICE_ENV, "1")
    monkeypatch.setenv("KERNEL_SKILLS_DATA_DIR", str(tmp_path))
    server = build(ServerConfig(use_env=False), RUNTIME).server
    async with Client(server) as client:
        assert "This machine has no GPU" in (client.instructions or "")
        prompt = await client.get_prompt("write_kernel", {"problem": "gelu_tanh"})
        text = prompt.messages[0].content.text
        assert "no GPU: the CPU emulator judges it" in text and "median" not in text
        calls = re.findall(r"Call (\w+)\(", text)
        assert calls == ["list_results", "benchmark_kernel"]
        assert not (await client.call_tool("list_results", {"problem": "gelu_tanh"})).is_error
        compiled = await client.call_tool(
            "compile_kernel", {"source": SOLUTION.read_text(), "block_size": 256}
        )
        compile_id = compiled.structured_content["compile_id"]
        assert not compiled.is_error and compile_id
        launch = {
            "problem": "gelu_tanh",
            "kernel": "gelu_tanh",
            "block": [256],
            "grid": ["ceil_div(n, 4096)"],
        }
        judged = await client.call_tool("benchmark_kernel", {**launch, "compile_id": compile_id})
        assert not judged.is_error and judged.structured_content["correct"], judged.content[0].text
        result_id = judged.structured_content["result_id"]
        optimise = await client.get_prompt("optimise_kernel", {"attempt": str(result_id)})
        assert "iterate on the counters" in optimise.messages[0].content.text


def test_the_instructions_name_what_this_machine_lacks_with_its_fix(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(FORCE_NO_DEVICE_ENV, "1")
    from kernel_skills.gxx import find_gxx

    monkeypatch.setenv("PATH", str(tmp_path))  # no g++ on the PATH
    find_gxx.cache_clear()  # g++ is looked up once per process
    try:
        server = build(ServerConfig(use_env=False), RUNTIME).server
    finally:
        find_gxx.cache_clear()
    assert "Not working on this machine" in (server.instructions or "")
    assert "gxx:" in (server.instructions or "") and "fix:" in (server.instructions or "")
