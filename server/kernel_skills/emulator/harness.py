"""The benchmark's own correctness ``Harness`` with each launch run by the confined emulator runner.

One launch: the job (launch geometry, every argument, every buffer's bytes) is written into a fresh
work folder, the runner built from the submission runs under ``sandbox.run_confined`` (it can read
only its own executable and that folder), and every pointer's bytes come back into the same CPU
tensors. So ``check_shape`` applies on the CPU exactly what it applies on the GPU: three seeds, NaN
poison, the determinism re-run, untouched inputs and the problem's tolerances.

The runner's verdicts (``protocol``): exit 0 ok; exit 3 with a JSON report (a race, an
uninitialised shared read, an out-of-bounds or misaligned access, warp-collective misuse, a trap, a
deadlock, a forbidden system call, too much printf) -> ``EmulatorFault``, its location resolved to a
kernel line; exit 4 (the runner could not install its seccomp filter) -> DeviceUnavailable; a hang ->
``Timeout``; a crash -> KernelFault.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel_skills.bench.checking import Harness
from kernel_skills.bench.launch import Launch
from kernel_skills.bench.spec import Problem
from kernel_skills.emulator.sandbox import run_confined
from kernel_skills.errors import DeviceUnavailable, KernelFault, Timeout

RUNNER_MEMORY_MB = 4096
LAUNCH_TIMEOUT_S = 60.0
# Engine findings that make the result wrong without faulting a GPU: reported as failed checks.
CHECK_KINDS = {"race": "race-free", "uninitialized_shared_read": "shared memory initialised"}


class EmulatorFault(KernelFault):
    """The engine stopped the launch and said why (``report``: the runner's JSON report)."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


def describe(report: dict[str, Any]) -> str:
    """One sentence an agent can act on: the kind, the message, and where (buffer, index, threads, line)."""
    text = f"{report.get('kind') or 'fault'}: {report.get('message') or 'no details'}"
    where = []
    if report.get("buffer") is not None:
        shared = "__shared__" in str(report["buffer"])  # its offset is already in the buffer's name
        index = f" index {report['index']}" if report.get("index") is not None and not shared else ""
        where.append(f"buffer {report['buffer']!r}{index}")
    elif report.get("offset") is not None:
        where.append(f"shared memory offset {report['offset']}")
    threads = report.get("threads")
    if threads:
        where.append("threads " + " and ".join(_thread(t) for t in threads))
    if report.get("line") is not None:
        where.append(f"kernel line {report['line']}")
    if report.get("other_line") is not None:
        where.append(f"the other access at line {report['other_line']}")
    return text + (f" [{'; '.join(where)}]" if where else "")


def _thread(thread: Any) -> str:
    """[bx, by, bz, tx, ty, tz] -> "block (bx, by, bz) thread (tx, ty, tz)"."""
    if isinstance(thread, list | tuple) and len(thread) == 6:
        return f"block ({thread[0]}, {thread[1]}, {thread[2]}) thread ({thread[3]}, {thread[4]}, {thread[5]})"
    return str(thread)


@dataclass
class EmulatedKernel:
    """A runner executable for one submission, and how each launch of it is confined."""

    exe: Path
    timeout_s: float = LAUNCH_TIMEOUT_S
    memory_mb: int = RUNNER_MEMORY_MB

    def launch(
        self,
        problem: Problem,
        sizes: dict[str, int],
        launch: Launch,
        tensors: dict[str, Any],
        *,
        schedule: int = 0,
    ) -> None:
        from kernel_skills.emulator import protocol

        with tempfile.TemporaryDirectory(prefix="kernel-skills-emu-") as tmp:
            work = Path(tmp)
            job, out, report = work / "job", work / "out", work / "report.json"
            job.write_bytes(protocol.encode_job(problem, sizes, launch, tensors, schedule=schedule))
            done = run_confined(
                [str(self.exe), str(job), str(out), str(report)],
                workdir=work,
                read_only=[self.exe],
                timeout_s=self.timeout_s,
                memory_mb=self.memory_mb,
            )
            if done.timed_out:
                raise Timeout(
                    f"the emulated launch did not finish in {self.timeout_s:g} s (an endless loop, or a "
                    "barrier some threads never reach); it was killed and the next request starts afresh"
                )
            if done.returncode == protocol.EXIT_FAULT and report.exists():
                found = protocol.resolve_report(protocol.read_report(report), self.exe).model_dump()
                raise EmulatorFault(describe(found), found)
            if done.returncode == protocol.EXIT_UNCONFINED:
                raise DeviceUnavailable(
                    "the emulator runner could not install its seccomp filter (no exec, no sockets, no "
                    f"file opens), so the kernel was not run: {done.stderr[-500:].strip()}"
                )
            if done.returncode == protocol.EXIT_BAD_JOB:
                raise KernelFault(
                    f"the emulator runner refused its job (a harness fault): {done.stderr[-500:]}"
                )
            if done.returncode != 0:
                how = f"signal {done.signal}" if done.signal else f"exit {done.returncode}"
                raise KernelFault(f"the emulated launch crashed ({how}): {done.stderr[-1500:].strip()}")
            protocol.decode_outputs(problem, tensors, out.read_bytes())


def emulator_harness(
    kernel: EmulatedKernel, problem: Problem, sizes: dict[str, int], launch: Launch
) -> Harness:
    """``bench.checking.Harness`` on CPU tensors, each launch one confined run of ``kernel``.

    Launches alternate between the engine's in-order and reversed schedules (threads and blocks run
    in reverse), both valid GPU schedules: ``check_shape``'s determinism re-run, its second launch,
    then runs in the other order than the first, so a result that depends on the order (float
    atomics, a missing barrier the checks cannot see) shows up as a determinism failure."""
    launches = 0

    def do_launch(inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        nonlocal launches
        kernel.launch(problem, sizes, launch, {**inputs, **outputs}, schedule=launches % 2)
        launches += 1

    return Harness(problem, dict(sizes), "cpu", do_launch, lambda: None)


def engine_cause(exc: BaseException) -> BaseException:
    """The emulator error under a Harness's KernelFault wrapper (Timeout, EmulatorFault), else ``exc``."""
    cause = exc.__cause__
    return cause if isinstance(cause, Timeout | EmulatorFault) else exc


__all__ = [
    "CHECK_KINDS",
    "EmulatedKernel",
    "EmulatorFault",
    "describe",
    "emulator_harness",
    "engine_cause",
]
