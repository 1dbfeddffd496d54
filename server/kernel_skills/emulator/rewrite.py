"""Source checks and rewrites before a kernel is compiled for the CPU SIMT emulator.

`prepare_source` refuses (RefusedInput) what the emulator cannot run faithfully, before any compiler
runs, and rewrites the few CUDA constructs the engine models differently from C++:

- the `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32` inline asm becomes a call of the
  engine's implementation of that instruction;
- `extern __shared__ T name[];` (dynamic shared memory) becomes a pointer to the engine's buffer.

Every rewrite keeps the line count, so compiler messages and fault reports carry the submission's
own line numbers.
"""

from __future__ import annotations

import re

from kernel_skills.errors import EmulatorUnsupported, RefusedInput

# The headers a kernel may include: the CUDA headers the engine stands in for (cpp/include/), and
# the freestanding C/C++ headers (no I/O, no OS).
STUB_HEADERS = frozenset(
    {
        "cuda_bf16.h",
        "cuda_fp16.h",
        "cuda_runtime.h",
        "cuda_runtime_api.h",
        "cuda.h",
        "device_launch_parameters.h",
        "vector_types.h",
    }
)
STANDARD_HEADERS = frozenset(
    {
        "stdint.h",
        "cstdint",
        "stddef.h",
        "cstddef",
        "float.h",
        "cfloat",
        "limits.h",
        "climits",
        "math.h",
        "cmath",
        "type_traits",
    }
)
ACCEPTED_HEADERS = STUB_HEADERS | STANDARD_HEADERS

SUPPORTED: list[str] = [
    "threadIdx/blockIdx/blockDim/gridDim, warpSize; 1 to 1024 threads per block",
    "__syncthreads (and _count/_and/_or), __syncwarp",
    "__shfl_sync/__shfl_up_sync/__shfl_down_sync/__shfl_xor_sync (any mask and width, modelled "
    "exactly), __ballot_sync, __any_sync, __all_sync, __match_any_sync, __activemask",
    "static __shared__ variables and one `extern __shared__ T name[]` dynamic shared array",
    "atomicAdd/Sub/Max/Min/Exch/CAS/And/Or/Xor/Inc/Dec on int, unsigned, 64-bit and float types "
    "(atomicAdd also on __half, __half2, __nv_bfloat16, __nv_bfloat162)",
    "__ldg/__ldcg/__ldca/__ldcs/__stcg/__stcs and plain loads and stores (vector types are checked "
    "for alignment)",
    "float2/float4/int2/int4/uint2/uint4/... and make_*; __nv_bfloat16/__nv_bfloat162 and "
    "__half/__half2 with the cuda_bf16.h/cuda_fp16.h conversions and arithmetic",
    "fast-math intrinsics (__expf, __tanhf, __fdividef, rsqrtf, __frsqrt_rn, __fmaf_rn, ...), computed "
    "exactly, not with the GPU's rounding",
    "inline asm: only `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32` with the operand form "
    "{%0..%3}, {%4..%7}, {%8, %9}, {%0..%3}",
    "printf (the first 64 KiB of output; the rest is dropped with a note)",
    f"headers: {', '.join(sorted(ACCEPTED_HEADERS))}",
]

# Constructs that would compile but not run faithfully (or run code outside the engine's control).
_REFUSED_TOKENS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bwgmma\b|\bwarpgroup\b"), "wgmma (warpgroup MMA) is not modelled"),
    (
        re.compile(r"\b(?:cp_async\w*|__pipeline_\w+|memcpy_async|cp\.async\w*)\b"),
        "cp.async / memcpy_async pipelines are not modelled",
    ),
    (
        re.compile(r"\bmbarrier\w*|\bcuda::barrier\b|\bcuda::pipeline\b"),
        "mbarrier / cuda::barrier are not modelled",
    ),
    (re.compile(r"\bcuTensorMap\w*|\bCUtensorMap\b|\btensormap\b"), "TMA (tensor maps) is not modelled"),
    (
        re.compile(r"\bcooperative_groups\b|\bthis_grid\b|\bthis_thread_block\b"),
        "cooperative groups are not modelled",
    ),
    (re.compile(r"\bnvcuda::wmma\b|\bwmma::"), "the WMMA API is not modelled (use the mma.sync asm form)"),
    (re.compile(r"\b__cluster_dims__\b|\bcluster_\w+\b"), "thread-block clusters are not modelled"),
    (re.compile(r"\btex[123]D\w*|\bsurf[123]D\w*|\btexture\s*<"), "textures and surfaces are not modelled"),
    (re.compile(r"<<<"), "launching kernels from a kernel (dynamic parallelism) is not modelled"),
    (
        re.compile(
            r"\b(?:constructor|destructor|init_priority|ifunc|init_array|preinit_array)\b|\bsection\s*\("
        ),
        "attributes that run code at program start or place data in sections are not accepted",
    ),
    (re.compile(r"\bthread_local\b"), "thread_local is not accepted"),
    (re.compile(r"%:"), "digraph preprocessor directives are not accepted"),
]

