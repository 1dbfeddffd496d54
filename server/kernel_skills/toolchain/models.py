"""Pydantic models of the compile toolchain. Field names are stable (tests/contract/test_stable_names.py:
"compile: ok, arch, diagnostics[...], kernels[...], sass{...}, lint[...], cached, compile_ms, log");
add fields freely, never rename."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DEFAULT_ARCH = "sm_90a"
MAX_SOURCE_BYTES = 1_000_000
MAX_HEADERS = 64


class CompileRequest(BaseModel):
    """What an agent submits: CUDA C++ plus optional inline headers and allow-listed options."""

    source: str = Field(description="CUDA C++ translation unit (device code only)")
    arch: str = Field(default=DEFAULT_ARCH, description="target, e.g. sm_90a (H100), sm_90, sm_80")
    options: list[str] = Field(default_factory=list, description="allow-listed NVRTC options")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="inline headers {include name: source}; the only non-toolkit includes",
    )
    block_size: int | None = Field(
        default=None, description="threads per block, for occupancy and launch-shape lint"
    )
    shared_mem: int | None = Field(
        default=None, description="dynamic shared memory per block in bytes, for occupancy and lint"
    )
    want_ptx: bool = False


class Diagnostic(BaseModel):
    severity: Literal["error", "warning", "remark", "fatal"]
    line: int | None
    column: int | None
    message: str
    file: str = Field(
        description="the submission's name, an inline header's name, or a toolkit header's include name "
        "(e.g. cooperative_groups/details/info.h, with toolkit true)"
    )
    code: str | None = Field(default=None, description="NVRTC diagnostic number, e.g. 177-D")
    excerpt: str | None = Field(default=None, description="source lines around the line, caret under it")
    toolkit: bool = Field(
        default=False, description="the line is in a toolkit header (or a standard-header shim), not yours"
    )

    def where(self, submission: str = "kernel.cu") -> str:
        """``line 5`` in the submission, ``cooperative_groups/details/info.h:52`` elsewhere."""
        if self.file == submission and not self.toolkit:
            return f"line {self.line}" if self.line is not None else submission
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return where + (" (toolkit header)" if self.toolkit else "")


class Occupancy(BaseModel):
    """Theoretical occupancy on an H100 (sm_90) for one block size."""

    block_size: int
    dynamic_shared_bytes: int
    blocks_per_sm: int
    active_warps: int
    max_warps: int
    occupancy: float = Field(description="active warps / max warps per SM, 0..1")
    limited_by: Literal["registers", "shared_memory", "warps", "blocks", "block_size"]
    limits: dict[str, int] = Field(description="blocks per SM allowed by each resource")


class KernelReport(BaseModel):
    """One entry point: the ptxas resource report, its parameters and occupancy."""

    name: str = Field(description='symbol name as in the cubin (mangled unless extern "C")')
    demangled: str | None = None
    extern_c: bool
    registers: int
    spill_stores: int
    spill_loads: int
    stack_bytes: int
    shared_bytes: int = Field(description="static shared memory per block")
    constant_bytes: int = 0
    barriers: int
    param_sizes: list[int] | None = Field(default=None, description="bytes per parameter, in order")
    occupancy: Occupancy | None = None


class SassKernel(BaseModel):
    name: str
    instructions: int
    loop_global_loads: int = Field(default=0, description="global load instructions inside SASS loops")
    counts: dict[str, int]
    features: list[str]


class SassSummary(BaseModel):
    """What the machine code does: instruction classes and notable features, per kernel and overall."""

    instructions: int
    counts: dict[str, int]
    features: list[str]
    per_kernel: list[SassKernel]


class LintFinding(BaseModel):
    rule: str
    message: str
    line: int | None = None
    kernel: str | None = None
    doc: str


class Sandbox(BaseModel):
    """How the compiler that produced this result was confined (the include sandbox's third wall)."""

    confined: bool = Field(description="false only on the explicit --unconfined opt-out")
    method: Literal["namespace+landlock", "namespace", "landlock", "unconfined"] = Field(
        description="namespace: a mount namespace whose root holds only the readable folders; "
        "landlock: kernel-enforced read allow-list"
    )
    readable: list[str] = Field(default_factory=list, description="what the compiler could read")
    landlock_abi: int | None = Field(default=None, description="the kernel's Landlock ABI version, if any")
    detail: str = ""


class CompileResult(BaseModel):
    ok: bool
    arch: str
    compile_id: str | None = Field(default=None, description="pass to the benchmark; names the stored cubin")
    diagnostics: list[Diagnostic] = Field(default_factory=list)
    kernels: list[KernelReport] = Field(default_factory=list)
    sass: SassSummary | None = None
    lint: list[LintFinding] = Field(default_factory=list)
    cached: bool = False
    compile_ms: float = Field(description="NVRTC time (0 on a cache hit's lookup; original time kept)")
    total_ms: float = Field(default=0.0, description="wall time of this request, analysis included")
    log: str = Field(description="NVRTC log, filtered to the submission and allowed headers")
    ptx: str | None = None
    options: list[str] = Field(default_factory=list, description="the options NVRTC actually got (yours)")
    nvrtc_version: str = ""
    withheld: int = Field(default=0, description="log diagnostics dropped because they pointed outside")
    sandbox: Sandbox | None = Field(default=None, description="how the compiler was confined")
