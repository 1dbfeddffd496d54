"""The engine's file protocol: the SIMT2 job a runner reads, the bytes it writes back, its fault report.

``runner JOB_IN JOB_OUT REPORT_OUT`` (see cpp/runner.cpp): exit 0 ran (JOB_OUT holds every pointer
argument's bytes, in ABI order); exit 3 the engine found a fault and REPORT_OUT holds one JSON
object (`EngineReport`); exit 2 the job was malformed; exit 4 the runner could not confine itself
(seccomp); anything else is a crash.
"""

from __future__ import annotations

import bisect
import functools
import json
import shutil
import struct
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from kernel_skills.bench.launch import Launch
    from kernel_skills.bench.spec import Problem

MAGIC = b"SIMT2"
EXIT_OK = 0
EXIT_BAD_JOB = 2
EXIT_FAULT = 3
EXIT_UNCONFINED = 4
SOURCE_NAME = "kernel.cu"  # the name the kernel's lines carry in the runner's debug information

FaultKind = Literal[
    "race",
    "uninitialized_shared_read",
    "out_of_bounds",
    "misaligned",
    "warp_misuse",
    "trap",
    "unsupported",
    "printf_limit",
    "deadlock",
    "forbidden_syscall",
]


class EngineReport(BaseModel):
    """What the engine found. `threads` are [bx, by, bz, tx, ty, tz]: the faulting thread first, then
    (for a race or a deadlock) the other thread. `offset` is in bytes from the start of `buffer`
    (a global buffer's ABI name, "__shared__ <variable>" or "extern __shared__"); `index` is the
    element index for a global buffer. `line`/`file` locate `pc` in the kernel source; `other_line`
    locates `other_pc` (the other thread's access of a race)."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    message: str
    line: int | None = None
    file: str | None = None
    buffer: str | None = None
    index: int | None = None
    offset: int | None = None
    threads: list[list[int]] = []
    pc: str | None = None
    other_pc: str | None = None
    other_line: int | None = None


def encode_job(
    problem: Problem, sizes: dict[str, int], launch: Launch, tensors: dict[str, Any], *, schedule: int = 0
) -> bytes:
    """The SIMT2 job for one launch: the launch, then each ABI argument (pointers carry their name).
    `schedule` 1 runs threads and blocks in reverse order (for a determinism re-run: a result that
    depends on the order, e.g. float atomics or one block reading another's output, then differs)."""
    if schedule not in (0, 1):
        raise ValueError("schedule must be 0 (in order) or 1 (reversed)")
    import torch

    from kernel_skills.bench.spec import Pointer

    parts = [MAGIC, struct.pack("<7I", *launch.grid, *launch.block, launch.shared_mem)]
    parts.append(struct.pack("<I", len(problem.abi)))
    values = problem.scalar_values(sizes)
    for p in problem.abi:
        if isinstance(p, Pointer):
            data = tensors[p.name].contiguous().view(-1).view(torch.uint8).numpy().tobytes()
            name = p.name.encode("utf-8")
            parts.append(struct.pack("<BH", 0, len(name)) + name + struct.pack("<Q", len(data)) + data)
        elif p.ctype == "int":
            parts.append(struct.pack("<Bi", 1, int(values[p.name])))
        else:
            parts.append(struct.pack("<Bf", 2, float(values[p.name])))
    if schedule:
        parts.append(struct.pack("<I", schedule))
    return b"".join(parts)


def decode_outputs(problem: Problem, tensors: dict[str, Any], data: bytes) -> None:
    """Write the runner's JOB_OUT bytes back into `tensors` (every pointer argument, in ABI order)."""
    import torch

    from kernel_skills.bench.spec import Pointer

    offset = 0
    for p in problem.abi:
        if not isinstance(p, Pointer):
            continue
        tensor = tensors[p.name]
        n = tensor.numel() * tensor.element_size()
        if offset + n > len(data):
            raise ValueError(f"the runner returned {len(data)} bytes, fewer than the buffers need")
        chunk = torch.frombuffer(bytearray(data[offset : offset + n]), dtype=torch.uint8)
        tensor.view(-1).view(torch.uint8).copy_(chunk)
        offset += n
    if offset != len(data):
        raise ValueError(f"the runner returned {len(data)} bytes, expected {offset}")


def read_report(path: Path) -> EngineReport:
    """The runner's fault report; ValueError when the file is missing or not a report."""
    try:
        return EngineReport.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(f"the emulator's fault report is missing or malformed: {exc}") from exc


def resolve_report(report: EngineReport, exe: Path) -> EngineReport:
    """`report` with `line`/`file` (and `other_line`) found from its pcs with addr2line, and a shared
    offset named by its `__shared__` variable. Returns the report unchanged where a tool is missing."""
    update: dict[str, Any] = {}
    if report.line is None and report.pc:
        line = source_line(exe, report.pc)
        if line is not None:
            update.update(line=line, file=SOURCE_NAME)
    if report.other_line is None and report.other_pc:
        update["other_line"] = source_line(exe, report.other_pc)
    if report.buffer == "__shared__" and report.offset is not None:
        name = _shared_variable(exe, report.offset)
        if name:
            update["buffer"] = f"__shared__ {name}"
    return report.model_copy(update=update)


def source_line(exe: Path, pc: str) -> int | None:
    """The kernel-source line of `pc` in `exe`: the innermost inlined frame that is in the kernel."""
    if shutil.which("addr2line") is None:
        return None
    done = subprocess.run(
        ["addr2line", "-e", str(exe), "-i", pc], capture_output=True, text=True, timeout=30, check=False
    )
    for location in done.stdout.splitlines():
        file, _, rest = location.partition(":")
        if Path(file).name == SOURCE_NAME:
            digits = rest.split(" ")[0]
            return int(digits) if digits.isdigit() else None
    return None


@functools.lru_cache(maxsize=64)
def _shared_symbols(exe: Path, mtime_ns: int) -> tuple[list[int], list[tuple[int, int, str]]]:
    done = subprocess.run(
        ["nm", "-C", "-S", "--defined-only", str(exe)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    start = None
    symbols: list[tuple[int, int, str]] = []
    for row in done.stdout.splitlines():
        fields = row.split(maxsplit=3)
        if len(fields) == 3 and fields[2] == "__start_simt_shared":
            start = int(fields[0], 16)
        elif len(fields) == 4 and fields[2] in "bBdDsSuVv":
            symbols.append((int(fields[0], 16), int(fields[1], 16), fields[3]))
    if start is None:
        return [], []
    shared = sorted((addr - start, size, name) for addr, size, name in symbols if addr >= start)
    return [s[0] for s in shared], shared


def _shared_variable(exe: Path, offset: int) -> str | None:
    if shutil.which("nm") is None:
        return None
    starts, shared = _shared_symbols(exe, exe.stat().st_mtime_ns)
    i = bisect.bisect_right(starts, offset) - 1
    if i < 0:
        return None
    base, size, name = shared[i]
    if offset >= base + size:
        return None
    return f"{name.split('::')[-1]} (byte {offset - base})"
