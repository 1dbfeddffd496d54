"""The PTX front end and the engine's input checks: what NVRTC emits is read into a program with the
submission's lines and reconvergence points; what the engine does not run is refused naming the
instruction; a malformed program or job is refused by the engine (exit 2), never executed."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills import paths
from kernel_skills.emulator.engine_build import build_engine
from kernel_skills.emulator.ptx import PtxError, Unsupported, build_program, load_program, parse
from kernel_skills.emulator.ptx.program import MAGIC
from kernel_skills.toolchain import CompileRequest, compile_source, load_ptx

from .conftest import needs_emulator

SCALE = """#include <cuda_bf16.h>
__device__ __forceinline__ float twice(float v) {
  return v * 2.0f;
}
extern "C" __global__ void scale(const float* x, float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    out[i] = twice(x[i]);
  }
}
"""


def _ptx(source: str) -> str:
    result = compile_source(
        CompileRequest(source=source, arch="sm_90a", options=["-std=c++17"]), toolchain=RUNTIME.toolchain
    )
    assert result.ok and result.compile_id is not None, result.diagnostics
    return load_ptx(result.compile_id)


def test_the_compile_keeps_line_info_and_every_instruction_maps_to_the_submission() -> None:
    ptx = _ptx(SCALE)
    assert ".loc" in ptx
    module = parse(ptx)
    [name] = [n for n, f in module.functions.items() if f.entry]
    program = build_program(module, name)
    assert program.kernel == "scale" and program.instructions > 5
    assert program.params == [(0, 8), (8, 8), (16, 4)] and program.param_bytes == 20


def test_a_fault_inside_an_inlined_helper_names_the_helpers_line_in_the_submission() -> None:
    from kernel_skills.emulator.ptx.parse import Loc
    from kernel_skills.emulator.ptx.program import _Lines

    lines = _Lines({1: "/kernel.cu", 2: "/usr/local/cuda/include/cuda_bf16.hpp"})
    assert lines.resolve(Loc(1, 52, 7)) == (52, 1)
    # a toolkit header's line inlined into the submission's line 29, itself inlined at line 52
    lines.resolve(Loc(1, 29, 3, (1, 52, 7)))
    assert lines.resolve(Loc(2, 400, 1, (1, 29, 3))) == (29, 2)  # the line in kernel.cu, inside the header
    assert lines.resolve(Loc(2, 10, 1)) == (0, 2)  # only toolkit frames: no submission line


def test_an_unknown_instruction_is_refused_naming_it() -> None:
    text = (
        ".version 9.5\n.target sm_90a\n.address_size 64\n.visible .entry k()\n{\n"
        " .reg .b32 %r<2>;\n frobnicate.b32 %r1;\n ret;\n}\n"
    )
    with pytest.raises(Unsupported, match=r"frobnicate\.b32"):
        load_program(text, "k")


@pytest.mark.parametrize(
    ("asm", "what"),
    [
        ("wgmma.fence.sync.aligned;", "wgmma"),
        ("mbarrier.init.shared.b64 [%rd1], 1;", "mbarrier"),
    ],
)
def test_tier_two_instructions_are_refused_as_not_run_yet(asm: str, what: str) -> None:
    text = (
        ".version 9.5\n.target sm_90a\n.address_size 64\n.visible .entry k()\n{\n .reg .b64 %rd<2>;\n"
        f" {asm}\n ret;\n}}\n"
    )
    with pytest.raises(Unsupported, match=what):
        load_program(text, "k")


@pytest.mark.parametrize(
    "text",
    [
        ".visible .entry k(\n",
        ".visible .entry k()\n{\n add.s32 %r1, %r2\n",
        ".visible .entry k()\n{\n @ bra;\n}\n",
        "\x00\x01garbage",
    ],
)
def test_malformed_ptx_is_an_error_not_a_crash(text: str) -> None:
    with pytest.raises((PtxError, Unsupported)):
        load_program(text, "k")


def test_recursion_is_refused() -> None:
    text = """.version 9.5
.target sm_90a
.address_size 64
.func f()
{
 call.uni f, ();
 ret;
}
.visible .entry k()
{
 call.uni f, ();
 ret;
}
"""
    with pytest.raises(Unsupported, match="recursion"):
        load_program(text, "k")


def test_a_divergent_branch_reconverges_at_its_immediate_post_dominator() -> None:
    text = """.version 9.5
.target sm_90a
.address_size 64
.visible .entry k()
{
 .reg .pred %p<2>;
 .reg .b32 %r<4>;
 mov.u32 %r1, %tid.x;
 setp.lt.u32 %p1, %r1, 16;
 @%p1 bra $L_then;
 mov.u32 %r2, 1;
 bra.uni $L_join;
$L_then:
 mov.u32 %r2, 2;
$L_join:
 add.s32 %r3, %r2, 1;
 ret;
}
"""
    from kernel_skills.emulator.ptx.program import _reconvergence

    fn = parse(text).functions["k"]
    records = [(item, k) for k, item in enumerate(i for i in fn.body if not isinstance(i, str))]
    labels, k = {}, 0
    for item in fn.body:
        if isinstance(item, str):
            labels[item] = k
        else:
            k += 1
    assert _reconvergence(records, labels, 0) == {2: labels["$L_join"]}


@needs_emulator
@pytest.mark.parametrize(
    "mutate",
    [
        lambda data: data[:40],  # truncated
        lambda data: b"XXXXXXXX" + data[8:],  # not a program
        lambda data: data + b"\0",  # trailing bytes
        lambda data: data[:8] + struct.pack("<I", 0xFFFFFFF) + data[12:],  # entry past the program
    ],
    ids=["truncated", "magic", "trailing", "entry"],
)
def test_the_engine_refuses_a_malformed_program_without_running_it(tmp_path: Path, mutate) -> None:
    engine = build_engine(paths.cache_dir() / "emulator").exe
    program = load_program(_ptx(SCALE), "scale")
    (tmp_path / "program").write_bytes(mutate(program.data))
    (tmp_path / "job").write_bytes(b"PTXJOB1\0")
    done = subprocess.run(
        [str(engine), *(str(tmp_path / n) for n in ("program", "job", "out", "report", "printf"))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "ptxvm:" in done.stderr
    assert MAGIC.startswith(b"PTXVM1")


def test_only_the_functions_a_kernel_reaches_are_read() -> None:
    from kernel_skills.emulator.ptx.parse import only_reachable

    source = SCALE.replace("__forceinline__", "__noinline__") + (
        'extern "C" __global__ void other(float* out) { out[threadIdx.x] = 1.0f; }\n'
    )
    ptx = _ptx(source)
    kept = parse(only_reachable(ptx, "scale"))
    assert "scale" in kept.functions and "other" not in kept.functions
    assert any(not f.entry for f in kept.functions.values())  # the __noinline__ helper it calls
    assert only_reachable(ptx, "other").count("\n") == ptx.count("\n")  # PTX line numbers kept
    assert load_program(ptx, "other").kernel == "other"
