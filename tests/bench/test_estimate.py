"""The emulator's H100 estimate (issue 20): the model's arithmetic on counters with known totals, its
refit to measured pairs, its place in the results DB and `calibrate --estimate`. The end-to-end
estimate of real kernels through the emulator is in tests/emulator/test_counters.py."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from kernel_skills.bench import calibration, results_db
from kernel_skills.bench.api import refit_estimate
from kernel_skills.bench.estimate import (
    DATASHEET_PEAKS,
    DATASHEET_SOURCE,
    H100_SMS,
    fit,
    h100_estimate,
    with_measurement,
)
from kernel_skills.bench.models import (
    LAUNCH_US,
    BenchResult,
    Counters,
    Estimate,
    EstimateModel,
    LaunchCounters,
    MemoryCounters,
    Provenance,
    ScaledCounters,
    SharedCounters,
)
from kernel_skills.bench.roofline import Peaks
from kernel_skills.bench.stats import summarize
from kernel_skills.cli import main

GB = 10**9
PEAKS = Peaks(copy_gbps=3000.0, bf16_tflops=800.0)
SM_CLOCKS_PER_US = H100_SMS * 1.755e3


def _counters(
    *, unique: int, sectors: int | None = None, waves: float = 10.0, **instructions: int
) -> Counters:
    none = MemoryCounters(requests=0, sectors=0, bytes_requested=0)
    at = ScaledCounters(
        shape={"n": 1},
        bytes_scale=1.0,
        work_scale=1.0,
        requests=0,
        sector_bytes=sectors if sectors is not None else unique,
        unique_bytes=unique,
        shared_wavefronts=instructions.pop("wavefronts", 0),
        instructions={"total": sum(instructions.values()), **instructions},
    )
    return Counters(
        basis="test",
        shape={"n": 1},
        global_load=none,
        global_store=none,
        shared=SharedCounters(requests=0, wavefronts=0, ideal_wavefronts=0, bank_conflicts=0),
        instructions={},
        launch=LaunchCounters(shape={"n": 1}, blocks=1, warps_per_block=8, waves_on_h100=waves),
        at_shape=at,
    )


def _estimate(
    c: Counters, bytes_moved: int = GB, flops: int = 0, model: EstimateModel | None = None
) -> Estimate:
    found = h100_estimate(
        c, bytes_moved=bytes_moved, flops=flops, peaks=PEAKS, peaks_source="test", model=model
    )
    assert found is not None
    return found


def test_a_stream_at_the_ideal_traffic_is_bytes_at_the_copy_bandwidth_plus_the_launch() -> None:
    e = _estimate(_counters(unique=GB, fp32=10**6))
    assert e.terms_us["memory"] == pytest.approx(GB / 3000e3)  # 333 us
    assert e.bound == "memory" and e.time_us == pytest.approx(GB / 3000e3 + LAUNCH_US, rel=1e-4)
    assert e.fraction_of_peak == pytest.approx((GB / 3000e3) / e.time_us, rel=1e-3)
    assert "not a measurement" in e.basis and e.measured_us is None and e.error is None


def test_reading_twice_from_dram_doubles_the_memory_time_and_cache_traffic_has_its_own_term() -> None:
    once, twice = _estimate(_counters(unique=GB)), _estimate(_counters(unique=2 * GB))
    assert twice.terms_us["memory"] == pytest.approx(2 * once.terms_us["memory"])
    assert twice.fraction_of_peak == pytest.approx(once.fraction_of_peak / 2, rel=0.01)
    re_read = _estimate(_counters(unique=GB, sectors=40 * GB))  # 40x the bytes through the caches
    assert re_read.bound == "cache" and re_read.terms_us["cache"] == pytest.approx(40 * GB / 7000e3)


def test_a_partial_last_wave_leaves_sms_idle() -> None:
    full, partial = _estimate(_counters(unique=GB, waves=2.0)), _estimate(_counters(unique=GB, waves=1.5))
    assert partial.utilisation == 0.75
    assert partial.throughput_us == pytest.approx(full.throughput_us / 0.75, rel=1e-3)
    assert _estimate(_counters(unique=GB, waves=0.25)).utilisation == 0.25


def test_arithmetic_at_its_class_rate_and_tensor_instructions_at_the_matmul_rate() -> None:
    special = _estimate(_counters(unique=1000, special=10**9))  # 16 SFU lanes: 0.5 warp-instr/clock/SM
    assert special.bound == "compute"
    assert special.terms_us["compute"] == pytest.approx(10**9 / (0.5 * SM_CLOCKS_PER_US), rel=1e-4)
    tensor = _estimate(_counters(unique=1000, tensor=10**8), flops=10**8 * 4096)
    assert tensor.terms_us["compute"] == pytest.approx(10**8 * 4096 / 800e6, rel=1e-4)
    assert tensor.fraction_of_peak == pytest.approx(tensor.terms_us["compute"] / tensor.time_us, rel=1e-3)


def test_a_tiny_kernel_is_launch_bound() -> None:
    e = _estimate(_counters(unique=4096, fp32=100), bytes_moved=4096)
    assert e.bound == "launch" and e.time_us == pytest.approx(LAUNCH_US, abs=0.01)


def test_no_estimate_without_totals_at_a_timed_shape() -> None:
    c = _counters(unique=GB).model_copy(update={"at_shape": None})
    assert h100_estimate(c, bytes_moved=GB, flops=0, peaks=PEAKS, peaks_source="x") is None


def test_the_error_is_the_estimate_over_the_measurement_minus_one() -> None:
    e = with_measurement(_estimate(_counters(unique=GB)), 400.0)
    assert e.measured_us == 400.0 and e.error == pytest.approx(e.time_us / 400.0 - 1)


def test_fit_recovers_scale_and_launch_cost_from_measured_pairs() -> None:
    pairs = [(x, 1.25 * x + 4.0) for x in (10.0, 50.0, 200.0, 800.0)]
    fitted = fit(pairs, EstimateModel(), "2026-12-07T00:00:00+00:00")
    assert fitted.scale == pytest.approx(1.25) and fitted.launch_us == pytest.approx(4.0)
    assert fitted.fitted_on == 4 and fitted.median_error_after == pytest.approx(0.0, abs=1e-3)
    assert fitted.median_error_before is not None and fitted.median_error_before > 0.1
    one = fit([(100.0, 152.5)], EstimateModel(), "t")  # too few for a line: the scale alone
    assert one.launch_us == LAUNCH_US and one.scale == pytest.approx(1.5)
    assert fit([], EstimateModel(scale=2.0), "t").scale == 2.0


def test_peaks_come_from_this_machines_newest_h100_calibration(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KERNEL_SKILLS_DATA_DIR", str(tmp_path))
    assert calibration.h100_peaks(DATASHEET_PEAKS, DATASHEET_SOURCE) == (DATASHEET_PEAKS, DATASHEET_SOURCE)

    def entry(name: str, copy: float, when: str) -> dict:
        device = {"name": name}
        peaks = {"copy_gbps": copy, "bf16_tflops": 700.0}
        return {"device_key": name, "device": device, "peaks": peaks, "measured_at": when, "method": "m"}

    data = {
        "a": entry("NVIDIA H100 80GB HBM3", 2900.0, "2026-12-01T00:00:00+00:00"),
        "b": entry("NVIDIA H100 80GB HBM3", 2950.0, "2026-12-05T00:00:00+00:00"),
        "c": entry("NVIDIA A100-SXM4-80GB", 1800.0, "2026-12-06T00:00:00+00:00"),
        "d": {"broken": True},
    }
    (tmp_path / "calibration.json").write_text(json.dumps(data), encoding="utf-8")
    peaks, source = calibration.h100_peaks(DATASHEET_PEAKS, DATASHEET_SOURCE)
    assert peaks.copy_gbps == 2950.0
    assert source.startswith("calibrated on NVIDIA H100 80GB HBM3 at 2026-12-05")


def _stored(*, measured: float | None, e: Estimate, verified_on: str) -> BenchResult:
    return BenchResult(
        ok=True,
        correct=True,
        problem="rmsnorm",
        verified_on=verified_on,  # type: ignore[arg-type]
        time_us=summarize([measured] * 3) if measured is not None else None,
        provenance=Provenance(kernel_skills="0", date="2026-12-07T00:00:00+00:00"),
        estimate=with_measurement(e, measured) if measured is not None else e,
    )


def test_the_db_keeps_the_estimate_and_its_error_and_calibrate_refits_the_model(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("KERNEL_SKILLS_DATA_DIR", str(tmp_path))
    base = _estimate(_counters(unique=GB))
    emulated = results_db.store(_stored(measured=None, e=base, verified_on="cpu-emulator"))
    for gbytes in (1, 2, 4):  # three GPU measurements, each 20% slower than the model's throughput
        e = _estimate(_counters(unique=gbytes * GB), bytes_moved=gbytes * GB)
        results_db.store(_stored(measured=1.2 * e.throughput_us + 3.0, e=e, verified_on="gpu"))
    listing = {r.id: r for r in results_db.list_results("rmsnorm").results}
    assert listing[emulated].estimate_us == base.time_us and listing[emulated].estimate_error is None
    assert "H100 estimate 335.8 us, memory-bound (a model, not a measurement)" in listing[emulated].summary
    gpu = [r for r in listing.values() if r.verified_on == "gpu"]
    assert len(gpu) == 3 and all(r.estimate_error is not None and r.estimate_error < 0 for r in gpu)
    assert "the emulator's estimate was" in gpu[0].summary
    assert len(results_db.estimate_pairs()) == 3

    assert main(["calibrate", "--estimate"]) == 0
    assert "estimate model fitted on 3 measured kernels: scale 1.2, launch 3 us" in capsys.readouterr().out
    model = calibration.estimate_model()
    assert model.scale == pytest.approx(1.2) and model.launch_us == pytest.approx(3.0)
    assert refit_estimate().fitted_on == 3
    again = _estimate(_counters(unique=GB), model=model)
    assert again.time_us == pytest.approx(1.2 * again.throughput_us + 3.0, rel=1e-3)


def test_calibrate_estimate_without_measurements_says_what_to_run(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("KERNEL_SKILLS_DATA_DIR", str(tmp_path))
    assert main(["calibrate", "--estimate"]) == 0
    assert "run `kernel-skills bench --counters` on a GPU" in capsys.readouterr().out
    (tmp_path / "estimate-model.json").write_text("{not json", encoding="utf-8")
    assert calibration.estimate_model() == EstimateModel()  # a broken file is never trusted


def test_an_older_db_gains_the_estimate_columns(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE results (id INTEGER PRIMARY KEY AUTOINCREMENT, problem TEXT NOT NULL, created TEXT "
            "NOT NULL, ok INTEGER NOT NULL, correct INTEGER NOT NULL, kernel TEXT, source_sha256 TEXT, "
            "time_us_median REAL, speedup_torch_eager REAL, device TEXT, result_json TEXT NOT NULL)"
        )
    base = _estimate(_counters(unique=GB))
    stored = results_db.store(_stored(measured=None, e=base, verified_on="cpu-emulator"), path=db)
    (row,) = results_db.list_results("rmsnorm", path=db).results
    assert row.id == stored and row.estimate_us == base.time_us
