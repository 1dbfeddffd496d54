"""The intrinsics a typical kernel uses compute what CUDA defines: one self-checking kernel exercises
shuffles (every variant, widths), votes, block votes, atomics on shared memory, vector types,
__half/__nv_bfloat16 conversions and arithmetic and the math functions, and traps (with the failing
line) on the first wrong value; it must run clean on the engine (NVRTC's PTX) and copy its input.
Shuffles with partial masks (two half-warp groups) have their own test."""

from __future__ import annotations

import pytest
import torch
from tests.shared_runtime import RUNTIME

from kernel_skills.bench.launch import Launch

from .conftest import needs_emulator
from .engine_support import emulated_kernel, gelu_kernel, launch, run_gelu

pytestmark = needs_emulator


SELF_CHECK = r"""
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cstdint>
#define CHECK(c) do { if (!(c)) __trap(); } while (0)

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* __restrict__ x, __nv_bfloat16* __restrict__ out,
                                     int n) {
  const int lane = threadIdx.x % warpSize;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  CHECK(__shfl_sync(0xffffffffu, lane * 2, 5) == 10);
  CHECK(__shfl_up_sync(0xffffffffu, lane, 1) == (lane == 0 ? 0 : lane - 1));
  CHECK(__shfl_down_sync(0xffffffffu, lane, 3) == (lane + 3 < 32 ? lane + 3 : lane));
  CHECK(__shfl_xor_sync(0xffffffffu, lane, 7) == (lane ^ 7));
  CHECK(__shfl_down_sync(0xffffffffu, lane, 1, 8) == (lane % 8 + 1 < 8 ? lane + 1 : lane));
  CHECK(__shfl_sync(0xffffffffu, lane, 0, 16) == lane / 16 * 16);
  CHECK(__shfl_xor_sync(0xffffffffu, 1.5f * lane, 1) == 1.5f * (lane ^ 1));
  CHECK(__shfl_sync(0xffffffffu, 0.25 * lane, 31) == 7.75);
  float s = static_cast<float>(lane);
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
  CHECK(lane != 0 || s == 496.f);
  CHECK(__ballot_sync(0xffffffffu, lane % 2) == 0xaaaaaaaau);
  CHECK(__any_sync(0xffffffffu, lane == 3) && !__all_sync(0xffffffffu, lane == 3));
  CHECK(__all_sync(0xffffffffu, lane < 32) && __activemask() == 0xffffffffu);
  CHECK(__popc(__ballot_sync(0xffffffffu, 1)) == 32);
  CHECK(__match_any_sync(0xffffffffu, lane / 8) == 0xffu << (lane / 8 * 8));
  __syncwarp();

  __shared__ int counter;
  __shared__ float total;
  __shared__ unsigned int biggest;
  if (threadIdx.x == 0) {
    counter = 0;
    total = 0.f;
    biggest = 0;
  }
  __syncthreads();
  atomicAdd(&counter, 1);
  atomicAdd(&total, 0.5f);
  atomicMax(&biggest, threadIdx.x);
  CHECK(atomicCAS(&counter, -1, 5) != -1);
  __shared__ __nv_bfloat162 pair;
  if (threadIdx.x == 0) pair = make_bfloat162(__float2bfloat16(0.f), __float2bfloat16(1.f));
  __syncthreads();
  if (threadIdx.x < 4) atomicAdd(&pair, __floats2bfloat162_rn(1.f, 2.f));
  __syncthreads();
  CHECK(counter == static_cast<int>(blockDim.x) && total == 0.5f * blockDim.x && biggest == blockDim.x - 1);
  CHECK(__low2float(pair) == 4.f && __high2float(pair) == 9.f);
  CHECK(__syncthreads_count(lane == 0) == static_cast<int>(blockDim.x / 32));
  CHECK(__float2uint_rn(2.5f) == 2u && __uint2float_rn(7u) == 7.f && __double2float_rn(0.5) == 0.5f);
  CHECK(__syncthreads_or(threadIdx.x == 7) && !__syncthreads_and(threadIdx.x == 7));

  const float4 v4 = make_float4(1.f, 2.f, 3.f, 4.f);
  const float2 v2 = make_float2(v4.y, v4.w);
  const int2 i2 = make_int2(3, 4);
  const uint4 u4 = make_uint4(1u, 2u, 3u, 4u);
  CHECK(v2.x + v2.y == 6.f && i2.x * i2.y == 12 && u4.w == 4u && gridDim.x >= 1 && blockDim.y == 1);
  const __half2 h = __floats2half2_rn(1.5f, -2.25f);
  const __half2 h2 = __hfma2(h, h, h);
  CHECK(__low2float(h2) == 3.75f && __high2float(h2) == 2.8125f);
  CHECK(__half2float(__float2half(0.1f)) == 0.0999755859375f);
  CHECK(__half2float(__float2half(65504.f)) == 65504.f && isinf(__half2float(__float2half(1e5f))));
  CHECK(__half2float(__float2half(1e-7f)) == 1.1920928955078125e-7f);  // a subnormal half
  __nv_bfloat162 b = __floats2bfloat162_rn(1.f, 3.f);
  b = __hmul2(__hadd2(b, b), b);
  CHECK(__low2float(b) == 2.f && __high2float(b) == 18.f);
  CHECK(__bfloat162float(__float2bfloat16(1.00390625f)) == 1.f);  // a tie rounds to even
  CHECK(__bfloat162float(__float2bfloat16_rz(1.0078125f * 1.5f)) == 1.5f + 0.0078125f);
  CHECK(__bfloat162float(__hfma2(b, b, b).y) == 342.f);
  __nv_bfloat16 acc = __float2bfloat16(1.f);  // scalar operators: T op T is T, rounded once
  acc += __float2bfloat16(2.f);
  acc = acc * __float2bfloat16(1.5f) - __float2bfloat16(0.5f);
  CHECK(__bfloat162float(acc) == 4.f && acc > __float2bfloat16(3.f) && -acc == __float2bfloat16(-4.f));
  const float sum = __float2bfloat16(256.f) + __float2bfloat16(1.f);
  CHECK(sum == 256.f);  // 257 is not a bf16: the sum is rounded before it becomes a float
  __half hh = __float2half(2.f);
  hh /= __float2half(4.f);
  ++hh;
  CHECK(__half2float(hh) == 1.5f && hh != __float2half(1.f));
  CHECK(fabsf(expf(1.f) - 2.7182817f) < 1e-6f && tanhf(0.f) == 0.f && erff(0.f) == 0.f);
  CHECK(rsqrtf(4.f) == 0.5f && __frsqrt_rn(16.f) == 0.25f);
  CHECK(fmaxf(1.f, 2.f) == 2.f && fminf(1.f, 2.f) == 1.f);
  CHECK(__fmaf_rn(2.f, 3.f, 1.f) == 7.f && __expf(0.f) == 1.f && __tanhf(0.f) == 0.f && sqrtf(9.f) == 3.f);
  CHECK(__fdividef(1.f, 4.f) == 0.25f && max(3, 4) == 4 && min(3u, 4u) == 3u);
  CHECK(__float_as_uint(1.f) == 0x3f800000u);
  if (i < n) out[i] = x[i];
}
"""


