"""``errors.py`` is the whole error tree: no subclass of one of its errors is declared anywhere else.

Other exception classes exist only as a module's internal signal, caught before a caller outside its
room sees it (``catalog.FrontmatterError`` becomes an ``Issue``, ``workerproc.ChildGone`` a
``CompileError``/``KernelFault``, ``emulator.ptx``'s ``PtxError``/``Unsupported`` an
``EmulatorUnsupported``)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from kernel_skills import errors

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "kernel_skills"
TREE = {
    name for name, value in vars(errors).items() if inspect.isclass(value) and issubclass(value, Exception)
}


def subclasses_outside(tree: set[str], files: list[tuple[str, str]]) -> list[str]:
    """``file:line Class(Base)`` for each class in ``files`` (path, source) that derives from ``tree``."""
    found = []
    for path, text in files:
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases}
            if bases & tree:
                found.append(f"{path}:{node.lineno} {node.name}({', '.join(sorted(bases & tree))})")
    return found


def test_every_error_of_the_tree_is_declared_in_errors_py() -> None:
    files = [
        (str(p.relative_to(PACKAGE)), p.read_text(encoding="utf-8"))
        for p in sorted(PACKAGE.rglob("*.py"))
        if p.name != "errors.py" or p.parent != PACKAGE
    ]
    assert subclasses_outside(TREE, files) == []


def test_every_error_of_the_tree_is_exported() -> None:
    assert sorted(TREE - set(errors.__all__)) == []


def test_a_planted_subclass_elsewhere_is_found() -> None:
    planted = (
        "evals/planted.py",
        "from kernel_skills import errors\nclass Oops(errors.KernelFault):\n    pass\n",
    )
    assert subclasses_outside(TREE, [planted]) == ["evals/planted.py:2 Oops(KernelFault)"]
