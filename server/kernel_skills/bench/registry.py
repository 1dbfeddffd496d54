"""Find problems: the bundled modules plus ``*.py`` modules from directories the user trusts.

User modules are trusted code (the user named the directory); agents can never send Python.
A broken module is reported with its file and fault and skipped; the others stay usable.
A duplicate problem name is refused, never silently shadowed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path

from kernel_skills.bench.pyfile import import_python_file
from kernel_skills.bench.spec import Problem, problem_from_module
from kernel_skills.errors import ProblemError, RefusedInput

PROBLEMS_DIR_ENV = "KERNEL_SKILLS_PROBLEMS_DIR"  # os.pathsep-separated list of directories
_BUNDLED_PACKAGE = "kernel_skills.bench.problems"


@dataclass(frozen=True)
class InvalidProblem:
    path: str
    error: str
    fault: ProblemError | None = None  # raised again when the problem is asked for by name


@dataclass
class ProblemRegistry:
    problems: dict[str, Problem] = field(default_factory=dict)
    invalid: list[InvalidProblem] = field(default_factory=list)

    def names(self) -> list[str]:
        return sorted(self.problems)

    def get(self, name: str) -> Problem:
        if name in self.problems:
            return self.problems[name]
        broken = [p for p in self.invalid if Path(p.path).stem == name]
        if broken and broken[0].fault is not None:
            raise broken[0].fault
        if broken:
            raise RefusedInput(broken[0].error)
        raise RefusedInput(f"unknown problem {name!r}; available: {', '.join(self.names())}")


def _bundled_problems() -> list[Problem]:
    package = importlib.import_module(_BUNDLED_PACKAGE)
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{_BUNDLED_PACKAGE}.{info.name}")
        found.append(problem_from_module(module, origin=f"{_BUNDLED_PACKAGE}.{info.name}"))
    return found


def import_problem_file(path: Path) -> Problem:
    """Import one user problem module by path and validate it (ProblemError on any fault)."""
    module = import_python_file(path, "kernel_skills_user_problem")
    return problem_from_module(module, origin=str(path), module_path=str(path.resolve()))


def _dirs_from_env() -> list[Path]:
    raw = os.environ.get(PROBLEMS_DIR_ENV, "")
    return [Path(p) for p in raw.split(os.pathsep) if p.strip()]


def load_registry(problems_dirs: list[Path] | None = None, *, use_env: bool = True) -> ProblemRegistry:
    """Bundled problems, then each directory's ``*.py`` (files starting with ``_`` are helpers)."""
    registry = ProblemRegistry()
    for problem in _bundled_problems():
        registry.problems[problem.name] = problem
    dirs = list(problems_dirs or []) + (_dirs_from_env() if use_env else [])
    for directory in dirs:
        if not directory.is_dir():
            raise RefusedInput(f"--problems-dir {directory}: not a directory")
        for path in sorted(directory.glob("*.py")):
            if path.name.startswith("_"):
                continue
            try:
                problem = import_problem_file(path)
            except ProblemError as exc:
                registry.invalid.append(InvalidProblem(path=str(path), error=str(exc), fault=exc))
                continue
            if problem.name in registry.problems:
                other = registry.problems[problem.name].module_path or "the bundled problems"
                fault = ProblemError(
                    str(path),
                    "NAME",
                    f"a name no other problem uses ({other} defines it)",
                    repr(problem.name),
                )
                registry.invalid.append(InvalidProblem(path=str(path), error=str(fault), fault=fault))
                continue
            registry.problems[problem.name] = problem
    return registry


def load_problem_in_worker(name: str, module_path: str | None) -> Problem:
    """The worker re-imports the one problem it needs (bundled by name, user by path)."""
    if module_path is None:
        module = importlib.import_module(f"{_BUNDLED_PACKAGE}.{name}")
        return problem_from_module(module, origin=module.__name__)
    return import_problem_file(Path(module_path))


__all__ = ["PROBLEMS_DIR_ENV", "InvalidProblem", "ProblemRegistry", "load_problem_in_worker", "load_registry"]
