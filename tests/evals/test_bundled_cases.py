"""The bundled skill's cases: one "write the kernel" task per bundled problem, each launchable."""

from __future__ import annotations

import pytest

from kernel_skills.bench.launch import parse_launch
from kernel_skills.bench.registry import load_registry
from kernel_skills.evals import load_skill_meta
from kernel_skills.paths import bundled_skills_dir

META = load_skill_meta(bundled_skills_dir() / "h100-cuda-kernels")
TASKS = {case.expected.correct: case for case in META.tests if case.kind == "task"}
BUNDLED = sorted(load_registry(use_env=False).names())


def test_every_bundled_problem_has_a_task_case_next_to_the_fact_cases() -> None:
    assert len(BUNDLED) == 8
    assert sorted(TASKS) == BUNDLED
    assert sum(case.kind == "fact" for case in META.tests) >= 12


@pytest.mark.parametrize("problem", BUNDLED)
def test_a_task_case_names_its_kernel_and_a_launch_valid_for_every_shape(problem: str) -> None:
    case = TASKS[problem]
    expected = case.expected
    assert (expected.kernel, expected.abi, expected.compiles) == (problem, problem, True)
    spec_problem = load_registry(use_env=False).get(problem)
    assert spec_problem.signature in case.input, "the prompt states the exact signature"
    launch = expected.launch
    assert launch is not None
    spec = parse_launch(launch.block, launch.grid, launch.shared_mem, spec_problem.size_names)
    for _, sizes in spec_problem.shape_list():
        spec.resolve(sizes)  # RefusedInput if a grid dimension is over the limits


def test_fact_cases_use_whole_word_matching_where_substrings_were_ambiguous() -> None:
    by_words = {w for case in META.tests for w in case.expected.words}
    assert {"50", "3.0", "host", "132"} <= by_words
    contains = {s for case in META.tests for s in case.expected.contains}
    assert not {"50", "3.0", "None", "fus", "host"} & contains
