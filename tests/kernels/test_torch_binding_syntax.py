"""The torch binding and the host launchers parse as C++ against the installed torch headers
(CPU torch ships the c10/cuda and ATen headers they use) and the CUDA runtime headers. Skipped,
with the reason, where g++, the torch headers or a CUDA toolkit's headers are missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# kernel-builder generates registration.h; torch's CMake generates cuda_cmake_macros.h. Minimal
# stand-ins are enough to parse the sources.
_REGISTRATION_H = """#pragma once
#define TORCH_LIBRARY_EXPAND(NAME, MODULE) TORCH_LIBRARY(NAME, MODULE)
#define REGISTER_EXTENSION(NAME)
"""


def _torch_include() -> Path | None:
    try:
        import torch.utils.cpp_extension as cpp_extension
    except ImportError:
        return None
    for entry in cpp_extension.include_paths():
        if (Path(entry) / "torch" / "library.h").is_file():
            return Path(entry)
    return None


def _cuda_include() -> Path | None:
    candidates = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"]
    nvcc = shutil.which("nvcc")
    if nvcc:
        candidates.append(str(Path(nvcc).resolve().parent.parent))
    for root in candidates:
        if root and (Path(root) / "include" / "crt" / "host_defines.h").is_file():
            return Path(root) / "include"
    return None


@pytest.mark.slow  # g++ parses the bindings against the full torch headers (~10-25 s on 2 cores)
def test_binding_and_launchers_parse_against_torch_headers(kernels_dir: Path, tmp_path: Path) -> None:
    compiler = shutil.which("g++")
    torch_include = _torch_include()
    cuda_include = _cuda_include()
    if compiler is None:
        pytest.skip("g++ is not installed")
    if torch_include is None:
        pytest.skip("torch's C++ headers are not installed")
    if cuda_include is None:
        pytest.skip(
            "no CUDA toolkit headers (crt/host_defines.h) under CUDA_HOME, /usr/local/cuda or nvcc's prefix"
        )

    stubs = tmp_path / "stubs"
    (stubs / "c10" / "cuda" / "impl").mkdir(parents=True)
    (stubs / "registration.h").write_text(_REGISTRATION_H, encoding="utf-8")
    (stubs / "c10" / "cuda" / "impl" / "cuda_cmake_macros.h").write_text("#pragma once\n", encoding="utf-8")
    sources = [kernels_dir / "torch-ext" / "torch_binding.cpp", *sorted(kernels_dir.glob("*/*_launch.cu"))]
    assert len(sources) == 7  # the binding + one launcher per kernel
    unit = tmp_path / "all_host_sources.cpp"
    unit.write_text("".join(f'#include "{source.resolve()}"\n' for source in sources), encoding="utf-8")

    command = [
        compiler,
        "-std=c++20",
        "-fsyntax-only",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-DTORCH_EXTENSION_NAME=diffusers_h100_kernels",
        f"-I{stubs}",
        f"-isystem{torch_include}",
        f"-isystem{torch_include / 'torch' / 'csrc' / 'api' / 'include'}",
        f"-isystem{cuda_include}",
        "-x",
        "c++",
        str(unit),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert completed.returncode == 0, completed.stderr[-4000:]
