"""Device calibration is cached per device in the data dir; a corrupt cache is ignored."""

from __future__ import annotations

from kernel_skills.bench import calibration
from kernel_skills.bench.models import DeviceInfo


def test_calibration_round_trips_per_device() -> None:
    result = {
        "copy_gbps": 3000.5,
        "bf16_tflops": 790.0,
        "device": {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-1"},
        "method": "test",
    }
    saved = calibration.from_worker_result(result)
    calibration.save(saved)
    found = calibration.cached(DeviceInfo(name="NVIDIA H100 80GB HBM3", uuid="GPU-1"))
    assert found is not None and found.peaks.copy_gbps == 3000.5
    assert calibration.cached(DeviceInfo(name="NVIDIA H100 80GB HBM3", uuid="GPU-2")) is None


def test_a_corrupt_calibration_cache_is_ignored() -> None:
    path = calibration.cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    assert calibration.cached(DeviceInfo(name="x")) is None
