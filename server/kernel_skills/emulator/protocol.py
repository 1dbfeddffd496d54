"""The engine's file protocol: the PTXJOB1 job it reads, the bytes it writes back, its reports.

``ptxvm PROGRAM JOB OUT REPORT PRINTF`` (see engine/main.cpp): exit 0 ran (OUT holds every pointer
argument's bytes, in ABI order; REPORT a JSON ``RunSummary``; PRINTF the kernel's printf output);
exit 3 a finding stopped the launch and REPORT holds one ``EngineReport``; exit 2 the program or job
was malformed; exit 4 the engine could not confine itself (seccomp); anything else is a crash.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from kernel_skills.emulator.ptx import Program, region_base

if TYPE_CHECKING:
    from kernel_skills.bench import Launch, Problem

MAGIC = b"PTXJOB1\0"
EXIT_OK = 0
EXIT_BAD_JOB = 2
EXIT_FAULT = 3
EXIT_UNCONFINED = 4
PRINTF_LIMIT = 64 * 1024
DEFAULT_BUDGET = 100_000_000  # thread-instructions per launch: a hang is this budget spent, not a clock

FaultKind = Literal[
    "race",
    "uninitialized_shared_read",
    "out_of_bounds",
    "misaligned",
    "warp_misuse",
    "barrier_divergence",
    "async_copy_in_flight",
    "trap",
    "unsupported",
    "deadlock",
    "hang",
    "launch",
    "resource",
    "engine",
]


class EngineReport(BaseModel):
    """What the engine found. `threads` are [bx, by, bz, tx, ty, tz]: the faulting thread first, then
    (for a race or a barrier) the other thread. `offset` is in bytes from the start of `buffer` (a
    global buffer's ABI name, "__shared__ <variable> (byte k)" or "extern __shared__ (byte k)");
    `index` is the element index for a global buffer. `line` is the submission's line (the innermost
    inlined frame in it), `file` the file of the innermost frame when that is a toolkit header;
    `other_line` locates the other access of a race or the other side of a barrier divergence."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    message: str
    line: int | None = None
    file: str | None = None
    buffer: str | None = None
    index: int | None = None
    offset: int | None = None
    threads: list[list[int]] = []
    other_line: int | None = None


class Finding(BaseModel):
    """A non-fatal observation (e.g. a plain read racing atomics)."""

    kind: str
    message: str
    line: int = 0


class MemCounts(BaseModel):
    """Global loads or stores: warp-level requests, the 32-byte sectors their lanes touched (distinct
    within each request, summed over requests), the bytes the lanes asked for, and the sectors a
    contiguous aligned request of those bytes would touch (ceil(bytes / 32), summed)."""

    requests: int = 0
    sectors: int = 0
    bytes_requested: int = 0
    ideal_sectors: int = 0


class SharedCounts(BaseModel):
    """Shared-memory requests, the wavefronts they took and the fewest their bytes need."""

    requests: int = 0
    wavefronts: int = 0
    ideal_wavefronts: int = 0


class BufferCounts(BaseModel):
    name: str
    load_sectors: int
    store_sectors: int
    load_bytes: int = 0  # bytes the lanes asked for
    store_bytes: int = 0
    unique_sectors: int  # distinct sectors touched over the launch


class LineCounts(BaseModel):
    line: int
    load: MemCounts
    store: MemCounts
    shared: SharedCounts


class EngineCounters(BaseModel):
    """The engine's raw counts for one launch (engine/counters.h); ratios are computed in Python."""

    global_load: MemCounts
    global_store: MemCounts
    shared: SharedCounts
    instructions: dict[str, int]  # per warp-level issue, by class
    buffers: list[BufferCounts] = []
    lines: list[LineCounts] = []


class RunSummary(BaseModel):
    ok: bool
    executed: int  # thread-instructions
    printf_truncated: bool = False
    findings: list[Finding] = []
    counters: EngineCounters | None = None  # only when the job asked for them


def encode_job(
    problem: Problem,
    sizes: dict[str, int],
    launch: Launch,
    tensors: dict[str, Any],
    program: Program,
    *,
    schedule: int = 0,
    budget: int = DEFAULT_BUDGET,
    counters: bool = False,
) -> bytes:
    """The PTXJOB1 job for one launch: geometry, the kernel's parameter bytes (each pointer is its
    buffer's address in the engine's map), then each pointer argument's name, element size and bytes.
    `schedule` 1 runs blocks, warps and atomics' lanes in reverse order (the determinism re-run);
    `counters` asks the engine for its counters (``RunSummary.counters``)."""
    import torch

    from kernel_skills.bench import Pointer

    if schedule not in (0, 1):
        raise ValueError("schedule must be 0 (in order) or 1 (reversed)")
    values = problem.scalar_values(sizes)
    sizes_abi = [8 if isinstance(p, Pointer) else 4 for p in problem.abi]
    sizes_kernel = [size for _, size in program.params]
    if sizes_kernel != sizes_abi:
        raise ValueError(
            f"the kernel's parameter sizes {sizes_kernel} are not the problem's ABI {sizes_abi} "
            f"({problem.signature}): refused before running"
        )
    params = bytearray(program.param_bytes)
    buffers: list[bytes] = []
    pointer = 0
    for (offset, size), p in zip(program.params, problem.abi, strict=True):
        if isinstance(p, Pointer):
            raw = struct.pack("<Q", region_base(pointer))
            tensor = tensors[p.name].contiguous()
            data = tensor.view(-1).view(torch.uint8).numpy().tobytes()
            name = p.name.encode("utf-8")
            buffers.append(name + b"\0" + struct.pack("<IQ", tensor.element_size(), len(data)) + data)
            pointer += 1
        elif p.ctype == "int":
            raw = struct.pack("<i", int(values[p.name]))
        else:
            raw = struct.pack("<f", float(values[p.name]))
        params[offset : offset + len(raw)] = raw[:size]
    head = struct.pack(
        "<8s7IIQI",
        MAGIC,
        *launch.grid,
        *launch.block,
        launch.shared_mem,
        schedule | (2 if counters else 0),
        budget,
        PRINTF_LIMIT,
    )
    return b"".join(
        [head, struct.pack("<I", len(params)), bytes(params), struct.pack("<I", len(buffers)), *buffers]
    )


def decode_outputs(problem: Problem, tensors: dict[str, Any], data: bytes) -> None:
    """Write the engine's OUT bytes back into `tensors` (every pointer argument, in ABI order)."""
    import torch

    from kernel_skills.bench import Pointer

    offset = 0
    for p in problem.abi:
        if not isinstance(p, Pointer):
            continue
        tensor = tensors[p.name]
        n = tensor.numel() * tensor.element_size()
        if offset + n > len(data):
            raise ValueError(f"the engine returned {len(data)} bytes, fewer than the buffers need")
        chunk = torch.frombuffer(bytearray(data[offset : offset + n]), dtype=torch.uint8)
        tensor.view(-1).view(torch.uint8).copy_(chunk)
        offset += n
    if offset != len(data):
        raise ValueError(f"the engine returned {len(data)} bytes, expected {offset}")


_Report = TypeVar("_Report", bound=BaseModel)


def read_report(path: Path) -> EngineReport:
    """The engine's fault report; ValueError when the file is missing or not a report."""
    return _read(path, EngineReport, "fault report")


def read_summary(path: Path) -> RunSummary:
    """The engine's summary of a launch that ran; ValueError when missing or malformed."""
    return _read(path, RunSummary, "run summary")


def _read(path: Path, model: type[_Report], what: str) -> _Report:
    try:
        return model.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(f"the emulator's {what} is missing or malformed: {exc}") from exc
