"""The surfaces without a GPU: `kernel-skills problems|bench|calibrate` and the MCP tools on an
in-memory client. Benchmarking with device "gpu" says DeviceUnavailable (exit 3 / a tool error), never
a traceback; everything else keeps working (device "auto" uses the CPU emulator: tests/emulator)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from tests.shared_runtime import runtime_lifespan

from kernel_skills.bench import results_db
from kernel_skills.bench.device import FORCE_NO_DEVICE_ENV
from kernel_skills.cli import main
from kernel_skills.commands.bench import split_top_level
from kernel_skills.surface import bench_tools

from .test_results_db import _result

KERNELS = Path(__file__).parent / "good_kernels"


@pytest.fixture(autouse=True)
def _no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Force the no-device answer so these tests mean the same on a GPU machine."""
    monkeypatch.setenv(FORCE_NO_DEVICE_ENV, "1")


def test_problems_lists_every_problem_with_its_signature(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["problems", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    by_name = {p["name"]: p for p in listing["problems"]}
    assert by_name["rmsnorm"]["signature"] == (
        'extern "C" __global__ void KERNEL(const __nv_bfloat16* x, const __nv_bfloat16* weight, '
        "__nv_bfloat16* out, int rows, int dim, float eps)"
    )
    assert by_name["gelu_tanh"]["timed_shape_sets"] == ["flux_mlp", "ltx_mlp"]
    assert "ceil_div" in listing["expression_syntax"]


def test_problems_with_a_broken_problems_dir_module_exits_4(tmp_path: Path, capsys) -> None:
    (tmp_path / "bad.py").write_text("NAME = 'bad'\n", encoding="utf-8")
    assert main(["problems", "--problems-dir", str(tmp_path)]) == 4
    captured = capsys.readouterr()
    assert "rmsnorm" in captured.out
    assert (
        f"invalid: problem module {tmp_path / 'bad.py'}: ABI, SHAPES, make_inputs, reference:" in captured.err
    )
    assert captured.err.count("problem module") == 1  # the prefix is not repeated
    assert "missing" in captured.err


def test_bench_on_the_gpu_without_one_exits_3_naming_the_missing_device(capsys) -> None:
    assert main(["bench", "--problem", "rmsnorm", "--device", "gpu"]) == 3
    captured = capsys.readouterr()
    assert "error (DeviceUnavailable): no CUDA device" in captured.err
    assert "Traceback" not in captured.err


def test_bench_json_on_the_gpu_without_one_prints_one_json_error_document(capsys) -> None:
    assert (
        main(
            [
                "bench",
                str(KERNELS / "gelu_tanh.cu"),
                "--problem",
                "gelu_tanh",
                "--grid",
                "ceil_div(n, 256)",
                "--device",
                "gpu",
                "--json",
            ]
        )
        == 3
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"ok": False, "error": {"type": "DeviceUnavailable", "message": doc["error"]["message"]}}
    assert "no CUDA device" in doc["error"]["message"]


def test_calibrate_without_a_gpu_exits_3(capsys) -> None:
    assert main(["calibrate"]) == 3
    assert "no CUDA device" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["bench", "--problem", "nope"], "no reference solution for problem 'nope'"),
        (["bench", "FILE", "--problem", "gelu_tanh"], "--grid is required with FILE"),
        (["bench", "FILE", "--problem", "gelu_tanh", "--grid", "n.__class__"], "unexpected character '.'"),
        (["bench", "FILE", "--problem", "gelu_tanh", "--grid", "rows"], "unknown name 'rows'"),
        (["bench", "FILE", "--problem", "gelu_tanh", "--grid", "n", "--block", "4096"], "must be in 1..1024"),
        (["bench", "FILE", "--problem", "gelu_tanh", "--grid", "n", "--shapes", "huge"], "unknown shape set"),
        (["bench", "missing.cu", "--problem", "gelu_tanh", "--grid", "n"], "cannot read missing.cu"),
    ],
)
def test_bad_bench_input_exits_2_before_looking_for_a_gpu(argv: list[str], fragment: str, capsys) -> None:
    argv = [str(KERNELS / "gelu_tanh.cu") if a == "FILE" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error (RefusedInput)" in err and fragment in err


def test_grid_flags_split_only_at_top_level_commas() -> None:
    assert split_top_level("ceil_div(rows, 16),1, batch * heads") == [
        "ceil_div(rows, 16)",
        "1",
        "batch * heads",
    ]
    assert split_top_level("n") == ["n"]


@pytest.fixture
def server() -> MCPServer:
    built = MCPServer(name="bench-test", lifespan=runtime_lifespan)
    bench_tools.register(built)
    return built


@pytest.mark.anyio
async def test_mcp_tools_are_listed_with_schemas(server: MCPServer) -> None:
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"list_problems", "benchmark_kernel", "list_results"}
    props = tools["benchmark_kernel"].input_schema["properties"]
    assert {
        "problem",
        "source",
        "compile_id",
        "kernel",
        "block",
        "grid",
        "shared_mem",
        "shapes",
        "baseline",
        "device",
    } <= set(props)
    assert "ctx" not in props
    assert set(tools["benchmark_kernel"].input_schema["required"]) == {"problem", "block", "grid"}
    assert tools["list_problems"].annotations.read_only_hint is True
    assert "time_us" in tools["benchmark_kernel"].output_schema["properties"]


