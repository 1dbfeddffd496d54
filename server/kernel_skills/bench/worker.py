"""The server's side of the GPU worker: one process per GPU owns the CUDA context.

The worker (``python -m kernel_skills.bench.worker_main``) reads jobs as length-prefixed JSON on
stdin and answers on stdout. Every job has a hard deadline: past it the worker is killed and the
caller gets ``Timeout``; if the worker dies (a crash) or reports a fault (any CUDA error poisons
its context), it is replaced and the caller gets ``KernelFault``. The next job gets a fresh worker.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from kernel_skills.bench.protocol import FrameBuffer, write_frame
from kernel_skills.errors import (
    CompileError,
    DeviceUnavailable,
    KernelFault,
    KernelSkillsError,
    RefusedInput,
    Timeout,
)

TEST_JOBS_ENV = "KERNEL_SKILLS_WORKER_TEST_JOBS"  # enables sleep/hang/crash jobs (tests only)
_ERRORS: dict[str, type[KernelSkillsError]] = {
    cls.__name__: cls for cls in (RefusedInput, DeviceUnavailable, KernelFault, Timeout, CompileError)
}


def _describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class WorkerProcess:
    """One worker subprocess; ``request`` sends a job and waits for its answer with a deadline."""

    def __init__(self, *, env: dict[str, str] | None = None) -> None:
        self._env = {**os.environ, **(env or {})}
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = FrameBuffer()
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        self._buffer = FrameBuffer()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "kernel_skills.bench.worker_main"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the worker's stderr (and any device printf) goes to the server's stderr
            env=self._env,
            start_new_session=True,  # a terminal's Ctrl-C reaches the server, which then stops it
        )

    def kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def close(self) -> None:
        """Ask politely (close stdin: the worker exits at end of input), then kill."""
        proc = self._proc
        if proc is not None and proc.poll() is None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        self.kill()

    def _replace(self) -> None:
        self.kill()
        self.restarts += 1

    def request(self, job: dict[str, Any], *, timeout_s: float, what: str | None = None) -> dict[str, Any]:
        """Run one job. Timeout / KernelFault replace the worker; domain errors pass through."""
        what = what or f"job {job.get('kind')!r}"
        if not self.alive():
            self.kill()
            self.start()
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            write_frame(proc.stdin.fileno(), job)
        except OSError as exc:
            code = proc.poll()
            self._replace()
            raise KernelFault(
                f"the benchmark worker died before {what} started ({_describe_exit(code)}); it was replaced"
            ) from exc
        reply = self._read_reply(proc, timeout_s, what)
        if reply.get("ok"):
            return reply.get("result") or {}
        error = reply.get("error") or {}
        cls = _ERRORS.get(str(error.get("type")), KernelFault)
        message = str(error.get("message") or "the worker reported an unknown error")
        if reply.get("fatal") or cls is KernelFault:
            self._replace()
            message += " (the GPU worker was replaced; the next job runs in a fresh CUDA context)"
        raise cls(message)

    def _read_reply(self, proc: subprocess.Popen[bytes], timeout_s: float, what: str) -> dict[str, Any]:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        while True:
            frame = self._buffer.pop()
            if frame is not None:
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._replace()
                raise Timeout(
                    f"{what} did not finish within {timeout_s:g} s; the GPU worker was killed and will be "
                    "replaced (an endless loop or a deadlock in the kernel, e.g. a __syncthreads() not "
                    "reached by every thread?)"
                )
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
                code = proc.poll()
                self._replace()
                raise KernelFault(
                    f"the GPU worker died while running {what} ({_describe_exit(code)}); it was replaced"
                )
            self._buffer.feed(chunk)


class WorkerPool:
    """One worker for the (single) GPU, used by one job sequence at a time."""

    def __init__(self, *, env: dict[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._worker = WorkerProcess(env=env)

    @contextlib.contextmanager
    def lease(self) -> Iterator[WorkerProcess]:
        with self._lock:
            yield self._worker

    def close(self) -> None:
        with self._lock:
            self._worker.close()


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def default_pool() -> WorkerPool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = WorkerPool()
            atexit.register(_POOL.close)
        return _POOL


__all__ = ["TEST_JOBS_ENV", "WorkerPool", "WorkerProcess", "default_pool"]
