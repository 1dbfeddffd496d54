"""A problem author's mistake is a ProblemError (exit 4) naming the module, the entry and expected vs.
given, never blamed on the kernel; `kernel-skills problems check` finds them without a kernel."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from kernel_skills.bench import authored
from kernel_skills.bench.registry import import_problem_file
from kernel_skills.cli import main
from kernel_skills.errors import (
    EXIT_CODES,
    EmulatorUnsupported,
    KernelSkillsError,
    ProblemError,
    RefusedInput,
)
from kernel_skills.errors import __all__ as error_names

GOOD = (Path(__file__).parent / "sample_problems" / "scale2.py").read_text(encoding="utf-8")
SIZES = {"n": 1001}


def _problem(tmp_path: Path, text: str):
    path = tmp_path / "scale2.py"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return import_problem_file(path)


def test_every_error_class_has_its_exit_code_in_the_one_table() -> None:
    import kernel_skills.errors as errors

    classes = [getattr(errors, n) for n in error_names if isinstance(getattr(errors, n), type)]
    assert all(issubclass(c, KernelSkillsError) for c in classes)
    assert {c.exit_code for c in classes} <= set(EXIT_CODES)
    assert ProblemError.exit_code == 4 and EmulatorUnsupported.exit_code == 5
    assert issubclass(EmulatorUnsupported, RefusedInput)  # callers that catch refusals still do


def test_a_problem_error_carries_its_fields_and_says_expected_vs_given() -> None:
    fault = ProblemError("mine.py", "reference['out']", "a tensor of shape [3]", "float32 of shape [4]")
    assert str(fault) == (
        "problem module mine.py: reference['out']: expected a tensor of shape [3]; given float32 of shape [4]"
    )
    assert ProblemError(**fault.fields).fields == fault.fields


@pytest.mark.parametrize(
    ("old", "new", "entry", "fragment"),
    [
        (
            "device=device)}",
            "device=device).double()}",
            "make_inputs['x'] at {'n': 1001}",
            "given torch.float64 of shape [1001]",
        ),
        (
            '(sizes["n"],)',
            '(sizes["n"] + 1,)',
            "make_inputs['x'] at {'n': 1001}",
            "of shape [1001], contiguous; given torch.float32 of shape [1002]",
        ),
        ('return {"x":', 'return {"y":', "make_inputs", "given a dict without ['x']"),
        (
            "import torch\n",
            "import torch\n    raise KeyError('dim')\n",
            "make_inputs",
            "given it raised KeyError: 'dim'",
        ),
    ],
)
def test_make_inputs_mistakes_name_the_tensor_and_its_dtype_or_shape(
    tmp_path: Path, old: str, new: str, entry: str, fragment: str
) -> None:
    problem = _problem(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ProblemError) as caught:
        authored.make_inputs(problem, SIZES, 1, "cpu")
    assert caught.value.entry == entry and fragment in str(caught.value)
    assert caught.value.module == str(tmp_path / "scale2.py")


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (
            '{"out": 2 * inputs["x"].double()}',
            '{"out": 2 * inputs["x"][:-1]}',
            "of shape [1001] (output 'out' is f32); given torch.float32 of shape [1000]",
        ),
        ('{"out": 2 * inputs["x"].double()}', '{"out": (2 * inputs["x"]).long()}', "a floating-point tensor"),
        (
            '{"out": 2 * inputs["x"].double()}',
            "[2 * inputs['x']]",
            "expected a dict with the tensors ['out']; given list",
        ),
        ('{"out": 2 * inputs["x"].double()}', "1 / 0", "given it raised ZeroDivisionError: division by zero"),
    ],
)
def test_reference_mistakes_are_the_authors(tmp_path: Path, old: str, new: str, fragment: str) -> None:
    problem = _problem(tmp_path, GOOD.replace(old, new))
    inputs = authored.make_inputs(problem, SIZES, 1, "cpu")
    with pytest.raises(ProblemError, match="reference") as caught:
        authored.reference(problem, inputs, SIZES)
    assert fragment in str(caught.value)


def test_flops_that_is_not_an_int_is_a_problem_error(tmp_path: Path) -> None:
    problem = _problem(tmp_path, GOOD.replace('return sizes["n"]', 'return str(sizes["n"])'))
    with pytest.raises(ProblemError, match=r"flops\(\{'n': 1001\}\): expected an int >= 0; given '1001'"):
        problem.flops(SIZES)


def test_problems_check_passes_good_modules_and_names_the_broken_entry(tmp_path: Path, capsys) -> None:
    (tmp_path / "good.py").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.py").write_text(
        GOOD.replace('"scale2"', '"scale3"').replace('inputs["x"].double()}', 'inputs["x"][:5].double()}'),
        encoding="utf-8",
    )
    assert main(["problems", "check", str(tmp_path / "good.py")]) == 0
    assert "ok " in capsys.readouterr().out
    assert main(["problems", "check", str(tmp_path), "--json"]) == 4
    doc = json.loads(capsys.readouterr().out)  # exactly one document
    by_file = {Path(m["path"]).name: m for m in doc["modules"]}
    assert not doc["ok"] and by_file["good.py"]["ok"] and by_file["good.py"]["shape"] == {"n": 1001}
    assert by_file["bad.py"]["entry"] == "reference['out'] at {'n': 1001}"
    assert "given torch.float64 of shape [5]" in by_file["bad.py"]["error"]


def test_problems_check_of_a_missing_path_is_bad_input(tmp_path: Path, capsys) -> None:
    assert main(["problems", "check", str(tmp_path / "nope"), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "RefusedInput"


def test_bench_on_a_broken_problem_module_exits_4_with_one_json_document(tmp_path: Path, capsys) -> None:
    (tmp_path / "scale2.py").write_text(GOOD.replace("def reference", "def _reference"), encoding="utf-8")
    kernel = tmp_path / "k.cu"
    kernel.write_text('extern "C" __global__ void k(const float* x, float* out, int n) {}\n')
    argv = [
        "bench",
        str(kernel),
        "--problem",
        "scale2",
        "--grid",
        "n",
        "--problems-dir",
        str(tmp_path),
        "--json",
    ]
    assert main(argv) == 4
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["error"]["type"] == "ProblemError"
    assert doc["error"][
        "message"
    ] == f"problem module {tmp_path / 'scale2.py'}: reference: expected defined " + (
        "(every problem defines NAME, ABI, SHAPES, make_inputs, reference); given missing"
    )
    assert "Traceback" not in captured.err


def test_a_problem_error_crosses_process_boundaries_with_its_fields() -> None:
    from kernel_skills.bench.worker import rebuilt_error
    from kernel_skills.executors.base import raise_error
    from kernel_skills.executors.models import ErrorInfo

    fault = ProblemError("p.py", "make_inputs['x']", "f32", "torch.float16 of shape [3]")
    rebuilt = rebuilt_error("ProblemError", str(fault), fault.fields)
    assert isinstance(rebuilt, ProblemError) and rebuilt.fields == fault.fields
    with pytest.raises(ProblemError) as caught:
        raise_error(ErrorInfo.of(fault))
    assert caught.value.fields == fault.fields and str(caught.value) == str(fault)
    assert type(rebuilt_error("EmulatorUnsupported", "wgmma")) is EmulatorUnsupported


def test_mcp_tools_say_problem_module_error_and_emulator_cannot_run_this() -> None:
    from kernel_skills.surface import errors as surface_errors

    fault = ProblemError("p.py", "reference", "a dict", "list")
    assert str(surface_errors.tool_error(fault)) == f"problem module error: {fault}"
    unsupported = EmulatorUnsupported("wgmma (line 3)")
    assert str(surface_errors.tool_error(unsupported)) == "emulator cannot run this: wgmma (line 3)"
