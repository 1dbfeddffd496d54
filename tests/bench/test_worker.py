"""The GPU worker process: a real subprocess, killed and replaced after a hang or a crash.

Test-only jobs (sleep, hang, crash, fail, refuse, fault_then_failed_cleanup) are enabled by
KERNEL_SKILLS_WORKER_TEST_JOBS=1; they stand in for a kernel that never returns or takes the
process down, or a fault whose cleanup fails too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from kernel_skills.bench.worker import TEST_JOBS_ENV, WorkerProcess
from kernel_skills.errors import DeviceUnavailable, KernelFault, RefusedInput, Timeout


@pytest.fixture
def worker() -> Iterator[WorkerProcess]:
    process = WorkerProcess(env={TEST_JOBS_ENV: "1"})
    yield process
    process.close()


def test_a_job_runs_and_the_worker_is_reused(worker: WorkerProcess) -> None:
    first = worker.request({"kind": "ping"}, timeout_s=60)["pid"]
    assert worker.request({"kind": "sleep", "seconds": 0}, timeout_s=60) == {"slept": 0}
    assert worker.request({"kind": "ping"}, timeout_s=60)["pid"] == first
    assert worker.restarts == 0


def test_a_hung_job_times_out_and_the_next_job_gets_a_fresh_worker(worker: WorkerProcess) -> None:
    first = worker.request({"kind": "ping"}, timeout_s=60)["pid"]
    started = time.monotonic()
    with pytest.raises(Timeout, match="did not finish within 1 s; the GPU worker was killed"):
        worker.request({"kind": "hang"}, timeout_s=1, what="the hang job")
    assert time.monotonic() - started < 30
    assert not worker.alive()
    second = worker.request({"kind": "ping"}, timeout_s=60)["pid"]
    assert second != first
    assert worker.restarts == 1


def test_a_crashing_worker_is_a_kernel_fault_and_is_replaced(worker: WorkerProcess) -> None:
    first = worker.request({"kind": "ping"}, timeout_s=60)["pid"]
    with pytest.raises(KernelFault, match=r"died while running the crash job .killed by signal SIGSEGV"):
        worker.request({"kind": "crash"}, timeout_s=60, what="the crash job")
    assert worker.request({"kind": "ping"}, timeout_s=60)["pid"] != first


def test_an_unexpected_error_in_the_worker_replaces_it(worker: WorkerProcess) -> None:
    first = worker.request({"kind": "ping"}, timeout_s=60)["pid"]
    with pytest.raises(KernelFault, match=r"RuntimeError: a deliberate failure.*replaced"):
        worker.request({"kind": "fail"}, timeout_s=60)
    assert worker.request({"kind": "ping"}, timeout_s=60)["pid"] != first


def test_a_fault_hidden_by_a_failing_cleanup_is_still_reported_as_the_fault(worker: WorkerProcess) -> None:
    first = worker.request({"kind": "ping"}, timeout_s=60)["pid"]
    with pytest.raises(KernelFault, match="a deliberate KernelFault") as info:
        worker.request({"kind": "fault_then_failed_cleanup"}, timeout_s=60)
    assert "during cleanup" not in str(info.value)
    assert worker.request({"kind": "ping"}, timeout_s=60)["pid"] != first


def test_a_domain_error_passes_through_and_keeps_the_worker(worker: WorkerProcess) -> None:
    first = worker.request({"kind": "ping"}, timeout_s=60)["pid"]
    with pytest.raises(RefusedInput, match="deliberate RefusedInput"):
        worker.request({"kind": "refuse"}, timeout_s=60)
    with pytest.raises(RefusedInput, match="unknown worker job 'nope'"):
        worker.request({"kind": "nope"}, timeout_s=60)
    assert worker.request({"kind": "ping"}, timeout_s=60)["pid"] == first


def test_test_jobs_are_unavailable_unless_enabled() -> None:
    plain = WorkerProcess(env={TEST_JOBS_ENV: "0"})
    try:
        with pytest.raises(RefusedInput, match="unknown worker job 'hang'"):
            plain.request({"kind": "hang"}, timeout_s=60)
    finally:
        plain.close()


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(),
    reason="checks the worker's own no-GPU answer; this machine has a GPU",
)
def test_without_a_gpu_the_worker_answers_device_unavailable(worker: WorkerProcess) -> None:
    with pytest.raises(DeviceUnavailable, match=r"no CUDA device: torch\.cuda\.is_available"):
        worker.request({"kind": "hello"}, timeout_s=120)
    assert worker.alive()  # not a fault: the worker stays


def test_a_replaced_worker_is_logged_as_a_warning_for_the_clients(
    worker: WorkerProcess, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="kernel_skills"), pytest.raises(KernelFault):
        worker.request({"kind": "crash"}, timeout_s=60, what="the crash job")
    [record] = [r for r in caplog.records if r.name == "kernel_skills.bench.worker"]
    assert record.levelname == "WARNING"
    assert "GPU worker replaced (restart 1): it died (killed by signal SIGSEGV)" in record.getMessage()
