"""Find NVRTC, the toolkit headers and the disassemblers from the PyPI wheels (cuda-pathfinder).

Nothing here looks at a system CUDA install on purpose: a system ``nvcc`` is only the benchmark's
baseline. Every lookup is cached for the life of the process.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from kernel_skills.errors import CompileError
from kernel_skills.toolchain.headers import shim_dir


@dataclass(frozen=True)
class Toolkit:
    include_dirs: tuple[Path, ...]  # the standard-header shims, CUDA runtime headers, CCCL (CUB, libcu++)
    nvdisasm: Path
    cuobjdump: Path
    nvrtc_version: str
    nvrtc_archs: tuple[int, ...]  # from nvrtcGetSupportedArchs, e.g. (75, 80, ..., 90, 100, ...)


@functools.cache
def toolkit() -> Toolkit:
    """Locate everything once. CompileError (with how to fix it) when a wheel is missing."""
    try:
        import cuda.pathfinder as pathfinder
    except ImportError as exc:
        raise CompileError("cuda-pathfinder is not installed (pip install cuda-pathfinder)") from exc
    try:
        include_dirs = (shim_dir(), *_header_dirs(pathfinder))
        nvdisasm = Path(_binary(pathfinder, "nvdisasm"))
        cuobjdump = Path(_binary(pathfinder, "cuobjdump"))
    except (pathfinder.DynamicLibNotFoundError, AttributeError, TypeError, RuntimeError) as exc:
        raise CompileError(
            f"CUDA toolkit wheels not found ({exc}); install nvidia-cuda-runtime, nvidia-cuda-cccl, "
            "nvidia-cuda-nvdisasm and nvidia-cuda-cuobjdump"
        ) from exc
    version, archs = nvrtc_info()
    return Toolkit(include_dirs, nvdisasm, cuobjdump, version, archs)


def _header_dirs(pathfinder: object) -> tuple[Path, ...]:
    return tuple(
        Path(pathfinder.locate_nvidia_header_directory(name).abs_path).resolve()  # type: ignore[attr-defined]
        for name in ("cudart", "cccl")
    )


def _binary(pathfinder: object, name: str) -> str:
    found = pathfinder.find_nvidia_binary_utility(name)  # type: ignore[attr-defined]
    if not found or not os.access(found, os.X_OK):
        raise RuntimeError(f"{name} not found in the installed wheels")
    return found


@functools.cache
def nvrtc_info() -> tuple[str, tuple[int, ...]]:
    """(version "13.5", supported real archs) from the NVRTC library the wheels ship."""
    nvrtc = load_nvrtc()
    major_minor = nvrtc.nvrtcVersion()
    _, archs = nvrtc.nvrtcGetSupportedArchs()
    return f"{major_minor[1]}.{major_minor[2]}", tuple(int(arch) for arch in archs)


@functools.cache
def nvrtc_lib_dir() -> Path:
    """The folder of libnvrtc (its builtins library is loaded from there on the first compile)."""
    import cuda.pathfinder as pathfinder

    try:
        loaded = pathfinder.load_nvidia_dynamic_lib("nvrtc")
    except Exception as exc:  # pathfinder raises several unrelated types; all mean "no NVRTC here"
        raise CompileError(f"NVRTC could not be located ({type(exc).__name__}: {exc})") from exc
    return Path(loaded.abs_path).resolve().parent


def load_nvrtc():
    """Load libnvrtc from the nvidia-cuda-nvrtc wheel and return ``cuda.bindings.nvrtc``."""
    try:
        import cuda.pathfinder as pathfinder

        pathfinder.load_nvidia_dynamic_lib("nvrtc")
        from cuda.bindings import nvrtc
    except Exception as exc:  # pathfinder raises several unrelated types; all mean "no NVRTC here"
        raise CompileError(
            f"NVRTC could not be loaded ({type(exc).__name__}: {exc}); "
            "install nvidia-cuda-nvrtc and cuda-bindings"
        ) from exc
    return nvrtc
