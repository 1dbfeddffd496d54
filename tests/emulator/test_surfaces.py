"""Every bundled reference solution is correct on the CPU emulator through both surfaces: the MCP tool
``benchmark_kernel`` on a real in-memory client and ``kernel-skills bench``. Both call the one domain
function and return the same shape. These replace the per-shape tests that ran the reference kernels
through a test-only emulator (their shapes are now each problem's EMULATOR_SHAPES): each emulator shape
is correct over 3 fresh seeds, its re-run bitwise identical, and every input untouched.

No GPU is used: ``KERNEL_SKILLS_NO_GPU=1`` makes device "auto" pick the emulator on any machine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from tests.shared_runtime import runtime_lifespan

from kernel_skills.bench.device import FORCE_NO_DEVICE_ENV
from kernel_skills.bench.registry import load_registry
from kernel_skills.bench.solutions import load_solutions, solution_request_fields
from kernel_skills.cli import main
from kernel_skills.surface import bench_tools

from .conftest import needs_emulator

pytestmark = needs_emulator
PROBLEMS = sorted(load_solutions())
REGISTRY = load_registry(use_env=False)
HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def _no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FORCE_NO_DEVICE_ENV, "1")


@pytest.fixture
def server() -> MCPServer:
    built = MCPServer(name="emulator-test", lifespan=runtime_lifespan)
    bench_tools.register(built)
    return built


def _tool_args(problem: str) -> dict[str, Any]:
    fields = solution_request_fields(problem)
    return {k: fields[k] for k in ("problem", "source", "kernel", "block", "grid", "shared_mem")}


def _assert_verified_on_every_emulator_shape(result: dict[str, Any], problem: str) -> None:
    failed = [c for c in result["checks"] if not c["passed"]]
    assert result["correct"] and not failed, failed
    assert result["verified_on"] == "cpu-emulator"
    assert result["time_us"] is None and result["speedup"] == {} and result["roofline"] is None
    assert any("timing" in note and "GPU" in note for note in result["notes"])
    checks = {c["name"]: c["detail"] for c in result["checks"]}
    for sizes in REGISTRY.get(problem).emulator_shapes:
        label = "emulator (" + ", ".join(f"{k}={v}" for k, v in sizes.items()) + ")"
        assert checks[f"correct on {label}"].startswith("3 fresh seeds"), checks
        assert checks[f"deterministic on {label}"] == "re-run bitwise identical"
    assert checks["inputs unchanged"] == "every input bit-identical after every launch"


@pytest.mark.anyio
@pytest.mark.parametrize("problem", PROBLEMS)
async def test_the_reference_solution_is_correct_on_the_emulator_through_the_mcp_tool(
    server: MCPServer, problem: str
) -> None:
    progress: list[str | None] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message)

    with anyio.fail_after(600):
        async with Client(server) as client:
            result = await client.call_tool(
                "benchmark_kernel", _tool_args(problem), progress_callback=on_progress
            )
    assert not result.is_error, result.content
    _assert_verified_on_every_emulator_shape(result.structured_content, problem)
    assert any(m and "on the CPU emulator" in m for m in progress)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_the_reference_solution_is_correct_on_the_emulator_through_the_cli(
    problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "--problem", problem, "--device", "emulator", "--json"]) == 0
    _assert_verified_on_every_emulator_shape(json.loads(capsys.readouterr().out), problem)


def test_the_cli_says_verified_on_the_cpu_emulator_and_exits_1_when_incorrect(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--problem", "gelu_tanh"]) == 0  # auto, no GPU: the emulator
    out = capsys.readouterr().out
    assert "verified on the CPU emulator" in out and "CORRECT (verified on the CPU emulator" in out
    wrong = HERE.parent / "bench" / "wrong_kernels" / "off_by_one.cu"
    assert main(["bench", str(wrong), "--problem", "gelu_tanh", "--grid", "ceil_div(n, 256)"]) == 1
    assert "FAIL correct on emulator (n=100003)" in capsys.readouterr().out


@pytest.mark.anyio
async def test_a_kernel_stopped_by_the_emulator_is_a_tool_error_and_the_server_keeps_serving(
    server: MCPServer,
) -> None:
    source = (HERE.parent / "bench" / "wrong_kernels" / "trap.cu").read_text()
    args = {"problem": "gelu_tanh", "source": source, "block": [256], "grid": ["ceil_div(n, 256)"]}
    with anyio.fail_after(300):
        async with Client(server) as client:
            stopped = await client.call_tool("benchmark_kernel", args)
            listing = await client.call_tool("list_problems", {})
    assert stopped.is_error
    text = stopped.content[0].text
    assert "the kernel executed trap" in text and "kernel line 5" in text and "Traceback" not in text
    assert not listing.is_error


@pytest.mark.anyio
async def test_list_problems_says_which_shapes_each_device_checks(server: MCPServer) -> None:
    async with Client(server) as client:
        listing = await client.call_tool("list_problems", {})
    problems = {p["name"]: p for p in listing.structured_content["problems"]}
    gelu = problems["gelu_tanh"]
    assert gelu["emulator_shapes"] == [{"n": 1}, {"n": 4103}, {"n": 100003}]
    assert set(gelu["device_shapes"]) == {"gpu", "cpu-emulator"}
    assert (
        "flux_mlp" in gelu["device_shapes"]["gpu"]
        and "3 emulator_shapes" in gelu["device_shapes"]["cpu-emulator"]
    )
    assert all(p["emulator_shapes"] for p in problems.values())
