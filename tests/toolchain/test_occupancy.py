"""Theoretical H100 occupancy, checked against numbers worked out by hand from cuda_occupancy.h rules."""

from __future__ import annotations

import pytest

from kernel_skills.toolchain.occupancy import occupancy


@pytest.mark.parametrize(
    ("registers", "static_smem", "block", "dynamic", "blocks", "warps", "limited_by"),
    [
        (32, 0, 256, 0, 8, 64, "warps"),  # 32 regs: full occupancy, 8 blocks of 8 warps
        (128, 0, 256, 0, 2, 16, "registers"),  # 4096 regs/warp -> 4 warps per sub-partition -> 16 warps
        (
            72,
            0,
            256,
            0,
            3,
            24,
            "registers",
        ),  # 2304 regs/warp -> 7 warps/sub-partition -> 28 warps -> 3 blocks
        (255, 0, 1024, 0, 0, 0, "registers"),  # 255 x 1024 threads does not fit 64K registers
        (16, 0, 64, 0, 32, 64, "warps"),  # 2-warp blocks: 32 blocks, 64 warps (tie with the block limit)
        (16, 0, 32, 0, 32, 32, "blocks"),  # 1-warp blocks: the 32-blocks-per-SM limit
        (32, 48 * 1024, 128, 0, 4, 16, "shared_memory"),  # 49 KB per block (1 KB reserved) -> 4 per 228 KB
        (32, 0, 128, 100 * 1024, 2, 8, "shared_memory"),
        (32, 0, 128, 228 * 1024, 0, 0, "shared_memory"),  # above 227 KB per block
    ],
)
def test_occupancy_matches_hand_computed_h100_numbers(
    registers, static_smem, block, dynamic, blocks, warps, limited_by
):
    result = occupancy(registers, static_smem, block, dynamic)
    assert (result.blocks_per_sm, result.active_warps, result.limited_by) == (blocks, warps, limited_by)
    assert result.occupancy == pytest.approx(warps / 64)
