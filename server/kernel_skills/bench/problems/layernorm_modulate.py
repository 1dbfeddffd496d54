"""LayerNorm without affine fused with AdaLN modulation, as in Flux / LTX / SD3 blocks."""

from __future__ import annotations

from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "layernorm_modulate"
DESCRIPTION = (
    "out = layer_norm(x, no affine, eps) * (1 + scale[:, None]) + shift[:, None]; "
    "x[batch, tokens, dim], scale/shift[batch, dim] (bf16, eps 1e-6)"
)
EPS = 1e-6
ABI = [
    Pointer("x", "bf16", ("batch", "tokens", "dim")),
    Pointer("scale", "bf16", ("batch", "dim")),
    Pointer("shift", "bf16", ("batch", "dim")),
    Pointer("out", "bf16", ("batch", "tokens", "dim"), output=True),
    Scalar("batch", "int"),
    Scalar("tokens", "int"),
    Scalar("dim", "int"),
    Scalar("eps", "float", EPS),
]
SHAPES = {
    "flux": [{"batch": 2, "tokens": 4608, "dim": 3072}],
    "ltx": [{"batch": 2, "tokens": 7392, "dim": 2048}],
    "ragged": [{"batch": 1, "tokens": 129, "dim": 3072}, {"batch": 2, "tokens": 127, "dim": 2048}],
}
TOLERANCE = {"bf16": (1e-2, 1e-2)}
# Small shapes for the CPU emulator that reach every dispatch path of a typical kernel.
EMULATOR_SHAPES = [
    {"batch": 2, "tokens": 17, "dim": 2048},  # row in registers, one vector per thread, ragged tokens
    {"batch": 1, "tokens": 9, "dim": 3072},  # row in registers, two vectors per thread
    {"batch": 3, "tokens": 9, "dim": 4104},  # long rows: the streaming path, dim not a multiple of 16
]


def make_inputs(sizes, generator, device):
    import torch

    b, t, d = sizes["batch"], sizes["tokens"], sizes["dim"]
    x = 1.0 + 2.0 * torch.randn((b, t, d), generator=generator, device=device)  # non-zero mean
    scale = 0.5 * torch.randn((b, d), generator=generator, device=device)
    shift = 0.5 * torch.randn((b, d), generator=generator, device=device)
    return {k: v.to(torch.bfloat16) for k, v in {"x": x, "scale": scale, "shift": shift}.items()}


def reference(inputs, sizes):
    import torch.nn.functional as F

    x = inputs["x"].float()
    normed = F.layer_norm(x, (sizes["dim"],), eps=EPS)
    return {"out": normed * (1.0 + inputs["scale"].float()[:, None]) + inputs["shift"].float()[:, None]}


def torch_op(inputs, sizes):
    import torch.nn.functional as F

    normed = F.layer_norm(inputs["x"], (sizes["dim"],), eps=EPS)
    return {"out": normed * (1 + inputs["scale"][:, None]) + inputs["shift"][:, None]}


def flops(sizes):
    return 8 * sizes["batch"] * sizes["tokens"] * sizes["dim"]


def bytes_moved(sizes):
    return abi_bytes(ABI, sizes)
