"""H100 reference kernels for diffusers models (bf16): norms, activations, RoPE, attention.

Built with Hugging Face kernel-builder; load with ``kernels.get_kernel(...)``. Every function
takes contiguous bf16 CUDA tensors (RoPE's cos/sin tables are float32) and returns a new tensor
unless ``out`` is given.
"""

from __future__ import annotations

import math

import torch

from ._ops import ops

__all__ = [
    "attention",
    "geglu",
    "gelu_tanh",
    "layernorm_modulate",
    "rmsnorm",
    "rmsnorm_noweight",
    "rope",
]


def rmsnorm(
    x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6, out: torch.Tensor | None = None
) -> torch.Tensor:
    """``x * rsqrt(mean(x**2, -1) + eps) * weight`` over the last dimension (a multiple of 8)."""
    out = torch.empty_like(x) if out is None else out
    ops.rmsnorm(out, x, weight, eps)
    return out


def rmsnorm_noweight(x: torch.Tensor, eps: float = 1e-6, out: torch.Tensor | None = None) -> torch.Tensor:
    """RMSNorm without a weight (Flux q/k norm style), last dimension a multiple of 8."""
    out = torch.empty_like(x) if out is None else out
    ops.rmsnorm_noweight(out, x, eps)
    return out


def layernorm_modulate(
    x: torch.Tensor,
    scale: torch.Tensor,
    shift: torch.Tensor,
    eps: float = 1e-6,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """``layer_norm(x, no affine) * (1 + scale[:, None]) + shift[:, None]``.

    x is [B, T, D]; scale and shift are [B, D].
    """
    out = torch.empty_like(x) if out is None else out
    ops.layernorm_modulate(out, x, scale, shift, eps)
    return out


def gelu_tanh(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``torch.nn.functional.gelu(x, approximate="tanh")``."""
    out = torch.empty_like(x) if out is None else out
    ops.gelu_tanh(out, x)
    return out


def geglu(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``h, g = x.chunk(2, -1); h * gelu(g)`` with the exact (erf) GELU."""
    if out is None:
        out = torch.empty((*x.shape[:-1], x.shape[-1] // 2), dtype=x.dtype, device=x.device)
    ops.geglu(out, x)
    return out


def rope(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotary embedding on interleaved pairs; q, k are [B, H, S, D], cos/sin float32 [S, D/2]."""
    q_out = torch.empty_like(q)
    k_out = torch.empty_like(k)
    ops.rope(q_out, k_out, q, k, cos, sin)
    return q_out, k_out


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    """Non-causal ``softmax(q k^T * scale) v`` for [B, H, S, D] tensors, D = 64 or 128."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    out = torch.empty_like(q)
    ops.attention(out, q, k, v, scale)
    return out
