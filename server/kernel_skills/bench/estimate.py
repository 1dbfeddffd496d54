"""An H100 time estimate from the CPU emulator's counters: a model, labelled as one, never a measurement.

The model (docs/emulator.md, "The estimate"), at the problem's first timed shape:

- the counted launch's totals scaled to that shape (``Counters.at_shape``: memory by the problem's
  ``bytes_moved``, instructions by its ``flops``);
- each resource's time is its work over its rate: DRAM (distinct sectors x 32 bytes at the copy bandwidth),
  the caches (every request's sectors x 32 at ``L2_GBPS``), shared memory (wavefronts at one per SM per
  clock), each instruction class at its issue rate per SM (``CLASS_RATES``, sm_90 throughput), the
  tensor instructions at the bf16 matmul rate (``MMA_FLOPS`` each), and the total at 4 issues per SM per
  clock;
- the slowest resource bounds the launch (they overlap); a partial last wave (``waves_on_h100``) leaves SMs
  idle, so that time is divided by the waves' utilisation (waves / ceil(waves));
- plus ``LAUNCH_US``, what CUDA events see of a launch and its first memory latency.

The copy bandwidth and bf16 rate are this machine's ``calibrate`` figures for an H100 when it has them,
else the figures measured on an H100 SXM in the notes. ``scale`` and ``launch_us`` can be refitted from
stored GPU measurements of estimated kernels (``fit``; ``kernel-skills calibrate --estimate``). What the
model misses: latency when few warps are resident, ptxas's scheduling and spills, L2 hit rates between
the two bounds, clock changes.
"""

from __future__ import annotations

import math
import statistics

from kernel_skills.bench.models import Bound, Counters, Estimate, EstimateModel, ScaledCounters
from kernel_skills.bench.roofline import Peaks, floor

H100_SMS = 132
CLOCK_GHZ = 1.755  # H100 SXM sustained boost under load
ISSUE_PER_CLOCK = 4.0  # warp instructions per SM per clock (4 schedulers)
L2_GBPS = 7000.0  # bytes per second / 1e9 the caches deliver to the SMs
SHARED_WAVEFRONTS_PER_CLOCK = 1.0
MMA_FLOPS = 2 * 16 * 8 * 16  # mma.sync m16n8k16, the common tensor instruction
# warp instructions per SM per clock by class (CUDA C++ guide's throughput table, compute capability 9.0)
CLASS_RATES: dict[str, float] = {
    "fp32": 4.0,  # 128 FP32 lanes
    "bf16_f16": 4.0,  # packed half2/bfloat162 at the FP32 rate
    "int": 2.0,  # 64 INT32 lanes
    "special": 0.5,  # 16 SFU lanes (ex2, rsqrt, sin...)
    "memory": 1.0,  # 32 load/store lanes
    "control": 2.0,
    "sync": 1.0,
}
DATASHEET_PEAKS = Peaks(copy_gbps=3000.0, bf16_tflops=800.0)
DATASHEET_SOURCE = "H100 SXM figures from the notes (copy 3000 GB/s measured, bf16 800 TFLOP/s via cuBLAS)"

BASIS = (
    "a model from the CPU emulator's counters, not a measurement: totals scaled to {shape}, each resource "
    "at its H100 rate (peaks_source), the slowest bounding, idle SMs of a partial wave, plus {launch:g} us "
    "per launch, scale {scale:g}; it misses latency, ptxas scheduling and spills, partial L2 hits "
    "(docs/emulator.md)"
)


