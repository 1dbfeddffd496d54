"""On a GPU (marked ``gpu``): the i64, f64, i8, u8 and bool problems and a problem with parameters,
the same kernels and problem modules as tests/emulator/test_problem_dtypes.py, get the same verdicts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.bench import Timeouts
from kernel_skills.bench.models import BenchRequest, BenchResult
from kernel_skills.bench.registry import load_registry
from kernel_skills.bench.worker import WorkerPool
from kernel_skills.dispatch import benchmark
from kernel_skills.executors.local import LocalExecutor
from kernel_skills.runtime import Runtime

pytestmark = pytest.mark.gpu
EMULATOR_TESTS = Path(__file__).resolve().parents[1] / "emulator"
PROBLEMS = EMULATOR_TESTS / "problems"
KERNELS = EMULATOR_TESTS / "dtype_kernels"
CASES = {
    "argmax.cu": ("argmax_rows", [64], ["ceil_div(rows, 64)"], True),
    "argmax_int32_store.cu": ("argmax_rows", [64], ["ceil_div(rows, 64)"], False),
    "mixed_dtypes.cu": ("mixed_dtypes", [128], ["ceil_div(n, 128)"], True),
    "mixed_dtypes_wrong.cu": ("mixed_dtypes", [128], ["ceil_div(n, 128)"], False),
    "layernorm_affine.cu": ("layernorm_affine", [32], ["ceil_div(rows, 32)"], True),
    "layernorm_no_bias.cu": ("layernorm_affine", [32], ["ceil_div(rows, 32)"], False),
}


@pytest.fixture(scope="module")
def executor() -> Iterator[LocalExecutor]:
    shared = LocalExecutor(WorkerPool(), toolchain=RUNTIME.toolchain)
    yield shared
    shared.close()


@pytest.mark.parametrize("kernel", sorted(CASES))
def test_new_dtypes_and_parameters_get_the_emulators_verdict_on_a_gpu(
    executor: LocalExecutor, kernel: str
) -> None:
    problem, block, grid, correct = CASES[kernel]
    request = BenchRequest(
        source=(KERNELS / kernel).read_text(),
        problem=problem,
        kernel=problem,
        block=block,
        grid=grid,
        shapes=["ragged"],
        quick=True,
        device="gpu",
    )
    result: BenchResult = benchmark(
        request,
        registry=load_registry([PROBLEMS], use_env=False),
        runtime=Runtime(toolchain=RUNTIME.toolchain, executor=executor),
        timeouts=Timeouts(check=60, time=60),
    )
    assert result.verified_on != "cpu-emulator"
    assert result.correct is correct, [c for c in result.checks if not c.passed]
