"""Options and targets are allow-listed; anything else is refused with the list of what is accepted."""

from __future__ import annotations

import pytest

from kernel_skills.errors import RefusedInput
from kernel_skills.toolchain import CompileRequest
from kernel_skills.toolchain.options import allowed_archs, normalize_options

KERNEL = 'extern "C" __global__ void k(float* out) { out[0] = VALUE; }\n'

REFUSED = [
    "-I/",
    "-I/etc",
    "--include-path=/etc",
    "-include=/etc/hostname",
    "--pre-include=/etc/hostname",
    "-isystem/usr/include",
    "--use-bundled-headers=/tmp/x",
    "-arch=sm_80",
    "--gpu-architecture=sm_80",
    "-Xptxas=-O0",
    "--ptxas-options=-v",
    "-pch",
    "--create-pch=/tmp/x.pch",
    "--pch-dir=/tmp",
    "--time=/tmp/times.csv",
    "--fdevice-time-trace=/tmp/t.json",
    "-G",
    "-rdc=true",
    "-dlto",
    "-o",
    "-UVALUE",
    "-std=c++11",
    "-std=gnu++17",
    "-maxrregcount=8",
    "-maxrregcount=abc",
    "-maxrregcount",
    "-ftz=maybe",
    "-fmad",
    "-lineinfo=1",
    "-DVALUE=/etc/hostname",
    '-DVALUE="x"',
    "-DVALUE=a b",
    "-D1BAD",
    "-D__THRUST_HOST_SYSTEM_NAMESPACE=x",
    "-D_CCCL_X",
    "-D",
    "-diag-suppress=all",
    "lineinfo",
    "-w\x00",
]


@pytest.mark.parametrize("option", REFUSED)
def test_option_outside_the_allow_list_is_refused_with_what_is_allowed(option):
    with pytest.raises(RefusedInput) as caught:
        normalize_options([option])
    assert "allowed: -std=c++17" in str(caught.value)


def test_allowed_options_are_passed_in_nvrtc_spelling():
    assert normalize_options(
        [
            "-std=c++20",
            "-lineinfo",
            "--use_fast_math",
            "-maxrregcount=64",
            "-DVALUE=2.0f",
            "-DFLAG",
            "-D__CUDA_NO_HALF_OPERATORS__",
            "-ftz=true",
            "-prec-div=false",
            "-prec-sqrt=false",
            "-fmad=true",
            "--extra-device-vectorization",
            "-diag-suppress=177,550",
        ]
    ) == [
        "--std=c++20",
        "--generate-line-info",
        "--use_fast_math",
        "--maxrregcount=64",
        "--define-macro=VALUE=2.0f",
        "--define-macro=FLAG",
        "--define-macro=__CUDA_NO_HALF_OPERATORS__",
        "--ftz=true",
        "--prec-div=false",
        "--prec-sqrt=false",
        "--fmad=true",
        "--extra-device-vectorization",
        "--diag-suppress=177,550",
    ]


def test_a_define_reaches_the_compiler(toolchain):
    result = toolchain.compile(CompileRequest(source=KERNEL, options=["-DVALUE=2.5f", "-use_fast_math"]))
    assert result.ok, result.log
    assert result.options == ["--define-macro=VALUE=2.5f", "--use_fast_math"]


def test_refused_option_never_reaches_the_compiler(toolchain):
    with pytest.raises(RefusedInput, match="include paths are fixed"):
        toolchain.compile(CompileRequest(source=KERNEL, options=["-DVALUE=1", "-I/"]))


def test_arch_allow_list_has_the_h100_targets_and_newer_ones_this_nvrtc_knows():
    archs = allowed_archs((75, 80, 86, 87, 89, 90, 100, 120))
    assert archs[:5] == ["sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"]
    assert {"sm_100", "sm_100a", "sm_120", "sm_120a"} <= set(archs)
    assert "sm_75" not in archs and "sm_87" not in archs


@pytest.mark.parametrize("arch", ["sm_75", "compute_90", "sm_90;rm", "", "SM_90A"])
def test_unknown_arch_is_refused(toolchain, arch):
    with pytest.raises(RefusedInput, match="sm_90a"):
        toolchain.compile(CompileRequest(source=KERNEL.replace("VALUE", "1.0f"), arch=arch))


def test_sm80_target_compiles(toolchain):
    result = toolchain.compile(CompileRequest(source=KERNEL.replace("VALUE", "1.0f"), arch="sm_80"))
    assert result.ok and result.arch == "sm_80"


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"block_size": 0}, "block_size"),
        ({"block_size": 2048}, "block_size"),
        ({"shared_mem": -1}, "shared_mem"),
        ({"shared_mem": 300 * 1024}, "shared_mem"),
        ({"source": "   "}, "empty"),
        ({"source": "int x;\x00"}, "NUL"),
    ],
)
def test_bad_request_fields_are_refused(toolchain, fields, match):
    request = {"source": KERNEL.replace("VALUE", "1.0f"), **fields}
    with pytest.raises(RefusedInput, match=match):
        toolchain.compile(CompileRequest(**request))
