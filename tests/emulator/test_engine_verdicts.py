"""Verdicts the g++ engine got wrong (issue 19), each on a known-good and a known-bad kernel run by the
PTX engine: barrier divergence (a barrier in a branch, threads returning before it, two barriers in
if/else, a named barrier with its thread count), ``__activemask()`` as a shuffle mask, the Programming
Guide's atomicCAS loop, a misaligned float4 load, and where a report points: the line of an inlined
helper in kernel.cu, a toolkit header by its toolkit-relative name, never a server path."""

from __future__ import annotations

import json

import pytest

from kernel_skills.emulator.harness import describe

from .conftest import needs_emulator
from .engine_support import gelu_kernel, line_of, run_gelu

pytestmark = needs_emulator

OWN_ELEMENT = """  __shared__ float s[256];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  s[threadIdx.x] = i < n ? __bfloat162float(x[i]) : 0.f;
BARRIER
  if (i < n) out[i] = __float2bfloat16(s[threadIdx.x]);"""


def _divergence(source: str, n: int = 300) -> dict:
    report = run_gelu(source, n=n)
    assert report is not None and report["kind"] == "barrier_divergence", report
    assert "undefined behaviour" in report["message"]
    return report


def test_a_syncthreads_reached_by_the_whole_block_is_correct() -> None:
    assert run_gelu(gelu_kernel(OWN_ELEMENT.replace("BARRIER", "  __syncthreads();")), n=256) is None


def test_a_syncthreads_inside_if_threadidx_below_128_of_256_threads_is_barrier_divergence() -> None:
    source = gelu_kernel(
        OWN_ELEMENT.replace("BARRIER", "  if (threadIdx.x < 128) {\n    __syncthreads();\n  }")
    )
    report = _divergence(source, n=256)
    assert report["line"] == line_of(source, "__syncthreads();")


RETURN_EARLY = """  __shared__ float s[256];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  s[threadIdx.x] = __bfloat162float(x[i]);
  __syncthreads();
  out[i] = __float2bfloat16(s[threadIdx.x ^ 32]);"""


def test_returning_before_a_barrier_is_correct_when_the_whole_block_returns_alike() -> None:
    assert run_gelu(gelu_kernel(RETURN_EARLY), n=512) is None  # two full blocks: nobody returns


def test_threads_that_return_before_a_barrier_others_reach_is_barrier_divergence() -> None:
    source = gelu_kernel(RETURN_EARLY)
    report = _divergence(source, n=300)  # block 1: threads 44.. return, 0..43 wait at the barrier
    assert report["line"] == line_of(source, "__syncthreads();")
    assert report["threads"][0][0] == 1  # in block 1, the partial one


IF_ELSE = """  __shared__ float s[256];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  s[threadIdx.x] = i < n ? __bfloat162float(x[i]) : 0.f;
  __syncthreads();  // SHARED
  if (threadIdx.x < 128) {
    __syncthreads();  // FIRST
    if (i < n) out[i] = __float2bfloat16(s[threadIdx.x ^ 128]);
  } else {
    __syncthreads();  // SECOND
    if (i < n) out[i] = __float2bfloat16(2.f * s[threadIdx.x ^ 128]);
  }"""


def test_one_barrier_before_an_if_else_is_correct() -> None:
    good = IF_ELSE.replace("    __syncthreads();  // FIRST\n", "").replace(
        "    __syncthreads();  // SECOND\n", ""
    )
    assert run_gelu(gelu_kernel(good), n=256) is None


def test_two_different_syncthreads_in_if_and_else_branches_is_barrier_divergence() -> None:
    source = gelu_kernel(IF_ELSE.replace("  __syncthreads();  // SHARED\n", ""))
    report = _divergence(source, n=256)
    lines = {line_of(source, "// FIRST"), line_of(source, "// SECOND")}
    assert {report["line"], report["other_line"]} == lines, report


NAMED = """  __shared__ float s[256];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (threadIdx.x < WARPS * 32) {
    s[threadIdx.x] = i < n ? __bfloat162float(x[i]) : 0.f;
    asm volatile("bar.sync 1, 64;" ::: "memory");
    if (i < n) out[i] = __float2bfloat16(s[threadIdx.x ^ 32]);
  } else if (i < n) {
    out[i] = x[i];
  }"""


