"""The documented problem format (docs/problems.md): its example module passes `problems check`, its
documented error message is the one raised, parameters come from make_params and are reported apart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kernel_skills.bench import authored
from kernel_skills.bench.api import list_problems
from kernel_skills.bench.registry import import_problem_file, load_registry
from kernel_skills.cli import main
from kernel_skills.errors import ProblemError

DOC = Path(__file__).resolve().parents[2] / "docs" / "problems.md"


def doc_block(language: str) -> str:
    """The first fenced ``language`` block of docs/problems.md."""
    return re.search(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    path = tmp_path / "rms_scale.py"
    path.write_text(doc_block("python"), encoding="utf-8")
    return path


def test_the_documented_example_module_passes_problems_check(example: Path, capsys) -> None:
    assert main(["problems", "check", str(example.parent), "--json"]) == 0
    [module] = json.loads(capsys.readouterr().out)["modules"]
    assert module["ok"] and module["problem"] == "rms_scale"
    assert module["shape"] == {"rows": 5, "dim": 300}


def test_the_documented_example_lists_its_parameter_apart_from_its_inputs(example: Path) -> None:
    [info] = [
        p
        for p in list_problems(load_registry([example.parent], use_env=False)).problems
        if p.name == "rms_scale"
    ]
    assert info.inputs == ["x"] and info.parameters == ["weight"] and info.outputs == ["out"]
    assert info.description == "RMS-normalise each row of x and scale it by a learned weight."
    assert "const float* weight" in info.signature


def test_parameters_are_the_same_for_a_shape_and_seed_and_change_with_the_seed(example: Path) -> None:
    problem = import_problem_file(example)
    sizes = {"rows": 3, "dim": 8}
    first, again, other = (authored.make_inputs(problem, sizes, seed, "cpu") for seed in (1, 1, 2))
    assert list(first) == ["x", "weight"]  # the ABI's order
    assert first["weight"].equal(again["weight"]) and not first["weight"].equal(other["weight"])


def test_the_documented_error_message_is_the_one_raised(example: Path) -> None:
    text = doc_block("python").replace('inputs["weight"].double()}', 'inputs["weight"].double())[0]}')
    text = text.replace('return {"out": x / rms', 'return {"out": (x / rms')
    example.write_text(text, encoding="utf-8")
    problem = import_problem_file(example)
    sizes = {"rows": 5, "dim": 300}
    with pytest.raises(ProblemError) as caught:
        authored.reference(problem, authored.make_inputs(problem, sizes, 1, "cpu"), sizes)
    documented = re.search(r"```\n(problem module .*?)\n```", DOC.read_text(), re.S).group(1)
    documented = documented.replace("my_problems/rms_scale.py", str(example)).replace("\n", " ")
    assert str(caught.value) == documented
