"""On a GPU (marked ``gpu``; skipped with the reason elsewhere): correct kernels pass, wrong ones
(tests/bench/wrong_kernels/) are rejected the right way, crashes and hangs are contained and the
next job succeeds, and our timing agrees with triton's do_bench."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME, runtime_lifespan

from kernel_skills.bench import Timeouts
from kernel_skills.bench.models import BenchRequest, BenchResult
from kernel_skills.bench.solutions import load_solutions
from kernel_skills.bench.worker import WorkerPool
from kernel_skills.dispatch import benchmark
from kernel_skills.errors import KernelFault, Timeout
from kernel_skills.executors.local import LocalExecutor
from kernel_skills.runtime import Runtime

pytestmark = pytest.mark.gpu
HERE = Path(__file__).parent
GELU = {"problem": "gelu_tanh", "kernel": "gelu_tanh", "block": [256], "grid": ["ceil_div(n, 256)"]}


@pytest.fixture(scope="module")
def executor() -> Iterator[LocalExecutor]:
    shared = LocalExecutor(WorkerPool(), toolchain=RUNTIME.toolchain)
    yield shared
    shared.close()


def _run(executor: LocalExecutor, path: Path, **extra) -> BenchResult:
    request = BenchRequest(source=path.read_text(), shapes=["ragged"], quick=True, **{**GELU, **extra})
    return benchmark(
        request,
        runtime=Runtime(toolchain=RUNTIME.toolchain, executor=executor),
        timeouts=Timeouts(check=60, time=60),
    )


def _good(executor: LocalExecutor) -> BenchResult:
    return _run(executor, HERE / "good_kernels" / "gelu_tanh.cu")


def _check(result: BenchResult, prefix: str):
    return next(c for c in result.checks if c.name.startswith(prefix))


def test_a_correct_kernel_passes_with_time_speedup_and_roofline(executor: LocalExecutor) -> None:
    seen: list[tuple[float, float, str]] = []
    request = BenchRequest(
        source=(HERE / "good_kernels" / "gelu_tanh.cu").read_text(), shapes=["ragged"], quick=True, **GELU
    )
    result = benchmark(
        request,
        runtime=Runtime(toolchain=RUNTIME.toolchain, executor=executor),
        progress=lambda d, t, m: seen.append((d, t, m)),
    )
    assert result.correct and result.ok, [c for c in result.checks if not c.passed]
    assert result.time_us is not None and result.time_us.n >= 10 and result.time_us.median > 0
    assert result.baseline_us["torch_eager"].median > 0
    assert result.speedup["torch_eager"] == pytest.approx(
        result.baseline_us["torch_eager"].median / result.time_us.median
    )
    assert result.roofline is not None and result.roofline.bound == "memory"
    assert 0 < result.roofline.fraction_of_peak <= 1.2
    assert result.achieved is not None and result.achieved.gbps > 0
    assert result.device is not None and "NVIDIA" in result.device.name
    assert (
        result.provenance.torch
        and result.provenance.cupy
        and len(result.provenance.source_sha256 or "") == 64
    )
    assert result.result_id is not None
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    assert seen[-1][0] == seen[-1][1]


def test_off_by_one_fails_and_names_the_last_index(executor: LocalExecutor) -> None:
    result = _run(executor, HERE / "wrong_kernels" / "off_by_one.cu")
    assert not result.correct and not result.ok
    check = _check(result, "correct on ragged")
    assert not check.passed
    assert "1 of 1,000,003 elements" in check.detail and "(1000002)" in check.detail
    assert result.time_us is None


@pytest.mark.parametrize(
    ("name", "error", "fragment"),
    [
        ("oob_write.cu", KernelFault, "faulted"),
        ("trap.cu", KernelFault, "faulted"),
        ("infinite_loop.cu", Timeout, "did not finish"),
    ],
)
def test_crashing_and_hanging_kernels_are_contained_and_the_next_job_succeeds(
    executor: LocalExecutor, name: str, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=fragment):
        request = BenchRequest(
            source=(HERE / "wrong_kernels" / name).read_text(), shapes=["ragged"], quick=True, **GELU
        )
        benchmark(
            request,
            runtime=Runtime(toolchain=RUNTIME.toolchain, executor=executor),
            timeouts=Timeouts(check=20, time=20),
        )
    assert _good(executor).ok


def test_a_kernel_that_mutates_its_input_fails(executor: LocalExecutor) -> None:
    result = _run(executor, HERE / "wrong_kernels" / "mutate_input.cu")
    check = _check(result, "inputs unchanged")
    assert not result.correct and not check.passed
    assert "input 'x'" in check.detail and "elements changed" in check.detail


def test_a_write_one_past_the_end_is_caught_by_the_guard_bytes(executor: LocalExecutor) -> None:
    result = _run(executor, HERE / "wrong_kernels" / "one_past_the_end.cu")
    check = _check(result, "writes in bounds")
    assert not result.correct and not check.passed
    assert "output 'out'" in check.detail and "0 bytes past its end" in check.detail
    assert _check(result, "correct on ragged").passed  # every value is right: only the guard sees it


def test_a_cubin_for_another_arch_is_refused_on_the_worker_and_the_worker_is_kept(
    executor: LocalExecutor,
) -> None:
    import base64

    from kernel_skills.bench.registry import load_registry
    from kernel_skills.errors import RefusedInput
    from kernel_skills.toolchain import CompileRequest, compile_source, load_cubin

    compiled = compile_source(
        CompileRequest(source=(HERE / "good_kernels" / "gelu_tanh.cu").read_text(), arch="sm_100a"),
        toolchain=RUNTIME.toolchain,
    )
    assert compiled.compile_id is not None
    problem = load_registry().get("gelu_tanh")
    job = {
        "kind": "check",
        "problem": problem.name,
        "problem_path": problem.module_path,
        "sizes": {"n": 1000},
        "cubin_b64": base64.b64encode(load_cubin(compiled.compile_id)).decode(),
        "kernel": "gelu_tanh",
        "launch": {"grid": [4, 1, 1], "block": [256, 1, 1], "shared_mem": 0},
        "seeds": [1, 2, 3],
    }
    with executor.lease() as worker:
        worker.request({"kind": "hello"}, timeout_s=180)
        before = (worker.pid, worker.restarts)
        with pytest.raises(RefusedInput, match="sm_90"):
            worker.request(job, timeout_s=60)
        assert (worker.pid, worker.restarts) == before
    assert _good(executor).ok


def test_a_kernel_that_writes_nothing_fails(executor: LocalExecutor) -> None:
    result = _run(executor, HERE / "wrong_kernels" / "output_untouched.cu")
    assert not result.correct
    assert "every one of 1,000,003 elements is NaN" in _check(result, "correct on ragged").detail


def test_a_kernel_caching_results_by_pointer_fails_on_new_data_at_the_same_pointers(
    executor: LocalExecutor,
) -> None:
    result = _run(executor, HERE / "wrong_kernels" / "result_cache.cu")
    check = _check(result, "correct on ragged")
    assert not result.correct and not check.passed
    assert "new data, same pointers" in check.detail


@pytest.mark.parametrize("problem", sorted(load_solutions()))
def test_the_bundled_reference_solutions_are_correct_on_ragged_shapes(
    executor: LocalExecutor, problem: str
) -> None:
    from kernel_skills.bench.solutions import solution_request_fields

    request = BenchRequest(
        **solution_request_fields(problem),
        shapes=["ragged"],
        quick=True,
    )
    result = benchmark(request, runtime=Runtime(toolchain=RUNTIME.toolchain, executor=executor))
    assert result.correct, [c for c in result.checks if not c.passed]


def test_our_timing_of_a_torch_op_agrees_with_triton_do_bench() -> None:
    import torch

    from kernel_skills.bench.timing import time_gpu

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # third-party API churn is not under test
        import triton.testing

    n = 1 << 26
    a = torch.randn(n, device="cuda")
    b = torch.randn(n, device="cuda")
    c = torch.empty_like(a)
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    flush = torch.empty(2 * l2, dtype=torch.uint8, device="cuda")
    stream = torch.cuda.Stream()
    ours = time_gpu(lambda i: torch.add(a, b, out=c), stream=stream, flush=flush).median
    with torch.cuda.stream(stream), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # third-party API churn is not under test
        theirs = triton.testing.do_bench(lambda: torch.add(a, b, out=c), return_mode="median") * 1e3
    assert ours == pytest.approx(theirs, rel=0.03)


def test_calibration_measures_plausible_h100_class_peaks(executor: LocalExecutor) -> None:
    from kernel_skills.dispatch import calibrate

    result = calibrate(executor=executor)
    assert 500 < result.peaks.copy_gbps < 6000
    assert 50 < result.peaks.bf16_tflops < 2500


@pytest.mark.anyio
async def test_the_mcp_tool_reports_progress_and_returns_the_verdict() -> None:
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    from kernel_skills.surface import bench_tools

    server = MCPServer(name="bench-gpu-test", lifespan=runtime_lifespan)
    bench_tools.register(server)
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with Client(server) as client:
        result = await client.call_tool(
            "benchmark_kernel",
            {"source": (HERE / "good_kernels" / "gelu_tanh.cu").read_text(), "shapes": ["ragged"], **GELU},
            progress_callback=on_progress,
        )
    assert not result.is_error, result.content
    assert result.structured_content["correct"] is True
    assert len(seen) >= 4 and seen == sorted(seen)


def test_counters_beside_the_measured_time_record_the_estimates_error(executor: LocalExecutor) -> None:
    """`bench --counters`: the emulator's counters and estimate of the same kernel beside the GPU's
    median; the error lands in the results DB, where `calibrate --estimate` refits the model."""
    from kernel_skills.bench import results_db

    result = _run(executor, HERE / "good_kernels" / "gelu_tanh.cu", counters=True)
    assert result.ok and result.time_us is not None and result.counters is not None
    e = result.estimate
    assert e is not None and e.measured_us == result.time_us.median and e.error is not None
    [row] = [r for r in results_db.list_results("gelu_tanh").results if r.id == result.result_id]
    assert row.estimate_us == e.time_us and row.estimate_error == pytest.approx(e.error)
    assert (e.throughput_us, result.time_us.median) in results_db.estimate_pairs()
