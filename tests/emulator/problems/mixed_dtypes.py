"""Every integer and f64 dtype in one element-wise op: y = x * q + m (f64), idx = i + q * m (i64),
flag = b and x > 0 (bool)."""

from kernel_skills.bench.spec import Pointer, Scalar

NAME = "mixed_dtypes"
ABI = [
    Pointer("x", "f64", ("n",)),
    Pointer("q", "i8", ("n",)),
    Pointer("m", "u8", ("n",)),
    Pointer("b", "bool", ("n",)),
    Pointer("y", "f64", ("n",), output=True),
    Pointer("idx", "i64", ("n",), output=True),
    Pointer("flag", "bool", ("n",), output=True),
    Scalar("n", "int"),
]
SHAPES = {"big": [{"n": 1 << 22}], "ragged": [{"n": 1001}]}


def make_inputs(sizes, generator, device):
    import torch

    n = sizes["n"]
    return {
        "x": torch.randn((n,), generator=generator, device=device, dtype=torch.float64),
        "q": torch.randint(-128, 128, (n,), generator=generator, device=device, dtype=torch.int8),
        "m": torch.randint(0, 256, (n,), generator=generator, device=device, dtype=torch.uint8),
        "b": torch.randint(0, 2, (n,), generator=generator, device=device).bool(),
    }


def reference(inputs, sizes):
    import torch

    x, q, m = inputs["x"], inputs["q"].long(), inputs["m"].long()
    i = torch.arange(sizes["n"], device=x.device) * (1 << 33)
    return {"y": x * q + m, "idx": i + q * m, "flag": inputs["b"] & (x > 0)}
