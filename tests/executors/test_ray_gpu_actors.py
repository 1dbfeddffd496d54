"""GPU worker actors on a local Ray cluster with two *logical* GPUs (CPU only: Ray places the actors and
sets CUDA_VISIBLE_DEVICES, no CUDA runs). Each actor runs the real ``bench.worker_main`` child; the
worker's test jobs (sleep, hang, crash) stand in for a kernel that hangs or takes the process down.
The same jobs on the local worker give the same answers and errors. Real GPU work: ``test_ray_on_gpu``."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.executors.conftest import Cluster, start_cluster
from tests.shared_runtime import RUNTIME

from kernel_skills.bench.worker import TEST_JOBS_ENV, WorkerProcess
from kernel_skills.errors import DeviceUnavailable, KernelFault, ServerFault, Timeout
from kernel_skills.executors.ray_executor import RayExecutor
from kernel_skills.runtime import Runtime

# A real Ray cluster per module: run with the slow tests (serially), not in `make test`.
pytestmark = pytest.mark.slow

TEST_JOBS = {TEST_JOBS_ENV: "1"}


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    yield from start_cluster(request, num_gpus=2)


@pytest.fixture(scope="module")
def executor(cluster: Cluster) -> Iterator[RayExecutor]:
    pool = RayExecutor(worker_env=TEST_JOBS)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def local() -> Iterator[WorkerProcess]:
    worker = WorkerProcess(env=TEST_JOBS)
    yield worker
    worker.close()


def _wait_for(condition, *, seconds: float = 60, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _error(call) -> BaseException:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("expected an error")


def test_a_job_on_a_ray_actor_answers_like_the_local_worker(
    executor: RayExecutor, local: WorkerProcess
) -> None:
    with executor.lease() as worker:
        assert worker.request({"kind": "sleep", "seconds": 0}, timeout_s=60) == local.request(
            {"kind": "sleep", "seconds": 0}, timeout_s=60
        )
        remote = _error(lambda: worker.request({"kind": "nope"}, timeout_s=60))
    assert str(remote) == str(_error(lambda: local.request({"kind": "nope"}, timeout_s=60)))


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="checks the no-GPU answer; this machine has a GPU"
)
def test_without_cuda_the_actor_gives_the_local_workers_device_unavailable(
    executor: RayExecutor, local: WorkerProcess
) -> None:
    with executor.lease() as worker:
        remote = _error(lambda: worker.request({"kind": "hello"}, timeout_s=120))
        assert worker.request({"kind": "ping"}, timeout_s=60)["pid"]  # not a fault: the actor stays
    here = _error(lambda: local.request({"kind": "hello"}, timeout_s=120))
    assert isinstance(remote, DeviceUnavailable) and isinstance(here, DeviceUnavailable)
    assert str(remote) == str(here)


def test_a_hung_job_hits_its_timeout_and_the_actor_and_its_worker_are_replaced(
    executor: RayExecutor, local: WorkerProcess
) -> None:
    with executor.lease() as worker:
        before = worker.request({"kind": "ping"}, timeout_s=60)["pid"]
        restarts = executor.status().restarts
        remote = _error(lambda: worker.request({"kind": "hang"}, timeout_s=2, what="the hang job"))
        assert worker.request({"kind": "ping"}, timeout_s=60)["pid"] != before
    here = _error(lambda: local.request({"kind": "hang"}, timeout_s=2, what="the hang job"))
    assert isinstance(remote, Timeout) and str(remote) == str(here)
    assert "did not finish within 2 s" in str(remote)
    assert executor.status().restarts == restarts + 1


def test_a_crash_is_a_kernel_fault_and_the_next_job_gets_a_fresh_actor(
    executor: RayExecutor, local: WorkerProcess
) -> None:
    with executor.lease() as worker:
        before = executor.status()
        remote = _error(lambda: worker.request({"kind": "crash"}, timeout_s=60, what="the crash job"))
        assert worker.request({"kind": "ping"}, timeout_s=60)["pid"]
    here = _error(lambda: local.request({"kind": "crash"}, timeout_s=60, what="the crash job"))
    assert isinstance(remote, KernelFault) and str(remote) == str(here)
    assert executor.status().restarts == before.restarts + 1


def test_an_actor_killed_mid_job_is_replaced_and_the_next_job_succeeds(executor: RayExecutor) -> None:
    with executor.lease() as worker:
        child = worker.request({"kind": "ping"}, timeout_s=60)["pid"]
        assert next(w.pid for w in executor.status().workers if w.name == worker.name) == child
        actor = executor.connect().get(
            executor.connect().get_actor(worker.name, namespace="kernel-skills").ready.remote()
        )
        errors: list[BaseException] = []

        def long_job() -> None:
            try:
                worker.request({"kind": "sleep", "seconds": 120}, timeout_s=180, what="a long job")
            except Exception as exc:
                errors.append(exc)

        thread = threading.Thread(target=long_job)
        thread.start()
        _wait_for(
            lambda: any(w.current_job == "a long job" for w in executor.status().workers),
            what="the job to be running",
        )
        os.kill(actor, signal.SIGKILL)  # the actor process dies (an OOM kill, a lost node)
        thread.join(timeout=120)
        assert not thread.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], ServerFault)  # the machine's fault (issue 24)
        assert "died while running a long job" in str(errors[0]) and "replaced" in str(errors[0])
        assert worker.request({"kind": "sleep", "seconds": 0}, timeout_s=60) == {"slept": 0}
    # the killed actor's worker child (still sleeping) was killed by the restarted actor
    _wait_for(lambda: not Path(f"/proc/{child}").exists(), what="the orphaned worker child to be gone")


def test_an_actor_killed_for_good_is_replaced_by_a_new_one(executor: RayExecutor) -> None:
    ray = executor.connect()
    with executor.lease() as worker:
        assert worker.request({"kind": "ping"}, timeout_s=60)
        ray.kill(ray.get_actor(worker.name, namespace="kernel-skills"), no_restart=True)
        with pytest.raises(ServerFault, match="died while running job 'ping'"):
            worker.request({"kind": "ping"}, timeout_s=60)
        assert worker.request({"kind": "sleep", "seconds": 0}, timeout_s=60) == {"slept": 0}


def test_two_submissions_run_on_different_gpus_and_a_third_waits_for_one(executor: RayExecutor) -> None:
    with executor.lease() as first, executor.lease() as second:
        assert first.name != second.name
        devices = {w.name: w.devices for w in executor.status().workers}
        assert devices[first.name] != devices[second.name]
        assert all(len(devices[name]) == 1 for name in (first.name, second.name))
        got: list[str] = []
        third = threading.Thread(target=lambda: got.append(_lease_name(executor)))
        third.start()
        third.join(timeout=1.0)
        assert third.is_alive() and not got  # both GPUs are leased: it waits
    third.join(timeout=60)
    assert got and got[0] in {first.name, second.name}


def _lease_name(executor: RayExecutor) -> str:
    with executor.lease() as worker:
        worker.request({"kind": "ping"}, timeout_s=60)
        return worker.name


def test_pool_status_from_the_command_line_lists_workers_devices_and_restarts(
    executor: RayExecutor, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from kernel_skills.cli import main

    with executor.lease() as worker:
        worker.request({"kind": "ping"}, timeout_s=60)
    assert main(["pool", "status", "--executor", "ray", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["executor"] == "ray" and status["resources"]["GPU"] == 2
    mine = [w for w in status["workers"] if w["name"].startswith(f"kernel-skills-gpu-{executor.pool_id}-")]
    assert mine and all(w["state"] in ("idle", "busy") for w in mine)
    assert all(w["devices"] and w["node"] and w["pid"] for w in mine)
    assert sum(w["restarts"] for w in mine) >= 0
    assert main(["pool", "status", "--executor", "ray"]) == 0
    assert "in flight" in capsys.readouterr().out


def test_a_worker_child_left_by_a_killed_actor_is_only_killed_if_it_is_a_worker(tmp_path: Path) -> None:
    from kernel_skills.executors.ray_worker import _kill_left_behind

    pidfile = tmp_path / "x.child.pid"
    pidfile.write_text(str(os.getpid()))  # this test process is not a worker: it must survive
    _kill_left_behind(pidfile)
    assert not pidfile.exists()
    os.kill(os.getpid(), 0)


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="checks the no-GPU answer; this machine has a GPU"
)
def test_a_benchmark_on_the_ray_executor_streams_progress_and_fails_like_the_local_worker(
    executor: RayExecutor, local: WorkerProcess
) -> None:
    from kernel_skills.bench.models import BenchRequest
    from kernel_skills.bench.solutions import solution_request_fields
    from kernel_skills.dispatch import benchmark

    request = BenchRequest(**{**solution_request_fields("gelu_tanh"), "shapes": ["ragged"], "device": "gpu"})
    seen: list[str] = []
    with pytest.raises(DeviceUnavailable) as info:
        benchmark(
            request,
            runtime=Runtime(toolchain=RUNTIME.toolchain, executor=executor),
            progress=lambda done, total, message: seen.append(message),
        )
    assert seen[:3] == ["compiling for sm_90a", "looking for a CUDA device", "starting the GPU worker"]
    assert str(info.value) == str(_error(lambda: local.request({"kind": "hello"}, timeout_s=120)))
