"""Choosing an executor: bad choices are refused with what is accepted; Ray is never imported until the
Ray executor is used (start-up stays fast, and the local executor needs no Ray at all)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.errors import RefusedInput
from kernel_skills.executors import make_executor
from kernel_skills.executors.local import LocalExecutor
from kernel_skills.executors.models import CpuTask


def test_an_unknown_executor_is_refused_with_the_choices() -> None:
    with pytest.raises(RefusedInput, match="unknown executor 'slurm'; choose one of: local, ray"):
        make_executor("slurm")


def test_a_ray_address_with_the_local_executor_is_refused() -> None:
    with pytest.raises(RefusedInput, match="--ray-address only applies to --executor ray"):
        make_executor("local", ray_address="head:6379")


def test_the_cli_refuses_an_unknown_executor_as_bad_usage() -> None:
    from kernel_skills.cli import main

    with pytest.raises(SystemExit) as info:
        main(["bench", "--problem", "gelu_tanh", "--executor", "slurm"])
    assert info.value.code == 2


def test_ray_is_not_imported_by_the_server_the_cli_or_the_executors_until_used() -> None:
    code = (
        "import sys\n"
        "import kernel_skills.app, kernel_skills.dispatch, kernel_skills.executors.ray_executor\n"
        "from kernel_skills.cli import build_parser\n"
        "from kernel_skills.executors import make_executor\n"
        "build_parser(); make_executor('ray')\n"
        "print('ray' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_local_executor_runs_cpu_tasks_in_this_process_and_reports_its_worker() -> None:
    executor = LocalExecutor(toolchain=RUNTIME.toolchain)
    (outcome,) = executor.run_cpu([CpuTask(kind="compile", payload={"source": "__global__ void k() {}"})])
    assert outcome.ok and outcome.result is not None and outcome.result["result"]["ok"]
    status = executor.status()
    assert status.executor == "local" and len(status.workers) == 1
    assert status.workers[0].state in ("not started", "idle")


def test_a_ray_address_nothing_answers_at_fails_fast_with_what_to_check() -> None:
    import socket

    from kernel_skills.errors import DeviceUnavailable
    from kernel_skills.executors.ray_executor import RayExecutor

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    executor = RayExecutor(address=f"127.0.0.1:{port}")
    with pytest.raises(DeviceUnavailable, match=f"cannot connect to the Ray cluster at 127.0.0.1:{port}"):
        executor.require_device()
