"""Every cache is an optimisation, never a failure: a full disk (a real tmpfs), an immutable folder or
a corrupt entry costs only the cache. Compiles are real NVRTC; the emulator's engine is really built."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.cache_faults import FAULTS
from kernel_skills.errors import ServerFault
from kernel_skills.toolchain import CompileRequest, Toolchain, load_cubin, load_ptx
from kernel_skills.toolchain import cache as compile_cache

from .conftest import FullDisk, immutable, my_temp_dirs, needs_emulator

KERNEL = 'extern "C" __global__ void k(float* out, int n) {{ if (threadIdx.x < n) out[0] = {v}f; }}\n'


@pytest.fixture(autouse=True)
def _fresh_faults() -> Iterator[None]:
    FAULTS.clear()
    compile_cache._MEMORY.clear()
    yield
    compile_cache._MEMORY.clear()


def test_a_full_cache_disk_compiles_uncached_and_logs_once(
    full_disk: FullDisk, caplog: pytest.LogCaptureFixture
) -> None:
    chain = Toolchain(cache_root=full_disk.path, worker=RUNTIME.toolchain.worker)
    full_disk.fill()
    with caplog.at_level(logging.WARNING, logger="kernel_skills"):
        results = [chain.compile(CompileRequest(source=KERNEL.format(v=v))) for v in (1.0, 2.0, 3.0)]
    assert all(r.ok and r.compile_id for r in results)
    assert FAULTS.counts() == {"compile write ENOSPC": 3}
    [record] = [r for r in caplog.records if "cache could not write" in r.getMessage()]
    message = record.getMessage()
    assert str(full_disk.path) in message and "ENOSPC (No space left on device)" in message
    # the benchmark and the emulator still find the compile by its id (held in memory)
    assert load_cubin(results[0].compile_id or "")
    assert ".entry k" in (load_ptx(results[0].compile_id or "") or "")
    again = chain.compile(CompileRequest(source=KERNEL.format(v=1.0)))
    assert again.ok and again.compile_id == results[0].compile_id
    assert not [p for p in full_disk.path.rglob("*") if p.is_file() and p.parent != full_disk.path]
    full_disk.free()
    fresh = chain.compile(CompileRequest(source=KERNEL.format(v=4.0)))
    entry = compile_cache.entry_dir(fresh.compile_id or "", full_disk.path)
    assert fresh.ok and (entry / "report.json").is_file()


def test_an_immutable_cache_dir_compiles_uncached(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    with immutable(root):
        result = Toolchain(cache_root=root, worker=RUNTIME.toolchain.worker).compile(
            CompileRequest(source=KERNEL.format(v=5.0))
        )
    assert result.ok and not result.cached
    assert FAULTS.counts() == {"compile write EPERM": 1}


def test_a_corrupt_entry_is_discarded_and_recompiled(tmp_path: Path) -> None:
    chain = Toolchain(cache_root=tmp_path, worker=RUNTIME.toolchain.worker)
    first = chain.compile(CompileRequest(source=KERNEL.format(v=6.0)))
    report = compile_cache.entry_dir(first.compile_id or "", tmp_path) / "report.json"
    report.write_bytes(b'{"ok": true, "arch": "sm_90a", "garbage')
    second = chain.compile(CompileRequest(source=KERNEL.format(v=6.0)))
    assert second.ok and not second.cached and second.compile_id == first.compile_id
    [(fault, count)] = FAULTS.counts().items()
    assert fault.startswith("compile parse ValidationError") and count == 1
    assert chain.compile(CompileRequest(source=KERNEL.format(v=6.0))).cached


def test_a_full_temp_folder_is_a_server_fault_and_leaves_nothing(
    full_disk: FullDisk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = Toolchain(cache_root=tmp_path / "cache", worker=RUNTIME.toolchain.worker)
    chain.compile(CompileRequest(source=KERNEL.format(v=7.0)))  # the worker is up
    monkeypatch.setattr(tempfile, "tempdir", str(full_disk.path))
    full_disk.fill()
    expected = r"cubin for analysis .*ENOSPC \(No space left on device\).*not judged"
    with pytest.raises(ServerFault, match=expected) as caught:
        chain.compile(CompileRequest(source=KERNEL.format(v=8.0)))
    assert caught.value.errno_name == "ENOSPC" and caught.value.exit_code == 6
    assert not [p for p in full_disk.path.iterdir() if not p.name.startswith(".")]
    full_disk.free()
    assert chain.compile(CompileRequest(source=KERNEL.format(v=8.0))).ok
    assert my_temp_dirs() == []


@needs_emulator
@pytest.mark.slow
def test_the_engine_builds_outside_a_full_cache(full_disk: FullDisk) -> None:
    from kernel_skills.emulator.engine_build import build_engine

    full_disk.fill()
    engine = build_engine(full_disk.path / "emulator")
    assert engine.exe.is_file() and not engine.cached
    assert engine.exe.parent.name.startswith("kernel-skills-engine-")
    assert [k for k in FAULTS.counts() if k.startswith("emulator engine build")]
    assert build_engine(full_disk.path / "emulator") == engine  # built once per process
