"""The benchmark's own correctness ``Harness`` with each launch one confined run of the PTX engine.

One launch: the pre-decoded program and the job (launch geometry, the kernel's parameter bytes,
every buffer's bytes) go into a fresh work folder, the engine runs under ``confine.run_confined`` (it
reads only its own executable and that folder), and every pointer's bytes come back into the same
CPU tensors. So ``check_shape`` applies on the CPU exactly what it applies on the GPU: three seeds,
NaN poison, the determinism re-run, untouched inputs and the problem's tolerances.

The engine's verdicts (``protocol``): exit 0 ran; exit 3 with a JSON report -> ``EmulatorFault`` (a
race, an uninitialised shared read, barrier divergence, a read of a cp.async still in flight, an
out-of-bounds or misaligned access, warp-collective misuse, a trap), ``Timeout`` for a spent
instruction budget (deterministic: the same kernel hangs the same way every time),
``EmulatorUnsupported`` for what the engine does not run; exit 4 (no seccomp) -> DeviceUnavailable;
a wall-clock overrun (a backstop) -> ``Timeout``; a crash -> KernelFault.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernel_skills import procs, tempdirs
from kernel_skills.bench import Harness, Launch, Problem
from kernel_skills.confine import ConfinedResult, run_confined
from kernel_skills.emulator import protocol
from kernel_skills.emulator.engine_build import sanitized
from kernel_skills.emulator.ptx import Program
from kernel_skills.errors import (
    NOT_JUDGED,
    DeviceUnavailable,
    EmulatorFault,
    EmulatorUnsupported,
    KernelFault,
    RefusedInput,
    ServerFault,
    Timeout,
    server_fault,
)
from kernel_skills.toolchain import SUBMISSION_NAME

if TYPE_CHECKING:
    from kernel_skills.toolchain import Toolchain

ENGINE_MEMORY_MB = 4096
LAUNCH_TIMEOUT_S = 60.0
PRINTF_KEPT = 16 * 1024
# an engine built with sanitizers (CI): any finding ends the run with an error, no leak check (its
# ptrace-based stop-the-world is not allowed by the engine's seccomp filter)
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=86",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=86",
}
_DISK_FULL = "No space left on device"
# Engine findings that make the result wrong without faulting a GPU: reported as failed checks.
CHECK_KINDS = {
    "race": "race-free",
    "uninitialized_shared_read": "shared memory initialised",
    "barrier_divergence": "barriers reached by the whole block",
    "async_copy_in_flight": "cp.async data waited for",
}


def _full(folder: Path) -> bool:
    """Whether the file system holding ``folder`` has no block or no inode left."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return stats.f_bavail == 0 or stats.f_favail == 0


