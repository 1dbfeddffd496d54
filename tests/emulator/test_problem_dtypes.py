"""Problems with i64, f64, i8, u8 and bool pointers, judged end to end on the CPU emulator (NVRTC's
PTX, the real engine): the C types in the ABI, the raw bytes both ways, the exact comparison of
integer outputs; and the author's mistakes and the emulator's limits get their own exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.shared_runtime import RUNTIME

from kernel_skills.bench import Timeouts
from kernel_skills.bench.models import BenchRequest, BenchResult
from kernel_skills.bench.registry import load_registry
from kernel_skills.cli import main
from kernel_skills.dispatch import benchmark

from .conftest import needs_emulator

pytestmark = needs_emulator
HERE = Path(__file__).parent
PROBLEMS = HERE / "problems"
KERNELS = HERE / "dtype_kernels"
ARGMAX = {"problem": "argmax_rows", "kernel": "argmax_rows", "block": [64], "grid": ["ceil_div(rows, 64)"]}
MIXED = {"problem": "mixed_dtypes", "kernel": "mixed_dtypes", "block": [128], "grid": ["ceil_div(n, 128)"]}


def _judge(kernel: str, fields: dict) -> BenchResult:
    request = BenchRequest(source=(KERNELS / kernel).read_text(), device="emulator", **fields)
    return benchmark(
        request,
        registry=load_registry([PROBLEMS], use_env=False),
        timeouts=Timeouts(check=8),
        runtime=RUNTIME,
    )


def _failed(result: BenchResult) -> dict[str, str]:
    return {c.name: c.detail for c in result.checks if not c.passed}


def test_the_abi_spells_each_dtype_as_its_c_type() -> None:
    registry = load_registry([PROBLEMS], use_env=False)
    assert registry.invalid == []
    assert registry.get("argmax_rows").signature == "(const float* x, long long* out, int rows, int cols)"
    assert registry.get("mixed_dtypes").signature == (
        "(const double* x, const signed char* q, const unsigned char* m, const bool* b, double* y, "
        "long long* idx, bool* flag, int n)"
    )


def test_an_argmax_with_an_int64_output_is_verified_on_the_emulator() -> None:
    result = _judge("argmax.cu", ARGMAX)
    assert result.correct and result.verified_on == "cpu-emulator", _failed(result)


def test_an_argmax_storing_32_bits_into_the_int64_output_fails() -> None:
    result = _judge("argmax_int32_store.cu", ARGMAX)
    assert not result.correct
    detail = _failed(result)["correct on emulator (rows=37, cols=129)"]
    assert "out: 37 of 37 elements (100%) fail |actual - expected| <= 0 + 0" in detail, detail


def test_f64_i8_u8_and_bool_pointers_round_trip_through_the_emulator() -> None:
    result = _judge("mixed_dtypes.cu", MIXED)
    assert result.correct, _failed(result)


def test_reading_a_signed_char_as_unsigned_fails_on_the_emulator() -> None:
    failed = _failed(_judge("mixed_dtypes_wrong.cu", MIXED))
    detail = failed["correct on emulator (n=1001)"]
    assert "y: " in detail and "idx: " in detail and "flag: " not in detail, detail


def _bench_cli(tmp_path: Path, kernel: Path, problem: str, *extra: str) -> list[str]:
    return [
        "bench",
        str(kernel),
        "--problem",
        problem,
        "--grid",
        "ceil_div(rows, 64)",
        "--block",
        "64",
        "--device",
        "emulator",
        "--problems-dir",
        str(tmp_path),
        "--json",
        *extra,
    ]


def test_a_reference_of_the_wrong_shape_exits_4_with_one_json_document(tmp_path: Path, capsys) -> None:
    text = (PROBLEMS / "argmax.py").read_text().replace("argmax(dim=1)", "argmax(dim=0)")
    (tmp_path / "argmax.py").write_text(text)
    assert main(_bench_cli(tmp_path, KERNELS / "argmax.cu", "argmax_rows")) == 4
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["error"]["type"] == "ProblemError"
    message = doc["error"]["message"]
    assert message.startswith(f"problem module {tmp_path / 'argmax.py'}: reference['out'] at ")
    assert "expected an integer or bool tensor of shape [37] (output 'out' is i64)" in message
    assert "given torch.int64 of shape [129]" in message
    assert "Traceback" not in captured.err


def test_a_make_inputs_dtype_mistake_exits_4_naming_the_dtype(tmp_path: Path, capsys) -> None:
    text = (PROBLEMS / "argmax.py").read_text().replace("device=device)}", "device=device).half()}")
    (tmp_path / "argmax.py").write_text(text)
    assert main(_bench_cli(tmp_path, KERNELS / "argmax.cu", "argmax_rows")) == 4
    message = json.loads(capsys.readouterr().out)["error"]["message"]
    assert "make_inputs['x']" in message and "expected f32 (torch.float32)" in message
    assert "given torch.float16 of shape" in message


def test_a_kernel_the_emulator_cannot_run_exits_5(tmp_path: Path, capsys) -> None:
    source = "#define TIER_TWO WGMMA\n" + (HERE / "kernels" / "tier_two_asm.cu").read_text()
    path = tmp_path / "tier_two.cu"
    path.write_text(source)
    argv = [
        "bench",
        str(path),
        "--problem",
        "gelu_tanh",
        "--grid",
        "ceil_div(n, 256)",
        "--device",
        "emulator",
        "--json",
    ]
    assert main(argv) == 5
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"]["type"] == "EmulatorUnsupported" and "wgmma" in doc["error"]["message"]


LAYERNORM = {
    "problem": "layernorm_affine",
    "kernel": "layernorm_affine",
    "block": [32],
    "grid": ["ceil_div(rows, 32)"],
}


def test_parameters_are_built_by_make_params_and_a_kernel_using_them_is_verified() -> None:
    result = _judge("layernorm_affine.cu", LAYERNORM)
    assert result.correct, _failed(result)
    assert "inputs unchanged" in [c.name for c in result.checks]  # parameters are checked like inputs


def test_a_kernel_that_ignores_a_parameter_fails() -> None:
    detail = _failed(_judge("layernorm_no_bias.cu", LAYERNORM))["correct on emulator (rows=7, dim=333)"]
    assert "out: " in detail and "fail" in detail


def test_the_documented_example_kernel_is_verified_on_the_emulator(tmp_path: Path) -> None:
    from tests.bench.test_problem_format import doc_block

    (tmp_path / "rms_scale.py").write_text(doc_block("python"))
    request = BenchRequest(
        source=doc_block("cuda"), device="emulator", problem="rms_scale", block=[128], grid=["rows"]
    )
    result = benchmark(
        request,
        registry=load_registry([tmp_path], use_env=False),
        timeouts=Timeouts(check=8),
        runtime=RUNTIME,
    )
    assert result.correct, _failed(result)
