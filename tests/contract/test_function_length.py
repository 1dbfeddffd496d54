"""No function in ``server/kernel_skills`` runs over 60 lines (issue 23), read with ``ast``: a function's
length is ``end_lineno - lineno + 1`` of its ``def``, nested functions included in their parent's.

The allowlist is a ratchet: it names each function still allowed to be long and why, and the test
fails when a listed function has become short (or is gone), so the list only shrinks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "kernel_skills"
LIMIT = 60

_EVALS = "the evals/ restructure of issue 23"
ALLOWED: dict[str, str] = {
    "evals/agent.py::run_agent_eval": _EVALS,
    "evals/agent.py::run_episode": _EVALS,
    "evals/lift.py::_ask_all": _EVALS,
    "evals/lift.py::run_batch": _EVALS,
    "evals/lift.py::rejudge_runs": _EVALS,
    "evals/lift.py::_ask_all.ask": _EVALS,
    "evals/generate.py::generate_skill": _EVALS,
    "evals/generate.py::refine_skill": _EVALS,
    "evals/code_checks.py::_judged": _EVALS,
    "toolchain/includes.py::_split_logical": "a lexer: one loop over the characters reads best whole",
    "surface/bench_tools.py::register": "a tool-registration table",
    "surface/skills.py::_register_tools": "a tool-registration table",
}


def function_lengths() -> Iterator[tuple[str, int]]:
    """Yield ``("pkg/module.py::Outer.name", length)`` for every function and method in the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        yield from _walk(ast.parse(path.read_text(encoding="utf-8")), relative, ())


def _walk(node: ast.AST, relative: str, scope: tuple[str, ...]) -> Iterator[tuple[str, int]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = ".".join((*scope, child.name))
            yield f"{relative}::{name}", child.end_lineno - child.lineno + 1  # type: ignore[operator]
            yield from _walk(child, relative, (*scope, child.name))
        elif isinstance(child, ast.ClassDef):
            yield from _walk(child, relative, (*scope, child.name))
        else:
            yield from _walk(child, relative, scope)


def test_no_function_over_the_limit() -> None:
    long = {name: length for name, length in function_lengths() if length > LIMIT}
    unlisted = sorted(f"{name} ({length} lines)" for name, length in long.items() if name not in ALLOWED)
    assert not unlisted, f"functions over {LIMIT} lines; split them into named helpers: {unlisted}"


def test_allowlist_only_shrinks() -> None:
    lengths = dict(function_lengths())
    stale = sorted(name for name in ALLOWED if lengths.get(name, 0) <= LIMIT)
    assert not stale, f"now {LIMIT} lines or fewer (or gone): remove from ALLOWED: {stale}"
