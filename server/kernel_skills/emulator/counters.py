"""The engine's raw counts of one launch (``protocol.EngineCounters``) turned into the result's
``bench.models.Counters``: per-request ratios, bank conflicts, traffic over the problem's
``bytes_moved``, per-line costs, and the launch's waves on the H100 at the device shape."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from kernel_skills.bench import (
    BufferTraffic,
    CounterFinding,
    Counters,
    KernelInfo,
    LaunchCounters,
    LineCounters,
    MemoryCounters,
    ScaledCounters,
    SharedCounters,
)

if TYPE_CHECKING:
    from kernel_skills.bench import Launch, Problem
    from kernel_skills.emulator.protocol import EngineCounters, MemCounts

H100_SMS = 132
H100_REGS_PER_SM = 65536
H100_THREADS_PER_SM = 2048
H100_BLOCKS_PER_SM = 32
H100_SHARED_PER_SM = 228 * 1024
SHARED_RESERVED_PER_BLOCK = 1024
BASIS = (
    "counted by the CPU emulator on one launch: the first seed of the emulator shape nearest the first "
    "timed shape, {shape}; "
    "ratios are those of that launch; at_shape scales its totals to the first timed shape (memory by the "
    "problem's bytes_moved, instructions by its flops); the counts are of PTX instructions, so register "
    "spills and other ptxas effects are invisible"
)


def _memory(m: MemCounts) -> MemoryCounters:
    n = m.requests
    return MemoryCounters(
        requests=n,
        sectors=m.sectors,
        bytes_requested=m.bytes_requested,
        sectors_per_request=m.sectors / n if n else None,
        ideal_sectors_per_request=m.ideal_sectors / n if n else None,
        efficiency=m.bytes_requested / (m.sectors * 32) if m.sectors else None,
    )


def blocks_per_sm(threads: int, kernel: KernelInfo | None, shared_mem: int) -> int | None:
    """Resident blocks per H100 SM by threads, registers (256 per warp granule) and shared memory;
    None when the compile report has no register count."""
    if kernel is None or not kernel.registers:
        return None
    warps = math.ceil(threads / 32)
    regs_per_warp = math.ceil(kernel.registers * 32 / 256) * 256
    limits = [
        H100_BLOCKS_PER_SM,
        H100_THREADS_PER_SM // (warps * 32),
        H100_REGS_PER_SM // (regs_per_warp * warps),
    ]
    shared = (kernel.shared_bytes or 0) + shared_mem
    if shared:
        limits.append(H100_SHARED_PER_SM // (shared + SHARED_RESERVED_PER_BLOCK))
    return max(min(limits), 0)


def launch_counters(launch: Launch, shape: dict[str, int], kernel: KernelInfo | None) -> LaunchCounters:
    blocks = launch.grid[0] * launch.grid[1] * launch.grid[2]
    per_sm = blocks_per_sm(launch.threads, kernel, launch.shared_mem)
    slots = H100_SMS * per_sm if per_sm else H100_SMS
    return LaunchCounters(
        shape=shape,
        blocks=blocks,
        warps_per_block=math.ceil(launch.threads / 32),
        blocks_per_sm=per_sm,
        waves_on_h100=round(blocks / slots, 3),
    )


def scaled(
    raw: EngineCounters, problem: Problem, sizes: dict[str, int], shape: dict[str, int]
) -> ScaledCounters:
    """The totals of the launch counted at ``sizes`` scaled to ``shape`` (see ``ScaledCounters``)."""
    counted_bytes, device_bytes = problem.bytes_moved(sizes), problem.bytes_moved(shape)
    counted_flops, device_flops = problem.flops(sizes), problem.flops(shape)
    bytes_scale = device_bytes / counted_bytes if counted_bytes > 0 else 1.0
    work_scale = device_flops / counted_flops if counted_flops > 0 and device_flops > 0 else bytes_scale
    sectors = sum(b.load_sectors + b.store_sectors for b in raw.buffers)
    unique = sum(b.unique_sectors for b in raw.buffers)
    return ScaledCounters(
        shape=dict(shape),
        bytes_scale=round(bytes_scale, 6),
        work_scale=round(work_scale, 6),
        requests=round((raw.global_load.requests + raw.global_store.requests) * bytes_scale),
        sector_bytes=round(sectors * 32 * bytes_scale),
        unique_bytes=round(unique * 32 * bytes_scale),
        shared_wavefronts=round(raw.shared.wavefronts * work_scale),
        instructions={k: round(v * work_scale) for k, v in raw.instructions.items()},
    )


def summarise(
    raw: EngineCounters,
    problem: Problem,
    sizes: dict[str, int],
    launch: LaunchCounters | None = None,
    timed: dict[str, int] | None = None,
) -> Counters:
    """``Counters`` for one counted launch at ``sizes`` (an emulator shape), its totals scaled to the
    ``timed`` shape when given."""
    ideal = problem.bytes_moved(sizes)
    sectors = sum(b.load_sectors + b.store_sectors for b in raw.buffers)
    unique = sum(b.unique_sectors for b in raw.buffers)
    lines = [
        LineCounters(
            line=x.line,
            requests=x.load.requests + x.store.requests,
            sectors=x.load.sectors + x.store.sectors,
            ideal_sectors=x.load.ideal_sectors + x.store.ideal_sectors,
            bytes_requested=x.load.bytes_requested + x.store.bytes_requested,
            shared_requests=x.shared.requests,
            bank_conflicts=x.shared.wavefronts - x.shared.ideal_wavefronts,
        )
        for x in raw.lines
    ]
    counters = Counters(
        basis=BASIS.format(shape=sizes),
        shape=dict(sizes),
        global_load=_memory(raw.global_load),
        global_store=_memory(raw.global_store),
        shared=SharedCounters(
            requests=raw.shared.requests,
            wavefronts=raw.shared.wavefronts,
            ideal_wavefronts=raw.shared.ideal_wavefronts,
            bank_conflicts=raw.shared.wavefronts - raw.shared.ideal_wavefronts,
        ),
        instructions=dict(raw.instructions),
        traffic_vs_ideal=round(sectors * 32 / ideal, 4) if ideal else None,
        unique_traffic_vs_ideal=round(unique * 32 / ideal, 4) if ideal else None,
        launch=launch,
        at_shape=scaled(raw, problem, sizes, timed) if timed is not None else None,
        buffers=[
            BufferTraffic(
                name=b.name,
                sectors=b.load_sectors + b.store_sectors,
                unique_sectors=b.unique_sectors,
                bytes_loaded=b.load_bytes,
                bytes_stored=b.store_bytes,
            )
            for b in raw.buffers
        ],
        lines=lines,
    )
    counters.findings = findings(counters, ideal)
    return counters


DOC_BASE = "skill://h100-cuda-kernels/references/reading-reports.md#"
REREAD = 1.5  # a buffer's bytes asked for over its distinct bytes from which a re-read is worth naming
SMALL_BUFFER = 1 / 8  # of the problem's bytes: a buffer every block reads stays in L1/L2 (not named)
UNCOALESCED = 1.25  # a line's sectors over the ideal from which it is worth naming
NARROW_SHARE = 0.1  # a line's share of the global requests from which narrow accesses are worth naming


def findings(c: Counters, bytes_moved: int | None = None) -> list[CounterFinding]:
    """The counters' actionable readings, most costly first (see ``CounterFinding``); a grid too small
    to fill the GPU is named last, as it has no cost in bytes."""
    all_requests = c.global_load.requests + c.global_store.requests
    found = [f for x in c.lines for f in _line_findings(x, all_requests)]
    found += [f for b in c.buffers for f in _re_read_findings(b, bytes_moved)]
    found.sort(key=lambda f: -f.cost_bytes)
    if c.launch is not None and c.launch.waves_on_h100 < 1:
        found.append(_small_grid_finding(c.launch))
    return found


def _line_findings(x: LineCounters, all_requests: int) -> list[CounterFinding]:
    """One source line's findings: uncoalesced or narrow global accesses, shared-memory bank conflicts."""
    found: list[CounterFinding] = []
    if x.requests and x.sectors >= UNCOALESCED * x.ideal_sectors:
        found.append(
            CounterFinding(
                rule="counter-uncoalesced",
                line=x.line,
                cost_bytes=(x.sectors - x.ideal_sectors) * 32,
                message=f"line {x.line}: {x.sectors / x.requests:.1f} sectors per request where "
                f"{x.ideal_sectors / x.requests:.1f} would hold its bytes; make consecutive lanes "
                "touch consecutive addresses",
                doc=DOC_BASE + "counter-uncoalesced",
            )
        )
    per_request = x.bytes_requested / x.requests if x.requests else 0
    if (
        x.requests
        and x.sectors == x.ideal_sectors
        and per_request <= 128
        and x.requests >= NARROW_SHARE * all_requests
    ):
        width = round(per_request / 32)
        found.append(
            CounterFinding(
                rule="counter-narrow-access",
                line=x.line,
                cost_bytes=x.requests * 3 // 4 * 32,
                message=f"line {x.line}: {width}-byte accesses, {x.sectors / x.requests:.0f} sectors per "
                f"request where 16-byte accesses move 16; vectorise (uint4/float4)",
                doc=DOC_BASE + "counter-narrow-access",
            )
        )
    if x.bank_conflicts > 0:
        ways = 1 + x.bank_conflicts / x.shared_requests
        found.append(
            CounterFinding(
                rule="counter-bank-conflicts",
                line=x.line,
                cost_bytes=x.bank_conflicts * 128,
                message=f"line {x.line}: {ways:.1f}-way shared-memory bank conflicts on average; pad "
                "the row (e.g. 33 floats for 32) or swizzle the index",
                doc=DOC_BASE + "counter-bank-conflicts",
            )
        )
    return found


