"""The rooms' boundaries (docs/architecture.md, "What may import what"), read from the source with ``ast``:
every import statement counts, at module level, inside a function (a lazy import) or under
``TYPE_CHECKING``, and so does a string that names a module of the package (a PEP 562 export table,
``importlib``; a logger's name that is no module does not count).

A room is a package under ``server/kernel_skills`` or a top-level module; ``cli.py`` belongs with
``commands/`` and ``app.py`` with ``surface/`` (docs/architecture.md lists each pair as one room).
"""

from __future__ import annotations

import ast
import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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
    return list(_read_all_imports())


@functools.cache
def _read_all_imports() -> tuple[Import, ...]:
    found: list[Import] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found += imports_in(module_name(path), text, package=path.name == "__init__.py")
    return tuple(found)


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


# --- the rules: each a function of the imports, so that each can be shown a planted violation ---------


def adapter_imports(imports: list[Import]) -> list[Import]:
    """Rule 1: a domain room importing an adapter (``surface``/``app``, ``commands``/``cli``) or the SDK."""
    return [
        i
        for i in imports
        if room(i.source) in DOMAIN and (room(i.module) in ADAPTERS or i.module.split(".")[0] == "mcp")
    ]


def private_imports(imports: list[Import]) -> list[Import]:
    """Rule 2: a ``_private`` module or name of another room."""
    return [i for i in cross_room(imports) if private_names(i)]


def is_package(room_name: str) -> bool:
    return (PACKAGE / room_name / "__init__.py").is_file()


def past_the_facade(imports: list[Import]) -> list[Import]:
    """Rule 3: another package room reached past its ``__init__``: one of its submodules, by import or by
    a string (``kernel_skills.bench.models``), or named as an imported name (``from kernel_skills.bench
    import results_db``). A top-level module (``kernel_skills.paths``, ``kernel_skills.app``) is its own
    facade."""
    return [
        i
        for i in cross_room(imports)
        if is_package(str(room(i.module)))
        and (i.module.count(".") > 1 or any(is_module(f"{i.module}.{name}") for name in i.names))
    ]


def upward_layer_imports(imports: list[Import]) -> list[Import]:
    """Rule 4: one of the verdict layers importing a layer above it."""
    return [
        i
        for i in cross_room(imports)
        if room(i.source) in LAYERS
        and room(i.module) in LAYERS
        and LAYERS.index(str(room(i.module))) > LAYERS.index(str(room(i.source)))
    ]


def imports_of_the_dispatch_from_below(imports: list[Import]) -> list[Import]:
    """Rule 5: ``bench``, ``emulator`` or ``executors`` importing the dispatch or a room that uses it."""
    above = ("dispatch", "evals", *ADAPTERS)
    return [i for i in cross_room(imports) if room(i.source) in LAYERS[:-1] and room(i.module) in above]


def cycle_imports(imports: list[Import]) -> list[Import]:
    """Rule 6: the imports that close a cycle of rooms (empty when the graph is acyclic)."""
    cycle = find_cycle(room_graph(imports))
    if cycle is None:
        return []
    edges = set(itertools.pairwise(cycle))
    return [i for i in cross_room(imports) if (room(i.source), room(i.module)) in edges]


def utility_imports_of_rooms(imports: list[Import]) -> list[Import]:
    """Rule 7: a utility importing a room that is not a utility."""
    return [i for i in cross_room(imports) if room(i.source) in UTILITIES and room(i.module) not in UTILITIES]


RULES = {
    "adapters": adapter_imports,
    "private": private_imports,
    "facade": past_the_facade,
    "layers": upward_layer_imports,
    "dispatch": imports_of_the_dispatch_from_below,
    "cycle": cycle_imports,
    "utilities": utility_imports_of_rooms,
}