def describe(report: dict[str, Any]) -> str:
    """One sentence an agent can act on: the kind, the message, and where (buffer, index, threads, line)."""
    text = f"{report.get('kind') or 'fault'}: {report.get('message') or 'no details'}"
    where = []
    if report.get("buffer") is not None:
        shared = "__shared__" in str(report["buffer"]) or report["buffer"] == "local array"
        index = f" index {report['index']}" if report.get("index") is not None and not shared else ""
        where.append(f"buffer {report['buffer']!r}{index}")
    elif report.get("offset") is not None:
        where.append(f"shared memory offset {report['offset']}")
    threads = report.get("threads")
    if threads:
        where.append("threads " + " and ".join(_thread(t) for t in threads))
    inside = report.get("file") if report.get("file") not in (None, SUBMISSION_NAME) else None
    if report.get("line") is not None:
        where.append(f"kernel line {report['line']}" + (f" (inside {inside})" if inside else ""))
    elif inside:
        where.append(f"in {inside}")
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
    """The engine, one kernel's program, and how each launch of it is confined and bounded."""

    engine: Path
    program: Program
    timeout_s: float = LAUNCH_TIMEOUT_S
    memory_mb: int = ENGINE_MEMORY_MB
    budget: int = protocol.DEFAULT_BUDGET
    printf: list[str] = field(default_factory=list)
    findings: list[protocol.Finding] = field(default_factory=list)
    executed: int = 0  # thread-instructions, over every launch
    printf_dropped: bool = False  # some printf output was beyond the bounds
    engine_s: float = 0.0  # wall time of the engine runs (process start and confinement included)
    count_next: bool = False  # the next launch computes the counters (then resets)
    counters: protocol.EngineCounters | None = None  # the counted launch's counters

    def launch(
        self,
        problem: Problem,
        sizes: dict[str, int],
        launch: Launch,
        tensors: dict[str, Any],
        *,
        schedule: int = 0,
    ) -> None:
        if not self.engine.is_file():
            raise self._engine_missing()
        try:
            with tempdirs.private_dir("emu") as tmp:
                self._run(Path(tmp), problem, sizes, launch, tensors, schedule)
        except OSError as exc:
            raise server_fault("the emulator's work folder in the temp folder", exc) from exc

    def _run(
        self,
        work: Path,
        problem: Problem,
        sizes: dict[str, int],
        launch: Launch,
        tensors: dict[str, Any],
        schedule: int,
    ) -> None:
        files = {name: work / name for name in ("program", "job", "out", "report.json", "printf")}
        files["program"].write_bytes(self.program.data)
        count, self.count_next = self.count_next, False
        job = protocol.encode_job(
            problem,
            sizes,
            launch,
            tensors,
            self.program,
            schedule=schedule,
            budget=self.budget,
            counters=count,
        )
        files["job"].write_bytes(job)
        sanitize = sanitized()
        try:
            done = self._confined(files, work, sanitize)
        except DeviceUnavailable as exc:
            if not self.engine.is_file():  # removed between the check and the exec
                raise self._engine_missing() from exc
            raise
        if done.timed_out and done.stopped:
            raise ServerFault(
                "the emulator engine was stopped from outside the server (SIGSTOP) and did not finish "
                f"in {self.timeout_s:g} s; it was killed; {NOT_JUDGED}"
            )
        if done.timed_out:
            raise Timeout(
                f"the emulated launch did not finish in {self.timeout_s:g} s of wall-clock time; it was "
                "killed and the next request starts afresh"
            )
        self._outcome(done, files, problem, tensors)

    def _confined(self, files: dict[str, Path], work: Path, sanitize: bool) -> ConfinedResult:
        return run_confined(
            [str(self.engine), *(str(files[n]) for n in ("program", "job", "out", "report.json", "printf"))],
            workdir=work,
            read_only=[self.engine],
            timeout_s=self.timeout_s * (4 if sanitize else 1),
            memory_mb=0 if sanitize else self.memory_mb,  # ASan reserves terabytes of address space
            env=SANITIZER_ENV if sanitize else None,
        )

    def _engine_missing(self) -> ServerFault:
        return ServerFault(
            f"the emulator engine binary {self.engine} is missing (ENOENT: it was removed while the "
            f"server ran); the next request builds it again; {NOT_JUDGED}"
        )

    def _outcome(self, done: Any, files: dict[str, Path], problem: Problem, tensors: dict[str, Any]) -> None:
        if done.returncode == protocol.EXIT_FAULT and files["report.json"].exists():
            self._keep_printf(files["printf"])
            found = self._named(protocol.read_report(files["report.json"]).model_dump())
            kind = found["kind"]
            if kind == "hang":
                raise Timeout(found["message"])
            if kind == "unsupported":
                raise EmulatorUnsupported(f"{found['message']} (line {found.get('line')})")
            if kind in ("launch", "resource"):
                raise RefusedInput(f"the CPU emulator cannot run this launch: {found['message']}")
            raise EmulatorFault(describe(found), found)
        if done.returncode == protocol.EXIT_UNCONFINED:
            raise DeviceUnavailable(
                "the emulator engine could not install its seccomp filter, so the kernel was not run: "
                f"{done.stderr[-500:].strip()}"
            )
        if done.returncode != 0 and (_DISK_FULL in done.stderr or _full(files["job"].parent)):
            raise ServerFault(
                f"the emulator engine could not write its work folder {files['job'].parent}: ENOSPC "
                f"({_DISK_FULL}); {NOT_JUDGED}"
            )
        if done.returncode == protocol.EXIT_BAD_JOB:
            raise ServerFault(
                "the emulator engine refused the job the server wrote (a fault of the server's harness, "
                f"not of the kernel): {done.stderr[-500:].strip() or 'no message'}; {NOT_JUDGED}"
            )
        if done.signal is not None and procs.from_outside(done.returncode):
            raise ServerFault(
                f"the emulator engine was killed by {procs.signal_name(done.signal)}, a signal it did not "
                f"raise itself (sent from outside the server); not the kernel's doing; {NOT_JUDGED}"
            )
        if done.returncode != 0:
            how = f"signal {done.signal}" if done.signal else f"exit {done.returncode}"
            raise KernelFault(f"the emulator engine crashed ({how}): {done.stderr[-1500:].strip()}")
        summary = protocol.read_summary(files["report.json"])
        self.executed += summary.executed
        self.printf_dropped |= summary.printf_truncated
        if summary.counters is not None:
            self.counters = summary.counters
        self.engine_s += done.wall_ms / 1000
        for f in summary.findings:
            if all(f.message != g.message for g in self.findings):
                self.findings.append(f)
        self._keep_printf(files["printf"])
        protocol.decode_outputs(problem, tensors, files["out"].read_bytes())

    def _named(self, found: dict[str, Any]) -> dict[str, Any]:
        """A module variable's own name for an offset in the engine's region of module variables."""
        space = {"__device__ variables": "__device__", "__constant__ variables": "__constant__"}.get(
            found["buffer"] or ""
        )
        if space is None or found.get("offset") is None:
            return found
        for kind, start, size, name in self.program.module_vars:
            if kind == space and start <= found["offset"] < start + size:
                return {**found, "buffer": f"{space} {name} (byte {found['offset'] - start})", "index": None}
        return {**found, "index": None}

    def _keep_printf(self, path: Path) -> None:
        if not path.exists():
            return
        text = path.read_text(encoding="utf-8", errors="replace")
        room = PRINTF_KEPT - sum(len(p) for p in self.printf)
        if len(text) > room:
            self.printf_dropped = True
        if text and room > 0:
            self.printf.append(text[:room])


