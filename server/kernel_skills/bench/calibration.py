"""Device peaks for the roofline, measured once per device and cached in ``data_dir()``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kernel_skills import paths
from kernel_skills.bench.models import Calibration, DeviceInfo, EstimateModel
from kernel_skills.bench.roofline import Peaks
from kernel_skills.cache_faults import FAULTS

CALIBRATE_TIMEOUT_S = 300.0


def cache_path() -> Path:
    return paths.data_dir() / "calibration.json"


def device_key(device: DeviceInfo) -> str:
    return f"{device.name}|{device.uuid or ''}"


def _load_all() -> dict[str, Any]:
    path = cache_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        FAULTS.record("calibration", "read", path, exc)
        return {}  # a corrupt cache is re-measured, never trusted
    return data if isinstance(data, dict) else {}


def cached(device: DeviceInfo) -> Calibration | None:
    entry = _load_all().get(device_key(device))
    if entry is None:
        return None
    try:
        return Calibration.model_validate(entry)
    except ValueError:
        return None


def save(calibration: Calibration) -> bool:
    """Keep a calibration; False when the disk refused it (logged once: it is measured again later)."""
    data = _load_all()
    data[calibration.device_key] = calibration.model_dump(mode="json")
    path = cache_path()
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        FAULTS.record("calibration", "write", path, exc)
        tmp.unlink(missing_ok=True)
        return False
    return True


def from_worker_result(result: dict[str, Any]) -> Calibration:
    device = DeviceInfo.model_validate(result["device"])
    return Calibration(
        device_key=device_key(device),
        device=device,
        peaks=Peaks(copy_gbps=float(result["copy_gbps"]), bf16_tflops=float(result["bf16_tflops"])),
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        method=str(result.get("method", "")),
    )


def h100_peaks(default: Peaks, default_source: str) -> tuple[Peaks, str]:
    """The newest calibration of an H100 on this machine (what the estimate uses), else ``default``."""
    found = []
    for entry in _load_all().values():
        try:
            found.append(Calibration.model_validate(entry))
        except ValueError:
            continue
    h100 = sorted((c for c in found if "H100" in c.device.name), key=lambda c: c.measured_at)
    if not h100:
        return default, default_source
    newest = h100[-1]
    return newest.peaks, f"calibrated on {newest.device.name} at {newest.measured_at}"


def estimate_model_path() -> Path:
    return paths.data_dir() / "estimate-model.json"


def estimate_model() -> EstimateModel:
    """The estimate's fitted parameters (defaults when never fitted or unreadable: never trusted broken)."""
    try:
        return EstimateModel.model_validate_json(estimate_model_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return EstimateModel()


def save_estimate_model(model: EstimateModel) -> None:
    path = estimate_model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(model.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(path)


def measure(worker: Any) -> Calibration:
    """Run the calibration job on a leased worker and cache it."""
    calibration = from_worker_result(
        worker.request({"kind": "calibrate"}, timeout_s=CALIBRATE_TIMEOUT_S, what="device calibration")
    )
    save(calibration)
    return calibration


__all__ = [
    "cache_path",
    "cached",
    "device_key",
    "estimate_model",
    "estimate_model_path",
    "from_worker_result",
    "h100_peaks",
    "measure",
    "save",
    "save_estimate_model",
]
