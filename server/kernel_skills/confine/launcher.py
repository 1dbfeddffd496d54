"""The confined launcher (``launcher.cpp``): built once with g++, and the command line that has it
confine a child and exec it.

``launcher.cpp`` confines itself with Linux Landlock (reads, writes and execution limited to the
folders named on its command line; TCP, abstract sockets and signals where the kernel's ABI allows) and
resource limits, then execs the target with exactly the environment it was given. It is the project's
own source, built unconfined into the cache once per source and compiler, so a confined start costs
about what a plain exec costs (a Python launcher cost ~100x that).
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from kernel_skills.errors import DeviceUnavailable

SOURCE = Path(__file__).with_name("launcher.cpp")
MARKER, LAUNCHER_EXIT = "kernel-skills confine:", 125  # as in launcher.cpp


@functools.cache
def library_paths() -> tuple[Path, ...]:
    """What the dynamic loader reads for a g++-built program: its cache and the system library folders."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    candidates = [Path("/etc/ld.so.cache"), Path("/lib64"), Path("/usr/lib64")]
    if multiarch:
        candidates += [Path("/lib") / multiarch, Path("/usr/lib") / multiarch]
    return tuple(dict.fromkeys(p.resolve() for p in candidates if p.exists()))


@functools.cache
def dynamic_loader() -> Path | None:
    """The ELF interpreter of the running Python (the same one g++'s programs use), resolved."""
    with open(sys.executable, "rb") as f:
        head = f.read(64 * 1024)
    start = head.find(b"/lib")
    while start >= 0:
        end = head.find(b"\0", start)
        name = head[start:end].decode("latin-1")
        if "ld-linux" in name or "ld64" in name or "ld-musl" in name:
            return Path(name).resolve()
        start = head.find(b"/lib", end)
    return None


@functools.cache
def _launcher_key() -> str:
    from kernel_skills.gxx import gxx_version

    return hashlib.sha256(SOURCE.read_bytes() + gxx_version().encode()).hexdigest()[:16]


def launcher_path() -> Path:
    """Where the confined launcher is (or will be) built; DeviceUnavailable without g++."""
    from kernel_skills import paths

    return paths.cache_dir() / "confine" / f"launcher-{_launcher_key()}"


def build_launcher() -> Path:
    """The confined launcher, built with g++ on first use (see the module docstring)."""
    from kernel_skills.gxx import find_gxx

    exe = launcher_path()
    if exe.exists():
        return exe
    exe.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=exe.parent, prefix="launcher-build-") as tmp:
        built = Path(tmp) / "launcher"
        argv = [str(find_gxx()), "-std=c++17", "-O2", "-Wall", "-o", str(built), str(SOURCE)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise DeviceUnavailable(
                f"building the emulator's confined launcher failed: {done.stderr[-2000:]}"
            )
        os.replace(built, exe)
    return exe


def launcher_command(
    full_argv: Sequence[str],
    workdir: Path,
    read_only: Sequence[Path],
    limits: Mapping[str, int],
    child_env: Mapping[str, str],
) -> list[str]:
    """The launcher's argv that confines and then execs ``full_argv`` (whose first item is absolute)."""
    execute = [Path(full_argv[0]).resolve()]
    if (loader := dynamic_loader()) is not None:
        execute.append(loader)
    command = [str(build_launcher()), "-w", str(workdir), "-c", str(workdir)]
    command += [arg for p in (*library_paths(), *read_only) for arg in ("-r", str(p))]
    command += [arg for p in execute for arg in ("-x", str(p))]
    command += [arg for name, value in limits.items() for arg in ("-l", f"{name}={value}")]
    command += [arg for key, value in child_env.items() for arg in ("-e", f"{key}={value}")]
    return [*command, "--", *full_argv]
