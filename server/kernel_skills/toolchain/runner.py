"""Parent side of the compile worker: one long-lived process, reused across requests, replaced when it
runs past its hard timeout or dies. NVRTC failures are translated into our errors here, once."""

from __future__ import annotations

import atexit
import os
import pickle
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from kernel_skills.errors import CompileError, Timeout
from kernel_skills.toolchain.locate import nvrtc_lib_dir, toolkit


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


DEFAULT_TIMEOUT_S = _env_number("KERNEL_SKILLS_COMPILE_TIMEOUT_S", 30.0)
DEFAULT_MEMORY_MB = int(_env_number("KERNEL_SKILLS_COMPILE_MEMORY_MB", 4096))
_STARTUP_TIMEOUT_S = 60.0


class CompileWorker:
    """Runs NVRTC in a child process with RLIMIT_AS and a hard per-compile timeout. Thread-safe
    (requests are served one at a time). The child's working directory is an empty private folder,
    so no quoted include can resolve against the server's current directory."""

    def __init__(
        self,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_mb: int = DEFAULT_MEMORY_MB,
        confine_reads: bool = True,
    ) -> None:
        """``confine_reads``: Landlock the worker to the toolkit folders (off only to test wall 2)."""
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.confine_reads = confine_reads
        self.confined: bool | None = None  # whether the running worker is Landlocked (None: not started)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self.started = 0  # how many processes this worker has started (tests check replacement)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def compile(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            proc = self._ensure_started()
            try:
                self._send(proc, request)
                reply = self._receive(proc, self.timeout_s)
            except TimeoutError as exc:
                self._stop()
                raise Timeout(
                    f"the compile ran past its {self.timeout_s:g} s limit; the compiler worker was stopped "
                    "and replaced (deep template recursion or huge unrolled loops are the usual causes)"
                ) from exc
            except (EOFError, OSError) as exc:
                code = proc.poll()
                self._stop()
                raise CompileError(
                    f"the compiler worker died (exit status {code}); the source may need more than the "
                    f"{self.memory_mb} MB memory cap. The worker was replaced; try again or simplify"
                ) from exc
        return _translate(reply)

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._stop()
        self._workdir = tempfile.TemporaryDirectory(prefix="kernel-skills-nvrtc-")
        argv = [
            sys.executable,
            "-P",
            "-m",
            "kernel_skills.toolchain.worker",
            str(self.memory_mb * 1024 * 1024),
        ]
        if self.confine_reads:
            argv += [str(path) for path in _readable_dirs()]
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=self._workdir.name,
        )
        self._proc = proc
        self.started += 1
        try:
            ready = self._receive(proc, _STARTUP_TIMEOUT_S)
        except (TimeoutError, EOFError, OSError) as exc:
            self._stop()
            raise CompileError(f"the compiler worker did not start ({type(exc).__name__})") from exc
        if not ready.get("ready"):
            self._stop()
            raise CompileError(f"the compiler worker could not load NVRTC: {ready.get('error')}")
        self.confined = bool(ready.get("confined"))
        return proc

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream:
                    stream.close()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    @staticmethod
    def _send(proc: subprocess.Popen[bytes], payload: dict[str, Any]) -> None:
        assert proc.stdin is not None
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        proc.stdin.write(struct.pack(">I", len(data)) + data)
        proc.stdin.flush()

    @staticmethod
    def _receive(proc: subprocess.Popen[bytes], timeout_s: float) -> dict[str, Any]:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        head = _read_exactly(fd, 4, deadline)
        (size,) = struct.unpack(">I", head)
        return pickle.loads(_read_exactly(fd, size, deadline))


def _read_exactly(fd: int, size: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _readable_dirs() -> list[Path]:
    """What the compiler may read: the toolkit headers and NVRTC's own libraries."""
    tk = toolkit()
    nvrtc_lib = nvrtc_lib_dir()
    return [*tk.include_dirs, nvrtc_lib]


def _translate(reply: dict[str, Any]) -> dict[str, Any]:
    """The one place NVRTC API failures become our errors (a compile error in the source is not one)."""
    if "api_error" in reply:
        name, message = reply["api_error"]
        raise CompileError(f"NVRTC failed ({name}): {message}")
    return reply


_default: CompileWorker | None = None
_default_lock = threading.Lock()


def default_worker() -> CompileWorker:
    global _default
    with _default_lock:
        if _default is None:
            _default = CompileWorker()
            atexit.register(_default.close)
        return _default
