"""Non-causal attention, head_dim 64 (LTX-Video, SD/SDXL)."""

from __future__ import annotations

from kernel_skills.bench.problems import _attention

NAME = "attention_hd64"
HEAD_DIM = 64
DESCRIPTION = (
    "out = softmax(q k^T * scale) v, non-causal; q[batch, heads, seq_q, 64], k, v[batch, heads, seq_kv, 64], "
    "out like q; scale = 1/sqrt(64) (bf16)"
)
ABI = _attention.abi(HEAD_DIM)
SHAPES = {
    "ltx": [{"batch": 2, "heads": 32, "seq_q": 7392, "seq_kv": 7392}],
    "sdxl": [{"batch": 2, "heads": 10, "seq_q": 4096, "seq_kv": 4096}],
    "ragged": [{"batch": 1, "heads": 2, "seq_q": 127, "seq_kv": 127}],
}
TOLERANCE = {"bf16": (2e-2, 2e-2)}
EMULATOR_SHAPES = [{"batch": 1, "heads": 2, "seq_q": 127, "seq_kv": 127}]  # partial query and key tiles


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
