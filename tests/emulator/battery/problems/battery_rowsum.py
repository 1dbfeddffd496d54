"""Battery problem: out[r] = sum(x[r, :]) over float32 rows (the reduction idioms).

The inputs are bf16-representable floats, so a tensor-core kernel that converts them to bf16 loses
nothing. Rows stay at most 64 in every shape (kernels keep per-row scratch in fixed device arrays)."""

from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "battery_rowsum"
DESCRIPTION = "out[r] = sum(x[r, :]) (f32; rows <= 64, cols any)"
ABI = [
    Pointer("x", "f32", ("rows", "cols")),
    Pointer("out", "f32", ("rows",), output=True),
    Scalar("rows", "int"),
    Scalar("cols", "int"),
]
SHAPES = {"big": [{"rows": 64, "cols": 1 << 16}], "ragged": [{"rows": 61, "cols": 4099}]}
TOLERANCE = {"f32": (1e-4, 1e-4)}  # any summation order (atomics, trees, tensor cores) fits
# Short rows (idle threads), one full block per row, long rows with a partial last tile.
EMULATOR_SHAPES = [{"rows": 3, "cols": 37}, {"rows": 5, "cols": 256}, {"rows": 17, "cols": 1000}]


def make_inputs(sizes, generator, device):
    import torch

    x = torch.randn((sizes["rows"], sizes["cols"]), generator=generator, device=device)
    return {"x": x.to(torch.bfloat16).float()}


def reference(inputs, sizes):
    return {"out": inputs["x"].double().sum(dim=1)}


def torch_op(inputs, sizes):
    return {"out": inputs["x"].sum(dim=1)}


def flops(sizes):
    return sizes["rows"] * sizes["cols"]


def bytes_moved(sizes):
    return abi_bytes(ABI, sizes)
