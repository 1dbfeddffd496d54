"""CPU tasks on a local Ray cluster with no GPU: compile jobs give the local executor's results (the real
NVRTC in each Ray worker's own confined compile worker), their cubins travel back, a hung task hits
its timeout, and a benchmark gets the same clear no-GPU error as locally."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from tests.emulator.conftest import needs_emulator
from tests.executors.conftest import Cluster, start_cluster
from tests.shared_runtime import RUNTIME

from kernel_skills.bench.models import BenchRequest
from kernel_skills.errors import DeviceUnavailable
from kernel_skills.executors import compile_many
from kernel_skills.executors.local import LocalExecutor
from kernel_skills.executors.models import CpuTask, ErrorInfo
from kernel_skills.executors.ray_executor import RayExecutor
from kernel_skills.executors.tasks import TEST_TASKS_ENV
from kernel_skills.runtime import Runtime
from kernel_skills.toolchain import CompileRequest, CompileResult, load_cubin

# A real Ray cluster per module: run with the slow tests (serially), not in `make test`.
pytestmark = pytest.mark.slow

KERNELS = Path(__file__).resolve().parent.parent / "toolchain" / "kernels"
TIMING_FIELDS = {"cached", "compile_ms", "total_ms"}
# A kernel that passes every check made before the device check (compile, ABI, launch limits).
GOOD_GELU = (Path(__file__).resolve().parent.parent / "bench" / "good_kernels" / "gelu_tanh.cu").read_text()


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    yield from start_cluster(request, num_gpus=0)


@pytest.fixture(scope="module")
def remote_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("remote-cache")


@pytest.fixture(scope="module")
def executor(cluster: Cluster, remote_cache: Path) -> Iterator[RayExecutor]:
    """The Ray workers keep their compile cache apart from this process's: nothing shared on disk."""
    pool = RayExecutor(worker_env={"KERNEL_SKILLS_CACHE_DIR": str(remote_cache), TEST_TASKS_ENV: "1"})
    yield pool
    pool.close()


def _requests() -> list[CompileRequest]:
    return [
        CompileRequest(source=(KERNELS / "float4_scale.cu").read_text(), block_size=256),
        CompileRequest(source=(KERNELS / "syntax_error.cu").read_text()),
        CompileRequest(source=(KERNELS / "pressure.cu").read_text(), options=["-maxrregcount=64"]),
        CompileRequest(source='#include "/etc/passwd"\n__global__ void k() {}'),
    ]


def _comparable(answer: CompileResult | ErrorInfo) -> dict:
    if isinstance(answer, ErrorInfo):
        return answer.model_dump()
    return answer.model_dump(exclude=TIMING_FIELDS)


def test_compile_jobs_through_ray_give_the_same_results_as_the_local_executor(
    executor: RayExecutor,
) -> None:
    remote = compile_many(_requests(), executor=executor)
    local = compile_many(_requests(), executor=LocalExecutor(toolchain=RUNTIME.toolchain))
    assert [_comparable(a) for a in remote] == [_comparable(a) for a in local]
    ok, failed, pressured, refused = remote
    assert isinstance(ok, CompileResult) and ok.ok and ok.kernels and ok.sass is not None
    assert isinstance(failed, CompileResult) and not failed.ok and failed.diagnostics
    assert isinstance(pressured, CompileResult) and pressured.ok
    assert (
        isinstance(refused, ErrorInfo) and refused.type == "RefusedInput" and "/etc/passwd" in refused.message
    )


def test_a_cubin_compiled_on_the_cluster_travels_back_and_its_compile_id_works_here(
    executor: RayExecutor, remote_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "local-cache"))  # starts empty
    source = (KERNELS / "float4_scale.cu").read_text().replace("scale", "scale_travel")
    (result,) = compile_many([CompileRequest(source=source)], executor=executor)
    assert isinstance(result, CompileResult) and result.ok and result.compile_id
    cubin = load_cubin(result.compile_id)  # from this machine's cache
    remote_copy = next(remote_cache.rglob(f"{result.compile_id}/kernel.cubin"))
    assert cubin == remote_copy.read_bytes()


