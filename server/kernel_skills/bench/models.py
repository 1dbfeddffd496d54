"""Pydantic models at the bench boundary (requests in, results out). Field names are stable names
(tests/contract/test_stable_names.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kernel_skills.bench.roofline import Achieved, Peaks, Roofline
from kernel_skills.bench.stats import TimeStats

Baseline = Literal["torch_eager", "torch_compile"]
Device = Literal["auto", "gpu", "emulator"]
VerifiedOn = Literal["gpu", "cpu-emulator"]
Bound = Literal["memory", "cache", "shared", "compute", "issue", "launch"]
LAUNCH_US = 2.5  # the estimate's fixed cost of a launch as CUDA events see it (bench.estimate)
BASELINES: tuple[str, ...] = ("torch_eager", "torch_compile")
MAX_SOURCE_CHARS = 512 * 1024


class BenchRequest(BaseModel):
    """One submission. Exactly one of ``source`` (CUDA C++) or ``compile_id`` (from compile_kernel)."""

    model_config = ConfigDict(extra="forbid")

    problem: str
    source: str | None = Field(default=None, max_length=MAX_SOURCE_CHARS)
    compile_id: str | None = Field(default=None, max_length=128)
    kernel: str | None = Field(default=None, max_length=256)
    block: list[int] = Field(default_factory=lambda: [256], min_length=1, max_length=3)
    grid: list[str | int] = Field(min_length=1, max_length=3)
    shared_mem: str | int = "0"
    shapes: list[str] | None = Field(default=None, max_length=16)
    baseline: list[Baseline] | None = None
    options: list[str] | None = Field(default=None, max_length=32)  # compile options (CLI / solutions.json)
    headers: dict[str, str] | None = None  # inline headers for the compile (solutions.json)
    quick: bool = False  # shorter timing cap (smoke runs)
    # auto: the GPU when one is usable, else the CPU emulator; gpu: the GPU or DeviceUnavailable;
    # emulator: the CPU emulator even where a GPU is present (correctness only, never timed)
    device: Device = "auto"
    # on a GPU, also run the CPU emulator on the same kernel for its counters and H100 estimate beside
    # the measured time (the estimate's error is then stored); the emulator always counts
    counters: bool = False

    @field_validator("block", mode="before")
    @classmethod
    def _block_forms(cls, value: object) -> object:
        """256, "256" and "32,8" mean [256] and [32, 8] (a block is only integers: unambiguous)."""
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return [value]
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace("x", ",").split(",")]
            return [int(p) if p.isdigit() else p for p in parts]
        return value

    @field_validator("grid", mode="before")
    @classmethod
    def _grid_forms(cls, value: object) -> object:
        """One expression or integer means a 1-D grid (a string is never split: ceil_div(a, b) has a
        comma)."""
        if isinstance(value, str | int) and not isinstance(value, bool):
            return [value]
        return value


class Check(BaseModel):
    name: str
    passed: bool
    detail: str = ""


class KernelInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    registers: int | None = None
    spill_stores: int | None = None
    spill_loads: int | None = None
    stack_bytes: int | None = None
    shared_bytes: int | None = None
    param_sizes: list[int] | None = None
    compile_id: str | None = None


class DeviceInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    compute_capability: str | None = None
    sm_count: int | None = None
    l2_bytes: int | None = None
    memory_bytes: int | None = None
    uuid: str | None = None
    driver: str | None = None


class Provenance(BaseModel):
    driver: str | None = None
    cuda_runtime: str | None = None
    torch: str | None = None
    cupy: str | None = None
    kernel_skills: str
    source_sha256: str | None = None
    cubin_sha256: str | None = None
    date: str
    seeds: list[int] = Field(default_factory=list)


class LaunchInfo(BaseModel):
    block: list[int]
    grid: list[str]
    shared_mem: str


class ShapeTiming(BaseModel):
    shape_set: str
    sizes: dict[str, int]
    time_us: TimeStats
    baseline_us: dict[str, TimeStats] = Field(default_factory=dict)
    speedup: dict[str, float] = Field(default_factory=dict)
    achieved: Achieved
    roofline: Roofline
    bytes_moved: int
    flops: int


class MemoryCounters(BaseModel):
    """Global loads or stores of one launch. A request is one warp-level memory instruction (generic
    accesses that resolve to global memory included); its sectors are the distinct 32-byte sectors its
    active lanes touch; ideal: the sectors a contiguous, aligned request of the same bytes would touch
    (ceil(bytes / 32)); efficiency = bytes requested / (sectors x 32)."""

    requests: int
    sectors: int
    bytes_requested: int
    sectors_per_request: float | None = None
    ideal_sectors_per_request: float | None = None
    efficiency: float | None = None


class SharedCounters(BaseModel):
    """Shared memory (32 banks of 4 bytes): a request's wavefronts, the fewest its bytes need (a
    conflict-free 16-byte access takes 4), and the excess, the bank conflicts. A broadcast is free."""

    requests: int
    wavefronts: int
    ideal_wavefronts: int
    bank_conflicts: int


class LaunchCounters(BaseModel):
    """The grid at the problem's first device shape; waves on the H100's 132 SMs at the occupancy the
    compile report's registers and shared memory allow (blocks / 132 when they are unknown)."""

    shape: dict[str, int]
    blocks: int
    warps_per_block: int
    blocks_per_sm: int | None = None
    waves_on_h100: float


