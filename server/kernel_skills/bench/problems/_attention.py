"""Shared body of the attention problems (head_dim fixed per problem); not a problem itself."""

from __future__ import annotations

import math

from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

SIZE_NAMES = ("batch", "heads", "seq_q", "seq_kv")


def abi(head_dim: int) -> list:
    q_shape = ("batch", "heads", "seq_q", str(head_dim))
    kv_shape = ("batch", "heads", "seq_kv", str(head_dim))
    return [
        Pointer("q", "bf16", q_shape),
        Pointer("k", "bf16", kv_shape),
        Pointer("v", "bf16", kv_shape),
        Pointer("out", "bf16", q_shape, output=True),
        Scalar("batch", "int"),
        Scalar("heads", "int"),
        Scalar("seq_q", "int"),
        Scalar("seq_kv", "int"),
        Scalar("scale", "float", 1.0 / math.sqrt(head_dim)),
    ]


def make_inputs(head_dim: int, sizes, generator, device):
    import torch

    b, h = sizes["batch"], sizes["heads"]
    q = torch.randn((b, h, sizes["seq_q"], head_dim), generator=generator, device=device)
    k = torch.randn((b, h, sizes["seq_kv"], head_dim), generator=generator, device=device)
    v = torch.randn((b, h, sizes["seq_kv"], head_dim), generator=generator, device=device)
    return {"q": q.to(torch.bfloat16), "k": k.to(torch.bfloat16), "v": v.to(torch.bfloat16)}


def reference(head_dim: int, inputs):
    """float32 math (no TF32: the worker turns it off), a few heads at a time to bound memory."""
    import torch

    q, k, v = (inputs[n].float() for n in ("q", "k", "v"))
    b, h, sq, _ = q.shape
    skv = k.shape[2]
    q, k, v = q.reshape(b * h, sq, head_dim), k.reshape(b * h, skv, head_dim), v.reshape(b * h, skv, head_dim)
    out = torch.empty_like(q)
    step = max(1, (1 << 28) // (sq * skv))  # about 1 GiB of float32 scores per chunk
    for start in range(0, b * h, step):
        part = slice(start, start + step)
        scores = torch.bmm(q[part], k[part].transpose(1, 2)) * (1.0 / math.sqrt(head_dim))
        out[part] = torch.bmm(torch.softmax(scores, dim=-1), v[part])
    return {"out": out.reshape(b, h, sq, head_dim)}


def torch_op(head_dim: int, inputs):
    import torch.nn.functional as F

    return {
        "out": F.scaled_dot_product_attention(
            inputs["q"], inputs["k"], inputs["v"], scale=1.0 / math.sqrt(head_dim)
        )
    }


def flops(head_dim: int, sizes) -> int:
    return 4 * sizes["batch"] * sizes["heads"] * sizes["seq_q"] * sizes["seq_kv"] * head_dim


def bytes_moved(abi_list, sizes) -> int:
    return abi_bytes(abi_list, sizes)
