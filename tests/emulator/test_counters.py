"""Memory-efficiency counters on textbook kernels with known answers (issue 20): coalesced and strided
loads, 16-byte vector accesses, the shared-memory transpose with and without padding, and RMSNorm
reading x twice or once. Each kernel runs through the emulator verdict on a small user problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.bench.models import BenchRequest, BenchResult, Counters
from kernel_skills.bench.registry import load_registry
from kernel_skills.commands.bench import render_counters
from kernel_skills.dispatch import benchmark

from .conftest import needs_emulator

pytestmark = needs_emulator

PROBLEM = """
from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "{name}"
DESCRIPTION = "counters test: {name}"
ABI = [Pointer("x", "{dtype}", {x_shape}), Pointer("out", "{dtype}", {out_shape}, output=True), {scalars}]
SHAPES = {{"only": [{sizes}]}}
TOLERANCE = {{"{dtype}": (1e-4, 1e-4)}}
EMULATOR_SHAPES = [{sizes}]


def make_inputs(sizes, generator, device):
    import torch

    x = torch.randn({x_torch}, generator=generator, device=device)
    return {{"x": x.to({torch_dtype})}}


def reference(inputs, sizes):
    x = inputs["x"].double()
    return {{"out": {reference}}}


torch_op = reference


def flops(sizes):
    return 1


def bytes_moved(sizes):
    return abi_bytes(ABI, sizes)
"""

COPY_F32 = """
extern "C" __global__ void copy(const float* x, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = x[i];
}
"""
GATHER32 = """
extern "C" __global__ void gather(const float* x, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = x[i * 32];
}
"""
COPY_BF16_X8 = """
extern "C" __global__ void copy8(const uint4* x, uint4* out, int n) {
  __shared__ uint4 stage[256];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  stage[threadIdx.x] = x[i];
  __syncthreads();
  out[i] = stage[threadIdx.x];
}
"""
TRANSPOSE = """
extern "C" __global__ void transpose(const float* x, float* out, int n) {
  __shared__ float tile[32][COLS];
  int bx = blockIdx.x * 32, by = blockIdx.y * 32;
  tile[threadIdx.y][threadIdx.x] = x[(by + threadIdx.y) * n + bx + threadIdx.x];
  __syncthreads();
  out[(bx + threadIdx.y) * n + by + threadIdx.x] = tile[threadIdx.x][threadIdx.y];
}
"""
RMSNORM = """
__device__ float block_sum(float v) {
  __shared__ float partial[8];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
  __syncthreads();
  float s = 0.0f;
  for (int k = 0; k < 8; k++) s += partial[k];
  return s;
}

