"""``kernel-skills problems check``: validate problem modules without a kernel, for authors and CI.

Each module is imported and validated (``spec.problem_from_module``), then on its smallest shape, on
the CPU: ``make_inputs``/``make_params`` (dtypes and shapes of every input), ``reference`` and
``torch_op`` (the outputs' shapes and kinds), ``flops`` and ``bytes_moved``. The first mistake is
the module's ``ProblemError``: the module, the entry, expected vs. given.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from kernel_skills.bench import authored
from kernel_skills.bench.registry import import_problem_file
from kernel_skills.bench.spec import Problem
from kernel_skills.errors import ProblemError, RefusedInput

CHECK_SEED = 1


class ModuleCheck(BaseModel):
    path: str
    ok: bool
    problem: str | None = None  # the module's NAME when it loaded
    shape: dict[str, int] | None = None  # the shape its functions were run on
    error: str | None = None
    entry: str | None = None  # the entry at fault (ProblemError.entry)


class ProblemCheckReport(BaseModel):
    ok: bool
    modules: list[ModuleCheck]


def smallest_shape(problem: Problem) -> dict[str, int]:
    shapes = [s for _, s in problem.shape_list()] + list(problem.emulator_shapes)
    return dict(min(shapes, key=problem.largest_tensor))


def run_functions(problem: Problem, sizes: dict[str, int]) -> None:
    """Every function of the module once at ``sizes`` on the CPU; ProblemError on the first fault."""
    inputs = authored.make_inputs(problem, sizes, CHECK_SEED, "cpu")
    authored.reference(problem, {k: v.clone() for k, v in inputs.items()}, sizes)
    authored.torch_op(problem, problem.torch_op, {k: v.clone() for k, v in inputs.items()}, sizes)
    problem.flops(sizes)
    problem.bytes_moved(sizes)


def check_file(path: Path) -> ModuleCheck:
    problem = None
    try:
        problem = import_problem_file(path)
        sizes = smallest_shape(problem)
        run_functions(problem, sizes)
    except ProblemError as exc:
        name = problem.name if problem else None
        return ModuleCheck(path=str(path), ok=False, problem=name, error=str(exc), entry=exc.entry)
    return ModuleCheck(path=str(path), ok=True, problem=problem.name, shape=sizes)


def module_files(paths: list[Path]) -> list[Path]:
    """The ``*.py`` files named, or inside the directories named (``_helpers.py`` are skipped)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += [p for p in sorted(path.glob("*.py")) if not p.name.startswith("_")]
        elif path.is_file() and path.suffix == ".py":
            found.append(path)
        else:
            raise RefusedInput(f"{path}: not a directory or a .py file; give problem module files or folders")
    if not found:
        raise RefusedInput(f"no problem modules (*.py) in {', '.join(map(str, paths))}")
    return found


def check_problems(paths: list[Path]) -> ProblemCheckReport:
    checks = [check_file(path) for path in module_files(paths)]
    return ProblemCheckReport(ok=all(c.ok for c in checks), modules=checks)


__all__ = ["ModuleCheck", "ProblemCheckReport", "check_file", "check_problems", "smallest_shape"]
