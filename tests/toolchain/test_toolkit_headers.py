"""The toolkit the project installs compiles as NVRTC compiles it (CUB, cooperative groups, pipelines,
math constants, cuda::std), the standard headers kernel writers reach for work through the shims, a
diagnostic inside a header names that header, and PTX carries line info without this machine's paths.
Real NVRTC in the real (confined) worker."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

from kernel_skills.toolchain import CompileRequest, Toolchain, cache, client_ptx, toolkit_relative
from kernel_skills.toolchain.headers import shim_dir
from kernel_skills.toolchain.locate import toolkit

ROOT = Path(__file__).resolve().parents[2]

TOOLKIT_KERNELS = {
    "cooperative groups reduce": """
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
namespace cg = cooperative_groups;
__global__ void warp_sum(const float* x, float* y) {
  auto tile = cg::tiled_partition<32>(cg::this_thread_block());
  float v = cg::reduce(tile, x[threadIdx.x], cg::plus<float>());
  if (tile.thread_rank() == 0) y[threadIdx.x / 32] = v;
}
""",
    "cub BlockReduce": """
#include <cub/block/block_reduce.cuh>
__global__ void block_sum(const float* x, float* y) {
  using Reduce = cub::BlockReduce<float, 128>;
  __shared__ typename Reduce::TempStorage scratch;
  float v = Reduce(scratch).Sum(x[threadIdx.x]);
  if (threadIdx.x == 0) y[blockIdx.x] = v;
}
""",
    "cub/cub.cuh": """
#include <cub/cub.cuh>
__global__ void warp_max(const float* x, float* y) {
  using Reduce = cub::WarpReduce<float>;
  __shared__ typename Reduce::TempStorage scratch;
  float v = Reduce(scratch).Reduce(x[threadIdx.x], cuda::maximum<float>{});
  if (threadIdx.x == 0) y[0] = v;
}
""",
    "cuda_pipeline memcpy_async": """
#include <cuda_pipeline.h>
__global__ void stage(const float* x, float* y) {
  __shared__ float tile[128];
  __pipeline_memcpy_async(&tile[threadIdx.x], &x[threadIdx.x], sizeof(float));
  __pipeline_commit();
  __pipeline_wait_prior(0);
  y[threadIdx.x] = tile[threadIdx.x];
}
""",
    "math_constants": """
#include <math_constants.h>
__global__ void circle(const float* r, float* area) {
  area[threadIdx.x] = CUDART_PI_F * r[threadIdx.x] * r[threadIdx.x];
}
""",
    "cuda::std": """
#include <cuda/std/cstdint>
#include <cuda/std/limits>
#include <cuda/std/type_traits>
__global__ void lim(float* y) {
  static_assert(cuda::std::is_same_v<cuda::std::uint32_t, unsigned int>);
  y[0] = cuda::std::numeric_limits<float>::max();
}
""",
}

STANDARD_KERNELS = {
    "<cmath>": """
#include <cmath>
__global__ void norm(const float* x, float* y) {
  y[threadIdx.x] = std::sqrt(x[threadIdx.x]) + std::fmaxf(x[0], 0.0f) + std::exp(x[1]) + std::fabs(x[2]);
}
""",
    "<math.h>": """
#include <math.h>
__global__ void norm(const float* x, float* y) {
  y[threadIdx.x] = sqrtf(x[threadIdx.x]) * (float)M_PI + INFINITY;
}
""",
    "<climits> <limits.h>": """
#include <climits>
#include <limits.h>
__global__ void clamp(const long long* x, int* y) {
  y[0] = x[0] > INT_MAX ? INT_MAX : (int)x[0];
  y[1] = CHAR_BIT;
}
""",
    "<cfloat> <float.h>": """
#include <cfloat>
#include <float.h>
__global__ void lowest(float* y) { y[0] = -FLT_MAX; y[1] = FLT_EPSILON; y[2] = (float)DBL_MAX; }
""",
    "<cstdint> <stdint.h> <cstddef> <stddef.h>": """
