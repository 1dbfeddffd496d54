"""KernelBench problems imported as they are (`problems import-kernelbench`), then judged on the CPU
emulator: for ten Level-1 problems a hand-written correct kernel is verified and a wrong one fails.
The problem files are ours, written in KernelBench's format (tests/bench/kernelbench/files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.bench import Timeouts
from kernel_skills.bench.models import BenchRequest
from kernel_skills.bench.registry import ProblemRegistry, load_registry
from kernel_skills.cli import main
from kernel_skills.dispatch import benchmark

from .conftest import needs_emulator

pytestmark = needs_emulator
KB = Path(__file__).resolve().parents[1] / "bench" / "kernelbench"
ELEMENTWISE = ([256], ["ceil_div(batch_size * dim, 256)"])
LAUNCH = {
    "kb_19_relu": ELEMENTWISE,
    "kb_21_sigmoid": ELEMENTWISE,
    "kb_25_swish": ELEMENTWISE,
    "kb_88_mingptnewgelu": ELEMENTWISE,
    "kb_23_softmax": ([32], ["ceil_div(batch_size, 32)"]),
    "kb_47_sum_reduction_over_a_dimension": ([64], ["ceil_div(batch_size * dim2, 64)"]),
    "kb_51_argmax_over_a_dimension": ([64], ["ceil_div(batch_size * dim2, 64)"]),
    "kb_40_layernorm": ([32], ["ceil_div(batch_size, 32)"]),
    "kb_36_rmsnorm": ([64], ["ceil_div(batch_size * dim1 * dim2, 64)"]),
    "kb_93_masked_cumsum": ([32], ["ceil_div(batch_size, 32)"]),
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> ProblemRegistry:
    out = tmp_path_factory.mktemp("kernelbench")
    files = sorted(str(p) for p in (KB / "files").glob("*.py"))
    assert main(["problems", "import-kernelbench", *files, "--out", str(out), "--json"]) == 4  # one refused
    return load_registry([out], use_env=False)


def test_the_imported_problems_load_with_kernelbench_sizes_as_the_device_shape(
    imported: ProblemRegistry,
) -> None:
    assert imported.invalid == []
    assert {n for n in imported.names() if n.startswith("kb_")} == set(LAUNCH)
    argmax = imported.get("kb_51_argmax_over_a_dimension")
    assert argmax.signature == "(const float* x, long long* out, int batch_size, int dim1, int dim2)"
    assert argmax.shapes == {"kernelbench": [{"batch_size": 128, "dim1": 4096, "dim2": 4095}]}
    layernorm = imported.get("kb_40_layernorm")
    assert [p.name for p in layernorm.params] == ["ln_weight", "ln_bias"]
    assert imported.get("kb_93_masked_cumsum").signature == (
        "(const float* x, const bool* mask, float* out, int batch_size)"
    )


@pytest.mark.parametrize("wrong", [False, True], ids=["correct", "wrong"])
@pytest.mark.parametrize("problem", sorted(LAUNCH))
def test_a_correct_kernel_passes_and_a_wrong_one_fails_on_an_imported_problem(
    imported: ProblemRegistry, problem: str, wrong: bool
) -> None:
    block, grid = LAUNCH[problem]
    source = (KB / "kernels" / f"{problem}{'_wrong' if wrong else ''}.cu").read_text()
    request = BenchRequest(
        source=source, problem=problem, kernel=problem, block=block, grid=grid, device="emulator"
    )
    result = benchmark(request, registry=imported, timeouts=Timeouts(check=20), runtime=RUNTIME)
    failed = {c.name: c.detail for c in result.checks if not c.passed}
    assert result.correct is not wrong, failed
    if wrong:
        assert any(name.startswith("correct on emulator") for name in failed), failed
