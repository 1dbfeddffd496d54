"""ISA coverage: each construct NVRTC emits runs on the PTX engine with the VALUES the PTX ISA
defines, bit-exact wherever the GPU is exact (integer and bit operations, conversions with every
rounding mode, IEEE add/mul/fma/div/sqrt in f32, f64, f16, bf16 and their x2 forms, .ftz/.sat/.relu,
atomics, warp collectives, cp.async, ldmatrix/stmatrix, mma.sync) and within the PTX ISA's documented
error bound for the MUFU ``.approx`` functions (ex2, lg2, rsqrt, rcp, sqrt, sin, cos, tanh, div).

Every kernel has the signature ``k(const u32* in, u32* out, int n)``: raw input words in, raw result
words out (tests/emulator/isa/support.py launches it once on the engine), and each test computes the
expected words from the ISA's definition: exact rationals rounded once (``round_to``), numpy/torch
where they are IEEE-exact, Python integers for the integer ops. One kernel per area computes many
operations; each operation is its own test (a column of the area's output), so a wrong one names
itself. Left open by the ISA and so not compared bit for bit: NaN payloads (any NaN matches a NaN) and
the sign of a zero from min/max of +0 and -0."""

from __future__ import annotations

import functools
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from tests.shared_runtime import RUNTIME

from .conftest import needs_emulator
from .isa.support import bits, from_bits, kernel_source, round_to, run

pytestmark = needs_emulator
M32 = 0xFFFFFFFF
RNG = np.random.default_rng(19)


def s32(x: int) -> int:
    x &= M32
    return x - (1 << 32) if x >> 31 else x


def trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _columns(ops: list) -> str:  # type: ignore[type-arg]
    return "\n".join(f"  out[i * {len(ops)} + {j}] = (u32)({op[1]});" for j, op in enumerate(ops))


# ---------------------------------------------------------------- integer and bit operations
INT_PRELUDE = r"""
#define ASM2(name, op) __device__ __noinline__ u32 name(u32 a, u32 b) { u32 r; \
  asm(op " %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b)); return r; }
#define ASM3(name, op) __device__ __noinline__ u32 name(u32 a, u32 b, u32 c) { u32 r; \
  asm(op " %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c)); return r; }
ASM2(shl32, "shl.b32") ASM2(shr_u32, "shr.u32") ASM2(shr_s32, "shr.s32")
ASM3(bfe_u32, "bfe.u32") ASM3(bfe_s32, "bfe.s32") ASM2(mulhi_u32, "mul.hi.u32") ASM2(mulhi_s32, "mul.hi.s32")
ASM3(madhi_u32, "mad.hi.u32") ASM3(prmt32, "prmt.b32")
__device__ u32 shift64(u32 a, u32 b, u32 k) { u64 r, x = (u64)a << 32 | b;
  if (k == 0) asm("shl.b64 %0, %1, %2;" : "=l"(r) : "l"(x), "r"(b));
  else if (k == 1) asm("shr.u64 %0, %1, %2;" : "=l"(r) : "l"(x), "r"(b));
  else asm("shr.s64 %0, %1, %2;" : "=l"(r) : "l"(x), "r"(b & 127));
  return (u32)(r >> 32) ^ (u32)r; }
__device__ u32 bfind(u32 a, int k) { u32 r;
  if (k == 0) asm("bfind.u32 %0, %1;" : "=r"(r) : "r"(a));
  else if (k == 1) asm("bfind.s32 %0, %1;" : "=r"(r) : "r"(a));
  else asm("bfind.shiftamt.u32 %0, %1;" : "=r"(r) : "r"(a));
  return r; } ASM3(madlo_s32, "mad.lo.s32")
__device__ u32 bfi32(u32 a, u32 b, u32 c) { u32 r;
  asm("bfi.b32 %0, %1, %2, %3, %4;" : "=r"(r) : "r"(a), "r"(b), "r"(c & 0xff), "r"(c >> 8)); return r; }
#define LOP3(lut) __device__ u32 lop3_##lut(u32 a, u32 b, u32 c) { u32 r; \
  asm("lop3.b32 %0, %1, %2, %3, " #lut ";" : "=r"(r) : "r"(a), "r"(b), "r"(c)); return r; }
LOP3(0x96) LOP3(0xe8) LOP3(0xca) LOP3(0x1e) LOP3(0x01)
__device__ u32 setp2(u32 a, u32 b, u32 c, bool use_or) { u32 r;
  if (use_or) asm("{ .reg .pred p, q, r; .reg .u32 t; setp.ne.u32 r, %3, 0; setp.lt.or.s32 p|q, %1, %2, r;"
      " selp.u32 %0, 1, 0, p; selp.u32 t, 2, 0, q; or.b32 %0, %0, t; }"
      : "=r"(r) : "r"(a), "r"(b), "r"(c & 1));
  else asm("{ .reg .pred p, q, r; .reg .u32 t; setp.ne.u32 r, %3, 0; setp.hi.and.u32 p|q, %1, %2, r;"
      " selp.u32 %0, 1, 0, p; selp.u32 t, 2, 0, q; or.b32 %0, %0, t; }"
      : "=r"(r) : "r"(a), "r"(b), "r"(c & 1));
  return r; }
__device__ u32 cvt_sat(u32 a, int which) { u32 r; unsigned short h;
  switch (which) {
  case 0: asm("cvt.sat.s16.s32 %0, %1;" : "=h"(h) : "r"(a)); return (u32)(int)(short)h;
  case 1: asm("cvt.sat.u16.s32 %0, %1;" : "=h"(h) : "r"(a)); return h;
  case 2: asm("cvt.sat.u32.s32 %0, %1;" : "=r"(r) : "r"(a)); return r;
  case 3: asm("cvt.sat.s32.u32 %0, %1;" : "=r"(r) : "r"(a)); return r;
  case 4: asm("cvt.s16.s32 %0, %1;" : "=h"(h) : "r"(a)); return h;
  case 5: asm("cvt.sat.s8.s32 %0, %1;" : "=r"(r) : "r"(a)); return r;
  default: asm("cvt.sat.u8.s32 %0, %1;" : "=r"(r) : "r"(a)); return r;
  } }
"""


def _bfe(a: int, pos: int, ln: int, signed: bool) -> int:
    pos, ln = pos & 0xFF, ln & 0xFF
    sbit = 0 if (not signed or ln == 0) else (a >> min(pos + ln - 1, 31)) & 1
    return sum((((a >> (pos + i)) & 1) if (i < ln and pos + i <= 31) else sbit) << i for i in range(32))


def _bfi(a: int, b: int, pos: int, ln: int) -> int:
    f = b
    for i in range(ln):
        if pos + i > 31:
            break
        f = (f & ~(1 << (pos + i))) | (((a >> i) & 1) << (pos + i))
    return f & M32


def _prmt(a: int, b: int, c: int) -> int:
    tmp, d = (b << 32) | a, 0
    for n in range(4):
        sel = (c >> (4 * n)) & 0xF
        byte = (tmp >> (8 * (sel & 7))) & 0xFF
        if sel & 8:
            byte = 0xFF if byte & 0x80 else 0
        d |= byte << (8 * n)
    return d


def _lop3(a: int, b: int, c: int, lut: int) -> int:
    return sum(
        ((lut >> (((a >> i) & 1) * 4 + ((b >> i) & 1) * 2 + ((c >> i) & 1))) & 1) << i for i in range(32)
    )


def _dp4a(a: int, b: int, c: int, signed: bool) -> int:
    def byte(x: int, i: int) -> int:
        v = (x >> (8 * i)) & 0xFF
        return v - 256 if signed and v & 0x80 else v

    return (c + sum(byte(a, i) * byte(b, i) for i in range(4))) & M32


def _s64(x: int) -> int:
    x &= 2**64 - 1
    return x - 2**64 if x >> 63 else x


def _fold64(x: int) -> int:
    return ((x >> 32) ^ x) & M32


def _dp2a(a: int, b: int, c: int, sel: int, signed: bool = True) -> int:
    def part(x: int, shift: int, bits_: int) -> int:
        v = (x >> shift) & ((1 << bits_) - 1)
        return v - (1 << bits_) if signed and v >> (bits_ - 1) else v

    return (c + sum(part(a, 16 * k, 16) * part(b, 8 * (sel + k), 8) for k in range(2))) & M32


def _clamp(x: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, x))


def _setp2(a: int, b: int, c: int, use_or: bool) -> int:
    r = bool(c & 1)
    if use_or:
        t = s32(a) < s32(b)
        return int(t or r) | (int((not t) or r) << 1)
    t = a > b
    return int(t and r) | (int((not t) and r) << 1)


def _divisor(b: int) -> int:
    return (b | 1) & M32


