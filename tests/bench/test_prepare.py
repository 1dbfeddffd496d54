"""Everything before the GPU, with the real NVRTC: the bundled solutions match their ABIs, a wrong
signature is refused with the sizes, a compile error is a normal failed result."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.bench import Prepared, plan, prepare
from kernel_skills.bench.models import BenchRequest, BenchResult
from kernel_skills.bench.solutions import load_solutions, solution_request_fields
from kernel_skills.errors import RefusedInput

HERE = Path(__file__).parent
GELU = {"problem": "gelu_tanh", "kernel": "gelu_tanh", "block": [256], "grid": ["ceil_div(n, 256)"]}


def _prepare(**fields) -> Prepared | BenchResult:
    return prepare(plan(BenchRequest(**fields)), RUNTIME.toolchain)


def test_every_problem_has_a_reference_solution_in_solutions_json() -> None:
    from kernel_skills.bench.registry import load_registry

    assert set(load_solutions()) == set(load_registry(use_env=False).names())


@pytest.mark.parametrize("problem", sorted(load_solutions()))
def test_each_bundled_solution_compiles_and_matches_its_problems_abi(problem: str) -> None:
    prepared = _prepare(**solution_request_fields(problem))
    assert isinstance(prepared, Prepared), getattr(prepared, "checks", prepared)
    names = [c.name for c in prepared.checks]
    assert names == ["compile", "abi", "launch limits"]
    assert all(c.passed for c in prepared.checks)
    assert "match" in prepared.checks[1].detail


def test_a_correct_kernel_passes_the_cpu_side_checks() -> None:
    prepared = _prepare(source=(HERE / "good_kernels" / "gelu_tanh.cu").read_text(), **GELU)
    assert isinstance(prepared, Prepared)
    assert prepared.compiled.kernel.param_sizes == [8, 8, 4]
    assert prepared.launches["n=1000003"].grid == (3907, 1, 1)


def test_a_wrong_signature_is_refused_with_both_parameter_lists() -> None:
    with pytest.raises(RefusedInput) as info:
        _prepare(source=(HERE / "wrong_kernels" / "wrong_signature.cu").read_text(), **GELU)
    message = str(info.value)
    assert "sizes [8, 8, 8] bytes" in message
    assert "(const __nv_bfloat16* x, __nv_bfloat16* out, int n) (sizes [8, 8, 4]" in message


def test_a_compile_error_is_a_failed_result_with_the_line() -> None:
    result = _prepare(source='extern "C" __global__ void gelu_tanh(int n) { undefined_thing(); }\n', **GELU)
    assert isinstance(result, BenchResult)
    assert not result.ok and not result.correct
    assert result.checks[0].name == "compile" and not result.checks[0].passed
    assert "line 1" in result.checks[0].detail and "undefined_thing" in result.checks[0].detail


def test_an_unknown_kernel_name_lists_the_kernels_in_the_module() -> None:
    with pytest.raises(RefusedInput, match="no kernel named 'gelu' in the module; it has: gelu_tanh"):
        _prepare(source=(HERE / "good_kernels" / "gelu_tanh.cu").read_text(), **{**GELU, "kernel": "gelu"})


def test_a_compile_id_from_an_earlier_compile_is_accepted() -> None:
    from kernel_skills.toolchain import CompileRequest, compile_source

    compiled = compile_source(
        CompileRequest(source=(HERE / "good_kernels" / "gelu_tanh.cu").read_text()),
        toolchain=RUNTIME.toolchain,
    )
    assert compiled.compile_id is not None
    prepared = _prepare(compile_id=compiled.compile_id, **GELU)
    assert isinstance(prepared, Prepared)
    assert [c.name for c in prepared.checks] == ["abi", "launch limits"]
    with pytest.raises(RefusedInput, match="compile id"):
        _prepare(compile_id="f" * 32, **GELU)


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (HERE / "wrong_kernels").glob("*.cu") if p.name != "wrong_signature.cu")
)
def test_every_known_bad_kernel_compiles_with_the_right_abi_so_only_the_gpu_can_judge_it(name: str) -> None:
    prepared = _prepare(source=(HERE / "wrong_kernels" / name).read_text(), **GELU)
    assert isinstance(prepared, Prepared)
    assert all(c.passed for c in prepared.checks)