def test_a_named_barrier_of_64_threads_used_by_two_warps_is_correct() -> None:
    assert run_gelu(gelu_kernel(NAMED.replace("WARPS", "2"))) is None


def test_a_named_barrier_of_64_threads_reached_by_three_warps_is_barrier_divergence() -> None:
    # Two warps complete it; the third starts a second round that nobody else joins.
    source = gelu_kernel(NAMED.replace("WARPS", "3"))
    report = _divergence(source)
    assert report["line"] == line_of(source, "bar.sync 1, 64")


ACTIVEMASK = """  int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? __bfloat162float(x[i]) : 0.f;
  if (threadIdx.x % 32 < 16) {
    v = __shfl_xor_sync(MASK, v, 1);
  }
  if (i < n) out[i] = __float2bfloat16(v);"""


def test_activemask_as_the_shuffle_mask_in_a_divergent_branch_is_correct() -> None:
    assert run_gelu(gelu_kernel(ACTIVEMASK.replace("MASK", "__activemask()"))) is None


def test_a_full_mask_shuffle_inside_if_lane_below_16_is_warp_misuse() -> None:
    source = gelu_kernel(ACTIVEMASK.replace("MASK", "0xffffffffu"))
    report = run_gelu(source)
    assert report is not None and report["kind"] == "warp_misuse", report
    assert report["line"] == line_of(source, "__shfl_xor_sync") and "lane 16" in report["message"]


ATOMIC_ADD_DOUBLE = """__device__ double atomic_add_double(double* address, double val) {
  unsigned long long int* address_as_ull = (unsigned long long int*)address;
  unsigned long long int old = *address_as_ull, assumed;
  do {
    assumed = old;
    old = atomicCAS(address_as_ull, assumed, __double_as_longlong(val + __longlong_as_double(assumed)));
  } while (assumed != old);
  return __longlong_as_double(old);
}"""
SUM_OF_ONES = """  __shared__ double acc;
  if (threadIdx.x == 0) acc = 0.0;
  __syncthreads();
  ADD;
  __syncthreads();
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = threadIdx.x == 0 ? __float2bfloat16((float)acc) : x[i];"""


def test_the_programming_guides_atomiccas_loop_for_double_on_shared_memory_is_no_race() -> None:
    assert (
        run_gelu(gelu_kernel(SUM_OF_ONES.replace("ADD", "atomic_add_double(&acc, 1.0)"), ATOMIC_ADD_DOUBLE))
        is None
    )


def test_a_plain_increment_of_a_shared_accumulator_is_a_race() -> None:
    source = gelu_kernel(SUM_OF_ONES.replace("ADD", "acc += 1.0"), ATOMIC_ADD_DOUBLE)
    report = run_gelu(source)
    assert report is not None and report["kind"] == "race", report
    assert report["line"] == report["other_line"] == line_of(source, "acc += 1.0")
    assert report["buffer"] == "__shared__ acc (byte 0)"


FLOAT4 = """  int i = blockIdx.x * blockDim.x + threadIdx.x;
  float4 v = *reinterpret_cast<const float4*>(x + OFFSET);  // every component used: one 16-byte load
  if (i < n) out[i] = i == 0 ? __float2bfloat16(v.x + v.y + v.z + v.w) : x[i];"""


def test_a_float4_load_at_a_16_byte_boundary_is_correct() -> None:
    assert run_gelu(gelu_kernel(FLOAT4.replace("OFFSET", "8"))) is None  # 8 bf16: 16 bytes


def test_a_float4_load_4_bytes_past_a_16_byte_boundary_is_misaligned() -> None:
    source = gelu_kernel(FLOAT4.replace("OFFSET", "2"))
    report = run_gelu(source)
    assert report is not None and report["kind"] == "misaligned", report
    assert (report["buffer"], report["offset"]) == ("x", 4)
    assert report["line"] == line_of(source, "reinterpret_cast<const float4*>")
    assert "16-byte load" in report["message"]


HELPER = """__device__ __forceinline__ void put(__nv_bfloat16* out, int i, __nv_bfloat16 v) {
  out[i] = v;  // the helper's line
}"""


