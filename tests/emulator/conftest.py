"""The emulator tests need g++ (to build the project's own engine, once) and Linux Landlock (the engine
is never run unconfined in tests). No submission is ever built by g++: the engine runs NVRTC's PTX."""

from __future__ import annotations

import shutil

import pytest

from kernel_skills import confine


def _reason() -> str | None:
    if shutil.which("g++") is None:
        return "the CPU emulator builds its engine once with g++ (apt-get install g++)"
    if not confine.landlock_available():
        return "the CPU emulator runs its engine only under Linux Landlock, which this kernel lacks"
    return None


REASON = _reason()
needs_emulator = pytest.mark.skipif(REASON is not None, reason=REASON or "")
