"""Roofline arithmetic over measured device peaks; plain floats (tested on CPU).

The floor is the larger of bytes / copy bandwidth and flops / bf16 matmul rate, both measured on
the device by ``kernel-skills calibrate``. ``fraction_of_peak`` = floor / measured time. A time
below ``PLAUSIBILITY_SLACK`` x floor is rejected: the calibration itself is a measurement, so a
kernel may beat it by a few percent (a read-mostly stream can out-run a copy), but not by more.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

PLAUSIBILITY_SLACK = 0.9
SPEEDUP_FLAG = 10.0


class Peaks(BaseModel):
    copy_gbps: float  # bytes read + written per second / 1e9, large device-to-device copy
    bf16_tflops: float  # dense bf16 matmul through torch (cuBLAS)


class Achieved(BaseModel):
    gbps: float
    tflops: float


class Roofline(BaseModel):
    bound: Literal["memory", "compute"]
    floor_us: float
    fraction_of_peak: float | None = None
    memory_floor_us: float
    compute_floor_us: float
    peaks: Peaks


def floor(bytes_moved: int, flops: int, peaks: Peaks) -> Roofline:
    memory_us = bytes_moved / (peaks.copy_gbps * 1e3)  # GB/s * 1e3 = bytes per microsecond
    compute_us = flops / (peaks.bf16_tflops * 1e6)  # TFLOP/s * 1e6 = flops per microsecond
    bound: Literal["memory", "compute"] = "memory" if memory_us >= compute_us else "compute"
    return Roofline(
        bound=bound,
        floor_us=max(memory_us, compute_us),
        memory_floor_us=memory_us,
        compute_floor_us=compute_us,
        peaks=peaks,
    )


def assess(bytes_moved: int, flops: int, time_us: float, peaks: Peaks) -> Roofline:
    result = floor(bytes_moved, flops, peaks)
    result.fraction_of_peak = result.floor_us / time_us if time_us > 0 else None
    return result


def achieved(bytes_moved: int, flops: int, time_us: float) -> Achieved:
    return Achieved(gbps=bytes_moved / (time_us * 1e3), tflops=flops / (time_us * 1e6))


def plausible(time_us: float, floor_us: float, slack: float = PLAUSIBILITY_SLACK) -> bool:
    return time_us >= floor_us * slack


def speedup_flagged(speedup: float) -> bool:
    return speedup > SPEEDUP_FLAG


__all__ = [
    "PLAUSIBILITY_SLACK",
    "SPEEDUP_FLAG",
    "Achieved",
    "Peaks",
    "Roofline",
    "achieved",
    "assess",
    "floor",
    "plausible",
    "speedup_flagged",
]
