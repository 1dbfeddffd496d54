"""The build.toml schema this checker enforces: kernel-builder's current format, edition 5.

Taken from huggingface/kernels (kernels-data/src/config/v5.rs, serde ``deny_unknown_fields`` on
every table) and the CMake helpers that consume ``cuda-capabilities``. Keys are kebab-case, except in
``[torch-noarch]``: its struct has ``deny_unknown_fields`` but no ``rename_all``, so its keys are the
Rust field names, ``cuda_capabilities`` and ``rocm_archs``. PyPI's ``kernels-data`` (0.16.2) ships
no build.toml parser to check against, so this table is maintained by hand from the source.
"""

from __future__ import annotations

import re

EDITION = 5

BACKENDS = ("cann", "cpu", "cuda", "metal", "neuron", "rocm", "tpu", "xpu")
FRAMEWORKS = ("torch", "torch-noarch", "tvm-ffi")
TOP_LEVEL_KEYS = ("general", "kernel", *FRAMEWORKS)

# Key -> expected TOML type name (see _TYPE_CHECKS in check.py). Missing from the dict = unknown.
GENERAL_KEYS: dict[str, str] = {
    "name": "str",
    "version": "int",
    "edition": "int",
    "license": "str",
    "upstream": "str",
    "source": "str",
    "minver": "str",
    "backends": "list[str]",
    "cuda": "table",
    "hub": "table",
    "kernel-depends": "list",
    "neuron": "table",
    "python-depends": "list[str]",
    "tpu": "table",
    "xpu": "table",
}
GENERAL_REQUIRED = ("name", "version", "edition", "license", "backends")

GENERAL_SUBTABLES: dict[str, dict[str, str]] = {
    "cuda": {"minver": "str", "maxver": "str", "kernel-depends": "list", "python-depends": "list[str]"},
    "hub": {"repo-id": "str", "branch": "str"},
    "neuron": {"kernel-depends": "list", "python-depends": "list[str]"},
    "tpu": {"python-depends": "list[str]"},
    "xpu": {"kernel-depends": "list", "python-depends": "list[str]"},
}

FRAMEWORK_KEYS: dict[str, dict[str, str]] = {
    "torch": {
        "src": "list[str]",
        "include": "list[str]",
        "minver": "str",
        "maxver": "str",
        "pyext": "list[str]",
        "stable-abi": "str|table",
        "cxx-flags": "list[str]",
    },
    "torch-noarch": {"pyext": "list[str]", "cuda_capabilities": "list[str]", "rocm_archs": "list[str]"},
    "tvm-ffi": {"src": "list[str]", "include": "list[str]", "pyext": "list[str]", "cxx-flags": "list[str]"},
}

KERNEL_COMMON_KEYS: dict[str, str] = {
    "backend": "str",
    "depends": "list[str]",
    "src": "list[str]",
    "include": "list[str]",
    "cxx-flags": "list[str]",
}
KERNEL_BACKEND_KEYS: dict[str, dict[str, str]] = {
    "cpu": {},
    "cuda": {
        "cuda-capabilities": "list[str]",
        "cuda-flags": "list[str]",
        "cuda-minver": "str",
    },
    "metal": {},
    "rocm": {"rocm-archs": "list[str]", "hip-flags": "list[str]"},
    "xpu": {"sycl-flags": "list[str]"},
}
KERNEL_REQUIRED = ("backend", "depends", "src")

# kernels-data/src/config/deps.rs and the builder's dependency map (lib/deps.nix, which has 4.4 and
# 4.5 as well): the `depends` values a kernel may name.
DEPENDENCIES = (
    "torch",
    "cutlass_2_10",
    "cutlass_3_5",
    "cutlass_3_6",
    "cutlass_3_8",
    "cutlass_3_9",
    "cutlass_4_0",
    "cutlass_4_4",
    "cutlass_4_5",
    "sycl_tla",
    "metal-cpp",
)

# "9.0", "9.0a", "10.0f", "12.0+PTX": a base capability, an optional arch-specific ("a", sm_90+)
# or family ("f", sm_100+) suffix, an optional +PTX. The bases the builder's CUDA toolkits know
# (CUDA_DEFAULT_KERNEL_ARCHS in kernel-builder's preamble.cmake, CUDA 12.x and 13.x).
CAPABILITY_RE = re.compile(r"^(\d{1,2})\.(\d)([af]?)(\+PTX)?$")
KNOWN_CAPABILITY_BASES = (
    "7.0", "7.2", "7.5", "8.0", "8.6", "8.7", "8.9", "9.0", "10.0", "10.1", "10.3", "11.0", "12.0", "12.1",
)  # fmt: skip

# kernels-data/src/config/name.rs
NAME_RE = re.compile(r"^[a-z][-a-z0-9]*[a-z0-9]$")
VERSION_RE = re.compile(r"^\d+(\.\d+){0,2}$")
REPO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")

BINDING_MACROS = ("TORCH_LIBRARY_EXPAND", "REGISTER_EXTENSION")
FORBIDDEN_FILES = ("setup.py",)
FORBIDDEN_TOKENS = ("pybind11", "PYBIND11_MODULE")
SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".cu", ".cuh", ".h", ".hh", ".hpp", ".py")
