"""The compile worker: hard timeout, memory cap, replacement after death; and the on-disk cache."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from kernel_skills.errors import CompileError, RefusedInput, ServerFault, Timeout
from kernel_skills.toolchain import CompileRequest, Toolchain, load_cubin
from kernel_skills.toolchain.worker import CompileWorker

from .conftest import kernel_source

# Each static_assert makes the front end evaluate ~500k constexpr steps (~0.1 s); 40 of them take seconds.
SLOW = (
    "__device__ constexpr unsigned long long spin(unsigned long long n) {\n"
    "  unsigned long long s = 0;\n"
    "  for (unsigned long long i = 0; i < n; ++i) s = s * 6364136223846793005ull + i;\n"
    "  return s;\n"
    "}\n"
    + "".join(f'static_assert(spin({500000 + i}ull) != 1ull, "");\n' for i in range(40))
    + 'extern "C" __global__ void k(unsigned long long* a) { a[0] = 1; }\n'
)
QUICK = 'extern "C" __global__ void k(float* out) { out[0] = 1.0f; }\n'


@pytest.fixture
def worker():
    created = CompileWorker(timeout_s=1.0)
    yield created
    created.close()


def test_compile_past_the_timeout_raises_and_the_worker_is_replaced(worker, tmp_path, monkeypatch):
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    chain = Toolchain(worker=worker)

    started = time.monotonic()
    with pytest.raises(Timeout, match="1 s limit"):
        chain.compile(CompileRequest(source=SLOW))
    assert time.monotonic() - started < 10
    assert worker.pid is None and worker.started == 1

    result = chain.compile(CompileRequest(source=QUICK))
    assert result.ok and worker.started == 2


def test_worker_is_reused_across_requests(worker, tmp_path, monkeypatch):
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    chain = Toolchain(worker=worker)
    chain.compile(CompileRequest(source=QUICK))
    first = worker.pid
    chain.compile(CompileRequest(source=QUICK.replace("1.0f", "2.0f")))
    assert worker.pid == first and worker.started == 1


def test_worker_killed_mid_compile_is_a_server_fault_then_recovers(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    worker = CompileWorker(timeout_s=60)
    chain = Toolchain(worker=worker)
    chain.compile(CompileRequest(source=QUICK))
    pid = worker.pid
    errors: list[BaseException] = []

    def run() -> None:
        try:
            chain.compile(CompileRequest(source=SLOW))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    _wait_until_running(pid)  # the worker is compiling (not idle in read): kill it mid-compile
    os.kill(pid, signal.SIGKILL)
    thread.join(timeout=30)
    try:
        assert len(errors) == 1 and isinstance(errors[0], ServerFault)
        assert "killed by SIGKILL, a signal it did not raise itself" in str(errors[0])
        assert "memory cap" not in str(errors[0]) and "not judged" in str(errors[0])
        assert chain.compile(CompileRequest(source=QUICK.replace("1.0f", "3.0f"))).ok
        assert worker.started == 2
    finally:
        worker.close()


def _wait_until_running(pid: int, deadline_s: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_s
    status = Path(f"/proc/{pid}/status")
    while time.monotonic() < deadline:
        if "State:\tR" in status.read_text():
            return
    raise AssertionError("the worker never started compiling")


def test_memory_cap_applies_to_the_worker_process(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    starved = CompileWorker(memory_mb=64)
    try:
        with pytest.raises(CompileError, match=r"could not load NVRTC|worker died|did not start"):
            Toolchain(worker=starved).compile(CompileRequest(source=QUICK))
    finally:
        starved.close()


def test_cache_hit_returns_the_same_report_flagged_cached(toolchain):
    request = CompileRequest(source=kernel_source("float4_scale.cu"), block_size=256)
    first = toolchain.compile(request)
    second = toolchain.compile(request)

    assert not first.cached and second.cached
    volatile = {"cached", "total_ms"}
    assert first.model_dump(exclude=volatile) == second.model_dump(exclude=volatile)
    assert second.total_ms < first.total_ms


def test_cache_key_covers_options_arch_headers_and_source(toolchain):
    base = CompileRequest(
        source='#include "v.h"\n' + QUICK.replace("1.0f", "V"), headers={"v.h": "#define V 1.0f"}
    )
    toolchain.compile(base)
    variants = [
        base.model_copy(update={"options": ["-lineinfo"]}),
        base.model_copy(update={"arch": "sm_80"}),
        base.model_copy(update={"headers": {"v.h": "#define V 2.0f"}}),
        base.model_copy(update={"source": base.source + "\n"}),
    ]
    for variant in variants:
        assert not toolchain.compile(variant).cached
    assert toolchain.compile(base.model_copy(update={"block_size": 128})).cached


def test_failed_compiles_are_cached_too(toolchain):
    request = CompileRequest(source=kernel_source("syntax_error.cu"))
    assert not toolchain.compile(request).cached
    again = toolchain.compile(request)
    assert again.cached and not again.ok and again.diagnostics


def test_the_cache_evicts_the_least_recently_used_entry_beyond_its_bound(toolchain, monkeypatch):
    monkeypatch.setenv("KERNEL_SKILLS_COMPILE_CACHE_ENTRIES", "2")
    a, b, c = (CompileRequest(source=QUICK.replace("1.0f", value)) for value in ("1.0f", "2.0f", "3.0f"))
    first = toolchain.compile(a)
    second = toolchain.compile(b)
    assert toolchain.compile(a).cached  # a hit makes `a` the most recently used
    toolchain.compile(c)  # the third entry pushes out the least recently used: `b`

    assert load_cubin(first.compile_id)
    with pytest.raises(RefusedInput, match="expired"):
        load_cubin(second.compile_id)
    assert not toolchain.compile(b).cached


def test_load_cubin_refuses_malformed_and_unknown_ids(toolchain):
    with pytest.raises(RefusedInput, match="32 lowercase hex"):
        load_cubin("../../etc/passwd")
    with pytest.raises(RefusedInput, match="unknown"):
        load_cubin("0" * 32)


def test_concurrent_compiles_from_threads_all_succeed(toolchain):
    sources = [QUICK.replace("1.0f", f"{value}.0f") for value in range(4)]
    results: list[object] = [None] * len(sources)

    def run(index: int) -> None:
        results[index] = toolchain.compile(CompileRequest(source=sources[index]))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(sources))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(result is not None and result.ok for result in results)
    assert len({result.compile_id for result in results}) == len(sources)
