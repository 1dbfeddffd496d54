"""The emulator engine's own checks, on real g++-built runners run as real processes: a racy
reduction, an uninitialised shared read, out-of-bounds global accesses, a deadlock, warp misuse and
forbidden system calls are each reported with their kind, location and the threads involved."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from kernel_skills.bench.launch import Launch
from kernel_skills.bench.registry import load_registry
from kernel_skills.bench.spec import torch_dtype
from kernel_skills.emulator.build import build_runner
from kernel_skills.emulator.protocol import (
    EngineReport,
)
from kernel_skills.paths import bundled_kernels_dir

from .engine_support import gelu_kernel, run_job

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="the emulator builds kernels with g++")


REGISTRY = load_registry(use_env=False)
GELU = REGISTRY.get("gelu_tanh")  # ABI: (const bf16* x, bf16* out, int n)


def _launch(
    exe: Path, problem_name: str, sizes: dict[str, int], launch: Launch, tmp: Path, schedule: int = 0
) -> tuple[EngineReport | None, dict[str, torch.Tensor], subprocess.CompletedProcess[str]]:
    problem = REGISTRY.get(problem_name)
    gen = torch.Generator()
    gen.manual_seed(5)
    tensors = dict(problem.make_inputs(sizes, gen, "cpu"))
    for p in problem.outputs:
        tensors[p.name] = torch.full(problem.tensor_shape(p, sizes), float("nan"), dtype=torch_dtype(p.dtype))
    report, done = run_job(exe, problem, sizes, launch, tensors, tmp, schedule)
    return report, tensors, done


def _gelu_run(
    cache: Path, tmp_path: Path, source: str, n: int = 300, block: int = 256
) -> EngineReport | None:
    exe = build_runner(source, "gelu_tanh", cache_dir=cache).exe
    launch = Launch(grid=(-(-n // block), 1, 1), block=(block, 1, 1), shared_mem=0)
    report, _, _ = _launch(exe, "gelu_tanh", {"n": n}, launch, tmp_path)
    return report


def _line_of(source: str, needle: str) -> int:
    [line] = [i for i, text in enumerate(source.splitlines(), 1) if needle in text]
    return line


RMSNORM = (bundled_kernels_dir() / "rmsnorm" / "rmsnorm.cu").read_text(encoding="utf-8")
FIRST_SYNC = "  __syncthreads();  // scratch may still be read from the previous call\n"


@pytest.mark.parametrize("racy", [False, True], ids=["intact", "first-syncthreads-removed"])
def test_a_block_reduction_without_its_first_syncthreads_is_reported_as_a_race(
    cache: Path, tmp_path: Path, racy: bool
) -> None:
    assert RMSNORM.count(FIRST_SYNC) == 1
    source = RMSNORM.replace(FIRST_SYNC, "") if racy else RMSNORM
    exe = build_runner(source, "rmsnorm", cache_dir=cache).exe
    # dim 4096: the whole block reduces each row; 9 rows in one block call block_sum 9 times.
    launch = Launch(grid=(1, 1, 1), block=(256, 1, 1), shared_mem=0)
    report, tensors, _ = _launch(exe, "rmsnorm", {"rows": 9, "dim": 4096}, launch, tmp_path)
    if not racy:
        assert report is None
        assert not torch.isnan(tensors["out"].float()).any()
        return
    assert report is not None and report.kind == "race", report
    lines = {_line_of(source, "if (lane == 0) scratch[warp] = v;"), _line_of(source, "total += scratch[i];")}
    assert report.line in lines and report.other_line in lines, report
    assert report.file == "kernel.cu"
    assert report.buffer is not None and re.fullmatch(r"__shared__ scratch \(byte \d+\)", report.buffer)
    assert len(report.threads) == 2 and report.threads[0] != report.threads[1]


def test_lanes_of_one_warp_exchanging_through_shared_memory_need_a_syncwarp(
    cache: Path, tmp_path: Path
) -> None:
    body = """  __shared__ float s[256];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  s[threadIdx.x] = i < n ? __bfloat162float(x[i]) : 0.f;
  SYNC
  float v = s[threadIdx.x ^ 1];
  if (i < n) out[i] = __float2bfloat16(v);"""
    with_sync = _gelu_run(cache, tmp_path, gelu_kernel(body.replace("SYNC", "__syncwarp();")))
    assert with_sync is None
    # A shuffle makes every lane write before any reads, but orders no memory (only __syncwarp does).
    shuffle = _gelu_run(
        cache, tmp_path, gelu_kernel(body.replace("SYNC", "(void)__shfl_xor_sync(0xffffffffu, 0, 1);"))
    )
    assert shuffle is not None and shuffle.kind == "race"
    assert shuffle.line == 8 and shuffle.other_line == 6  # the read of lane ^ 1, the write it races with
    # Lane 31 arrives last, completes the shuffle and runs on: it reads lane 30's write first.
    assert shuffle.threads == [[0, 0, 0, 31, 0, 0], [0, 0, 0, 30, 0, 0]]


def test_a_read_of_never_written_shared_memory_is_reported(cache: Path, tmp_path: Path) -> None:
    body = """  __shared__ float s[256];
  if (threadIdx.x < 128) s[threadIdx.x] = 1.f;
  __syncthreads();
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16(s[255 - threadIdx.x]);"""
    report = _gelu_run(cache, tmp_path, gelu_kernel(body))
    assert report is not None and report.kind == "uninitialized_shared_read", report
    assert report.line == 8 and report.threads == [[0, 0, 0, 0, 0, 0]]
    assert report.offset == 255 * 4 and report.buffer == "__shared__ s (byte 1020)"


@pytest.mark.parametrize(
    ("body", "buffer", "index", "access"),
    [
        (
            "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i <= n) out[i] = x[0];",
            "out",
            300,
            "write",
        ),
        (
            "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i < n) out[i] = x[i + 1];",
            "x",
            300,
            "read",
        ),
        (
            "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i < n) out[i] = x[i - 1];",
            "x",
            -1,
            "read",
        ),
    ],
    ids=["write-one-past-the-end", "read-past-the-end", "read-before-the-start"],
)
def test_out_of_bounds_global_accesses_name_the_buffer_and_the_element(
    cache: Path, tmp_path: Path, body: str, buffer: str, index: int, access: str
) -> None:
    report = _gelu_run(cache, tmp_path, gelu_kernel(body))
    assert report is not None and report.kind == "out_of_bounds", report
    assert (report.buffer, report.index, report.line) == (buffer, index, 5)
    assert f"out-of-bounds {access}" in report.message and "300 elements" in report.message


def test_a_thread_waiting_at_a_barrier_its_warp_never_reaches_is_a_deadlock(
    cache: Path, tmp_path: Path
) -> None:
    body = """  if (threadIdx.x == 0) {
    __syncthreads();
  } else {
    __syncwarp();
  }
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = x[i];"""
    report = _gelu_run(cache, tmp_path, gelu_kernel(body))
    assert report is not None and report.kind == "deadlock", report
    assert "__syncwarp" in report.message and report.line == 7


def test_a_shuffle_reading_a_lane_outside_its_mask_is_warp_misuse(cache: Path, tmp_path: Path) -> None:
    # Two half-warp groups; each lane of the low half reads a lane of the high half.
    body = """  float v = __shfl_xor_sync(threadIdx.x % 32 < 16 ? 0xffffu : 0xffff0000u, 1.f, 16);
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16(v);"""
    report = _gelu_run(cache, tmp_path, gelu_kernel(body))
    assert report is not None and report.kind == "warp_misuse", report
    assert "does not take part" in report.message and report.line == 4


@pytest.mark.parametrize(
    ("prelude", "call", "syscall"),
    [
        ('extern "C" void* fopen(const char*, const char*);', 'fopen("/etc/passwd", "r");', "openat"),
        ('extern "C" int socket(int, int, int);', "socket(2, 1, 0);", "socket"),
        ('extern "C" int system(const char*);', 'system("echo escaped");', None),
    ],
    ids=["open-a-file", "open-a-socket", "spawn-a-process"],
)
def test_a_kernel_making_a_forbidden_system_call_is_stopped_and_reported(
    cache: Path, tmp_path: Path, prelude: str, call: str, syscall: str | None
) -> None:
    body = f"""  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i == 0) {call}
  if (i < n) out[i] = x[i];"""
    report = _gelu_run(cache, tmp_path, gelu_kernel(body, prelude))
    assert report is not None and report.kind == "forbidden_syscall", report
    assert "forbidden system call" in report.message
    if syscall:
        assert f"({syscall})" in report.message
    assert report.threads == [[0, 0, 0, 0, 0, 0]]


def test_printf_output_is_bounded(cache: Path, tmp_path: Path) -> None:
    body = """  int i = blockIdx.x * blockDim.x + threadIdx.x;
  for (int k = 0; k < 40; ++k) printf("thread %d line %d of a chatty kernel\\n", i, k);
  if (i < n) out[i] = x[i];"""
    exe = build_runner(gelu_kernel(body), "gelu_tanh", cache_dir=cache).exe
    launch = Launch(grid=(2, 1, 1), block=(256, 1, 1), shared_mem=0)
    report, tensors, done = _launch(exe, "gelu_tanh", {"n": 300}, launch, tmp_path)
    assert report is None
    assert done.stdout.startswith("thread 0 line 0 of a chatty kernel\n")
    assert done.stdout.endswith("[simt: printf output truncated at 65536 bytes]\n")
    assert len(done.stdout) < 65536 + 100
    assert torch.equal(tensors["out"], tensors["x"])


def test_dynamic_shared_memory_is_modelled_and_bounded(cache: Path, tmp_path: Path) -> None:
    body = """  extern __shared__ float dyn[];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  dyn[threadIdx.x] = i < n ? __bfloat162float(x[i]) : 0.f;
  __syncthreads();
  if (i < n) out[i] = __float2bfloat16(dyn[threadIdx.x]);"""
    exe = build_runner(gelu_kernel(body), "gelu_tanh", cache_dir=cache).exe
    enough = Launch(grid=(2, 1, 1), block=(256, 1, 1), shared_mem=256 * 4)
    report, tensors, _ = _launch(exe, "gelu_tanh", {"n": 300}, enough, tmp_path)
    assert report is None and torch.equal(tensors["out"], tensors["x"])
    short = Launch(grid=(2, 1, 1), block=(256, 1, 1), shared_mem=128 * 4)
    report, _, _ = _launch(exe, "gelu_tanh", {"n": 300}, short, tmp_path)
    assert report is not None and report.kind == "out_of_bounds" and report.buffer == "extern __shared__"
    assert report.offset == 512 and report.line == 6


def test_a_plain_misaligned_vector_load_is_reported(cache: Path, tmp_path: Path) -> None:
    body = """  int i = blockIdx.x * blockDim.x + threadIdx.x;
  uint4 v = *reinterpret_cast<const uint4*>(x + 1);  // 2 bytes past a 16-byte boundary
  if (i < n) out[i] = i == 0 ? *reinterpret_cast<__nv_bfloat16*>(&v) : x[i];"""
    report = _gelu_run(cache, tmp_path, gelu_kernel(body))
    assert report is not None and report.kind == "misaligned", report
    assert report.buffer == "x" and report.offset == 2 and report.line == 5


def test_a_thread_that_overflows_its_stack_is_reported(cache: Path, tmp_path: Path) -> None:
    prelude = """__device__ int deep(int k) {
  volatile char pad[1024];
  pad[0] = static_cast<char>(k);
  return k == 0 ? pad[0] : deep(k - 1) + pad[0];
}"""
    body = (
        "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i < n) out[i] = __float2bfloat16(deep(n));"
    )
    report = _gelu_run(cache, tmp_path, gelu_kernel(body, prelude))
    assert report is not None and report.kind == "unsupported", report
    assert "overflowed its stack" in report.message


@pytest.mark.parametrize(
    "job", [b"", b"SIMT1" + bytes(40), b"SIMT2" + bytes(10)], ids=["empty", "v1", "short"]
)
def test_a_malformed_job_is_exit_2_without_a_report(cache: Path, tmp_path: Path, job: bytes) -> None:
    exe = build_runner(gelu_kernel("  (void)x; (void)out; (void)n;"), "gelu_tanh", cache_dir=cache).exe
    (tmp_path / "job").write_bytes(job)
    done = subprocess.run(
        [str(exe), str(tmp_path / "job"), str(tmp_path / "out"), str(tmp_path / "report.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "simt runner:" in done.stderr
    assert not (tmp_path / "report.json").exists()


def test_two_blocks_writing_the_same_element_is_a_race(cache: Path, tmp_path: Path) -> None:
    body = """  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i % 256] = x[i];  // block 1 overwrites what block 0 wrote"""
    report = _gelu_run(cache, tmp_path, gelu_kernel(body))
    assert report is not None and report.kind == "race", report
    assert (report.buffer, report.index, report.line, report.other_line) == ("out", 0, 5, 5)
    assert report.threads == [[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]]
    assert "blocks run in any order" in report.message


