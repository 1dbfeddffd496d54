"""tanh-approximated GELU over a flat tensor (the Flux / LTX / SD3 MLP activation)."""

from __future__ import annotations

from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "gelu_tanh"
DESCRIPTION = 'out = gelu(x, approximate="tanh") over n elements (bf16; n may be odd)'
ABI = [
    Pointer("x", "bf16", ("n",)),
    Pointer("out", "bf16", ("n",), output=True),
    Scalar("n", "int"),
]
SHAPES = {
    "flux_mlp": [{"n": 113246208}],
    "ltx_mlp": [{"n": 121110528}],
    "ragged": [{"n": 1000003}],
}
TOLERANCE = {"bf16": (1e-2, 1e-2)}
EMULATOR_SHAPES = [{"n": 1}, {"n": 4103}, {"n": 100003}]  # odd tails, partial vectors and blocks


def make_inputs(sizes, generator, device):
    import torch

    x = 3.0 * torch.randn((sizes["n"],), generator=generator, device=device)
    return {"x": x.to(torch.bfloat16)}


def reference(inputs, sizes):
    import torch.nn.functional as F

    return {"out": F.gelu(inputs["x"].float(), approximate="tanh")}


def torch_op(inputs, sizes):
    import torch.nn.functional as F

    return {"out": F.gelu(inputs["x"], approximate="tanh")}


def flops(sizes):
    return 8 * sizes["n"]  # x^3 polynomial, tanh, scale: counted as 8 per element


def bytes_moved(sizes):
    return abi_bytes(ABI, sizes)
