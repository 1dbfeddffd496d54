"""User problems from --problems-dir: valid ones load, broken ones are reported with the reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kernel_skills.bench.registry import PROBLEMS_DIR_ENV, load_registry
from kernel_skills.bench.spec import DEFAULT_TOLERANCE
from kernel_skills.errors import ProblemError, RefusedInput

GOOD = (Path(__file__).parent / "sample_problems" / "scale2.py").read_text(encoding="utf-8")


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_valid_user_problem_loads_beside_the_bundled_ones(tmp_path: Path) -> None:
    _write(tmp_path, "scale2.py", GOOD)
    _write(tmp_path, "_helpers.py", "raise RuntimeError('helpers are not problems')")
    registry = load_registry([tmp_path], use_env=False)
    problem = registry.get("scale2")
    assert problem.signature == "(const float* x, float* out, int n)"
    assert problem.module_path == str((tmp_path / "scale2.py").resolve())
    assert "rmsnorm" in registry.names()
    assert registry.invalid == []


@pytest.mark.parametrize(
    ("mutation", "entry", "fragment"),
    [
        (lambda s: s.replace('NAME = "scale2"', ""), "NAME", "expected defined (every problem defines"),
        (lambda s: s.replace('"scale2"', '"Scale 2"'), "NAME", "given 'Scale 2'"),
        (
            lambda s: s.replace('{"n": 1001}', '{"m": 1001}'),
            "SHAPES['ragged']",
            "expected shapes naming exactly the size variables ['n']; given ['m']",
        ),
        (lambda s: s.replace('("n",), output=True', '("n * 2 + k",), output=True'), "ABI entry 'out'", "'k'"),
        (lambda s: s.replace(", output=True", ""), "ABI", "at least one output pointer"),
        (
            lambda s: s.replace('"i32"', '"int64"').replace('"f32", ("n",)', '"int64", ("n",)'),
            "ABI entry 'x'",
            "given 'int64'",
        ),
        (
            lambda s: s.replace('TOLERANCE = {"f32": (1e-6, 1e-6)}', 'TOLERANCE = {"f32": (-1, 0)}'),
            "TOLERANCE['f32']",
            "given (-1, 0)",
        ),
        (
            lambda s: s.replace('{"n": 1001}', '{"n": -1}'),
            "SHAPES['ragged']",
            "an int in 1..2147483647; given -1",
        ),
        (
            lambda s: s.replace('Scalar("n", "int")', 'Scalar("n", "int"), Scalar("k", "int", "4")'),
            "ABI entry 'k'",
            "expected an int value, or none for a size variable; given '4'",
        ),
        (
            lambda s: s.replace('TOLERANCE = {"f32": (1e-6, 1e-6)}', 'TOLERANCE = {"f32": "tight"}'),
            "TOLERANCE['f32']",
            "given 'tight'",
        ),
        (lambda s: s + "\nraise ImportError('boom')\n", "import", "importing it raised ImportError: boom"),
        (lambda s: s + "\ndef reference(:\n", "import", "importing it raised SyntaxError"),
        (
            lambda s: s.replace("def flops(sizes):", "flops = 3\ndef _f(sizes):"),
            "flops",
            "expected a function; given 3",
        ),
        (
            lambda s: s.replace("ABI = [", "ABI = [Pointer('w', 'f32', ('n',), param=True), "),
            "make_params",
            "given none",
        ),
    ],
)
def test_a_broken_user_problem_is_a_problem_error_naming_the_entry_and_the_rest_still_load(
    tmp_path: Path, mutation, entry: str, fragment: str
) -> None:
    path = _write(tmp_path, "broken.py", mutation(GOOD))
    registry = load_registry([tmp_path], use_env=False)
    assert [p.path for p in registry.invalid] == [str(path)]
    fault = registry.invalid[0].fault
    assert isinstance(fault, ProblemError) and fault.exit_code == 4
    assert fault.module == str(path) and fault.entry == entry
    assert fragment in registry.invalid[0].error
    assert registry.invalid[0].error.startswith(f"problem module {path}: {entry}: expected ")
    assert "rmsnorm" in registry.names()


def test_asking_for_a_broken_problem_by_name_raises_its_problem_error(tmp_path: Path) -> None:
    _write(tmp_path, "scale2.py", GOOD.replace("def make_inputs", "def _make_inputs"))
    registry = load_registry([tmp_path], use_env=False)
    with pytest.raises(
        ProblemError, match=r"^problem module .*scale2.py: make_inputs: expected defined"
    ) as info:
        registry.get("scale2")
    assert str(info.value).count("problem module") == 1


def test_a_pointer_shape_given_as_a_list_is_accepted(tmp_path: Path) -> None:
    _write(tmp_path, "scale2.py", GOOD.replace('Pointer("x", "f32", ("n",))', 'Pointer("x", "f32", ["n"])'))
    assert load_registry([tmp_path], use_env=False).get("scale2").inputs[0].shape == ("n",)


def test_only_name_abi_shapes_make_inputs_and_reference_are_required(tmp_path: Path) -> None:
    minimal = GOOD
    for entry in ("DESCRIPTION", "TOLERANCE"):
        minimal = "\n".join(line for line in minimal.splitlines() if not line.startswith(entry))
    for fn in ("torch_op", "flops", "bytes_moved"):
        minimal = minimal.replace(f"def {fn}(", f"def _unused_{fn}(")
    _write(tmp_path, "scale2.py", minimal)
    problem = load_registry([tmp_path], use_env=False).get("scale2")
    assert (
        problem.description
        == "A minimal trusted user problem (out = 2 * x), as a user would put in --problems-dir."
    )
    assert problem.tolerance == {"f32": DEFAULT_TOLERANCE["f32"]}
    assert problem.flops({"n": 10}) == 0
    assert problem.bytes_moved({"n": 10}) == 80  # the ABI's bytes: x read, out written
    assert problem.torch_op.__name__ == "reference"


def test_a_duplicate_problem_name_is_refused_not_shadowed(tmp_path: Path) -> None:
    _write(tmp_path, "mine.py", GOOD.replace('"scale2"', '"rmsnorm"'))
    registry = load_registry([tmp_path], use_env=False)
    assert registry.get("rmsnorm").module_path is None  # still the bundled one
    assert (
        "expected a name no other problem uses (the bundled problems defines it)" in registry.invalid[0].error
    )


def test_unknown_problems_list_the_available_ones() -> None:
    with pytest.raises(RefusedInput, match=r"unknown problem .rmsnrom.; available: .*rmsnorm"):
        load_registry(use_env=False).get("rmsnrom")


def test_a_missing_problems_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RefusedInput, match="not a directory"):
        load_registry([tmp_path / "nope"], use_env=False)


def test_problems_dirs_are_also_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "scale2.py", GOOD)
    monkeypatch.setenv(PROBLEMS_DIR_ENV, str(tmp_path))
    assert "scale2" in load_registry().names()
