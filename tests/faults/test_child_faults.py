"""Every kind of child, stopped (SIGSTOP) or killed (SIGKILL) from outside mid-job: the compile
worker (real NVRTC), the GPU worker (its test jobs, no GPU needed) and the emulator engine (a real
confined launch). Each is a ``ServerFault`` naming the signal and saying nothing was judged, never a
``KernelFault`` or a memory-cap guess; the next job works; no process or temp folder is left."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.bench.device import FORCE_NO_DEVICE_ENV
from kernel_skills.bench.models import BenchRequest
from kernel_skills.bench.worker import TEST_JOBS_ENV, WorkerProcess
from kernel_skills.errors import KernelFault, ServerFault
from kernel_skills.toolchain import CompileRequest, Toolchain
from kernel_skills.toolchain.worker import CompileWorker

from .conftest import descendants, my_temp_dirs, needs_emulator

SLOW_COMPILE = (
    "__device__ constexpr unsigned long long spin(unsigned long long n) {\n"
    "  unsigned long long s = 0;\n"
    "  for (unsigned long long i = 0; i < n; ++i) s = s * 6364136223846793005ull + i;\n"
    "  return s;\n"
    "}\n"
    + "".join(f'static_assert(spin({500000 + i}ull) != 1ull, "");\n' for i in range(40))
    + 'extern "C" __global__ void k(unsigned long long* a) { a[0] = 1; }\n'
)
QUICK = 'extern "C" __global__ void k(float* out) { out[0] = 2.0f; }\n'
# gelu_tanh's signature; every thread spins long enough to be caught inside the engine
SLOW_KERNEL = (
    "#include <cuda_bf16.h>\n"
    'extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {\n'
    "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "  float acc = 0.f;\n"
    "  for (int k = 0; k < 20000; ++k) acc += 1e-30f * k;\n"
    "  if (i < n) out[i] = __float2bfloat16(__bfloat162float(x[i]) * 0.f + acc);\n"
    "}\n"
)


def _in_background(work: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _wait_for(find: Callable[[], int | None], what: str, deadline_s: float = 60.0) -> int:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if (found := find()) is not None:
            return found
        time.sleep(0.02)
    raise AssertionError(f"never saw {what}")


def _in_job(pid: int) -> int | None:
    """``pid`` once it has read its job: no longer blocked in read(2) (syscall 0) on its stdin."""
    syscall = Path(f"/proc/{pid}/syscall").read_text().split()
    return pid if syscall and syscall[0] not in ("0", "running") else None


def _running(pid: int) -> int | None:
    status = Path(f"/proc/{pid}/status").read_text()
    return pid if "State:\tR" in status else None


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSTOP])
def test_the_compile_worker_stopped_or_killed_mid_compile(sig: signal.Signals, tmp_path: Path) -> None:
    others = set(my_temp_dirs(live_workers=True))  # folders of workers other tests left running
    worker = CompileWorker(timeout_s=4.0)
    chain = Toolchain(worker=worker, cache_root=tmp_path / "cache")
    try:
        chain.compile(CompileRequest(source=QUICK))
        pid = worker.pid
        assert pid is not None
        thread, errors = _in_background(lambda: chain.compile(CompileRequest(source=SLOW_COMPILE)))
        _wait_for(lambda: _running(pid), "the worker compiling")
        os.kill(pid, sig)
        thread.join(timeout=60)
        [error] = errors
        assert isinstance(error, ServerFault), error
        text = str(error)
        assert "compile worker" in text and "not judged" in text and "memory cap" not in text
        assert ("killed by SIGKILL" if sig == signal.SIGKILL else "stopped from outside") in text
        assert chain.compile(CompileRequest(source=QUICK.replace("2.0f", "5.0f"))).ok
        assert worker.started == 2
        assert pid not in descendants()
    finally:
        worker.close()
    assert set(my_temp_dirs(live_workers=True)) <= others  # its private folders went with it


@pytest.fixture
def gpu_worker() -> WorkerProcess:
    process = WorkerProcess(env={TEST_JOBS_ENV: "1"})
    yield process
    process.close()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP])
def test_the_gpu_worker_stopped_or_killed_mid_job(sig: signal.Signals, gpu_worker: WorkerProcess) -> None:
    pid = gpu_worker.request({"kind": "ping"}, timeout_s=60)["pid"]
    thread, errors = _in_background(
        lambda: gpu_worker.request({"kind": "sleep", "seconds": 30}, timeout_s=3, what="the sleep job")
    )
    _wait_for(lambda: _in_job(pid), "the worker inside the sleep job")
    os.kill(pid, sig)
    thread.join(timeout=60)
    [error] = errors
    assert isinstance(error, ServerFault) and not isinstance(error, KernelFault), error
    text = str(error)
    assert "not judged" in text and "replaced" in text
    expected = "stopped from outside" if sig == signal.SIGSTOP else f"killed by signal {sig.name}"
    assert expected in text
    assert gpu_worker.request({"kind": "ping"}, timeout_s=60)["pid"] != pid
    assert pid not in descendants()


def test_a_gpu_worker_that_crashes_itself_is_still_a_kernel_fault(gpu_worker: WorkerProcess) -> None:
    with pytest.raises(KernelFault, match="killed by signal SIGSEGV"):
        gpu_worker.request({"kind": "crash"}, timeout_s=60, what="the crash job")


def _engine() -> int | None:
    found = [pid for pid, command in descendants().items() if "ptxvm" in command.split(" ")[0]]
    return found[0] if found else None


def _emulate(source: str) -> Any:
    from kernel_skills.bench.verdicts import Timeouts
    from kernel_skills.dispatch import benchmark

    request = BenchRequest(
        problem="gelu_tanh", source=source, kernel="gelu_tanh", block=[256], grid=["ceil_div(n, 256)"],
        device="emulator",
    )  # fmt: skip
    # a stopped engine is found at its launch's deadline: keep it short
    return benchmark(request, store=False, timeouts=Timeouts(check=4.0), runtime=RUNTIME)


@needs_emulator
@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSTOP])
def test_the_emulator_engine_stopped_or_killed_mid_launch(
    sig: signal.Signals, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FORCE_NO_DEVICE_ENV, "1")
    thread, errors = _in_background(lambda: _emulate(SLOW_KERNEL))
    engine = _wait_for(_engine, "the engine running", deadline_s=180)
    os.kill(engine, sig)
    thread.join(timeout=120)
    [error] = errors
    assert isinstance(error, ServerFault), error
    text = str(error)
    assert "emulator engine" in text and "not judged" in text and "out-of-bounds" not in text
    assert ("killed by SIGKILL" if sig == signal.SIGKILL else "stopped from outside") in text
    assert _engine() is None
    assert my_temp_dirs() == []


@needs_emulator
@pytest.mark.slow
def test_a_vanished_engine_binary_is_a_server_fault_and_is_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    from kernel_skills import paths
    from kernel_skills.emulator.engine_build import build_engine
    from kernel_skills.emulator.harness import EmulatedKernel, compiled_program
    from kernel_skills.toolchain import compile_source

    monkeypatch.setenv(FORCE_NO_DEVICE_ENV, "1")
    engine = build_engine(paths.cache_dir() / "emulator")
    compiled = compile_source(CompileRequest(source=SLOW_KERNEL), toolchain=RUNTIME.toolchain)
    program = compiled_program(compiled.compile_id, "gelu_tanh")
    kernel = EmulatedKernel(engine.exe.with_name("ptxvm-gone"), program)
    with pytest.raises(ServerFault, match=r"engine binary .*ptxvm-gone is missing \(ENOENT"):
        kernel.launch(None, {}, None, {})  # type: ignore[arg-type]
