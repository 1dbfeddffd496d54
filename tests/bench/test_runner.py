"""The runner's GPU half, driven on CPU: a worker double answers the same job protocol, running
the real correctness harness with Python stand-in kernels (timing answers are synthetic; the real
timing is tested on a GPU). This checks how checks, timings, speedups, the roofline, plausibility
and warnings are assembled into the verdict."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from tests.shared_runtime import RUNTIME

from kernel_skills.bench import Prepared, Steps, Timeouts, execute, plan, prepare
from kernel_skills.bench.checking import Harness, check_shape
from kernel_skills.bench.models import BenchRequest, BenchResult
from kernel_skills.bench.registry import load_problem_in_worker
from kernel_skills.bench.stats import summarize

HERE = Path(__file__).parent
GELU = {"problem": "gelu_tanh", "kernel": "gelu_tanh", "block": [256], "grid": ["ceil_div(n, 256)"]}


def good(inputs, outputs):
    outputs["out"].copy_(F.gelu(inputs["x"].float(), approximate="tanh").to(torch.bfloat16))


def off_by_one(inputs, outputs):
    outputs["out"][:-1].copy_(F.gelu(inputs["x"][:-1].float(), approximate="tanh").to(torch.bfloat16))


class CpuWorker:
    def __init__(
        self,
        kernel: Callable[[dict, dict], None],
        *,
        kernel_us: float = 20.0,
        eager_us: float = 50.0,
        verified: bool = True,
    ) -> None:
        self.kernel = kernel
        self.kernel_us = kernel_us
        self.eager_us = eager_us
        self.verified = verified
        self.kinds: list[str] = []

    def request(self, job: dict[str, Any], *, timeout_s: float, what: str) -> dict[str, Any]:
        job = json.loads(json.dumps(job))  # what crosses the pipe is JSON
        self.kinds.append(job["kind"])
        if job["kind"] == "hello":
            return {"device": {"name": "CPU stand-in", "uuid": "cpu-0", "torch": torch.__version__}}
        if job["kind"] == "calibrate":
            return {
                "copy_gbps": 3000.0,
                "bf16_tflops": 800.0,
                "device": {"name": "CPU stand-in", "uuid": "cpu-0"},
                "method": "synthetic",
            }
        if job["kind"] == "check":
            problem = load_problem_in_worker(job["problem"], job["problem_path"])
            harness = Harness(problem, job["sizes"], "cpu", self.kernel, lambda: None)
            return json.loads(json.dumps(check_shape(harness, job["seeds"])))
        if job["kind"] == "time_kernel":
            if not self.verified:
                return {"verified": False, "detail": "timed call #3 produced an output different"}
            stats = summarize([self.kernel_us * f for f in (0.99, 1.0, 1.01, 1.0)])
            return {
                "verified": True,
                "detail": "4 timed calls within the problem tolerance",
                "stats": stats.model_dump(),
            }
        if job["kind"] == "time_baseline":
            return {"stats": summarize([self.eager_us] * 4).model_dump(), "notes": []}
        raise AssertionError(job["kind"])


def _prepared(**extra) -> Prepared:
    request = BenchRequest(
        source=(HERE / "good_kernels" / "gelu_tanh.cu").read_text(), shapes=["ragged"], **{**GELU, **extra}
    )
    prepared = prepare(plan(request), RUNTIME.toolchain)
    assert isinstance(prepared, Prepared)
    return prepared


def _execute(worker: CpuWorker, **extra) -> tuple[BenchResult, list[tuple[float, float, str]]]:
    seen: list[tuple[float, float, str]] = []
    steps = Steps(lambda d, t, m: seen.append((d, t, m)), 8)
    result = execute(_prepared(**extra), worker, steps=steps, timeouts=Timeouts())
    return result, seen


def test_a_correct_kernel_gets_an_ok_verdict_with_speedup_and_roofline() -> None:
    worker = CpuWorker(good)
    result, seen = _execute(worker)
    assert result.ok and result.correct
    assert [c.name for c in result.checks] == [
        "compile",
        "abi",
        "launch limits",
        "correct on ragged (n=1000003)",
        "deterministic on ragged (n=1000003)",
        "writes in bounds",
        "inputs unchanged",
        "timed outputs verified on ragged (n=1000003)",
        "plausible time on ragged (n=1000003)",
    ]
    assert result.time_us is not None and result.time_us.median == 20.0
    assert result.speedup == {"torch_eager": 2.5}
    bytes_moved = 2 * 2 * 1000003
    assert result.achieved is not None and result.achieved.gbps == pytest.approx(bytes_moved / 20.0 / 1e3)
    assert result.roofline is not None and result.roofline.bound == "memory"
    assert result.roofline.fraction_of_peak == pytest.approx((bytes_moved / 3000e3) / 20.0)
    assert len(result.provenance.seeds) == 5 and len(set(result.provenance.seeds)) == 5
    assert result.device is not None and result.device.name == "CPU stand-in"
    assert worker.kinds[0] == "hello" and worker.kinds.count("check") == 1
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    assert BenchResult.model_validate_json(result.model_dump_json()) == result


def test_an_incorrect_kernel_is_not_timed_and_its_check_names_the_index() -> None:
    worker = CpuWorker(off_by_one)
    result, _ = _execute(worker)
    assert not result.ok and not result.correct
    failed = next(c for c in result.checks if c.name.startswith("correct on"))
    assert not failed.passed and "(1000002)" in failed.detail
    assert "time_kernel" not in worker.kinds
    assert result.time_us is None and result.speedup == {}


def test_a_write_past_the_end_of_an_output_makes_the_kernel_incorrect_and_untimed() -> None:
    def one_past_the_end(inputs, outputs):
        good(inputs, outputs)
        out = outputs["out"]
        out.as_strided((out.numel() + 1,), (1,), out.storage_offset())[-1] = 0.0

    worker = CpuWorker(one_past_the_end)
    result, _ = _execute(worker)
    assert not result.correct and not result.ok
    bounds = next(c for c in result.checks if c.name == "writes in bounds")
    assert not bounds.passed
    assert "ragged (n=1000003), seed #1: output 'out'" in bounds.detail and "past its end" in bounds.detail
    assert "time_kernel" not in worker.kinds


def test_a_time_below_the_roofline_floor_is_correct_but_not_accepted() -> None:
    result, _ = _execute(CpuWorker(good, kernel_us=0.5, eager_us=50.0))
    assert result.correct and not result.ok
    plausible = result.checks[-1]
    assert plausible.name.startswith("plausible time") and not plausible.passed
    assert "faster than the hardware allows" in plausible.detail
    assert any("unusually high" in w for w in result.warnings)  # 100x over torch eager


def test_unverified_timed_outputs_make_the_kernel_incorrect() -> None:
    result, _ = _execute(CpuWorker(good, verified=False))
    assert not result.correct and not result.ok
    assert "timed call #3" in next(c for c in result.checks if c.name.startswith("timed outputs")).detail


def test_every_requested_baseline_is_timed_and_gets_a_speedup() -> None:
    worker = CpuWorker(good)
    result, _ = _execute(worker, baseline=["torch_eager", "torch_compile"])
    assert set(result.baseline_us) == {"torch_eager", "torch_compile"}
    assert worker.kinds.count("time_baseline") == 2