_MMA_ASM = re.compile(
    r'\basm\s*(?:volatile\s*|__volatile__\s*)?\(\s*"mma\.sync\.aligned\.m16n8k16\.row\.col\.f32\.bf16\.bf16\.f32\s*"\s*'
    r'"\{%0, %1, %2, %3\}, \{%4, %5, %6, %7\}, \{%8, %9\}, \{%0, %1, %2, %3\};\\n"\s*'
    r":(?P<outs>[^:]*):(?P<ins>[^;]*?)\)\s*;",
    re.S,
)
_OPERAND = re.compile(r'"[+=]?[rf]"\s*\(([^()]*(?:\([^()]*\))?[^()]*)\)')
_ASM = re.compile(r"\b(?:asm|__asm__|__asm)\b")
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(\w*)(.*)$", re.M)
_INCLUDE_TARGET = re.compile(r'^\s*(?:<([^<>"]+)>|"([^<>"]+)")\s*$')
_EXTERN_SHARED = re.compile(
    r"\bextern\s+(?P<pre>(?:__align__\s*\(\s*\d+\s*\)\s*)?)__shared__\s+"
    r"(?P<post>(?:__align__\s*\(\s*\d+\s*\)\s*)?)(?P<type>[A-Za-z_][\w:<>, ]*?[\s\*]*)\s*"
    r"(?P<name>[A-Za-z_]\w*)\s*\[\s*\]\s*;"
)


def _refuse(what: str, source: str, at: int) -> EmulatorUnsupported:
    line = source.count("\n", 0, at) + 1
    return EmulatorUnsupported(
        f"the CPU emulator cannot run this kernel faithfully: {what} (line {line}). "
        f"Supported: {'; '.join(SUPPORTED)}."
    )


def code_view(source: str) -> str:
    """`source` with comments and string/character literals blanked (same length, newlines kept)."""
    out = list(source)
    i, n = 0, len(source)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = source[i]
        if source.startswith("//", i):
            j = source.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif source.startswith("/*", i):
            j = source.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and source[j] != c and source[j] != "\n":
                j += 2 if source[j] == "\\" else 1
            blank(i + 1, min(j, n))
            i = j + 1
        else:
            i += 1
    return "".join(out)


def _rewrite_mma(source: str) -> str:
    def call(match: re.Match[str]) -> str:
        outs = _OPERAND.findall(match["outs"])
        ins = _OPERAND.findall(match["ins"])
        if len(outs) != 4 or len(ins) != 6:
            raise _refuse(
                f"the mma.sync asm has {len(outs)} outputs and {len(ins)} inputs (expected 4 and 6)",
                source,
                match.start(),
            )
        newlines = match.group(0).count("\n")
        return f"::simt::mma_m16n8k16_bf16_operands({', '.join(outs + ins)});" + "\n" * newlines

    return _MMA_ASM.sub(call, source)


def _rewrite_extern_shared(source: str, code: str) -> str:
    # Several declarations all alias the one dynamic buffer, as on a GPU.
    for m in reversed(list(_EXTERN_SHARED.finditer(code))):
        ctype = m["type"].strip()
        replacement = f"{ctype}* const {m['name']} = reinterpret_cast<{ctype}*>(::simt::dynamic_shared);"
        source = source[: m.start()] + replacement + source[m.end() :]
    return source


def _check_directives(source: str, code: str) -> None:
    joined = code.replace("\\\n", "  ")  # a directive continued over lines is checked whole
    for m in _DIRECTIVE.finditer(joined):
        name, rest = m.group(1), m.group(2)
        if name in ("include", "include_next", "import"):
            text = re.sub(r"/\*.*?\*/|//.*", " ", source[m.start(2) : m.end(2)], flags=re.S)
            target = _INCLUDE_TARGET.match(text)
            header = target and (target.group(1) or target.group(2))
            if name != "include" or not header or header.strip() not in ACCEPTED_HEADERS:
                shown = source[m.start() : m.end()].strip()
                raise _refuse(
                    f"`{shown}` is not a header the emulator provides (accepted: "
                    f"{', '.join(sorted(ACCEPTED_HEADERS))}; host-only headers are refused)",
                    source,
                    m.start(),
                )
        elif name in ("embed", "line") and rest.strip():
            raise _refuse(f"the #{name} directive is not accepted", source, m.start())


def prepare_source(source: str) -> str:
    """The kernel source the emulator compiles; RefusedInput (with the supported list) when it holds
    something the emulator cannot run faithfully."""
    if "\x00" in source:
        raise RefusedInput("the kernel source contains a NUL byte")
    source = _rewrite_mma(source)
    code = code_view(source)
    _check_directives(source, code)
    asm = _ASM.search(code)
    if asm:
        raise _refuse(
            "inline asm other than the recognised mma.sync.m16n8k16 bf16 form is not modelled",
            source,
            asm.start(),
        )
    for pattern, what in _REFUSED_TOKENS:
        hit = pattern.search(code)
        if hit:
            raise _refuse(what, source, hit.start())
    return _rewrite_extern_shared(source, code)