# One violation of each rule, as a module of the package would write it: (module, its source).
PLANTED = {
    "adapters": ("kernel_skills.catalog.planted", "from kernel_skills.surface import mcp_toolbox_factory\n"),
    "private": ("kernel_skills.surface.planted", "from kernel_skills.bench import _EXPORTS\n"),
    "facade": ("kernel_skills.surface.planted", "from kernel_skills.bench.models import BenchRequest\n"),
    "layers": ("kernel_skills.executors.planted", "from kernel_skills.runtime import Runtime\n"),
    "dispatch": (
        "kernel_skills.emulator.planted",
        "def f():\n    from kernel_skills.dispatch import benchmark\n",
    ),
    "cycle": ("kernel_skills.toolchain.planted", "import kernel_skills.commands\n"),
    "utilities": ("kernel_skills.confine.planted", "from kernel_skills.toolchain import Toolchain\n"),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_holds_on_the_real_package(rule: str) -> None:
    assert [_where(i) for i in RULES[rule](all_imports())] == []


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_finds_a_violation_planted_in_the_real_package(rule: str) -> None:
    module, text = PLANTED[rule]
    planted = list(imports_in(module, text))
    found = RULES[rule]([*all_imports(), *planted])
    assert found and all(i.source == module for i in found if rule != "cycle")
    assert any(i in planted for i in found)


def test_the_facade_rule_passes_a_facade_a_top_level_module_and_a_rooms_own_submodules() -> None:
    allowed = [
        *imports_in("kernel_skills.surface.x", "from kernel_skills.bench import BenchRequest\n"),
        *imports_in("kernel_skills.surface.x", "from kernel_skills import paths, tempdirs\n"),
        *imports_in("kernel_skills.commands.x", "from kernel_skills.app import build\n"),
        *imports_in("kernel_skills.bench.api", "from kernel_skills.bench.models import BenchRequest\n"),
    ]
    refused = [
        *imports_in("kernel_skills.surface.x", "from kernel_skills.bench import results_db\n"),
        *imports_in("kernel_skills.surface.x", "import kernel_skills.toolchain.cache\n"),
        *imports_in("kernel_skills.surface.x", "RUN = 'kernel_skills.bench.worker_main'\n"),
    ]
    assert past_the_facade(allowed) == []
    assert past_the_facade(refused) == refused


def facade_exports(room_name: str) -> set[str]:
    """The names a package room's ``__init__`` exports: its ``__all__`` list or its ``_EXPORTS`` table."""
    tree = ast.parse((PACKAGE / room_name / "__init__.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id in ("__all__", "_EXPORTS") for t in targets):
            keys = node.value.keys if isinstance(node.value, ast.Dict) else [node.value]
            names |= {
                c.value
                for key in keys
                if key is not None
                for c in ast.walk(key)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
    return names


def package_rooms() -> list[str]:
    return sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def test_no_facade_exports_a_name_that_is_also_one_of_its_submodules() -> None:
    """``from kernel_skills.bench import estimate`` would give the submodule once it has been imported:
    the import system sets the attribute and a lazy ``__getattr__`` is never asked."""
    clashes = [
        f"{r}.{n}" for r in package_rooms() for n in facade_exports(r) if is_module(f"kernel_skills.{r}.{n}")
    ]
    assert clashes == []


def test_every_name_a_facade_exports_resolves() -> None:
    import importlib

    missing = []
    for r in package_rooms():
        facade = importlib.import_module(f"kernel_skills.{r}")
        missing += [f"{r}.{n}" for n in sorted(facade_exports(r)) if not hasattr(facade, n)]
    assert missing == []


def names_missing_from_facades(imports: list[Import]) -> list[str]:
    """``module:line room.name`` for each name imported from another package room's facade that the
    facade does not export (a lazy import inside a function fails only when it runs)."""
    return [
        f"{i.source}:{i.line} {room(i.module)}.{name}"
        for i in cross_room(imports)
        if is_package(str(room(i.module))) and i.module == f"kernel_skills.{room(i.module)}"
        for name in i.names
        if name not in facade_exports(str(room(i.module)))
    ]


def test_every_name_imported_from_a_facade_is_one_it_exports() -> None:
    assert names_missing_from_facades(all_imports()) == []
    planted = list(
        imports_in("kernel_skills.surface.planted", "def f():\n    from kernel_skills.bench import nope\n")
    )
    assert names_missing_from_facades(planted) == ["kernel_skills.surface.planted:2 bench.nope"]