def _re_read_findings(b: BufferTraffic, bytes_moved: int | None) -> list[CounterFinding]:
    """A buffer read or written well beyond its distinct bytes (small buffers stay in cache: none)."""
    unique = b.unique_sectors * 32
    if not unique or (bytes_moved and unique < SMALL_BUFFER * bytes_moved):
        return []
    return [
        CounterFinding(
            rule="counter-re-read",
            cost_bytes=done - unique,
            message=f"{b.name} is {what} {done / unique:.1f}x (bytes asked for over distinct "
            "bytes): a second pass or other blocks read it again; unless each block needs it "
            "(tiles of a matmul or attention), keep it in registers or shared memory",
            doc=DOC_BASE + "counter-re-read",
        )
        for what, done in (("read", b.bytes_loaded), ("written", b.bytes_stored))
        if done >= REREAD * unique
    ]


def _small_grid_finding(launch: LaunchCounters) -> CounterFinding:
    """A grid of under one wave on the H100's 132 SMs."""
    return CounterFinding(
        rule="counter-small-grid",
        message=f"grid of {launch.blocks} blocks is {launch.waves_on_h100:g} waves on 132 SMs "
        f"at {launch.shape}: use smaller blocks or more blocks per row",
        doc=DOC_BASE + "counter-small-grid",
    )


__all__ = ["BASIS", "blocks_per_sm", "findings", "launch_counters", "scaled", "summarise"]
