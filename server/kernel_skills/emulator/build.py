"""Build a kernel's emulator runner with g++, cached.

A runner is two objects linked together: the engine (cpp/runner.cpp, compiled once per engine and
compiler, without instrumentation) and the kernel's unit (cpp/simt.h + the prepared kernel source +
cpp/entry.h, compiled with GCC's ThreadSanitizer instrumentation so that every access calls the
engine's checks; libtsan is never linked). Runners are cached under ``cache_dir`` by the sha256 of
the prepared source, every engine file, ``g++ --version``, the flags and the kernel name.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel_skills.emulator.gxx import gxx_version
from kernel_skills.emulator.protocol import SOURCE_NAME
from kernel_skills.emulator.rewrite import prepare_source
from kernel_skills.errors import CompileError, EmulatorUnsupported, RefusedInput

ENGINE_DIR = Path(__file__).with_name("cpp")
COMMON_FLAGS = ("-std=c++20", "-O1", "-gdwarf-4", "-fno-strict-aliasing", "-fwrapv", "-fno-exceptions", "-w")
KERNEL_FLAGS = (
    *COMMON_FLAGS,
    "-fsanitize=thread",
    "--param",
    "tsan-instrument-func-entry-exit=0",
    "--param",
    "tsan-distinguish-volatile=1",
)
LINK_FLAGS = ("-no-pie", "-Wl,--wrap=memcpy,--wrap=memmove,--wrap=memset")
BUILD_TIMEOUT_S = 180
BUILD_MEMORY_MB = 4096
_KERNEL_NAME = re.compile(r"[A-Za-z_]\w{0,127}")

RunConfined = Callable[
    ..., Any
]  # sandbox.run_confined's signature: (argv, *, workdir, read_only, timeout_s, memory_mb)


@dataclass(frozen=True)
class BuiltRunner:
    exe: Path
    cached: bool
    build_ms: float


def engine_files() -> list[Path]:
    return sorted(p for p in ENGINE_DIR.rglob("*") if p.is_file() and p.suffix in (".h", ".cpp"))


@functools.cache
def _engine_digest() -> str:
    h = hashlib.sha256()
    for p in engine_files():
        h.update(p.relative_to(ENGINE_DIR).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


# The kernel's unit: the prepared source is its own file (kernel.cu), so compiler messages and the
# debug information carry the submission's own name and lines.
UNIT_TEXT = f'#include "simt.h"\n#include "{SOURCE_NAME}"\n#include "entry.h"\n'


class _Runner:
    """Runs one g++ command, confined when the caller gave `run`."""

    def __init__(self, run: RunConfined | None) -> None:
        self.run = run

    def __call__(self, argv: Sequence[str], workdir: Path) -> tuple[int, str]:
        if self.run is not None:
            done = self.run(
                list(argv),
                workdir=workdir,
                read_only=[ENGINE_DIR],
                timeout_s=BUILD_TIMEOUT_S,
                memory_mb=BUILD_MEMORY_MB,
            )
            if done.timed_out:
                raise CompileError(f"g++ did not finish building the emulator runner in {BUILD_TIMEOUT_S} s")
            return done.returncode, done.stderr
        try:
            done = subprocess.run(
                list(argv), cwd=workdir, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise CompileError(
                f"g++ did not finish building the emulator runner in {BUILD_TIMEOUT_S} s"
            ) from exc
        return done.returncode, done.stderr


def _first_errors(stderr: str, workdir: Path, limit: int = 12) -> str:
    text = stderr.replace(str(workdir) + os.sep, "").replace(str(ENGINE_DIR) + os.sep, "<emulator>/")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln]
    return "\n".join((errors or lines)[:limit])


def _engine_object(cache_dir: Path, gxx: str, runner: _Runner) -> Path:
    key = hashlib.sha256(f"{_engine_digest()}\0{gxx}\0{COMMON_FLAGS}".encode()).hexdigest()[:32]
    obj = cache_dir / f"engine-{key}.o"
    if obj.exists():
        return obj
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix="engine-") as tmp:
        work = Path(tmp)
        argv = [
            "g++",
            *COMMON_FLAGS,
            "-O2",
            f"-I{ENGINE_DIR}",
            "-c",
            str(ENGINE_DIR / "runner.cpp"),
            "-o",
            "engine.o",
        ]
        code, stderr = runner(argv, work)
        if code != 0:
            raise CompileError(
                "building the emulator's engine failed (a bug in the emulator):\n"
                + _first_errors(stderr, work)
            )
        _gather_shared(work / "engine.o")  # its shared_guard follows the kernel's variables
        os.replace(work / "engine.o", obj)
    return obj


def build_runner(source: str, kernel: str, *, cache_dir: Path, run: RunConfined | None = None) -> BuiltRunner:
    """The emulator runner for `kernel` in `source`: RefusedInput for what the emulator does not run
    (before compiling) and for a kernel g++ cannot build; CompileError when g++ is missing."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise CompileError(
            f"the CPU emulator runs on x86-64 Linux only (this is {platform.system()} {platform.machine()})"
        )
    if not _KERNEL_NAME.fullmatch(kernel):
        raise RefusedInput(
            f"kernel name {kernel!r} is not a C identifier (letters, digits, '_', at most 128)"
        )
    prepared = prepare_source(source)
    gxx = gxx_version()
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(
        "\0".join(
            [UNIT_TEXT, prepared, _engine_digest(), gxx, " ".join(KERNEL_FLAGS), " ".join(LINK_FLAGS), kernel]
        ).encode()
    ).hexdigest()[:32]
    exe = cache_dir / f"runner-{key}"
    if exe.exists():
        return BuiltRunner(exe=exe, cached=True, build_ms=0.0)
    started = time.perf_counter()
    runner = _Runner(run)
    engine = _engine_object(cache_dir, gxx, runner)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix="build-") as tmp:
        work = Path(tmp)
        (work / "unit.cpp").write_text(UNIT_TEXT, encoding="utf-8")
        (work / SOURCE_NAME).write_text(prepared, encoding="utf-8")
        shutil.copy2(engine, work / "engine.o")
        compile_argv = [
            "g++", *KERNEL_FLAGS, f"-I{ENGINE_DIR / 'include'}", f"-I{ENGINE_DIR}",
            f"-DSIMT_KERNEL={kernel}", "-c", "unit.cpp", "-o", "unit.o",
        ]  # fmt: skip
        code, stderr = runner(compile_argv, work)
        if code != 0:
            raise EmulatorUnsupported(
                f"the emulator cannot build this kernel:\n{_first_errors(stderr, work)}"
            )
        _gather_shared(work / "unit.o")
        _check_object(work / "unit.o")
        code, stderr = runner(["g++", *LINK_FLAGS, "unit.o", "engine.o", "-o", "runner"], work)
        if code != 0:
            raise EmulatorUnsupported(f"the emulator cannot link this kernel:\n{_first_errors(stderr, work)}")
        with contextlib.suppress(FileExistsError):
            os.replace(work / "runner", exe)
    return BuiltRunner(exe=exe, cached=False, build_ms=(time.perf_counter() - started) * 1000)


