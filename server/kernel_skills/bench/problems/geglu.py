"""GEGLU as in SD/SDXL UNet feed-forwards: the projection's two halves, exact-erf GELU gate."""

from __future__ import annotations

from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "geglu"
DESCRIPTION = "x[rows, 2*dim]; h, g = x.chunk(2, -1); out[rows, dim] = h * gelu(g) (exact erf GELU, bf16)"
ABI = [
    Pointer("x", "bf16", ("rows", "2 * dim")),
    Pointer("out", "bf16", ("rows", "dim"), output=True),
    Scalar("rows", "int"),
    Scalar("dim", "int"),
]
SHAPES = {
    "sdxl_640": [{"rows": 8192, "dim": 2560}],
    "sdxl_1280": [{"rows": 2048, "dim": 5120}],
    "ragged": [{"rows": 127, "dim": 2560}],
}
TOLERANCE = {"bf16": (1e-2, 1e-2)}
EMULATOR_SHAPES = [{"rows": 5, "dim": 8}, {"rows": 33, "dim": 2560}]  # tiny rows; ragged rows, long dim


def make_inputs(sizes, generator, device):
    import torch

    x = 2.0 * torch.randn((sizes["rows"], 2 * sizes["dim"]), generator=generator, device=device)
    return {"x": x.to(torch.bfloat16)}


def reference(inputs, sizes):
    import torch.nn.functional as F

    h, g = inputs["x"].float().chunk(2, dim=-1)
    return {"out": h * F.gelu(g)}


def torch_op(inputs, sizes):
    import torch.nn.functional as F

    h, g = inputs["x"].chunk(2, dim=-1)
    return {"out": h * F.gelu(g)}


def flops(sizes):
    return 10 * sizes["rows"] * sizes["dim"]


def bytes_moved(sizes):
    return abi_bytes(ABI, sizes)
