"""Fixtures for the reference kernels and the kernel-builder checker: the bundled project, a
scratch copy to break, and each kernel file compiled once through our toolchain."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.paths import bundled_kernels_dir

KERNELS_DIR = bundled_kernels_dir()


@pytest.fixture(scope="session")
def kernels_dir() -> Path:
    return KERNELS_DIR


@pytest.fixture(scope="session")
def solutions() -> dict[str, dict[str, Any]]:
    return json.loads((KERNELS_DIR / "solutions.json").read_text(encoding="utf-8"))


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled kernel-builder project."""
    target = tmp_path / "project"
    shutil.copytree(KERNELS_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "build", "result"))
    return target


@pytest.fixture(scope="session")
def compiled(
    solutions: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """file (relative to kernels/) -> CompileResult, each file compiled once for sm_90a."""
    from kernel_skills.toolchain import CompileRequest, compile_source

    results: dict[str, Any] = {}
    base = tmp_path_factory.getbasetemp()
    # Session fixtures run before the function-scoped isolation fixture: keep the cache out of $HOME.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERNEL_SKILLS_CACHE_DIR", os.fspath(base / "cache"))
        patch.setenv("KERNEL_SKILLS_DATA_DIR", os.fspath(base / "data"))
        for solution in solutions.values():
            file = solution["file"]
            if file in results:
                continue
            request = CompileRequest(
                source=(KERNELS_DIR / file).read_text(encoding="utf-8"),
                arch="sm_90a",
                options=solution["options"],
                block_size=solution["block"][0] * solution["block"][1] * solution["block"][2],
            )
            results[file] = compile_source(request, toolchain=RUNTIME.toolchain)
    return results


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that run kernels through simt_runner need what the product's emulator needs: g++, which
    builds the PTX engine once (never a kernel), and Linux Landlock (the engine is never started
    unconfined); skip them with the reason otherwise."""
    del config
    from kernel_skills.confine import landlock_available

    if shutil.which("g++") is None:
        reason = "the CPU emulator's PTX engine is built once with g++, which is not installed"
    elif not landlock_available():
        reason = "the CPU emulator runs its engine only under Linux Landlock, which this kernel lacks"
    else:
        return
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and getattr(module, "build_simt", None) is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
