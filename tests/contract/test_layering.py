"""The rooms' boundaries (docs/architecture.md, "What may import what"), read from the source with ``ast``:
every import statement counts, at module level, inside a function (a lazy import) or under
``TYPE_CHECKING``, and so does a string that names a module of the package (a PEP 562 export table,
``importlib``; a logger's name that is no module does not count).

A room is a package under ``server/kernel_skills`` or a top-level module; ``cli.py`` belongs with
``commands/`` and ``app.py`` with ``surface/`` (docs/architecture.md lists each pair as one room).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "kernel_skills"
DOMAIN = (
    "catalog",
    "toolchain",
    "bench",
    "emulator",
    "executors",
    "runtime",
    "evals",
    "traces",
    "kernelbuilder",
)
ADAPTERS = ("surface", "commands")  # with app.py and cli.py
LAYERS = ("bench", "emulator", "executors", "runtime", "dispatch")  # each may import only the ones before it
ROOM_OF_MODULE = {"app": "surface", "cli": "commands"}
# Rooms below every other: each may import only the others here ("kernel_skills" is the package itself,
# ``from kernel_skills import paths``). ``confine`` confines the children that toolchain and emulator start.
UTILITIES = (
    "errors",
    "paths",
    "procs",
    "tempdirs",
    "workerproc",
    "cache_faults",
    "gxx",
    "confine",
    "lazy",
    "kernel_skills",
)
MODULE_NAME = re.compile(r"kernel_skills(\.[A-Za-z_][A-Za-z0-9_]*)+")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, "kernel_skills.bench.judge"
    line: int
    module: str  # the imported module, "kernel_skills.bench" or "mcp.server"
    names: tuple[str, ...] = ()  # from-import names
    by_string: bool = False


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room(module: str) -> str | None:
    """The room of a ``kernel_skills`` module ("kernel_skills.app" -> "surface"); None outside it."""
    parts = module.split(".")
    if parts[0] != "kernel_skills":
        return None
    if len(parts) == 1:
        return "kernel_skills"
    return ROOM_OF_MODULE.get(parts[1], parts[1])


def imports_in(source: str, text: str, *, package: bool = False) -> Iterator[Import]:
    """Every import in ``text`` (the module ``source``, a package's ``__init__`` if ``package``),
    wherever it is written."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(source, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            yield Import(
                source, node.lineno, _absolute(source, node, package), tuple(a.name for a in node.names)
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and is_module(node.value):
            yield Import(source, node.lineno, node.value, by_string=True)


def is_module(name: str) -> bool:
    """Whether ``kernel_skills.x.y`` names a module of the package (not, say, a logger's name)."""
    if not MODULE_NAME.fullmatch(name):
        return False
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _absolute(source: str, node: ast.ImportFrom, package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = source.split(".")
    base = parts[: len(parts) - node.level + package]  # level 1 is the package the module is in
    return ".".join([*base, *([node.module] if node.module else [])])


def all_imports() -> list[Import]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found += imports_in(module_name(path), text, package=path.name == "__init__.py")
    return found


def cross_room(imports: list[Import]) -> list[Import]:
    return [i for i in imports if room(i.module) is not None and room(i.module) != room(i.source)]


def private_names(found: Import) -> list[str]:
    """The ``_name``s (module path parts or imported names; dunders are public) an import reaches."""
    parts = [*found.module.split("."), *found.names]
    return [p for p in parts if p.startswith("_") and not (p.startswith("__") and p.endswith("__"))]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None if it is acyclic."""
    state: dict[str, str] = {}  # "open" while on the DFS stack, then "done"
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def room_graph(imports: list[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for found in cross_room(imports):
        graph.setdefault(str(room(found.source)), set()).add(str(room(found.module)))
    return graph


def _where(found: Import) -> str:
    return f"{found.source}:{found.line} imports {found.module} {list(found.names) or ''}".rstrip()


# --- the checker sees what it must (known-bad beside known-good) --------------------------------


def test_the_checker_sees_lazy_type_checking_relative_and_string_imports() -> None:
    text = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from kernel_skills.executors.base import Executor\n"
        "def f():\n    from kernel_skills.bench.judge import _private\n"
        "from .models import Check\n"
        "EXPORTS = {'benchmark': 'kernel_skills.dispatch'}\n"
        "DOC = 'see kernel_skills.dispatch for more'\n"
    )
    found = {i.module: i for i in imports_in("kernel_skills.bench.api", text) if room(i.module)}
    assert sorted((m, i.by_string) for m, i in found.items()) == [
        ("kernel_skills.bench.judge", False),
        ("kernel_skills.bench.models", False),
        ("kernel_skills.dispatch", True),
        ("kernel_skills.executors.base", False),
    ]
    assert private_names(found["kernel_skills.bench.judge"]) == ["_private"]
    assert private_names(Import("kernel_skills.cli", 1, "kernel_skills", ("__version__",))) == []


def test_the_cycle_finder_names_a_cycle_and_passes_a_layered_graph() -> None:
    assert find_cycle({"bench": {"executors"}, "executors": {"emulator"}, "emulator": {"bench"}}) == [
        "bench",
        "executors",
        "emulator",
        "bench",
    ]
    assert find_cycle({"executors": {"emulator", "bench"}, "emulator": {"bench"}, "bench": set()}) is None


# --- the rules, on the real package ----------------------------------------------------------------


def test_domain_rooms_never_import_the_mcp_surface_the_cli_or_the_mcp_sdk() -> None:
    offenders = [
        _where(i)
        for i in all_imports()
        if room(i.source) in DOMAIN and (room(i.module) in ADAPTERS or i.module.split(".")[0] == "mcp")
    ]
    assert offenders == []


def test_a_room_imports_only_public_names_of_another_room() -> None:
    offenders = [_where(i) for i in cross_room(all_imports()) if private_names(i)]
    assert offenders == []


def test_bench_emulator_executors_runtime_and_dispatch_each_import_only_the_layers_below_them() -> None:
    offenders = [
        _where(i)
        for i in cross_room(all_imports())
        if room(i.source) in LAYERS
        and room(i.module) in LAYERS
        and LAYERS.index(str(room(i.module))) > LAYERS.index(str(room(i.source)))
    ]
    assert offenders == []


def test_nothing_below_the_dispatch_imports_it_or_the_rooms_that_use_it() -> None:
    above = ("dispatch", "evals", *ADAPTERS)
    offenders = [
        _where(i)
        for i in cross_room(all_imports())
        if room(i.source) in LAYERS[:-1] and room(i.module) in above
    ]
    assert offenders == []


def test_the_rooms_import_graph_has_no_cycle() -> None:
    assert find_cycle(room_graph(all_imports())) is None


def test_the_utilities_import_only_each_other() -> None:
    offenders = [
        _where(i)
        for i in cross_room(all_imports())
        if room(i.source) in UTILITIES and room(i.module) not in UTILITIES
    ]
    assert offenders == []