# Code that would run before the engine's seccomp filter is in place: constructors and dynamic
# initialisers (.init_array/.ctors/.preinit_array), beyond the one the instrumentation adds.
_STARTUP_SECTIONS = re.compile(rb"^\.(?:init_array|preinit_array|ctors|fini_array|dtors)")
_TSAN_CTOR_SECTION = b".init_array.00099"


def _gather_shared(obj: Path) -> None:
    """Rename every block-shared section of `obj` to simt_shared. simt.h's `__shared__` puts a static
    in section .bss.simt_shared (a NOBITS name, so every piece has one type and the linker makes one
    output section), except that GCC gives the statics of templates and inline functions their own
    COMDAT sections `.bss._ZZ<mangled>` regardless (CUDA allows no other mutable function-local
    statics). The new name is a C identifier, so the linker defines __start_simt_shared, and shorter
    than every old one, so the string table is edited in place."""
    data = bytearray(obj.read_bytes())
    changed = False
    for name, _size, name_at in _elf_sections(bytes(data)):
        if name.startswith(b".bss._ZZ") or name == b".bss.simt_shared":
            data[name_at : name_at + len(name)] = b"simt_shared\0".ljust(len(name), b"\0")
            changed = True
    if changed:
        obj.write_bytes(bytes(data))


def _check_object(obj: Path) -> None:
    """RefusedInput when the kernel's object would run code at program start (see _STARTUP_SECTIONS,
    and indirect functions, whose resolvers run while the program is being loaded)."""
    data = obj.read_bytes()
    if _has_ifunc(data):
        raise EmulatorUnsupported(
            "the emulator cannot run this kernel: it defines an indirect function (ifunc), whose resolver "
            "would run at program start"
        )
    sections = _elf_sections(data)
    for name, size, _ in sections:
        if not _STARTUP_SECTIONS.match(name):
            continue
        if name == _TSAN_CTOR_SECTION and size == 8:
            continue
        raise EmulatorUnsupported(
            "the emulator cannot run this kernel: it has code that runs at program start (a global "
            "constructor, or a namespace-scope variable with a dynamic initialiser); initialise globals "
            f"with constants (section {name.decode(errors='replace')})"
        )


def _has_ifunc(data: bytes) -> bool:
    """Whether the ELF64 object's symbol table defines an STT_GNU_IFUNC symbol."""
    import struct

    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    for i in range(shnum):
        _, sh_type, _, _, offset, size, _, _, _, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", data, shoff + i * shentsize
        )
        if sh_type != 2 or entsize < 24:  # SHT_SYMTAB
            continue
        for at in range(offset, offset + size, entsize):
            if data[at + 4] & 0xF == 10:  # st_info: STT_GNU_IFUNC
                return True
    return False


def _elf_sections(data: bytes) -> list[tuple[bytes, int, int]]:
    """(name, size, file offset of the name) of each section of an ELF64 little-endian object."""
    import struct

    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise RefusedInput("the emulator's compiler produced an object that is not ELF64 little-endian")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_offset = headers[shstrndx][4]
    out = []
    for h in headers:
        start = strtab_offset + h[0]
        name = data[start : data.index(b"\0", start)]
        out.append((name, h[5], start))
    return out
