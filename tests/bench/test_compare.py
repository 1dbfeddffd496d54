"""Tolerance logic (NaN/Inf never pass) and the readable mismatch report."""

from __future__ import annotations

import torch

from kernel_skills.bench.compare import compare, unravel


def test_values_within_atol_plus_rtol_pass() -> None:
    expected = torch.tensor([1.0, -2.0, 100.0, 0.0])
    actual = expected + torch.tensor([0.0109, -0.029, 1.009, 0.0099])  # atol 0.01 + rtol 0.01*|e|
    result = compare(actual, expected, atol=1e-2, rtol=1e-2)
    assert result.passed, result.report
    assert result.n_bad == 0
    assert "all 4 elements within" in result.report


def test_one_element_outside_tolerance_fails_with_its_index_tuple() -> None:
    expected = torch.zeros(3, 4)
    actual = expected.clone()
    actual[2, 1] = 0.5
    result = compare(actual, expected, atol=1e-2, rtol=1e-2, name="out")
    assert not result.passed
    assert result.n_bad == 1
    assert result.worst is not None and result.worst.index == [2, 1]
    assert result.max_abs_error == 0.5
    assert "1 of 12 elements" in result.report
    assert "worst at (2, 1): got 0.5, expected 0" in result.report


def test_nan_and_inf_in_the_output_never_pass() -> None:
    expected = torch.ones(5)
    for bad in (float("nan"), float("inf"), float("-inf")):
        actual = expected.clone()
        actual[3] = bad
        result = compare(actual, expected, atol=1e9, rtol=1e9)
        assert not result.passed
        assert result.first_mismatches[0].index == [3]
    nan_result = compare(torch.tensor([1.0, float("nan")]), torch.ones(2), atol=0.1, rtol=0.1)
    assert nan_result.n_nan == 1
    assert "never written" in nan_result.report


def test_an_entirely_unwritten_output_says_so() -> None:
    result = compare(torch.full((4, 4), float("nan")), torch.ones(4, 4), atol=0.1, rtol=0.1)
    assert not result.passed
    assert "every one of 16 elements is NaN" in result.report


def test_bf16_outputs_are_compared_in_float64_against_float32_references() -> None:
    expected = torch.linspace(-3, 3, 101)
    actual = expected.to(torch.bfloat16)
    assert compare(actual, expected, atol=1e-2, rtol=1e-2).passed


def test_report_lists_the_first_mismatches_in_order_and_counts_all() -> None:
    expected = torch.zeros(2, 10)
    actual = expected.clone()
    actual[0, 7] = 1.0
    actual[1, 2] = 3.0
    actual[1, 9] = 2.0
    result = compare(actual, expected, atol=1e-3, rtol=0.0)
    assert [m.index for m in result.first_mismatches] == [[0, 7], [1, 2], [1, 9]]
    assert result.worst is not None and result.worst.index == [1, 2]
    assert "3 of 20 elements (15%)" in result.report
    assert "first mismatches: (0, 7) got 1 expected 0; (1, 2) got 3 expected 0" in result.report


def test_shape_mismatch_is_an_error_not_a_silent_broadcast() -> None:
    import pytest

    with pytest.raises(ValueError, match="does not match"):
        compare(torch.zeros(3), torch.zeros(3, 1), atol=0, rtol=0)


def test_unravel_turns_flat_indices_into_index_tuples() -> None:
    assert unravel(0, (2, 3, 4)) == [0, 0, 0]
    assert unravel(23, (2, 3, 4)) == [1, 2, 3]
    assert unravel(5, (6,)) == [5]
