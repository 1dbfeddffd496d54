"""Assertions: whole-word and numeric matching, regexes, and executable checks with the real NVRTC."""

from __future__ import annotations

import shutil

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills import confine
from kernel_skills.evals import Expected, TestCase, extract_code, judge_answer, score_answer

needs_emulator = pytest.mark.skipif(
    shutil.which("g++") is None or not confine.landlock_available(),
    reason="the CPU emulator needs g++ and Linux Landlock",
)


def _status(answer: str, **expected: object) -> str:
    return score_answer(answer, Expected(**expected)).status


@pytest.mark.parametrize(
    ("needle", "answer"),
    [
        ("50", "L2 is 1500 KB"),
        ("3.0", "about 13.0 TB/s"),
        ("3.0", "about 3.05 TB/s"),
        ("host", "a ghost of a chance"),
        ("fus", "this may confuse you"),
        ("5", "the value is 0.5"),
    ],
)
def test_words_do_not_match_inside_a_longer_word_or_number(needle: str, answer: str) -> None:
    assert _status(answer, contains=[needle]) == "passed", "plain contains (upskill's rule) still matches"
    assert _status(answer, words=[needle]) == "failed"


@pytest.mark.parametrize(
    ("needle", "answer"),
    [
        ("50", "50 MB of L2"),
        ("3.0", "use 3.0 TB/s."),
        ("host", "the host (CPU) builds it"),
        ("bulk", "use cp.async.bulk instead"),
        ("50%", "occupancy is 50%."),
        ("sm_90a", "compile for SM_90A"),
    ],
)
def test_words_match_whole_words_and_numbers_case_insensitively(needle: str, answer: str) -> None:
    assert _status(answer, words=[needle]) == "passed"


def test_a_regex_is_case_sensitive_unless_it_says_otherwise() -> None:
    assert _status("the weight is None", matches=[r"\bNone\b"]) == "passed"
    assert _status("there is none", matches=[r"\bNone\b"]) == "failed"
    assert _status("kernel fusion", matches=[r"(?i)\bFUS(e|ion)\b"]) == "passed"


def test_not_contains_fails_when_the_word_appears() -> None:
    assert _status("use TMA here", not_contains=["tma"]) == "failed"
    assert _status("use automatic tiling", not_contains=["tma"]) == "passed"


def test_every_assertion_is_named_in_hit_or_missed() -> None:
    score = score_answer("132 SMs", Expected(words=["132", "50"]))
    assert (score.passed, score.fraction) == (False, 0.5)
    assert (score.hit, score.missed) == (["words '132'"], ["words '50'"])


def test_code_blocks_labelled_cuda_cpp_or_unlabelled_are_joined_and_others_ignored() -> None:
    answer = "Here:\n```cuda\nint a;\n```\ntext\n```python\nprint(1)\n```\n```\nint b;\n```\n```c++\nint c;"
    assert extract_code(answer) == "int a;\n\n\nint b;\n\n\nint c;"
    assert extract_code("no code here") is None


GELU = r"""
#include <cuda_bf16.h>
extern "C" __global__ void gelu_tanh(const __nv_bfloat16* __restrict__ x, __nv_bfloat16* out, int n) {
    int base = (blockIdx.x * blockDim.x + threadIdx.x) * 8;
    if (base + 8 <= n) {
        uint4 raw = *reinterpret_cast<const uint4*>(x + base);
        const __nv_bfloat16* v = reinterpret_cast<const __nv_bfloat16*>(&raw);
        __nv_bfloat16 r[8];
        for (int i = 0; i < 8; ++i) {
            float f = __bfloat162float(v[i]);
            r[i] = __float2bfloat16(0.5f * f * (1.f + tanhf(0.7978845608f * (f + 0.044715f * f * f * f))));
        }
        *reinterpret_cast<uint4*>(out + base) = *reinterpret_cast<uint4*>(r);
    } else {
        for (int i = base; i < n; ++i) {
            float f = __bfloat162float(x[i]);
            out[i] = __float2bfloat16(0.5f * f * (1.f + tanhf(0.7978845608f * (f + 0.044715f * f * f * f))));
        }
    }
}
"""
TASK = {
    "compiles": True,
    "kernel": "gelu_tanh",
    "abi": "gelu_tanh",
    "sass_has": ["ldg.128"],
    "no_spills": True,
    "correct": "gelu_tanh",
    "launch": {"block": [256], "grid": ["ceil_div(n, 2048)"]},
}