def terms_us(at: ScaledCounters, peaks: Peaks) -> dict[str, float]:
    """Each resource's time (microseconds) for the scaled totals ``at``."""
    per_us = H100_SMS * CLOCK_GHZ * 1e3  # SM-clocks per microsecond
    terms = {
        "memory": at.unique_bytes / (peaks.copy_gbps * 1e3),
        "cache": at.sector_bytes / (L2_GBPS * 1e3),
        "shared": at.shared_wavefronts / (SHARED_WAVEFRONTS_PER_CLOCK * per_us),
        "issue": at.instructions.get("total", 0) / (ISSUE_PER_CLOCK * per_us),
    }
    compute = [at.instructions.get(name, 0) / (rate * per_us) for name, rate in CLASS_RATES.items()]
    compute.append(at.instructions.get("tensor", 0) * MMA_FLOPS / (peaks.bf16_tflops * 1e6))
    terms["compute"] = max(compute)
    return {k: round(v, 4) for k, v in terms.items()}


def h100_estimate(
    counters: Counters,
    *,
    bytes_moved: int,
    flops: int,
    peaks: Peaks,
    peaks_source: str,
    model: EstimateModel | None = None,
) -> Estimate | None:
    """The estimate at ``counters.at_shape`` (None when the counters were not scaled to a timed shape);
    ``bytes_moved`` and ``flops`` are the problem's at that shape (for the roofline fraction)."""
    at = counters.at_shape
    if at is None:
        return None
    model = model or EstimateModel()
    terms = terms_us(at, peaks)
    waves = counters.launch.waves_on_h100 if counters.launch is not None else 0.0
    utilisation = waves / math.ceil(waves) if waves > 0 else 1.0
    worst: Bound = max(terms, key=lambda k: terms[k])  # type: ignore[assignment]
    throughput = terms[worst] / utilisation
    time_us = model.scale * throughput + model.launch_us
    bound: Bound = "launch" if model.launch_us > model.scale * throughput else worst
    roof = floor(bytes_moved, flops, peaks)
    return Estimate(
        time_us=round(time_us, 3),
        bound=bound,
        fraction_of_peak=round(roof.floor_us / time_us, 4) if time_us > 0 else None,
        basis=BASIS.format(shape=at.shape, launch=model.launch_us, scale=model.scale),
        shape=dict(at.shape),
        terms_us=terms,
        utilisation=round(utilisation, 4),
        throughput_us=round(throughput, 4),
        peaks=peaks,
        peaks_source=peaks_source,
    )


def with_measurement(found: Estimate, measured_us: float) -> Estimate:
    """``found`` beside a GPU's measured median of the same kernel at the same shape."""
    error = found.time_us / measured_us - 1 if measured_us > 0 else None
    return found.model_copy(update={"measured_us": measured_us, "error": error})


def fit(pairs: list[tuple[float, float]], current: EstimateModel, fitted_at: str) -> EstimateModel:
    """Refit ``scale`` and ``launch_us`` to (throughput_us, measured_us) pairs by least squares (scale
    alone, launch cost kept, with fewer than three pairs or a degenerate fit); reports the median
    relative error before and after."""
    pairs = [(x, y) for x, y in pairs if x > 0 and y > 0]
    if not pairs:
        return current

    def error(m: EstimateModel) -> float:
        return statistics.median(abs((m.scale * x + m.launch_us) / y - 1) for x, y in pairs)

    scale, launch = current.scale, current.launch_us
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    if len(pairs) >= 3 and statistics.pvariance(xs) > 0:
        slope, intercept = statistics.linear_regression(xs, ys)
        if slope > 0 and intercept >= 0:
            scale, launch = slope, intercept
        else:
            scale = statistics.median(max(y - launch, 1e-3) / x for x, y in pairs)
    else:
        scale = statistics.median(max(y - launch, 1e-3) / x for x, y in pairs)
    fitted = EstimateModel(
        scale=round(scale, 4),
        launch_us=round(launch, 3),
        fitted_on=len(pairs),
        median_error_before=round(error(current), 4),
        fitted_at=fitted_at,
    )
    fitted.median_error_after = round(error(fitted), 4)
    return fitted


__all__ = [
    "CLASS_RATES",
    "DATASHEET_PEAKS",
    "DATASHEET_SOURCE",
    "Estimate",
    "EstimateModel",
    "fit",
    "h100_estimate",
    "terms_us",
    "with_measurement",
]
