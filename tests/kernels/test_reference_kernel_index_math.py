"""The reference kernels' index math, transcribed in kernel_emu.py, for every shape of every
problem (the harness's shape sets, including the ragged ones) under the launch configuration of
solutions.json: every access in bounds and aligned to its width (16-byte vectors on 16-byte
addresses), every output element written exactly once, shared memory never read where it was not
written. Small grids are emulated block by block in full; large ones on their first, last and a
few random blocks, with the block tiles of the whole grid checked to partition the output.
No GPU: this checks addresses, not values."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from functools import partial
from typing import Any

import kernel_emu as emu
import numpy as np
import pytest

# The shape sets of CONTRACTS.md ("Problems and their kernel ABIs"), plus a few extra ragged ones.
SHAPES: dict[str, list[dict[str, int]]] = {
    "rmsnorm": [
        {"rows": 221184, "dim": 128},
        {"rows": 14784, "dim": 2048},
        {"rows": 129, "dim": 2048},
        {"rows": 127, "dim": 128},
        {"rows": 33, "dim": 136},  # lane groups with idle lanes
        {"rows": 31, "dim": 512},
        {"rows": 40, "dim": 1000},  # block per row, idle threads
        {"rows": 3, "dim": 8192},  # streaming
    ],
    "layernorm_modulate": [
        {"batch": 2, "tokens": 4608, "dim": 3072},
        {"batch": 2, "tokens": 7392, "dim": 2048},
        {"batch": 1, "tokens": 129, "dim": 3072},
        {"batch": 2, "tokens": 127, "dim": 2048},
        {"batch": 3, "tokens": 9, "dim": 4104},  # streaming
    ],
    "gelu_tanh": [{"n": 113246208}, {"n": 121110528}, {"n": 1000003}, {"n": 1}, {"n": 4103}],
    "geglu": [
        {"rows": 8192, "dim": 2560},
        {"rows": 2048, "dim": 5120},
        {"rows": 127, "dim": 2560},
        {"rows": 3, "dim": 8},
    ],
    "rope": [
        {"batch": 2, "heads": 24, "seq": 4608, "head_dim": 128},
        {"batch": 2, "heads": 32, "seq": 7392, "head_dim": 64},
        {"batch": 1, "heads": 3, "seq": 129, "head_dim": 128},
        {"batch": 1, "heads": 2, "seq": 7, "head_dim": 6},  # per-pair fallback
    ],
    "attention_hd128": [
        {"batch": 2, "heads": 24, "seq_q": 4608, "seq_kv": 4608},
        {"batch": 1, "heads": 2, "seq_q": 129, "seq_kv": 129},
        {"batch": 1, "heads": 1, "seq_q": 127, "seq_kv": 200},
    ],
    "attention_hd64": [
        {"batch": 2, "heads": 32, "seq_q": 7392, "seq_kv": 7392},
        {"batch": 2, "heads": 10, "seq_q": 4096, "seq_kv": 4096},
        {"batch": 1, "heads": 2, "seq_q": 127, "seq_kv": 127},
        {"batch": 1, "heads": 1, "seq_q": 1, "seq_kv": 1},
    ],
}

_SAME_LAYOUT_INPUTS = {
    "rmsnorm": ("x",),
    "rmsnorm_noweight": ("x",),
    "layernorm_modulate": ("x",),
    "gelu_tanh": ("x",),
    "rope": ("q", "k"),
    "attention_hd64": ("q",),
    "attention_hd128": ("q",),
}


def layout_d(problem: str) -> int:
    return 64 if problem == "attention_hd64" else 128


_ALL_BLOCKS_UP_TO = 300  # grids with more blocks are sampled

Emulator = tuple[
    Callable[[dict[str, int]], emu.Layout],
    Callable[..., emu.Accesses],
    Callable[[dict[str, int], emu.Block], tuple[int, int]],
]
EMULATORS: dict[str, Emulator] = {
    "rmsnorm": (emu.layout_rmsnorm, emu.emulate_rmsnorm, emu.tile_rmsnorm),
    "rmsnorm_noweight": (
        partial(emu.layout_rmsnorm, weight=False),
        partial(emu.emulate_rmsnorm, weight=False),
        emu.tile_rmsnorm,
    ),
    "layernorm_modulate": (
        emu.layout_layernorm_modulate,
        emu.emulate_layernorm_modulate,
        emu.tile_layernorm_modulate,
    ),
    "gelu_tanh": (emu.layout_gelu_tanh, emu.emulate_gelu_tanh, emu.tile_gelu_tanh),
    "geglu": (emu.layout_geglu, emu.emulate_geglu, emu.tile_geglu),
    "rope": (emu.layout_rope, emu.emulate_rope, emu.tile_rope),
    "attention_hd64": (
        partial(emu.layout_attention, d=64),
        partial(emu.emulate_attention, d=64),
        partial(emu.tile_attention, d=64),
    ),
    "attention_hd128": (
        partial(emu.layout_attention, d=128),
        partial(emu.emulate_attention, d=128),
        partial(emu.tile_attention, d=128),
    ),
}
SHAPES["rmsnorm_noweight"] = SHAPES["rmsnorm"]


def _cases() -> list[Any]:
    return [
        pytest.param(problem, sizes, id=f"{problem}-" + "-".join(str(v) for v in sizes.values()))
        for problem in sorted(EMULATORS)
        for sizes in SHAPES[problem]
    ]


def _blocks(grid: tuple[int, int], seed: str) -> list[emu.Block]:
    gx, gy = grid
    if gx * gy <= _ALL_BLOCKS_UP_TO:
        return [(x, y) for y in range(gy) for x in range(gx)]
    rng = random.Random(seed)
    xs = sorted({0, 1, gx - 2, gx - 1, *(rng.randrange(gx) for _ in range(3))} & set(range(gx)))
    ys = sorted({0, gy - 1, rng.randrange(gy)})
    return [(x, y) for y in ys for x in xs]


def _elements(records: list[tuple[np.ndarray, int]]) -> np.ndarray:
    parts = [(starts[:, None] + np.arange(width)[None, :]).ravel() for starts, width in records]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _covers(elements: np.ndarray, lo: int, hi: int) -> bool:
    """Every element of [lo, hi) is in `elements`."""
    inside = elements[(elements >= lo) & (elements < hi)] - lo
    seen = np.zeros(hi - lo, dtype=bool)
    seen[inside] = True
    return bool(seen.all())


def _check_bounds_and_alignment(acc: emu.Accesses, layout: emu.Layout, where: str) -> None:
    for kind, table in (("read", acc.reads), ("write", acc.writes)):
        for name, records in table.items():
            size, item = layout.sizes[name], layout.itemsize[name]
            for starts, width in records:
                if not starts.size:
                    continue
                assert starts.min() >= 0 and starts.max() + width <= size, (
                    f"{where}: {kind} of {name}[{starts.min()}..{starts.max() + width}) outside [0, {size})"
                )
                nbytes = width * item
                align = nbytes if nbytes & (nbytes - 1) == 0 else item  # a power of two: natural
                misaligned = starts[(starts * item) % min(align, 16) != 0]
                assert not misaligned.size, (
                    f"{where}: {nbytes}-byte {kind} of {name} at element {misaligned[0]} is misaligned"
                )


@pytest.mark.parametrize(("problem", "sizes"), _cases())
def test_kernel_accesses_are_in_bounds_aligned_and_write_each_output_once(
    problem: str, sizes: dict[str, int], solutions: dict[str, Any]
) -> None:
    layout_of, emulate, tile_of = EMULATORS[problem]
    layout = layout_of(sizes)
    gx, gy = layout.grid
    assert gy <= 65535 and 1 <= gx <= 2**31 - 1
    # The emulated grid is the one solutions.json launches.
    from kernel_skills.bench.expr import parse_expr

    launched = [parse_expr(text, frozenset(sizes)).evaluate(sizes) for text in solutions[problem]["grid"]]
    assert launched == [gx, gy, 1], f"solutions.json grid {launched} != emulated grid {layout.grid}"

    # The tiles of all blocks partition every output: contiguous, no gap, no overlap.
    tiles = sorted(tile_of(sizes, (x, y)) for y in range(gy) for x in range(gx))
    nonempty = [(lo, hi) for lo, hi in tiles if hi > lo]
    (output_size,) = {layout.sizes[name] for name in layout.outputs}
    assert nonempty[0][0] == 0 and nonempty[-1][1] == output_size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(nonempty))

    for block in _blocks(layout.grid, f"{problem}{sizes}"):
        where = f"{problem} {sizes} block {block}"
        acc = emulate(sizes, [block])
        _check_bounds_and_alignment(acc, layout, where)
        lo, hi = tile_of(sizes, block)
        for name in layout.outputs:
            written = np.sort(_elements(acc.writes.get(name, [])))
            assert np.array_equal(written, np.arange(lo, hi)), (
                f"{where}: writes of {name} are not exactly its tile [{lo}, {hi}) once each"
            )
        # Inputs laid out like the output are read over the whole tile (no element skipped).
        for name in _SAME_LAYOUT_INPUTS.get(problem, ()):
            assert _covers(_elements(acc.reads.get(name, [])), lo, hi), f"{where}: {name} not all read"
        if problem.startswith("attention"):  # every key and value of the block's (batch, head)
            kv_plane = sizes["seq_kv"] * layout_d(problem)
            for name in ("k", "v"):
                elements = _elements(acc.reads[name])
                assert _covers(elements, block[1] * kv_plane, (block[1] + 1) * kv_plane), (
                    f"{where}: {name} of this (batch, head) not all read"
                )
        for name in ("smem_k", "smem_vt"):
            if name in acc.reads:
                unwritten = np.setdiff1d(_elements(acc.reads[name]), _elements(acc.writes[name]))
                assert not unwritten.size, f"{where}: {name} read at unwritten (padding) {unwritten[:4]}"


@pytest.mark.parametrize(
    "sizes",
    [s for s in SHAPES["rope"] if s["head_dim"] % 8 == 0],  # the 16-byte path's table index
    ids=lambda s: "-".join(map(str, s.values())),
)
def test_rope_reads_cos_and_sin_of_the_tokens_position_within_seq(sizes: dict[str, int]) -> None:
    """cos/sin are [seq, head_dim/2]: the table row is the token's position t, not its flattened
    (batch, head, t) row."""
    layout = emu.layout_rope(sizes)
    acc = emu.emulate_rope(sizes, _blocks(layout.grid, "rope-table"))
    shape = (sizes["batch"], sizes["heads"], sizes["seq"], sizes["head_dim"])
    for (e, _), (table, _) in zip(acc.reads["q"], acc.reads["cos"], strict=True):
        _, _, t, col = np.unravel_index(e, shape)
        assert np.array_equal(table, t * (sizes["head_dim"] // 2) + col // 2)


@pytest.mark.parametrize("sizes", SHAPES["geglu"], ids=lambda s: "-".join(map(str, s.values())))
def test_geglu_pairs_each_output_with_h_from_the_first_half_and_g_from_the_second(
    sizes: dict[str, int],
) -> None:
    layout = emu.layout_geglu(sizes)
    acc = emu.emulate_geglu(sizes, _blocks(layout.grid, "geglu-halves"))
    dim = sizes["dim"]
    reads = acc.reads["x"]  # per vector slot j: h reads, then g reads
    for j, (out, _) in enumerate(acc.writes["out"]):
        r, c = np.divmod(out, dim)
        assert np.array_equal(reads[2 * j][0], r * 2 * dim + c)
        assert np.array_equal(reads[2 * j + 1][0], r * 2 * dim + dim + c)


@pytest.mark.parametrize("problem", sorted(EMULATORS))
def test_every_shape_the_harness_runs_is_emulated_here(problem: str) -> None:
    import importlib

    module = importlib.import_module(f"kernel_skills.bench.problems.{problem}")
    harness = [dict(sizes) for shapes in module.SHAPES.values() for sizes in shapes]
    missing = [sizes for sizes in harness if sizes not in SHAPES[problem]]
    assert not missing, f"add these {problem} shapes to SHAPES: {missing}"
