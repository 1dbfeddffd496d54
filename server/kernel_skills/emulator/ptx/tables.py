"""The PTX vocabulary the engine executes: one table each for opcodes, types, comparisons, rounding
modes, state spaces, sub-operations, flags and special registers.

The Python decoder (``program``) and the C++ engine share these tables: ``cpp_header()`` writes them as
the engine's ``ptx_tables.h`` at build time, so an id means the same thing on both sides. A modifier
that is in no table is refused before anything runs, with the instruction and its source line.
"""

from __future__ import annotations

OPS = (
    "mov", "ld", "ldu", "st", "cvta", "cvt", "add", "sub", "mul", "mad", "mul24", "mad24", "div", "rem",
    "abs", "neg", "min", "max", "fma", "rcp", "sqrt", "rsqrt", "ex2", "lg2", "sin", "cos", "tanh",
    "copysign", "and", "or", "xor", "not", "cnot", "shl", "shr", "selp", "setp", "set", "slct", "popc",
    "clz", "brev", "bfe", "bfi", "bfind", "prmt", "lop3", "shf", "dp4a", "dp2a", "sad", "testp", "bra",
    "ret", "exit", "call", "bar", "barrier", "membar", "fence", "shfl", "vote", "activemask", "match",
    "redux", "atom", "red", "trap", "nanosleep", "cp", "ldmatrix", "stmatrix", "mma", "prefetch",
    "prefetchu", "isspacep", "pmevent", "addc", "subc", "madc", "fns", "bmsk", "szext", "elect",
    "griddepcontrol", "discard", "applypriority", "createpolicy",
)  # fmt: skip
TIER_TWO = {
    "wgmma": "wgmma.mma_async (warpgroup MMA)",
    "mbarrier": "mbarrier (asynchronous transaction barriers)",
    "tensormap": "tensormap (TMA descriptors)",
    "cp.async.bulk": "cp.async.bulk (TMA copies)",
    "barrier.cluster": "cluster barriers",
    "mapa": "mapa (distributed shared memory of a cluster)",
    "getctarank": "getctarank (clusters)",
    "multimem": "multimem",
    "setmaxnreg": "setmaxnreg",
    "tex": "texture fetches",
    "tld4": "texture fetches",
    "suld": "surface loads",
    "sust": "surface stores",
    "brx": "indirect branches (brx.idx)",
}
TYPES = (
    "none", "b8", "b16", "b32", "b64", "b128", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
    "f16", "f16x2", "bf16", "bf16x2", "f32", "f64", "pred", "tf32",
)  # fmt: skip
CMPS = (
    "none", "eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs",
    "equ", "neu", "ltu", "leu", "gtu", "geu", "num", "nan",
)  # fmt: skip
RNDS = ("none", "rn", "rz", "rm", "rp", "rni", "rzi", "rmi", "rpi", "rna", "rs")
SPACES = ("generic", "global", "shared", "local", "param", "const")
SUBS = (
    "none", "and", "or", "xor", "add", "min", "max", "inc", "dec", "cas", "exch", "popc",
    "up", "down", "bfly", "idx", "all", "any", "uni", "ballot", "l", "r",
    "commit_group", "wait_group", "wait_all", "f4e", "b4e", "rc8", "ecl", "ecr", "rc16",
    "finite", "infinite", "number", "notanumber", "normal", "subnormal",
)  # fmt: skip
FLAGS = (
    "ftz", "sat", "approx", "full", "lo", "hi", "wide", "sync", "aligned", "uni", "nc", "to",
    "volatile", "relaxed", "acquire", "release", "acq_rel", "sc", "cta", "gpu", "sys", "async",
    "trans", "x1", "x2", "x4", "m8n8", "m16n8k16", "m16n8k8", "row", "col", "cc", "shiftamt",
    "clamp", "wrap", "arrive", "red", "warp", "gl", "relu", "nan", "xorsign", "abs", "mmio",
    "weak", "proxy", "satfinite", "ca", "cg", "cs", "lu", "cv", "wb", "wt", "noftz",
)  # fmt: skip
IGNORED = {
    # cache and eviction hints change no value
    "L1::no_allocate", "L1::evict_normal", "L1::evict_unchanged", "L1::evict_first", "L1::evict_last",
    "L2::evict_normal", "L2::evict_first", "L2::evict_last", "L2::64B", "L2::128B", "L2::256B",
    "L2::cache_hint", "level::eviction_priority", "L2::evict_unchanged",
}  # fmt: skip
ALIASES = {"shared::cta": "shared", "sys": "sys", "gl": "gl", "NaN": "nan"}
SREGS = (
    "%tid.x", "%tid.y", "%tid.z", "%ntid.x", "%ntid.y", "%ntid.z",
    "%ctaid.x", "%ctaid.y", "%ctaid.z", "%nctaid.x", "%nctaid.y", "%nctaid.z",
    "%laneid", "%warpid", "%nwarpid", "%smid", "%nsmid", "%gridid",
    "%lanemask_eq", "%lanemask_lt", "%lanemask_le", "%lanemask_gt", "%lanemask_ge",
    "%clock", "%clock64", "%globaltimer", "%globaltimer_lo", "%globaltimer_hi",
    "%dynamic_smem_size", "%total_smem_size", "%aggr_smem_size",
)  # fmt: skip
OPERAND_KINDS = ("REG", "IMM", "SREG", "ADDR", "VEC", "SINK", "PAIR", "GROUP")

