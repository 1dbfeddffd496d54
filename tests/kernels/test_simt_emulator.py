"""The SIMT emulator is not a rubber stamp: the GPU tests' wrong kernels (tests/bench/wrong_kernels/)
fail on it the way the GPU tests expect them to fail on an H100, a one-element overflow is caught
by the engine's own bounds checks, warp-level misuse is refused, and a one-line change to the
attention kernel's operands makes it fail. Also: the GPU tests' "good" kernel passes, and the
emulator's rewrite finds the attention kernel's one mma asm."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from simt_runner import build_simt, check_on_emulator, failed_comparisons

from kernel_skills.bench.registry import load_registry
from kernel_skills.emulator.rewrite import prepare_source
from kernel_skills.errors import KernelFault
from kernel_skills.paths import bundled_kernels_dir

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="the SIMT emulator is built with g++")

BENCH_TESTS = Path(__file__).parents[1] / "bench"
REGISTRY = load_registry(use_env=False)
GELU = REGISTRY.get("gelu_tanh")
GELU_SIZES = {"n": 1001}
SEEDS = [1, 2, 3]


def _gelu_check(exe: Path, *, timeout: float = 120) -> dict[str, Any]:
    return check_on_emulator(
        exe, GELU, GELU_SIZES, block=[256], grid=["ceil_div(n, 256)"], seeds=SEEDS, timeout=timeout
    )


def _build_source(tmp_path: Path, text: str, kernel: str = "gelu_tanh") -> Path:
    source = tmp_path / f"{kernel}.cu"
    source.write_text(text, encoding="utf-8")
    return build_simt(source, kernel, tmp_path / "build")


def test_the_gpu_tests_good_kernel_passes(tmp_path: Path) -> None:
    exe = build_simt(BENCH_TESTS / "good_kernels" / "gelu_tanh.cu", "gelu_tanh", tmp_path)
    report = _gelu_check(exe)
    assert not failed_comparisons(report) and report["inputs_mutated"] == []


def test_off_by_one_fails_at_the_last_element(tmp_path: Path) -> None:
    exe = build_simt(BENCH_TESTS / "wrong_kernels" / "off_by_one.cu", "gelu_tanh", tmp_path)
    failed = failed_comparisons(_gelu_check(exe))
    assert len(failed) == len(SEEDS)
    assert all(c["n_bad"] == 1 and c["worst"]["index"] == [GELU_SIZES["n"] - 1] for c in failed)


def test_output_untouched_fails_everywhere(tmp_path: Path) -> None:
    exe = build_simt(BENCH_TESTS / "wrong_kernels" / "output_untouched.cu", "gelu_tanh", tmp_path)
    failed = failed_comparisons(_gelu_check(exe))
    assert len(failed) == len(SEEDS) and all(c["n_nan"] == GELU_SIZES["n"] for c in failed)


def test_input_mutation_is_reported(tmp_path: Path) -> None:
    exe = build_simt(BENCH_TESTS / "wrong_kernels" / "mutate_input.cu", "gelu_tanh", tmp_path)
    report = _gelu_check(exe)
    assert report["inputs_mutated"] and "input 'x'" in report["inputs_mutated"][0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("oob_write.cu", "outside every buffer"), ("trap.cu", "__trap() called")],
)
def test_faulting_kernels_raise_kernel_fault(tmp_path: Path, name: str, expected: str) -> None:
    exe = build_simt(BENCH_TESTS / "wrong_kernels" / name, "gelu_tanh", tmp_path)
    with pytest.raises(KernelFault, match="faulted") as info:
        _gelu_check(exe)
    assert expected in str(info.value)


def test_a_hang_is_cut_off_by_the_timeout(tmp_path: Path) -> None:
    exe = build_simt(BENCH_TESTS / "wrong_kernels" / "infinite_loop.cu", "gelu_tanh", tmp_path)
    with pytest.raises(KernelFault, match="did not finish in 2 s"):
        _gelu_check(exe, timeout=2)


def test_a_parameter_type_outside_the_abi_is_refused(tmp_path: Path) -> None:
    exe = build_simt(BENCH_TESTS / "wrong_kernels" / "wrong_signature.cu", "gelu_tanh", tmp_path)
    with pytest.raises(KernelFault, match="parameter type other than pointer, int or float"):
        _gelu_check(exe)


_SIGNATURE = 'extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n)'
_MISUSES = {
    "write-one-past-the-end": (
        """  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) out[i] = __float2bfloat16(0.f);  // i == n is one past the end""",
        "out-of-bounds write of 2 bytes: 'out' has 1001 elements .* accesses element 1001",
    ),
    "misaligned-vector-load": (
        """  uint4 v = __ldg(reinterpret_cast<const uint4*>(x + 1));  // 2 bytes past a 16-byte boundary
  if (threadIdx.x == 0 && blockIdx.x == 0 && n > 64) out[0] = *reinterpret_cast<__nv_bfloat16*>(&v);""",
        "misaligned vector access",
    ),
    "shuffle-after-lanes-exited": (
        """  if (threadIdx.x % 32 == 31) return;  // this lane leaves before the warp-wide shuffle
  float v = __shfl_xor_sync(0xffffffffu, 1.f, 1);
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16(v);""",
        "warp.misuse: .* exits while lane 0 waits for it in __shfl_xor_sync",
    ),
}


@pytest.mark.parametrize("misuse", list(_MISUSES))
def test_memory_and_warp_misuse_is_caught(tmp_path: Path, misuse: str) -> None:
    body, expected = _MISUSES[misuse]
    exe = _build_source(tmp_path, f"#include <cuda_bf16.h>\n{_SIGNATURE} {{\n{body}\n}}\n")
    with pytest.raises(KernelFault, match=expected):
        _gelu_check(exe)


def test_the_attention_kernel_has_exactly_one_mma_asm_and_it_is_rewritten() -> None:
    source = (bundled_kernels_dir() / "attention" / "attention.cu").read_text(encoding="utf-8")
    rewritten = prepare_source(source)
    call = "::simt::mma_m16n8k16_bf16_operands(c[0], c[1], c[2], c[3], a[0], a[1], a[2], a[3], b0, b1);"
    assert rewritten.count(call) == 1
    assert "asm(" not in rewritten
    assert rewritten.count("\n") == source.count("\n")  # lines keep their numbers


def test_swapping_the_attention_kernels_b_operands_is_caught(tmp_path: Path) -> None:
    original = (bundled_kernels_dir() / "attention" / "attention.cu").read_text(encoding="utf-8")
    needle = "ld32(krow + kk * 16), ld32(krow + kk * 16 + 8)"
    assert original.count(needle) == 1
    exe = _build_source(
        tmp_path, original.replace(needle, "ld32(krow + kk * 16 + 8), ld32(krow + kk * 16)"), "attention_hd64"
    )
    problem = REGISTRY.get("attention_hd64")
    solution = json.loads((bundled_kernels_dir() / "solutions.json").read_text())["attention_hd64"]
    sizes = {"batch": 1, "heads": 1, "seq_q": 64, "seq_kv": 64}
    report = check_on_emulator(
        exe,
        problem,
        sizes,
        block=solution["block"],
        grid=solution["grid"],
        shared_mem=solution["shared_mem"],
        seeds=SEEDS,
    )
    assert len(failed_comparisons(report)) == len(SEEDS)