def _judge(answer: str, **expected: object):  # type: ignore[no-untyped-def]
    return judge_answer(answer, TestCase(input="write it", expected=Expected(**expected)), RUNTIME)


def _by_name(score) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {a.name: a.status for a in score.assertions}


@needs_emulator
def test_a_good_kernel_passes_the_compiler_checks_and_is_judged_correct_without_a_gpu() -> None:
    score = _judge(f"Sure.\n```cuda\n{GELU}\n```", **TASK)
    outcomes = _by_name(score)
    assert outcomes["compiles"] == outcomes["kernel gelu_tanh"] == outcomes["abi gelu_tanh"] == "passed"
    assert outcomes["sass_has ldg.128"] == outcomes["no_spills"] == "passed"
    correct = next(a for a in score.assertions if a.name == "correct gelu_tanh")
    assert correct.status == "passed", correct.detail
    import torch

    assert correct.judged_on == ("gpu" if torch.cuda.is_available() else "cpu-emulator")
    assert score.passed


@needs_emulator
def test_a_kernel_that_skips_its_tail_fails_correct_with_the_mismatch() -> None:
    wrong = GELU.replace("for (int i = base; i < n; ++i)", "for (int i = base; i < n - 1; ++i)")
    assert wrong != GELU
    correct = next(
        a for a in _judge(f"```cuda\n{wrong}\n```", **TASK).assertions if a.name == "correct gelu_tanh"
    )
    assert correct.status == "failed" and "out" in correct.detail


@needs_emulator
def test_a_kernel_the_emulator_cannot_run_is_not_judged_correct_or_not_without_a_gpu() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("on a GPU the kernel is judged there")
    # wgmma (warpgroup MMA) compiles for sm_90a; the emulator does not run it yet
    asm = GELU.replace(
        "float f = __bfloat162float(x[i]);",
        'float f = __bfloat162float(x[i]); asm volatile("wgmma.fence.sync.aligned;");',
    )
    assert asm != GELU
    score = _judge(f"```cuda\n{asm}\n```", **TASK)
    correct = next(a for a in score.assertions if a.name == "correct gelu_tanh")
    assert correct.status == "not_judged" and "the CPU emulator cannot run this kernel" in correct.detail
    assert _by_name(score)["compiles"] == "passed" and score.status == "not_judged"


def test_a_kernel_with_the_wrong_parameters_fails_the_abi_and_names_the_signature() -> None:
    wrong = GELU.replace("int n)", "long n)")
    score = _judge(f"```cuda\n{wrong}\n```", compiles=True, kernel="gelu_tanh", abi="gelu_tanh")
    abi = next(a for a in score.assertions if a.name == "abi gelu_tanh")
    assert abi.status == "failed"
    assert "sizes [8, 8, 8]" in abi.detail and 'extern "C"' in abi.detail
    assert score.status == "failed"


def test_a_mangled_or_misnamed_kernel_fails_the_kernel_assertion() -> None:
    mangled = GELU.replace('extern "C" ', "")
    outcomes = _by_name(_judge(f"```cuda\n{mangled}\n```", compiles=True, kernel="gelu_tanh"))
    assert outcomes == {"compiles": "passed", "kernel gelu_tanh": "failed"}


def test_code_that_does_not_compile_fails_every_code_assertion_with_the_error() -> None:
    score = _judge('```cuda\nextern "C" __global__ void k(int n) { undefined_thing(n); }\n```', **TASK)
    assert score.status == "failed"
    assert all(a.status == "failed" for a in score.assertions)
    assert "undefined_thing" in score.assertions[0].detail


def test_an_answer_without_code_fails_the_code_assertions_but_its_text_is_still_judged() -> None:
    score = _judge("I would use a warp shuffle.", words=["shuffle"], compiles=True)
    assert _by_name(score) == {"words 'shuffle'": "passed", "compiles": "failed"}
    assert "no ```cuda" in score.assertions[1].detail


def test_an_upskill_validator_is_reported_as_not_judged() -> None:
    case = TestCase(input="q", expected=Expected(contains=["a"]), validator="python_runs")
    score = judge_answer("a", case, RUNTIME)
    assert score.status == "not_judged"
    assert score.not_judged == ["validator python_runs"]
