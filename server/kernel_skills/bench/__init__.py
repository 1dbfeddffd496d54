"""Benchmark submitted kernels against PyTorch on a GPU worker process. No MCP imports.

>>> from kernel_skills.bench import BenchRequest, benchmark
>>> result = benchmark(BenchRequest(problem="rmsnorm", source=src, kernel="rmsnorm",
...                                 block=[256], grid=["ceil_div(rows, 16)"]))
"""

from kernel_skills.bench.api import calibrate, list_problems, list_results
from kernel_skills.bench.models import BenchRequest, BenchResult, Check, ProblemList, ResultList
from kernel_skills.bench.runner import benchmark

__all__ = [
    "BenchRequest",
    "BenchResult",
    "Check",
    "ProblemList",
    "ResultList",
    "benchmark",
    "calibrate",
    "list_problems",
    "list_results",
]
