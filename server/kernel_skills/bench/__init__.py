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
    "PROBLEMS_DIR_ENV": "kernel_skills.bench.registry",
    "WORKER_MODULE": "kernel_skills.bench.worker",
    "estimate_model": "kernel_skills.bench.calibration",
    "get_result": "kernel_skills.bench.results_db",
    "h100_peaks": "kernel_skills.bench.calibration",
    "keep_result": "kernel_skills.bench.results_db",
    "recent_result_ids": "kernel_skills.bench.results_db",
    "Baseline": "kernel_skills.bench.models",
    "BufferTraffic": "kernel_skills.bench.models",
    "Calibration": "kernel_skills.bench.models",
    "CounterFinding": "kernel_skills.bench.models",
    "Counters": "kernel_skills.bench.models",
    "DATASHEET_PEAKS": "kernel_skills.bench.estimate",
    "DATASHEET_SOURCE": "kernel_skills.bench.estimate",
    "Device": "kernel_skills.bench.models",
    "DeviceInfo": "kernel_skills.bench.models",
    "Estimate": "kernel_skills.bench.models",
    "Harness": "kernel_skills.bench.checking",
    "KernelInfo": "kernel_skills.bench.models",
    "Launch": "kernel_skills.bench.launch",
    "LaunchCounters": "kernel_skills.bench.models",
    "LineCounters": "kernel_skills.bench.models",
    "MemoryCounters": "kernel_skills.bench.models",
    "Pointer": "kernel_skills.bench.spec",
    "Problem": "kernel_skills.bench.spec",
    "ProblemInfo": "kernel_skills.bench.models",
    "ProblemRegistry": "kernel_skills.bench.registry",
    "ScaledCounters": "kernel_skills.bench.models",
    "SharedCounters": "kernel_skills.bench.models",
    "WorkerPool": "kernel_skills.bench.worker",
    "WorkerProcess": "kernel_skills.bench.worker",
    "check_problems": "kernel_skills.bench.problem_check",
    "check_shape": "kernel_skills.bench.checking",
    "db_path": "kernel_skills.bench.results_db",
    "h100_estimate": "kernel_skills.bench.estimate",
    "import_files": "kernel_skills.bench.kernelbench",
    "load_registry": "kernel_skills.bench.registry",
    "problem_info": "kernel_skills.bench.api",
    "rebuilt_error": "kernel_skills.bench.worker",
    "refit_estimate": "kernel_skills.bench.api",
    "require_cuda_device": "kernel_skills.bench.device",
    "require_module": "kernel_skills.bench.device",
    "solution_request_fields": "kernel_skills.bench.solutions",
    "with_measurement": "kernel_skills.bench.estimate",
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