def test_cpu_tasks_run_in_parallel_on_the_cluster(executor: RayExecutor) -> None:
    outcomes = executor.run_cpu([CpuTask(kind="sleep", payload={"seconds": 1}) for _ in range(2)])
    assert all(o.ok for o in outcomes)
    assert len({o.result["pid"] for o in outcomes if o.result}) == 2  # two Ray workers, at once


def test_a_hung_cpu_task_hits_its_timeout_and_the_next_task_runs(executor: RayExecutor) -> None:
    (hung,) = executor.run_cpu([CpuTask(kind="sleep", payload={"seconds": 600})], timeout_s=2)
    assert not hung.ok and hung.error is not None and hung.error.type == "Timeout"
    assert "did not finish within 2 s" in hung.error.message
    (after,) = executor.run_cpu([CpuTask(kind="sleep", payload={"seconds": 0})], timeout_s=60)
    assert after.ok


def test_an_unknown_task_is_refused_the_same_way_on_both_executors(executor: RayExecutor) -> None:
    remote = executor.run_cpu([CpuTask(kind="os.system", payload={"command": "true"})])
    local = LocalExecutor(toolchain=RUNTIME.toolchain).run_cpu(
        [CpuTask(kind="os.system", payload={"command": "true"})]
    )
    assert [o.error for o in remote] == [o.error for o in local]
    assert remote[0].error is not None and remote[0].error.type == "RefusedInput"
    assert "unknown CPU task 'os.system'" in remote[0].error.message


def test_without_a_gpu_on_the_cluster_a_benchmark_gets_the_same_clear_error_as_locally(
    executor: RayExecutor, capsys: pytest.CaptureFixture[str]
) -> None:
    from kernel_skills.cli import main
    from kernel_skills.dispatch import benchmark

    request = BenchRequest(problem="gelu_tanh", source=GOOD_GELU, grid=["ceil_div(n, 256)"], device="gpu")
    with pytest.raises(DeviceUnavailable, match=r"^no CUDA device: the local Ray cluster has no GPU"):
        benchmark(request, runtime=Runtime(toolchain=RUNTIME.toolchain, executor=executor))
    with pytest.raises(DeviceUnavailable, match=r"^no CUDA device: "):
        benchmark(
            request,
            runtime=Runtime(toolchain=RUNTIME.toolchain, executor=LocalExecutor(toolchain=RUNTIME.toolchain)),
        )
    assert main(["bench", "--problem", "gelu_tanh", "--executor", "ray", "--device", "gpu", "--json"]) == 3
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["type"] == "DeviceUnavailable" and "has no GPU" in error["message"]


@pytest.mark.anyio
async def test_the_mcp_benchmark_tool_on_the_ray_executor_knows_nothing_of_it(executor: RayExecutor) -> None:
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    from kernel_skills.surface import bench_tools

    # what `serve --executor ray` does; this process is already connected
    runtime = Runtime.create("ray")

    @asynccontextmanager
    async def lifespan(server: MCPServer) -> AsyncIterator[SimpleNamespace]:
        with runtime:
            yield SimpleNamespace(runtime=runtime)  # what surface.lifespan.runtime_of reads

    server = MCPServer(name="bench-on-ray", lifespan=lifespan)
    bench_tools.register(server)
    seen: list[str | None] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    async with Client(server) as client:
        result = await client.call_tool(
            "benchmark_kernel",
            {
                "problem": "gelu_tanh",
                "source": GOOD_GELU,
                "block": [256],
                "grid": ["ceil_div(n, 256)"],
                "device": "gpu",
            },
            progress_callback=on_progress,
        )
        listing = await client.call_tool("list_problems", {})
    assert result.is_error
    assert "no GPU: no CUDA device: the local Ray cluster has no GPU" in result.content[0].text
    assert seen[:2] == ["compiling for sm_90a", "looking for a CUDA device"]  # judged before the device
    assert not listing.is_error