def emulated_kernel(
    source: str,
    kernel: str,
    *,
    toolchain: Toolchain,
    options: list[str] | None = None,
    timeout_s: float = LAUNCH_TIMEOUT_S,
    budget: int = protocol.DEFAULT_BUDGET,
) -> EmulatedKernel:
    """``source`` compiled by NVRTC for sm_90a with ``toolchain`` (as ``compile_kernel`` does) and its
    kernel ``kernel`` (the PTX symbol: the C name for ``extern "C"``) ready to launch on the engine.
    RefusedInput when NVRTC does not compile it; EmulatorUnsupported when the engine does not run what
    it compiled to."""
    from kernel_skills import paths
    from kernel_skills.emulator.engine_build import build_engine
    from kernel_skills.toolchain import CompileRequest

    result = toolchain.compile(
        CompileRequest(source=source, arch="sm_90a", options=options or ["-std=c++17"])
    )
    if not result.ok or result.compile_id is None:
        errors = "; ".join(
            f"line {d.line}: {d.message}" for d in result.diagnostics if d.severity != "warning"
        )
        raise RefusedInput(f"NVRTC did not compile the kernel: {errors or result.log[-1000:]}")
    program = compiled_program(result.compile_id, kernel)
    engine = build_engine(paths.cache_dir() / "emulator")
    return EmulatedKernel(engine.exe, program, timeout_s=timeout_s, budget=budget)


def compiled_program(compile_id: str | None, kernel: str) -> Program:
    """The engine's program for ``kernel`` from the PTX an earlier compile kept; EmulatorUnsupported
    (nothing ran) when the PTX is gone, unreadable, or uses what the engine does not run."""
    from kernel_skills.emulator.ptx import PtxError, Unsupported, load_program
    from kernel_skills.toolchain import load_ptx

    if compile_id is None:
        raise EmulatorUnsupported("the compile kept no PTX for the emulator; compile again")
    try:
        return load_program(load_ptx(compile_id), kernel)
    except Unsupported as exc:
        where = f" (line {exc.line})" if exc.line else ""
        raise EmulatorUnsupported(f"{exc}{where}; nothing ran. On a GPU it may well be correct") from exc
    except PtxError as exc:
        raise EmulatorUnsupported(f"the CPU emulator could not read NVRTC's PTX: {exc}") from exc


def emulator_harness(
    kernel: EmulatedKernel, problem: Problem, sizes: dict[str, int], launch: Launch
) -> Harness:
    """``bench.checking.Harness`` on CPU tensors, each launch one confined run of the engine.

    Launches alternate between the engine's in-order and reversed schedules (blocks, warps and the
    lanes of an atomic in reverse), both valid GPU schedules: ``check_shape``'s determinism re-run
    then runs in the other order than the first, so a result that depends on the order shows up."""
    launches = 0

    def do_launch(inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        nonlocal launches
        kernel.launch(problem, sizes, launch, {**inputs, **outputs}, schedule=launches % 2)
        launches += 1

    return Harness(problem, dict(sizes), "cpu", do_launch, lambda: None)


def engine_cause(exc: BaseException) -> BaseException:
    """The emulator error under a Harness's KernelFault wrapper, else ``exc``."""
    cause = exc.__cause__
    return cause if isinstance(cause, Timeout | EmulatorFault | EmulatorUnsupported | RefusedInput) else exc


__all__ = [
    "CHECK_KINDS",
    "EmulatedKernel",
    "EmulatorFault",
    "compiled_program",
    "describe",
    "emulated_kernel",
    "emulator_harness",
    "engine_cause",
]
