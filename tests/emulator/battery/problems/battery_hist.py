"""Battery problem: an int32 histogram, hist[b] = count(x == b) (the atomic and warp-vote idioms).

Every x is in [0, bins) and bins is at most 256, so one block's shared histogram holds every bin."""

from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "battery_hist"
DESCRIPTION = "hist[b] = count(x == b) for b < bins (i32; 0 <= x < bins <= 256)"
ABI = [
    Pointer("x", "i32", ("n",)),
    Pointer("hist", "i32", ("bins",), output=True),
    Scalar("n", "int"),
    Scalar("bins", "int"),
]
SHAPES = {"big": [{"n": 1 << 22, "bins": 256}], "ragged": [{"n": 100003, "bins": 64}]}
TOLERANCE = {"i32": (0.0, 0.0)}
EMULATOR_SHAPES = [{"n": 1, "bins": 16}, {"n": 1000, "bins": 16}, {"n": 4099, "bins": 64}]


def make_inputs(sizes, generator, device):
    import torch

    x = torch.randint(0, sizes["bins"], (sizes["n"],), generator=generator, device=device, dtype=torch.int32)
    return {"x": x}


def reference(inputs, sizes):
    import torch

    return {"hist": torch.bincount(inputs["x"].long(), minlength=sizes["bins"])}


def torch_op(inputs, sizes):
    import torch

    return {"hist": torch.bincount(inputs["x"], minlength=sizes["bins"]).int()}


def flops(sizes):
    return sizes["n"]


def bytes_moved(sizes):
    return abi_bytes(ABI, sizes)
