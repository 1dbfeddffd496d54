"""On a GPU (marked ``gpu``; skipped with the reason elsewhere): benchmarks through the Ray executor on a
local cluster that owns the machine's GPUs give the local executor's verdicts; a faulting or hanging
kernel gets its actor replaced and the next submission succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.executors.conftest import Cluster, start_cluster
from tests.shared_runtime import RUNTIME

from kernel_skills.bench import Timeouts
from kernel_skills.bench.models import BenchRequest, BenchResult
from kernel_skills.dispatch import benchmark
from kernel_skills.errors import KernelFault, Timeout
from kernel_skills.executors.local import LocalExecutor
from kernel_skills.executors.ray_executor import RayExecutor
from kernel_skills.runtime import Runtime

pytestmark = pytest.mark.gpu
BENCH = Path(__file__).resolve().parent.parent / "bench"
GELU = {"problem": "gelu_tanh", "kernel": "gelu_tanh", "block": [256], "grid": ["ceil_div(n, 256)"]}


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    yield from start_cluster(request, num_gpus=None)


@pytest.fixture(scope="module")
def executor(cluster: Cluster) -> Iterator[RayExecutor]:
    pool = RayExecutor()
    yield pool
    pool.close()


def _run(executor, folder: str, name: str, **limits: float) -> BenchResult:
    request = BenchRequest(source=(BENCH / folder / name).read_text(), shapes=["ragged"], quick=True, **GELU)
    return benchmark(
        request,
        runtime=Runtime(toolchain=RUNTIME.toolchain, executor=executor),
        timeouts=Timeouts(**limits) if limits else None,
    )


def test_a_correct_kernel_gets_the_same_verdict_on_ray_as_locally(executor: RayExecutor) -> None:
    remote = _run(executor, "good_kernels", "gelu_tanh.cu")
    local = _run(LocalExecutor(toolchain=RUNTIME.toolchain), "good_kernels", "gelu_tanh.cu")
    assert remote.ok and local.ok
    assert [(c.name, c.passed) for c in remote.checks] == [(c.name, c.passed) for c in local.checks]
    assert remote.device is not None and local.device is not None and remote.device.name == local.device.name
    assert remote.result_id is not None  # stored in this machine's results database


def test_a_wrong_kernel_is_rejected_on_ray_as_locally(executor: RayExecutor) -> None:
    remote = _run(executor, "wrong_kernels", "off_by_one.cu")
    assert not remote.correct
    assert not next(c for c in remote.checks if c.name.startswith("correct on ragged")).passed


@pytest.mark.parametrize(
    ("name", "error", "fragment"),
    [("oob_write.cu", KernelFault, "faulted"), ("infinite_loop.cu", Timeout, "did not finish")],
)
def test_a_faulting_or_hanging_kernel_replaces_the_actor_and_the_next_submission_succeeds(
    executor: RayExecutor, name: str, error: type[Exception], fragment: str
) -> None:
    restarts = executor.status().restarts
    with pytest.raises(error, match=fragment):
        _run(executor, "wrong_kernels", name, check=20, time=20)
    assert executor.status().restarts == restarts + 1
    assert _run(executor, "good_kernels", "gelu_tanh.cu").ok
