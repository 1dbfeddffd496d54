"""One local in-process Ray cluster per test module (start-up is seconds; it is measured and printed in
the test output). Ray's workers inherit the environment at ``ray.init``, so the cluster is started with the
same private cache and data folders that every test gets (``tests/conftest.py``)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Cluster:
    ray: object
    startup_s: float


def start_cluster(request: pytest.FixtureRequest, *, num_gpus: int | None) -> Iterator[Cluster]:
    """Two CPUs and ``num_gpus`` GPUs: logical ones on a machine without CUDA (Ray schedules actors on
    them, nothing runs on a device), or None: the GPUs Ray finds (on a device)."""
    import ray

    base = request.getfixturevalue("tmp_path_factory").getbasetemp()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERNEL_SKILLS_CACHE_DIR", os.fspath(base / "cache"))
        patch.setenv("KERNEL_SKILLS_DATA_DIR", os.fspath(base / "data"))
        patch.delenv("RAY_ADDRESS", raising=False)
        started = time.perf_counter()
        ray.init(
            num_cpus=2, num_gpus=num_gpus, include_dashboard=False, log_to_driver=False, namespace="ks-tests"
        )
        startup = time.perf_counter() - started
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nray local cluster start-up, {request.module.__name__}: {startup:.2f} s")
    try:
        yield Cluster(ray, startup)
    finally:
        ray.shutdown()
