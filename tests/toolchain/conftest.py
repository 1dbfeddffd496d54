"""Fixtures for the toolchain tests: real NVRTC in the real worker process, a private cache per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.toolchain import CompileRequest, CompileResult, Toolchain

KERNELS = Path(__file__).parent / "kernels"


def kernel_source(name: str) -> str:
    return (KERNELS / name).read_text(encoding="utf-8")


@pytest.fixture
def toolchain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Toolchain:
    """The test process's compile worker (shared, started once) with a cache dir that starts empty for this
    test."""
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    return Toolchain(worker=RUNTIME.toolchain.worker)


@pytest.fixture
def compile_kernel(toolchain: Toolchain):
    def run(name: str, **fields: object) -> CompileResult:
        return toolchain.compile(CompileRequest(source=kernel_source(name), **fields))

    return run
