"""The issue 19 idiom battery on a GPU (marked ``gpu``; skipped with the reason elsewhere): the same
table as test_battery.py, so a lent H100 confirms that the verdicts expected of the emulator are the
hardware's. Cases whose finding a GPU cannot be relied on to show (undefined behaviour that often
works, reads just past an end) are skipped with that reason."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.bench import Timeouts
from kernel_skills.bench.models import BenchRequest
from kernel_skills.bench.registry import load_registry
from kernel_skills.bench.worker import WorkerPool
from kernel_skills.dispatch import benchmark
from kernel_skills.executors.local import LocalExecutor
from kernel_skills.runtime import Runtime

from .battery.cases import CASES, PROBLEMS_DIR, Case
from .battery.verdicts import assert_verdict

pytestmark = pytest.mark.gpu
REGISTRY = load_registry([PROBLEMS_DIR], use_env=False)


@pytest.fixture(scope="module")
def executor() -> Iterator[LocalExecutor]:
    shared = LocalExecutor(WorkerPool(), toolchain=RUNTIME.toolchain)
    yield shared
    shared.close()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_battery_kernel_gets_the_same_verdict_on_an_h100(executor: LocalExecutor, case: Case) -> None:
    if case.on_gpu is not None:
        pytest.skip(f"{case.file}: {case.on_gpu}")
    request = BenchRequest(**case.fields(), device="gpu", shapes=["ragged"], quick=True)
    assert_verdict(
        case,
        lambda: benchmark(
            request,
            registry=REGISTRY,
            runtime=Runtime(toolchain=RUNTIME.toolchain, executor=executor),
            store=False,
            timeouts=Timeouts(check=30, time=60),
        ),
        where="GPU",
    )