def test_an_access_past_the_last_shared_variable_is_out_of_bounds(cache: Path, tmp_path: Path) -> None:
    body = """  __shared__ float s[256];
  s[threadIdx.x + 1] = 1.f;  // thread 255 writes s[256]
  __syncthreads();
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16(s[threadIdx.x + 1]);"""
    report = _gelu_run(cache, tmp_path, gelu_kernel(body))
    assert report is not None and report.kind == "out_of_bounds", report
    assert report.offset == 1024 and report.line == 5 and report.threads == [[0, 0, 0, 255, 0, 0]]


def test_shared_variables_of_templates_and_of_plain_functions_are_both_checked(
    cache: Path, tmp_path: Path
) -> None:
    prelude = "template <int N> __device__ float* tile() {\n  __shared__ float t[N];\n  return t;\n}"
    body = """  __shared__ float s[256];
  s[threadIdx.x] = 1.f;
  __syncthreads();
  float* t = tile<256>();
  if (threadIdx.x < 128) t[threadIdx.x] = s[255 - threadIdx.x];
  __syncthreads();
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16(t[255 - threadIdx.x]);"""
    report = _gelu_run(cache, tmp_path, gelu_kernel(body, prelude))
    assert report is not None and report.kind == "uninitialized_shared_read", report
    assert report.buffer == "__shared__ t (byte 1020)" and report.line == 14


