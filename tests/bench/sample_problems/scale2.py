"""A minimal trusted user problem (out = 2 * x), as a user would put in --problems-dir."""

from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "scale2"
DESCRIPTION = "out = 2 * x"
ABI = [Pointer("x", "f32", ("n",)), Pointer("out", "f32", ("n",), output=True), Scalar("n", "int")]
SHAPES = {"big": [{"n": 1 << 20}], "ragged": [{"n": 1001}]}
TOLERANCE = {"f32": (1e-6, 1e-6)}


def make_inputs(sizes, generator, device):
    import torch

    return {"x": torch.randn((sizes["n"],), generator=generator, device=device)}


def reference(inputs, sizes):
    return {"out": 2 * inputs["x"].double()}


def torch_op(inputs, sizes):
    return {"out": 2 * inputs["x"]}


def flops(sizes):
    return sizes["n"]


def bytes_moved(sizes):
    return abi_bytes(ABI, sizes)
