"""Timing statistics, the stopping rule, and the roofline / plausibility arithmetic."""

from __future__ import annotations

import math

import pytest

from kernel_skills.bench import roofline
from kernel_skills.bench.stats import relative_sem, should_stop, summarize


def test_summary_statistics_match_hand_computed_values() -> None:
    stats = summarize([10.0, 12.0, 11.0, 13.0, 100.0])
    assert stats.median == 12.0
    assert stats.mean == pytest.approx(29.2)
    assert stats.std == pytest.approx(math.sqrt(sum((x - 29.2) ** 2 for x in [10, 12, 11, 13, 100]) / 4))
    assert stats.n == 5
    assert stats.sem == pytest.approx(stats.std / math.sqrt(5))
    assert stats.min == 10.0


def test_a_single_sample_has_zero_spread_and_no_samples_is_an_error() -> None:
    assert summarize([5.0]).std == 0.0
    with pytest.raises(ValueError):
        summarize([])


def test_relative_sem_is_infinite_until_it_can_be_estimated() -> None:
    assert relative_sem([1.0]) == math.inf
    assert relative_sem([1.0, 1.0, 1.0]) == 0.0


def test_stopping_rule_waits_for_min_reps_then_the_sem_target() -> None:
    steady = [100.0] * 9
    assert not should_stop(steady, elapsed_ms=1.0, min_reps=10)
    assert should_stop([*steady, 100.0], elapsed_ms=1.0, min_reps=10)
    noisy = [50.0, 150.0] * 10  # sem/mean = 0.23
    assert not should_stop(noisy, elapsed_ms=1.0, min_reps=10)
    assert should_stop(noisy, elapsed_ms=5000.0, cap_ms=3000.0)  # the time cap ends it
    assert should_stop([50.0, 150.0] * 50, elapsed_ms=1.0, max_reps=100)  # and the count cap


def test_roofline_floor_takes_the_larger_of_memory_and_compute_time() -> None:
    peaks = roofline.Peaks(copy_gbps=3000.0, bf16_tflops=800.0)
    mem = roofline.floor(3_000_000_000, 1000, peaks)  # 3 GB at 3 TB/s = 1000 us
    assert mem.bound == "memory"
    assert mem.floor_us == pytest.approx(1000.0)
    comp = roofline.floor(1000, 8 * 10**11, peaks)  # 0.8 TFLOP at 800 TFLOP/s = 1000 us
    assert comp.bound == "compute"
    assert comp.floor_us == pytest.approx(1000.0)


def test_achieved_rates_and_fraction_of_peak() -> None:
    peaks = roofline.Peaks(copy_gbps=3000.0, bf16_tflops=800.0)
    assessed = roofline.assess(3_000_000_000, 0, 2000.0, peaks)
    assert assessed.fraction_of_peak == pytest.approx(0.5)
    got = roofline.achieved(3_000_000_000, 2 * 10**12, 2000.0)
    assert got.gbps == pytest.approx(1500.0)
    assert got.tflops == pytest.approx(1000.0)


def test_times_below_the_floor_are_implausible_and_big_speedups_flagged() -> None:
    assert roofline.plausible(100.0, 100.0)
    assert roofline.plausible(91.0, 100.0)  # within the calibration slack
    assert not roofline.plausible(50.0, 100.0)
    assert roofline.speedup_flagged(10.5)
    assert not roofline.speedup_flagged(9.9)
