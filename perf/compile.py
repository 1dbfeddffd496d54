"""`make bench` section *compile*: how fast an agent gets an answer.

1. Cold compile (nothing cached, worker already running as in a live server) of a realistic kernel,
   a vectorised bf16 RMSNorm, against ``nvcc -cubin -arch=sm_90a`` on the same file in the same run.
   Two rows: NVRTC to cubin (like for like with nvcc, target ratio <= 0.5) and the full report
   (cubin + resources + SASS summary + lint, target <= 1 s; its floor is nvdisasm's ~0.2 s start-up).
2. A cache hit through an in-memory MCP client (``compile_kernel``), p50 over many calls, target <= 5 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

RMSNORM = r"""
#include <cuda_bf16.h>

// One block per row; each thread reads 8 bf16 (16 bytes) at a time.
extern "C" __global__ void __launch_bounds__(256)
rmsnorm(const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ weight,
        __nv_bfloat16* __restrict__ out, int rows, int dim, float eps) {
  const int row = blockIdx.x;
  if (row >= rows) return;
  const uint4* xr = reinterpret_cast<const uint4*>(x + (size_t)row * dim);
  const uint4* wr = reinterpret_cast<const uint4*>(weight);
  uint4* yr = reinterpret_cast<uint4*>(out + (size_t)row * dim);
  const int vecs = dim / 8;
  float sum = 0.0f;
  for (int i = threadIdx.x; i < vecs; i += blockDim.x) {
    uint4 v = xr[i];
    const __nv_bfloat162* p = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      float2 f = __bfloat1622float2(p[j]);
      sum += f.x * f.x + f.y * f.y;
    }
  }
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  __shared__ float partial[32];
  __shared__ float inv_rms;
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = sum;
  __syncthreads();
  if (threadIdx.x < 32) {
    sum = threadIdx.x < (blockDim.x >> 5) ? partial[threadIdx.x] : 0.0f;
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    if (threadIdx.x == 0) inv_rms = rsqrtf(sum / dim + eps);
  }
  __syncthreads();
  const float scale = inv_rms;
  for (int i = threadIdx.x; i < vecs; i += blockDim.x) {
    uint4 v = xr[i], w = wr[i], o;
    const __nv_bfloat162* p = reinterpret_cast<const __nv_bfloat162*>(&v);
    const __nv_bfloat162* q = reinterpret_cast<const __nv_bfloat162*>(&w);
    __nv_bfloat162* r = reinterpret_cast<__nv_bfloat162*>(&o);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      float2 a = __bfloat1622float2(p[j]), b = __bfloat1622float2(q[j]);
      r[j] = __floats2bfloat162_rn(a.x * scale * b.x, a.y * scale * b.y);
    }
    yr[i] = o;
  }
}
"""

NVRTC_RATIO_TARGET = 0.5
REPORT_TARGET_MS = 1000.0
CACHE_HIT_TARGET_MS = 5.0
PRESCAN_WORST_RATIO_TARGET = 5.0  # the worst 1 MB against 1 MB of ordinary code: linear, not quadratic
PRESCAN_WORST_CASES = {'R"': 'R"' * 500_000, "1'": "1'" * 500_000, "\\": "\\" * 1_000_000}


def run(args: argparse.Namespace) -> dict:
    from kernel_skills.toolchain import CompileRequest, Toolchain, compile_source
    from perf.runtime import RUNTIME

    quick = bool(getattr(args, "quick", False))
    reps = 3 if quick else 7
    hits = 50 if quick else 300
    figures: dict[str, object] = {"kernel": "rmsnorm (bf16, 16-byte loads)", "reps": reps}

    with (
        tempfile.TemporaryDirectory(prefix="kernel-skills-bench-") as folder,
        _cache_dir(Path(folder) / "cache"),
    ):
        root = Path(folder)
        source_file = root / "rmsnorm.cu"
        source_file.write_text(RMSNORM, encoding="utf-8")

        started = time.perf_counter()
        # starts the worker
        first = compile_source(CompileRequest(source=RMSNORM + "// warm-up\n"), toolchain=RUNTIME.toolchain)
        figures["first_compile_with_worker_start_ms"] = (time.perf_counter() - started) * 1000
        if not first.ok:
            print(first.log)
            return {"error": "the benchmark kernel did not compile", "log": first.log}

        nvrtc_ms, report_ms = [], []
        for rep in range(reps):
            chain = Toolchain(cache_root=root / f"cold-{rep}", worker=RUNTIME.toolchain.worker)
            started = time.perf_counter()
            result = chain.compile(CompileRequest(source=RMSNORM, block_size=256))
            report_ms.append((time.perf_counter() - started) * 1000)
            nvrtc_ms.append(result.compile_ms)
        figures["nvrtc_ms"] = statistics.median(nvrtc_ms)
        figures["report_ms"] = statistics.median(report_ms)
        figures["nvcc_ms"], figures["nvcc_skipped"] = _nvcc(source_file, root, reps)
        figures["cache_hit_p50_ms"], figures["cache_hit_p90_ms"] = _cache_hits(hits)
        figures["sandbox"] = first.sandbox.method if first.sandbox else None
    figures["prescan_plain_ms"], figures["prescan_worst_ms"], figures["prescan_worst_case"] = _prescan()
    figures["rows"] = _print_table(figures)
    return figures


def _prescan() -> tuple[float, float, str]:
    """The include pre-scan on 1 MB of ordinary code and on the worst 1 MB inputs known (ms)."""
    from kernel_skills.errors import RefusedInput
    from kernel_skills.toolchain.includes import check_includes

    def timed(text: str) -> float:
        started = time.perf_counter()
        with contextlib.suppress(RefusedInput):
            check_includes(text, {}, [])
        return (time.perf_counter() - started) * 1000

    plain = (RMSNORM * (1_000_000 // len(RMSNORM) + 1))[:1_000_000]
    worst = {name: timed(text) for name, text in PRESCAN_WORST_CASES.items()}
    name = max(worst, key=worst.__getitem__)
    return timed(plain), worst[name], name


def _nvcc(source: Path, root: Path, reps: int) -> tuple[float | None, str | None]:
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        return None, "nvcc not on PATH: the nvcc baseline row is skipped"
    times = []
    for rep in range(reps):
        started = time.perf_counter()
        done = subprocess.run(
            [nvcc, "-cubin", "-arch=sm_90a", "-o", str(root / f"nvcc-{rep}.cubin"), str(source)],
            capture_output=True,
            check=False,
        )
        times.append((time.perf_counter() - started) * 1000)
        if done.returncode != 0:
            return None, f"nvcc failed: {done.stderr.decode(errors='replace')[:300]}"
    return statistics.median(times), None


@contextlib.contextmanager
def _cache_dir(path: Path) -> Iterator[None]:
    """The whole section uses a fresh cache: nothing measured comes from, or lands in, the user's."""
    previous = os.environ.get("KERNEL_SKILLS_CACHE_DIR")
    os.environ["KERNEL_SKILLS_CACHE_DIR"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("KERNEL_SKILLS_CACHE_DIR", None)
        else:
            os.environ["KERNEL_SKILLS_CACHE_DIR"] = previous


def _cache_hits(calls: int) -> tuple[float, float]:
    import anyio
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    from kernel_skills.surface import compile_tools
    from kernel_skills.surface.lifespan import Served
    from perf.runtime import RUNTIME

    @contextlib.asynccontextmanager
    async def lifespan(server: MCPServer) -> AsyncIterator[Served]:
        yield Served(state=None, runtime=RUNTIME)  # type: ignore[arg-type]  # the compile tool needs no skills

    async def measure() -> list[float]:
        server = MCPServer(name="bench-compile", lifespan=lifespan)
        compile_tools.register(server)
        arguments = {"source": RMSNORM, "block_size": 256}
        times: list[float] = []
        async with Client(server) as client:
            await client.call_tool("compile_kernel", arguments)  # fills the cache
            for _ in range(calls):
                started = time.perf_counter()
                result = await client.call_tool("compile_kernel", arguments)
                times.append((time.perf_counter() - started) * 1000)
                assert result.structured_content and result.structured_content["cached"]
        return times

    times = sorted(anyio.run(measure))
    return statistics.median(times), times[int(len(times) * 0.9)]


def _print_table(f: dict) -> list[dict]:
    nvcc = f["nvcc_ms"]
    rows = [
        _row("cold compile to cubin (NVRTC, worker warm)", f["nvrtc_ms"], nvcc, NVRTC_RATIO_TARGET, None),
        _row("cold full report (cubin+SASS+lint)", f["report_ms"], nvcc, None, REPORT_TARGET_MS),
        _row(
            "cache hit via MCP compile_kernel (p50)", f["cache_hit_p50_ms"], None, None, CACHE_HIT_TARGET_MS
        ),
        _row("first compile incl. worker start", f["first_compile_with_worker_start_ms"], None, None, None),
    ]
    prescan = _row(
        f"include pre-scan, worst 1 MB ({f['prescan_worst_case']} repeated)",
        f["prescan_worst_ms"],
        f["prescan_plain_ms"],
        PRESCAN_WORST_RATIO_TARGET,
        None,
    )
    prescan["baseline"] = "pre-scan of 1 MB of ordinary code"
    print(f"kernel: {f['kernel']}; medians of {f['reps']} cold compiles; baseline: nvcc -cubin -arch=sm_90a")
    if f["nvcc_skipped"]:
        print(f"nvcc baseline skipped: {f['nvcc_skipped']}")
    header = f"{'measure':<44} {'ms':>9} {'nvcc ms':>9} {'ratio':>7}  {'target':<12} result"
    print(header)
    print("-" * len(header))
    for row in [*rows, prescan]:
        base = f"{row['baseline_ms']:.1f}" if row["baseline_ms"] is not None else "-"
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
        measure, ms, target = row["measure"], row["ms"], row["target"]
        print(f"{measure:<44} {ms:>9.1f} {base:>9} {ratio:>7}  {target:<12} {row['result']}")
    print(f"(the pre-scan row's baseline is {prescan['baseline']}; compiles confined by {f['sandbox']})")
    return [*rows, prescan]


def _row(
    name: str, ms: float, baseline: float | None, ratio_target: float | None, ms_target: float | None
) -> dict:
    ratio = ms / baseline if baseline else None
    if ratio_target is not None:
        target = f"ratio<={ratio_target}"
        result = "SKIP (no nvcc)" if ratio is None else ("PASS" if ratio <= ratio_target else "MISS")
    elif ms_target is not None:
        target = f"<={ms_target:g} ms"
        result = "PASS" if ms <= ms_target else "MISS"
    else:
        target, result = "info", ""
    return {
        "measure": name,
        "ms": ms,
        "baseline_ms": baseline,
        "ratio": ratio,
        "target": target,
        "result": result,
    }
