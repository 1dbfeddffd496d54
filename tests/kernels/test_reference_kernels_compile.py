"""Every reference kernel compiles through our NVRTC toolchain for sm_90a with zero spills, the
memory-bound ones use 16-byte global loads, and each entry point's parameter list is exactly the
problem's ABI (read from the source, from the compiled cubin, and from the problem modules)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from abi_table import CONTRACT_ABIS, MEMORY_BOUND, split_params

_ENTRY_RE = re.compile(
    r'extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s+)?(\w+)\s*\(([^)]*)\)', re.S
)
_PARAM_BYTES = {"int": 4, "float": 4}


def _entry_points(source: str) -> dict[str, list[str]]:
    return {name: split_params(params) for name, params in _ENTRY_RE.findall(source)}


def _kernel_report(result: Any, name: str) -> Any:
    matches = [kernel for kernel in result.kernels if kernel.name == name]
    assert matches, f"{name} not in the compiled cubin: {[k.name for k in result.kernels]}"
    return matches[0]


def test_every_problem_of_the_contract_has_a_reference_solution(solutions: dict[str, Any]) -> None:
    assert sorted(solutions) == sorted(CONTRACT_ABIS)


@pytest.mark.parametrize("problem", sorted(CONTRACT_ABIS))
def test_reference_kernel_compiles_for_sm90a_with_zero_spills(
    problem: str, solutions: dict, compiled: dict
) -> None:
    result = compiled[solutions[problem]["file"]]
    assert result.ok, [d.message for d in result.diagnostics]
    assert not [d for d in result.diagnostics if d.severity in ("error", "fatal")]
    kernel = _kernel_report(result, solutions[problem]["kernel"])
    assert kernel.extern_c
    assert (kernel.spill_stores, kernel.spill_loads, kernel.stack_bytes) == (0, 0, 0)
    assert not [finding.rule for finding in result.lint if finding.rule in ("spills", "local-memory")]


@pytest.mark.parametrize("problem", MEMORY_BOUND)
def test_memory_bound_reference_kernel_uses_16_byte_global_loads(
    problem: str, solutions: dict, compiled: dict
) -> None:
    result = compiled[solutions[problem]["file"]]
    per_kernel = {entry.name: entry for entry in result.sass.per_kernel}
    features = per_kernel[solutions[problem]["kernel"]].features
    assert "ldg.128" in features, features
    assert "stg.128" in features, features


@pytest.mark.parametrize("problem", ["attention_hd64", "attention_hd128"])
def test_attention_reference_kernel_runs_on_tensor_cores(
    problem: str, solutions: dict, compiled: dict
) -> None:
    result = compiled[solutions[problem]["file"]]
    per_kernel = {entry.name: entry for entry in result.sass.per_kernel}
    assert "tensor-core" in per_kernel[solutions[problem]["kernel"]].features
    kernel = _kernel_report(result, solutions[problem]["kernel"])
    assert kernel.shared_bytes <= 48 * 1024  # static shared memory: no opt-in needed


@pytest.mark.parametrize("problem", sorted(CONTRACT_ABIS))
def test_entry_point_signature_in_source_matches_the_contract_abi(
    problem: str, solutions: dict, kernels_dir: Path
) -> None:
    source = (kernels_dir / solutions[problem]["file"]).read_text(encoding="utf-8")
    entries = _entry_points(source)
    kernel = solutions[problem]["kernel"]
    assert kernel in entries, (
        f'no extern "C" __global__ {kernel} in {solutions[problem]["file"]}: {sorted(entries)}'
    )
    assert entries[kernel] == split_params(CONTRACT_ABIS[problem])


@pytest.mark.parametrize("problem", sorted(CONTRACT_ABIS))
def test_compiled_parameter_sizes_match_the_abi(problem: str, solutions: dict, compiled: dict) -> None:
    kernel = _kernel_report(compiled[solutions[problem]["file"]], solutions[problem]["kernel"])
    expected = [
        8 if "*" in param else _PARAM_BYTES[param.split()[0]]
        for param in split_params(CONTRACT_ABIS[problem])
    ]
    assert kernel.param_sizes == expected


def _problem_module(problem: str) -> Any:
    return importlib.import_module(f"kernel_skills.bench.problems.{problem}")


@pytest.mark.parametrize("problem", sorted(CONTRACT_ABIS))
def test_problem_module_abi_matches_the_reference_kernel(
    problem: str, solutions: dict, kernels_dir: Path
) -> None:
    module = _problem_module(problem)
    source = (kernels_dir / solutions[problem]["file"]).read_text(encoding="utf-8")
    declared = split_params(", ".join(param.c_decl for param in module.ABI))
    assert _entry_points(source)[solutions[problem]["kernel"]] == declared


@pytest.mark.parametrize("problem", sorted(CONTRACT_ABIS))
def test_launch_expressions_use_only_the_problem_size_names(problem: str, solutions: dict) -> None:
    solution = solutions[problem]
    size_names = {
        param.split()[-1] for param in split_params(CONTRACT_ABIS[problem]) if param.startswith("int ")
    }
    assert set(solution) == {"file", "kernel", "block", "grid", "shared_mem", "options"}
    assert len(solution["block"]) == 3 and all(isinstance(v, int) and v >= 1 for v in solution["block"])
    threads = solution["block"][0] * solution["block"][1] * solution["block"][2]
    assert threads % 32 == 0 and threads <= 1024
    assert len(solution["grid"]) == 3
    for text in [*solution["grid"], solution["shared_mem"]]:
        used = set(re.findall(r"[A-Za-z_]\w*", text)) - {"ceil_div", "min", "max"}
        assert used <= size_names, f"{text!r} uses {used - size_names}, not size names of {problem}"
    from kernel_skills.bench.expr import parse_expr

    for text in [*solution["grid"], solution["shared_mem"]]:
        parse_expr(text, frozenset(size_names))  # RefusedInput if the harness would reject it


@pytest.mark.parametrize("problem", sorted(CONTRACT_ABIS))
def test_launch_grid_covers_every_shape_of_the_problem(problem: str, solutions: dict) -> None:
    """The grid evaluates to a positive, in-range size for every shape the harness runs."""
    module = _problem_module(problem)
    from kernel_skills.bench.expr import parse_expr

    names = frozenset(name for shapes in module.SHAPES.values() for sizes in shapes for name in sizes)
    grid = [parse_expr(text, names) for text in solutions[problem]["grid"]]
    for shapes in module.SHAPES.values():
        for sizes in shapes:
            x, y, z = (expr.evaluate(sizes) for expr in grid)
            assert 1 <= x <= 2**31 - 1 and 1 <= y <= 65535 and 1 <= z <= 65535, (sizes, (x, y, z))
