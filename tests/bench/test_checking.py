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
    checksum,
    kernel_args,
    prepare_timing_sets,
    verify_checksums,
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


def test_timed_outputs_must_match_the_verified_checksum() -> None:
    h = _harness(good)
    sets = prepare_timing_sets(h, [5, 6])
    assert not isinstance(sets, str)
    good_sums = [(i % 2, checksum(sets[i % 2].outputs)) for i in range(4)]
    assert verify_checksums(sets, good_sums) is None
    sets[1].outputs["out"].fill_(float("nan"))
    bad = [*good_sums, (1, checksum(sets[1].outputs))]
    assert "timed call #5 produced an output different" in (verify_checksums(sets, bad) or "")


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
