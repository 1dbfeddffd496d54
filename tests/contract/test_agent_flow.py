"""The product's core loop, driven the way an agent drives it: over a real stdio server, discover the
bundled skill, read a reference on demand, compile the kernel it teaches, then benchmark it.

Without a GPU the last step must be a clear tool error naming the missing device (and the server must
keep serving); with one (``gpu`` marker) the skill's worked kernel must pass the harness.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio

REPO_ROOT = Path(__file__).resolve().parents[2]
SKILL = "h100-cuda-kernels"
REFERENCE = f"skill://{SKILL}/references/memory-bound-kernels.md"


def _server(**env: str) -> StdioServerParameters:
    environ = {k: v for k, v in os.environ.items() if k not in ("KERNEL_SKILLS_PATH", "KERNEL_SKILLS_TOKEN")}
    environ.update(env)
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "kernel_skills.cli", "serve", "--transport", "stdio"],
        cwd=REPO_ROOT,
        env=environ,
    )


def _worked_rmsnorm(markdown: str) -> str:
    """The fenced CUDA block of the reference's worked rmsnorm example."""
    blocks = re.findall(r"```cuda\n(.*?)```", markdown, flags=re.S)
    [source] = [b for b in blocks if 'extern "C"' in b and re.search(r"\brmsnorm\s*\(const __nv_bfloat16", b)]
    return source


async def _discover_and_compile(client: Client) -> dict:
    listing = await client.call_tool("list_skills", {})
    assert not listing.is_error
    assert SKILL in [s["name"] for s in listing.structured_content["skills"]]

    [skill_md] = (await client.read_resource(f"skill://{SKILL}/SKILL.md")).contents
    assert "compile_kernel" in skill_md.text and "benchmark_kernel" in skill_md.text
    assert "references/memory-bound-kernels.md" in skill_md.text

    [reference] = (await client.read_resource(REFERENCE)).contents
    source = _worked_rmsnorm(reference.text)

    compiled = await client.call_tool("compile_kernel", {"source": source, "block_size": 256})
    assert not compiled.is_error, compiled.content
    report = compiled.structured_content
    assert report["ok"], report["diagnostics"]
    [kernel] = [k for k in report["kernels"] if k["name"] == "rmsnorm"]
    assert kernel["spill_stores"] == kernel["spill_loads"] == 0
    assert kernel["param_sizes"] == [8, 8, 8, 4, 4, 4]  # the rmsnorm problem's ABI
    assert "ldg.128" in report["sass"]["features"]
    return report


def _benchmark_args(report: dict) -> dict:
    return {
        "problem": "rmsnorm",
        "compile_id": report["compile_id"],
        "kernel": "rmsnorm",
        "block": [256],
        "grid": ["ceil_div(rows, 8)"],
    }


async def test_an_agent_goes_from_the_catalog_to_an_emulator_verdict_and_a_gpu_request_says_no_gpu() -> None:
    with anyio.fail_after(240):
        async with Client(_server(KERNEL_SKILLS_NO_GPU="1"), cache=None) as client:
            report = await _discover_and_compile(client)
            # Without a GPU, the compile_id's kept PTX is judged on the CPU emulator, labelled so.
            verdict = await client.call_tool("benchmark_kernel", _benchmark_args(report))
            assert not verdict.is_error, verdict.content
            result = verdict.structured_content
            assert result["verified_on"] == "cpu-emulator" and result["time_us"] is None
            assert result["correct"], [c for c in result["checks"] if not c["passed"]]
            bench = await client.call_tool("benchmark_kernel", {**_benchmark_args(report), "device": "gpu"})
            assert bench.is_error
            text = " ".join(getattr(block, "text", "") for block in bench.content)
            assert "no CUDA device" in text or "no GPU" in text, text
            assert "Traceback" not in text
            # The server keeps serving after the refusal.
            assert not (await client.call_tool("list_problems", {})).is_error


@pytest.mark.gpu
async def test_the_skills_worked_rmsnorm_passes_the_harness_on_a_gpu() -> None:
    with anyio.fail_after(600):
        async with Client(_server(), cache=None) as client:
            report = await _discover_and_compile(client)
            bench = await client.call_tool("benchmark_kernel", _benchmark_args(report))
            assert not bench.is_error, bench.content
            result = bench.structured_content
            assert result["correct"], [c for c in result["checks"] if not c["passed"]]
