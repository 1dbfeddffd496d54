"""Is there a CUDA device at all? A cheap probe through the driver library, before any worker starts."""

from __future__ import annotations

import ctypes
import os

from kernel_skills.errors import DeviceUnavailable

FORCE_NO_DEVICE_ENV = "KERNEL_SKILLS_NO_GPU"  # "1" makes the probe fail (to exercise the no-GPU path)


def require_cuda_device() -> None:
    """Raise DeviceUnavailable naming what is missing: the driver library or a visible device."""
    if os.environ.get(FORCE_NO_DEVICE_ENV) == "1":
        raise DeviceUnavailable(f"no CUDA device: disabled by {FORCE_NO_DEVICE_ENV}=1")
    try:
        lib = ctypes.CDLL("libcuda.so.1")
    except OSError as exc:
        raise DeviceUnavailable(
            "no CUDA device: the NVIDIA driver library libcuda.so.1 is not present on this machine; "
            "benchmarking needs an NVIDIA GPU (compiling with compile_kernel works without one)"
        ) from exc
    status = lib.cuInit(0)
    if status != 0:
        raise DeviceUnavailable(
            f"no CUDA device: cuInit failed with CUresult {status} (no usable NVIDIA GPU)"
        )
    count = ctypes.c_int(0)
    status = lib.cuDeviceGetCount(ctypes.byref(count))
    if status != 0 or count.value < 1:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        hint = f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
        raise DeviceUnavailable(f"no CUDA device: the driver reports {count.value} devices{hint}")


__all__ = ["FORCE_NO_DEVICE_ENV", "require_cuda_device"]
