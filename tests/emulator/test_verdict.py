"""Emulator verdicts through the benchmark's one domain function, ``benchmark(device="emulator")``.

The known-bad kernels of tests/bench/wrong_kernels/ get the verdict tests/bench/test_gpu.py expects on
a GPU (result_cache.cu excepted: see its test); the findings only the emulator makes (a racy reduction,
an uninitialised shared read, one past the end written or read) name where; a submission is judged on
the PTX NVRTC compiled, so its host-only code (an escape, a constructor, an .init_array entry, a
``__CUDACC_RTC__``-divergent branch) never runs; tier-two instructions are refused naming the
instruction and the line; a hang is a spent instruction budget and the next request succeeds."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.bench import Timeouts
from kernel_skills.bench.models import BenchRequest, BenchResult
from kernel_skills.confine import UNCONFINED_ENV, policy
from kernel_skills.dispatch import benchmark, on_emulator
from kernel_skills.emulator import LIMITS, TIMING_NOTE
from kernel_skills.errors import EmulatorUnsupported, KernelFault, RefusedInput, Timeout

from .conftest import needs_emulator

pytestmark = needs_emulator
HERE = Path(__file__).parent
WRONG = HERE.parent / "bench" / "wrong_kernels"
GOOD = HERE.parent / "bench" / "good_kernels"
GELU = {"problem": "gelu_tanh", "kernel": "gelu_tanh", "block": [256], "grid": ["ceil_div(n, 256)"]}
RMSNORM = {"problem": "rmsnorm", "kernel": "rmsnorm", "block": [256], "grid": ["rows"]}
LAUNCH_TIMEOUT = Timeouts(check=8)


def _judge(source: str, fields: dict = GELU, **extra) -> BenchResult:
    request = BenchRequest(source=source, device="emulator", **{**fields, **extra})
    return benchmark(request, timeouts=LAUNCH_TIMEOUT, runtime=RUNTIME)


def _failed(result: BenchResult) -> dict[str, str]:
    return {c.name: c.detail for c in result.checks if not c.passed}


def test_a_correct_kernel_is_verified_on_the_cpu_emulator_and_labelled_so() -> None:
    result = _judge((GOOD / "gelu_tanh.cu").read_text())
    assert result.correct and result.ok, _failed(result)
    assert result.verified_on == "cpu-emulator"
    assert result.time_us is None and result.speedup == {} and result.roofline is None
    assert TIMING_NOTE in result.notes and result.limits == LIMITS
    assert "Runs the PTX NVRTC compiled" in LIMITS and "occupancy" in LIMITS and ".approx" in LIMITS
    assert "Refused, naming the instruction and line: wgmma, mbarrier, TMA" in LIMITS
    names = [c.name for c in result.checks]
    assert "emulator program" in names and "inputs unchanged" in names
    assert sum(n.startswith("correct on emulator") for n in names) == 3  # every emulator shape
    assert result.device is not None and "CPU emulator" in result.device.name
    assert result.result_id is not None  # stored like a GPU result, marked as an emulator verdict
    from kernel_skills.bench import results_db

    [row] = [r for r in results_db.list_results("gelu_tanh").results if r.id == result.result_id]
    assert row.verified_on == "cpu-emulator" and row.summary.startswith("correct on the CPU emulator")


def test_off_by_one_fails_and_names_the_last_index() -> None:
    result = _judge((WRONG / "off_by_one.cu").read_text())
    assert not result.correct and not result.ok
    detail = _failed(result)["correct on emulator (n=100003)"]
    assert "1 of 100,003 elements" in detail and "(100002)" in detail


def test_a_kernel_that_mutates_its_input_fails() -> None:
    detail = _failed(_judge((WRONG / "mutate_input.cu").read_text()))["inputs unchanged"]
    assert "input 'x'" in detail and "elements changed" in detail


def test_a_kernel_that_writes_nothing_fails() -> None:
    detail = _failed(_judge((WRONG / "output_untouched.cu").read_text()))["correct on emulator (n=4103)"]
    assert "every one of 4,103 elements is NaN" in detail


def test_a_pointer_keyed_result_cache_cannot_replay_on_the_emulator_and_the_limits_say_so() -> None:
    # Each launch is a fresh process, so the cache never hits: the kernel is judged on what it computes
    # (here: correctly). A GPU run catches the replay on "new data, same pointers".
    result = _judge((WRONG / "result_cache.cu").read_text())
    assert result.correct, _failed(result)
    assert "result cache keyed on pointers is not caught here" in (result.limits or "")


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("oob_write.cu", "faulted on the CPU emulator"), ("trap.cu", r"trap: the kernel executed trap")],
)
def test_crashing_kernels_are_a_kernel_fault_and_the_next_request_succeeds(name: str, fragment: str) -> None:
    with pytest.raises(KernelFault, match=fragment):
        _judge((WRONG / name).read_text())
    assert _judge((GOOD / "gelu_tanh.cu").read_text()).correct


def test_a_hang_spends_the_instruction_budget_and_the_next_request_succeeds() -> None:
    # Deterministic: the budget is counted in thread-instructions, not wall-clock time.
    request = BenchRequest(source=(WRONG / "infinite_loop.cu").read_text(), device="emulator", **GELU)
    for _ in range(2):
        with pytest.raises(Timeout, match="did not finish within the emulator's budget of 100000000"):
            benchmark(request, timeouts=Timeouts(check=60), runtime=RUNTIME)
    assert _judge((GOOD / "gelu_tanh.cu").read_text()).correct


def test_a_wrong_signature_is_refused_before_anything_runs() -> None:
    with pytest.raises(RefusedInput, match=r"sizes \[8, 8, 8\]"):
        _judge((WRONG / "wrong_signature.cu").read_text())


def test_the_bundled_rmsnorm_without_its_first_syncthreads_is_reported_as_a_race() -> None:
    from kernel_skills.bench.solutions import solution_request_fields

    fields = solution_request_fields("rmsnorm")
    first_sync = "  __syncthreads();  // scratch may still be read from the previous call\n"
    assert fields["source"].count(first_sync) == 1
    fields["source"] = fields["source"].replace(first_sync, "")
    result = benchmark(
        BenchRequest(**{**fields, "device": "emulator"}), timeouts=LAUNCH_TIMEOUT, runtime=RUNTIME
    )
    [(name, detail)] = _failed(result).items()
    assert name.startswith("race-free on emulator"), name
    assert (
        detail.startswith("race: data race on shared memory: read races with a write by another thread")
        and "__shared__ scratch" in detail
    )
    assert " and block (0, 0, 0) thread (" in detail  # the two threads
    assert "kernel line" in detail and "the other access at line" in detail


def test_a_tree_reduction_without_its_first_barrier_reads_unwritten_shared_memory() -> None:
    # Without the barrier, thread 0 reads partial[128] before thread 128 has written it: on a GPU a
    # race; the engine names it by what it sees first, a read of shared memory no thread wrote yet.
    source = (HERE / "kernels" / "reduction.cu").read_text()
    assert _judge(source, RMSNORM).correct  # with the barrier: correct
    racy = _judge(source.replace("__syncthreads();  // FIRST_BARRIER", ""), RMSNORM)
    [(name, detail)] = _failed(racy).items()
    assert name == "shared memory initialised on emulator (rows=127, dim=128)"
    assert "__shared__ partial" in detail and "kernel line 18" in detail and "thread (0, 0, 0)" in detail


RETURN_BEFORE_BARRIER = """#include <cuda_bf16.h>
extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  __shared__ float s[256];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  s[threadIdx.x] = __bfloat162float(x[i]);
  __syncthreads();
  float v = s[threadIdx.x];
  out[i] = __float2bfloat16(0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v))));
}
"""


@pytest.mark.parametrize("early_return", [False, True], ids=["guarded-work", "return-before-barrier"])
def test_threads_returning_before_a_barrier_fail_the_barrier_check_naming_its_line(
    early_return: bool,
) -> None:
    source = RETURN_BEFORE_BARRIER
    if not early_return:
        source = source.replace("  if (i >= n) return;\n", "").replace(
            "s[threadIdx.x] = __bfloat162float(x[i]);",
            "s[threadIdx.x] = i < n ? __bfloat162float(x[i]) : 0.f;",
        )
        source = source.replace("  out[i] =", "  if (i < n) out[i] =")
    result = _judge(source)
    if not early_return:
        assert result.correct, _failed(result)
        return
    [(name, detail)] = _failed(result).items()
    assert name == "barriers reached by the whole block on emulator (n=1)"
    assert detail.startswith("barrier_divergence:") and "kernel line 7" in detail


@pytest.mark.parametrize("read_before_wait", [0, 1], ids=["waited", "read-before-wait"])
def test_a_read_of_cp_async_data_before_its_wait_fails_the_cp_async_check(read_before_wait: int) -> None:
    source = (
        f"#define READ_BEFORE_WAIT {read_before_wait}\n"
        + (HERE / "kernels" / "cp_async_pairs.cu").read_text()
    )
    result = _judge(source)
    if not read_before_wait:
        assert result.correct, _failed(result)
        return
    failed = _failed(result)
    assert list(failed) == ["cp.async data waited for on emulator (n=4103)"], failed
    assert "__shared__ tile" in failed["cp.async data waited for on emulator (n=4103)"]


def test_an_uninitialised_shared_read_names_the_variable_the_thread_and_the_line() -> None:
    result = _judge((HERE / "kernels" / "uninitialized_shared.cu").read_text())
    [(name, detail)] = _failed(result).items()
    assert name.startswith("shared memory initialised on emulator")
    assert "__shared__ tile" in detail and "block (0, 0, 0) thread (" in detail
    assert "kernel line 13" in detail


@pytest.mark.parametrize(
    ("name", "access", "buffer", "line"),
    [
        ("write_one_past_end.cu", "out_of_bounds: write of", "'out' index 1", 8),
        ("read_past_end.cu", "out_of_bounds: read of", "'x' index 1", 7),
    ],
)
def test_one_past_the_end_is_a_fault_naming_the_buffer_index_and_line(
    name: str, access: str, buffer: str, line: int
) -> None:
    with pytest.raises(KernelFault) as caught:
        _judge((HERE / "kernels" / name).read_text())
    message = str(caught.value)
    assert access in message and "(one past the end)" in message
    assert f"buffer {buffer}" in message and f"kernel line {line}" in message
    assert "on emulator (n=1)" in message


ESCAPED = Path("/tmp/kernel-skills-escaped")
HOST_PAYLOAD_RAN = Path("/tmp/kernel-skills-host-payload-ran")


@pytest.mark.parametrize("escape", ["OPEN", "EXEC", "CONNECT"])
def test_a_host_only_escape_never_runs_and_the_kernel_is_judged_on_nvrtcs_branch(escape: str) -> None:
    ESCAPED.unlink(missing_ok=True)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        source = (
            f"#define ESCAPE {escape}\n#define ESCAPE_PORT {port}\n"
            + (HERE / "kernels" / "escape.cu").read_text()
        )
        result = _judge(source)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    assert result.correct, _failed(result)  # NVRTC's branch: a plain, correct gelu_tanh
    assert not ESCAPED.exists(), "the submission's host-only branch ran natively"


def test_a_constructor_or_init_array_payload_in_the_submission_never_runs() -> None:
    source = (HERE / "kernels" / "host_payload.cu").read_text()
    assert "__attribute__((constructor))" in source and '".init_array"' in source
    HOST_PAYLOAD_RAN.unlink(missing_ok=True)
    result = _judge(source)
    assert not HOST_PAYLOAD_RAN.exists(), "the submission's host code ran natively"
    assert result.correct and result.verified_on == "cpu-emulator", _failed(result)


def test_a_kernel_divergent_under_nvrtc_is_judged_wrong_on_the_branch_nvrtc_compiled() -> None:
    source = (HERE / "kernels" / "rtc_divergent.cu").read_text()
    assert "#ifdef __CUDACC_RTC__" in source
    result = _judge(source)
    assert not result.correct and not result.ok
    assert not _failed(result)["correct on emulator (n=4103)"].startswith("3 fresh seeds")


@pytest.mark.parametrize(
    ("tier_two", "instruction"),
    [
        ("WGMMA", "wgmma.fence.sync.aligned"),
        ("MBARRIER", "mbarrier.init.shared.b64"),
        ("BULK", "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes"),
    ],
)
def test_tier_two_instructions_are_refused_naming_the_instruction_and_the_line(
    tier_two: str, instruction: str
) -> None:
    source = f"#define TIER_TWO {tier_two}\n" + (HERE / "kernels" / "tier_two_asm.cu").read_text()
    [line] = [
        i for i, text in enumerate(source.splitlines(), 1) if instruction.split(".", 1)[0] + "." in text
    ]
    with pytest.raises(EmulatorUnsupported) as caught:
        _judge(source)
    message = str(caught.value)
    assert f"(instruction {instruction})" in message and f"(line {line})" in message, message
    assert "nothing ran" in message
    assert _judge((GOOD / "gelu_tanh.cu").read_text()).correct


def test_a_compile_id_is_verified_on_the_emulator_from_the_ptx_its_compile_kept() -> None:
    from kernel_skills.toolchain import CompileRequest, compile_source

    compiled = compile_source(
        CompileRequest(source=(GOOD / "gelu_tanh.cu").read_text()), toolchain=RUNTIME.toolchain
    )
    assert compiled.compile_id is not None
    result = benchmark(
        BenchRequest(compile_id=compiled.compile_id, device="emulator", **GELU), runtime=RUNTIME
    )
    assert result.correct and result.verified_on == "cpu-emulator", _failed(result)
    assert result.kernel is not None and result.kernel.compile_id == compiled.compile_id


def test_a_wrong_abi_behind_a_compile_id_is_reported_before_the_emulator_asks_for_source() -> None:
    from kernel_skills.toolchain import CompileRequest, compile_source

    wrong = (HERE.parent / "bench" / "wrong_kernels" / "wrong_signature.cu").read_text()
    compiled = compile_source(CompileRequest(source=wrong), toolchain=RUNTIME.toolchain)
    assert compiled.compile_id is not None
    with pytest.raises(RefusedInput, match="parameters of sizes"):
        benchmark(BenchRequest(compile_id=compiled.compile_id, device="emulator", **GELU), runtime=RUNTIME)


def test_without_confinement_the_emulator_refuses_to_run_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    from kernel_skills.errors import DeviceUnavailable

    monkeypatch.setattr(policy, "landlock_available", lambda: False)
    monkeypatch.delenv(UNCONFINED_ENV, raising=False)
    with pytest.raises(DeviceUnavailable, match="Landlock"):
        _judge((GOOD / "gelu_tanh.cu").read_text())


def test_auto_picks_the_emulator_only_when_no_gpu_is_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    from kernel_skills.bench.device import FORCE_NO_DEVICE_ENV
    from kernel_skills.executors.local import LocalExecutor

    monkeypatch.setenv(FORCE_NO_DEVICE_ENV, "1")
    local = LocalExecutor(toolchain=RUNTIME.toolchain)
    assert on_emulator("auto", local) and on_emulator("emulator", local)
    assert not on_emulator("gpu", local)  # the GPU path then says DeviceUnavailable


@pytest.mark.gpu
def test_on_a_gpu_machine_auto_runs_on_the_gpu_and_the_emulator_only_on_request() -> None:
    source = (GOOD / "gelu_tanh.cu").read_text()
    on_gpu = benchmark(BenchRequest(source=source, shapes=["ragged"], quick=True, **GELU), runtime=RUNTIME)
    assert on_gpu.verified_on == "gpu" and on_gpu.time_us is not None
    assert on_gpu.device is not None and "NVIDIA" in on_gpu.device.name
    assert _judge(source).verified_on == "cpu-emulator"


def test_blocks_writing_the_same_global_element_are_reported_as_a_race() -> None:
    # Which block's value is left in out[0] depends on the order blocks run in: no GPU orders them.
    failed = _failed(_judge((HERE / "kernels" / "order_dependent.cu").read_text()))
    detail = failed["race-free on emulator (n=4103)"]
    assert (
        "race: data race on global memory: write of element 0 of 'out' races with a write" in detail
        and "another block" in detail
    )
    assert "buffer 'out' index 0" in detail
    assert "block (1, 0, 0) thread (0, 0, 0) and block (0, 0, 0) thread (0, 0, 0)" in detail


def test_a_correct_kernel_gets_an_h100_estimate_labelled_as_a_model_and_a_wrong_one_none() -> None:
    result = _judge((GOOD / "gelu_tanh.cu").read_text())
    e, c = result.estimate, result.counters
    assert e is not None and c is not None and c.at_shape is not None and result.time_us is None
    assert e.shape == c.at_shape.shape == c.launch.shape  # the first timed shape
    assert c.at_shape.bytes_scale > 100 and c.at_shape.unique_bytes > c.global_load.bytes_requested
    assert e.basis.startswith("a model from the CPU emulator's counters, not a measurement")
    assert e.measured_us is None and e.error is None
    dram_us = c.at_shape.unique_bytes / (e.peaks.copy_gbps * 1e3)
    assert e.terms_us["memory"] == pytest.approx(dram_us, rel=1e-3)
    assert e.fraction_of_peak is not None and 0.3 < e.fraction_of_peak < 1
    from kernel_skills.bench.solutions import solution_request_fields

    vectorised = benchmark(
        BenchRequest(device="emulator", **solution_request_fields("gelu_tanh")), runtime=RUNTIME
    )
    assert vectorised.estimate is not None and vectorised.estimate.bound == "memory"
    assert vectorised.estimate.time_us < e.time_us  # 16-byte accesses, 8 elements a thread: fewer issues
    wrong = _judge((WRONG / "off_by_one.cu").read_text())
    assert not wrong.correct and wrong.estimate is None


def test_counters_beside_a_gpu_measurement_record_the_estimates_error() -> None:
    """What `bench --counters` adds to a GPU result (here a GPU result written as data: the machine
    has no GPU; the GPU half is tests/bench/test_gpu.py's)."""
    from kernel_skills.bench import plan
    from kernel_skills.bench.models import Provenance
    from kernel_skills.bench.stats import summarize
    from kernel_skills.dispatch import add_counters
    from kernel_skills.executors.local import LocalExecutor

    request = BenchRequest(source=(GOOD / "gelu_tanh.cu").read_text(), counters=True, **GELU)
    measured = BenchResult(
        ok=True,
        correct=True,
        problem="gelu_tanh",
        verified_on="gpu",
        time_us=summarize([40.0, 41.0, 42.0]),
        provenance=Provenance(kernel_skills="0", date="2026-12-07T00:00:00+00:00"),
    )
    add_counters(measured, plan(request), LocalExecutor(toolchain=RUNTIME.toolchain), LAUNCH_TIMEOUT)
    e = measured.estimate
    assert measured.counters is not None and e is not None and e.measured_us == 41.0
    assert e.error == pytest.approx(e.time_us / 41.0 - 1) and measured.warnings == []
    refused = measured.model_copy(update={"estimate": None, "counters": None, "warnings": []})
    body = "(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {"
    source = request.source.replace(body, body + '\n  asm volatile("wgmma.fence.sync.aligned;");', 1)
    assert source != request.source
    wgmma = plan(request.model_copy(update={"source": source}))
    add_counters(refused, wgmma, LocalExecutor(toolchain=RUNTIME.toolchain), LAUNCH_TIMEOUT)
    assert refused.ok and refused.estimate is None and refused.counters is None
    assert refused.warnings[0].startswith("counters: the CPU emulator could not run this kernel: ")
    assert "wgmma" in refused.warnings[0]