INT_OPS: list[tuple[str, str, object]] = [
    ("add", "a + b", lambda a, b, c: a + b),
    ("sub", "a - b", lambda a, b, c: a - b),
    ("mul.lo", "a * b", lambda a, b, c: a * b),
    ("mul.hi.u32", "mulhi_u32(a, b)", lambda a, b, c: (a * b) >> 32),
    ("mul.hi.s32", "mulhi_s32(a, b)", lambda a, b, c: (s32(a) * s32(b)) >> 32),
    ("umulhi", "__umulhi(a, b)", lambda a, b, c: (a * b) >> 32),
    ("mulhi", "__mulhi((int)a, (int)b)", lambda a, b, c: (s32(a) * s32(b)) >> 32),
    ("mul.wide.u32.lo", "(u64)a * b", lambda a, b, c: a * b),
    ("mul.wide.u32.hi", "((u64)a * b) >> 32", lambda a, b, c: (a * b) >> 32),
    ("mul.wide.s32.lo", "(long long)(int)a * (int)b", lambda a, b, c: s32(a) * s32(b)),
    ("mul.wide.s32.hi", "((long long)(int)a * (int)b) >> 32", lambda a, b, c: (s32(a) * s32(b)) >> 32),
    (
        "mul64.hi",
        "__umul64hi((u64)a << 32 | b, (u64)c << 32 | a)",
        lambda a, b, c: ((a << 32 | b) * (c << 32 | a)) >> 64,
    ),
    ("mad.lo", "madlo_s32(a, b, c)", lambda a, b, c: a * b + c),
    ("mad.hi.u32", "madhi_u32(a, b, c)", lambda a, b, c: ((a * b) >> 32) + c),
    ("div.u32", "a / (b | 1)", lambda a, b, c: a // _divisor(b)),
    ("rem.u32", "a % (b | 1)", lambda a, b, c: a % _divisor(b)),
    ("div.s32", "(int)a / (int)(b | 1)", lambda a, b, c: trunc_div(s32(a), s32(_divisor(b)))),
    (
        "rem.s32",
        "(int)a % (int)(b | 1)",
        lambda a, b, c: s32(a) - trunc_div(s32(a), s32(_divisor(b))) * s32(_divisor(b)),
    ),
    ("div.u64", "(u32)(((u64)a << 20 | c) / (u64)(b | 1))", lambda a, b, c: ((a << 20) | c) // _divisor(b)),
    ("shl.b32", "shl32(a, b & 63)", lambda a, b, c: a << min(b & 63, 32)),
    ("shl.b32.huge", "shl32(a, b)", lambda a, b, c: a << min(b, 32)),
    ("shr.u32", "shr_u32(a, b & 63)", lambda a, b, c: a >> min(b & 63, 32)),
    ("shr.s32", "shr_s32(a, b & 63)", lambda a, b, c: s32(a) >> min(b & 63, 32)),
    ("shr.s32.huge", "shr_s32(a, b)", lambda a, b, c: s32(a) >> min(b, 32)),
    ("bfe.u32", "bfe_u32(a, b, c)", lambda a, b, c: _bfe(a, b, c, False)),
    ("bfe.s32", "bfe_s32(a, b, c)", lambda a, b, c: _bfe(a, b, c, True)),
    ("bfe.s32.small", "bfe_s32(a, b & 31, c & 15)", lambda a, b, c: _bfe(a, b & 31, c & 15, True)),
    ("bfi", "bfi32(a, b, c)", lambda a, b, c: _bfi(a, b, c & 0xFF, (c >> 8) & 0xFF)),
    ("byte_perm", "__byte_perm(a, b, c)", lambda a, b, c: _prmt(a, b, c & 0x7777)),
    ("prmt.b32", "prmt32(a, b, c)", lambda a, b, c: _prmt(a, b, c & 0xFFFF)),
    ("lop3.0x96", "lop3_0x96(a, b, c)", lambda a, b, c: _lop3(a, b, c, 0x96)),
    ("lop3.0xe8", "lop3_0xe8(a, b, c)", lambda a, b, c: _lop3(a, b, c, 0xE8)),
    ("lop3.0xca", "lop3_0xca(a, b, c)", lambda a, b, c: _lop3(a, b, c, 0xCA)),
    ("lop3.0x1e", "lop3_0x1e(a, b, c)", lambda a, b, c: _lop3(a, b, c, 0x1E)),
    ("lop3.0x01", "lop3_0x01(a, b, c)", lambda a, b, c: _lop3(a, b, c, 0x01)),
    ("and.or.xor.not", "((a & b) | c) ^ ~b", lambda a, b, c: ((a & b) | c) ^ (~b & M32)),
    ("shf.l.wrap", "__funnelshift_l(a, b, c)", lambda a, b, c: ((b << 32 | a) << (c & 31)) >> 32),
    ("shf.r.wrap", "__funnelshift_r(a, b, c)", lambda a, b, c: (b << 32 | a) >> (c & 31)),
    ("shf.l.clamp", "__funnelshift_lc(a, b, c)", lambda a, b, c: ((b << 32 | a) << min(c, 32)) >> 32),
    ("shf.r.clamp", "__funnelshift_rc(a, b, c)", lambda a, b, c: (b << 32 | a) >> min(c, 32)),
    ("mul24.lo.s32", "__mul24((int)a, (int)b)", lambda a, b, c: s32(a << 8) // 256 * (s32(b << 8) // 256)),
    ("mul24.lo.u32", "__umul24(a, b)", lambda a, b, c: (a & 0xFFFFFF) * (b & 0xFFFFFF)),
    ("sad.s32", "__sad((int)a, (int)b, c)", lambda a, b, c: abs(s32(a) - s32(b)) + c),
    ("sad.u32", "__usad(a, b, c)", lambda a, b, c: abs(a - b) + c),
    ("hadd.s32", "__hadd((int)a, (int)b)", lambda a, b, c: (s32(a) + s32(b)) >> 1),
    ("rhadd.u32", "__urhadd(a, b)", lambda a, b, c: (a + b + 1) >> 1),
    (
        "add.cc.u64.lo",
        "(u32)((((u64)a << 32) | b) + (((u64)c << 32) | a))",
        lambda a, b, c: ((a << 32) | b) + ((c << 32) | a),
    ),
    (
        "add.cc.u64.hi",
        "(u32)(((((u64)a << 32) | b) + (((u64)b << 32) | c)) >> 32)",
        lambda a, b, c: (((a << 32) | b) + ((b << 32) | c)) >> 32,
    ),
    (
        "sub.u64.hi",
        "(u32)(((((u64)a << 32) | b) - (((u64)b << 32) | c)) >> 32)",
        lambda a, b, c: (((a << 32) | b) - ((b << 32) | c)) >> 32,
    ),
    (
        "mul.lo.u64.hi",
        "(u32)(((((u64)a << 32) | b) * (((u64)c << 32) | a)) >> 32)",
        lambda a, b, c: (((a << 32) | b) * ((c << 32) | a)) >> 32,
    ),
    (
        "shr.s64",
        "(u32)((long long)(((u64)a << 32) | b) >> (c & 63))",
        lambda a, b, c: (s32(a) << 32 | b) >> (c & 63),
    ),
    ("shl.b64", "shift64(a, b, 0)", lambda a, b, c: _fold64(((a << 32 | b) << min(b, 64)) & (2**64 - 1))),
    ("shr.u64", "shift64(a, b, 1)", lambda a, b, c: _fold64((a << 32 | b) >> min(b, 64))),
    (
        "shr.s64",
        "shift64(a, b, 2)",
        lambda a, b, c: _fold64(((s32(a) << 32 | b) >> min(b & 127, 64)) & (2**64 - 1)),
    ),
    (
        "mul.hi.s64",
        "(u32)__mul64hi((long long)((u64)a << 32 | b), (long long)((u64)c << 32 | a))",
        lambda a, b, c: (_s64(a << 32 | b) * _s64(c << 32 | a)) >> 64,
    ),
    (
        "div.s64",
        "(u32)((long long)((u64)a << 32 | b) / (long long)((u64)(c | 1) << 16))",
        lambda a, b, c: trunc_div(_s64(a << 32 | b), _s64((c | 1) << 16)),
    ),
    (
        "rem.s64",
        "(u32)((long long)((u64)a << 32 | b) % (long long)(((u64)c << 8) | 1))",
        lambda a, b, c: (lambda x, y: x - trunc_div(x, y) * y)(_s64(a << 32 | b), _s64((c << 8) | 1)),
    ),
    ("bfind.u32", "bfind(a, 0)", lambda a, b, c: a.bit_length() - 1 if a else M32),
    (
        "bfind.s32",
        "bfind(a, 1)",
        lambda a, b, c: (a ^ M32 if a >> 31 else a).bit_length() - 1 if a not in (0, M32) else M32,
    ),
    ("bfind.shiftamt", "bfind(a, 2)", lambda a, b, c: 32 - a.bit_length() if a else M32),
    ("dp2a.lo", "__dp2a_lo((int)a, (int)b, (int)c)", lambda a, b, c: _dp2a(a, b, c, 0)),
    ("dp2a.hi", "__dp2a_hi(a, b, c)", lambda a, b, c: _dp2a(a, b, c, 2, signed=False)),
    ("popc", "__popc(a)", lambda a, b, c: bin(a).count("1")),
    ("popc.b64", "__popcll((u64)a << 32 | b)", lambda a, b, c: bin(a << 32 | b).count("1")),
    ("clz", "__clz(a)", lambda a, b, c: 32 - a.bit_length()),
    ("clz.b64", "__clzll((u64)a << 32 | b)", lambda a, b, c: 64 - (a << 32 | b).bit_length()),
    ("brev", "__brev(a)", lambda a, b, c: int(f"{a:032b}"[::-1], 2)),
    (
        "brev.b64.hi",
        "__brevll((u64)a << 32 | b) >> 32",
        lambda a, b, c: int(f"{a << 32 | b:064b}"[::-1], 2) >> 32,
    ),
    ("bfind", "__ffs(a)", lambda a, b, c: (a & -a).bit_length()),
    ("dp4a.s32", "__dp4a((int)a, (int)b, (int)c)", lambda a, b, c: _dp4a(a, b, c, True)),
    ("dp4a.u32", "__dp4a(a, b, c)", lambda a, b, c: _dp4a(a, b, c, False)),
    ("min.s32", "min((int)a, (int)b)", lambda a, b, c: min(s32(a), s32(b))),
    ("max.s32", "max((int)a, (int)b)", lambda a, b, c: max(s32(a), s32(b))),
    ("min.u32", "min(a, b)", lambda a, b, c: min(a, b)),
    ("max.u32", "max(a, b)", lambda a, b, c: max(a, b)),
    ("abs.s32", "abs((int)a)", lambda a, b, c: abs(s32(a))),
    ("selp", "(c & 1) ? a : b", lambda a, b, c: a if c & 1 else b),
    ("setp.and.2dst", "setp2(a, b, c, false)", lambda a, b, c: _setp2(a, b, c, False)),
    ("setp.or.2dst", "setp2(a, b, c, true)", lambda a, b, c: _setp2(a, b, c, True)),
    ("cvt.sat.s16.s32", "cvt_sat(a, 0)", lambda a, b, c: _clamp(s32(a), -32768, 32767)),
    ("cvt.sat.u16.s32", "cvt_sat(a, 1)", lambda a, b, c: _clamp(s32(a), 0, 65535)),
    ("cvt.sat.u32.s32", "cvt_sat(a, 2)", lambda a, b, c: max(s32(a), 0)),
    ("cvt.sat.s32.u32", "cvt_sat(a, 3)", lambda a, b, c: min(a, 0x7FFFFFFF)),
    ("cvt.s16.s32", "cvt_sat(a, 4)", lambda a, b, c: a & 0xFFFF),
    ("cvt.sat.s8.s32", "cvt_sat(a, 5)", lambda a, b, c: _clamp(s32(a), -128, 127)),
    ("cvt.sat.u8.s32", "cvt_sat(a, 6)", lambda a, b, c: _clamp(s32(a), 0, 255)),
    (
        "char.short.casts",
        "(int)(signed char)a + (int)(short)b + (unsigned char)c",
        lambda a, b, c: (
            s32(a & 0xFF if a & 0x80 == 0 else (a & 0xFF) - 256)
            + ((b & 0xFFFF) - 65536 if b & 0x8000 else b & 0xFFFF)
            + (c & 0xFF)
        ),
    ),
]
EDGES = [0, 1, 2, 7, 31, 32, 33, 63, 64, 255, 0x80, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
         0x80000001, 0xFFFFFFFE, 0xFFFFFFFF, 0x12345678, 0x9ABCDEF0, 0x0F0F0F0F, 0xDEADBEEF]  # fmt: skip


def _int_inputs() -> np.ndarray:
    triples = [(a, b, c) for a in EDGES[::3] for b in EDGES[1::4] for c in (0, 0x3210, 0x1F05, 0x8B4A)]
    triples += [tuple(int(x) for x in RNG.integers(0, 1 << 32, 3)) for _ in range(128 - len(triples) % 32)]
    triples = [(a, b, c) for a, b, c in triples if not (a == 0x80000000 and _divisor(b) == M32)]
    triples += [triples[-1]] * (-len(triples) % 32)
    return np.array(triples, np.uint32)


@functools.cache
def _int_results() -> tuple[np.ndarray, np.ndarray]:
    inputs = _int_inputs()
    body = (
        "  const int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
        "  const u32 a = in[3 * i], b = in[3 * i + 1], c = in[3 * i + 2];\n" + _columns(INT_OPS)
    )
    out = run(kernel_source(body, INT_PRELUDE), inputs, len(inputs) * len(INT_OPS), grid=len(inputs) // 32)
    return inputs, out.reshape(len(inputs), len(INT_OPS))


@pytest.mark.parametrize("column", range(len(INT_OPS)), ids=[op[0] for op in INT_OPS])
def test_integer_and_bit_operations_are_exact(column: int) -> None:
    inputs, out = _int_results()
    name, _, fn = INT_OPS[column]
    want = [fn(int(a), int(b), int(c)) & M32 for a, b, c in inputs]  # type: ignore[operator]
    bad = [(tuple(hex(int(x)) for x in inputs[r]), hex(int(out[r, column])), hex(w))
           for r, w in enumerate(want) if int(out[r, column]) != w]  # fmt: skip
    assert not bad, f"{name}: {len(bad)} wrong of {len(want)}, first (a, b, c), got, want: {bad[:3]}"


# ---------------------------------------------------------------- f32 arithmetic and conversions
FLOAT_PRELUDE = r"""
__device__ __forceinline__ float f(u32 x) { return __uint_as_float(x); }
__device__ __forceinline__ u32 u(float x) { return __float_as_uint(x); }
__device__ u32 ftz2(float a, float b, int which) { float r;
  if (which == 0) asm("add.ftz.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  else if (which == 1) asm("mul.ftz.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  else if (which == 2) asm("min.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  else if (which == 3) asm("max.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  else asm("add.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  return u(r); }
__device__ u32 h16(__half x) { return __half_as_ushort(x); }
#define CMPF(c) __device__ u32 cmp_##c(float a, float b) { u32 r; \
  asm("{ .reg .pred p; setp." #c ".f32 p, %1, %2; selp.u32 %0, 1, 0, p; }" \
      : "=r"(r) : "f"(a), "f"(b)); return r; }
CMPF(eq) CMPF(ne) CMPF(lt) CMPF(le) CMPF(gt) CMPF(ge)
CMPF(equ) CMPF(neu) CMPF(ltu) CMPF(leu) CMPF(gtu) CMPF(geu)
CMPF(num) CMPF(nan)
__device__ u32 cmps(float a, float b) {
  return cmp_eq(a, b) | cmp_ne(a, b) << 1 | cmp_lt(a, b) << 2 | cmp_le(a, b) << 3 | cmp_gt(a, b) << 4
    | cmp_ge(a, b) << 5 | cmp_equ(a, b) << 6 | cmp_neu(a, b) << 7 | cmp_ltu(a, b) << 8 | cmp_leu(a, b) << 9
    | cmp_gtu(a, b) << 10 | cmp_geu(a, b) << 11 | cmp_num(a, b) << 12 | cmp_nan(a, b) << 13; }
#define TESTP(c) __device__ u32 testp_##c(float a) { u32 r; \
  asm("{ .reg .pred p; testp." #c ".f32 p, %1; selp.u32 %0, 1, 0, p; }" : "=r"(r) : "f"(a)); return r; }
TESTP(finite) TESTP(infinite) TESTP(number) TESTP(notanumber) TESTP(normal) TESTP(subnormal)
__device__ u32 testps(float a) { return testp_finite(a) | testp_infinite(a) << 1 | testp_number(a) << 2
  | testp_notanumber(a) << 3 | testp_normal(a) << 4 | testp_subnormal(a) << 5; }
__device__ u32 set_lt(float a, float b) {
  u32 r; asm("set.lt.u32.f32 %0, %1, %2;" : "=r"(r) : "f"(a), "f"(b)); return r; }
__device__ __forceinline__ double d(u32 x) { return (double)__uint_as_float(x); }
__device__ __forceinline__ u32 dhi(double x) { return (u32)(__double_as_longlong(x) >> 32); }
__device__ __forceinline__ u32 dlo(double x) { return (u32)__double_as_longlong(x); }
__device__ u32 b16(__nv_bfloat16 x) { return __bfloat16_as_ushort(x); }
"""
F32_EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, -2.5, 3.5, -0.5, 1e-40, -3e-39, 1.1754944e-38,
             3.4028235e38, -3.4028235e38, math.inf, -math.inf, math.nan, 65504.0, 65520.0, 65519.996,
             1 + 2**-11, 1 + 3 * 2**-11, 1 + 2**-8, 1 + 3 * 2**-8, 2**-24, 2**-25, 3 * 2**-26, 6e-8, 2**31,
             -(2**31), 2**32, 4e9, -1e10, 2147483520.0, 0.49999997, 1 + 2**-23, 1 - 2**-24, 16777217.0,
             1e-45, 7.0, 0.1]  # fmt: skip


def _fl(word: int) -> float:
    return float(np.uint32(word).view(np.float32))


def _f(x: object) -> float:
    return float(np.float32(x))


def _exact(q: object, fmt: str = "f32", mode: str = "rn") -> float:
    """A rational (or a non-finite float) rounded once to ``fmt``."""
    return q if isinstance(q, float) else round_to(q, fmt, mode)  # type: ignore[arg-type]


def _arith(fn, *xs: float) -> object:  # type: ignore[no-untyped-def]
    """``fn`` on exact rationals when every input and the float64 result are finite, else float64."""
    try:
        with np.errstate(all="ignore"):
            loose = float(fn(*[np.float64(x) for x in xs]))
        if not all(math.isfinite(x) for x in xs) or not math.isfinite(loose):
            return loose
        exact = fn(*[Fraction(x) for x in xs])
        return loose if exact == 0 else exact  # the sign of an exact zero is IEEE's (float64's)
    except ZeroDivisionError:
        return math.nan


def _to_int(x: float, mode: str, lo: int, hi: int) -> int:
    if math.isnan(x):
        return 0
    if math.isinf(x):
        return hi if x > 0 else lo
    q = Fraction(x)
    v = {"rni": round(q), "rzi": math.trunc(q), "rmi": math.floor(q), "rpi": math.ceil(q)}[mode]
    return max(lo, min(hi, v))


def _r64(x: float, k: float) -> float:
    return float(np.float64(x) * np.float64(k))


def _f64_word(q: object, hi: int) -> int | None:
    if isinstance(q, float):
        if math.isnan(q):
            return None
        value = q
    else:
        value = round_to(q, "f64")  # type: ignore[arg-type]
    return (int(np.float64(value).view(np.uint64)) >> (32 * hi)) & M32


def _cmps(a: float, b: float) -> int:
    un = math.isnan(a) or math.isnan(b)
    ordered = [a == b, a != b and not un, a < b, a <= b, a > b, a >= b]
    unordered = [x or un for x in ordered]
    unordered[1] = a != b  # neu: not equal or unordered
    return sum(int(x) << k for k, x in enumerate(ordered + unordered + [not un, un]))


def _testp(a: float) -> int:
    finite, nan = math.isfinite(a), math.isnan(a)
    normal = finite and abs(a) >= 2**-126
    flags = [finite, math.isinf(a), not nan, nan, normal or a == 0, finite and not normal and a != 0]
    return sum(int(x) << k for k, x in enumerate(flags))


def _h16(word: int) -> float:
    return float(np.uint16(word & 0xFFFF).view(np.float16))


def _ftz(x: float) -> float:
    return math.copysign(0.0, x) if x != 0 and abs(x) < 2**-126 else x


def _fmin(a: float, b: float, nan: bool, big: bool) -> float:
    if math.isnan(a) or math.isnan(b):
        return math.nan if nan or (math.isnan(a) and math.isnan(b)) else (b if math.isnan(a) else a)
    return max(a, b) if big else min(a, b)


def _half_of(x: float, fmt: str, mode: str = "rn") -> float:
    return x if not math.isfinite(x) or x == 0 else round_to(Fraction(x), fmt, mode)


# (name, expression, result format, expected(a, b, c) as a float or int)
FLOAT_OPS: list[tuple[str, str, str, object]] = [
    ("add.rn", "u(f(a) + f(b))", "f32", lambda a, b, c: _exact(_arith(lambda x, y: x + y, a, b))),
    ("sub.rn", "u(f(a) - f(b))", "f32", lambda a, b, c: _exact(_arith(lambda x, y: x - y, a, b))),
    ("mul.rn", "u(f(a) * f(b))", "f32", lambda a, b, c: _exact(_arith(lambda x, y: x * y, a, b))),
    (
        "fma.rn",
        "u(fmaf(f(a), f(b), f(c)))",
        "f32",
        lambda a, b, c: _exact(_arith(lambda x, y, z: x * y + z, a, b, _fl(c))),
    ),
    ("div.rn", "u(f(a) / f(b))", "f32", lambda a, b, c: _exact(_arith(lambda x, y: x / y, a, b))),
    ("rcp.rn", "u(__frcp_rn(f(a)))", "f32", lambda a, b, c: _exact(_arith(lambda x: 1 / x, a))),
    (
        "sqrt.rn",
        "u(sqrtf(f(a)))",
        "f32",
        lambda a, b, c: float(np.sqrt(np.float32(a))) if a >= 0 or a != a else math.nan,
    ),
    (
        "add.rz",
        "u(__fadd_rz(f(a), f(b)))",
        "f32",
        lambda a, b, c: _exact(_arith(lambda x, y: x + y, a, b), mode="rz"),
    ),
    (
        "mul.rm",
        "u(__fmul_rd(f(a), f(b)))",
        "f32",
        lambda a, b, c: _exact(_arith(lambda x, y: x * y, a, b), mode="rm"),
    ),
    (
        "fma.rp",
        "u(__fmaf_ru(f(a), f(b), f(c)))",
        "f32",
        lambda a, b, c: _exact(_arith(lambda x, y, z: x * y + z, a, b, _fl(c)), mode="rp"),
    ),
    (
        "add.ftz",
        "ftz2(f(a), f(b), 0)",
        "f32",
        lambda a, b, c: _ftz(_exact(_arith(lambda x, y: x + y, _ftz(a), _ftz(b)))),
    ),
    (
        "mul.ftz",
        "ftz2(f(a), f(b), 1)",
        "f32",
        lambda a, b, c: _ftz(_exact(_arith(lambda x, y: x * y, _ftz(a), _ftz(b)))),
    ),
    ("add.no_ftz", "ftz2(f(a), f(b), 4)", "f32", lambda a, b, c: _exact(_arith(lambda x, y: x + y, a, b))),
    ("min", "u(fminf(f(a), f(b)))", "f32", lambda a, b, c: _fmin(a, b, False, False)),
    ("max", "u(fmaxf(f(a), f(b)))", "f32", lambda a, b, c: _fmin(a, b, False, True)),
    ("min.NaN", "ftz2(f(a), f(b), 2)", "f32", lambda a, b, c: _fmin(a, b, True, False)),
    ("max.NaN", "ftz2(f(a), f(b), 3)", "f32", lambda a, b, c: _fmin(a, b, True, True)),
    (
        "copysign",
        "u(copysignf(f(a), f(b)))",
        "f32",
        lambda a, b, c: math.copysign(a, b) if a == a else math.nan,
    ),
    ("abs", "u(fabsf(f(a)))", "f32", lambda a, b, c: abs(a)),
    (
        "saturate",
        "u(__saturatef(f(a)))",
        "f32",
        lambda a, b, c: 0.0 if math.isnan(a) else min(max(a, 0.0), 1.0) + 0.0,  # [+0.0, 1.0]
    ),
    (
        "add.sat.f32",
        "u(__saturatef(f(a) + f(b)))",
        "f32",
        lambda a, b, c: _sat(lambda: _exact(_arith(lambda x, y: x + y, a, b)))(),
    ),
    ("neg", "u(-f(a))", "f32", lambda a, b, c: -a),
    ("setp.f32.all_cmps", "cmps(f(a), f(b))", "s32", lambda a, b, c: _cmps(a, b)),
    ("set.lt.u32.f32", "set_lt(f(a), f(b))", "s32", lambda a, b, c: M32 if a < b else 0),
    ("testp.f32", "testps(f(a))", "s32", lambda a, b, c: _testp(a)),
    (
        "isnan.isinf.isfinite",
        "isnan(f(a)) | isinf(f(a)) << 1 | isfinite(f(a)) << 2 | signbit(f(a)) << 3",
        "s32",
        lambda a, b, c: (
            int(math.isnan(a))
            | int(math.isinf(a)) << 1
            | int(math.isfinite(a)) << 2
            | int(math.copysign(1, a) < 0) << 3
        ),
    ),
    (
        "add.f64.hi",
        "dhi(d(a) + d(b) * 1.1)",
        "s32",
        lambda a, b, c: _f64_word(_arith(lambda x, y: x + y, a, _r64(b, 1.1)), 1),
    ),
    (
        "div.rn.f64.hi",
        "dhi(d(a) / (d(b) * 1.1))",
        "s32",
        lambda a, b, c: _f64_word(_arith(lambda x, y: x / y, a, _r64(b, 1.1)), 1),
    ),
    (
        "div.rn.f64.lo",
        "dlo(d(a) / (d(b) * 1.1))",
        "s32",
        lambda a, b, c: _f64_word(_arith(lambda x, y: x / y, a, _r64(b, 1.1)), 0),
    ),
    (
        "fma.rn.f64.lo",
        "dlo(fma(d(a) * 1.1, d(b), d(c)))",
        "s32",
        lambda a, b, c: _f64_word(_arith(lambda x, y, z: x * y + z, _r64(a, 1.1), b, _fl(c)), 0),
    ),
    (
        "sqrt.rn.f64.lo",
        "dlo(sqrt(d(a) * 1.1))",
        "s32",
        lambda a, b, c: (
            int(np.sqrt(np.float64(_r64(a, 1.1))).view(np.uint64)) & M32 if _r64(a, 1.1) >= 0 else None
        ),
    ),
    (
        "cvt.rn.f32.f64",
        "u((float)(d(a) / 3.0))",
        "f32",
        lambda a, b, c: float(np.float32(np.float64(a) / 3.0)),
    ),
    (
        "cvt.rz.f32.f64",
        "u(__double2float_rz(d(a) / 3.0))",
        "f32",
        lambda a, b, c: (
            _exact(Fraction(float(np.float64(a) / 3.0)), mode="rz")
            if math.isfinite(a) and a != 0
            else a / 3.0
        ),
    ),
    (
        "cvt.rni.s32.f64",
        "__double2int_rn(d(a) * 1.1)",
        "s32",
        lambda a, b, c: _to_int(_r64(a, 1.1), "rni", -(2**31), 2**31 - 1),
    ),
    (
        "cvt.rni.s32.f32",
        "__float2int_rn(f(a))",
        "s32",
        lambda a, b, c: _to_int(a, "rni", -(2**31), 2**31 - 1),
    ),
    (
        "cvt.rzi.s32.f32",
        "__float2int_rz(f(a))",
        "s32",
        lambda a, b, c: _to_int(a, "rzi", -(2**31), 2**31 - 1),
    ),
    (
        "cvt.rmi.s32.f32",
        "__float2int_rd(f(a))",
        "s32",
        lambda a, b, c: _to_int(a, "rmi", -(2**31), 2**31 - 1),
    ),
    (
        "cvt.rpi.s32.f32",
        "__float2int_ru(f(a))",
        "s32",
        lambda a, b, c: _to_int(a, "rpi", -(2**31), 2**31 - 1),
    ),
    ("cvt.rni.u32.f32", "__float2uint_rn(f(a))", "s32", lambda a, b, c: _to_int(a, "rni", 0, 2**32 - 1)),
    (
        "cvt.rzi.s64.f32.lo",
        "(u32)__float2ll_rz(f(a))",
        "s32",
        lambda a, b, c: _to_int(a, "rzi", -(2**63), 2**63 - 1),
    ),
    (
        "cvt.rzi.s64.f32.hi",
        "(u32)(__float2ll_rz(f(a)) >> 32)",
        "s32",
        lambda a, b, c: _to_int(a, "rzi", -(2**63), 2**63 - 1) >> 32,
    ),
    (
        "cvt.rni.f32.f32",
        "u(rintf(f(a)))",
        "f32",
        lambda a, b, c: math.copysign(float(round(Fraction(a))), a) if math.isfinite(a) else a,
    ),
    ("cvt.rn.f32.s32", "u(__int2float_rn((int)c))", "f32", lambda a, b, c: round_to(s32(c), "f32", "rn")),
    ("cvt.rz.f32.u32", "u(__uint2float_rz(c))", "f32", lambda a, b, c: round_to(c, "f32", "rz")),
    ("cvt.rm.f32.s32", "u(__int2float_rd((int)c))", "f32", lambda a, b, c: round_to(s32(c), "f32", "rm")),
    ("cvt.rp.f32.u32", "u(__uint2float_ru(c))", "f32", lambda a, b, c: round_to(c, "f32", "rp")),
    (
        "cvt.rn.f32.s64",
        "u((float)(long long)(((u64)c << 32) | c))",
        "f32",
        lambda a, b, c: round_to(s32(c) * 2**32 + c, "f32"),
    ),
    ("cvt.rn.f16.f32", "h16(__float2half_rn(f(a)))", "f16", lambda a, b, c: _half_of(a, "f16")),
    ("cvt.rz.f16.f32", "h16(__float2half_rz(f(a)))", "f16", lambda a, b, c: _half_of(a, "f16", "rz")),
    ("cvt.rn.bf16.f32", "b16(__float2bfloat16_rn(f(a)))", "bf16", lambda a, b, c: _half_of(a, "bf16")),
    ("cvt.rz.bf16.f32", "b16(__float2bfloat16_rz(f(a)))", "bf16", lambda a, b, c: _half_of(a, "bf16", "rz")),
    ("cvt.rm.f16.f32", "h16(__float2half_rd(f(a)))", "f16", lambda a, b, c: _half_of(a, "f16", "rm")),
    ("cvt.rp.f16.f32", "h16(__float2half_ru(f(a)))", "f16", lambda a, b, c: _half_of(a, "f16", "rp")),
    ("cvt.rm.bf16.f32", "b16(__float2bfloat16_rd(f(a)))", "bf16", lambda a, b, c: _half_of(a, "bf16", "rm")),
    ("cvt.rp.bf16.f32", "b16(__float2bfloat16_ru(f(a)))", "bf16", lambda a, b, c: _half_of(a, "bf16", "rp")),
    (
        "cvt.rn.f16.f64",
        "h16(__double2half(d(a) * 1.1))",
        "f16",
        lambda a, b, c: _half_of(_r64(a, 1.1), "f16"),
    ),
    (
        "cvt.rn.bf16.f64",
        "b16(__double2bfloat16(d(a) * 1.1))",
        "bf16",
        lambda a, b, c: _half_of(_r64(a, 1.1), "bf16"),
    ),
    ("cvt.rn.f16.s32", "h16(__int2half_rn((int)c))", "f16", lambda a, b, c: round_to(s32(c), "f16")),
    (
        "cvt.rz.f16.u32",
        "h16(__uint2half_rz(c & 0xffffu))",
        "f16",
        lambda a, b, c: round_to(c & 0xFFFF, "f16", "rz"),
    ),
    ("cvt.rn.bf16.s32", "b16(__int2bfloat16_rn((int)c))", "bf16", lambda a, b, c: round_to(s32(c), "bf16")),
    (
        "cvt.rni.s32.f16",
        "(u32)__half2int_rn(__ushort_as_half((unsigned short)c))",
        "s32",
        lambda a, b, c: _to_int(_h16(c), "rni", -(2**31), 2**31 - 1),
    ),
    (
        "cvt.rzi.u32.f16",
        "__half2uint_rz(__ushort_as_half((unsigned short)c))",
        "s32",
        lambda a, b, c: _to_int(_h16(c), "rzi", 0, 2**32 - 1),
    ),
    (
        "cvt.rmi.s32.bf16",
        "(u32)__bfloat162int_rd(__ushort_as_bfloat16((unsigned short)c))",
        "s32",
        lambda a, b, c: _to_int(float(from_bits([c & 0xFFFF], "bf16")[0]), "rmi", -(2**31), 2**31 - 1),
    ),
    (
        "cvt.f32.f16",
        "u(__half2float(__ushort_as_half((unsigned short)c)))",
        "f32",
        lambda a, b, c: float(np.uint16(c & 0xFFFF).view(np.float16)),
    ),
    (
        "cvt.f32.bf16",
        "u(__bfloat162float(__ushort_as_bfloat16((unsigned short)c)))",
        "f32",
        lambda a, b, c: float(from_bits([c & 0xFFFF], "bf16")[0]),
    ),
    (
        "cvt.f64.f32.roundtrip",
        "u((float)((double)f(a) * 3.0))",
        "f32",
        lambda a, b, c: (
            float(np.float64(a) * 3.0) if abs(a) > 2e38 else float(np.float32(np.float64(a) * 3.0))
        ),
    ),
]


def _float_inputs() -> list[tuple[float, float, float]]:
    values = [_f(x) for x in F32_EDGES] + [
        _f(x) for x in RNG.standard_normal(64) * 10.0 ** RNG.integers(-6, 7, 64)
    ]
    order = RNG.permutation(len(values))
    triples = [
        (values[i], values[j], values[k]) for i in range(len(values)) for j, k in [(order[i], order[-i])]
    ]
    triples += [(a, b, 1.0) for a in values[:12] for b in values[:12]]
    triples += [(1 + 2**-23, 1 - 2**-23, -1.0), (1 + 2**-12, 1 + 2**-12, -(1 + 2**-11))]  # fused vs unfused
    triples += [triples[-1]] * (-len(triples) % 32)
    # the third word doubles as an integer (cvt from s32/u32 and the f16/bf16 bit patterns)
    return [(a, b, c) for a, b, c in triples]


@functools.cache
def _float_results() -> tuple[np.ndarray, np.ndarray]:
    triples = _float_inputs()
    words = np.array(triples, np.float32).view(np.uint32)
    words[::3, 2] = RNG.integers(0, 1 << 32, len(words[::3]), dtype=np.uint64).astype(np.uint32)
    words[1::5, 2] = np.array([0x7C00, 0xFC00, 0x7E00, 0x0001, 0x83FF, 0x3C01, 0x7F80, 0x0080], np.uint32)[
        np.arange(len(words[1::5])) % 8
    ]
    body = (
        "  const int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
        "  const u32 a = in[3 * i], b = in[3 * i + 1], c = in[3 * i + 2];\n" + _columns(FLOAT_OPS)  # type: ignore[arg-type]
    )
    out = run(kernel_source(body, FLOAT_PRELUDE), words, len(words) * len(FLOAT_OPS), grid=len(words) // 32)
    return words, out.reshape(len(words), len(FLOAT_OPS))


def _float_word(value: float | int, fmt: str) -> int:
    if fmt == "s32":
        return int(value) & M32
    return int(bits([value], fmt)[0])


def _same(got: int, want: float | int | None, fmt: str, zero_sign: bool = True) -> bool:
    if want is None:  # a NaN whose payload the ISA leaves open
        return True
    if fmt == "s32":
        return got == (int(want) & M32)
    value = float(from_bits([got], fmt)[0])
    if isinstance(want, float) and math.isnan(want):
        return math.isnan(value)
    if not zero_sign and value == 0 and want == 0:
        return True
    return got == _float_word(want, fmt)


@pytest.mark.parametrize("column", range(len(FLOAT_OPS)), ids=[op[0] for op in FLOAT_OPS])
def test_f32_arithmetic_and_conversions_round_as_the_isa_defines(column: int) -> None:
    words, out = _float_results()
    name, _, fmt, fn = FLOAT_OPS[column]
    bad = []
    for r, (wa, wb, wc) in enumerate(words):
        a, b = (float(np.uint32(w).view(np.float32)) for w in (wa, wb))
        want = fn(a, b, int(wc))  # type: ignore[operator]
        if not _same(int(out[r, column]), want, fmt, zero_sign=not name.startswith(("min", "max"))):
            bad.append(((a, b, hex(int(wc))), hex(int(out[r, column])), want))
    assert not bad, f"{name}: {len(bad)} wrong of {len(words)}, first (a, b, c), got, want: {bad[:3]}"


# ---------------------------------------------------------------- f16 / bf16 and their x2 forms
HALF_PRELUDE = r"""
__device__ __forceinline__ __half h(u32 x) { return __ushort_as_half((unsigned short)x); }
__device__ __forceinline__ __half2 h2(u32 x) { return *reinterpret_cast<__half2*>(&x); }
__device__ __forceinline__ u32 uh(__half x) { return __half_as_ushort(x); }
__device__ __forceinline__ u32 uh2(__half2 x) { return *reinterpret_cast<u32*>(&x); }
__device__ __forceinline__ __nv_bfloat16 bh(u32 x) { return __ushort_as_bfloat16((unsigned short)x); }
__device__ __forceinline__ __nv_bfloat162 bh2(u32 x) { return *reinterpret_cast<__nv_bfloat162*>(&x); }
__device__ __forceinline__ u32 ub(__nv_bfloat16 x) { return __bfloat16_as_ushort(x); }
__device__ __forceinline__ u32 ub2(__nv_bfloat162 x) { return *reinterpret_cast<u32*>(&x); }
__device__ u32 hset(u32 x, u32 y, bool to_u32) { u32 r;
  if (to_u32) asm("set.lt.u32.f16x2 %0, %1, %2;" : "=r"(r) : "r"(x), "r"(y));
  else asm("set.lt.f16x2.f16x2 %0, %1, %2;" : "=r"(r) : "r"(x), "r"(y));
  return r; }
__device__ u32 hftz(u32 x, u32 y) {
  u32 r; asm("add.ftz.f16x2 %0, %1, %2;" : "=r"(r) : "r"(x), "r"(y)); return r; }
"""


def _lanes(fmt: str, fn, x2: bool):  # type: ignore[no-untyped-def]
    """Expected word of a 16-bit op ``fn`` on the low halves (x2: on both halves)."""

    def word(a: int, b: int, c: int) -> int:
        out = 0
        for k in range(2 if x2 else 1):
            xs = [float(from_bits([(w >> (16 * k)) & 0xFFFF], fmt)[0]) for w in (a, b, c)]
            out |= int(bits([fn(*xs)], fmt)[0]) << (16 * k)
        return out

    return word


def _half_exact(op, fmt: str, ftz: bool = False):  # type: ignore[no-untyped-def]
    tiny = 2.0**-14 if fmt == "f16" else 2.0**-126

    def flush(x: float) -> float:
        return math.copysign(0.0, x) if ftz and x != 0 and abs(x) < tiny else x

    def fn(*xs: float) -> float:
        r = _arith(op, *[flush(x) for x in xs])
        if isinstance(r, float):
            return flush(r)
        return flush(round_to(r, fmt))

    return fn


def _sat(fn):  # type: ignore[no-untyped-def]
    def clamp(*xs: float) -> float:
        r = fn(*xs)
        return 0.0 if math.isnan(r) else min(max(r, 0.0), 1.0) + 0.0  # -0 saturates to +0

    return clamp


def _relu(fn):  # type: ignore[no-untyped-def]
    def relu(*xs: float) -> float:
        r = fn(*xs)
        return r if math.isnan(r) or r > 0 else 0.0

    return relu


def _hmin(big: bool, nan: bool):  # type: ignore[no-untyped-def]
    return lambda a, b, c: _fmin(a, b, nan, big)


ADD, SUB, MUL = (lambda x, y, *_: x + y), (lambda x, y, *_: x - y), (lambda x, y, *_: x * y)
FMA = lambda x, y, z: x * y + z  # noqa: E731
HALF_OPS: list[tuple[str, str, object]] = [
    ("hadd.f16", "uh(__hadd(h(a), h(b)))", _lanes("f16", _half_exact(ADD, "f16"), False)),
    ("hsub.f16", "uh(__hsub(h(a), h(b)))", _lanes("f16", _half_exact(SUB, "f16"), False)),
    ("hmul.f16", "uh(__hmul(h(a), h(b)))", _lanes("f16", _half_exact(MUL, "f16"), False)),
    ("hfma.f16", "uh(__hfma(h(a), h(b), h(c)))", _lanes("f16", _half_exact(FMA, "f16"), False)),
    ("hadd2.f16x2", "uh2(__hadd2(h2(a), h2(b)))", _lanes("f16", _half_exact(ADD, "f16"), True)),
    ("hmul2.f16x2", "uh2(__hmul2(h2(a), h2(b)))", _lanes("f16", _half_exact(MUL, "f16"), True)),
    ("hfma2.f16x2", "uh2(__hfma2(h2(a), h2(b), h2(c)))", _lanes("f16", _half_exact(FMA, "f16"), True)),
    ("add.ftz.f16x2", "hftz(a, b)", _lanes("f16", _half_exact(ADD, "f16", ftz=True), True)),
    ("set.lt.f16x2.f16x2", "hset(a, b, false)", _lanes("f16", lambda a, b, c: float(a < b), True)),
    ("set.lt.u32.f16x2", "hset(a, b, true)", None),
    ("hlt2.f16x2", "uh2(__hlt2(h2(a), h2(b)))", _lanes("f16", lambda a, b, c: float(a < b), True)),
    (
        "hfma2_relu.f16x2",
        "uh2(__hfma2_relu(h2(a), h2(b), h2(c)))",
        _lanes("f16", _relu(_half_exact(FMA, "f16")), True),
    ),
    ("hmul2_sat.f16x2", "uh2(__hmul2_sat(h2(a), h2(b)))", _lanes("f16", _sat(_half_exact(MUL, "f16")), True)),
    ("hadd_sat.bf16", "ub(__hadd_sat(bh(a), bh(b)))", _lanes("bf16", _sat(_half_exact(ADD, "bf16")), False)),
    (
        "hfma_relu.bf16",
        "ub(__hfma_relu(bh(a), bh(b), bh(c)))",
        _lanes("bf16", _relu(_half_exact(FMA, "bf16")), False),
    ),
    ("hmin.f16", "uh(__hmin(h(a), h(b)))", _lanes("f16", _hmin(False, False), False)),
    ("hmax2.f16x2", "uh2(__hmax2(h2(a), h2(b)))", _lanes("f16", _hmin(True, False), True)),
    ("hmin_nan.f16", "uh(__hmin_nan(h(a), h(b)))", _lanes("f16", _hmin(False, True), False)),
    ("hneg2.f16x2", "uh2(__hneg2(h2(a)))", _lanes("f16", lambda a, b, c: -a, True)),
    ("habs.f16", "uh(__habs(h(a)))", _lanes("f16", lambda a, b, c: abs(a), False)),
    ("hadd.bf16", "ub(__hadd(bh(a), bh(b)))", _lanes("bf16", _half_exact(ADD, "bf16"), False)),
    ("hsub.bf16", "ub(__hsub(bh(a), bh(b)))", _lanes("bf16", _half_exact(SUB, "bf16"), False)),
    ("hmul.bf16", "ub(__hmul(bh(a), bh(b)))", _lanes("bf16", _half_exact(MUL, "bf16"), False)),
    ("hfma.bf16", "ub(__hfma(bh(a), bh(b), bh(c)))", _lanes("bf16", _half_exact(FMA, "bf16"), False)),
    ("hadd2.bf16x2", "ub2(__hadd2(bh2(a), bh2(b)))", _lanes("bf16", _half_exact(ADD, "bf16"), True)),
    ("hmul2.bf16x2", "ub2(__hmul2(bh2(a), bh2(b)))", _lanes("bf16", _half_exact(MUL, "bf16"), True)),
    ("hfma2.bf16x2", "ub2(__hfma2(bh2(a), bh2(b), bh2(c)))", _lanes("bf16", _half_exact(FMA, "bf16"), True)),
    ("hmax.bf16", "ub(__hmax(bh(a), bh(b)))", _lanes("bf16", _hmin(True, False), False)),
    ("hmin2_nan.bf16x2", "ub2(__hmin2_nan(bh2(a), bh2(b)))", _lanes("bf16", _hmin(False, True), True)),
    (
        "float22half2_rn",
        "uh2(__float22half2_rn(__half22float2(h2(a))))",
        _lanes("f16", lambda a, b, c: a, True),
    ),
    ("floats2bfloat162_rn", "ub2(__floats2bfloat162_rn(__int_as_float(b), __int_as_float(c)))", None),
]
HALF_EDGES = [0.0, -0.0, 1.0, -1.0, 1 + 2**-10, 1 + 2**-9, 2**-24, -(2**-24), 2**-14, 3 * 2**-15, 65504.0,
              32768.0, math.inf, -math.inf, math.nan, 0.5, 2048.0, 2050.0, 1e-3, 3.0]  # fmt: skip


def _half_words(fmt: str, count: int) -> np.ndarray:
    values = HALF_EDGES + list(RNG.standard_normal(count * 2) * 4.0)
    raw = bits(values, fmt).astype(np.uint32)
    lo = raw[RNG.integers(0, len(raw), count)]
    hi = raw[RNG.integers(0, len(raw), count)]
    return lo | (hi << 16)


@functools.cache
def _half_results() -> tuple[np.ndarray, np.ndarray]:
    n = 512
    f16 = np.stack([_half_words("f16", n) for _ in range(3)], axis=1)
    bf16 = np.stack([_half_words("bf16", n) for _ in range(3)], axis=1)
    # ties to even (1 + 2^-11, 1 + 3 * 2^-11), overflow to inf, subnormal products and fma, ftz inputs
    f16[:8] = [[0x3C00, 0x1400, 0], [0x3C00, 0x1200, 0], [0x3C01, 0x1400, 0], [0x7BFF, 0x5000, 0],
               [0x0001, 0x3800, 0], [0x0003, 0x3800, 0], [0x3C00, 0x3C00, 0x8001],
               [0x8400, 0x0200, 0x0400]]  # fmt: skip
    bf16[:6] = [[0x3F80, 0x3B80, 0], [0x3F81, 0x3B80, 0], [0x7F7F, 0x7F00, 0], [0x0001, 0x3F00, 0],
                [0x3F80, 0x3F80, 0x8001], [0x3FC0, 0x4040, 0xC0A0]]  # fmt: skip
    words = np.concatenate([f16, bf16]).astype(np.uint32)
    body = (
        "  const int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
        "  const u32 a = in[3 * i], b = in[3 * i + 1], c = in[3 * i + 2];\n" + _columns(HALF_OPS)
    )
    out = run(kernel_source(body, HALF_PRELUDE), words, len(words) * len(HALF_OPS), grid=len(words) // 32)
    return words, out.reshape(len(words), len(HALF_OPS))


def _half_same(got: int, want: int, fmt: str) -> bool:
    for k in (0, 16):
        g, w = (got >> k) & 0xFFFF, (want >> k) & 0xFFFF
        gn, wn = (float(from_bits([x], fmt)[0]) for x in (g, w))
        if not (g == w or (math.isnan(gn) and math.isnan(wn))):
            return False
    return True


@pytest.mark.parametrize("column", range(len(HALF_OPS)), ids=[op[0] for op in HALF_OPS])
def test_f16_and_bf16_arithmetic_rounds_once_to_nearest_even(column: int) -> None:
    words, out = _half_results()
    name, _, fn = HALF_OPS[column]
    half = len(words) // 2
    rows = range(half, len(words)) if "bf16" in name else range(half)
    fmt = "bf16" if "bf16" in name else "f16"
    bad = []
    for r in rows:
        a, b, c = (int(x) for x in words[r])
        if name == "set.lt.u32.f16x2":
            lt = [_h16(a >> k) < _h16(b >> k) for k in (0, 16)]
            want = (0xFFFF if lt[0] else 0) | (0xFFFF0000 if lt[1] else 0)
            if int(out[r, column]) != want:
                bad.append((hex(a), hex(b), hex(c), hex(int(out[r, column])), hex(want)))
            continue
        if fn is None:  # f32 pair -> bf16x2, each rounded to nearest even
            want = int(bits([_half_of(_fl(b), "bf16"), _half_of(_fl(c), "bf16")], "bf16") @ [1, 65536])
        else:
            want = fn(a, b, c)  # type: ignore[operator]
        x2 = "x2" in name or fn is None or "2" in name.split(".")[0]
        got = int(out[r, column]) & (M32 if x2 else 0xFFFF)
        if not _half_same(got, want, fmt):
            bad.append((hex(a), hex(b), hex(c), hex(got), hex(want)))
    assert not bad, f"{name}: {len(bad)} wrong of {len(rows)}, first (a, b, c, got, want): {bad[:3]}"


# ---------------------------------------------------------------- MUFU .approx functions
# The PTX ISA's documented error bounds (the emulator computes them to f32 precision, well inside):
# ex2 max relative error 2^-22 (2 ulp), lg2 max absolute error 2^-22.6 on [0.5, 2] and relative
# otherwise, rsqrt/rcp/sqrt .approx max relative error 2^-22.9 / 1 ulp / 2^-23, sin/cos max absolute
# error 2^-20.5 on [-pi, pi], tanh max relative error 2^-10.987. Tested with a 2x margin.
APPROX = [
    ("ex2.approx.ftz.f32", np.exp2, ("rel", 2.0**-21), (-60.0, 60.0)),
    ("lg2.approx.ftz.f32", np.log2, ("abs", 2.0**-21.6), (0.5, 2.0)),
    ("lg2.approx.ftz.f32", np.log2, ("rel", 2.0**-21), (2.0, 1e30)),
    ("rsqrt.approx.ftz.f32", lambda x: 1 / np.sqrt(x), ("rel", 2.0**-21.9), (1e-30, 1e30)),
    ("rcp.approx.ftz.f32", lambda x: 1 / x, ("rel", 2.0**-22), (-1e30, 1e30)),
    ("sqrt.approx.ftz.f32", np.sqrt, ("rel", 2.0**-22), (0.0, 1e30)),
    ("sin.approx.ftz.f32", np.sin, ("abs", 2.0**-19.5), (-math.pi, math.pi)),
    ("cos.approx.ftz.f32", np.cos, ("abs", 2.0**-19.5), (-math.pi, math.pi)),
    ("tanh.approx.f32", np.tanh, ("rel", 2.0**-9.98), (-20.0, 20.0)),
]
APPROX_SPECIAL = {
    "ex2.approx.ftz.f32": {-math.inf: 0.0, math.inf: math.inf, 0.0: 1.0},
    "lg2.approx.ftz.f32": {0.0: -math.inf, math.inf: math.inf, -1.0: math.nan, 1.0: 0.0},
    "rsqrt.approx.ftz.f32": {0.0: math.inf, math.inf: 0.0, -1.0: math.nan},
    "rcp.approx.ftz.f32": {0.0: math.inf, -math.inf: -0.0, math.inf: 0.0},
    "sqrt.approx.ftz.f32": {0.0: 0.0, math.inf: math.inf, -1.0: math.nan},
    "sin.approx.ftz.f32": {math.inf: math.nan, 0.0: 0.0},
    "cos.approx.ftz.f32": {math.inf: math.nan, 0.0: 1.0},
    "tanh.approx.f32": {math.inf: 1.0, -math.inf: -1.0, 0.0: 0.0},
}


HALF_APPROX = [  # the f16x2 MUFU forms (ex2.approx.f16x2 and friends, through cuda_fp16's h2 functions)
    ("h2exp2", np.exp2, (-8.0, 8.0)),
    ("h2exp", np.exp, (-5.0, 5.0)),
    ("h2log2", np.log2, (0.01, 100.0)),
    ("h2rsqrt", lambda x: 1 / np.sqrt(x), (0.01, 100.0)),
    ("h2rcp", lambda x: 1 / x, (0.01, 100.0)),
    ("h2sqrt", np.sqrt, (0.0, 100.0)),
    ("h2sin", np.sin, (-3.0, 3.0)),
    ("h2cos", np.cos, (-3.0, 3.0)),
]


@pytest.mark.parametrize("which", range(len(HALF_APPROX)), ids=[h[0] for h in HALF_APPROX])
def test_f16x2_approx_functions_are_within_an_f16_ulp_or_two(which: int) -> None:
    fn, exact, (lo, hi) = HALF_APPROX[which]
    xs = np.linspace(lo, hi, 2048).astype(np.float16)
    body = (
        "  const int i = blockIdx.x * blockDim.x + threadIdx.x; u32 w = in[i];\n"
        f"  __half2 r = {fn}(*reinterpret_cast<__half2*>(&w));\n"
        "  out[i] = *reinterpret_cast<u32*>(&r);"
    )
    words = xs.view(np.uint32)
    got = (
        run(kernel_source(body), words, len(words), grid=len(words) // 32).view(np.float16).astype(np.float64)
    )
    want = exact(xs.astype(np.float64))
    # the ISA's f16 MUFU bound is about 2^-9.9 relative; sin/cos near zero crossings: absolute
    bound = 2.0**-9 * np.maximum(np.abs(want), 1.0 if fn in ("h2sin", "h2cos") else 0.0) + 2.0**-24
    worst = int(np.argmax(np.abs(got - want) - bound))
    assert np.all(np.abs(got - want) <= bound), f"{fn}({xs[worst]}) = {got[worst]}, want {want[worst]}"


@pytest.mark.parametrize("which", range(len(APPROX)), ids=[f"{a[0]}{list(a[3])}" for a in APPROX])
def test_mufu_approx_functions_are_within_the_isas_error_bound(which: int) -> None:
    opcode, exact, (kind, tol), (lo, hi) = APPROX[which]
    xs = np.linspace(lo, hi, 4096, dtype=np.float64)
    if lo > 0 and hi / lo > 1e6:
        xs = np.geomspace(lo, hi, 4096)
    special = list(APPROX_SPECIAL[opcode])
    xs32 = np.concatenate([xs.astype(np.float32), np.array(special, np.float32)])
    xs32 = np.concatenate([xs32, np.zeros(-len(xs32) % 32, np.float32)])
    body = (
        "  const int i = blockIdx.x * blockDim.x + threadIdx.x; float r;\n"
        f'  asm("{opcode} %0, %1;" : "=f"(r) : "f"(__uint_as_float(in[i])));\n'
        "  out[i] = __float_as_uint(r);"
    )
    got = run(kernel_source(body), xs32, len(xs32), grid=len(xs32) // 32).view(np.float32).astype(np.float64)
    want = exact(xs32[: len(xs)].astype(np.float64))
    err = np.abs(got[: len(xs)] - want)
    bound = tol * (np.abs(want) if kind == "rel" else 1.0)
    worst = int(np.argmax(err - bound))
    assert np.all(err <= bound), f"{opcode} at x={xs32[worst]!r}: {got[worst]!r} vs {want[worst]!r}"
    for x, value in APPROX_SPECIAL[opcode].items():
        r = got[len(xs) + special.index(x)]
        assert (math.isnan(r) and math.isnan(value)) or (
            r == value and math.copysign(1, r) == math.copysign(1, value)
        ), f"{opcode}({x}) = {r}, want {value}"


# ---------------------------------------------------------------- warp collectives
WARP_OPS: list[tuple[str, str]] = [
    ("shfl.idx.w8", "__shfl_sync(FULL, v, s, 8)"),
    ("shfl.idx.w32", "__shfl_sync(FULL, v, s)"),
    ("shfl.up.3.w16", "__shfl_up_sync(FULL, v, 3, 16)"),
    ("shfl.down.5.w8", "__shfl_down_sync(FULL, v, 5, 8)"),
    ("shfl.down.1.w32", "__shfl_down_sync(FULL, v, 1)"),
    ("shfl.bfly.6.w16", "__shfl_xor_sync(FULL, v, 6, 16)"),
    ("shfl.bfly.20.w16", "__shfl_xor_sync(FULL, v, 20, 16)"),
    ("shfl.bfly.3.w4", "__shfl_xor_sync(FULL, v, 3, 4)"),
    ("shfl.f64", "(u32)(__double_as_longlong(__shfl_sync(FULL, (double)v * 0.5, s)) >> 20)"),
    ("shfl.half.divergent", "lane < 16 ? __shfl_sync(0xffffu, v, 15 - lane) : 7u"),
    ("vote.any", "__any_sync(FULL, (v & 7) == 0)"),
    ("vote.all", "__all_sync(FULL, v != 12345u)"),
    ("vote.all.false", "__all_sync(FULL, v & 1)"),
    ("vote.ballot", "__ballot_sync(FULL, v & 1)"),
    ("vote.uni", "vote_uni(v & 1, warp_uniform)"),
    ("match.any", "__match_any_sync(FULL, v % 4)"),
    ("match.all", "match_all(warp_uniform ? 42u : v)"),
    ("redux.add", "__reduce_add_sync(FULL, v)"),
    ("redux.min.u32", "__reduce_min_sync(FULL, v)"),
    ("redux.max.u32", "__reduce_max_sync(FULL, v)"),
    ("redux.min.s32", "__reduce_min_sync(FULL, (int)v)"),
    ("redux.max.s32", "__reduce_max_sync(FULL, (int)v)"),
    ("redux.and", "__reduce_and_sync(FULL, v | 0x10000u)"),
    ("redux.or", "__reduce_or_sync(FULL, v & 0xf0f0u)"),
    ("redux.xor", "__reduce_xor_sync(FULL, v)"),
    ("activemask.divergent", "divergent_mask(v)"),
    ("ballot.divergent", "divergent_ballot(v)"),
    ("lanemask_lt", "lanemask_lt()"),
    ("shfl.up.c0.value", "shfl_up_c0(v, false)"),
    ("shfl.up.c0.pred", "shfl_up_c0(v, true)"),
    ("elect.sync.divergent", "lane >= 4 ? elect_hi() : 99u"),
    ("match.any.b64", "__match_any_sync(FULL, (u64)(v % 3) << 40)"),
    ("redux.add.partial", "lane < 20 ? __reduce_add_sync(0xfffffu, v) : 0u"),
    ("syncwarp.partial", "lane < 8 ? (__syncwarp(0xffu), __shfl_sync(0xffu, v, 7)) : v"),
]
WARP_PRELUDE = r"""
#define FULL 0xffffffffu
__device__ u32 vote_uni(u32 p, bool uniform) { u32 r; u32 q = uniform ? 1u : p;
  asm("{ .reg .pred a, b; setp.ne.u32 a, %1, 0; vote.sync.uni.pred b, a, 0xffffffff; selp.u32 %0, 1, 0, b; }"
      : "=r"(r) : "r"(q)); return r; }
__device__ u32 match_all(u32 x) {
  int pred; u32 m = __match_all_sync(FULL, x, &pred); return m ^ (pred << 31) ^ 0x5a5au; }
__device__ __noinline__ u32 divergent_mask(u32 v) {
  u32 r;
  if (v & 1) { if (v & 2) r = __activemask(); else r = __activemask() + 1; }
  else r = ~__activemask();
  return r; }
__device__ __noinline__ u32 divergent_ballot(u32 v) {
  u32 r = 0;
  if (v & 4) r = __ballot_sync(__activemask(), v & 8);
  return r; }
__device__ u32 lanemask_lt() { u32 r; asm("mov.u32 %0, %%lanemask_lt;" : "=r"(r)); return r; }
__device__ u32 shfl_up_c0(u32 v, bool pred) { u32 r, p;  // c = 0: no segments, lanes 0-2 keep theirs
  asm volatile("{ .reg .pred q; shfl.sync.up.b32 %0|q, %2, 3, 0, 0xffffffff; selp.u32 %1, 1, 0, q; }"
               : "=r"(r), "=r"(p) : "r"(v));
  return pred ? p : r; }
__device__ __noinline__ u32 elect_hi() { u32 r, e;
  asm volatile("{ .reg .pred q; elect.sync %0|q, 0xfffffff0; selp.u32 %1, 1, 0, q; }" : "=r"(r), "=r"(e));
  return r | e << 8; }
"""


def _shfl(vals: list[int], lane_in_warp: int, base: int, mode: str, b: int, width: int) -> int:
    seg = lane_in_warp & ~(width - 1)
    if mode == "idx":
        j, ok = seg | (b & (width - 1)), True
    elif mode == "up":
        j = lane_in_warp - b
        ok = j >= seg
    elif mode == "down":
        j = lane_in_warp + b
        ok = j <= seg | (width - 1)
    else:
        j = lane_in_warp ^ b
        ok = j <= seg | (width - 1)
    return vals[base + (j if ok else lane_in_warp)]


def _warp_expected(name: str, v: list[int], s: list[int], t: int) -> int:
    lane, base = t % 32, t - t % 32
    w = v[base : base + 32]
    uniform = base == 0
    sv = [s32(x) for x in w]
    match name:
        case "shfl.idx.w8":
            return _shfl(v, lane, base, "idx", s[t], 8)
        case "shfl.idx.w32":
            return _shfl(v, lane, base, "idx", s[t], 32)
        case "shfl.up.3.w16":
            return _shfl(v, lane, base, "up", 3, 16)
        case "shfl.down.5.w8":
            return _shfl(v, lane, base, "down", 5, 8)
        case "shfl.down.1.w32":
            return _shfl(v, lane, base, "down", 1, 32)
        case "shfl.bfly.6.w16":
            return _shfl(v, lane, base, "bfly", 6, 16)
        case "shfl.bfly.20.w16":
            return _shfl(v, lane, base, "bfly", 20, 16)
        case "shfl.bfly.3.w4":
            return _shfl(v, lane, base, "bfly", 3, 4)
        case "shfl.f64":
            x = float(_shfl(v, lane, base, "idx", s[t], 32)) * 0.5
            return int(np.float64(x).view(np.int64)) >> 20
        case "shfl.half.divergent":
            return v[base + 15 - lane] if lane < 16 else 7
        case "vote.any":
            return int(any((x & 7) == 0 for x in w))
        case "vote.all":
            return int(all(x != 12345 for x in w))
        case "vote.all.false":
            return int(all(x & 1 for x in w))
        case "vote.ballot":
            return sum(1 << k for k, x in enumerate(w) if x & 1)
        case "vote.uni":
            return 1 if uniform else int(len({x & 1 for x in w}) == 1)
        case "match.any":
            return sum(1 << k for k, x in enumerate(w) if x % 4 == v[t] % 4)
        case "match.all":
            xs = [42] * 32 if uniform else w
            same = len(set(xs)) == 1
            return ((M32 if same else 0) ^ (int(same) << 31) ^ 0x5A5A) & M32
        case "redux.add":
            return sum(w)
        case "redux.min.u32":
            return min(w)
        case "redux.max.u32":
            return max(w)
        case "redux.min.s32":
            return min(sv)
        case "redux.max.s32":
            return max(sv)
        case "redux.and":
            return functools.reduce(lambda x, y: x & y, [x | 0x10000 for x in w])
        case "redux.or":
            return functools.reduce(lambda x, y: x | y, [x & 0xF0F0 for x in w])
        case "redux.xor":
            return functools.reduce(lambda x, y: x ^ y, w)
        case "activemask.divergent":
            x = v[t]
            if x & 1:
                m = sum(1 << k for k, y in enumerate(w) if y & 3 == x & 3)
                return m if x & 2 else m + 1
            return ~sum(1 << k for k, y in enumerate(w) if not y & 1)
        case "ballot.divergent":
            if not v[t] & 4:
                return 0
            return sum(1 << k for k, y in enumerate(w) if y & 4 and y & 8)
        case "lanemask_lt":
            return (1 << lane) - 1
        case "shfl.up.c0.value":
            return v[t - 3] if lane >= 3 else v[t]
        case "shfl.up.c0.pred":
            return int(lane >= 3)
        case "elect.sync.divergent":
            return 99 if lane < 4 else 4 | (int(lane == 4) << 8)
        case "match.any.b64":
            return sum(1 << k for k, x in enumerate(w) if x % 3 == v[t] % 3)
        case "redux.add.partial":
            return sum(w[:20]) if lane < 20 else 0
        case "syncwarp.partial":
            return w[7] if lane < 8 else v[t]
    raise AssertionError(name)


@functools.cache
def _warp_results() -> tuple[list[int], list[int], np.ndarray]:
    v = [int(x) for x in RNG.integers(0, 1 << 32, 64)]
    v[70 % 64] = 12345
    s = [int(x) for x in RNG.integers(0, 32, 64)]
    body = (
        "  const int i = threadIdx.x; const u32 lane = i % 32, v = in[i], s = in[64 + i];\n"
        "  const bool warp_uniform = i < 32;\n"
        + "\n".join(f"  out[i * {len(WARP_OPS)} + {j}] = (u32)({e});" for j, (_, e) in enumerate(WARP_OPS))
    )
    out = run(kernel_source(body, WARP_PRELUDE), np.array(v + s, np.uint32), 64 * len(WARP_OPS), block=64)
    return v, s, out.reshape(64, len(WARP_OPS))


@pytest.mark.parametrize("column", range(len(WARP_OPS)), ids=[op[0] for op in WARP_OPS])
def test_warp_collectives_give_each_lane_what_the_isa_defines(column: int) -> None:
    v, s, out = _warp_results()
    name = WARP_OPS[column][0]
    want = [_warp_expected(name, v, s, t) & M32 for t in range(64)]
    got = [int(x) for x in out[:, column]]
    bad = [(t, hex(g), hex(w)) for t, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    assert not bad, f"{name}: {len(bad)} lanes wrong, first (thread, got, want): {bad[:4]}"


# ---------------------------------------------------------------- atomics and reductions
ATOMIC_PRELUDE = r"""
__device__ void init(u32* m) {
  for (int k = 0; k < 48; k++) m[k] = 0;
  m[2] = 0xffffffffu; m[4] = 0x7fffffffu; m[5] = 0x80000000u; m[6] = 0xffffffffu; m[10] = 5; m[11] = 77;
  m[16] = m[17] = 0xffffffffu; m[18] = 0; m[19] = 0x80000000u; m[44] = m[45] = 0xffffffffu;
  m[13] = 100; m[41] = 1000;  // above their bounds: dec restarts at the bound, inc at 0
}
__device__ void atomics(u32* m, u32 x, int t, u32* ret) {
  ret[0] = atomicAdd(&m[0], (x & 0xffff) + 1);
  atomicSub(&m[1], x & 0xff);
  atomicMin(&m[2], x);
  atomicMax(&m[3], x);
  atomicMin((int*)&m[4], (int)x);
  atomicMax((int*)&m[5], (int)x);
  atomicAnd(&m[6], x | ~(1u << (t % 32)));
  atomicOr(&m[7], x & 0x0f0f0f0fu);
  atomicXor(&m[8], x);
  atomicInc(&m[9], 37u);
  atomicDec(&m[10], 37u);
  atomicDec(&m[13], 3u);
  atomicInc(&m[41], 7u);
  ret[1] = atomicExch(&m[11], x);
  u32 seen = m[12], want;
  do { want = seen; seen = atomicCAS(&m[12], want, want + (x >> 8)); } while (seen != want);
  atomicAdd((u64*)&m[14], (u64)x << 20);
  atomicMin((u64*)&m[16], ((u64)x << 16) | t);
  atomicMax((long long*)&m[18], (long long)(int)x * 7);
  atomicAdd((float*)&m[20], (float)(x & 0xffff));
  atomicAdd((double*)&m[22], (double)x);
  atomicAdd((__half2*)&m[24], __halves2half2(__int2half_rn(t % 4), __int2half_rn(1)));
  atomicAdd((__nv_bfloat162*)&m[25], __halves2bfloat162(__int2bfloat16_rn(t % 2), __int2bfloat16_rn(1)));
  atomicAdd(&m[26], x);
  atomicAdd((float*)&m[27], 0.5f);
  atomicAdd((__half*)&m[28], __int2half_rn(1));
  ret[2] = atomicAdd((u64*)&m[30], 1ull << 33);
  unsigned long long seen64 = *(volatile u64*)&m[32], want64;
  do { want64 = seen64; seen64 = atomicCAS((u64*)&m[32], want64, want64 + x); } while (seen64 != want64);
  atomicExch((u64*)&m[34], (u64)x << 32 | x);
  atomicMax((u64*)&m[36], (u64)x * x);
  atomicAdd_block(&m[38], 3u);
  atomicAdd_system(&m[39], 5u);
  atomicOr_block(&m[40], 1u << (t % 32));
  atomicMin((long long*)&m[42], -(long long)x * 3);
  atomicAnd((u64*)&m[44], ~(1ull << (t % 64)));
  atomicXor((u64*)&m[46], (u64)x << (t % 32));
}
"""
ATOMIC_BODY = r"""
  __shared__ __align__(16) u32 sm[48];
  const int t = threadIdx.x; const u32 x = in[t];
  if (t == 0) { init(out); init(sm); }
  __syncthreads();
  atomics(out, x, t, out + 96 + 3 * t);
  atomics(sm, x, t, out + 96 + 3 * 128 + 3 * t);
  __syncthreads();
  if (t < 48) out[48 + t] = sm[t];
"""
THREADS = 128


def _atomic_final(x: list[int]) -> dict[int, int]:
    """Each slot's final word (64-bit slots: their two words) after all THREADS atomics."""

    def two(v: int, k: int) -> dict[int, int]:
        return {k: v & M32, k + 1: (v >> 32) & M32}

    def wrap(start: int, bound: int, up: bool) -> int:
        value = start
        for _ in x:
            if up:
                value = 0 if value >= bound else value + 1
            else:
                value = bound if value == 0 or value > bound else value - 1
        return value

    inc, dec = wrap(0, 37, True), wrap(5, 37, False)
    and6 = M32
    for t, v in enumerate(x):
        and6 &= v | (~(1 << (t % 32)) & M32)
    f16 = int(bits([sum(t % 4 for t in range(THREADS)), THREADS], "f16") @ [1, 65536])
    bf16 = int(bits([sum(t % 2 for t in range(THREADS)), THREADS], "bf16") @ [1, 65536])
    return {
        0: sum((v & 0xFFFF) + 1 for v in x), 1: -sum(v & 0xFF for v in x), 2: min(x), 3: max(x),
        4: min(s32(v) for v in x), 5: max(s32(v) for v in x), 6: and6,
        7: functools.reduce(lambda a, b: a | b, [v & 0x0F0F0F0F for v in x]),
        8: functools.reduce(lambda a, b: a ^ b, x), 9: inc, 10: dec, 12: sum(v >> 8 for v in x),
        13: wrap(100, 3, False), 41: wrap(1000, 7, True),
        **two(sum(v << 20 for v in x), 14), **two(min((v << 16) | t for t, v in enumerate(x)), 16),
        **two(max(s32(v) * 7 for v in x), 18),
        20: int(bits([float(sum(v & 0xFFFF for v in x))], "f32")[0]),
        **two(int(np.float64(sum(x)).view(np.uint64)), 22), 24: f16, 25: bf16, 26: sum(x),
        27: int(bits([0.5 * THREADS], "f32")[0]), 28: int(bits([THREADS], "f16")[0]),
        **two(THREADS << 33, 30), **two(sum(x), 32), **two(max(v * v for v in x), 36), 38: 3 * THREADS,
        39: 5 * THREADS, 40: M32, **two(min(-v * 3 for v in x), 42), **two(0, 44),
        **two(functools.reduce(lambda a, b: a ^ b, [v << (t % 32) for t, v in enumerate(x)]), 46),
    }  # fmt: skip


@functools.cache
def _atomic_results() -> tuple[list[int], np.ndarray]:
    x = [int(v) for v in RNG.integers(0, 1 << 32, THREADS)]
    source = kernel_source(ATOMIC_BODY, ATOMIC_PRELUDE)
    return x, run(source, np.array(x, np.uint32), 96 + 6 * THREADS, block=THREADS)


@pytest.mark.parametrize("space", ["global", "shared"])
@pytest.mark.parametrize("slot", sorted(_atomic_final([0] * THREADS)), ids=lambda s: f"slot{s}")
def test_atom_and_red_leave_the_value_the_isa_defines(space: str, slot: int) -> None:
    x, out = _atomic_results()
    got = int(out[slot + (48 if space == "shared" else 0)])
    want = _atomic_final(x)[slot] & M32
    assert got == want, f"{space} slot {slot}: got {got:#x}, want {want:#x}"


@pytest.mark.parametrize("space", ["global", "shared"])
def test_atom_returns_the_old_value_each_in_some_order(space: str) -> None:
    x, out = _atomic_results()
    start = 96 + (3 * THREADS if space == "shared" else 0)
    ret = out[start : start + 3 * THREADS].reshape(THREADS, 3).astype(np.int64)
    adds = sorted(zip(ret[:, 0].tolist(), [(v & 0xFFFF) + 1 for v in x], strict=True))
    assert adds[0][0] == 0 and all(a + d == b for (a, d), (b, _) in itertools.pairwise(adds)), (
        "atomicAdd olds"
    )
    final = int(out[11 + (48 if space == "shared" else 0)])
    exch64 = int(out[34 + (48 if space == "shared" else 0)])
    assert exch64 in x and int(out[35 + (48 if space == "shared" else 0)]) == exch64, "64-bit atomicExch"
    assert sorted([*ret[:, 1].tolist(), final]) == sorted([*x, 77]), "atomicExch: each value returned once"
    assert sorted(ret[:, 2].tolist()) == [t << 33 & M32 for t in range(THREADS)], (
        "64-bit atomicAdd olds (low words)"
    )


# ---------------------------------------------------------------- cp.async
CP_ASYNC_PRELUDE = r"""
__device__ __forceinline__ u32 sa(const void* p) { return (u32)__cvta_generic_to_shared(p); }
#define CP(kind, n, dst, src) asm volatile("cp.async." kind ".shared.global [%0], [%1], " #n ";" \
  :: "r"(sa(dst)), "l"(src) : "memory")
#define CP_FILL(n, src_size, dst, src) asm volatile("cp.async.ca.shared.global [%0], [%1], " #n ", %2;" \
  :: "r"(sa(dst)), "l"(src), "r"(src_size) : "memory")
#define COMMIT() asm volatile("cp.async.commit_group;" ::: "memory")
#define WAIT(n) asm volatile("cp.async.wait_group " #n ";" ::: "memory")
#define WAIT_ALL() asm volatile("cp.async.wait_all;" ::: "memory")
"""
CP_ASYNC_BODY = r"""
  __shared__ __align__(16) u32 s4[32], s8[64], s16[128], sz[128], sl[32];
  const int t = threadIdx.x;
  for (int k = 0; k < 4; k++) {
    s4[t] = 0xeeeeeeeeu; s8[2 * t + k % 2] = sz[4 * t + k] = s16[4 * t + k] = 0xeeeeeeeeu;
  }
  sl[t] = 0xeeeeeeeeu;
  CP("ca", 4, &s4[t], in + t);
  CP("ca", 8, &s8[2 * t], in + 32 + 2 * t);
  COMMIT();
  CP("cg", 16, &s16[4 * t], in + 96 + 4 * t);
  CP_FILL(16, (u32)(t % 17), &sz[4 * t], in + 224 + 4 * t);
  COMMIT();
  WAIT(1);  // the first group has landed, the second may still be in flight
  out[t] = s4[t]; out[32 + 2 * t] = s8[2 * t]; out[33 + 2 * t] = s8[2 * t + 1];
  if (n == 999) out[0] = s16[4 * t];  // the bad variant: read before the group is waited for
  WAIT(0);
  for (int k = 0; k < 4; k++) { out[96 + 4 * t + k] = s16[4 * t + k]; out[224 + 4 * t + k] = sz[4 * t + k]; }
  CP("ca", 4, &sl[t], in + 352 + t);
  COMMIT();
  WAIT_ALL();
  out[352 + t] = sl[t];
"""


def _cp_async_words() -> np.ndarray:
    return RNG.integers(0, 1 << 32, 384, dtype=np.uint64).astype(np.uint32)


def test_cp_async_lands_at_the_wait_with_each_size_and_zero_fill() -> None:
    words = _cp_async_words()
    got = run(kernel_source(CP_ASYNC_BODY, CP_ASYNC_PRELUDE), words, 384)
    want = words.copy()
    for t in range(32):  # src-size t % 17 bytes copied, the rest of the 16 zero-filled
        raw = bytearray(words[224 + 4 * t : 228 + 4 * t].tobytes())
        raw[t % 17 :] = bytes(16 - min(16, t % 17))
        want[224 + 4 * t : 228 + 4 * t] = np.frombuffer(bytes(raw), np.uint32)
    assert np.array_equal(got, want), np.nonzero(got != want)[0][:8]


def test_a_read_of_cp_async_bytes_before_their_wait_is_reported() -> None:
    from kernel_skills.errors import EmulatorFault

    words = _cp_async_words()
    source = kernel_source(CP_ASYNC_BODY, CP_ASYNC_PRELUDE)
    with pytest.raises(EmulatorFault) as caught:
        run(source, np.concatenate([words, np.zeros(999 - 384, np.uint32)]), 384)
    assert caught.value.report["kind"] == "async_copy_in_flight"
    assert caught.value.report["line"] is not None


# ---------------------------------------------------------------- ldmatrix / stmatrix
LDMATRIX_BODY = r"""
  __shared__ __align__(16) unsigned short tile[4 * 8 * 8], back[4 * 8 * 8], back2[4 * 8 * 8];
  const int l = threadIdx.x;
  for (int k = l; k < 256; k += 32) { tile[k] = (unsigned short)in[k]; back[k] = back2[k] = 0; }
  __syncwarp();
  // lane l names row l % 8 of matrix l / 8, the rows of one matrix 16 elements apart
  const u32 row = (u32)__cvta_generic_to_shared(&tile[(l / 8) * 8 + (l % 8) * 32]);
  const u32 row_back = (u32)__cvta_generic_to_shared(&back[(l / 8) * 8 + (l % 8) * 32]);
  const u32 row_back2 = (u32)__cvta_generic_to_shared(&back2[(l / 8) * 8 + (l % 8) * 32]);
  u32 r[4], q[4], x1, x2a, x2b, t1, t2a, t2b;
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(q[0]), "=r"(q[1]), "=r"(q[2]), "=r"(q[3]) : "r"(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];" : "=r"(x1) : "r"(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];" : "=r"(x2a), "=r"(x2b) : "r"(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];" : "=r"(t1) : "r"(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];"
               : "=r"(t2a), "=r"(t2b) : "r"(row));
  out[640 + 2 * l] = t2a; out[641 + 2 * l] = t2b;
  for (int j = 0; j < 4; j++) { out[l * 4 + j] = r[j]; out[128 + l * 4 + j] = q[j]; }
  out[256 + l] = x1; out[288 + 2 * l] = x2a; out[289 + 2 * l] = x2b; out[352 + l] = t1;
  asm volatile("stmatrix.sync.aligned.m8n8.x4.shared.b16 [%0], {%1, %2, %3, %4};"
               :: "r"(row_back), "r"(r[3]), "r"(r[2]), "r"(r[1]), "r"(r[0]) : "memory");
  asm volatile("stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%0], {%1, %2, %3, %4};"
               :: "r"(row_back2), "r"(r[0]), "r"(r[1]), "r"(r[2]), "r"(r[3]) : "memory");
  __syncwarp();
  for (int k = l; k < 256; k += 32) { out[384 + k] = back[k]; out[704 + k] = back2[k]; }
"""


def test_ldmatrix_and_stmatrix_move_the_fragments_the_isa_defines() -> None:
    vals = RNG.integers(0, 1 << 16, 256).astype(np.uint32)
    got = run(kernel_source(LDMATRIX_BODY), vals, 960)

    def m(j: int, r: int, c: int) -> int:  # element (r, c) of matrix j in tile
        return int(vals[j * 8 + r * 32 + c])

    def frag(j: int, lane: int, trans: bool) -> int:
        r, c = lane // 4, 2 * (lane % 4)
        lo, hi = (m(j, c, r), m(j, c + 1, r)) if trans else (m(j, r, c), m(j, r, c + 1))
        return lo | hi << 16

    for lane in range(32):
        assert [int(x) for x in got[lane * 4 : lane * 4 + 4]] == [frag(j, lane, False) for j in range(4)], (
            lane
        )
        assert [int(x) for x in got[128 + lane * 4 : 132 + lane * 4]] == [
            frag(j, lane, True) for j in range(4)
        ]
        assert int(got[256 + lane]) == frag(0, lane, False), f"x1 lane {lane}"
        assert [int(got[288 + 2 * lane]), int(got[289 + 2 * lane])] == [
            frag(0, lane, False),
            frag(1, lane, False),
        ]
        assert int(got[352 + lane]) == frag(0, lane, True), f"x1.trans lane {lane}"
        assert [int(got[640 + 2 * lane]), int(got[641 + 2 * lane])] == [
            frag(0, lane, True),
            frag(1, lane, True),
        ]
    back = got[384:640].astype(np.int64)  # stmatrix stored register j into matrix 3 - j
    want = np.array([m(3 - (k % 32 // 8), k // 32, k % 8) for k in range(256)])
    assert np.array_equal(back, want), np.nonzero(back != want)[0][:8]
    back2 = got[704:960].astype(np.int64)  # stmatrix.trans stored each matrix transposed
    want2 = np.array([m(k % 32 // 8, k % 8, k // 32) for k in range(256)])
    assert np.array_equal(back2, want2), np.nonzero(back2 != want2)[0][:8]


# ---------------------------------------------------------------- mma.sync
MMA_PRELUDE = r"""
__device__ __forceinline__ u32 pk(const unsigned short* p, int i) { return p[i] | ((u32)p[i + 1] << 16); }
__device__ __forceinline__ float bits_f16(unsigned short x) { return __half2float(__ushort_as_half(x)); }
"""
MMA_BODY = r"""
  // in: A 16xK row-major 16-bit, B stored n-major (8 x K: "col"), C 16x8 f32; out: D 16x8 f32
  const int K = KK, l = threadIdx.x, g = l / 4, t = l % 4;
  const unsigned short* A = reinterpret_cast<const unsigned short*>(in);
  const unsigned short* B = A + 16 * K;
  const float* C = reinterpret_cast<const float*>(in + (16 * K + 8 * K) / 2);
  float* D = reinterpret_cast<float*>(out);
  float c[4] = {C[g * 8 + 2 * t], C[g * 8 + 2 * t + 1], C[(g + 8) * 8 + 2 * t], C[(g + 8) * 8 + 2 * t + 1]};
  float d[4];
  u32 a0 = pk(A, g * K + 2 * t), a1 = pk(A, (g + 8) * K + 2 * t), b0 = pk(B, g * K + 2 * t);
  u32 a2 = K == 16 ? pk(A, g * K + 2 * t + 8) : 0, a3 = K == 16 ? pk(A, (g + 8) * K + 2 * t + 8) : 0;
  u32 b1 = K == 16 ? pk(B, g * K + 2 * t + 8) : 0;
  MMA
  D[g * 8 + 2 * t] = d[0]; D[g * 8 + 2 * t + 1] = d[1];
  D[(g + 8) * 8 + 2 * t] = d[2]; D[(g + 8) * 8 + 2 * t + 1] = d[3];
"""
MMA_F32 = {
    16: 'asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.{t}.{t}.f32 '
    '{{%0, %1, %2, %3}}, {{%4, %5, %6, %7}}, {{%8, %9}}, {{%10, %11, %12, %13}};" '
    ': "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3]) : "r"(a0), "r"(a1), '
    '"r"(a2), "r"(a3), "r"(b0), "r"(b1), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));',
    8: 'asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.{t}.{t}.f32 '
    "{{%0, %1, %2, %3}}, {{%4, %5}}, {{%6}}, "
    '{{%7, %8, %9, %10}};" : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3]) : "r"(a0), "r"(a1), "r"(b0), '
    '"f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));',
}
MMA_F16 = {  # f16 accumulators: C rounded to f16 pairs going in, D pairs widened coming out
    16: "u32 h0 = __half_as_ushort(__float2half(c[0])) | (u32)__half_as_ushort(__float2half(c[1])) << 16, "
    "h1 = __half_as_ushort(__float2half(c[2])) | (u32)__half_as_ushort(__float2half(c[3])) << 16, e0, e1; "
    'asm volatile("mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16 {%0, %1}, {%2, %3, %4, %5}, {%6, %7}, '
    '{%8, %9};" : "=r"(e0), "=r"(e1) '
    ': "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1), "r"(h0), "r"(h1));'
    " d[0] = bits_f16(e0 & 0xffff); d[1] = bits_f16(e0 >> 16);"
    " d[2] = bits_f16(e1 & 0xffff); d[3] = bits_f16(e1 >> 16);",
    8: "u32 h0 = __half_as_ushort(__float2half(c[0])) | (u32)__half_as_ushort(__float2half(c[1])) << 16, "
    "h1 = __half_as_ushort(__float2half(c[2])) | (u32)__half_as_ushort(__float2half(c[3])) << 16, e0, e1; "
    'asm volatile("mma.sync.aligned.m16n8k8.row.col.f16.f16.f16.f16 {%0, %1}, {%2, %3}, {%4}, {%5, %6};" '
    ': "=r"(e0), "=r"(e1) : "r"(a0), "r"(a1), "r"(b0), "r"(h0), "r"(h1));'
    " d[0] = bits_f16(e0 & 0xffff); d[1] = bits_f16(e0 >> 16);"
    " d[2] = bits_f16(e1 & 0xffff); d[3] = bits_f16(e1 >> 16);",
}
MMA_CASES = [
    (k, t, acc)
    for k in (16, 8)
    for t in ("f16", "bf16")
    for acc in ("f32", "f16")
    if not (t == "bf16" and acc == "f16")
]


@pytest.mark.parametrize("integers", [True, False], ids=["exact-integers", "random-normal"])
@pytest.mark.parametrize(
    ("k", "dtype", "acc"), MMA_CASES, ids=[f"m16n8k{k}.{t}.acc-{a}" for k, t, a in MMA_CASES]
)
def test_mma_sync_computes_a_gemm_tile_like_torch(k: int, dtype: str, acc: str, integers: bool) -> None:
    import torch

    tdt = {"f16": torch.float16, "bf16": torch.bfloat16}[dtype]
    gen = torch.Generator().manual_seed(k * 10 + len(dtype) + integers)
    if integers:
        a, b, c = (torch.randint(-4, 5, s, generator=gen).float() for s in ((16, k), (k, 8), (16, 8)))
    else:
        a, b, c = (torch.randn(s, generator=gen) for s in ((16, k), (k, 8), (16, 8)))
    a16, b16 = a.to(tdt), b.to(tdt)
    if acc == "f16":
        c = c.half().float()
    words = np.concatenate([
        a16.view(torch.int16).numpy().view(np.uint16).ravel(),
        b16.t().contiguous().view(torch.int16).numpy().view(np.uint16).ravel(),
        c.numpy().view(np.uint16).ravel(),
    ])  # fmt: skip
    mma = (
        (MMA_F32 if acc == "f32" else MMA_F16)[k].replace("{t}", dtype).replace("{{", "{").replace("}}", "}")
    )
    body = MMA_BODY.replace("KK", str(k)).replace("MMA", mma)
    got = torch.from_numpy(run(kernel_source(body, MMA_PRELUDE), words.view(np.uint32), 128).view(np.float32))
    want = a16.double() @ b16.double() + c.double()
    if acc == "f16":
        want = want.half().double()
    got = got.reshape(16, 8).double()
    if integers:
        assert torch.equal(got, want), (got - want).abs().max()
    else:
        tol = 2e-3 if acc == "f16" else 1e-5
        torch.testing.assert_close(got, want, rtol=tol, atol=tol)


# ---------------------------------------------------------------- calls, local/constant memory, ld/st
MISC_PRELUDE = r"""
__constant__ u32 table[8] = {3, 1, 4, 1, 5, 9, 2, 6};
__constant__ float scales[4] = {0.5f, 1.5f, -2.0f, 8.0f};
__device__ u32 tally = 100;
__device__ __noinline__ u32 mix(u32 a, u32 b, float f, u64 w, unsigned short h) {
  return (a * 31u + b) ^ (u32)(f * 4.0f) ^ (u32)(w >> 17) ^ h; }
__device__ __noinline__ float scaled(float x, int k) { return x * scales[k & 3]; }
__device__ __noinline__ u32 local_pick(const u32* src, int t) {
  u32 arr[24];
  for (int k = 0; k < 24; k++) arr[k] = src[(t + k) % 64] * (k + 1);
  arr[(src[t] >> 3) % 24] ^= 0xffu;
  return arr[src[t] % 24] + arr[(src[t] >> 8) % 24];
}
"""
MISC_OPS: list[tuple[str, str]] = [
    ("call.noinline", "mix(v, t, 0.75f * t, ((u64)v << 32) | w, (unsigned short)(w >> 3))"),
    ("call.float_return", "__float_as_uint(scaled((float)t, w))"),
    ("local.dynamic_index", "local_pick(in, t)"),
    ("const.table", "table[v % 8] + table[t % 8] * 10"),
    ("global.module_variable", "tally + t"),
    ("ld.s8.sext", "(u32)(int)((const signed char*)in)[t * 3]"),
    ("ld.u16", "(u32)((const unsigned short*)in)[t * 3 + 1]"),
    ("ld.s16.sext", "(u32)(int)((const short*)in)[t + 5]"),
    ("ld.global.nc.v4", "ldnc4(in + 4 * (t % 16))"),
    ("ld.v2.u64", "ld2x64(in + 4 * (t % 16))"),
    ("ldg.float4", "__float_as_uint(ldf4(in + 4 * (t % 16)))"),
    (
        "ld.cache_hints",
        "__ldcg(in + t) + __ldca(in + t + 1) + __ldcs(in + t + 2) + __ldlu(in + t + 3) + __ldcv(in + 4)",
    ),
]
MISC_BODY = r"""
  const int t = threadIdx.x; const u32 v = in[t], w = in[64 + t];
  __threadfence(); __threadfence_block();
"""
MISC_HELPERS = r"""
__device__ u32 ldnc4(const u32* p) { u32 a, b, c, d;
  asm volatile("ld.global.nc.v4.u32 {%0, %1, %2, %3}, [%4];" : "=r"(a), "=r"(b), "=r"(c), "=r"(d) : "l"(p));
  return a + 3 * b + 5 * c + 7 * d; }
__device__ u32 ld2x64(const u32* p) { ulonglong2 q = *reinterpret_cast<const ulonglong2*>(p);
  return (u32)(q.x >> 16) ^ (u32)(q.y >> 40); }
__device__ float ldf4(const u32* p) { float4 q = __ldg(reinterpret_cast<const float4*>(p));
  return q.x * 0.0f + q.y * 0.0f + q.z * 0.0f + q.w * 0.0f + 1.0f; }
"""


def _misc_expected(name: str, words: np.ndarray, t: int) -> int:
    v, w = int(words[t]), int(words[64 + t])
    raw = words.tobytes()
    match name:
        case "call.noinline":
            f = float(np.float32(np.float32(0.75) * np.float32(t)) * np.float32(4.0))
            return ((v * 31 + t) ^ int(f) ^ (((v << 32) | w) >> 17) ^ ((w >> 3) & 0xFFFF)) & M32
        case "call.float_return":
            return int(bits([t * [0.5, 1.5, -2.0, 8.0][w & 3]], "f32")[0])
        case "local.dynamic_index":
            arr = [(int(words[(t + k) % 64]) * (k + 1)) & M32 for k in range(24)]
            arr[(v >> 3) % 24] ^= 0xFF
            return arr[v % 24] + arr[(v >> 8) % 24]
        case "const.table":
            table = [3, 1, 4, 1, 5, 9, 2, 6]
            return table[v % 8] + table[t % 8] * 10
        case "global.module_variable":
            return 100 + t
        case "ld.s8.sext":
            return int(np.frombuffer(raw, np.int8)[t * 3])
        case "ld.u16":
            return int(np.frombuffer(raw, np.uint16)[t * 3 + 1])
        case "ld.s16.sext":
            return int(np.frombuffer(raw, np.int16)[t + 5])
        case "ld.global.nc.v4":
            q = [int(x) for x in words[4 * (t % 16) : 4 * (t % 16) + 4]]
            return q[0] + 3 * q[1] + 5 * q[2] + 7 * q[3]
        case "ld.v2.u64":
            q = np.frombuffer(raw, np.uint64)[2 * (t % 16) : 2 * (t % 16) + 2]
            return ((int(q[0]) >> 16) ^ (int(q[1]) >> 40)) & M32
        case "ldg.float4":
            return int(bits([1.0], "f32")[0])
        case "ld.cache_hints":
            return sum(int(words[t + k]) for k in range(4)) + int(words[4])
    raise AssertionError(name)


@functools.cache
def _misc_results() -> tuple[np.ndarray, np.ndarray]:
    words = RNG.integers(0, 1 << 32, 128, dtype=np.uint64).astype(np.uint32)
    words[:64] &= 0x3FFFFFFF  # finite floats for the float4 load
    body = MISC_BODY + "\n".join(
        f"  out[t * {len(MISC_OPS)} + {j}] = (u32)({e});" for j, (_, e) in enumerate(MISC_OPS)
    )
    out = run(kernel_source(body, MISC_PRELUDE + MISC_HELPERS), words, 64 * len(MISC_OPS), block=64)
    return words, out.reshape(64, len(MISC_OPS))


@pytest.mark.parametrize("column", range(len(MISC_OPS)), ids=[op[0] for op in MISC_OPS])
def test_calls_local_const_and_loads_give_the_right_values(column: int) -> None:
    words, out = _misc_results()
    name = MISC_OPS[column][0]
    want = [_misc_expected(name, words, t) & M32 for t in range(64)]
    bad = [
        (t, hex(int(g)), hex(w)) for t, (g, w) in enumerate(zip(out[:, column], want, strict=True)) if g != w
    ]
    assert not bad, f"{name}: {len(bad)} threads wrong, first (thread, got, want): {bad[:4]}"


def test_stores_with_cache_hints_and_vector_widths_write_their_bytes() -> None:
    body = r"""
  const int t = threadIdx.x; const u32 v = in[t];
  __stcg(out + t, v); __stcs(out + 32 + t, v + 1); __stwt(out + 64 + t, v + 2); __stwb(out + 96 + t, v + 3);
  if (t < 8) reinterpret_cast<uint4*>(out + 128)[t] = make_uint4(v, v ^ 1, v ^ 2, v ^ 3);
  if (t < 16) reinterpret_cast<uint2*>(out + 160)[t] = make_uint2(v * 2, v * 3);
  reinterpret_cast<unsigned char*>(out + 192)[t] = (unsigned char)(v >> 5);
  reinterpret_cast<unsigned short*>(out + 200)[t] = (unsigned short)(v >> 9);
"""
    v = RNG.integers(0, 1 << 32, 32, dtype=np.uint64).astype(np.uint32).astype(np.int64)
    got = run(kernel_source(body), v.astype(np.uint32), 216).astype(np.int64)
    want = np.zeros(216, np.int64)
    for k in range(4):
        want[32 * k : 32 * k + 32] = (v + k) & M32
    want[128:160] = np.stack([v[:8] ^ k for k in range(4)], axis=1).ravel()
    want[160:192] = np.stack([(v[:16] * 2) & M32, (v[:16] * 3) & M32], axis=1).ravel()
    want[192:200] = np.frombuffer(((v >> 5) & 0xFF).astype(np.uint8).tobytes(), np.uint32)
    want[200:216] = np.frombuffer(((v >> 9) & 0xFFFF).astype(np.uint16).tobytes(), np.uint32)
    assert np.array_equal(got, want), np.nonzero(got != want)[0][:8]


# ---------------------------------------------------------------- printf, trap, assert
def test_printf_output_comes_back_with_its_values() -> None:
    from .isa.support import compiled

    body = r"""
  const int t = threadIdx.x;
  if (t < 3) printf("t=%d u=%u x=%08x f=%.3f s=%s c=%c ll=%lld\n", t, in[t], in[t], 0.5f * t, "ok", 'A' + t,
                    -(long long)in[t] << 20);
  out[t] = t;
"""
    source = kernel_source(body)
    words = np.array([7, 0xFFFFFFFF, 0x1234ABCD] + [0] * 29, np.uint32)
    run(source, words, 32)
    text = "".join(compiled(source).printf)
    for t in range(3):
        w = int(words[t])
        assert f"t={t} u={w} x={w:08x} f={0.5 * t:.3f} s=ok c={chr(65 + t)} ll={-(w << 20)}\n" in text, text


def test_printf_output_is_bounded() -> None:
    from kernel_skills.emulator.harness import PRINTF_KEPT

    from .isa.support import compiled

    source = kernel_source(
        '  for (int k = 0; k < 64; k++) printf("thread %d line %d of a long story\\n", threadIdx.x, k);'
    )
    run(source, np.zeros(32, np.uint32), 32, block=256)
    assert 0 < sum(len(p) for p in compiled(source).printf) <= PRINTF_KEPT


@pytest.mark.parametrize(
    "body",
    ["  if (in[threadIdx.x] == 5u) __trap();\n  out[threadIdx.x] = 1;",
     "  assert(in[threadIdx.x] != 5u);\n  out[threadIdx.x] = 1;"],
    ids=["trap", "assert"],
)  # fmt: skip
def test_trap_and_a_failing_assert_fault_the_launch(body: str) -> None:
    from kernel_skills.errors import EmulatorFault

    source = kernel_source(body, "#include <assert.h>")
    assert run(source, np.zeros(32, np.uint32), 32).tolist() == [1] * 32
    with pytest.raises(EmulatorFault) as caught:
        run(source, np.arange(32, dtype=np.uint32), 32)
    assert caught.value.report["kind"] == "trap"
    assert caught.value.report["threads"][0][3] == 5


# ---------------------------------------------------------------- named barriers and bar.red
def test_named_barriers_and_block_votes_of_syncthreads_count_and_or() -> None:
    body = r"""
  __shared__ u32 part[256];
  const int t = threadIdx.x, half = t / 128;
  const u32 v = in[t];
  part[t] = v;
  if (half == 0) asm volatile("bar.sync 1, 128;" ::: "memory");
  else asm volatile("bar.sync 2, 128;" ::: "memory");
  const u32 partner = part[(t + 64) % 128 + 128 * half];  // a warp of the same half, ordered by its barrier
  const int count = __syncthreads_count(v & 1);
  const int all = __syncthreads_and(v != 7u);
  const int any = __syncthreads_or(v == 7u);
  u32 red = 0;
  if (t < 96)
    asm volatile("{ .reg .pred p; setp.ne.u32 p, %1, 0; bar.red.popc.u32 %0, 3, 96, p; }"
                 : "=r"(red) : "r"(v & 2));
  out[4 * t] = partner; out[4 * t + 1] = count;
  out[4 * t + 2] = all | (any << 1); out[4 * t + 3] = t < 96 ? red : 0;
"""
    source = kernel_source(body)
    v = RNG.integers(0, 1 << 32, 256, dtype=np.uint64).astype(np.uint32)
    v[v == 7] = 8
    for words, seven in ((v, False), (np.where(np.arange(256) == 200, 7, v).astype(np.uint32), True)):
        got = run(source, words, 1024, block=256).reshape(256, 4).astype(np.int64)
        t = np.arange(256)
        assert np.array_equal(got[:, 0], words[(t + 64) % 128 + 128 * (t // 128)])
        assert np.all(got[:, 1] == int(np.sum(words & 1)))
        assert np.all(got[:, 2] == (2 if seven else 1))
        want = int(np.count_nonzero(words[:96] & 2))
        assert np.all(got[:96, 3] == want)


def test_a_named_barrier_with_too_small_a_count_is_barrier_divergence() -> None:
    from kernel_skills.errors import EmulatorFault

    body = r"""
  __shared__ u32 part[128];
  part[threadIdx.x] = in[threadIdx.x];
  asm volatile("bar.sync 1, 64;" ::: "memory");  // 128 threads arrive at a barrier of 64
  out[threadIdx.x] = part[(threadIdx.x + 64) % 128];
"""
    with pytest.raises(EmulatorFault) as caught:
        run(kernel_source(body), np.arange(128, dtype=np.uint32), 128, block=128)
    # warps 0-1 pass the barrier alone and read what warps 2-3 have not written yet
    assert caught.value.report["kind"] in ("race", "barrier_divergence", "uninitialized_shared_read")


@pytest.mark.parametrize(
    "opcode", ["div.approx.f32", "div.approx.ftz.f32", "div.full.f32", "div.full.ftz.f32"]
)
def test_approximate_division_is_within_two_ulp(opcode: str) -> None:
    # PTX ISA: div.approx.f32 max 2 ulp for |b| in [2^-126, 2^126], div.full.f32 max 2 ulp over the full range
    a = (RNG.standard_normal(1024) * 10.0 ** RNG.integers(-15, 15, 1024)).astype(np.float32)
    b = (RNG.standard_normal(1024) * 10.0 ** RNG.integers(-15, 15, 1024)).astype(np.float32)
    body = (
        "  const int i = blockIdx.x * blockDim.x + threadIdx.x; float r;\n"
        "  const float a = __uint_as_float(in[i]), b = __uint_as_float(in[1024 + i]);\n"
        f'  asm("{opcode} %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));\n'
        "  out[i] = __float_as_uint(r);"
    )
    got = run(kernel_source(body), np.concatenate([a, b]), 1024, grid=32).view(np.float32)
    want = (a.astype(np.float64) / b.astype(np.float64)).astype(np.float32)
    normal = np.abs(want.astype(np.float64)) >= 2.0**-126
    ulp = np.abs(np.spacing(want[normal]))
    assert np.all(np.abs(got[normal].astype(np.float64) - want[normal]) <= 2 * ulp)


def test_printf_text_is_returned_with_the_verdict() -> None:
    from kernel_skills.bench import Timeouts
    from kernel_skills.bench.models import BenchRequest
    from kernel_skills.bench.registry import load_registry
    from kernel_skills.dispatch import benchmark

    from .battery.cases import PROBLEMS_DIR

    source = r"""
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i == 0) printf("n=%d grid=%u pi=%6.3f hex=%#x s=%s %%\n", n, gridDim.x, 3.14159f, 48879, "done");
  if (i < n) out[i] = 2.0f * x[i];
}
"""
    registry = load_registry([PROBLEMS_DIR], use_env=False)
    request = BenchRequest(
        problem="battery_scale2", source=source, kernel="scale2", block=[128], grid=["ceil_div(n, 128)"],
        device="emulator",
    )  # fmt: skip
    result = benchmark(request, registry=registry, store=False, timeouts=Timeouts(check=8), runtime=RUNTIME)
    assert result.correct, result
    assert result.printf is not None and "n=1 grid=1 pi= 3.142 hex=0xbeef s=done %\n" in result.printf
