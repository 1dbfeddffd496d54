"""The correctness harness's defenses, run on CPU through the same thin launch/sync boundary the
GPU worker uses, with Python stand-ins for the kernels (the CUDA versions live in wrong_kernels/)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from kernel_skills.bench.checking import (
    Harness,
    check_shape,
    kernel_args,
    poison,
    prepare_timing_sets,
    timed_mismatches,
    verify_timed_outputs,
)
from kernel_skills.bench.registry import load_registry
from kernel_skills.errors import KernelFault

GELU = load_registry(use_env=False).get("gelu_tanh")
SIZES = {"n": 1001}
SEEDS = [11, 22, 33]


def _gelu(x: torch.Tensor) -> torch.Tensor:
    return F.gelu(x.float(), approximate="tanh").to(torch.bfloat16)


def _harness(kernel: Callable[[dict[str, Any], dict[str, Any]], None]) -> Harness:
    return Harness(GELU, dict(SIZES), "cpu", kernel, lambda: None)


def good(inputs, outputs):
    outputs["out"].copy_(_gelu(inputs["x"]))


def off_by_one(inputs, outputs):
    outputs["out"][:-1].copy_(_gelu(inputs["x"][:-1]))


def untouched(inputs, outputs):
    pass


def mutating(inputs, outputs):
    good(inputs, outputs)
    inputs["x"][5:9].zero_()


def reads_its_output(inputs, outputs):
    # max(poison, value): NaN poison is ignored by fmax, the finite poison of the re-run is not.
    outputs["out"].copy_(torch.fmax(outputs["out"].float(), _gelu(inputs["x"]).float()).to(torch.bfloat16))


def make_pointer_cache():
    cache: dict[int, torch.Tensor] = {}

    def kernel(inputs, outputs):
        key = inputs["x"].data_ptr()
        if key not in cache:
            cache[key] = _gelu(inputs["x"])
        outputs["out"].copy_(cache[key])

    return kernel


def noisy_within_tolerance(inputs, outputs):
    value = F.gelu(inputs["x"].float(), approximate="tanh")
    outputs["out"].copy_((value * (1 + 1e-3 * torch.rand_like(value))).to(torch.bfloat16))


def faulting(inputs, outputs):
    raise RuntimeError("CUDA error: an illegal memory access was encountered")


def _comparisons(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c | {"placement": r["placement"]} for r in report["runs"] for c in r["comparisons"]]


def test_a_correct_kernel_passes_every_seed_placement_and_is_deterministic() -> None:
    report = check_shape(_harness(good), SEEDS)
    assert [r["placement"] for r in report["runs"]] == [
        "fresh buffers",
        "new data, same pointers",
        "fresh buffers at new addresses",
    ]
    assert all(c["passed"] for c in _comparisons(report))
    assert report["inputs_mutated"] == []
    assert report["determinism"]["bitwise_identical"]


def test_an_off_by_one_kernel_fails_at_the_last_index() -> None:
    report = check_shape(_harness(off_by_one), SEEDS)
    failed = [c for c in _comparisons(report) if not c["passed"]]
    assert len(failed) == 3
    assert failed[0]["n_bad"] == 1 and failed[0]["worst"]["index"] == [1000]
    assert "1 of 1,001 elements" in failed[0]["report"] and "(1000)" in failed[0]["report"]


def test_a_kernel_that_writes_nothing_fails_as_unwritten() -> None:
    report = check_shape(_harness(untouched), SEEDS)
    assert "every one of 1,001 elements is NaN" in _comparisons(report)[0]["report"]


def test_a_kernel_that_mutates_its_input_is_caught_with_the_index() -> None:
    report = check_shape(_harness(mutating), SEEDS)
    assert report["inputs_mutated"][0] == "input 'x': 4 elements changed, first at (5,)"
    assert all(c["passed"] for c in _comparisons(report))  # its outputs were right: only the mutation fails


def test_a_kernel_that_reads_its_output_buffer_fails_the_determinism_rerun() -> None:
    report = check_shape(_harness(reads_its_output), SEEDS)
    det = report["determinism"]
    assert not det["bitwise_identical"]
    assert not det["comparisons"][0]["passed"]


def test_a_kernel_caching_results_by_pointer_fails_on_new_data_at_the_same_pointers() -> None:
    report = check_shape(_harness(make_pointer_cache()), SEEDS)
    by_place = {c["placement"]: c["passed"] for c in _comparisons(report)}
    assert by_place == {
        "fresh buffers": True,
        "new data, same pointers": False,
        "fresh buffers at new addresses": True,
    }


def test_small_nondeterminism_within_tolerance_passes_but_is_noted() -> None:
    report = check_shape(_harness(noisy_within_tolerance), SEEDS)
    assert all(c["passed"] for c in _comparisons(report))
    assert not report["determinism"]["bitwise_identical"]
    assert all(c["passed"] for c in report["determinism"]["comparisons"])


def test_a_fault_during_a_launch_is_a_kernel_fault_naming_the_shape() -> None:
    with pytest.raises(
        KernelFault, match=r"faulted on gelu_tanh \(n=1001\), seed #1: RuntimeError: CUDA error"
    ):
        check_shape(_harness(faulting), SEEDS)


def _timed_counts(h: Harness, sets: list, calls: int) -> list[tuple[int, Any]]:
    """What time_kernel records: per timed call (re-poisoned, launched), its out-of-tolerance count."""
    counts = []
    for i in range(calls):
        timing_set = sets[i % len(sets)]
        poison(timing_set.outputs, "nan")
        timing_set.launch()
        counts.append((i % len(sets), timed_mismatches(h, timing_set)))
    return counts


def test_timed_outputs_are_judged_by_the_correctness_tolerance() -> None:
    h = _harness(good)
    sets = prepare_timing_sets(h, [5, 6])
    assert not isinstance(sets, str)
    counts = _timed_counts(h, sets, 4)
    assert verify_timed_outputs(h, counts) is None
    sets[1].outputs["out"].fill_(float("nan"))
    bad = [*counts, (1, timed_mismatches(h, sets[1]))]
    message = verify_timed_outputs(h, bad) or ""
    assert "timed call #5 (input set #2) produced 1,001 output elements outside the tolerance" in message


def test_a_kernel_varying_within_tolerance_passes_correctness_and_timed_verification() -> None:
    """An atomics-style kernel: not bitwise reproducible, always within tolerance — both paths agree."""
    h = _harness(noisy_within_tolerance)
    report = check_shape(h, SEEDS)
    assert all(c["passed"] for run in report["runs"] for c in run["comparisons"])
    assert not report["determinism"]["bitwise_identical"]
    assert all(c["passed"] for c in report["determinism"]["comparisons"])
    sets = prepare_timing_sets(h, [5, 6])
    assert not isinstance(sets, str)
    assert verify_timed_outputs(h, _timed_counts(h, sets, 6)) is None


def test_a_kernel_that_skips_work_on_later_calls_fails_timed_verification() -> None:
    calls = {"n": 0}

    def lazy(inputs, outputs):
        calls["n"] += 1
        if calls["n"] <= 2:  # right while verified, then does nothing (outputs stay poisoned)
            good(inputs, outputs)

    h = _harness(lazy)
    sets = prepare_timing_sets(h, [5, 6])
    assert not isinstance(sets, str)
    assert "timed call #1 (input set #1)" in (verify_timed_outputs(h, _timed_counts(h, sets, 2)) or "")


def test_timing_sets_are_refused_when_the_kernel_is_wrong_on_them() -> None:
    assert "timing input set #1" in prepare_timing_sets(_harness(off_by_one), [5, 6])


def test_kernel_arguments_have_the_exact_c_types_of_the_abi() -> None:
    import numpy

    rms = load_registry(use_env=False).get("rmsnorm")
    sizes = {"rows": 3, "dim": 8}
    x, w, out = torch.zeros(3, 8), torch.zeros(8), torch.zeros(3, 8)
    args = kernel_args(rms, sizes, {"x": x, "weight": w}, {"out": out})
    assert [type(a) for a in args] == [numpy.uint64] * 3 + [numpy.int32, numpy.int32, numpy.float32]
    assert int(args[0]) == x.data_ptr() and int(args[2]) == out.data_ptr()
    assert args[5] == numpy.float32(1e-6)


def _past_the_end(tensor: torch.Tensor, extra: int) -> torch.Tensor:
    """A view reaching ``extra`` elements beyond the tensor (a kernel's out-of-bounds index)."""
    return tensor.as_strided((tensor.numel() + extra,), (1,), tensor.storage_offset())


def _before_the_start(tensor: torch.Tensor, extra: int) -> torch.Tensor:
    return tensor.as_strided((tensor.numel() + extra,), (1,), tensor.storage_offset() - extra)


def writes_one_past_the_end(inputs, outputs):
    good(inputs, outputs)
    _past_the_end(outputs["out"], 1)[-1] = 1.0


def writes_one_before_the_start(inputs, outputs):
    good(inputs, outputs)
    _before_the_start(outputs["out"], 1)[0] = 1.0


def reads_past_the_end_of_its_input(inputs, outputs):
    good(inputs, outputs)
    _past_the_end(inputs["x"], 3)[-1] = 0.0  # an input written out of bounds too


def test_a_write_one_past_the_end_of_an_output_is_caught_with_its_offset() -> None:
    report = check_shape(_harness(writes_one_past_the_end), SEEDS)
    assert all(c["passed"] for run in report["runs"] for c in run["comparisons"])  # values are right
    assert report["out_of_bounds"]
    first = report["out_of_bounds"][0]
    assert first.startswith("seed #1: output 'out': 2 guard bytes overwritten after it")
    assert "the first 0 bytes past its end (element 0 past the last)" in first


def test_a_write_one_before_the_start_of_an_output_is_caught() -> None:
    report = check_shape(_harness(writes_one_before_the_start), SEEDS)
    first = report["out_of_bounds"][0]
    assert (
        "output 'out'" in first
        and "before it" in first
        and "the first 2 bytes before its start (element -1)" in first
    )


def test_an_out_of_bounds_write_next_to_an_input_is_caught_too() -> None:
    report = check_shape(_harness(reads_past_the_end_of_its_input), SEEDS)
    assert any("input 'x'" in line and "4 bytes past its end" in line for line in report["out_of_bounds"])


def test_a_correct_kernel_leaves_every_guard_intact_and_tensors_stay_aligned() -> None:
    seen: list[int] = []

    def recording(inputs, outputs):
        seen.extend(t.data_ptr() for t in (*inputs.values(), *outputs.values()))
        good(inputs, outputs)

    report = check_shape(_harness(recording), SEEDS)
    assert report["out_of_bounds"] == []
    assert seen and all(pointer % 256 == 0 for pointer in seen)


def test_timing_sets_record_guard_corruption_for_the_timed_calls() -> None:
    h = _harness(writes_one_past_the_end)
    h.out_of_bounds.clear()
    sets = prepare_timing_sets(h, [1, 2])
    assert not isinstance(sets, str)
    assert any(line.startswith("timing set #1: output 'out'") for line in h.out_of_bounds)
    sets[0].launch()
    assert h.check_guards("the timed calls")  # what time_kernel checks after the timed loop
