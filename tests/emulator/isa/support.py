"""What the ISA coverage tests share: one launch of a kernel ``k(const u32* a, u32* out, int n)`` on
the PTX engine with raw input words, and exact rounding of a rational to the binary float formats."""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Any

import numpy as np
import torch
from tests.shared_runtime import RUNTIME

from kernel_skills.bench.launch import Launch
from kernel_skills.bench.spec import Pointer, Problem, Scalar
from kernel_skills.emulator.harness import EmulatedKernel, emulated_kernel

PRELUDE = r"""
#include <cuda_fp16.h>
#include <cuda_bf16.h>
typedef unsigned int u32;
typedef unsigned long long u64;
"""
SIGNATURE = 'extern "C" __global__ void k(const u32* __restrict__ in, u32* __restrict__ out, int n)'


def _none(*_: Any) -> Any:
    return {}


PROBLEM = Problem(
    name="isa",
    description="raw words in, raw words out",
    abi=(Pointer("a", "i32", ("n",)), Pointer("out", "i32", ("m",), output=True), Scalar("n", "int")),
    shapes={},
    tolerance={},
    make_inputs=_none,
    reference=_none,
    torch_op=_none,
    flops=lambda _: 0,
    bytes_moved=lambda _: 0,
)


@functools.cache
def compiled(source: str) -> EmulatedKernel:
    return emulated_kernel(source, "k", toolchain=RUNTIME.toolchain)


def kernel_source(body: str, prelude: str = "") -> str:
    return f"{PRELUDE}\n{prelude}\n{SIGNATURE} {{\n{body}\n}}\n"


def run(
    source: str,
    words: np.ndarray,
    out_words: int,
    *,
    block: int | tuple[int, int, int] = 32,
    grid: int = 1,
    shared: int = 0,
    fill: int = 0,
) -> np.ndarray:
    """``source``'s kernel ``k`` launched once on the engine with ``a`` = ``words`` (any dtype, viewed
    as 32-bit words) and ``out`` = ``out_words`` words of ``fill``; ``out`` back as uint32."""
    kernel = compiled(source)
    a = np.ascontiguousarray(words).view(np.uint32).copy()
    if a.size == 0:
        a = np.zeros(1, np.uint32)
    tensors = {
        "a": torch.from_numpy(a.view(np.int32).copy()),
        "out": torch.from_numpy(np.full(out_words, fill, np.uint32).view(np.int32)),
    }
    blocks = block if isinstance(block, tuple) else (block, 1, 1)
    kernel.launch(PROBLEM, {"n": int(a.size), "m": out_words}, Launch((grid, 1, 1), blocks, shared), tensors)
    return tensors["out"].numpy().view(np.uint32).copy()


FORMATS = {"f32": (23, -126, 127), "f16": (10, -14, 15), "bf16": (7, -126, 127), "f64": (52, -1022, 1023)}


def round_to(q: Fraction | int | float, fmt: str, mode: str = "rn") -> float:
    """``q`` rounded once to ``fmt`` (f32, f16, bf16) by ``mode`` (rn ties to even, rz, rm, rp)."""
    if isinstance(q, float) and not math.isfinite(q):
        return q
    q = Fraction(q)
    if q == 0:
        return 0.0
    man, emin, emax = FORMATS[fmt]
    sign, q = (-1 if q < 0 else 1), abs(q)
    e = q.numerator.bit_length() - q.denominator.bit_length()
    while Fraction(2) ** e > q:
        e -= 1
    while Fraction(2) ** (e + 1) <= q:
        e += 1
    ulp = Fraction(2) ** (max(e, emin) - man)
    n = q / ulp
    fl = math.floor(n)
    rem = n - fl
    if mode == "rn":
        up = rem > Fraction(1, 2) or (rem == Fraction(1, 2) and fl % 2 == 1)
    elif mode == "rz":
        up = False
    else:
        up = rem > 0 and ((mode == "rp") == (sign > 0))
    value = (fl + up) * ulp
    if value == 0:
        return math.copysign(0.0, sign)
    largest = (2 - Fraction(2) ** -man) * Fraction(2) ** emax
    if value > largest:
        toward = mode == "rz" or (mode == "rm" and sign > 0) or (mode == "rp" and sign < 0)
        return sign * float(largest) if toward else sign * math.inf
    return sign * float(value)


def bits(values: Any, fmt: str) -> np.ndarray:
    """Python floats -> their bit patterns in ``fmt`` (uint32 for f32, uint16 for f16/bf16)."""
    t = torch.tensor(np.asarray(values, dtype=np.float64))
    dtype = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[fmt]
    view = {"f32": torch.int32, "f16": torch.int16, "bf16": torch.int16}[fmt]
    raw = t.to(dtype).view(view).numpy()
    return raw.view(np.uint32) if fmt == "f32" else raw.view(np.uint16)


def from_bits(raw: Any, fmt: str) -> np.ndarray:
    """Bit patterns (uint32/uint16) -> float64 values of ``fmt``."""
    arr = np.asarray(raw)
    if fmt == "f32":
        return arr.astype(np.uint32).view(np.float32).astype(np.float64)
    if fmt == "f16":
        return arr.astype(np.uint16).view(np.float16).astype(np.float64)
    t = torch.from_numpy(arr.astype(np.uint16).view(np.int16).copy()).view(torch.bfloat16)
    return t.double().numpy()
