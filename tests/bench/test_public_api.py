"""The bench package's stable names and the result field names DESIGN.md fixes."""

from __future__ import annotations

import kernel_skills.bench as bench
from kernel_skills.bench.models import BenchResult


def test_the_public_surface_is_pinned() -> None:
    assert sorted(bench.__all__) == [
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


def test_benchmark_results_carry_the_contracted_field_names() -> None:
    fields = set(BenchResult.model_fields)
    assert {
        "ok",
        "correct",
        "checks",
        "time_us",
        "baseline_us",
        "speedup",
        "achieved",
        "roofline",
        "kernel",
        "device",
        "provenance",
    } <= fields
    schema = BenchResult.model_json_schema()
    defs = schema["$defs"]
    assert {"median", "mean", "std", "n"} <= set(defs["TimeStats"]["properties"])
    assert {"gbps", "tflops"} <= set(defs["Achieved"]["properties"])
    assert {"bound", "floor_us", "fraction_of_peak"} <= set(defs["Roofline"]["properties"])
    assert {"name", "passed", "detail"} <= set(defs["Check"]["properties"])
    assert {"driver", "torch", "cupy", "source_sha256", "date"} <= set(defs["Provenance"]["properties"])
