"""The Ray executor: GPU jobs on actors holding ``num_gpus=1`` each, CPU tasks as Ray tasks.

``ray`` (the optional extra ``kernel-skills[ray]``) is imported when the executor first connects,
never at import. With an address (``--ray-address`` or ``RAY_ADDRESS``) it joins that cluster;
without one it starts a local in-process cluster. Every node needs kernel-skills installed (the
actors import it); nothing else is shared: jobs carry their cubins, results come back as data.

One actor per GPU, created on first use and leased to one submission at a time, so a submission's
timing never shares a GPU. A job that runs past its deadline, or a CUDA fault, gets the actor killed
and restarted by Ray (``max_restarts=-1``; jobs are never retried, ``max_task_retries=0``); the
caller gets the local worker's errors. Actors are named ``kernel-skills-gpu-<pool>-<i>`` in the
``kernel-skills`` namespace, so ``kernel-skills pool status`` finds them from another process.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kernel_skills.errors import (
    NOT_JUDGED,
    DeviceUnavailable,
    RefusedInput,
    ServerFault,
    Timeout,
)
from kernel_skills.executors.base import CPU_TASK_TIMEOUT_S, raise_error
from kernel_skills.executors.models import CpuOutcome, CpuTask, ErrorInfo, PoolStatus, WorkerStatus
from kernel_skills.toolchain import Toolchain

if TYPE_CHECKING:
    from kernel_skills.bench import BenchResult, Plan, Progress, Timeouts

NAMESPACE = "kernel-skills"
ACTOR_PREFIX = "kernel-skills-gpu-"
ADDRESS_ENV = "RAY_ADDRESS"
ACTOR_START_TIMEOUT_S = 120.0  # a GPU actor that cannot be placed in this time: no free GPU
ACTOR_GRACE_S = 30.0  # beyond a job's own deadline (enforced in the actor), before the actor is killed
STATUS_TIMEOUT_S = 10.0
REACH_TIMEOUT_S = 5.0


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RefusedInput(
            "--executor ray needs Ray: pip install 'kernel-skills[ray]' (the local executor needs nothing)"
        ) from exc
    return ray


@dataclass
class _Slot:
    name: str
    handle: Any = None
    pid: int | None = None  # the actor process's pid (tells a restarted instance from the old one)
    busy: bool = False
    current: str | None = None
    jobs_done: int = 0
    restarts: int = 0


class RayExecutor:
    kind = "ray"

    def __init__(
        self,
        *,
        address: str | None = None,
        num_cpus: int | None = None,
        max_workers: int | None = None,
        worker_env: dict[str, str] | None = None,
        toolchain: Toolchain | None = None,
    ) -> None:
        """``address``: a cluster to join (default ``$RAY_ADDRESS``; none: start a local one with
        ``num_cpus``). ``max_workers``: at most this many GPU actors. ``worker_env``: laid over the
        environment of the GPU worker process and of CPU tasks (tests enable test jobs with it).
        ``toolchain``: what this machine compiles with for a verdict computed here (None: its own)."""
        self.address = address or os.environ.get(ADDRESS_ENV) or None
        self.num_cpus = num_cpus
        self.max_workers = max_workers
        self.worker_env = dict(worker_env or {})
        self.pool_id = secrets.token_hex(3)
        self.startup_s: float | None = None  # how long connecting (or starting the local cluster) took
        self._lock = threading.Condition()
        self._slots: list[_Slot] | None = None
        self._started_ray = False
        self._actor_class: Any = None
        self._cpu_task: Any = None
        self._own_toolchain = toolchain is None
        self.toolchain = toolchain if toolchain is not None else Toolchain()

    # --- connection -------------------------------------------------------------------------------

    def connect(self) -> Any:
        """Join or start the cluster once (thread-safe); returns the ``ray`` module."""
        ray = _ray()
        with self._lock:
            if self._actor_class is not None and ray.is_initialized():
                return ray
            started = time.perf_counter()
            if not ray.is_initialized():
                self._init(ray)
            from kernel_skills.executors.ray_worker import GpuWorkerActor, run_cpu_task

            self._actor_class = ray.remote(
                num_gpus=1, num_cpus=0, max_restarts=-1, max_task_retries=0, max_concurrency=2
            )(GpuWorkerActor)
            options: dict[str, Any] = {"num_cpus": 1, "max_retries": 0}
            if self.worker_env:
                options["runtime_env"] = {"env_vars": self.worker_env}
            self._cpu_task = ray.remote(**options)(run_cpu_task)
            self.startup_s = time.perf_counter() - started
            return ray

    def _init(self, ray: Any) -> None:
        common = {"namespace": NAMESPACE, "log_to_driver": False}  # workers' output never reaches stdout
        if self.address:
            _check_reachable(self.address)
        try:
            if self.address:
                ray.init(address=self.address, **common)
            else:
                ray.init(num_cpus=self.num_cpus, include_dashboard=False, **common)
                self._started_ray = True
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray cluster"
            raise DeviceUnavailable(f"cannot connect to {where}: {exc}") from exc

    def _resources(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.connect().cluster_resources().items() if "node:" not in k}

    def _where(self) -> str:
        return f"the Ray cluster at {self.address}" if self.address else "the local Ray cluster"

    # --- GPU jobs ---------------------------------------------------------------------------------

    def require_device(self) -> None:
        resources = self._resources()
        if resources.get("GPU", 0.0) < 1:
            shown = ", ".join(f"{k} {v:g}" for k, v in sorted(resources.items()) if "memory" not in k)
            raise DeviceUnavailable(
                f"no CUDA device: {self._where()} has no GPU (its resources: {shown or 'none'}); "
                "benchmarking needs a node with an NVIDIA GPU (compiling works without one)"
            )

    def _ensure_slots(self) -> list[_Slot]:
        with self._lock:
            if self._slots is None:
                gpus = int(self._resources().get("GPU", 0.0))
                count = min(gpus, self.max_workers) if self.max_workers else gpus
                self._slots = [_Slot(name=f"{ACTOR_PREFIX}{self.pool_id}-{i}") for i in range(count)]
            return self._slots

    @contextlib.contextmanager
    def lease(self) -> Iterator[RayWorker]:
        self.require_device()
        slots = self._ensure_slots()
        with self._lock:
            while (slot := next((s for s in slots if not s.busy and s.handle), None)) is None and (
                slot := next((s for s in slots if not s.busy), None)
            ) is None:
                self._lock.wait()
            slot.busy = True
        try:
            if slot.handle is None:
                slot.handle = self._start_actor(slot)
            yield RayWorker(self, slot)
        finally:
            with self._lock:
                slot.busy = False
                slot.current = None
                self._lock.notify_all()

    def _start_actor(self, slot: _Slot) -> Any:
        ray = self.connect()
        handle = self._actor_class.options(name=slot.name, namespace=NAMESPACE).remote(
            slot.name, self.worker_env
        )
        try:
            slot.pid = ray.get(handle.ready.remote(), timeout=ACTOR_START_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError as exc:
            ray.kill(handle, no_restart=True)
            raise DeviceUnavailable(
                f"no GPU became free on {self._where()} within {ACTOR_START_TIMEOUT_S:g} s "
                "(every GPU is held by other work)"
            ) from exc
        except ray.exceptions.RayError as exc:
            with contextlib.suppress(ray.exceptions.RayError, ValueError):
                ray.kill(handle, no_restart=True)
            raise DeviceUnavailable(
                f"the GPU worker could not start on {self._where()}: {_first_line(exc)} "
                "(kernel-skills must be installed on every node)"
            ) from exc
        return handle

    def replace(self, slot: _Slot, *, killed: bool = False) -> None:
        """Kill the slot's actor (unless it is already dead) and wait until Ray has restarted it: a fresh
        process, a fresh CUDA context, ready for the next job."""
        ray = self.connect()
        slot.restarts += 1
        if not killed:
            with contextlib.suppress(ray.exceptions.RayError, ValueError):
                ray.kill(slot.handle, no_restart=False)
        deadline = time.monotonic() + ACTOR_START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                pid = ray.get(slot.handle.ready.remote(), timeout=max(deadline - time.monotonic(), 0.1))
            except ray.exceptions.GetTimeoutError:
                break
            except ray.exceptions.ActorUnavailableError:
                time.sleep(0.05)  # restarting: ask again
                continue
            except ray.exceptions.RayActorError:  # dead for good (killed with no_restart): a new actor
                slot.handle = self._start_actor(slot)
                return
            if pid != slot.pid:
                slot.pid = pid
                return
            time.sleep(0.05)  # the kill has not landed yet
        with contextlib.suppress(ray.exceptions.RayError, ValueError):
            ray.kill(slot.handle, no_restart=True)
        slot.handle = None  # the next lease creates a new actor

    # --- CPU tasks --------------------------------------------------------------------------------

    def run_cpu(self, tasks: list[CpuTask], *, timeout_s: float = CPU_TASK_TIMEOUT_S) -> list[CpuOutcome]:
        ray = self.connect()
        refs = [self._cpu_task.remote(task.kind, task.payload) for task in tasks]
        ray.wait(refs, num_returns=len(refs), timeout=timeout_s)
        return [self._outcome(ray, ref, task, timeout_s) for ref, task in zip(refs, tasks, strict=True)]

    def _outcome(self, ray: Any, ref: Any, task: CpuTask, timeout_s: float) -> CpuOutcome:
        ready, _ = ray.wait([ref], timeout=0)
        if not ready:
            with contextlib.suppress(ray.exceptions.RayError):
                ray.cancel(ref, force=True)
            message = f"the CPU task {task.kind!r} did not finish within {timeout_s:g} s on {self._where()}"
            return CpuOutcome(ok=False, error=ErrorInfo(type=Timeout.__name__, message=message), ms=0.0)
        try:
            return CpuOutcome.model_validate(ray.get(ref))
        except ray.exceptions.RayError as exc:
            message = (
                f"the Ray worker running the CPU task {task.kind!r} failed: {_first_line(exc)}; {NOT_JUDGED}"
            )
            return CpuOutcome(ok=False, error=ErrorInfo(type=ServerFault.__name__, message=message), ms=0.0)

    def emulate(self, plan: Plan, *, progress: Progress, timeouts: Timeouts) -> BenchResult:
        """One ``emulate`` CPU task on the cluster (bundled problems; a --problems-dir problem's module is
        on this machine only, so its verdict is computed here)."""
        from kernel_skills.bench import BenchResult

        if plan.problem.module_path is not None:
            from kernel_skills.emulator import verify

            return verify(plan, toolchain=self.toolchain, progress=progress, timeouts=timeouts)
        progress(0, 1, f"verifying on the CPU emulator on {self._where()}")
        budget = timeouts.check * max(len(plan.problem.emulator_shape_list()), 1) + CPU_TASK_TIMEOUT_S
        payload = plan.request.model_dump(mode="json", exclude_none=True)
        (outcome,) = self.run_cpu([CpuTask(kind="emulate", payload=payload)], timeout_s=budget)
        if not outcome.ok or outcome.result is None:
            raise_error(
                outcome.error
                or ErrorInfo(type="ServerFault", message=f"the task sent no result; {NOT_JUDGED}")
            )
        progress(1, 1, "done")
        return BenchResult.model_validate(outcome.result["result"])

    # --- status -----------------------------------------------------------------------------------

    def status(self) -> PoolStatus:
        ray = self.connect()
        resources = self._resources()
        own = {slot.name: slot for slot in self._slots or []}
        workers: list[WorkerStatus] = []
        named = sorted(
            entry["name"]
            for entry in ray.util.list_named_actors(all_namespaces=True)
            if entry.get("namespace") == NAMESPACE and entry["name"].startswith(ACTOR_PREFIX)
        )
        for name in named:
            try:
                handle = ray.get_actor(name, namespace=NAMESPACE)
                found = WorkerStatus.model_validate(ray.get(handle.status.remote(), timeout=STATUS_TIMEOUT_S))
            except (ray.exceptions.RayError, ValueError):
                found = WorkerStatus(name=name, state="unreachable")
            if name in own:
                found.restarts = max(found.restarts, own[name].restarts)
            workers.append(found)
        workers += [WorkerStatus(name=s.name, state="not started") for s in own.values() if s.handle is None]
        notes = [f"{len(own)} GPU worker(s) in this process's pool ({self.pool_id})"] if own else []
        if self._started_ray:
            notes.append("a local in-process Ray cluster (no --ray-address / RAY_ADDRESS)")
        return PoolStatus(
            executor="ray",
            address=_gcs_address(ray) or self.address,
            resources=resources,
            workers=workers,
            jobs_in_flight=sum(1 for w in workers if w.state == "busy"),
            restarts=sum(w.restarts for w in workers),
            notes=notes,
        )

    def close(self) -> None:
        """Stop this pool's actors (their worker children with them) and an own toolchain's compile
        worker; stop the cluster if we started it."""
        if self._own_toolchain:
            self.toolchain.close()
        try:
            ray = _ray()
        except RefusedInput:
            return
        if not ray.is_initialized():
            return
        for slot in self._slots or []:
            if slot.handle is not None:
                with contextlib.suppress(ray.exceptions.RayError):
                    ray.get(slot.handle.shutdown.remote(), timeout=STATUS_TIMEOUT_S)
                with contextlib.suppress(ray.exceptions.RayError, ValueError):
                    ray.kill(slot.handle, no_restart=True)
                slot.handle = None
        self._slots = None
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False
            self._actor_class = None


class RayWorker:
    """A leased GPU actor, spoken to like the local ``WorkerProcess``."""

    def __init__(self, executor: RayExecutor, slot: _Slot) -> None:
        self._executor = executor
        self._slot = slot

    @property
    def name(self) -> str:
        return self._slot.name

    def request(self, job: dict[str, Any], *, timeout_s: float, what: str | None = None) -> dict[str, Any]:
        ray = self._executor.connect()
        slot = self._slot
        what = what or f"job {job.get('kind')!r}"
        slot.current = what
        ref = slot.handle.request.remote(job, timeout_s, what, slot.restarts)
        try:
            reply = ray.get(ref, timeout=timeout_s + ACTOR_GRACE_S)
        except ray.exceptions.GetTimeoutError as exc:
            self._executor.replace(slot)
            raise Timeout(
                f"{what} did not finish within {timeout_s:g} s; the GPU worker (Ray actor {slot.name}) was "
                "killed and will be replaced"
            ) from exc
        except ray.exceptions.RayActorError as exc:
            # the actor process died (an OOM kill, a lost node, a kill from outside): the machine's
            # fault, not the kernel's (a kernel's own fault comes back as a reply, not as a death)
            self._executor.replace(slot, killed=True)  # Ray restarts it; the job is not retried
            raise ServerFault(
                f"the GPU worker died while running {what} (Ray actor {slot.name}: {_first_line(exc)}); "
                f"it was replaced; {NOT_JUDGED}",
                resource=f"Ray actor {slot.name}",
            ) from exc
        except ray.exceptions.RayError as exc:  # the actor itself failed (not the job): start afresh
            self._executor.replace(slot)
            raise ServerFault(
                f"the GPU worker (Ray actor {slot.name}) failed running {what}: {_first_line(exc)}; "
                f"it was replaced; {NOT_JUDGED}",
                resource=f"Ray actor {slot.name}",
            ) from exc
        finally:
            slot.current = None
            slot.jobs_done += 1
        if reply.get("ok"):
            return reply.get("result") or {}
        if reply.get("replaced"):
            self._executor.replace(slot)  # the worker child was replaced; the actor is too
        raise_error(ErrorInfo.model_validate(reply["error"]))


def _check_reachable(address: str) -> None:
    """Fail fast on a cluster address nothing answers at (Ray itself retries for minutes)."""
    host_port = address.removeprefix("ray://").rsplit("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", "local" or a form Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_TIMEOUT_S).close()
    except OSError as exc:
        raise DeviceUnavailable(
            f"cannot connect to the Ray cluster at {address}: nothing answers at {host_port} ({exc}); "
            "check --ray-address / RAY_ADDRESS (the head's GCS port, 6379 by default, or ray://host:10001)"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _gcs_address(ray: Any) -> str | None:
    with contextlib.suppress(Exception):
        return str(ray.get_runtime_context().gcs_address)
    return None


__all__ = ["ACTOR_PREFIX", "ADDRESS_ENV", "NAMESPACE", "RayExecutor", "RayWorker"]
