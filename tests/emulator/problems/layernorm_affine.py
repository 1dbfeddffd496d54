"""LayerNorm over the last dim with a weight and a bias: parameters (param=True), built once per shape
and seed by make_params, not per call by make_inputs."""

from kernel_skills.bench.spec import Pointer, Scalar

NAME = "layernorm_affine"
ABI = [
    Pointer("x", "f32", ("rows", "dim")),
    Pointer("weight", "f32", ("dim",), param=True),
    Pointer("bias", "f32", ("dim",), param=True),
    Pointer("out", "f32", ("rows", "dim"), output=True),
    Scalar("rows", "int"),
    Scalar("dim", "int"),
    Scalar("eps", "float", 1e-5),
]
SHAPES = {"big": [{"rows": 4096, "dim": 4096}], "ragged": [{"rows": 7, "dim": 333}]}
TOLERANCE = {"f32": (1e-4, 1e-4)}


def make_inputs(sizes, generator, device):
    import torch

    return {"x": torch.randn((sizes["rows"], sizes["dim"]), generator=generator, device=device)}


def make_params(sizes, generator):
    import torch

    dim = sizes["dim"]
    return {
        "weight": 1 + 0.1 * torch.randn((dim,), generator=generator),
        "bias": torch.randn((dim,), generator=generator),
    }


def reference(inputs, sizes):
    import torch

    x = inputs["x"].double()
    y = torch.nn.functional.layer_norm(x, (sizes["dim"],), eps=1e-5)
    return {"out": y * inputs["weight"].double() + inputs["bias"].double()}
