"""Import a Python file by path as a uniquely named module: a user's problem module or a KernelBench
file (trusted code the user named; see docs/problems.md). Any failure is the author's ProblemError."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from kernel_skills.errors import ProblemError


def import_python_file(path: Path, prefix: str) -> ModuleType:
    """The module of ``path``, named ``<prefix>_<hash of its path>_<stem>`` in ``sys.modules``."""
    name = f"{prefix}_{abs(hash(str(path.resolve())))}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ProblemError(str(path), "the module", "a Python file (*.py)", "a file Python cannot import")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a user's file may raise anything while importing
        sys.modules.pop(name, None)
        raise ProblemError(
            str(path), "import", "a module that imports", f"importing it raised {raised(exc)}"
        ) from exc
    return module


def raised(exc: Exception) -> str:
    """``SyntaxError: invalid syntax (line 3)``: the exception and, where Python knows it, the line."""
    line = getattr(exc, "lineno", None)
    return f"{type(exc).__name__}: {exc}" + (f" (line {line})" if line and "line" not in str(exc) else "")


__all__ = ["import_python_file", "raised"]
