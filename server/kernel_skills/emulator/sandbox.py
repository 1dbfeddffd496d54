"""Run the emulator's engine confined: defence in depth around the project's own native code, which
executes a submission's PTX as data (nothing of a submission is ever built or run natively).

``run_confined(argv, workdir=..., read_only=..., timeout_s=..., memory_mb=...)`` starts the program
through the launcher ``confine.cpp`` (built once with g++) in its own session and process group.
The child:
- reads only its work folder, the ``read_only`` paths, the system library folders the dynamic loader
  maps (libc, libstdc++, libm, libgcc_s) and its own ``/proc/<pid>``; writes only its work folder
  (Linux Landlock, every file-system right handled);
- may execute only ``argv[0]`` and the dynamic loader, nothing else;
- has no TCP bind/connect (Landlock ABI >= 4) and cannot signal or reach abstract unix sockets outside
  itself (ABI >= 6); the engine adds its own seccomp filter (no exec, no sockets, no open after start);
- runs under RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NPROC, RLIMIT_NOFILE and RLIMIT_CORE=0, a
  wall-clock timeout (the whole process group is killed), and an allow-listed environment.

Fail closed: without Landlock, ``run_confined`` raises DeviceUnavailable and runs nothing, unless the
operator set ``KERNEL_SKILLS_UNCONFINED_EMULATOR=1`` (trusted local use only; never the default).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from kernel_skills import procs
from kernel_skills.errors import DeviceUnavailable
from kernel_skills.toolchain import landlock

EMULATOR_UNCONFINED_ENV = "KERNEL_SKILLS_UNCONFINED_EMULATOR"
_LAUNCHER_SOURCE = Path(__file__).with_name("confine.cpp")
_MARKER, _LAUNCHER_EXIT = "kernel-skills confine:", 125  # as in confine.cpp
_OUTPUT_TAIL = 64 * 1024
_BASE_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
_ENV_ALLOWED = frozenset({"ASAN_OPTIONS", "UBSAN_OPTIONS", "SIMT_LOG_LEVEL"})
MAX_PROCESSES = 4096  # per user (the kernel's rule); the runner's threads count too
MAX_OPEN_FILES = 64
MAX_FILE_MB = 256
STACK_MB = 2


class ConfinedResult(BaseModel):
    """How a confined child ended. ``signal``: the signal that killed it (None when it exited)."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    signal: int | None = None
    wall_ms: float
    stopped: bool = False  # it was stopped from outside (SIGSTOP) when its time ran out


def confinement_available() -> bool:
    """Whether children can be confined here (Linux Landlock present)."""
    return sys.platform == "linux" and landlock.abi_version() >= 1


def emulator_unconfined() -> bool:
    return os.environ.get(EMULATOR_UNCONFINED_ENV) == "1"


def require_confinement() -> str:
    """A short description of the confinement in force; DeviceUnavailable when there is none."""
    if confinement_available():
        abi = landlock.abi_version()
        net = "TCP denied" if abi >= 4 else "network left to the runner's seccomp filter"
        return f"Landlock ABI {abi} (files: own work folder only; {net}), rlimits, own process group"
    if emulator_unconfined():
        return f"UNCONFINED ({EMULATOR_UNCONFINED_ENV}=1: trusted local use only)"
    raise DeviceUnavailable(
        "the CPU emulator runs submitted code natively and needs Linux Landlock (kernel 5.13 or later with "
        "the landlock LSM enabled, e.g. lsm=...,landlock on the kernel command line) to confine it; it is "
        f"not available here, so nothing was run. For trusted local use only, set {EMULATOR_UNCONFINED_ENV}=1"
    )


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
    from kernel_skills.emulator.gxx import gxx_version

    return hashlib.sha256(_LAUNCHER_SOURCE.read_bytes() + gxx_version().encode()).hexdigest()[:16]


def launcher_path() -> Path:
    """Where the confined launcher is (or will be) built; DeviceUnavailable without g++."""
    from kernel_skills import paths

    return paths.cache_dir() / "emulator" / f"confine-{_launcher_key()}"


