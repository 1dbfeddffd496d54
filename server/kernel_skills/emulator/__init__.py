"""The CPU SIMT emulator: correctness verdicts for CUDA kernels without a GPU. No MCP imports.

``dispatch.benchmark(BenchRequest(..., device="emulator"))`` (and ``"auto"`` without a GPU) ends in
``verify`` (exported here, with ``LIMITS`` and ``TIMING_NOTE``). It imports ``bench``'s public names
only, never ``executors`` or ``dispatch`` above it. The parts, one job each:

- ``cpp/``: the engine (C++ headers and the runner, package data built on demand with g++);
- ``rewrite``: refuses what the engine cannot run faithfully, rewrites the few constructs it models;
- ``build``: the cached, confined g++ build of a kernel's runner;
- ``protocol``: the job a runner reads, the bytes it writes back, its fault report;
- ``sandbox``: ``run_confined`` (Landlock, limits, process group, timeout) with the ``confine.cpp``
  launcher; ``gxx``: finding and running g++;
- ``harness``: the benchmark's ``Harness`` with each launch a confined runner process;
- ``verdict``: the ``BenchResult`` with ``verified_on="cpu-emulator"``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LIMITS": "kernel_skills.emulator.verdict",
    "TIMING_NOTE": "kernel_skills.emulator.verdict",
    "verify": "kernel_skills.emulator.verdict",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """The names above load on first use (PEP 562): importing one part does not build the rest."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kernel_skills.emulator' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
