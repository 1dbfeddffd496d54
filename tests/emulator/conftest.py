"""The emulator tests need g++ and Linux Landlock (the runner is never run unconfined in tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kernel_skills.emulator import sandbox


def _reason() -> str | None:
    if shutil.which("g++") is None:
        return "the CPU emulator builds kernels with g++ (apt-get install g++)"
    if not sandbox.confinement_available():
        return "the CPU emulator runs kernels only under Linux Landlock, which this kernel lacks"
    return None


REASON = _reason()
needs_emulator = pytest.mark.skipif(REASON is not None, reason=REASON or "")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build folder per module: runners are cached by content, so the engine is built once."""
    return tmp_path_factory.mktemp("engine-cache")
