"""Benchmark submitted kernels against PyTorch on a GPU worker process. No MCP imports.

>>> from kernel_skills.bench import BenchRequest, benchmark
>>> result = benchmark(BenchRequest(problem="rmsnorm", source=src, kernel="rmsnorm",
...                                 block=[256], grid=["ceil_div(rows, 16)"]))

The names below load on first use (PEP 562), so importing the package for its models does not pull
in the runner, SQLite and the worker plumbing at server start-up.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BenchRequest": "kernel_skills.bench.models",
    "BenchResult": "kernel_skills.bench.models",
    "Check": "kernel_skills.bench.models",
    "ProblemList": "kernel_skills.bench.models",
    "ResultList": "kernel_skills.bench.models",
    "benchmark": "kernel_skills.bench.judge",
    "calibrate": "kernel_skills.bench.api",
    "list_problems": "kernel_skills.bench.api",
    "list_results": "kernel_skills.bench.api",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kernel_skills.bench' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
