"""The bench package's stable names and the result field names docs/architecture.md lists."""

from __future__ import annotations

import kernel_skills.bench as bench
from kernel_skills.bench.models import BenchResult


def test_the_public_surface_is_pinned() -> None:
    assert sorted(bench.__all__) == [
        "BenchRequest",
        "BenchResult",
        "Check",
        "N_CHECK_SEEDS",
        "Plan",
        "Prepared",
        "ProblemList",
        "Progress",
        "ResultList",
        "ShapeChecks",
        "ShapeRun",
        "Steps",
        "Timeouts",
        "calibrate_device",
        "check_abi",
        "check_compiled_arch",
        "check_shapes",
        "correctness_checks",
        "execute",
        "gpu_steps",
        "launch_info",
        "list_problems",
        "list_results",
        "no_progress",
        "plan",
        "prepare",
        "provenance",
        "sizes_text",
        "timed_shapes",
    ]


def test_the_verdict_entry_points_live_above_bench_emulator_and_executors() -> None:
    import kernel_skills.dispatch as dispatch
    import kernel_skills.emulator as emulator

    assert sorted(dispatch.__all__) == ["add_counters", "benchmark", "calibrate", "on_emulator"]
    assert sorted(emulator.__all__) == ["LIMITS", "TIMING_NOTE", "verify"]


def test_benchmark_results_carry_provenance_beyond_the_design_fields() -> None:
    """DESIGN.md's field names are pinned in tests/contract; this pins the bench package's extras."""
    schema = BenchResult.model_json_schema()
    assert "provenance" in schema["properties"]
    assert {"driver", "torch", "cupy", "source_sha256", "date"} <= set(
        schema["$defs"]["Provenance"]["properties"]
    )
