"""out[r] = argmax(x[r, :]) as int64, as torch.argmax returns it (KernelBench's argmax over a dim)."""

from kernel_skills.bench.spec import Pointer, Scalar

NAME = "argmax_rows"
ABI = [
    Pointer("x", "f32", ("rows", "cols")),
    Pointer("out", "i64", ("rows",), output=True),
    Scalar("rows", "int"),
    Scalar("cols", "int"),
]
SHAPES = {"big": [{"rows": 4096, "cols": 4096}], "ragged": [{"rows": 37, "cols": 129}]}


def make_inputs(sizes, generator, device):
    import torch

    return {"x": torch.randn((sizes["rows"], sizes["cols"]), generator=generator, device=device)}


def reference(inputs, sizes):
    return {"out": inputs["x"].argmax(dim=1)}
