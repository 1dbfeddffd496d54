"""Theoretical occupancy on an H100 (compute capability 9.0), following the CUDA occupancy calculator
(``cuda_occupancy.h``): registers are allocated per warp in units of 256 and per sub-partition (4 per
SM); shared memory in 128-byte units plus 1 KB reserved per block."""

from __future__ import annotations

from kernel_skills.errors import RefusedInput
from kernel_skills.toolchain.models import Occupancy

WARP = 32
REGS_PER_SM = 65536
REGS_PER_BLOCK = 65536
MAX_REGS_PER_THREAD = 255
REG_ALLOC_UNIT = 256
SUB_PARTITIONS = 4
SMEM_PER_SM = 228 * 1024
SMEM_PER_BLOCK_OPTIN = 227 * 1024
SMEM_DEFAULT_PER_BLOCK = 48 * 1024
SMEM_ALLOC_UNIT = 128
SMEM_RESERVED_PER_BLOCK = 1024
MAX_THREADS_PER_BLOCK = 1024
MAX_WARPS_PER_SM = 64
MAX_BLOCKS_PER_SM = 32


def _round_up(value: int, unit: int) -> int:
    return -(-value // unit) * unit


def check_block_size(block_size: int) -> int:
    if not 1 <= block_size <= MAX_THREADS_PER_BLOCK:
        raise RefusedInput(
            f"block_size {block_size} is not accepted: use 1 to {MAX_THREADS_PER_BLOCK} threads"
        )
    return block_size


def occupancy(registers: int, static_shared: int, block_size: int, dynamic_shared: int = 0) -> Occupancy:
    warps_per_block = -(-block_size // WARP)
    limits = {
        "warps": MAX_WARPS_PER_SM // warps_per_block,
        "blocks": MAX_BLOCKS_PER_SM,
        "registers": _register_limit(registers, warps_per_block),
        "shared_memory": _shared_limit(static_shared + dynamic_shared),
    }
    blocks = min(limits.values())
    # Ties go to the structural limits first: registers "limit" only when they cost occupancy.
    limited_by = min(("warps", "blocks", "registers", "shared_memory"), key=lambda name: limits[name])
    active_warps = blocks * warps_per_block
    return Occupancy(
        block_size=block_size,
        dynamic_shared_bytes=dynamic_shared,
        blocks_per_sm=blocks,
        active_warps=active_warps,
        max_warps=MAX_WARPS_PER_SM,
        occupancy=round(active_warps / MAX_WARPS_PER_SM, 4),
        limited_by=limited_by,  # type: ignore[arg-type]
        limits=limits,
    )


def _register_limit(registers: int, warps_per_block: int) -> int:
    if registers <= 0:
        return MAX_BLOCKS_PER_SM
    per_warp = _round_up(registers * WARP, REG_ALLOC_UNIT)
    assumed_per_block = per_warp * _round_up(warps_per_block, SUB_PARTITIONS)
    if registers > MAX_REGS_PER_THREAD or assumed_per_block > REGS_PER_BLOCK:
        return 0
    warps_per_sub_partition = (REGS_PER_SM // SUB_PARTITIONS) // per_warp
    return (warps_per_sub_partition * SUB_PARTITIONS) // warps_per_block


def _shared_limit(shared_bytes: int) -> int:
    if shared_bytes > SMEM_PER_BLOCK_OPTIN:
        return 0
    allocated = _round_up(shared_bytes + SMEM_RESERVED_PER_BLOCK, SMEM_ALLOC_UNIT)
    return SMEM_PER_SM // allocated