@pytest.mark.anyio
async def test_a_stdio_server_joining_the_cluster_by_address_serves_and_reports_no_gpu(
    cluster: Cluster, tmp_path: Path
) -> None:
    import os
    import sys

    import anyio
    from mcp import Client, StdioServerParameters

    address = cluster.ray.get_runtime_context().gcs_address
    args = ["-m", "kernel_skills.cli", "serve", "--transport", "stdio", "--no-bundled"]
    args += ["--skills-dir", str(tmp_path), "--executor", "ray", "--ray-address", address]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    params = StdioServerParameters(command=sys.executable, args=args, env=env)
    with anyio.fail_after(120):
        async with Client(params, cache=None) as client:
            result = await client.call_tool(
                "benchmark_kernel",
                {
                    "problem": "gelu_tanh",
                    "source": GOOD_GELU,
                    "block": [256],
                    "grid": ["ceil_div(n, 256)"],
                    "device": "gpu",
                },
            )
            listing = await client.call_tool("list_problems", {})
    assert result.is_error
    assert f"no CUDA device: the Ray cluster at {address} has no GPU" in result.content[0].text
    assert not listing.is_error


def _verdict(result: object) -> object:
    from kernel_skills.bench.models import BenchResult

    if not isinstance(result, BenchResult):
        return result
    return (result.verified_on, result.ok, result.correct, [(c.name, c.passed) for c in result.checks])


@needs_emulator
def test_emulator_jobs_through_ray_give_the_local_executors_verdicts_and_land_here(
    executor: RayExecutor,
) -> None:
    from kernel_skills.bench import results_db
    from kernel_skills.executors import emulate_many

    bench = Path(__file__).resolve().parent.parent / "bench"
    gelu = {"problem": "gelu_tanh", "kernel": "gelu_tanh", "block": [256], "grid": ["ceil_div(n, 256)"]}
    requests = [
        BenchRequest(source=(bench / folder / "gelu_tanh.cu").read_text(), **gelu)
        if folder == "good_kernels"
        else BenchRequest(source=(bench / folder / "off_by_one.cu").read_text(), **gelu)
        for folder in ("good_kernels", "wrong_kernels")
    ]
    remote = emulate_many(requests, executor=executor)
    local = emulate_many(requests, executor=LocalExecutor(toolchain=RUNTIME.toolchain), store=False)
    assert [_verdict(r) for r in remote] == [_verdict(r) for r in local]
    good, wrong = remote
    assert not isinstance(good, ErrorInfo) and good.ok and good.verified_on == "cpu-emulator"
    assert not isinstance(wrong, ErrorInfo) and not wrong.correct
    stored = {r.id for r in results_db.list_results("gelu_tanh").results}
    assert good.result_id in stored and wrong.result_id in stored  # this machine's database


@needs_emulator
def test_without_a_gpu_on_the_cluster_device_auto_gets_the_emulator_verdict_from_the_cluster(
    executor: RayExecutor,
) -> None:
    from kernel_skills.dispatch import benchmark

    bench = Path(__file__).resolve().parent.parent / "bench"
    request = BenchRequest(
        source=(bench / "good_kernels" / "gelu_tanh.cu").read_text(),
        problem="gelu_tanh",
        kernel="gelu_tanh",
        grid=["ceil_div(n, 256)"],
    )
    seen: list[str] = []
    result = benchmark(
        request,
        runtime=Runtime(toolchain=RUNTIME.toolchain, executor=executor),
        progress=lambda d, t, m: seen.append(m),
    )
    assert result.ok and result.verified_on == "cpu-emulator" and result.result_id is not None
    assert seen[0] == "verifying on the CPU emulator on the local Ray cluster"
