"""Line-by-line numpy transcriptions of the reference kernels' index math (kernels/*/*.cu).

Each `emulate_<problem>(sizes, blocks)` runs the kernel's per-thread address computation for the
given blocks (vectorised over threadIdx.x) and returns an Accesses record: every global read and
write as (array, first element, element count). Nothing is computed on values; tests check the
records: in bounds, 16-byte accesses 16-byte aligned, each output element written exactly once.
`tile_<problem>(sizes, block)` is the output range a block is meant to write ([lo, hi) elements,
every kernel's block tile is contiguous), so sampled blocks of the large shapes can be checked
against it and the tiles of all blocks checked to partition the output.

Keep these in step with the .cu files: a change to a kernel's indexing must be made here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

Block = tuple[int, int]  # (blockIdx.x, blockIdx.y)


@dataclass
class Accesses:
    # array name -> list of (first elements, elements per access)
    reads: dict[str, list[tuple[np.ndarray, int]]] = field(default_factory=dict)
    writes: dict[str, list[tuple[np.ndarray, int]]] = field(default_factory=dict)

    def read(self, name: str, starts: np.ndarray, width: int) -> None:
        self.reads.setdefault(name, []).append((np.asarray(starts, dtype=np.int64).ravel(), width))

    def write(self, name: str, starts: np.ndarray, width: int) -> None:
        self.writes.setdefault(name, []).append((np.asarray(starts, dtype=np.int64).ravel(), width))


@dataclass(frozen=True)
class Layout:
    sizes: dict[str, int]  # array name -> elements
    itemsize: dict[str, int]  # array name -> bytes per element
    outputs: tuple[str, ...]
    grid: tuple[int, int]


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# --------------------------------------------------------------------------- rmsnorm.cu
_RMS_THREADS, _RMS_ROWS_PER_BLOCK = 256, 32


def layout_rmsnorm(s: dict[str, int], weight: bool = True) -> Layout:
    rows, dim = s["rows"], s["dim"]
    sizes = {"x": rows * dim, "out": rows * dim} | ({"weight": dim} if weight else {})
    return Layout(sizes, dict.fromkeys(sizes, 2), ("out",), (ceil_div(rows, 32), 1))


def emulate_rmsnorm(s: dict[str, int], blocks: Iterable[Block], weight: bool = True) -> Accesses:
    rows, dim = s["rows"], s["dim"]
    acc = Accesses()
    tid = np.arange(_RMS_THREADS)
    nvec = dim >> 3
    for bx, _ in blocks:
        if bx * _RMS_ROWS_PER_BLOCK >= rows:
            continue
        if nvec <= 16:
            _rms_lane_groups(acc, bx, tid, rows, dim, weight, lanes=16, vecs=1)
        elif nvec <= 32:
            _rms_lane_groups(acc, bx, tid, rows, dim, weight, lanes=32, vecs=1)
        elif nvec <= 64:
            _rms_lane_groups(acc, bx, tid, rows, dim, weight, lanes=32, vecs=2)
        elif nvec <= _RMS_THREADS:
            _rms_by_block(acc, bx, tid, rows, dim, weight, vecs=1)
        elif nvec <= 2 * _RMS_THREADS:
            _rms_by_block(acc, bx, tid, rows, dim, weight, vecs=2)
        else:
            _rms_streaming(acc, bx, tid, rows, dim, weight)
    return acc


def _rms_lane_groups(acc, bx, tid, rows, dim, weight, *, lanes, vecs):  # type: ignore[no-untyped-def]
    rows_per_pass = _RMS_THREADS // lanes
    passes = _RMS_ROWS_PER_BLOCK // rows_per_pass
    nvec = dim >> 3
    sub = tid % lanes
    group = tid // lanes
    first = bx * _RMS_ROWS_PER_BLOCK + group
    for p in range(passes):
        row = first + p * rows_per_pass
        for j in range(vecs):
            v = sub + j * lanes
            ok = (row < rows) & (v < nvec)
            acc.read("x", (row * dim + 8 * v)[ok], 8)
    for j in range(vecs):
        v = sub + j * lanes
        if weight:
            acc.read("weight", (8 * v)[v < nvec], 8)
    for p in range(passes):
        row = first + p * rows_per_pass
        for j in range(vecs):
            v = sub + j * lanes
            ok = (row < rows) & (v < nvec)
            acc.write("out", (row * dim + 8 * v)[ok], 8)


def _rms_by_block(acc, bx, tid, rows, dim, weight, *, vecs):  # type: ignore[no-untyped-def]
    nvec = dim >> 3
    first = bx * _RMS_ROWS_PER_BLOCK
    last = min(first + _RMS_ROWS_PER_BLOCK, rows)
    for j in range(vecs):
        v = tid + j * _RMS_THREADS
        if weight:
            acc.read("weight", (8 * v)[v < nvec], 8)
        acc.read("x", (first * dim + 8 * v)[v < nvec], 8)
    for row in range(first, last):
        more = row + 1 < last
        for j in range(vecs):
            v = tid + j * _RMS_THREADS
            if more:
                acc.read("x", ((row + 1) * dim + 8 * v)[v < nvec], 8)
        for j in range(vecs):
            v = tid + j * _RMS_THREADS
            acc.write("out", (row * dim + 8 * v)[v < nvec], 8)


def _rms_streaming(acc, bx, tid, rows, dim, weight):  # type: ignore[no-untyped-def]
    nvec = dim >> 3
    first = bx * _RMS_ROWS_PER_BLOCK
    last = min(first + _RMS_ROWS_PER_BLOCK, rows)
    for row in range(first, last):
        v = np.concatenate([np.arange(t, nvec, _RMS_THREADS) for t in tid])
        acc.read("x", row * dim + 8 * v, 8)
        if weight:
            acc.read("weight", 8 * v, 8)
        acc.read("x", row * dim + 8 * v, 8)
        acc.write("out", row * dim + 8 * v, 8)


def tile_rmsnorm(s: dict[str, int], block: Block) -> tuple[int, int]:
    first = block[0] * _RMS_ROWS_PER_BLOCK
    return first * s["dim"], min(first + _RMS_ROWS_PER_BLOCK, s["rows"]) * s["dim"]


# --------------------------------------------------------------------------- layernorm_modulate.cu
_LN_THREADS, _LN_ROWS_PER_BLOCK = 256, 8


def layout_layernorm_modulate(s: dict[str, int]) -> Layout:
    b, t, d = s["batch"], s["tokens"], s["dim"]
    sizes = {"x": b * t * d, "out": b * t * d, "scale": b * d, "shift": b * d}
    return Layout(sizes, dict.fromkeys(sizes, 2), ("out",), (ceil_div(t, 8), b))


def emulate_layernorm_modulate(s: dict[str, int], blocks: Iterable[Block]) -> Accesses:
    batch, tokens, dim = s["batch"], s["tokens"], s["dim"]
    acc = Accesses()
    tid = np.arange(_LN_THREADS)
    nvec = dim >> 3
    for bx, by in blocks:
        b, t0 = by, bx * _LN_ROWS_PER_BLOCK
        if b >= batch or t0 >= tokens:
            continue
        nrows = min(_LN_ROWS_PER_BLOCK, tokens - t0)
        row_first = b * tokens + t0
        scale_row = b * dim
        shift_row = b * dim
        if nvec <= 2 * _LN_THREADS:
            vecs = 1 if nvec <= _LN_THREADS else 2
            for j in range(vecs):
                v = tid + j * _LN_THREADS
                ok = v < nvec
                acc.read("scale", (scale_row + 8 * v)[ok], 8)
                acc.read("shift", (shift_row + 8 * v)[ok], 8)
                acc.read("x", (row_first * dim + 8 * v)[ok], 8)
            for i in range(nrows):
                row = row_first + i
                for j in range(vecs):
                    v = tid + j * _LN_THREADS
                    if i + 1 < nrows:
                        acc.read("x", ((row + 1) * dim + 8 * v)[v < nvec], 8)
                for j in range(vecs):
                    v = tid + j * _LN_THREADS
                    acc.write("out", (row * dim + 8 * v)[v < nvec], 8)
        else:
            v = np.concatenate([np.arange(t, nvec, _LN_THREADS) for t in tid])
            for i in range(nrows):
                xr = (row_first + i) * dim
                acc.read("x", xr + 8 * v, 8)
                acc.read("x", xr + 8 * v, 8)
                acc.read("x", xr + 8 * v, 8)
                acc.read("scale", scale_row + 8 * v, 8)
                acc.read("shift", shift_row + 8 * v, 8)
                acc.write("out", xr + 8 * v, 8)
    return acc


def tile_layernorm_modulate(s: dict[str, int], block: Block) -> tuple[int, int]:
    bx, by = block
    t0 = bx * _LN_ROWS_PER_BLOCK
    t1 = min(t0 + _LN_ROWS_PER_BLOCK, s["tokens"])
    return (by * s["tokens"] + t0) * s["dim"], (by * s["tokens"] + t1) * s["dim"]


# --------------------------------------------------------------------------- gelu_tanh.cu
_GELU_THREADS, _GELU_VECS = 256, 2
_GELU_ELEMS_PER_BLOCK = _GELU_THREADS * _GELU_VECS * 8


def layout_gelu_tanh(s: dict[str, int]) -> Layout:
    n = s["n"]
    return Layout({"x": n, "out": n}, {"x": 2, "out": 2}, ("out",), (ceil_div(n, 4096), 1))


def emulate_gelu_tanh(s: dict[str, int], blocks: Iterable[Block]) -> Accesses:
    n = s["n"]
    acc = Accesses()
    tid = np.arange(_GELU_THREADS)
    for bx, _ in blocks:
        base = bx * _GELU_ELEMS_PER_BLOCK
        for j in range(_GELU_VECS):
            e = base + 8 * (tid + j * _GELU_THREADS)
            full = e + 8 <= n
            acc.read("x", e[full], 8)
            acc.write("out", e[full], 8)
            for start in e[~full & (e < n)]:
                tail = np.arange(start, n)
                acc.read("x", tail, 1)
                acc.write("out", tail, 1)
    return acc


def tile_gelu_tanh(s: dict[str, int], block: Block) -> tuple[int, int]:
    lo = block[0] * _GELU_ELEMS_PER_BLOCK
    return lo, min(lo + _GELU_ELEMS_PER_BLOCK, s["n"])


# --------------------------------------------------------------------------- geglu.cu
_GEGLU_THREADS, _GEGLU_VECS = 256, 2


def layout_geglu(s: dict[str, int]) -> Layout:
    rows, dim = s["rows"], s["dim"]
    sizes = {"x": rows * 2 * dim, "out": rows * dim}
    return Layout(sizes, dict.fromkeys(sizes, 2), ("out",), (ceil_div(rows * dim, 4096), 1))


def emulate_geglu(s: dict[str, int], blocks: Iterable[Block]) -> Accesses:
    rows, dim = s["rows"], s["dim"]
    acc = Accesses()
    tid = np.arange(_GEGLU_THREADS)
    vecs_per_row = dim >> 3
    total = rows * vecs_per_row
    for bx, _ in blocks:
        first = bx * (_GEGLU_THREADS * _GEGLU_VECS)
        for j in range(_GEGLU_VECS):
            v = first + tid + j * _GEGLU_THREADS
            v = v[v < total]
            r = v // vecs_per_row
            c = (v - r * vecs_per_row) * 8
            xr = r * 2 * dim
            acc.read("x", xr + c, 8)  # h
            acc.read("x", xr + dim + c, 8)  # g
            acc.write("out", v * 8, 8)
    return acc


def tile_geglu(s: dict[str, int], block: Block) -> tuple[int, int]:
    lo = block[0] * _GEGLU_THREADS * _GEGLU_VECS * 8
    return lo, min(lo + _GEGLU_THREADS * _GEGLU_VECS * 8, s["rows"] * s["dim"])


# --------------------------------------------------------------------------- rope.cu
_ROPE_THREADS = 256


def layout_rope(s: dict[str, int]) -> Layout:
    total = s["batch"] * s["heads"] * s["seq"] * s["head_dim"]
    table = s["seq"] * (s["head_dim"] // 2)
    sizes = {"q": total, "k": total, "q_out": total, "k_out": total, "cos": table, "sin": table}
    itemsize = dict.fromkeys(sizes, 2) | {"cos": 4, "sin": 4}
    return Layout(sizes, itemsize, ("q_out", "k_out"), (ceil_div(total, 2048), 1))


def emulate_rope(s: dict[str, int], blocks: Iterable[Block]) -> Accesses:
    head_dim = s["head_dim"]
    plane = s["seq"] * head_dim
    total = s["batch"] * s["heads"] * plane
    half = head_dim >> 1
    acc = Accesses()
    tid = np.arange(_ROPE_THREADS)
    for bx, _ in blocks:
        slice_ = bx * _ROPE_THREADS + tid
        if head_dim & 7 == 0:
            e = slice_ * 8
            e = e[e < total]
            in_plane = e % plane
            t = in_plane // head_dim
            col = in_plane - t * head_dim
            table = t * half + (col >> 1)
            acc.read("q", e, 8)
            acc.read("k", e, 8)
            acc.read("cos", table, 4)
            acc.read("sin", table, 4)
            acc.write("q_out", e, 8)
            acc.write("k_out", e, 8)
        else:
            pairs = total >> 1
            for sl in slice_:
                for p in range(sl * 4, min(pairs, sl * 4 + 4)):
                    e = np.array([p * 2])
                    in_plane = e % plane
                    t = in_plane // head_dim
                    i = (in_plane - t * head_dim) >> 1
                    acc.read("cos", t * half + i, 1)
                    acc.read("sin", t * half + i, 1)
                    acc.read("q", e, 2)
                    acc.read("k", e, 2)
                    acc.write("q_out", e, 2)
                    acc.write("k_out", e, 2)
    return acc


def tile_rope(s: dict[str, int], block: Block) -> tuple[int, int]:
    total = s["batch"] * s["heads"] * s["seq"] * s["head_dim"]
    lo = block[0] * _ROPE_THREADS * 8
    return lo, min(lo + _ROPE_THREADS * 8, total)


# --------------------------------------------------------------------------- attention.cu
_ATT_BLOCK_M, _ATT_BLOCK_N, _ATT_THREADS, _ATT_PAD = 64, 64, 128, 8


def layout_attention(s: dict[str, int], d: int) -> Layout:
    bh = s["batch"] * s["heads"]
    sizes = {"q": bh * s["seq_q"] * d, "out": bh * s["seq_q"] * d, "k": bh * s["seq_kv"] * d}
    sizes["v"] = sizes["k"]
    sizes["smem_k"] = _ATT_BLOCK_N * (d + _ATT_PAD)
    sizes["smem_vt"] = d * (_ATT_BLOCK_N + _ATT_PAD)
    return Layout(sizes, dict.fromkeys(sizes, 2), ("out",), (ceil_div(s["seq_q"], 64), bh))


def emulate_attention(s: dict[str, int], blocks: Iterable[Block], d: int) -> Accesses:
    """Global and shared-memory accesses of attention_block<D>. Shared tiles are recorded as the
    arrays smem_k / smem_vt (per tile; their writes repeat every tile and are not outputs)."""
    seq_q, seq_kv = s["seq_q"], s["seq_kv"]
    ks, vs = d + _ATT_PAD, _ATT_BLOCK_N + _ATT_PAD
    vecs_per_row = d // 8
    acc = Accesses()
    tid = np.arange(_ATT_THREADS)
    warp, lane = tid >> 5, tid & 31
    g, t = lane >> 2, lane & 3
    for bx, bh in blocks:
        if bh >= s["batch"] * s["heads"]:
            continue
        qb, kb, vb, ob = bh * seq_q * d, bh * seq_kv * d, bh * seq_kv * d, bh * seq_q * d
        row0 = bx * _ATT_BLOCK_M + warp * 16 + g
        row1 = row0 + 8
        ok0, ok1 = row0 < seq_q, row1 < seq_q
        for kk in range(d // 16):
            c = kk * 16 + 2 * t
            acc.read("q", (qb + row0 * d + c)[ok0], 2)
            acc.read("q", (qb + row1 * d + c)[ok1], 2)
            acc.read("q", (qb + row0 * d + c + 8)[ok0], 2)
            acc.read("q", (qb + row1 * d + c + 8)[ok1], 2)
        # The K/V tile loop, vectorised over the tiles (kv0 as a column vector). The shared-memory
        # addresses do not depend on kv0: they are recorded once per block, not once per tile.
        kv0 = np.arange(0, seq_kv, _ATT_BLOCK_N, dtype=np.int64)[:, None]
        for i0 in range(0, _ATT_BLOCK_N * vecs_per_row, _ATT_THREADS):
            i = tid + i0
            i = i[i < _ATT_BLOCK_N * vecs_per_row]
            key = i // vecs_per_row
            c8 = (i % vecs_per_row) * 8
            ok = kv0 + key < seq_kv
            off = (kv0 + key) * d + c8
            acc.read("k", (kb + off)[ok], 8)
            acc.read("v", (vb + off)[ok], 8)
            acc.write("smem_k", key * ks + c8, 8)
            for j in range(8):
                acc.write("smem_vt", (c8 + j) * vs + key, 1)
        for nb in range(_ATT_BLOCK_N // 8):
            krow = (nb * 8 + g) * ks + 2 * t
            for kk in range(d // 16):
                acc.read("smem_k", krow + kk * 16, 2)
                acc.read("smem_k", krow + kk * 16 + 8, 2)
        for kc in range(_ATT_BLOCK_N // 16):
            for db in range(d // 8):
                vrow = (db * 8 + g) * vs + kc * 16 + 2 * t
                acc.read("smem_vt", vrow, 2)
                acc.read("smem_vt", vrow + 8, 2)
        for db in range(d // 8):
            col = db * 8 + 2 * t
            acc.write("out", (ob + row0 * d + col)[ok0], 2)
            acc.write("out", (ob + row1 * d + col)[ok1], 2)
    return acc


def tile_attention(s: dict[str, int], block: Block, d: int) -> tuple[int, int]:
    bx, bh = block
    r0 = bx * _ATT_BLOCK_M
    r1 = min(r0 + _ATT_BLOCK_M, s["seq_q"])
    return (bh * s["seq_q"] + r0) * d, (bh * s["seq_q"] + r1) * d
