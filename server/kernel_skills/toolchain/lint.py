"""H100 advice from the compile report. Rule ids are a contract: the bundled skill's
``references/reading-reports.md`` has a ``### `<rule-id>` `` section for each, and every finding's
``doc`` points there."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kernel_skills.toolchain.models import KernelReport, LintFinding, SassSummary
from kernel_skills.toolchain.occupancy import SMEM_DEFAULT_PER_BLOCK

RULES = (
    "spills",
    "local-memory",
    "high-registers",
    "dynamic-smem-opt-in",
    "sm90a-required",
    "no-vector-loads",
    "not-extern-c",
    "low-occupancy",
    "block-size-multiple-of-32",
    "fp64-in-kernel",
)
DOC_BASE = "skill://h100-cuda-kernels/references/reading-reports.md#"
LOW_OCCUPANCY = 0.25
HIGH_REGISTERS_WITHOUT_BLOCK = 128
_DOUBLE_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d*|\.\d+)([eE][+-]?\d+)?(?![\w.])")
_DOUBLE_HINT = re.compile(r"\bdouble\b|\b(sqrt|exp|log|pow|sin|cos|tan|tanh|erf|fabs|floor|ceil|rsqrt)\s*\(")


@dataclass
class KernelSource:
    line: int
    prefix: str  # declaration text before the parameter list (attributes, __launch_bounds__)
    body: str
    body_line: int


@dataclass
class LintInput:
    source: str
    code: str  # source with comments and literal contents blanked (same offsets)
    arch: str
    kernels: list[KernelReport]
    sass: SassSummary | None
    block_size: int | None
    shared_mem: int | None


def lint(data: LintInput) -> list[LintFinding]:
    findings: list[LintFinding] = []
    findings += _arch_rules(data)
    findings += _launch_rules(data)
    sass_by_kernel = {k.name: k for k in data.sass.per_kernel} if data.sass else {}
    for kernel in data.kernels:
        where = find_kernel(data.code, _base_name(kernel))
        line = where.line if where else None
        sass = sass_by_kernel.get(kernel.name)
        findings += _resource_rules(kernel, where, line, data)
        if sass is not None:
            findings += _sass_rules(kernel, sass.features, sass.loop_global_loads, where, line)
        if not kernel.extern_c:
            findings.append(
                _finding(
                    "not-extern-c",
                    f"kernel {kernel.demangled or kernel.name} has a C++-mangled name ({kernel.name}); "
                    "declare it "
                    f'extern "C" __global__ to launch it by name (CuPy RawModule.get_function("name")), '
                    f"or pass the mangled name {kernel.name!r}",
                    line,
                    kernel.name,
                )
            )
    return findings


def _finding(rule: str, message: str, line: int | None = None, kernel: str | None = None) -> LintFinding:
    assert rule in RULES, rule
    return LintFinding(rule=rule, message=message, line=line, kernel=kernel, doc=DOC_BASE + rule)


def _arch_rules(data: LintInput) -> list[LintFinding]:
    if data.arch != "sm_90":
        return []
    # PTX instruction forms live inside asm() strings, so look at the raw source for those.
    match = re.search(r"\b(wgmma|setmaxnreg)\b", data.code) or re.search(
        r"\b(wgmma|setmaxnreg)\.", data.source
    )
    if not match:
        return []
    line = data.source.count("\n", 0, match.start()) + 1
    return [
        _finding(
            "sm90a-required",
            f"{match.group(1)} needs the arch-specific target sm_90a; plain sm_90 cannot run it. "
            "Compile with arch='sm_90a' (H100)",
            line,
        )
    ]


def _launch_rules(data: LintInput) -> list[LintFinding]:
    findings: list[LintFinding] = []
    if data.block_size is not None and data.block_size % 32:
        findings.append(
            _finding(
                "block-size-multiple-of-32",
                f"block size {data.block_size} is not a multiple of 32: the last warp runs "
                f"{data.block_size % 32} of 32 lanes and the rest are wasted; "
                f"use {(data.block_size // 32 + 1) * 32}",
            )
        )
    if data.shared_mem is not None and data.shared_mem > SMEM_DEFAULT_PER_BLOCK:
        match = re.search(r"extern\s+__shared__", data.code)
        line = data.code.count("\n", 0, match.start()) + 1 if match else None
        findings.append(
            _finding(
                "dynamic-smem-opt-in",
                f"{data.shared_mem} bytes of dynamic shared memory is above the 48 KB default: set "
                "cudaFuncAttributeMaxDynamicSharedMemorySize (CuPy: kernel.max_dynamic_shared_size_bytes = "
                f"{data.shared_mem}) before launching, or the launch fails",
                line,
            )
        )
    return findings


def _resource_rules(
    kernel: KernelReport, where: KernelSource | None, line: int | None, data: LintInput
) -> list[LintFinding]:
    findings: list[LintFinding] = []
    name = kernel.demangled or kernel.name
    if kernel.spill_stores or kernel.spill_loads:
        findings.append(
            _finding(
                "spills",
                f"{name} spills registers to local memory ({kernel.spill_stores} bytes stored, "
                f"{kernel.spill_loads} bytes loaded): fewer live values, smaller tiles, or a looser "
                "-maxrregcount/__launch_bounds__",
                line,
                kernel.name,
            )
        )
    elif kernel.stack_bytes:
        findings.append(
            _finding(
                "local-memory",
                f"{name} uses {kernel.stack_bytes} bytes of stack (local memory) without spilling: usually a "
                "local array indexed at run time or a variable whose address is taken; unroll so indices are "
                "constants, or use registers/shared memory",
                line,
                kernel.name,
            )
        )
    bounded = where is not None and "__launch_bounds__" in where.prefix
    occ = kernel.occupancy
    heavy = (
        occ is not None and occ.limited_by == "registers" and occ.occupancy < 0.5
        if occ is not None
        else kernel.registers >= HIGH_REGISTERS_WITHOUT_BLOCK
    )
    if heavy and not bounded:
        findings.append(
            _finding(
                "high-registers",
                f"{name} uses {kernel.registers} registers per thread, which limits occupancy"
                + (f" to {occ.occupancy:.0%} at {occ.block_size} threads" if occ else "")
                + "; add __launch_bounds__(threads, minBlocks) so the compiler budgets registers",
                line,
                kernel.name,
            )
        )
    if occ is not None and occ.occupancy < LOW_OCCUPANCY:
        findings.append(
            _finding(
                "low-occupancy",
                f"{name} reaches {occ.occupancy:.0%} theoretical occupancy ({occ.active_warps} of "
                f"{occ.max_warps} warps per SM) at {occ.block_size} threads, limited by {occ.limited_by}",
                line,
                kernel.name,
            )
        )
    return findings


def _sass_rules(
    kernel: KernelReport,
    features: list[str],
    loop_global_loads: int,
    where: KernelSource | None,
    line: int | None,
) -> list[LintFinding]:
    findings: list[LintFinding] = []
    name = kernel.demangled or kernel.name
    if loop_global_loads and not {"ldg.128", "cp.async", "tma"} & set(features):
        findings.append(
            _finding(
                "no-vector-loads",
                f"{name} loops over global memory without 16-byte loads (no LDG.128 in its SASS): load "
                "float4 / uint4 (8 bf16) per thread with aligned pointers to move more bytes per instruction",
                line,
                kernel.name,
            )
        )
    if "fp64" in features:
        hint_line = _fp64_hint_line(where) if where else None
        findings.append(
            _finding(
                "fp64-in-kernel",
                f"{name} executes FP64 instructions (H100 FP64 is ~1/2 the FP32 rate on SXM and costly in "
                "registers): usually a double literal like 1.0 (write 1.0f) or sqrt/exp on a double (use "
                "sqrtf/expf or __ functions)",
                hint_line or line,
                kernel.name,
            )
        )
    return findings


def _fp64_hint_line(where: KernelSource) -> int | None:
    for offset, text in enumerate(where.body.splitlines()):
        if _DOUBLE_LITERAL.search(text) or _DOUBLE_HINT.search(text):
            return where.body_line + offset
    return None


def _base_name(kernel: KernelReport) -> str:
    text = kernel.demangled or kernel.name
    head = text.split("(", 1)[0]
    depth, out = 0, []
    for ch in head:  # drop template arguments
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out).split()[-1].split("::")[-1] if "".join(out).split() else text


def find_kernel(code: str, name: str) -> KernelSource | None:
    """Where a kernel is defined in the source (code view: comments and literals blanked)."""
    pattern = re.compile(r"\b__global__\b[^;{}]*?\b" + re.escape(name) + r"\s*\(")
    for match in pattern.finditer(code):
        depth, i = 0, match.end() - 1
        while i < len(code):  # skip the parameter list
            depth += {"(": 1, ")": -1}.get(code[i], 0)
            i += 1
            if depth == 0:
                break
        brace = code.find("{", i)
        if brace < 0 or (code[i:brace].strip(" \t\n\r") and ";" in code[i:brace]):
            continue  # a declaration, not the definition
        end, depth = brace, 0
        while end < len(code):
            depth += {"{": 1, "}": -1}.get(code[end], 0)
            end += 1
            if depth == 0:
                break
        return KernelSource(
            line=code.count("\n", 0, match.start()) + 1,
            prefix=code[match.start() : match.end()],
            body=code[brace:end],
            body_line=code.count("\n", 0, brace) + 1,
        )
    return None
