"""Non-causal attention, head_dim 128 (Flux)."""

from __future__ import annotations

from kernel_skills.bench.problems import _attention

NAME = "attention_hd128"
HEAD_DIM = 128
DESCRIPTION = (
    "out = softmax(q k^T * scale) v, non-causal; q[batch, heads, seq_q, 128], "
    "k, v[batch, heads, seq_kv, 128], "
    "out like q; scale = 1/sqrt(128) (bf16)"
)
ABI = _attention.abi(HEAD_DIM)
SHAPES = {
    "flux": [{"batch": 2, "heads": 24, "seq_q": 4608, "seq_kv": 4608}],
    "ragged": [
        {"batch": 1, "heads": 2, "seq_q": 129, "seq_kv": 129},
        {"batch": 1, "heads": 1, "seq_q": 127, "seq_kv": 200},
    ],
}
TOLERANCE = {"bf16": (2e-2, 2e-2)}
EMULATOR_SHAPES = [
    {"batch": 1, "heads": 2, "seq_q": 129, "seq_kv": 129},  # one query row and one key past a tile
    {"batch": 1, "heads": 1, "seq_q": 127, "seq_kv": 200},  # the masked last key tile
]


def make_inputs(sizes, generator, device):
    return _attention.make_inputs(HEAD_DIM, sizes, generator, device)


def reference(inputs, sizes):
    return _attention.reference(HEAD_DIM, inputs)


def torch_op(inputs, sizes):
    return _attention.torch_op(HEAD_DIM, inputs)


def flops(sizes):
    return _attention.flops(HEAD_DIM, sizes)


def bytes_moved(sizes):
    return _attention.bytes_moved(ABI, sizes)
