"""RMSNorm with a weight: Flux's q/k norm over head_dim 128, LTX's over hidden 2048."""

from __future__ import annotations

from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "rmsnorm"
DESCRIPTION = "out = x * rsqrt(mean(x^2, -1) + eps) * weight over the last dim (bf16 in/out, eps 1e-6)"
EPS = 1e-6
ABI = [
    Pointer("x", "bf16", ("rows", "dim")),
    Pointer("weight", "bf16", ("dim",)),
    Pointer("out", "bf16", ("rows", "dim"), output=True),
    Scalar("rows", "int"),
    Scalar("dim", "int"),
    Scalar("eps", "float", EPS),
]
SHAPES = {
    "flux_qk": [{"rows": 221184, "dim": 128}],
    "ltx": [{"rows": 14784, "dim": 2048}],
    "ragged": [{"rows": 129, "dim": 2048}, {"rows": 127, "dim": 128}],
}
TOLERANCE = {"bf16": (1e-2, 1e-2)}
# Small shapes for the CPU emulator that reach every dispatch path of a typical kernel.
EMULATOR_SHAPES = [
    {"rows": 127, "dim": 128},  # short rows, several rows per warp, partial last block
    {"rows": 33, "dim": 136},  # 17 vectors per row (dim % 8 == 0 is the kernel's contract): idle lanes
    {"rows": 31, "dim": 512},  # a warp per row, two 16-byte vectors per lane
    {"rows": 40, "dim": 1000},  # 125 vectors of 8 per row: a block per row with idle threads
    {"rows": 9, "dim": 2048},  # a block per row, one vector per thread
    {"rows": 5, "dim": 4096},  # a block per row, two vectors per thread
    {"rows": 3, "dim": 8192},  # long rows: the streaming path (the row is read twice)
]


def make_inputs(sizes, generator, device):
    import torch

    rows, dim = sizes["rows"], sizes["dim"]
    x = torch.randn((rows, dim), generator=generator, device=device)
    weight = 1.0 + 0.25 * torch.randn((dim,), generator=generator, device=device)
    return {"x": x.to(torch.bfloat16), "weight": weight.to(torch.bfloat16)}


def reference(inputs, sizes):
    import torch

    x = inputs["x"].float()
    inv = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS)
    return {"out": x * inv * inputs["weight"].float()}


def torch_op(inputs, sizes):
    import torch.nn.functional as F

    return {"out": F.rms_norm(inputs["x"], (sizes["dim"],), inputs["weight"], EPS)}


def flops(sizes):
    return 4 * sizes["rows"] * sizes["dim"]  # square, sum, scale, weight per element


def bytes_moved(sizes):
    return abi_bytes(ABI, sizes)
