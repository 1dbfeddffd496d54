"""The bundled reference solutions (``kernels/solutions.json``): one launchable kernel per problem."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from kernel_skills import paths
from kernel_skills.errors import RefusedInput

_QUOTED_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
_MAX_INCLUDE_DEPTH = 4


class Solution(BaseModel):
    file: str
    kernel: str
    block: list[int] = Field(min_length=1, max_length=3)
    grid: list[str | int] = Field(min_length=1, max_length=3)
    shared_mem: str | int = "0"
    options: list[str] = Field(default_factory=list)


class LoadedSolution(BaseModel):
    solution: Solution
    path: str
    source: str
    headers: dict[str, str]


def solutions_path() -> Path:
    return paths.bundled_kernels_dir() / "solutions.json"


def load_solutions() -> dict[str, Solution]:
    path = solutions_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RefusedInput(f"no reference solutions file {path.name}: {exc.strerror}") from exc
    except ValueError as exc:
        raise RefusedInput(f"{path.name} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise RefusedInput(f"{path.name}: expected an object of problem name -> solution")
    try:
        return {name: Solution.model_validate(entry) for name, entry in raw.items()}
    except ValidationError as exc:
        raise RefusedInput(f"{path}: {exc}") from exc


def _collect_headers(source: str, directory: Path, root: Path, headers: dict[str, str], depth: int) -> None:
    if depth > _MAX_INCLUDE_DEPTH:
        return
    for name in _QUOTED_INCLUDE.findall(source):
        target = (directory / name).resolve()
        if name in headers or not target.is_relative_to(root) or not target.is_file():
            continue
        text = target.read_text(encoding="utf-8")
        headers[name] = text
        _collect_headers(text, target.parent, root, headers, depth + 1)


def load_solution(problem: str) -> LoadedSolution:
    solutions = load_solutions()
    if problem not in solutions:
        raise RefusedInput(
            f"no reference solution for problem {problem!r} in {solutions_path()}; "
            f"solutions exist for {', '.join(sorted(solutions))}. Pass a FILE.cu to benchmark your own kernel"
        )
    solution = solutions[problem]
    root = paths.bundled_kernels_dir().resolve()
    path = (root / solution.file).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise RefusedInput(f"solution file {solution.file!r} for {problem!r} is missing under {root}")
    source = path.read_text(encoding="utf-8")
    headers: dict[str, str] = {}
    _collect_headers(source, path.parent, root, headers, 0)
    return LoadedSolution(solution=solution, path=str(path), source=source, headers=headers)


def solution_request_fields(problem: str) -> dict[str, Any]:
    """BenchRequest fields that benchmark the bundled reference solution of ``problem``.

    The CLI (no FILE), `make bench` and the GPU tests all start from these and add their own
    fields (shapes, quick, overrides)."""
    loaded = load_solution(problem)
    solution = loaded.solution
    return {
        "problem": problem,
        "source": loaded.source,
        "headers": loaded.headers,
        "kernel": solution.kernel,
        "block": solution.block,
        "grid": solution.grid,
        "shared_mem": solution.shared_mem,
        "options": solution.options,
    }


__all__ = [
    "LoadedSolution",
    "Solution",
    "load_solution",
    "load_solutions",
    "solution_request_fields",
    "solutions_path",
]
