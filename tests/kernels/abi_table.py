"""The kernel ABIs exactly as the contract table states them (CONTRACTS.md, "Problems and their
kernel ABIs"). The problem modules are the source of truth when present; this copy lets the
ABI test run, and cross-check the modules, before and after they exist."""

from __future__ import annotations

import re

_ATTENTION = (
    "const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, __nv_bfloat16* out, "
    "int batch, int heads, int seq_q, int seq_kv, float scale"
)

CONTRACT_ABIS: dict[str, str] = {
    "rmsnorm": (
        "const __nv_bfloat16* x, const __nv_bfloat16* weight, __nv_bfloat16* out, "
        "int rows, int dim, float eps"
    ),
    "rmsnorm_noweight": "const __nv_bfloat16* x, __nv_bfloat16* out, int rows, int dim, float eps",
    "layernorm_modulate": (
        "const __nv_bfloat16* x, const __nv_bfloat16* scale, const __nv_bfloat16* shift, __nv_bfloat16* out, "
        "int batch, int tokens, int dim, float eps"
    ),
    "gelu_tanh": "const __nv_bfloat16* x, __nv_bfloat16* out, int n",
    "geglu": "const __nv_bfloat16* x, __nv_bfloat16* out, int rows, int dim",
    "rope": (
        "const __nv_bfloat16* q, const __nv_bfloat16* k, const float* cos, const float* sin, "
        "__nv_bfloat16* q_out, __nv_bfloat16* k_out, int batch, int heads, int seq, int head_dim"
    ),
    "attention_hd64": _ATTENTION,
    "attention_hd128": _ATTENTION,
}

MEMORY_BOUND = ("rmsnorm", "rmsnorm_noweight", "layernorm_modulate", "gelu_tanh", "geglu", "rope")


def split_params(params: str) -> list[str]:
    """'const T* a,  int n' -> ['const T* a', 'int n'] with whitespace normalised."""
    return [" ".join(re.sub(r"\s*\*\s*", "* ", part).split()) for part in params.split(",")]