extern "C" __global__ void rmsnorm(const float* x, float* out, int rows, int dim) {
  const float* row = x + (size_t)blockIdx.x * dim;
  float* dst = out + (size_t)blockIdx.x * dim;
#if ONE_PASS
  float v[4], ss = 0.0f;
  for (int k = 0; k < 4; k++) { v[k] = row[threadIdx.x + 256 * k]; ss += v[k] * v[k]; }
  float scale = rsqrtf(block_sum(ss) / dim + 1e-6f);
  for (int k = 0; k < 4; k++) dst[threadIdx.x + 256 * k] = v[k] * scale;
#else
  float ss = 0.0f;
  for (int c = threadIdx.x; c < dim; c += 256) ss += row[c] * row[c];
  float scale = rsqrtf(block_sum(ss) / dim + 1e-6f);
  for (int c = threadIdx.x; c < dim; c += 256) dst[c] = row[c] * scale;
#endif
}
"""


def _problem(tmp_path: Path, name: str, **fields: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    defaults = {"dtype": "f32", "torch_dtype": "torch.float32", "scalars": 'Scalar("n", "int")'}
    (folder / f"{name}.py").write_text(PROBLEM.format(name=name, **{**defaults, **fields}), encoding="utf-8")
    return folder


def _run(folder: Path, name: str, source: str, block: list[int], grid: list[str]) -> BenchResult:
    registry = load_registry([folder], use_env=False)
    request = BenchRequest(problem=name, source=source, block=block, grid=grid, device="emulator")
    result = benchmark(request, registry=registry, store=False, runtime=RUNTIME)
    assert result.correct, result.checks
    return result


def _counters(result: BenchResult) -> Counters:
    assert result.counters is not None
    return result.counters


FLAT = {"x_shape": '("n",)', "out_shape": '("n",)', "x_torch": '(sizes["n"],)', "sizes": '{"n": 1024}'}


def test_a_warp_reading_32_consecutive_floats_is_one_request_of_four_sectors(tmp_path: Path) -> None:
    folder = _problem(tmp_path, "cnt_copy", reference="x", **FLAT)
    c = _counters(_run(folder, "cnt_copy", COPY_F32, [256], ["ceil_div(n, 256)"]))
    assert (c.global_load.requests, c.global_load.sectors) == (32, 128)
    assert c.global_load.sectors_per_request == 4.0 and c.global_load.ideal_sectors_per_request == 4.0
    assert c.global_load.efficiency == 1.0 and c.global_store.efficiency == 1.0
    assert c.traffic_vs_ideal == 1.0 and c.unique_traffic_vs_ideal == 1.0
    assert c.instructions["memory"] == 64 and c.instructions["total"] > 64
    assert c.shape == {"n": 1024} and "PTX instructions" in c.basis
    assert c.launch is not None and c.launch.blocks == 4 and c.launch.warps_per_block == 8
    assert [f.rule for f in c.findings] == ["counter-narrow-access", "counter-small-grid"]
    assert c.findings[0].message.startswith("line 4: 4-byte accesses, 4 sectors per request")
    assert c.findings[-1].message.startswith("grid of 4 blocks is 0.004 waves on 132 SMs")
    table = render_counters(c)
    assert table[2].split() == ["global", "load", "32", "4.0", "4.0", "100%"]
    assert "  finding: line 4: 4-byte accesses" in "\n".join(table)


def test_the_same_read_with_a_stride_of_32_floats_touches_32_sectors(tmp_path: Path) -> None:
    fields = {**FLAT, "x_shape": '("32 * n",)', "x_torch": '(32 * sizes["n"],)'}
    folder = _problem(tmp_path, "cnt_gather", reference="x[::32]", **fields)
    c = _counters(_run(folder, "cnt_gather", GATHER32, [256], ["ceil_div(n, 256)"]))
    assert (c.global_load.requests, c.global_load.sectors) == (32, 32 * 32)
    assert c.global_load.sectors_per_request == 32.0 and c.global_load.ideal_sectors_per_request == 4.0
    assert c.global_load.efficiency == pytest.approx(4 / 32)
    (line,) = [x for x in c.lines if x.sectors == 32 * 32 + 128]
    assert GATHER32.splitlines()[line.line - 1].strip() == "if (i < n) out[i] = x[i * 32];"
    first = c.findings[0]
    assert (first.rule, first.line) == ("counter-uncoalesced", line.line)
    assert first.doc.endswith("reading-reports.md#counter-uncoalesced")


def test_16_byte_loads_of_8_bf16_are_16_sectors_per_request_and_conflict_free_in_smem(tmp_path: Path) -> None:
    fields = {**FLAT, "sizes": '{"n": 4096}', "dtype": "bf16", "torch_dtype": "torch.bfloat16"}
    folder = _problem(tmp_path, "cnt_bf16", reference="x", **fields)
    c = _counters(_run(folder, "cnt_bf16", COPY_BF16_X8, [256], ["ceil_div(n, 2048)"]))
    assert (c.global_load.requests, c.global_load.sectors_per_request) == (16, 16.0)
    assert c.global_load.efficiency == 1.0 and c.global_store.sectors_per_request == 16.0
    assert (c.shared.requests, c.shared.wavefronts, c.shared.ideal_wavefronts) == (32, 4 * 32, 4 * 32)
    assert c.shared.bank_conflicts == 0


@pytest.mark.parametrize(("cols", "conflicts_per_read"), [(32, 31), (33, 0)])
def test_the_shared_transpose_read_column_wise_is_32_way_conflicted_unless_padded(
    tmp_path: Path, cols: int, conflicts_per_read: int
) -> None:
    fields = {
        "x_shape": '("n", "n")',
        "out_shape": '("n", "n")',
        "x_torch": '(sizes["n"], sizes["n"])',
        "sizes": '{"n": 64}',
    }
    folder = _problem(tmp_path, "cnt_transpose", reference="x.t()", **fields)
    source = TRANSPOSE.replace("COLS", str(cols))
    c = _counters(_run(folder, "cnt_transpose", source, [32, 32], ["ceil_div(n, 32)", "ceil_div(n, 32)"]))
    reads = 4 * 32  # 4 blocks of 32 warps, one read each
    assert c.shared.requests == 2 * reads
    assert c.shared.bank_conflicts == conflicts_per_read * reads
    (read_line,) = [x for x in c.lines if x.line == 7]  # out[...] = tile[threadIdx.x][threadIdx.y]
    assert read_line.bank_conflicts == conflicts_per_read * reads
    conflicts = [f for f in c.findings if f.rule == "counter-bank-conflicts"]
    if conflicts_per_read:
        assert conflicts[0].line == 7 and "32.0-way" in conflicts[0].message
    else:
        assert conflicts == []
    assert c.global_load.efficiency == 1.0 and c.global_store.efficiency == 1.0


@pytest.mark.parametrize(("one_pass", "traffic"), [(0, 1.5), (1, 1.0)])
def test_a_two_pass_rmsnorm_reads_x_twice_and_a_one_pass_one_once(
    tmp_path: Path, one_pass: int, traffic: float
) -> None:
    fields = {
        "x_shape": '("rows", "dim")',
        "out_shape": '("rows", "dim")',
        "x_torch": '(sizes["rows"], sizes["dim"])',
        "sizes": '{"rows": 4, "dim": 1024}',
        "scalars": 'Scalar("rows", "int"), Scalar("dim", "int")',
    }
    reference = "(x * (x.pow(2).mean(-1, keepdim=True) + 1e-6).rsqrt())"
    folder = _problem(tmp_path, "cnt_rmsnorm", reference=reference, **fields)
    source = f"#define ONE_PASS {one_pass}\n" + RMSNORM
    c = _counters(_run(folder, "cnt_rmsnorm", source, [256], ["rows"]))
    assert c.traffic_vs_ideal == traffic and c.unique_traffic_vs_ideal == 1.0
    assert c.instructions["special"] >= 4 * 8  # one rsqrt per warp
    re_reads = [f.message for f in c.findings if f.rule == "counter-re-read"]
    expected = "x is read 2.0x (bytes asked for over distinct bytes): a second pass or other blocks"
    assert [m[: len(expected)] for m in re_reads] == ([] if one_pass else [expected])


def test_the_counted_launch_is_the_emulator_shape_nearest_the_first_timed_shape() -> None:
    """layernorm_modulate keeps rows of up to 4096 in registers and streams wider ones: counting its
    largest emulator shape (dim 4104) would report the streaming path's re-reads for a timed shape
    (dim 3072) that never takes it."""
    from kernel_skills.bench.verdicts import timed_shapes
    from kernel_skills.emulator.verdict import counted_shape

    registry = load_registry(use_env=False)
    for name, expected in (
        ("layernorm_modulate", {"batch": 2, "tokens": 17, "dim": 2048}),
        ("rmsnorm", {"rows": 127, "dim": 128}),
        ("gelu_tanh", {"n": 100003}),
    ):
        problem = registry.get(name)
        shapes = [s for _, s in problem.emulator_shape_list()]
        timed = timed_shapes(problem.shape_list())[0][1]
        assert counted_shape(problem, shapes, timed) == expected, name
    layernorm = registry.get("layernorm_modulate")
    shapes = [s for _, s in layernorm.emulator_shape_list()]
    assert counted_shape(layernorm, shapes, None) == max(shapes, key=layernorm.bytes_moved)
