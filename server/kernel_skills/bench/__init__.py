"""Benchmark submitted kernels against PyTorch: problems, plan -> prepare -> checks, the GPU run, results.
No MCP imports; ``bench`` imports neither ``emulator`` nor ``executors`` (see ``kernel_skills.dispatch``).

>>> from kernel_skills.dispatch import benchmark
>>> from kernel_skills.bench import BenchRequest
>>> result = benchmark(BenchRequest(problem="rmsnorm", source=src, kernel="rmsnorm",
...                                 block=[256], grid=["ceil_div(rows, 16)"]))

What every verdict shares (the GPU run here, the CPU emulator in ``kernel_skills.emulator``) is public
from ``bench.verdicts``: ``plan``, ``prepare``, ``check_shapes`` (the one shape loop) and the checks,
``provenance``, ``launch_info``. The names below load on first use (PEP 562), so importing the package
for its models does not pull in the runner, SQLite and the worker plumbing at server start-up.
"""

from __future__ import annotations

from kernel_skills import lazy

_EXPORTS = {
    "BenchRequest": "kernel_skills.bench.models",
    "BenchResult": "kernel_skills.bench.models",
    "Check": "kernel_skills.bench.models",
    "ProblemList": "kernel_skills.bench.models",
    "ResultList": "kernel_skills.bench.models",
    "calibrate_device": "kernel_skills.bench.api",
    "list_problems": "kernel_skills.bench.api",
    "list_results": "kernel_skills.bench.api",
    "execute": "kernel_skills.bench.judge",
    "gpu_steps": "kernel_skills.bench.judge",
    "N_CHECK_SEEDS": "kernel_skills.bench.verdicts",
    "Plan": "kernel_skills.bench.verdicts",
    "Prepared": "kernel_skills.bench.verdicts",
    "Progress": "kernel_skills.bench.verdicts",
    "ShapeChecks": "kernel_skills.bench.verdicts",
    "ShapeRun": "kernel_skills.bench.verdicts",
    "Steps": "kernel_skills.bench.verdicts",
    "Timeouts": "kernel_skills.bench.verdicts",
    "check_abi": "kernel_skills.bench.verdicts",
    "check_compiled_arch": "kernel_skills.bench.verdicts",
    "check_shapes": "kernel_skills.bench.verdicts",
    "correctness_checks": "kernel_skills.bench.verdicts",
    "launch_info": "kernel_skills.bench.verdicts",
    "no_progress": "kernel_skills.bench.verdicts",
    "plan": "kernel_skills.bench.verdicts",
    "prepare": "kernel_skills.bench.verdicts",
    "provenance": "kernel_skills.bench.verdicts",
    "sizes_text": "kernel_skills.bench.verdicts",
    "timed_shapes": "kernel_skills.bench.verdicts",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy.exports(__name__, _EXPORTS)
