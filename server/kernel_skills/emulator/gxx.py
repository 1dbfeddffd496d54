"""g++, the emulator's runtime dependency: found, versioned, and run confined.

``run_gxx(args, workdir=..., read_only=..., timeout_s=...)`` runs g++ through ``sandbox.run_confined``
with what a C++ build needs and nothing more: reads of the system include and library folders, g++'s
own folder (``/usr/lib/gcc/...``) and the caller's ``read_only`` paths (the engine folder), writes in
the work folder only, and exec of exactly g++, cc1plus, collect2, lto-wrapper, as and ld.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from kernel_skills.emulator.sandbox import ConfinedResult, library_paths, run_confined
from kernel_skills.errors import DeviceUnavailable

INSTALL_HINT = "install it with `apt-get install g++` (Debian/Ubuntu) or `dnf install gcc-c++` (Fedora)"
BUILD_MEMORY_MB = 4096


@functools.cache
def find_gxx() -> Path:
    """The resolved g++; DeviceUnavailable saying how to install it when absent."""
    found = shutil.which("g++")
    if found is None:
        raise DeviceUnavailable(
            f"the CPU emulator builds each kernel with g++, which is not installed: {INSTALL_HINT}"
        )
    return Path(found).resolve()


@functools.cache
def gxx_version() -> str:
    """``g++ --version``'s first line (part of the build cache key)."""
    done = subprocess.run([str(find_gxx()), "--version"], capture_output=True, text=True, timeout=30)
    return done.stdout.splitlines()[0] if done.stdout else "unknown"


def _prog(name: str) -> Path | None:
    done = subprocess.run(
        [str(find_gxx()), f"-print-prog-name={name}"], capture_output=True, text=True, timeout=30
    )
    text = done.stdout.strip()
    if not text:
        return None
    path = Path(text) if "/" in text else (Path(w) if (w := shutil.which(text)) else None)
    return path.resolve() if path is not None and path.exists() else None


@functools.cache
def toolchain_paths() -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """(folders g++ reads, programs it executes), resolved."""
    gxx = find_gxx()
    programs = [gxx, *(p for n in ("cc1plus", "collect2", "lto-wrapper", "as", "ld") if (p := _prog(n)))]
    reads = [Path("/usr/include"), Path("/usr/lib/gcc"), Path("/usr/libexec/gcc"), *library_paths()]
    if (cc1plus := _prog("cc1plus")) is not None:
        reads.append(cc1plus.parents[2])  # .../gcc/<triple>: g++'s internal headers and libraries
    return tuple(dict.fromkeys(p.resolve() for p in reads if p.exists())), tuple(dict.fromkeys(programs))


def run_gxx(
    args: Sequence[str], *, workdir: Path, read_only: Sequence[Path], timeout_s: float = 300.0
) -> ConfinedResult:
    """Run ``g++ ARGS`` confined to the work folder (see the module docstring)."""
    return run_confined(
        [str(find_gxx()), *args],
        workdir=workdir,
        read_only=read_only,
        timeout_s=timeout_s,
        memory_mb=BUILD_MEMORY_MB,
        allow_exec=True,  # g++'s own programs only: run_confined adds toolchain_paths() for g++
    )


__all__ = ["INSTALL_HINT", "find_gxx", "gxx_version", "run_gxx", "toolchain_paths"]
