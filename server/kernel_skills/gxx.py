"""g++, which builds the project's own C++ once per install (the emulator's engine and the confined
launcher, ``confine/launcher.cpp``; never a submission): found and versioned (the version is part of the
build cache keys)."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from kernel_skills.errors import MissingDependency

INSTALL_HINT = "install it with `apt-get install g++` (Debian/Ubuntu) or `dnf install gcc-c++` (Fedora)"


@functools.cache
def find_gxx() -> Path:
    """The resolved g++; MissingDependency (a DeviceUnavailable) saying how to install it when absent."""
    found = shutil.which("g++")
    if found is None:
        raise MissingDependency(
            "g++",
            needed_for="the CPU emulator (it builds its own engine once with g++; no submission is)",
            install=INSTALL_HINT,
        )
    return Path(found).resolve()


@functools.cache
def gxx_version() -> str:
    """``g++ --version``'s first line (part of the build cache key)."""
    done = subprocess.run([str(find_gxx()), "--version"], capture_output=True, text=True, timeout=30)
    return done.stdout.splitlines()[0] if done.stdout else "unknown"


__all__ = ["INSTALL_HINT", "find_gxx", "gxx_version"]
