"""What runs inside Ray worker processes. Plain classes and functions (no ``ray`` import at module level):
``ray_executor`` wraps them with ``ray.remote`` when it connects.

``GpuWorkerActor`` holds ``num_gpus=1`` and runs the local worker unchanged: the same
``bench.worker_main`` child process (``bench.worker.WorkerProcess``), so the job protocol, the hard
deadline, the kill-and-replace after a fault and the child's isolation are the local ones. The actor
only relays; replies are plain dicts (errors as ``ErrorInfo``), never pickled exceptions.
The child's pid is kept in a file named after the actor, so when the actor itself is killed and Ray
restarts it, the new instance kills a child left behind (a hung kernel must not keep the GPU).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import signal
import socket
import tempfile
from pathlib import Path
from typing import Any

from kernel_skills.bench import WORKER_MODULE
from kernel_skills.errors import KernelFault, KernelSkillsError, Timeout
from kernel_skills.executors.models import ErrorInfo, WorkerStatus
from kernel_skills.executors.tasks import run_task
from kernel_skills.toolchain import Toolchain


def _pidfile(name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{name}.child.pid"


def _kill_left_behind(pidfile: Path) -> None:
    """Kill the worker child a killed instance of this actor left running (its own session: pgid == pid)."""
    try:
        pid = int(pidfile.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if WORKER_MODULE.encode() in cmdline:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)


class GpuWorkerActor:
    def __init__(self, name: str, env: dict[str, str]) -> None:
        from kernel_skills.bench import WorkerProcess

        self._name = name
        self._pidfile = _pidfile(name)
        _kill_left_behind(self._pidfile)
        self._worker = WorkerProcess(env=env)
        self._current: str | None = None
        self._jobs_done = 0
        self._restarts = 0

    def ready(self) -> int:
        return os.getpid()

    def request(self, job: dict[str, Any], timeout_s: float, what: str, restarts: int) -> dict[str, Any]:
        self._restarts = restarts
        self._current = what
        try:
            if not self._worker.alive():
                self._worker.start()
                self._pidfile.write_text(str(self._worker.pid))
            return {"ok": True, "result": self._worker.request(job, timeout_s=timeout_s, what=what)}
        except KernelSkillsError as exc:
            replaced = isinstance(exc, Timeout | KernelFault)
            return {"ok": False, "error": ErrorInfo.of(exc).model_dump(), "replaced": replaced}
        finally:
            self._current = None
            self._jobs_done += 1

    def status(self) -> dict[str, Any]:
        import ray

        context = ray.get_runtime_context()
        return WorkerStatus(
            name=self._name,
            state="busy" if self._current else "idle",
            node=f"{socket.gethostname()} ({context.get_node_id()[:8]})",
            pid=self._worker.pid if self._worker.alive() else os.getpid(),
            devices=[str(gpu) for gpu in ray.get_gpu_ids()],
            current_job=self._current,
            jobs_done=self._jobs_done,
            restarts=self._restarts,
        ).model_dump(mode="json")

    def shutdown(self) -> None:
        self._worker.close()
        self._pidfile.unlink(missing_ok=True)


@functools.cache
def _task_toolchain() -> Toolchain:
    """The toolchain of this Ray worker process. Ray reuses its worker processes for task after task and
    gives them no lifespan of ours, so the compile worker lives as long as the process (closed at exit):
    the one per-process resource left, in a process that is Ray's, not the server's."""
    toolchain = Toolchain()
    atexit.register(toolchain.close)
    return toolchain


def run_cpu_task(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A Ray task: one CPU task on whichever node Ray picks (``executors.tasks.run_task``)."""
    return run_task(kind, payload, _task_toolchain())


__all__ = ["GpuWorkerActor", "run_cpu_task"]
