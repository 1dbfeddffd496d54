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


def test_benchmark_results_carry_provenance_beyond_the_design_fields() -> None:
    """DESIGN.md's field names are pinned in tests/contract; this pins the bench package's extras."""
    schema = BenchResult.model_json_schema()
    assert "provenance" in schema["properties"]
    assert {"driver", "torch", "cupy", "source_sha256", "date"} <= set(
        schema["$defs"]["Provenance"]["properties"]
    )
