"""The server's side of the GPU worker: one process per GPU owns the CUDA context.

The worker (``python -m kernel_skills.bench.worker_main``) reads jobs as length-prefixed JSON on
stdin and answers on stdout. Every job has a hard deadline: past it the worker is killed and the
caller gets ``Timeout``; if the worker dies (a crash) or reports a fault (any CUDA error poisons
its context), it is replaced and the caller gets ``KernelFault``. The next job gets a fresh worker.
The process mechanics are ``kernel_skills.workerproc``; this module maps them onto our errors.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from typing import Any

from kernel_skills import procs
from kernel_skills.errors import (
    NOT_JUDGED,
    CompileError,
    DeviceUnavailable,
    EmulatorUnsupported,
    KernelFault,
    KernelSkillsError,
    ProblemError,
    RefusedInput,
    ServerFault,
    Timeout,
)
from kernel_skills.workerproc import ChildDied, ChildStopped, ChildTimeout, SupervisedChild

_LOG = logging.getLogger(__name__)  # forwarded to MCP clients as log messages while serving
TEST_JOBS_ENV = "KERNEL_SKILLS_WORKER_TEST_JOBS"  # enables sleep/hang/crash jobs (tests only)
ERROR_TYPES: dict[str, type[KernelSkillsError]] = {
    cls.__name__: cls
    for cls in (
        RefusedInput,
        EmulatorUnsupported,
        DeviceUnavailable,
        KernelFault,
        Timeout,
        CompileError,
        ServerFault,
    )
}


def rebuilt_error(kind: str, message: str, fields: object = None) -> KernelSkillsError:
    """A domain error that crossed a process boundary, as its own class (an unknown name is a
    KernelFault); a ProblemError is rebuilt from its ``fields``."""
    if kind == "ProblemError" and isinstance(fields, dict):
        return ProblemError(**{k: str(fields.get(k, "")) for k in ("module", "entry", "expected", "given")})
    return ERROR_TYPES.get(kind, KernelFault)(message)


def _describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


WORKER_MODULE = "kernel_skills.bench.worker_main"  # what a worker process runs (python -m)


class WorkerProcess:
    """One worker subprocess; ``request`` sends a job and waits for its answer with a deadline."""

    def __init__(self, *, env: dict[str, str] | None = None) -> None:
        self._child = SupervisedChild(
            WORKER_MODULE,
            env=env,  # laid over the allow-listed part of the server's environment
        )
        self.restarts = 0

    @property
    def lock(self) -> threading.RLock:
        return self._child.lock

    @property
    def pid(self) -> int | None:
        proc = self._child.process
        return proc.pid if proc is not None else None

    def alive(self) -> bool:
        return self._child.alive()

    def start(self) -> None:
        self._child.start()

    def kill(self) -> None:
        self._child.kill()

    def close(self) -> None:
        """Ask politely (close stdin: the worker exits at end of input), then kill."""
        self._child.close(grace_s=5)

    def request(self, job: dict[str, Any], *, timeout_s: float, what: str | None = None) -> dict[str, Any]:
        """Run one job. Timeout / KernelFault replace the worker; domain errors pass through."""
        what = what or f"job {job.get('kind')!r}"
        try:
            reply = self._child.request(job, timeout_s)
        except ChildStopped as exc:
            self._replaced(f"{what}: it was stopped from outside")
            raise ServerFault(
                f"the GPU worker (pid {exc.pid}) was stopped from outside the server (SIGSTOP) during "
                f"{what}; it was replaced; {NOT_JUDGED}"
            ) from exc
        except ChildTimeout as exc:
            self._replaced(f"{what} ran past {timeout_s:g} s")
            raise Timeout(
                f"{what} did not finish within {timeout_s:g} s; the GPU worker was killed and will be "
                "replaced (an endless loop or a deadlock in the kernel, e.g. a __syncthreads() not "
                "reached by every thread?)"
            ) from exc
        except ChildDied as exc:
            self._replaced(f"it died ({_describe_exit(exc.returncode)})")
            if exc.before_send:
                message = f"the benchmark worker died before {what} started"
            else:
                message = f"the GPU worker died while running {what}"
            if procs.from_outside(exc.returncode):
                raise ServerFault(
                    f"{message} ({_describe_exit(exc.returncode)}, a signal it did not raise itself: sent "
                    f"from outside the server); it was replaced; {NOT_JUDGED}"
                ) from exc
            raise KernelFault(f"{message} ({_describe_exit(exc.returncode)}); it was replaced") from exc
        if reply.get("ok"):
            return reply.get("result") or {}
        error = reply.get("error") or {}
        cls = ERROR_TYPES.get(str(error.get("type")), KernelFault)
        message = str(error.get("message") or "the worker reported an unknown error")
        if reply.get("fatal") or cls is KernelFault:
            self._child.kill()
            self._replaced(f"{what} faulted")
            message += " (the GPU worker was replaced; the next job runs in a fresh CUDA context)"
        raise rebuilt_error(str(error.get("type")), message, error.get("fields"))

    def _replaced(self, why: str) -> None:
        self.restarts += 1
        _LOG.warning("GPU worker replaced (restart %d): %s", self.restarts, why)


class WorkerPool:
    """One worker for the (single) GPU, used by one job sequence at a time."""

    def __init__(self, *, env: dict[str, str] | None = None) -> None:
        self._worker = WorkerProcess(env=env)

    @property
    def worker(self) -> WorkerProcess:
        return self._worker

    @contextlib.contextmanager
    def lease(self) -> Iterator[WorkerProcess]:
        with self._worker.lock:
            yield self._worker

    def close(self) -> None:
        self._worker.close()


__all__ = ["ERROR_TYPES", "TEST_JOBS_ENV", "WORKER_MODULE", "WorkerPool", "WorkerProcess", "rebuilt_error"]
