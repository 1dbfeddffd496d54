"""Without a GPU, ``benchmark`` still judges everything it can (compile, ABI, launch limits, the
compiled arch) and says "no CUDA device" only for a submission that passed all of that. Real NVRTC;
the device probe answers "none" (``KERNEL_SKILLS_NO_GPU=1``) so this means the same on a GPU machine.
The module-load classification of the worker is tested on its pure function."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.bench import plan
from kernel_skills.bench.device import FORCE_NO_DEVICE_ENV, require_cuda_device
from kernel_skills.bench.gpu_jobs import refused_module
from kernel_skills.bench.models import BenchRequest
from kernel_skills.dispatch import benchmark
from kernel_skills.errors import DeviceUnavailable, KernelFault, RefusedInput
from kernel_skills.toolchain import CompileRequest, compile_source

HERE = Path(__file__).parent
GELU = {"problem": "gelu_tanh", "kernel": "gelu_tanh", "block": [256], "grid": ["ceil_div(n, 256)"]}
GOOD = (HERE / "good_kernels" / "gelu_tanh.cu").read_text()


@pytest.fixture(autouse=True)
def _no_gpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(FORCE_NO_DEVICE_ENV, "1")
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))


def test_a_wrong_abi_is_reported_as_such_without_a_gpu() -> None:
    source = (HERE / "wrong_kernels" / "wrong_signature.cu").read_text()
    with pytest.raises(RefusedInput, match=r"sizes \[8, 8, 8\] bytes"):
        benchmark(BenchRequest(source=source, **GELU), store=False, runtime=RUNTIME)


def test_a_launch_over_the_limits_is_reported_as_such_without_a_gpu() -> None:
    fields = GELU | {"shared_mem": "300000"}
    with pytest.raises(RefusedInput, match="shared"):
        benchmark(BenchRequest(source=GOOD, **fields), store=False, runtime=RUNTIME)


def test_a_compile_error_is_a_failed_result_without_a_gpu() -> None:
    result = benchmark(BenchRequest(source="this is not CUDA", **GELU), store=False, runtime=RUNTIME)
    assert not result.ok and result.checks[0].name == "compile" and not result.checks[0].passed


def test_a_gpu_request_that_passed_every_cpu_check_hears_there_is_no_device() -> None:
    with pytest.raises(DeviceUnavailable, match="no CUDA device"):
        benchmark(BenchRequest(source=GOOD, device="gpu", **GELU), store=False, runtime=RUNTIME)


@pytest.mark.parametrize("arch", ["sm_80", "sm_100a"])
def test_a_compile_id_for_another_arch_is_refused_in_planning(arch: str) -> None:
    compiled = compile_source(CompileRequest(source=GOOD, arch=arch), toolchain=RUNTIME.toolchain)
    assert compiled.ok and compiled.compile_id is not None
    with pytest.raises(RefusedInput, match=rf"built for {arch}.*needs sm_90 or sm_90a"):
        plan(BenchRequest(compile_id=compiled.compile_id, **GELU))


def test_a_compile_id_for_sm_90_is_accepted_in_planning() -> None:
    compiled = compile_source(CompileRequest(source=GOOD, arch="sm_90"), toolchain=RUNTIME.toolchain)
    assert compiled.compile_id is not None
    plan(BenchRequest(compile_id=compiled.compile_id, **GELU))


class CUDADriverError(RuntimeError):
    """Stands in for cupy_backends.cuda.api.driver.CUDADriverError (same str format)."""


H100 = {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0"}


@pytest.mark.parametrize(
    "message",
    [
        "CUDA_ERROR_NO_BINARY_FOR_GPU: no kernel image is available for execution on the device",
        "CUDA_ERROR_INVALID_IMAGE: device kernel image is invalid",
        "CUDA_ERROR_NOT_FOUND: named symbol not found",
    ],
)
def test_a_module_that_does_not_fit_the_device_is_refused_input_not_a_fault(message: str) -> None:
    refused = refused_module(CUDADriverError(message), H100)
    assert isinstance(refused, RefusedInput)
    assert "H100" in str(refused) and "sm_90" in str(refused) and message.split(":")[0] in str(refused)


def test_a_sticky_error_at_module_load_stays_a_fault() -> None:
    error = CUDADriverError("CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory access was encountered")
    assert refused_module(error, H100) is error
    assert not isinstance(refused_module(KernelFault("x"), H100), RefusedInput)


def test_devices_hidden_by_cuda_visible_devices_are_seen_without_asking_the_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(FORCE_NO_DEVICE_ENV)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(DeviceUnavailable, match="hidden by CUDA_VISIBLE_DEVICES"):
        require_cuda_device()
