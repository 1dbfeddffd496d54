"""Battery problem: out = 2 * x over n float32 elements (the elementwise idioms)."""

from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "battery_scale2"
DESCRIPTION = "out = 2 * x over n elements (f32; n may be odd)"
ABI = [Pointer("x", "f32", ("n",)), Pointer("out", "f32", ("n",), output=True), Scalar("n", "int")]
SHAPES = {"big": [{"n": 1 << 24}], "ragged": [{"n": 1000003}]}
TOLERANCE = {"f32": (1e-5, 1e-5)}
EMULATOR_SHAPES = [{"n": 1}, {"n": 1001}, {"n": 4099}]  # a lone element, odd tails, several blocks


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