def launcher() -> Path:
    """The confined launcher (``confine.cpp``: Landlock, limits, exec), built with g++ on first use.

    It is the project's own source, built unconfined into the cache once per source and compiler;
    a confined start then costs about what a plain exec costs (a Python launcher cost ~100x that)."""
    from kernel_skills.emulator.gxx import find_gxx

    exe = launcher_path()
    if exe.exists():
        return exe
    exe.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=exe.parent, prefix="confine-build-") as tmp:
        built = Path(tmp) / "confine"
        argv = [str(find_gxx()), "-std=c++17", "-O2", "-Wall", "-o", str(built), str(_LAUNCHER_SOURCE)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise DeviceUnavailable(
                f"building the emulator's confined launcher failed: {done.stderr[-2000:]}"
            )
        os.replace(built, exe)
    return exe


def scrubbed_env(workdir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's whole environment: a fixed base, HOME/TMPDIR in the work folder, allow-listed extras."""
    env = {**_BASE_ENV, "HOME": str(workdir), "TMPDIR": str(workdir)}
    for key, value in (extra or {}).items():
        if key not in _ENV_ALLOWED:
            raise ValueError(f"environment variable {key!r} is not passed to a confined child")
        env[key] = value
    return env


def run_confined(
    argv: Sequence[str],
    *,
    workdir: Path,
    read_only: Sequence[Path],
    timeout_s: float,
    memory_mb: int,
    env: Mapping[str, str] | None = None,
    cpu_s: int | None = None,
    max_processes: int = MAX_PROCESSES,
) -> ConfinedResult:
    """Run ``argv`` confined (see the module docstring); stdout/stderr are files in ``workdir`` (tails kept).

    ``memory_mb`` caps the address space (0: no RLIMIT_AS, for AddressSanitizer builds, which reserve
    terabytes of shadow memory); ``cpu_s`` caps CPU seconds (default: twice the wall timeout, at least 10).
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    program = _resolve_program(argv[0])
    confinement = require_confinement()
    child_env = scrubbed_env(workdir, env)
    out_path, err_path = workdir / ".stdout", workdir / ".stderr"
    full_argv = [str(program), *argv[1:]]
    confined = not confinement.startswith("UNCONFINED")
    if confined:
        limits = _rlimits(timeout_s=timeout_s, memory_mb=memory_mb, cpu_s=cpu_s, max_processes=max_processes)
        command = _launcher_command(full_argv, workdir, read_only, limits, child_env)
    else:
        command = full_argv
    started = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=workdir,
            env=_BASE_ENV if confined else child_env,
            start_new_session=True,
            close_fds=True,
        )
        timed_out, was_stopped = _wait_or_kill(proc, timeout_s)
    wall_ms = (time.perf_counter() - started) * 1000
    stderr = _tail(err_path)
    if proc.returncode == _LAUNCHER_EXIT and _MARKER in stderr:
        raise DeviceUnavailable(f"the emulator's confinement could not be applied, nothing was run: {stderr}")
    code = proc.returncode
    return ConfinedResult(
        returncode=code,
        stdout=_tail(out_path),
        stderr=stderr,
        timed_out=timed_out,
        signal=-code if code < 0 else None,
        wall_ms=wall_ms,
        stopped=was_stopped,
    )


def _resolve_program(program: str | Path) -> Path:
    """``program`` as an absolute path, looked up on PATH when it is a bare name."""
    path = Path(program)
    if path.is_absolute():
        return path
    found = shutil.which(str(path))
    if found is None:
        raise FileNotFoundError(f"{path} not found on PATH")
    return Path(found)


def _rlimits(*, timeout_s: float, memory_mb: int, cpu_s: int | None, max_processes: int) -> dict[str, int]:
    """The resource limits the launcher sets, by RLIMIT_ name without the prefix."""
    limits = {
        "CPU": int(cpu_s if cpu_s is not None else max(10, 2 * timeout_s)),
        "FSIZE": MAX_FILE_MB << 20,
        "NPROC": max_processes,
        "NOFILE": MAX_OPEN_FILES,
        "CORE": 0,
        "STACK": STACK_MB << 20,  # glibc's default thread stack size, so threads fit in RLIMIT_AS
    }
    if memory_mb:
        limits["AS"] = memory_mb << 20
    return limits


def _launcher_command(
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
    command = [str(launcher()), "-w", str(workdir), "-c", str(workdir)]
    command += [arg for p in (*library_paths(), *read_only) for arg in ("-r", str(p))]
    command += [arg for p in execute for arg in ("-x", str(p))]
    command += [arg for name, value in limits.items() for arg in ("-l", f"{name}={value}")]
    command += [arg for key, value in child_env.items() for arg in ("-e", f"{key}={value}")]
    return [*command, "--", *full_argv]


def _wait_or_kill(proc: subprocess.Popen[bytes], timeout_s: float) -> tuple[bool, bool]:
    """Wait for ``proc``, killing its process group at the deadline (and always, once it exits).

    Returns (timed out, was stopped by a signal when the deadline came)."""
    # A blocking wait with a timer that kills the group: Popen.wait(timeout=...) polls with sleeps
    # of up to 50 ms, which short runs (most emulated launches) would pay every time.
    expired = threading.Event()
    was_stopped = threading.Event()

    def expire() -> None:
        if procs.group_stopped(proc.pid):
            was_stopped.set()
        expired.set()
        _kill_group(proc.pid)

    timer = threading.Timer(timeout_s, expire)
    timer.start()
    try:
        proc.wait()
    finally:
        timer.cancel()
        _kill_group(proc.pid)
        proc.wait()
    return expired.is_set(), was_stopped.is_set()


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _tail(path: Path) -> str:
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - _OUTPUT_TAIL))
        data = f.read()
    return data.decode("utf-8", errors="replace")


__all__ = [
    "EMULATOR_UNCONFINED_ENV",
    "ConfinedResult",
    "confinement_available",
    "launcher",
    "launcher_path",
    "library_paths",
    "require_confinement",
    "run_confined",
    "scrubbed_env",
]
