"""Rotary position embedding on q and k with interleaved pairs (Flux / LTX attention)."""

from __future__ import annotations

import math

from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "rope"
DESCRIPTION = (
    "q, k[batch, heads, seq, head_dim] bf16; cos, sin[seq, head_dim/2] fp32; interleaved pairs: "
    "o[2i] = x[2i]*c - x[2i+1]*s, o[2i+1] = x[2i+1]*c + x[2i]*s with c = cos[t, i], s = sin[t, i]"
)
ABI = [
    Pointer("q", "bf16", ("batch", "heads", "seq", "head_dim")),
    Pointer("k", "bf16", ("batch", "heads", "seq", "head_dim")),
    Pointer("cos", "f32", ("seq", "head_dim // 2")),
    Pointer("sin", "f32", ("seq", "head_dim // 2")),
    Pointer("q_out", "bf16", ("batch", "heads", "seq", "head_dim"), output=True),
    Pointer("k_out", "bf16", ("batch", "heads", "seq", "head_dim"), output=True),
    Scalar("batch", "int"),
    Scalar("heads", "int"),
    Scalar("seq", "int"),
    Scalar("head_dim", "int"),
]
SHAPES = {
    "flux": [{"batch": 2, "heads": 24, "seq": 4608, "head_dim": 128}],
    "ltx": [{"batch": 2, "heads": 32, "seq": 7392, "head_dim": 64}],
    "ragged": [{"batch": 1, "heads": 3, "seq": 129, "head_dim": 128}],
}
TOLERANCE = {"bf16": (1e-2, 1e-2)}
EMULATOR_SHAPES = [
    {"batch": 1, "heads": 3, "seq": 129, "head_dim": 128},  # ragged sequence
    {"batch": 2, "heads": 2, "seq": 33, "head_dim": 64},
    {"batch": 1, "heads": 2, "seq": 17, "head_dim": 12},  # head_dim not a multiple of 8: per-pair path
]


def make_inputs(sizes, generator, device):
    import torch

    shape = (sizes["batch"], sizes["heads"], sizes["seq"], sizes["head_dim"])
    q = torch.randn(shape, generator=generator, device=device)
    k = torch.randn(shape, generator=generator, device=device)
    angles = (
        2 * math.pi * torch.rand((sizes["seq"], sizes["head_dim"] // 2), generator=generator, device=device)
    )
    return {
        "q": q.to(torch.bfloat16),
        "k": k.to(torch.bfloat16),
        "cos": torch.cos(angles).contiguous(),
        "sin": torch.sin(angles).contiguous(),
    }


def _rotate(x, cos, sin):
    import torch

    pairs = x.reshape(*x.shape[:-1], x.shape[-1] // 2, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    out = torch.stack((x0 * cos - x1 * sin, x1 * cos + x0 * sin), dim=-1)
    return out.reshape(x.shape)


def reference(inputs, sizes):
    cos, sin = inputs["cos"].double(), inputs["sin"].double()
    return {
        "q_out": _rotate(inputs["q"].double(), cos, sin).float(),
        "k_out": _rotate(inputs["k"].double(), cos, sin).float(),
    }


def torch_op(inputs, sizes):
    # As diffusers' apply_rotary_emb does: float32 math, cast back to the input dtype.
    cos, sin = inputs["cos"], inputs["sin"]
    return {
        "q_out": _rotate(inputs["q"].float(), cos, sin).to(inputs["q"].dtype),
        "k_out": _rotate(inputs["k"].float(), cos, sin).to(inputs["k"].dtype),
    }


def flops(sizes):
    return 2 * 3 * sizes["batch"] * sizes["heads"] * sizes["seq"] * sizes["head_dim"]


def bytes_moved(sizes):
    return abi_bytes(ABI, sizes)
