"""The bench package's stable names and the result field names docs/architecture.md lists."""

from __future__ import annotations

import kernel_skills.bench as bench
from kernel_skills.bench.models import BenchResult


def test_the_public_surface_is_pinned() -> None:
    assert sorted(bench.__all__) == [
        "Baseline",
        "BenchRequest",
        "BenchResult",
        "BufferTraffic",
        "Calibration",
        "Check",
        "CounterFinding",
        "Counters",
        "DATASHEET_PEAKS",
        "DATASHEET_SOURCE",
        "Device",
        "DeviceInfo",
        "Estimate",
        "Harness",
        "KernelInfo",
        "Launch",
        "LaunchCounters",
        "LineCounters",
        "MemoryCounters",
        "N_CHECK_SEEDS",
        "PROBLEMS_DIR_ENV",
        "Plan",
        "Pointer",
        "Prepared",
        "Problem",
        "ProblemInfo",
        "ProblemList",
        "ProblemRegistry",
        "Progress",
        "ResultList",
        "ScaledCounters",
        "ShapeChecks",
        "ShapeRun",
        "SharedCounters",
        "Steps",
        "Timeouts",
        "WORKER_MODULE",
        "WorkerPool",
        "WorkerProcess",
        "calibrate_device",
        "check_abi",
        "check_compiled_arch",
        "check_problems",
        "check_shape",
        "check_shapes",
        "correctness_checks",
        "db_path",
        "estimate_model",
        "execute",
        "get_result",
        "gpu_steps",
        "h100_estimate",
        "h100_peaks",
        "import_files",
        "keep_result",
        "launch_info",
        "list_problems",
        "list_results",
        "load_registry",
        "no_progress",
        "plan",
        "prepare",
        "problem_info",
        "provenance",
        "rebuilt_error",
        "recent_result_ids",
        "refit_estimate",
        "require_cuda_device",
        "require_module",
        "sizes_text",
        "solution_request_fields",
        "timed_shapes",
        "with_measurement",
    ]


def test_the_verdict_entry_points_live_above_bench_emulator_and_executors() -> None:
    import kernel_skills.dispatch as dispatch
    import kernel_skills.emulator as emulator

    assert sorted(dispatch.__all__) == ["add_counters", "benchmark", "calibrate", "on_emulator"]
    assert sorted(emulator.__all__) == ["LIMITS", "TIMING_NOTE", "build_engine", "cached_engine", "verify"]


def test_benchmark_results_carry_provenance_beyond_the_design_fields() -> None:
    """The stable names (docs/architecture.md) are pinned in tests/contract/test_stable_names.py; this
    pins the bench package's extras."""
    schema = BenchResult.model_json_schema()
    assert "provenance" in schema["properties"]
    assert {"driver", "torch", "cupy", "source_sha256", "date"} <= set(
        schema["$defs"]["Provenance"]["properties"]
    )
