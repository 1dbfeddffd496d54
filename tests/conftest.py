"""Shared fixtures. GPU tests are marked ``gpu`` and skipped, with the reason, when no device is present."""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.runtime import Runtime

REPO_ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def cuda_device_reason() -> str | None:
    """None when a CUDA device is usable, else why not (checked once, lazily).

    It runs during collection, where the project's ``filterwarnings = error`` applies: a warning
    from importing torch or CuPy must not abort the whole session, so warnings are only recorded
    (torch says why CUDA is unusable in one)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        reason = _probe_cuda()
    if reason is not None and seen:
        reason += f" ({seen[0].message})"
    return reason


def _probe_cuda() -> str | None:
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return "no CUDA device on this machine (torch.cuda.is_available() is False)"
    try:
        import cupy  # noqa: F401
    except ImportError:
        return "cupy is not installed (pip install -e '.[gpu]')"
    except Exception as exc:  # a CuPy build that does not match the driver fails here
        return f"cupy does not load: {type(exc).__name__}: {exc}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    reason = cuda_device_reason()
    if reason is None:
        return
    for item in gpu_items:
        item.add_marker(pytest.mark.skip(reason=f"needs a CUDA GPU: {reason}"))


@pytest.fixture(autouse=True)
def _isolated_state_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the compile cache and result database out of the user's home during tests."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", os.fspath(base / "cache"))
    monkeypatch.setenv("KERNEL_SKILLS_DATA_DIR", os.fspath(base / "data"))


@pytest.fixture(scope="session", autouse=True)
def runtime() -> Iterator[Runtime]:
    """This test process's runtime (``tests/shared_runtime.py``); its workers are stopped when the
    session ends."""
    yield RUNTIME
    RUNTIME.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
