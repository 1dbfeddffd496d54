"""On-disk compile cache under ``paths.cache_dir()/compile``, keyed on (source, headers, options, arch,
NVRTC version, header shims). An entry is the request-independent report plus the cubin (for the benchmark, by
compile id) and the PTX. Writes are atomic (temp file + rename).

The cache is bounded: a hit refreshes its entry's mtime, and each store evicts the least recently used
entries beyond ``KERNEL_SKILLS_COMPILE_CACHE_ENTRIES`` (default 2000, about 100 MB of typical cubins),
so a long-running server does not fill the disk. An evicted id reads as "expired; compile again".

The cache is an optimisation, never a failure: a read or write that fails (ENOSPC, EACCES, EROFS) is
recorded in ``cache_faults.FAULTS`` (logged once, counted) and the compile goes on; an entry that could
not be written is kept in a small in-memory store instead, so its compile id still serves the
benchmark and the emulator in this process. A corrupt entry is discarded and recompiled."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from kernel_skills import paths
from kernel_skills.cache_faults import FAULTS
from kernel_skills.errors import RefusedInput
from kernel_skills.toolchain.models import CompileResult

SCHEMA = 2  # bump when the stored report changes shape or meaning (2: PTX with line info)
MAX_ENTRIES_ENV = "KERNEL_SKILLS_COMPILE_CACHE_ENTRIES"
DEFAULT_MAX_ENTRIES = 2000
_ID = re.compile(r"[0-9a-f]{32}")
MEMORY_ENTRIES = 64  # entries kept in memory while the disk refuses them
CACHE_NAME = "compile"


@dataclass(frozen=True)
class _Entry:
    result: CompileResult
    cubin: bytes | None
    ptx: str | None


_MEMORY: OrderedDict[str, _Entry] = OrderedDict()
_MEMORY_LOCK = threading.Lock()


def _remembered(key: str) -> _Entry | None:
    with _MEMORY_LOCK:
        entry = _MEMORY.get(key)
        if entry is not None:
            _MEMORY.move_to_end(key)
        return entry


def _remember(key: str, entry: _Entry) -> None:
    with _MEMORY_LOCK:
        _MEMORY[key] = entry
        _MEMORY.move_to_end(key)
        while len(_MEMORY) > MEMORY_ENTRIES:
            _MEMORY.popitem(last=False)


def _unreadable(path: Path, exc: BaseException) -> None:
    if not isinstance(exc, FileNotFoundError):  # a miss is no fault
        FAULTS.record(CACHE_NAME, "read", path, exc)


def compile_key(
    source: str,
    headers: dict[str, str],
    options: list[str],
    arch: str,
    nvrtc_version: str,
    *,
    shims: str = "",
) -> str:
    """``shims``: a digest of the standard-header shims on the include path (they change the output)."""
    blob = json.dumps(
        {
            "shims": shims,
            "schema": SCHEMA,
            "source": source,
            "headers": sorted(headers.items()),
            "options": options,
            "arch": arch,
            "nvrtc": nvrtc_version,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _root(root: Path | None = None) -> Path:
    return (root or paths.cache_dir()) / "compile" / f"v{SCHEMA}"


def entry_dir(key: str, root: Path | None = None) -> Path:
    return _root(root) / key[:2] / key


def load(key: str, root: Path | None = None) -> CompileResult | None:
    """The stored report; None on a miss (also when the entry is unreadable or corrupt: recompile)."""
    if (entry := _remembered(key)) is not None:
        return entry.result
    folder = entry_dir(key, root)
    report = folder / "report.json"
    try:
        result = CompileResult.model_validate_json(report.read_bytes())
    except OSError as exc:
        _unreadable(report, exc)
        return None
    except ValueError as exc:  # a torn or corrupt entry: discarded, recompiled
        FAULTS.record(CACHE_NAME, "parse", report, exc)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    _touch(folder)
    return result


def load_ptx(key: str, root: Path | None = None) -> str | None:
    if (entry := _remembered(key)) is not None:
        return entry.ptx
    path = entry_dir(key, root) / "kernel.ptx"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        _unreadable(path, exc)
        return None


def store(
    key: str, result: CompileResult, cubin: bytes | None, ptx: str | None, root: Path | None = None
) -> bool:
    """Keep an entry; False when the disk refused it (then it is kept in memory, and logged once)."""
    folder = entry_dir(key, root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if cubin is not None:
            _atomic_write(folder / "kernel.cubin", cubin)
        if ptx is not None:
            _atomic_write(folder / "kernel.ptx", ptx.encode())
        _atomic_write(folder / "report.json", result.model_dump_json(exclude={"ptx"}).encode())
    except OSError as exc:
        FAULTS.record(CACHE_NAME, "write", exc.filename or folder, exc)
        shutil.rmtree(folder, ignore_errors=True)  # no half entry to trip over (or fill the disk)
        _remember(key, _Entry(result.model_copy(update={"ptx": None}), cubin, ptx))
        return False
    _touch(folder)
    evict(max_entries(), root)
    return True


def max_entries() -> int:
    text = os.environ.get(MAX_ENTRIES_ENV, "")
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else DEFAULT_MAX_ENTRIES


def evict(keep: int, root: Path | None = None) -> int:
    """Remove the least recently used entries beyond ``keep``; returns how many were removed."""
    entries: list[tuple[float, Path]] = []
    base = _root(root)
    try:
        shards = list(base.iterdir())
    except OSError:
        return 0
    for shard in shards:
        try:
            entries.extend((entry.stat().st_mtime, entry) for entry in shard.iterdir() if entry.is_dir())
        except OSError:
            continue  # a concurrent eviction removed it
    if len(entries) <= keep:
        return 0
    entries.sort(key=lambda item: item[0])
    doomed = entries[: len(entries) - keep]
    for _, entry in doomed:
        shutil.rmtree(entry, ignore_errors=True)
    return len(doomed)


def _touch(folder: Path) -> None:
    # An explicit time keeps the clock's full resolution (the kernel's own "now" is coarse: a store
    # and a hit a few ms later could tie and evict the wrong entry). A concurrent eviction may have
    # removed the folder: then the entry is simply gone next time.
    now = time.time_ns()
    with contextlib.suppress(OSError):
        os.utime(folder, ns=(now, now))


def is_compile_id(text: object) -> bool:
    return isinstance(text, str) and _ID.fullmatch(text) is not None


def has_cubin(compile_id: str, root: Path | None = None) -> bool:
    if not is_compile_id(compile_id):
        return False
    if (entry := _remembered(compile_id)) is not None:
        return entry.cubin is not None
    return (entry_dir(compile_id, root) / "kernel.cubin").is_file()


def load_cubin(compile_id: str, root: Path | None = None) -> bytes:
    """The cubin of a successful compile. RefusedInput if the id is malformed, unknown or expired."""
    if not is_compile_id(compile_id):
        raise RefusedInput(f"compile id {compile_id!r} is not valid: expected 32 lowercase hex digits")
    if (entry := _remembered(compile_id)) is not None and entry.cubin is not None:
        return entry.cubin
    folder = entry_dir(compile_id, root)
    try:
        cubin = (folder / "kernel.cubin").read_bytes()
    except OSError as exc:
        _unreadable(folder / "kernel.cubin", exc)
        raise RefusedInput(
            f"no cubin for compile id {compile_id}: unknown, failed or expired (cache cleared); compile again"
        ) from exc
    _touch(folder)
    return cubin


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
