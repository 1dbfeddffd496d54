"""The engine (``engine/*.cpp``, the project's own C++) built once per install with g++, cached.

No submitted code is ever compiled: the engine is the same binary for every kernel; kernels reach it
as a pre-decoded program (``ptx.build_program``). It is cached under ``cache_dir`` by the sha256 of
its sources, the generated tables header, ``g++ --version`` and the flags, so a new engine or compiler
builds a new one. ``KERNEL_SKILLS_ENGINE_SANITIZE=1`` builds it with AddressSanitizer and
UndefinedBehaviorSanitizer (CI runs the emulator tests once so).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kernel_skills import tempdirs
from kernel_skills.cache_faults import FAULTS
from kernel_skills.emulator.ptx import cpp_header
from kernel_skills.errors import DeviceUnavailable, server_fault
from kernel_skills.gxx import find_gxx, gxx_version

ENGINE_SOURCES = Path(__file__).with_name("engine")
FLAGS = (
    "-std=c++17", "-O2", "-fno-strict-aliasing", "-fwrapv", "-ffp-contract=off", "-frounding-math",
    "-fno-fast-math", "-Wall", "-Wno-missing-field-initializers",
)  # fmt: skip
# the sanitizer runtimes make system calls the engine's seccomp filter forbids (reading /proc to unwind,
# for one): a sanitized engine (CI's second run of the emulator tests) relies on Landlock and rlimits
SANITIZE_FLAGS = (
    "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-g", "-O1", "-DPTXVM_SANITIZED",
)  # fmt: skip
SANITIZE_ENV = "KERNEL_SKILLS_ENGINE_SANITIZE"
BUILD_TIMEOUT_S = 300


@dataclass(frozen=True)
class Engine:
    exe: Path
    cached: bool
    build_ms: float
    sanitized: bool


def sanitized() -> bool:
    return os.environ.get(SANITIZE_ENV) == "1"


def _sources() -> list[Path]:
    return sorted(p for p in ENGINE_SOURCES.iterdir() if p.suffix in (".h", ".cpp"))


@functools.lru_cache(maxsize=4)
def _digest(sanitize: bool) -> str:
    h = hashlib.sha256()
    for p in _sources():
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    h.update(cpp_header().encode())
    h.update(gxx_version().encode())
    h.update(repr((FLAGS, SANITIZE_FLAGS if sanitize else ())).encode())
    return h.hexdigest()[:24]


def cached_engine(cache_dir: Path) -> Path | None:
    """The engine this install would run, if it is built already (None otherwise, or without g++)."""
    try:
        exe = cache_dir / f"ptxvm-{_digest(sanitized())}" / "ptxvm"
    except DeviceUnavailable:
        return None
    return exe if exe.is_file() else None


def build_engine(cache_dir: Path) -> Engine:
    """The engine executable, built now if this install has none (DeviceUnavailable without g++).

    A cache folder that refuses the build (full, read-only) is an optimisation lost, not a failure:
    it is recorded in ``cache_faults.FAULTS`` and the engine is built in a private temp folder kept
    for this process; only when that fails too is it a ``ServerFault``."""
    gxx = find_gxx()
    sanitize = sanitized()
    digest = _digest(sanitize)
    folder = cache_dir / f"ptxvm-{digest}"
    exe = folder / "ptxvm"
    if exe.is_file():
        return Engine(exe, True, 0.0, sanitize)
    with _BUILD_LOCK:  # concurrent requests after a removal wait for one build, not start their own
        if exe.is_file():
            return Engine(exe, True, 0.0, sanitize)
        private = _PRIVATE.get(digest)
        if private is not None and private.exe.is_file():
            return private
        start = time.perf_counter()
        try:
            _build_cached(folder, gxx, sanitize)
        except OSError as exc:
            FAULTS.record("emulator engine", "build", folder, exc)
            return _build_private(digest, gxx, sanitize, start)
        return Engine(exe, False, (time.perf_counter() - start) * 1000, sanitize)


_BUILD_LOCK = threading.Lock()


_PRIVATE: dict[str, Engine] = {}
# what g++ or ld print when the disk, not the source, is the problem
_DISK_ERRORS = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
}


def _build_cached(folder: Path, gxx: Path, sanitize: bool) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ptxvm-build-", dir=folder.parent) as tmp:
        work = Path(tmp)
        _compile(work, gxx, sanitize)
        staged = folder.parent / f".{folder.name}.{os.getpid()}"
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir()
        os.replace(work / "ptxvm", staged / "ptxvm")
        with contextlib.suppress(OSError):
            os.replace(staged, folder)  # another process may have won the race: its engine is the same
        shutil.rmtree(staged, ignore_errors=True)


def _build_private(digest: str, gxx: Path, sanitize: bool, start: float) -> Engine:
    """The engine built in a temp folder of this process's own (removed when it exits)."""
    try:
        work = Path(tempfile.mkdtemp(prefix=tempdirs.prefix("engine")))
    except OSError as exc:
        raise server_fault("could not build the emulator engine: the cache and the temp folder", exc) from exc
    atexit.register(shutil.rmtree, work, True)
    try:
        _compile(work, gxx, sanitize)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise server_fault(f"could not build the emulator engine in {work}", exc) from exc
    engine = Engine(work / "ptxvm", False, (time.perf_counter() - start) * 1000, sanitize)
    _PRIVATE[digest] = engine
    return engine


def _compile(work: Path, gxx: Path, sanitize: bool) -> None:
    """Build ``work/ptxvm``; OSError when the disk refused (g++ or ld said so), DeviceUnavailable
    when g++ failed otherwise."""
    for p in _sources():
        shutil.copy2(p, work / p.name)
    (work / "ptx_tables.h").write_text(cpp_header(), encoding="utf-8")
    flags = [*FLAGS, *(SANITIZE_FLAGS if sanitize else ())]
    cpps = sorted(str(p) for p in work.glob("*.cpp"))
    done = subprocess.run(
        [str(gxx), *flags, "-I", str(work), "-o", str(work / "ptxvm"), *cpps],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False, cwd=work,
    )  # fmt: skip
    if done.returncode == 0:
        return
    for text, code in _DISK_ERRORS.items():
        if text in done.stderr:
            raise OSError(code, os.strerror(code), str(work))
    raise DeviceUnavailable(f"the CPU emulator's engine did not build with g++: {done.stderr[-2000:]}")


__all__ = ["ENGINE_SOURCES", "SANITIZE_ENV", "Engine", "build_engine", "cached_engine", "sanitized"]