# The engine's address map (generic 64-bit addresses). Global buffers: the ABI's pointers at regions
# 0..63, every module `.global` variable in region 64, every `.const` one in region 65; each buffer
# starts in the middle of its 2^36-byte region so that an index before or past it still names it.
REGION_SHIFT = 36
BUFFER_BASE = 1 << 44
MODULE_GLOBALS_REGION = 64
MODULE_CONSTS_REGION = 65
REGIONS = 66
SHARED_WINDOW = 1 << 46
LOCAL_WINDOW = 3 << 45
PARAM_THREAD_BASE = 1 << 20  # param-space offsets below: the kernel's parameters; above: per thread


def region_base(index: int) -> int:
    return BUFFER_BASE + (index << REGION_SHIFT) + (1 << (REGION_SHIFT - 1))


def _enum(name: str, values: tuple[str, ...], prefix: str) -> str:
    def ident(v: str) -> str:
        return prefix + v.replace("%", "").replace(".", "_").replace("::", "_").upper()

    body = ",\n".join(f"  {ident(v)} = {i}" for i, v in enumerate(values))
    return f"enum {name} : int {{\n{body}\n}};\n"


def cpp_header() -> str:
    """The shared tables as C++ enums and constants (the engine's generated ptx_tables.h)."""
    parts = [
        "// Generated from kernel_skills/emulator/ptx/tables.py: do not edit.\n"
        "#pragma once\n#include <cstdint>\n",
        _enum("Op", tuple(o.replace(".", "_") for o in OPS), "OP_"),
        f"constexpr int OP_COUNT = {len(OPS)};\n",
        _enum("Type", TYPES, "T_"),
        _enum("Cmp", CMPS, "C_"),
        _enum("Rnd", RNDS, "R_"),
        _enum("Space", SPACES, "SP_"),
        _enum("Sub", SUBS, "S_"),
        _enum("SReg", SREGS, "SR_"),
        _enum("OperandKind", OPERAND_KINDS, "K_"),
        "".join(f"constexpr uint64_t F_{f.upper()} = 1ull << {i};\n" for i, f in enumerate(FLAGS)),
        f"constexpr uint64_t BUFFER_BASE = {BUFFER_BASE}ull;\n",
        f"constexpr int REGION_SHIFT = {REGION_SHIFT};\n",
        f"constexpr uint64_t SHARED_WINDOW = {SHARED_WINDOW}ull;\n",
        f"constexpr uint64_t LOCAL_WINDOW = {LOCAL_WINDOW}ull;\n",
        f"constexpr uint64_t PARAM_THREAD_BASE = {PARAM_THREAD_BASE}ull;\n",
        f"constexpr int MODULE_GLOBALS_FIRST = {MODULE_GLOBALS_REGION};\n",
        f"constexpr int REGIONS = {REGIONS};\n",
    ]
    assert len(FLAGS) <= 64
    return "\n".join(parts)