#include <cstdint>
#include <stdint.h>
#include <cstddef>
#include <stddef.h>
__global__ void widths(uint32_t* y, std::uint64_t n, std::size_t m) {
  int32_t a = (int32_t)n; ptrdiff_t d = 0; size_t s = m;
  y[0] = (uint32_t)(a + d + s) + (std::int8_t)1 + (uint16_t)2;
}
""",
    "<cassert> <assert.h>": """
#include <cassert>
#include <assert.h>
__global__ void checked(const int* x, int* y) { assert(x[0] >= 0); y[0] = x[0]; }
""",
    "<cstdio> <stdio.h>": """
#include <cstdio>
#include <stdio.h>
__global__ void say(const int* x) { printf("x = %d\\n", x[0]); }
""",
    "<type_traits> <limits> <utility>": """
#include <type_traits>
#include <limits>
#include <utility>
__global__ void swap_max(float* y) {
  static_assert(std::is_same_v<float, std::remove_cv_t<const float>>);
  float a = y[0], b = std::numeric_limits<float>::max();
  std::swap(a, b);
  y[0] = a; y[1] = std::move(b);
}
""",
}


def _errors(result) -> list[str]:
    return [f"{d.where()}: {d.message}" for d in result.diagnostics if d.severity in ("error", "fatal")]


@pytest.mark.parametrize("name", sorted(TOOLKIT_KERNELS))
def test_toolkit_headers_compile(toolchain: Toolchain, name: str) -> None:
    result = toolchain.compile(CompileRequest(source=TOOLKIT_KERNELS[name]))
    assert result.ok, _errors(result)
    assert result.kernels


@pytest.mark.parametrize("name", sorted(STANDARD_KERNELS))
def test_standard_headers_compile_through_the_shims(toolchain: Toolchain, name: str) -> None:
    result = toolchain.compile(CompileRequest(source=STANDARD_KERNELS[name]))
    assert result.ok, _errors(result)
    assert result.kernels


def test_assert_calls_assertfail_unless_ndebug(toolchain: Toolchain) -> None:
    source = STANDARD_KERNELS["<cassert> <assert.h>"]
    checked = toolchain.compile(CompileRequest(source=source, want_ptx=True))
    quiet = toolchain.compile(CompileRequest(source="#define NDEBUG\n" + source, want_ptx=True))
    assert checked.ok and "__assertfail" in checked.ptx
    assert quiet.ok and "__assertfail" not in quiet.ptx


def test_a_diagnostic_inside_a_toolkit_header_names_the_header(toolchain: Toolchain) -> None:
    source = (
        "#include <cuda/std/array>\n"
        "__global__ void k(int* p) { cuda::std::array<int, 2> a{}; p[0] = cuda::std::get<5>(a); }\n"
    )
    result = toolchain.compile(CompileRequest(source=source))
    error = next(d for d in result.diagnostics if d.severity == "error")
    header = toolkit().include_dirs[-1] / "cuda/std/array"
    assert (error.file, error.toolkit) == ("cuda/std/array", True)
    assert "static_assert" in header.read_text().splitlines()[error.line - 1]
    assert error.excerpt is None  # the submission's lines are never shown for a header's line
    assert error.where() == f"cuda/std/array:{error.line} (toolkit header)"
    for root in toolkit().include_dirs:
        assert os.fspath(root) not in result.model_dump_json()


def test_a_submission_diagnostic_is_still_the_submission_line(toolchain: Toolchain) -> None:
    result = toolchain.compile(CompileRequest(source="__global__ void k(int* p) { p[0] = nope; }\n"))
    error = result.diagnostics[0]
    assert (error.file, error.toolkit, error.where()) == ("kernel.cu", False, "line 1")


def test_every_compile_has_line_info_once(toolchain: Toolchain) -> None:
    plain = toolchain.compile(CompileRequest(source=TOOLKIT_KERNELS["cooperative groups reduce"]))
    asked = toolchain.compile(
        CompileRequest(source=TOOLKIT_KERNELS["cooperative groups reduce"], options=["-lineinfo"])
    )
    assert plain.ok and asked.ok
    for result in (plain, asked):
        ptx = cache.load_ptx(result.compile_id)
        assert re.search(r"^\s*\.loc\s+1 \d+", ptx, re.MULTILINE)  # lines of the submission
    assert plain.kernels[0].registers == asked.kernels[0].registers


def test_returned_ptx_names_files_without_server_paths(toolchain: Toolchain) -> None:
    request = CompileRequest(
        source='#include "util.h"\n' + TOOLKIT_KERNELS["cooperative groups reduce"],
        headers={"util.h": "#pragma once\n"},
        want_ptx=True,
    )
    result = toolchain.compile(request)
    files = re.findall(r'^\s*\.file\s+\d+\s+"([^"]*)"', result.ptx, re.MULTILINE)
    assert "kernel.cu" in files and "cooperative_groups/details/reduce.h" in files
    assert not any(name.startswith("/") for name in files)
    for root in (*toolkit().include_dirs, Path.home(), Path("/tmp")):
        assert os.fspath(root) + "/" not in result.ptx
    assert ".loc" in result.ptx


def test_a_toolkit_header_file_name_in_a_string_constant_is_cut_too(toolchain: Toolchain) -> None:
    """CCCL's assertions put ``__FILE__`` (the header's path here) into the PTX as bytes."""
    source = (
        "#include <cuda/std/span>\n"
        "__global__ void k(int* p, int n) { cuda::std::span<int> s(p, n); p[0] = s[n + 1]; }\n"
    )
    request = CompileRequest(source=source, options=["-DCCCL_ENABLE_ASSERTIONS"], want_ptx=True)
    result = toolchain.compile(request)
    strings = re.findall(r"\.b8 [\w$]+\[(\d+)\] = \{([\d, ]*)\}", result.ptx)
    texts = {bytes(int(b) for b in values.split(",")).decode(): int(size) for size, values in strings}
    assert texts.get("cuda/std/span") == len("cuda/std/span") + 1  # the size shrank with it
    assert not any(os.fspath(root) in text for text in texts for root in toolkit().include_dirs)
    assert os.fspath(toolkit().include_dirs[-1]) in cache.load_ptx(result.compile_id)  # as compiled


def test_toolkit_relative_uses_the_deepest_header_folder() -> None:
    cudart, cccl = toolkit().include_dirs[1:]
    assert toolkit_relative(f"{cccl}/cuda/std/array") == "cuda/std/array"
    info = "cooperative_groups/details/info.h"
    assert toolkit_relative(f"{cudart}/{info}") == info
    assert toolkit_relative(f"{shim_dir()}/cmath") == "cmath"
    assert toolkit_relative("/tmp/kernel-skills-nvrtc-x/my/util.h", ["kernel.cu", "my/util.h"]) == "my/util.h"
    assert toolkit_relative("/srv/secret/place/kernel.cu") == "kernel.cu"
    ptx = f'\t.file\t1 "/w/kernel.cu"\n\t.file\t2 "{cccl}/cuda/std/array", 0, 0\n\tret;\n'
    assert client_ptx(ptx) == '\t.file\t1 "kernel.cu"\n\t.file\t2 "cuda/std/array", 0, 0\n\tret;\n'


def test_the_shim_folder_holds_only_plain_header_files() -> None:
    """It is one more folder the confined worker may read: nothing in it may lead elsewhere."""
    entries = list(shim_dir().rglob("*"))
    assert entries
    for entry in entries:
        assert not entry.is_symlink(), entry
        assert entry.is_dir() or entry.suffix in ("", ".h", ".cuh"), entry
    assert toolkit().include_dirs[0] == shim_dir()  # first: its <cub/cub.cuh> wins over CCCL's


def test_the_shims_ship_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "toolchain/include/**/*" in config["tool"]["setuptools"]["package-data"]["kernel_skills"]