class BufferTraffic(BaseModel):
    name: str
    sectors: int  # every request's sectors in this buffer, loads and stores (a re-read counts again)
    unique_sectors: int  # distinct sectors touched
    bytes_loaded: int = 0  # bytes the lanes asked for
    bytes_stored: int = 0


class LineCounters(BaseModel):
    """One source line's global requests and sectors (loads and stores) and shared bank conflicts."""

    line: int
    requests: int
    sectors: int
    ideal_sectors: int
    bytes_requested: int = 0
    shared_requests: int = 0
    bank_conflicts: int = 0


class CounterFinding(BaseModel):
    """An actionable reading of the counters. ``cost_bytes``: a rough proxy of what it costs at the
    counted shape (excess sector bytes; a bank conflict as 128 bytes of shared bandwidth; a narrow
    access as 32 bytes per request that 16-byte accesses would save), used only to rank; ``doc``:
    the skill section."""

    rule: str
    message: str
    line: int | None = None
    cost_bytes: int = 0
    doc: str


class ScaledCounters(BaseModel):
    """The counted launch's totals scaled to ``shape`` (the problem's first timed shape): memory by
    ``bytes_scale`` (the problem's bytes_moved there over at the counted shape), instructions and shared
    wavefronts by ``work_scale`` (its flops ratio where it declares flops, else the bytes ratio)."""

    shape: dict[str, int]
    bytes_scale: float
    work_scale: float
    requests: int  # global loads and stores
    sector_bytes: int  # every request's sectors x 32 (a re-read counts again)
    unique_bytes: int  # distinct sectors x 32
    shared_wavefronts: int
    instructions: dict[str, int]


class Counters(BaseModel):
    """Memory-efficiency counters of one emulated launch (``basis`` says which and what they miss).
    ``instructions``: warp-level PTX instructions by class (total, fp32, int, bf16_f16, special, memory,
    control, sync, tensor). ``traffic_vs_ideal``: every request's sectors x 32 over the problem's
    ``bytes_moved`` at the counted shape; ``unique_traffic_vs_ideal``: distinct sectors x 32 over it."""

    basis: str
    shape: dict[str, int]
    global_load: MemoryCounters
    global_store: MemoryCounters
    shared: SharedCounters
    instructions: dict[str, int]
    traffic_vs_ideal: float | None = None
    unique_traffic_vs_ideal: float | None = None
    launch: LaunchCounters | None = None
    at_shape: ScaledCounters | None = None
    buffers: list[BufferTraffic] = Field(default_factory=list)
    lines: list[LineCounters] = Field(default_factory=list)
    findings: list[CounterFinding] = Field(default_factory=list)  # most costly first


class EstimateModel(BaseModel):
    """The model's two free parameters: ``scale`` multiplies the resources' time, ``launch_us`` is added.
    Defaults until ``fit`` has GPU measurements to fit them to."""

    scale: float = 1.0
    launch_us: float = LAUNCH_US
    fitted_on: int = 0  # how many measured kernels
    median_error_before: float | None = None  # median |estimate / measured - 1| with the previous model
    median_error_after: float | None = None
    fitted_at: str | None = None


