"""The emulator engine's own checks, on NVRTC's PTX run by the confined engine: a racy reduction, an
uninitialised shared read, out-of-bounds and misaligned accesses, barrier divergence and warp misuse
are each reported with their kind, location and the threads involved; printf is bounded; a malformed
job is refused; the reversed schedule exposes an order-dependent result."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from tests.shared_runtime import RUNTIME

from kernel_skills import paths
from kernel_skills.bench.launch import Launch
from kernel_skills.confine import run_confined
from kernel_skills.emulator import protocol
from kernel_skills.emulator.engine_build import build_engine
from kernel_skills.emulator.harness import PRINTF_KEPT
from kernel_skills.errors import EmulatorUnsupported
from kernel_skills.paths import bundled_kernels_dir

from .conftest import needs_emulator
from .engine_support import emulated_kernel, gelu_kernel, launch, line_of, run_gelu

pytestmark = needs_emulator

RMSNORM = (bundled_kernels_dir() / "rmsnorm" / "rmsnorm.cu").read_text(encoding="utf-8")
FIRST_SYNC = "  __syncthreads();  // scratch may still be read from the previous call\n"
ONE_BLOCK = Launch(grid=(1, 1, 1), block=(256, 1, 1), shared_mem=0)


@pytest.mark.parametrize("racy", [False, True], ids=["intact", "first-syncthreads-removed"])
def test_a_block_reduction_without_its_first_syncthreads_is_reported_as_a_race(racy: bool) -> None:
    assert RMSNORM.count(FIRST_SYNC) == 1
    source = RMSNORM.replace(FIRST_SYNC, "") if racy else RMSNORM
    # dim 4096: the whole block reduces each row; 9 rows in one block call block_sum 9 times.
    report, tensors = launch(
        emulated_kernel(source, "rmsnorm", toolchain=RUNTIME.toolchain),
        "rmsnorm",
        {"rows": 9, "dim": 4096},
        ONE_BLOCK,
    )
    if not racy:
        assert report is None
        assert not torch.isnan(tensors["out"].float()).any()
        return
    assert report is not None and report["kind"] == "race", report
    lines = {line_of(source, "if (lane == 0) scratch[warp] = v;"), line_of(source, "total += scratch[i];")}
    assert {report["line"], report["other_line"]} == lines, report
    assert report["file"] == "kernel.cu"
    assert re.fullmatch(r"__shared__ scratch \(byte \d+\)", report["buffer"])
    assert len(report["threads"]) == 2 and report["threads"][0] != report["threads"][1]


def test_lanes_of_one_warp_exchanging_through_shared_memory_need_a_syncwarp() -> None:
    body = """  __shared__ float s[256];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  s[threadIdx.x] = i < n ? __bfloat162float(x[i]) : 0.f;
  SYNC
  float v = s[threadIdx.x ^ 1];
  if (i < n) out[i] = __float2bfloat16(v);"""
    assert run_gelu(gelu_kernel(body.replace("SYNC", "__syncwarp();"))) is None
    # A shuffle makes every lane write before any reads, but orders no memory (only __syncwarp does).
    shuffle = run_gelu(gelu_kernel(body.replace("SYNC", "(void)__shfl_xor_sync(0xffffffffu, 0, 1);")))
    assert shuffle is not None and shuffle["kind"] == "race", shuffle
    assert (shuffle["line"], shuffle["other_line"]) == (8, 6)  # the read of lane ^ 1, the write it races
    # Lanes run in lockstep: the first lane to read, lane 0, names lane 1's write.
    assert shuffle["threads"] == [[0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0]]


def test_a_read_of_never_written_shared_memory_is_reported() -> None:
    body = """  __shared__ float s[256];
  if (threadIdx.x < 128) s[threadIdx.x] = 1.f;
  __syncthreads();
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16(s[255 - threadIdx.x]);"""
    report = run_gelu(gelu_kernel(body))
    assert report is not None and report["kind"] == "uninitialized_shared_read", report
    assert report["line"] == 8 and report["threads"] == [[0, 0, 0, 0, 0, 0]]
    assert report["offset"] == 255 * 4 and report["buffer"] == "__shared__ s (byte 1020)"


INDEX = "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"


@pytest.mark.parametrize(
    ("body", "buffer", "index", "access"),
    [
        (INDEX + "  if (i <= n) out[i] = x[0];", "out", 300, "write"),
        (INDEX + "  if (i < n) out[i] = x[i + 1];", "x", 300, "read"),
        (INDEX + "  if (i < n) out[i] = x[i - 1];", "x", -1, "read"),
    ],
    ids=["write-one-past-the-end", "read-past-the-end", "read-before-the-start"],
)
def test_out_of_bounds_global_accesses_name_the_buffer_and_the_element(
    body: str, buffer: str, index: int, access: str
) -> None:
    report = run_gelu(gelu_kernel(body))
    assert report is not None and report["kind"] == "out_of_bounds", report
    assert (report["buffer"], report["line"]) == (buffer, 5)
    assert report["message"].startswith(access) and "300 elements" in report["message"]
    assert report["index"] == index


def test_a_barrier_reached_by_one_lane_while_its_warp_waits_at_syncwarp_is_barrier_divergence() -> None:
    body = """  if (threadIdx.x == 0) {
    __syncthreads();
  } else {
    __syncwarp();
  }
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = x[i];"""
    report = run_gelu(gelu_kernel(body))
    assert report is not None and report["kind"] == "barrier_divergence", report
    assert (report["line"], report["other_line"]) == (5, 7)  # the __syncthreads, the __syncwarp


def test_a_shuffle_reading_a_lane_outside_its_mask_is_warp_misuse() -> None:
    # Two half-warp groups (legal); each lane of the low half reads a lane of the high half (not).
    body = """  float v = __shfl_xor_sync(threadIdx.x % 32 < 16 ? 0xffffu : 0xffff0000u, 1.f, 16);
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16(v);"""
    report = run_gelu(gelu_kernel(body))
    assert report is not None and report["kind"] == "warp_misuse", report
    assert report["line"] == 4


def test_the_warp_misuse_names_the_lane_read_outside_the_mask() -> None:
    body = """  float v = __shfl_xor_sync(threadIdx.x % 32 < 16 ? 0xffffu : 0xffff0000u, 1.f, 16);
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16(v);"""
    report = run_gelu(gelu_kernel(body))
    assert report is not None and "reads lane 16, which does not take part" in report["message"], report


def test_printf_output_is_bounded_and_returned() -> None:
    body = """  int i = blockIdx.x * blockDim.x + threadIdx.x;
  for (int k = 0; k < 40; ++k) printf("thread %d line %d of a chatty kernel\\n", i, k);
  if (i < n) out[i] = x[i];"""
    kernel = emulated_kernel(gelu_kernel(body), "gelu_tanh", toolchain=RUNTIME.toolchain)
    geometry = Launch(grid=(2, 1, 1), block=(256, 1, 1), shared_mem=0)
    report, tensors = launch(kernel, "gelu_tanh", {"n": 300}, geometry)
    assert report is None
    text = "".join(kernel.printf)
    assert text.startswith("thread 0 line 0 of a chatty kernel\nthread 1 line 0 of a chatty kernel\n")
    assert 0 < len(text) <= PRINTF_KEPT < 512 * 40 * len("thread 0 line 0 of a chatty kernel\n")
    assert torch.equal(tensors["out"], tensors["x"])


def test_dynamic_shared_memory_is_modelled_and_bounded() -> None:
    body = """  extern __shared__ float dyn[];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  dyn[threadIdx.x] = i < n ? __bfloat162float(x[i]) : 0.f;
  __syncthreads();
  if (i < n) out[i] = __float2bfloat16(dyn[threadIdx.x]);"""
    kernel = emulated_kernel(gelu_kernel(body), "gelu_tanh", toolchain=RUNTIME.toolchain)
    enough = Launch(grid=(2, 1, 1), block=(256, 1, 1), shared_mem=256 * 4)
    report, tensors = launch(kernel, "gelu_tanh", {"n": 300}, enough)
    assert report is None and torch.equal(tensors["out"], tensors["x"])
    short = Launch(grid=(2, 1, 1), block=(256, 1, 1), shared_mem=128 * 4)
    report, _ = launch(kernel, "gelu_tanh", {"n": 300}, short)
    assert (
        report is not None and report["kind"] == "out_of_bounds" and report["buffer"] == "extern __shared__"
    )
    assert report["offset"] == 512 and report["line"] == 6


def test_a_plain_misaligned_vector_load_is_reported() -> None:
    body = """  int i = blockIdx.x * blockDim.x + threadIdx.x;
  uint4 v = *reinterpret_cast<const uint4*>(x + 1);  // 2 bytes past a 16-byte boundary
  if (i < n) out[i] = i == 0 ? *reinterpret_cast<__nv_bfloat16*>(&v) : x[i];"""
    report = run_gelu(gelu_kernel(body))
    assert report is not None and report["kind"] == "misaligned", report
    assert report["buffer"] == "x" and report["offset"] == 2 and report["line"] == 5


def test_recursion_is_refused_before_anything_runs() -> None:
    prelude = """__device__ int deep(int k) {
  volatile char pad[1024];
  pad[0] = static_cast<char>(k);
  return k == 0 ? pad[0] : deep(k - 1) + pad[0];
}"""
    body = INDEX + "  if (i < n) out[i] = __float2bfloat16(deep(n));"
    with pytest.raises(EmulatorUnsupported, match=r"recursion \(_Z4deepi calls _Z4deepi\)"):
        emulated_kernel(gelu_kernel(body, prelude), "gelu_tanh", toolchain=RUNTIME.toolchain)


@pytest.mark.parametrize("job", [b"", b"PTXJOB0\0" + bytes(40), protocol.MAGIC + bytes(10)])
def test_a_malformed_job_is_exit_2_without_a_report(tmp_path: Path, job: bytes) -> None:
    engine = build_engine(paths.cache_dir() / "emulator").exe
    kernel = emulated_kernel(
        gelu_kernel("  (void)x; (void)out; (void)n;"), "gelu_tanh", toolchain=RUNTIME.toolchain
    )
    (tmp_path / "program").write_bytes(kernel.program.data)
    (tmp_path / "job").write_bytes(job)
    names = ("program", "job", "out", "report.json", "printf")
    done = run_confined(
        [str(engine), *(str(tmp_path / n) for n in names)],
        workdir=tmp_path,
        read_only=[engine],
        timeout_s=60,
        memory_mb=1024,
    )
    assert done.returncode == protocol.EXIT_BAD_JOB and "ptxvm:" in done.stderr
    assert not (tmp_path / "report.json").exists()


def test_two_blocks_writing_the_same_element_is_a_race() -> None:
    body = INDEX + "  if (i < n) out[i % 256] = x[i];  // block 1 overwrites what block 0 wrote"
    report = run_gelu(gelu_kernel(body))
    assert report is not None and report["kind"] == "race", report
    assert (report["buffer"], report["index"], report["line"], report["other_line"]) == ("out", 0, 5, 5)
    assert report["threads"] == [[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]]
    assert "another block" in report["message"]


def test_an_access_past_the_last_shared_variable_is_out_of_bounds() -> None:
    body = """  __shared__ float s[256];
  s[threadIdx.x + 1] = 1.f;  // thread 255 writes s[256]
  __syncthreads();
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16(s[threadIdx.x + 1]);"""
    report = run_gelu(gelu_kernel(body))
    assert report is not None and report["kind"] == "out_of_bounds", report
    assert report["offset"] == 1024 and report["line"] == 5 and report["threads"] == [[0, 0, 0, 255, 0, 0]]


def test_shared_variables_of_templates_and_of_plain_functions_are_both_checked() -> None:
    prelude = "template <int N> __device__ float* tile() {\n  __shared__ float t[N];\n  return t;\n}"
    body = """  __shared__ float s[256];
  s[threadIdx.x] = 1.f;
  __syncthreads();
  float* t = tile<256>();
  if (threadIdx.x < 128) t[threadIdx.x] = s[255 - threadIdx.x];
  __syncthreads();
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16(t[255 - threadIdx.x]);"""
    report = run_gelu(gelu_kernel(body, prelude))
    assert report is not None and report["kind"] == "uninitialized_shared_read", report
    assert report["buffer"] == "__shared__ t (byte 1020)" and report["line"] == 14


def test_the_reversed_schedule_exposes_a_result_that_depends_on_the_order() -> None:
    # Float atomics into one accumulator: once 2^24 is in, every +1 is lost (round to even), so the
    # sum counts the ones added before thread 64's 2^24: it depends on the threads' order, as on a GPU.
    body = """  __shared__ float acc;
  if (threadIdx.x == 0) acc = 0.f;
  __syncthreads();
  atomicAdd(&acc, threadIdx.x == 64 ? 16777216.f : 1.f);
  __syncthreads();
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = threadIdx.x == 0 ? __float2bfloat16(acc - 16777216.f) : x[i];"""
    kernel = emulated_kernel(gelu_kernel(body), "gelu_tanh", toolchain=RUNTIME.toolchain)
    sums = []
    for schedule in (0, 1, 0):
        report, tensors = launch(kernel, "gelu_tanh", {"n": 256}, ONE_BLOCK, schedule=schedule)
        assert report is None, report
        sums.append(float(tensors["out"][0]))
    assert sums[0] == sums[2] != sums[1]  # each schedule is deterministic; the two orders differ
