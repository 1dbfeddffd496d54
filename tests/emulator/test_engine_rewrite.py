"""What the emulator refuses before compiling, what it rewrites, and how it builds: unsupported asm,
host headers and unmodelled CUDA features are refused with the supported list; the rewrites keep
line numbers; g++'s own refusals and code that would run at program start are RefusedInput; builds
are cached by content."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kernel_skills.emulator.build import build_runner
from kernel_skills.emulator.rewrite import SUPPORTED, prepare_source
from kernel_skills.errors import RefusedInput
from kernel_skills.paths import bundled_kernels_dir

from .engine_support import gelu_kernel

NEEDS_GXX = pytest.mark.skipif(shutil.which("g++") is None, reason="the emulator builds kernels with g++")


KERNELS = bundled_kernels_dir()
SOLUTIONS = json.loads((KERNELS / "solutions.json").read_text(encoding="utf-8"))


def test_inline_asm_other_than_the_mma_form_is_refused_with_the_supported_list() -> None:
    with pytest.raises(RefusedInput) as info:
        prepare_source(gelu_kernel('  asm volatile("trap;");'))
    message = str(info.value)
    assert "inline asm other than the recognised mma.sync.m16n8k16 bf16 form" in message
    assert "(line 4)" in message
    assert "Supported:" in message and "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32" in message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (gelu_kernel("", "#include <stdio.h>"), "`#include <stdio.h>` is not a header the emulator provides"),
        (gelu_kernel("", '#include "../../etc/passwd"'), "is not a header the emulator provides"),
        (gelu_kernel("", "#define H <stdio.h>\n#include H"), "`#include H` is not a header"),
        (gelu_kernel("", "#  include \\\n <unistd.h>"), "is not a header the emulator provides"),
        (gelu_kernel("", "%:include <stdio.h>"), "digraph"),
        (gelu_kernel("", "#include <cooperative_groups.h>"), "not a header the emulator provides"),
        (gelu_kernel("  cooperative_groups::this_grid().sync();"), "cooperative groups are not modelled"),
        (gelu_kernel('  asm("wgmma.fence.sync.aligned;");'), "inline asm"),
        (gelu_kernel("  __pipeline_memcpy_async(0, 0, 16);"), "cp.async / memcpy_async"),
        (gelu_kernel("", "__attribute__((constructor)) static void early() {}"), "run code at program start"),
        (gelu_kernel("", '__attribute__((section(".init_array"))) static int x;'), "place data in sections"),
        (gelu_kernel("  gelu_tanh<<<1, 1>>>(x, out, n);"), "dynamic parallelism"),
    ],
    ids=[
        "host-header",
        "path-include",
        "macro-include",
        "continued-include",
        "digraph-include",
        "cooperative-groups-header",
        "cooperative-groups",
        "wgmma-asm",
        "cp-async",
        "constructor",
        "init-array-section",
        "device-launch",
    ],
)
def test_what_the_emulator_cannot_run_faithfully_is_refused_before_compiling(
    source: str, expected: str
) -> None:
    with pytest.raises(RefusedInput, match="Supported:") as info:
        prepare_source(source)
    assert expected in str(info.value)


def test_accepted_headers_may_carry_comments() -> None:
    source = '#include <cuda_bf16.h>  // bf16\n#include "cuda_fp16.h" /* fp16 */\n'
    assert prepare_source(source) == source


def test_comments_and_strings_that_mention_refused_things_are_fine() -> None:
    body = '  // no asm("...") here, nor #include <stdio.h>\n  const char* s = "asm wgmma";\n  (void)s;'
    assert prepare_source(gelu_kernel(body)) == gelu_kernel(body)


@pytest.mark.parametrize("file", sorted({s["file"] for s in SOLUTIONS.values()}))
def test_every_bundled_kernel_is_accepted_and_keeps_its_line_numbers(file: str) -> None:
    source = (KERNELS / file).read_text(encoding="utf-8")
    prepared = prepare_source(source)
    assert prepared.count("\n") == source.count("\n")


def test_dynamic_shared_arrays_become_the_engines_buffer_on_the_same_line() -> None:
    source = gelu_kernel("  extern __shared__ __align__(16) float tile[];\n  tile[threadIdx.x] = 0.f;")
    prepared = prepare_source(source)
    assert "float* const tile = reinterpret_cast<float*>(::simt::dynamic_shared);" in prepared.splitlines()[3]
    assert prepared.count("\n") == source.count("\n")


def test_the_supported_list_names_the_headers_it_accepts() -> None:
    assert any("cuda_bf16.h" in line and "cuda_fp16.h" in line for line in SUPPORTED)


@NEEDS_GXX
def test_a_namespace_scope_dynamic_initialiser_is_refused_before_it_can_run(
    cache: Path, tmp_path: Path
) -> None:
    prelude = 'extern "C" int system(const char*);\nstatic int escaped = system("echo escaped");'
    with pytest.raises(RefusedInput, match="code that runs at program start"):
        build_runner(gelu_kernel("  (void)escaped;", prelude), "gelu_tanh", cache_dir=cache)


@NEEDS_GXX
def test_an_indirect_function_built_by_token_pasting_is_refused_before_it_can_run(
    cache: Path, tmp_path: Path
) -> None:
    # The source-level refusal sees no `ifunc` token; the check of the compiled object does.
    prelude = """#define PASTE(a, b) a##b
extern "C" void* pick() { return nullptr; }
extern "C" void chosen() __attribute__((PASTE(if, unc)("pick")));"""
    with pytest.raises(RefusedInput, match="indirect function"):
        build_runner(gelu_kernel("  chosen();", prelude), "gelu_tanh", cache_dir=cache)


@NEEDS_GXX
def test_a_kernel_gxx_rejects_is_refused_with_its_first_errors_and_relative_paths(
    cache: Path, tmp_path: Path
) -> None:
    with pytest.raises(RefusedInput, match="the emulator cannot build this kernel") as info:
        build_runner(gelu_kernel("  undeclared_intrinsic(n);"), "gelu_tanh", cache_dir=cache)
    message = str(info.value)
    assert "kernel.cu:4" in message and "undeclared_intrinsic" in message
    assert str(tmp_path) not in message


@NEEDS_GXX
def test_runners_are_cached_by_content(tmp_path: Path) -> None:
    source = gelu_kernel("  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i < n) out[i] = x[i];")
    first = build_runner(source, "gelu_tanh", cache_dir=tmp_path)
    again = build_runner(source, "gelu_tanh", cache_dir=tmp_path)
    other = build_runner(source + "// changed\n", "gelu_tanh", cache_dir=tmp_path)
    assert not first.cached and first.build_ms > 0
    assert again.cached and again.exe == first.exe
    assert not other.cached and other.exe != first.exe


def test_a_kernel_name_that_is_not_an_identifier_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RefusedInput, match="not a C identifier"):
        build_runner(gelu_kernel(""), "gelu_tanh;rm", cache_dir=tmp_path)


def test_a_missing_gxx_makes_the_emulator_unavailable_and_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kernel_skills.emulator import gxx
    from kernel_skills.errors import DeviceUnavailable

    monkeypatch.setenv("PATH", str(tmp_path))  # a folder without g++
    gxx.find_gxx.cache_clear()
    gxx.gxx_version.cache_clear()
    try:
        with pytest.raises(DeviceUnavailable, match="apt-get install g\\+\\+"):
            build_runner(gelu_kernel(""), "gelu_tanh", cache_dir=tmp_path / "cache")
    finally:
        gxx.find_gxx.cache_clear()
        gxx.gxx_version.cache_clear()