@pytest.mark.parametrize("bad", [False, True], ids=["in-bounds", "one-past-the-end"])
def test_a_fault_inside_an_inlined_device_helper_is_reported_at_the_helpers_line(bad: bool) -> None:
    guard = "i <= n" if bad else "i < n"
    source = gelu_kernel(
        f"  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if ({guard}) put(out, i, x[i < n ? i : 0]);",
        HELPER,
    )
    report = run_gelu(source)
    if not bad:
        assert report is None
        return
    assert report is not None and report["kind"] == "out_of_bounds", report
    assert (report["line"], report["file"]) == (line_of(source, "the helper's line"), "kernel.cu")
    assert (report["buffer"], report["index"]) == ("out", 300)


CUB_LOAD = """  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = cub::ThreadLoad<cub::LOAD_LDG>(x + i + SHIFT);"""
CUB_PRELUDE = "#include <cub/thread/thread_load.cuh>"


def _paths_in(report: dict) -> list[str]:
    from kernel_skills import paths

    text = json.dumps(report) + describe(report)
    server = str(paths.__file__).rsplit("/kernel_skills/", 1)[0]
    return [p for p in (server, "/usr/", "/opt/", "/tmp/", "/home/", "/root/", "site-packages") if p in text]


def test_a_load_through_a_toolkit_header_in_bounds_is_correct() -> None:
    assert run_gelu(gelu_kernel(CUB_LOAD.replace("SHIFT", "0"), CUB_PRELUDE)) is None


def test_a_fault_inside_a_toolkit_header_names_it_relative_to_the_toolkit_never_by_a_path() -> None:
    report = run_gelu(gelu_kernel(CUB_LOAD.replace("SHIFT", "1"), CUB_PRELUDE))
    assert report is not None and report["kind"] == "out_of_bounds", report
    assert report["file"] == "cub/thread/thread_load.cuh"
    assert (report["buffer"], report["index"]) == ("x", 300)
    assert _paths_in(report) == []


def test_a_fault_inside_a_toolkit_header_names_the_submissions_line_that_called_it() -> None:
    source = gelu_kernel(CUB_LOAD.replace("SHIFT", "1"), CUB_PRELUDE)
    report = run_gelu(source)
    assert report is not None and report["line"] == line_of(source, "cub::ThreadLoad"), report


def test_no_report_names_a_server_path() -> None:
    reports = [
        run_gelu(
            gelu_kernel(OWN_ELEMENT.replace("BARRIER", "  if (threadIdx.x < 128) __syncthreads();")), n=256
        ),
        run_gelu(gelu_kernel(ACTIVEMASK.replace("MASK", "0xffffffffu"))),
        run_gelu(
            gelu_kernel(
                "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i <= n) put(out, i, x[0]);", HELPER
            )
        ),
    ]
    assert all(r is not None for r in reports)
    assert [_paths_in(r) for r in reports] == [[], [], []]


PRODUCER_CONSUMER = """  __shared__ float s[32];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (threadIdx.x < 32) {
    s[threadIdx.x] = i < n ? __bfloat162float(x[i]) : 0.f;
    asm volatile("bar.arrive 1, 64;" ::: "memory");
    if (i < n) out[i] = x[i];
  } else if (threadIdx.x < 64) {
    WAIT
    if (i < n) out[i] = __float2bfloat16(s[threadIdx.x - 32]);
  } else if (i < n) {
    out[i] = x[i];
  }"""


def test_a_producer_that_arrives_and_a_consumer_that_syncs_on_a_named_barrier_is_correct() -> None:
    source = gelu_kernel(PRODUCER_CONSUMER.replace("WAIT", 'asm volatile("bar.sync 1, 64;" ::: "memory");'))
    assert run_gelu(source) is None


def test_a_consumer_that_does_not_wait_for_the_producers_arrival_races() -> None:
    source = gelu_kernel(PRODUCER_CONSUMER.replace("WAIT", ""))
    report = run_gelu(source)
    assert report is not None and report["kind"] == "race", report
    assert report["line"] == line_of(source, "s[threadIdx.x - 32]")
