"""Run a program confined (the emulator's engine: defence in depth around the project's own native
code, which executes a submission's PTX as data; nothing of a submission is ever built or run natively).

``run_confined(argv, workdir=..., read_only=..., timeout_s=..., memory_mb=...)`` starts the program
through the launcher (``launcher.py``, built once with g++) in its own session and process group.
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
operator set ``KERNEL_SKILLS_UNCONFINED=1`` (``policy.py``; trusted local use only; never the default).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from kernel_skills import procs
from kernel_skills.confine.launcher import LAUNCHER_EXIT, MARKER, launcher_command
from kernel_skills.confine.policy import require_child_confinement
from kernel_skills.errors import DeviceUnavailable

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
    confinement = require_child_confinement()
    child_env = scrubbed_env(workdir, env)
    out_path, err_path = workdir / ".stdout", workdir / ".stderr"
    full_argv = [str(program), *argv[1:]]
    confined = not confinement.startswith("UNCONFINED")
    if confined:
        limits = _rlimits(timeout_s=timeout_s, memory_mb=memory_mb, cpu_s=cpu_s, max_processes=max_processes)
        command = launcher_command(full_argv, workdir, read_only, limits, child_env)
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
    if proc.returncode == LAUNCHER_EXIT and MARKER in stderr:
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