def test_a_self_checking_kernel_of_common_intrinsics_runs_clean() -> None:
    kernel = emulated_kernel(SELF_CHECK, "gelu_tanh", toolchain=RUNTIME.toolchain)
    x = torch.randn(300, generator=torch.Generator().manual_seed(3)).to(torch.bfloat16)
    tensors = {"x": x, "out": torch.zeros(300, dtype=torch.bfloat16)}
    geometry = Launch(grid=(2, 1, 1), block=(256, 1, 1), shared_mem=0)
    report, _ = launch(kernel, "gelu_tanh", {"n": 300}, geometry, tensors)
    if report is not None:
        line = SELF_CHECK.splitlines()[report["line"] - 1] if report.get("line") else "?"
        pytest.fail(f"{report['kind']} at kernel line {report.get('line')}: {line.strip()}")
    assert torch.equal(tensors["out"], x)


def test_a_shuffle_within_two_half_warp_groups_each_with_its_own_mask_is_correct() -> None:
    body = """  const int lane = threadIdx.x % warpSize;
  if (__shfl_xor_sync(lane < 16 ? 0x0000ffffu : 0xffff0000u, lane, 1) != (lane ^ 1)) __trap();
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = x[i];"""
    assert run_gelu(gelu_kernel(body)) is None
