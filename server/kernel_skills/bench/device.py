"""Is there a CUDA device at all? A cheap probe before any worker starts, without initialising CUDA
in the server process (no ``cuInit``: that would create driver state, threads and, on some systems,
a context the server never needs). It looks for the driver library and the device nodes; the GPU
worker's hello then tells the truth (``torch.cuda.is_available()``), as ``DeviceUnavailable`` too.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import os

from kernel_skills.errors import OPTIONAL_MODULES, DeviceUnavailable, MissingDependency

FORCE_NO_DEVICE_ENV = "KERNEL_SKILLS_NO_GPU"  # "1" makes the probe fail (to exercise the no-GPU path)
_HIDDEN = {"", "-1", "none", "NoDevFiles"}
_DEVICE_NODES = ("/dev/nvidia[0-9]*", "/dev/dxg")  # Linux nodes; WSL2's paravirtual GPU


def require_cuda_device() -> None:
    """Raise DeviceUnavailable naming what is missing: a visible device, the driver library, a node."""
    if os.environ.get(FORCE_NO_DEVICE_ENV) == "1":
        raise DeviceUnavailable(f"no CUDA device: disabled by {FORCE_NO_DEVICE_ENV}=1")
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in _HIDDEN:
        raise DeviceUnavailable(f"no CUDA device: every device is hidden by CUDA_VISIBLE_DEVICES={visible!r}")
    try:
        ctypes.CDLL("libcuda.so.1")  # loading the library runs no CUDA code; cuInit is never called
    except OSError as exc:
        raise DeviceUnavailable(
            "no CUDA device: the NVIDIA driver library libcuda.so.1 is not present on this machine; "
            "benchmarking needs an NVIDIA GPU (compiling with compile_kernel works without one)"
        ) from exc
    if not any(glob.glob(pattern) for pattern in _DEVICE_NODES):
        raise DeviceUnavailable(
            "no CUDA device: the driver library is installed but no /dev/nvidia* device node exists "
            "(no GPU, or the container was started without one)"
        )


def require_module(name: str) -> None:
    """MissingDependency naming ``name`` (one of ``OPTIONAL_MODULES``) and its install command when it
    cannot be imported here; nothing is imported (a cheap check before a job that needs it)."""
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken install, or a module whose __spec__ is unset
        found = False
    if not found:
        needed_for, install = OPTIONAL_MODULES[name]
        raise MissingDependency(name, needed_for=needed_for, install=install)


__all__ = ["FORCE_NO_DEVICE_ENV", "require_cuda_device", "require_module"]