@pytest.mark.anyio
async def test_mcp_benchmark_on_the_gpu_without_one_is_a_tool_error_naming_the_device(
    server: MCPServer,
) -> None:
    source = (KERNELS / "gelu_tanh.cu").read_text()
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async with Client(server) as client:
        result = await client.call_tool(
            "benchmark_kernel",
            {
                "problem": "gelu_tanh",
                "source": source,
                "kernel": "gelu_tanh",
                "block": [256],
                "grid": ["ceil_div(n, 256)"],
                "device": "gpu",
            },
            progress_callback=on_progress,
        )
        listing = await client.call_tool("list_problems", {})
    assert result.is_error
    text = result.content[0].text
    assert "no GPU" in text and "no CUDA device" in text and "Traceback" not in text
    messages = [message for _, _, message in progress]  # forwarded from the worker thread
    assert progress[0][0] == 0 and messages[:2] == ["compiling for sm_90a", "looking for a CUDA device"]
    assert not listing.is_error  # the server keeps serving
    assert len(listing.structured_content["problems"]) == 8


@pytest.mark.anyio
async def test_mcp_bad_input_is_refused_with_what_is_accepted(server: MCPServer) -> None:
    async with Client(server) as client:
        bad_grid = await client.call_tool(
            "benchmark_kernel",
            {"problem": "gelu_tanh", "source": "x", "block": [256], "grid": ["lambda + 1"]},
        )
        both = await client.call_tool(
            "benchmark_kernel",
            {"problem": "gelu_tanh", "source": "x", "compile_id": "0" * 32, "block": [256], "grid": ["n"]},
        )
        baseline = await client.call_tool(
            "benchmark_kernel",
            {"problem": "gelu_tanh", "source": "x", "block": [256], "grid": ["n"], "baseline": ["numpy"]},
        )
    assert bad_grid.is_error and "unknown name 'lambda'" in bad_grid.content[0].text
    assert "Accepted:" in bad_grid.content[0].text
    assert both.is_error and "exactly one of source" in both.content[0].text
    assert baseline.is_error and "torch_eager" in baseline.content[0].text


@pytest.mark.anyio
async def test_mcp_list_results_shows_stored_attempts(server: MCPServer) -> None:
    stored = results_db.store(_result(correct=True, median=12.5, sha="e" * 64))
    async with Client(server) as client:
        result = await client.call_tool("list_results", {"problem": "rmsnorm"})
        unknown = await client.call_tool("list_results", {"problem": "nope"})
    assert not result.is_error
    rows = result.structured_content["results"]
    assert rows[0]["id"] == stored and rows[0]["time_us_median"] == 12.5
    assert unknown.is_error and "unknown problem 'nope'" in unknown.content[0].text


def test_the_kernels_benchmark_section_skips_with_the_reason_without_a_gpu(capsys) -> None:
    import argparse

    from perf import kernels

    outcome = kernels.run(argparse.Namespace(quick=True, json_out=None))
    assert "no CUDA device" in outcome["skipped"]
    assert "skipped: no CUDA device" in capsys.readouterr().out


def _timed_result():
    """A result as the runner builds it for one timed shape set (figures made up, math real)."""
    from kernel_skills.bench import roofline
    from kernel_skills.bench.models import ShapeTiming
    from kernel_skills.bench.stats import summarize

    result = _result(correct=True, median=20.0, sha="f" * 64)
    peaks = roofline.Peaks(copy_gbps=3000.0, bf16_tflops=800.0)
    result.timings = [
        ShapeTiming(
            shape_set="flux_qk",
            sizes={"rows": 221184, "dim": 128},
            time_us=summarize([20.0, 20.0]),
            baseline_us={"torch_eager": summarize([50.0, 50.0])},
            speedup={"torch_eager": 2.5},
            achieved=roofline.achieved(56_623_616, 10**8, 20.0),
            roofline=roofline.assess(56_623_616, 10**8, 20.0, peaks),
            bytes_moved=56_623_616,
            flops=10**8,
        )
    ]
    return result


def test_the_kernels_benchmark_table_row() -> None:
    from perf.kernels import timing_row

    result = _timed_result()
    line, row = timing_row("rmsnorm", result, result.timings[0])
    assert line.split() == ["rmsnorm", "flux_qk", "20.00", "50.00", "2.50x", "2831", "94%", "94%", "ok"]
    assert row["speedup_torch_eager"] == 2.5 and row["fraction_of_copy_bandwidth"] == pytest.approx(
        0.9437, abs=1e-4
    )
    assert json.loads(json.dumps(row))["roofline"]["bound"] == "memory"


def test_the_human_bench_report_shows_checks_timings_and_the_verdict() -> None:
    from kernel_skills.commands.bench import render_result

    result = _timed_result()
    text = render_result(result)
    assert "PASS correct on ragged" in text
    assert "flux_qk (rows=221184, dim=128): median 20.00 us" in text
    assert "torch_eager: median 50.00 us -> speedup 2.50x" in text
    assert "memory-bound floor 18.87 us -> 94% of the measured peak" in text
    assert text.endswith("verdict: OK")