def test_the_reversed_schedule_exposes_a_result_that_depends_on_the_order(
    cache: Path, tmp_path: Path
) -> None:
    # Float atomics into one accumulator: once 2^24 is in, every +1 is lost (round to even), so the
    # sum counts the ones added before thread 64's 2^24: it depends on the threads' order, as on a GPU.
    body = """  __shared__ float acc;
  if (threadIdx.x == 0) acc = 0.f;
  __syncthreads();
  atomicAdd(&acc, threadIdx.x == 64 ? 16777216.f : 1.f);
  __syncthreads();
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = threadIdx.x == 0 ? __float2bfloat16(acc - 16777216.f) : x[i];"""
    exe = build_runner(gelu_kernel(body), "gelu_tanh", cache_dir=cache).exe
    launch = Launch(grid=(1, 1, 1), block=(256, 1, 1), shared_mem=0)
    sums = []
    for schedule in (0, 1, 0):
        report, tensors, _ = _launch(exe, "gelu_tanh", {"n": 256}, launch, tmp_path, schedule=schedule)
        assert report is None, report
        sums.append(float(tensors["out"][0]))
    # In order: thread 255 (which completes the barrier) and threads 0..63 come first: 65, rounded to 64
    # at 2^24. Reversed: thread 0 (the completer) and 255..65: 192.
    assert sums == [64.0, 192.0, 64.0]
