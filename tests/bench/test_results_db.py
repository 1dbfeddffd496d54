"""Results database round trip: store, list best-first, fetch the full result."""

from __future__ import annotations

from pathlib import Path

from kernel_skills.bench import results_db
from kernel_skills.bench.models import BenchResult, Check, DeviceInfo, KernelInfo, Provenance
from kernel_skills.bench.roofline import Peaks, assess
from kernel_skills.bench.stats import summarize


def _result(*, correct: bool, median: float | None, sha: str) -> BenchResult:
    time_us = summarize([median, median, median]) if median is not None else None
    return BenchResult(
        ok=correct and median is not None,
        correct=correct,
        problem="rmsnorm",
        checks=[Check(name="correct on ragged", passed=correct, detail="")],
        time_us=time_us,
        speedup={"torch_eager": 100.0 / median} if median else {},
        roofline=assess(10**8, 10**6, median, Peaks(copy_gbps=3000, bf16_tflops=800)) if median else None,
        kernel=KernelInfo(name="rmsnorm", registers=32),
        device=DeviceInfo(name="NVIDIA H100 80GB HBM3"),
        provenance=Provenance(kernel_skills="0.1.0", source_sha256=sha, date="2026-11-24T00:00:00+00:00"),
    )


def test_results_round_trip_and_list_best_first(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite3"
    slow = results_db.store(_result(correct=True, median=50.0, sha="a" * 64), path=db)
    wrong = results_db.store(_result(correct=False, median=None, sha="b" * 64), path=db)
    fast = results_db.store(_result(correct=True, median=20.0, sha="c" * 64), path=db)
    listing = results_db.list_results("rmsnorm", path=db)
    assert [r.id for r in listing.results] == [fast, slow, wrong]
    best = listing.results[0]
    assert best.correct and best.ok
    assert best.source_sha256 == "c" * 64
    assert best.time_us_median == 20.0
    assert best.speedup_torch_eager == 5.0
    assert best.device == "NVIDIA H100 80GB HBM3"
    assert "correct, 20.00 us, 5.00x vs torch eager" in best.summary
    assert listing.results[2].summary == "incorrect: correct on ragged"
    full = results_db.get_result(fast, path=db)
    assert full is not None and full.kernel is not None and full.kernel.registers == 32
    assert results_db.list_results("gelu_tanh", path=db).results == []


def test_the_default_database_lives_in_the_data_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KERNEL_SKILLS_DATA_DIR", str(tmp_path))
    results_db.store(_result(correct=True, median=10.0, sha="d" * 64))
    assert (tmp_path / "results.sqlite3").is_file()
    assert len(results_db.list_results("rmsnorm").results) == 1
