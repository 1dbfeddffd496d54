"""User problems from --problems-dir: valid ones load, broken ones are reported with the reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kernel_skills.bench.registry import PROBLEMS_DIR_ENV, load_registry
from kernel_skills.errors import RefusedInput

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
    ("mutation", "fragment"),
    [
        (lambda s: s.replace('NAME = "scale2"', ""), "missing entries ['NAME']"),
        (lambda s: s.replace('"scale2"', '"Scale 2"'), "NAME 'Scale 2' must match"),
        (lambda s: s.replace('{"n": 1001}', '{"m": 1001}'), "must name exactly the size variables ['n']"),
        (lambda s: s.replace('("n",), output=True', '("n * 2 + k",), output=True'), "unknown name 'k'"),
        (lambda s: s.replace(", output=True", ""), "no output pointer"),
        (
            lambda s: s.replace('TOLERANCE = {"f32": (1e-6, 1e-6)}', "TOLERANCE = {}"),
            "TOLERANCE needs (atol, rtol)",
        ),
        (lambda s: s.replace('{"n": 1001}', '{"n": -1}'), "must be an int in 1.."),
        (lambda s: s + "\nraise ImportError('boom')\n", "importing it raised ImportError: boom"),
        (lambda s: s + "\ndef reference(:\n", "importing it raised SyntaxError"),
        (lambda s: s.replace("def flops(sizes):", "flops = 3\ndef _f(sizes):"), "flops must be a function"),
    ],
)
def test_a_broken_user_problem_is_reported_and_the_rest_still_load(
    tmp_path: Path, mutation, fragment: str
) -> None:
    path = _write(tmp_path, "broken.py", mutation(GOOD))
    registry = load_registry([tmp_path], use_env=False)
    assert [p.path for p in registry.invalid] == [str(path)]
    assert fragment in registry.invalid[0].error
    assert str(path) in registry.invalid[0].error
    assert "rmsnorm" in registry.names()


def test_asking_for_a_broken_problem_by_name_gives_its_load_error(tmp_path: Path) -> None:
    _write(tmp_path, "scale2.py", GOOD.replace('NAME = "scale2"', ""))
    registry = load_registry([tmp_path], use_env=False)
    with pytest.raises(RefusedInput, match=r"problem .scale2. failed to load: .*missing entries"):
        registry.get("scale2")


def test_a_duplicate_problem_name_is_refused_not_shadowed(tmp_path: Path) -> None:
    _write(tmp_path, "mine.py", GOOD.replace('"scale2"', '"rmsnorm"'))
    registry = load_registry([tmp_path], use_env=False)
    assert registry.get("rmsnorm").module_path is None  # still the bundled one
    assert "already defined by the bundled problems" in registry.invalid[0].error


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
