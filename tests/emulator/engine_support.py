"""What the engine tests share: a gelu_tanh-shaped kernel maker, the NVRTC compile to a ready kernel,
and one confined launch of it that returns the engine's report or None with the outputs decoded."""

from __future__ import annotations

from typing import Any

import torch
from tests.shared_runtime import RUNTIME

from kernel_skills.bench.launch import Launch
from kernel_skills.bench.registry import load_registry
from kernel_skills.bench.spec import torch_dtype
from kernel_skills.emulator.harness import EmulatedKernel, emulated_kernel
from kernel_skills.errors import EmulatorFault

SIGNATURE = 'extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n)'
REGISTRY = load_registry(use_env=False)

__all__ = ["REGISTRY", "SIGNATURE", "emulated_kernel", "gelu_kernel", "launch", "line_of", "run_gelu"]


def gelu_kernel(body: str, prelude: str = "") -> str:
    """A kernel with gelu_tanh's ABI (const bf16* x, bf16* out, int n) around ``body``: the body
    starts at line 4 when the prelude is one line (``#include``, prelude, signature)."""
    return f"#include <cuda_bf16.h>\n{prelude}\n{SIGNATURE} {{\n{body}\n}}\n"


def line_of(source: str, needle: str) -> int:
    """The one line of ``source`` that contains ``needle`` (1-based)."""
    [line] = [i for i, text in enumerate(source.splitlines(), 1) if needle in text]
    return line


def launch(
    kernel: EmulatedKernel,
    problem_name: str,
    sizes: dict[str, int],
    geometry: Launch,
    tensors: dict[str, Any] | None = None,
    *,
    schedule: int = 0,
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """One confined engine run of ``kernel`` on ``problem_name``'s ABI: (the engine's report dict on a
    finding that stops the launch, or None with the outputs decoded into the tensors; the tensors).
    Without ``tensors``, fresh inputs (seed 5) and NaN-poisoned outputs. A spent budget raises
    Timeout, an unsupported instruction EmulatorUnsupported, as the harness does."""
    problem = REGISTRY.get(problem_name)
    if tensors is None:
        tensors = dict(problem.make_inputs(sizes, torch.Generator().manual_seed(5), "cpu"))
        for p in problem.outputs:
            shape = problem.tensor_shape(p, sizes)
            tensors[p.name] = torch.full(shape, float("nan"), dtype=torch_dtype(p.dtype))
    try:
        kernel.launch(problem, sizes, geometry, tensors, schedule=schedule)
    except EmulatorFault as fault:
        return fault.report, tensors
    return None, tensors


def run_gelu(source: str, n: int = 300, block: int = 256, **compile_args: Any) -> dict[str, Any] | None:
    """``source`` (gelu_tanh's ABI) compiled by NVRTC and launched once over ``n`` elements."""
    kernel = emulated_kernel(source, "gelu_tanh", **compile_args, toolchain=RUNTIME.toolchain)
    geometry = Launch(grid=(-(-n // block), 1, 1), block=(block, 1, 1), shared_mem=0)
    report, _ = launch(kernel, "gelu_tanh", {"n": n}, geometry)
    return report
