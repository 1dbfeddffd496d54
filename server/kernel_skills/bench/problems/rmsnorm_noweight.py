"""RMSNorm without a weight (elementwise_affine=False norms in diffusers blocks)."""

from __future__ import annotations

from kernel_skills.bench.problems import rmsnorm
from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "rmsnorm_noweight"
EPS = rmsnorm.EPS  # the same norm over the same shapes, without the weight
DESCRIPTION = "out = x * rsqrt(mean(x^2, -1) + eps) over the last dim, no weight (bf16 in/out, eps 1e-6)"
ABI = [
    Pointer("x", "bf16", ("rows", "dim")),
    Pointer("out", "bf16", ("rows", "dim"), output=True),
    Scalar("rows", "int"),
    Scalar("dim", "int"),
    Scalar("eps", "float", EPS),
]
SHAPES = rmsnorm.SHAPES
TOLERANCE = {"bf16": (1e-2, 1e-2)}
EMULATOR_SHAPES = [
    {"rows": 127, "dim": 128},  # short rows, partial last block
    {"rows": 33, "dim": 2048},  # a block per row
    {"rows": 3, "dim": 5000},  # long rows, not a multiple of the vector width
]


def make_inputs(sizes, generator, device):
    import torch

    x = torch.randn((sizes["rows"], sizes["dim"]), generator=generator, device=device)
    return {"x": x.to(torch.bfloat16)}


def reference(inputs, sizes):
    import torch

    x = inputs["x"].float()
    return {"out": x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS)}


def torch_op(inputs, sizes):
    import torch.nn.functional as F

    return {"out": F.rms_norm(inputs["x"], (sizes["dim"],), None, EPS)}


def flops(sizes):
    return 3 * sizes["rows"] * sizes["dim"]


def bytes_moved(sizes):
    return abi_bytes(ABI, sizes)
