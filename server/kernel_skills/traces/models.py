"""The trace format (one ``TraceEvent`` per JSON line; field names are the file format: add, never rename)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

EventKind = Literal["session", "skills_listed", "skill_read", "file_read", "compile", "benchmark", "tool"]


class DiagnosticRecord(BaseModel):
    severity: str
    line: int | None = None
    message: str
    code: str | None = None
    file: str | None = None  # None or "kernel.cu": the submission; else an inline or toolkit header

    def where(self) -> str:
        """``line 5`` in the submission, ``cuda/std/array:448`` in a header."""
        file = self.file or "kernel.cu"
        if file == "kernel.cu":
            return f"line {self.line}" if self.line is not None else file
        return f"{file}:{self.line}" if self.line is not None else file


class KernelRecord(BaseModel):
    name: str
    registers: int | None = None
    spill_stores: int | None = None
    spill_loads: int | None = None
    shared_bytes: int | None = None
    occupancy: float | None = None


class LintRecord(BaseModel):
    rule: str
    message: str
    line: int | None = None


class CompileRecord(BaseModel):
    source_hash: str  # sha256 of the source; the text is in sources/<hash>.cu
    source_chars: int
    arch: str = "sm_90a"
    options: list[str] = Field(default_factory=list)
    headers: list[str] = Field(default_factory=list)  # inline header names
    block_size: int | None = None
    ok: bool = False
    compile_id: str | None = None
    diagnostics: list[DiagnosticRecord] = Field(default_factory=list)
    kernels: list[KernelRecord] = Field(default_factory=list)
    lint: list[LintRecord] = Field(default_factory=list)
    sass_features: list[str] = Field(default_factory=list)


class CheckRecord(BaseModel):
    name: str
    detail: str = ""


class BenchRecord(BaseModel):
    problem: str
    kernel: str | None = None
    block: list[int] = Field(default_factory=list)
    grid: list[str] = Field(default_factory=list)
    shared_mem: str = "0"
    shapes: list[str] | None = None
    source_hash: str | None = None  # when the source came inline
    compile_id: str | None = None  # when it came from compile_kernel
    ok: bool = False
    correct: bool = False
    checks_passed: int = 0
    checks_failed: list[CheckRecord] = Field(default_factory=list)
    time_us: float | None = None  # median, first timed shape
    baseline_us: dict[str, float] = Field(default_factory=dict)  # medians
    speedup: dict[str, float] = Field(default_factory=dict)
    verified_on: str | None = None  # "gpu" / "cpu-emulator" where the bench reports it
    device: str | None = None
    warnings: list[str] = Field(default_factory=list)


class TraceEvent(BaseModel):
    seq: int
    at: str  # ISO 8601 UTC
    elapsed_s: float  # since the trace began
    client: str | None = None  # the client's name from its MCP client info
    kind: EventKind
    method: str  # "tools/call", "resources/read", "skills/get", "session"
    tool: str | None = None
    ok: bool = True
    error: str | None = None  # the error text the client got
    duration_ms: float = 0.0
    skill: str | None = None
    path: str | None = None  # skill file path (skill_read / file_read)
    chars: int | None = None  # size of what was read
    compile: CompileRecord | None = None
    benchmark: BenchRecord | None = None
    args: dict[str, Any] = Field(default_factory=dict)  # other tools: their arguments
    info: dict[str, Any] = Field(default_factory=dict)  # session: server version, protocol version


class TraceSummary(BaseModel):
    id: str
    path: str
    client: str | None
    started: str | None
    events: int
    skills_read: list[str]
    compiles: int
    compile_errors: int
    benchmarks: int
    correct_benchmarks: int
    best_speedup: float | None = None  # over torch_eager, correct benchmarks only


class Trace(BaseModel):
    id: str
    path: str
    events: list[TraceEvent]
    sources: dict[str, str] = Field(default_factory=dict)  # hash -> source, for export
