"""The SIMT emulator is not a rubber stamp: the GPU tests' wrong kernels (tests/bench/wrong_kernels/)
fail on it the way the GPU tests expect them to fail on an H100, a one-element overflow is caught
by the engine's own bounds checks, warp-level misuse is refused, and a one-line change to the
attention kernel's operands makes it fail. Also: the GPU tests' "good" kernel passes, and the
attention kernel's PTX (what the engine runs) holds its mma.sync and is judged correct unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from simt_runner import build_simt, check_on_emulator, failed_comparisons
from tests.shared_runtime import RUNTIME

from kernel_skills.bench.registry import load_registry
from kernel_skills.emulator.harness import EmulatedKernel
from kernel_skills.errors import EmulatorFault, KernelFault, Timeout
from kernel_skills.paths import bundled_kernels_dir
from kernel_skills.toolchain import CompileRequest, compile_source, load_ptx

BENCH_TESTS = Path(__file__).parents[1] / "bench"
REGISTRY = load_registry(use_env=False)
GELU = REGISTRY.get("gelu_tanh")
GELU_SIZES = {"n": 1001}
SEEDS = [1, 2, 3]


def _gelu_check(kernel: EmulatedKernel) -> dict[str, Any]:
    return check_on_emulator(kernel, GELU, GELU_SIZES, block=[256], grid=["ceil_div(n, 256)"], seeds=SEEDS)


def _build_source(tmp_path: Path, text: str, kernel: str = "gelu_tanh") -> EmulatedKernel:
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


def _engine_report(fault: KernelFault) -> dict[str, Any]:
    """The engine's own report under the Harness's KernelFault (kind, message, buffer, index, line)."""
    cause = fault.__cause__
    assert isinstance(cause, EmulatorFault), f"not an engine fault: {fault}"
    return cause.report


@pytest.mark.parametrize(
    ("name", "kind", "expected", "line"),
    [
        (
            "oob_write.cu",
            "out_of_bounds",
            "write of 2 bytes at address 0x[0-9a-f]+, which is in no buffer",
            6,
        ),
        ("trap.cu", "trap", r"the kernel executed trap \(__trap\(\)", 5),
    ],
)
def test_faulting_kernels_raise_kernel_fault(
    tmp_path: Path, name: str, kind: str, expected: str, line: int
) -> None:
    exe = build_simt(BENCH_TESTS / "wrong_kernels" / name, "gelu_tanh", tmp_path)
    with pytest.raises(KernelFault, match="faulted") as info:
        _gelu_check(exe)
    report = _engine_report(info.value)
    assert report["kind"] == kind and re.search(expected, report["message"]), report
    assert report["line"] == line  # the .cu file's own line, from NVRTC's -lineinfo


def test_a_hang_is_cut_off_by_the_instruction_budget(tmp_path: Path) -> None:
    exe = build_simt(
        BENCH_TESTS / "wrong_kernels" / "infinite_loop.cu", "gelu_tanh", tmp_path, budget=200_000
    )
    with pytest.raises(KernelFault, match="did not finish within the emulator's budget of 200000") as info:
        _gelu_check(exe)
    assert isinstance(info.value.__cause__, Timeout)


def test_a_parameter_type_outside_the_abi_is_refused(tmp_path: Path) -> None:
    exe = build_simt(BENCH_TESTS / "wrong_kernels" / "wrong_signature.cu", "gelu_tanh", tmp_path)
    with pytest.raises(KernelFault, match=r"(?i)parameter"):
        _gelu_check(exe)


_SIGNATURE = 'extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n)'
# misuse -> (kernel body, the engine's finding: kind, message, and the report's buffer, index, line)
_MISUSES: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "write-one-past-the-end": (
        """  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) out[i] = __float2bfloat16(0.f);  // i == n is one past the end""",
        "out_of_bounds",
        "write of 2 bytes at element 1001 of 'out', which has 1001 elements \\(one past the end\\)",
        {"buffer": "out", "index": 1001, "line": 4},
    ),
    "misaligned-vector-load": (
        """  uint4 v = __ldg(reinterpret_cast<const uint4*>(x + 1));  // 2 bytes past a 16-byte boundary
  if (threadIdx.x == 0 && blockIdx.x == 0 && n > 64) out[0] = *reinterpret_cast<__nv_bfloat16*>(&v);""",
        "misaligned",
        "a 16-byte load at an address that is not a multiple of 16",
        {"buffer": "x", "offset": 2, "line": 3},
    ),
    "shuffle-after-lanes-exited": (
        """  if (threadIdx.x % 32 == 31) return;  // this lane leaves before the warp-wide shuffle
  float v = __shfl_xor_sync(0xffffffffu, 1.f, 1);
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16(v);""",
        "warp_misuse",
        "__shfl_sync with member mask 0xffffffff names lanes that do not execute it here \\(lane 31,",
        {"line": 4},
    ),
}


@pytest.mark.parametrize("misuse", list(_MISUSES))
def test_memory_and_warp_misuse_is_caught(tmp_path: Path, misuse: str) -> None:
    body, kind, expected, where = _MISUSES[misuse]
    exe = _build_source(tmp_path, f"#include <cuda_bf16.h>\n{_SIGNATURE} {{\n{body}\n}}\n")
    with pytest.raises(KernelFault, match=f"{kind}: {expected}") as info:
        _gelu_check(exe)
    report = _engine_report(info.value)
    assert report["kind"] == kind and {k: report[k] for k in where} == where, report


ATTENTION = bundled_kernels_dir() / "attention" / "attention.cu"
ATTENTION_SIZES = {"batch": 1, "heads": 1, "seq_q": 64, "seq_kv": 64}


def _attention_check(kernel: EmulatedKernel) -> dict[str, Any]:
    solution = json.loads((bundled_kernels_dir() / "solutions.json").read_text())["attention_hd64"]
    return check_on_emulator(
        kernel,
        REGISTRY.get("attention_hd64"),
        ATTENTION_SIZES,
        block=solution["block"],
        grid=solution["grid"],
        shared_mem=solution["shared_mem"],
        seeds=SEEDS,
    )


def test_the_attention_kernels_ptx_holds_its_mma_and_the_engine_runs_it(tmp_path: Path) -> None:
    source = ATTENTION.read_text(encoding="utf-8")
    assert source.count('asm("mma.sync') == 1  # one inline mma, inlined at two call sites
    compiled = compile_source(
        CompileRequest(source=source, arch="sm_90a", options=["-std=c++17"]), toolchain=RUNTIME.toolchain
    )
    assert compiled.ok and compiled.compile_id is not None
    ptx = load_ptx(compiled.compile_id)
    assert "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32" in ptx
    report = _attention_check(build_simt(ATTENTION, "attention_hd64", tmp_path))
    assert not failed_comparisons(report) and report["inputs_mutated"] == []
    assert report["determinism"]["bitwise_identical"]


def test_swapping_the_attention_kernels_b_operands_is_caught(tmp_path: Path) -> None:
    original = ATTENTION.read_text(encoding="utf-8")
    needle = "ld32(krow + kk * 16), ld32(krow + kk * 16 + 8)"
    assert original.count(needle) == 1
    exe = _build_source(
        tmp_path, original.replace(needle, "ld32(krow + kk * 16 + 8), ld32(krow + kk * 16)"), "attention_hd64"
    )
    assert len(failed_comparisons(_attention_check(exe))) == len(SEEDS)