class Estimate(BaseModel):
    """An H100 time estimate from the emulator's counters (a model, not a measurement; see ``basis``).
    ``terms_us``: each resource's time at ``shape``; ``bound``: the largest (or "launch" when the fixed
    launch cost exceeds them); ``fraction_of_peak``: the roofline floor at ``shape`` over ``time_us``.
    ``measured_us`` and ``error`` (estimate / measured - 1) only when a GPU timed the same kernel."""

    time_us: float
    bound: Bound
    fraction_of_peak: float | None = None
    basis: str
    shape: dict[str, int]
    terms_us: dict[str, float] = Field(default_factory=dict)
    utilisation: float = 1.0
    throughput_us: float  # max(terms) / utilisation, before the model's scale and launch cost
    peaks: Peaks
    peaks_source: str
    measured_us: float | None = None
    error: float | None = None


class BenchResult(BaseModel):
    """``ok``: compiled, correct, timed and plausible. ``correct``: every correctness check passed.

    ``time_us`` / ``baseline_us`` / ``speedup`` / ``achieved`` / ``roofline`` describe the first
    timed shape; ``timings`` has every timed shape. ``verified_on``: where correctness was checked
    ("gpu", with ``device`` naming it, or "cpu-emulator": never timed, ``limits`` says what it models);
    None when nothing ran (a compile error).
    """

    ok: bool
    correct: bool
    problem: str
    verified_on: VerifiedOn | None = None
    checks: list[Check] = Field(default_factory=list)
    time_us: TimeStats | None = None
    baseline_us: dict[str, TimeStats] = Field(default_factory=dict)
    speedup: dict[str, float] = Field(default_factory=dict)
    achieved: Achieved | None = None
    roofline: Roofline | None = None
    timings: list[ShapeTiming] = Field(default_factory=list)
    kernel: KernelInfo | None = None
    launch: LaunchInfo | None = None
    device: DeviceInfo | None = None
    provenance: Provenance
    warnings: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    limits: str | None = None
    compile_log: str | None = None
    # the CPU emulator's non-failing observations (e.g. a plain read racing atomics) and the kernel's
    # printf output from its first launches (bounded)
    findings: list[str] = Field(default_factory=list)
    printf: str | None = None
    # the CPU emulator's memory-efficiency counters (None on a GPU run and when nothing was counted)
    counters: Counters | None = None
    # an H100 time from the counters: a model, never in time_us (with measured_us and error on a GPU run)
    estimate: Estimate | None = None
    result_id: int | None = None


class ProblemInfo(BaseModel):
    name: str
    description: str
    signature: str
    size_variables: list[str]
    inputs: list[str] = Field(default_factory=list)  # per call, from make_inputs
    parameters: list[str] = Field(default_factory=list)  # per shape and seed, from make_params
    outputs: list[str]
    shapes: dict[str, list[dict[str, int]]]
    tolerance: dict[str, tuple[float, float]]
    timed_shape_sets: list[str]
    emulator_shapes: list[dict[str, int]] = Field(default_factory=list)
    # which shapes each device checks: {"gpu": ..., "cpu-emulator": ...}
    device_shapes: dict[str, str] = Field(default_factory=dict)
    origin: str
    origin_kind: str = "bundled"  # "bundled", "user" (--problems-dir) or "kernelbench" (imported)


class ProblemList(BaseModel):
    problems: list[ProblemInfo]
    invalid: list[dict[str, str]] = Field(default_factory=list)
    expression_syntax: str


class Calibration(BaseModel):
    device_key: str
    device: DeviceInfo
    peaks: Peaks
    measured_at: str
    method: str


class ResultSummary(BaseModel):
    id: int
    problem: str
    created: str
    ok: bool
    correct: bool
    kernel: str | None
    source_sha256: str | None
    time_us_median: float | None
    speedup_torch_eager: float | None
    device: str | None
    verified_on: VerifiedOn | None = None
    estimate_us: float | None = None  # the emulator's H100 estimate (a model)
    estimate_error: float | None = None  # estimate / measured - 1, where a GPU timed the same kernel
    summary: str


class ResultList(BaseModel):
    problem: str
    results: list[ResultSummary]
    # what the results DB had to do or could not do (a repair, verdicts held in memory)
    warnings: list[str] = Field(default_factory=list)
