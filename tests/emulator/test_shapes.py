"""Emulator shape sets: each bundled problem declares small shapes the CPU emulator checks; a user
problem may declare them (validated like SHAPES, and bounded in size) or get a derived default that
says so; and a user problem without EMULATOR_SHAPES is verified on the emulator on that default."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.bench.models import BenchRequest
from kernel_skills.bench.registry import import_problem_file, load_registry
from kernel_skills.bench.spec import EMULATOR_MAX_ELEMENTS
from kernel_skills.dispatch import benchmark
from kernel_skills.errors import ProblemError

from .conftest import needs_emulator

SAMPLE = Path(__file__).parents[1] / "bench" / "sample_problems" / "scale2.py"
SCALE2_KERNEL = """
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 2.0f * x[i];
}
"""


def _user_problem(tmp_path: Path, emulator_shapes: str | None) -> Path:
    text = SAMPLE.read_text(encoding="utf-8")
    if emulator_shapes is not None:
        text += f"\nEMULATOR_SHAPES = {emulator_shapes}\n"
    path = tmp_path / "scale2.py"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_bundled_problem_declares_small_emulator_shapes() -> None:
    registry = load_registry(use_env=False)
    for name in registry.names():
        problem = registry.get(name)
        assert problem.emulator_shapes and not problem.emulator_shapes_derived, name
        assert all(problem.largest_tensor(s) <= EMULATOR_MAX_ELEMENTS for s in problem.emulator_shapes)


def test_the_shapes_reach_partial_tiles_and_widths_off_the_vector_and_warp_multiples() -> None:
    registry = load_registry(use_env=False)
    assert any(s["seq_kv"] % 64 for s in registry.get("attention_hd128").emulator_shapes)  # masked key tile
    assert any(s["seq_q"] % 64 for s in registry.get("attention_hd64").emulator_shapes)
    assert any(s["head_dim"] % 8 for s in registry.get("rope").emulator_shapes)  # per-pair path
    assert any(s["dim"] % 64 for s in registry.get("rmsnorm").emulator_shapes)  # idle lanes
    assert any(s["n"] % 8 for s in registry.get("gelu_tanh").emulator_shapes)  # partial vector tail


def test_a_user_problem_without_emulator_shapes_gets_its_ragged_set_and_is_told(tmp_path: Path) -> None:
    problem = import_problem_file(_user_problem(tmp_path, None))
    assert problem.emulator_shapes == ({"n": 1001},) and problem.emulator_shapes_derived


def test_declared_emulator_shapes_are_used(tmp_path: Path) -> None:
    problem = import_problem_file(_user_problem(tmp_path, '[{"n": 7}, {"n": 300}]'))
    assert problem.emulator_shapes == ({"n": 7}, {"n": 300}) and not problem.emulator_shapes_derived


@pytest.mark.parametrize(
    ("declared", "fragment"),
    [
        ('[{"rows": 3}]', "expected shapes naming exactly the size variables ['n']; given ['rows']"),
        ('[{"n": 0}]', "expected size 'n' an int in 1..2147483647; given 0"),
        ('{"n": 3}', "EMULATOR_SHAPES: expected a list of 1 to 16 dicts"),
        ("[]", "EMULATOR_SHAPES: expected a list of 1 to 16 dicts of size -> int; given []"),
        (f'[{{"n": {EMULATOR_MAX_ELEMENTS + 1}}}]', "keep these small"),
    ],
)
def test_bad_emulator_shapes_are_refused_naming_the_module_and_the_fault(
    tmp_path: Path, declared: str, fragment: str
) -> None:
    with pytest.raises(ProblemError, match="problem module") as caught:
        import_problem_file(_user_problem(tmp_path, declared))
    assert fragment in str(caught.value) and caught.value.entry == "EMULATOR_SHAPES"


@needs_emulator
def test_a_user_problem_is_verified_on_its_derived_emulator_shapes(tmp_path: Path) -> None:
    registry = load_registry([_user_problem(tmp_path, None).parent], use_env=False)
    request = BenchRequest(
        problem="scale2", source=SCALE2_KERNEL, block=[128], grid=["ceil_div(n, 128)"], device="emulator"
    )
    result = benchmark(request, registry=registry, store=False, runtime=RUNTIME)
    assert result.correct and result.verified_on == "cpu-emulator", result.checks
    assert [c.name for c in result.checks if c.name.startswith("correct on")] == [
        "correct on emulator (n=1001)"
    ]
