"""``compile_source``: validate, check includes, compile in the confined worker, analyse, lint, cache."""

from __future__ import annotations

import base64
import subprocess
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kernel_skills import tempdirs
from kernel_skills.errors import CompileError, RefusedInput, server_fault
from kernel_skills.toolchain import cache, includes
from kernel_skills.toolchain.demangle import demangle
from kernel_skills.toolchain.diagnostics import parse_diagnostics
from kernel_skills.toolchain.headers import client_ptx, shim_digest
from kernel_skills.toolchain.lint import LintInput, lint
from kernel_skills.toolchain.locate import toolkit
from kernel_skills.toolchain.models import (
    MAX_HEADERS,
    MAX_SOURCE_BYTES,
    CompileRequest,
    CompileResult,
    KernelReport,
    SassSummary,
)
from kernel_skills.toolchain.occupancy import SMEM_PER_BLOCK_OPTIN, check_block_size, occupancy
from kernel_skills.toolchain.options import check_arch, normalize_options
from kernel_skills.toolchain.resources import parse_param_sizes, parse_ptxas
from kernel_skills.toolchain.sass import summarise
from kernel_skills.toolchain.source_text import code_view
from kernel_skills.toolchain.worker import CompileWorker

_TOOL_TIMEOUT_S = 30.0
# Every compile carries line info: the cached PTX then has ``.loc`` lines (the emulator maps them back
# to source); it changes only ``.loc``/``.file`` in the PTX, not the code. NVRTC's default of
# searching the including file's folder for a quoted include stays on (no ``--no-source-include``):
# toolkit headers need it (``cooperative_groups/details/driver_abi.h`` includes "info.h"). For the
# submission that folder is the worker's empty private folder, and wall 1 refuses any name that is
# not a toolkit or inline header anyway.
ALWAYS_OPTIONS = ("--generate-line-info",)


class Toolchain:
    """One configured compiler and its compile worker: given one, it borrows it; otherwise it starts its
    own on the first compile and ``close`` stops it (a later compile starts a fresh one). A
    ``kernel_skills.runtime.Runtime`` holds the one a server or a CLI command uses; tests build their own
    (a tiny timeout, extra include roots). ``include_guard=False`` exists only to test the other walls
    (log filter, Landlock) on their own; nothing else may turn it off. Extra include roots are checked
    by wall 1 but stay unreadable to a Landlocked worker (it may read the toolkit folders only)."""

    def __init__(
        self,
        *,
        worker: CompileWorker | None = None,
        include_dirs: Sequence[Path] | None = None,
        cache_root: Path | None = None,
        include_guard: bool = True,
    ) -> None:
        self._worker = worker
        self._owned: CompileWorker | None = None
        self._lock = threading.Lock()
        self._include_dirs = tuple(include_dirs) if include_dirs is not None else None
        self._cache_root = cache_root
        self._include_guard = include_guard

    @property
    def worker(self) -> CompileWorker:
        if self._worker is not None:
            return self._worker
        with self._lock:
            if self._owned is None:
                self._owned = CompileWorker()  # no process yet: it starts on its first compile
            return self._owned

    def close(self) -> None:
        """Stop the compile worker this toolchain started (a borrowed one is its owner's to close)."""
        with self._lock:
            owned = self._owned
        if owned is not None:
            owned.close()

    @property
    def include_dirs(self) -> tuple[Path, ...]:
        return self._include_dirs if self._include_dirs is not None else toolkit().include_dirs

    def compile(self, request: CompileRequest) -> CompileResult:
        started = time.perf_counter()
        tk = toolkit()
        arch = check_arch(request.arch, tk.nvrtc_archs)
        options = normalize_options(request.options)
        _check_sizes(request)
        if self._include_guard:
            includes.check_includes(request.source, request.headers, self.include_dirs)
        key = cache.compile_key(
            request.source, request.headers, options, arch, tk.nvrtc_version, shims=shim_digest()
        )
        base = cache.load(key, self._cache_root)
        cached = base is not None
        ptx = None
        if base is None:
            base, cubin, ptx = self._compile_fresh(request, arch, options, tk.nvrtc_version, key)
            cache.store(key, base, cubin, ptx, self._cache_root)
        elif request.want_ptx and base.ok:
            ptx = cache.load_ptx(key, self._cache_root)
        shown = self._client_ptx(ptx, request) if request.want_ptx and ptx is not None else None
        result = finalize(base, request, cached=cached, ptx=shown)
        result.total_ms = round((time.perf_counter() - started) * 1000, 3)
        return result

    def _client_ptx(self, ptx: str, request: CompileRequest) -> str:
        """The cached PTX keeps this machine's header paths (the emulator maps ``.loc`` with them);
        a client gets the names they are included by."""
        return client_ptx(ptx, [includes.SUBMISSION_NAME, *request.headers], self.include_dirs)

    def _compile_fresh(
        self, request: CompileRequest, arch: str, options: list[str], nvrtc_version: str, key: str
    ) -> tuple[CompileResult, bytes | None, str | None]:
        tk = toolkit()
        nvrtc_options = [
            f"--gpu-architecture={arch}",
            "-Xptxas=-v",
            *ALWAYS_OPTIONS,
            *(f"--include-path={path}" for path in self.include_dirs),
            *(option for option in options if option not in ALWAYS_OPTIONS),
        ]
        reply = self.worker.compile(
            {
                "source": request.source,
                "name": includes.SUBMISSION_NAME,
                "headers": dict(request.headers),
                "options": nvrtc_options,
            }
        )
        allowed = [includes.SUBMISSION_NAME, *request.headers]
        log, withheld = includes.filter_log(reply["log"], allowed, self.include_dirs)
        sources = {includes.SUBMISSION_NAME: request.source, **request.headers}
        result = CompileResult(
            ok=bool(reply["ok"]),
            arch=arch,
            compile_id=key if reply["ok"] else None,
            diagnostics=parse_diagnostics(log, sources),
            compile_ms=round(reply["nvrtc_ms"], 3),
            log=log,
            options=options,
            nvrtc_version=nvrtc_version,
            withheld=withheld,
            sandbox=self.worker.sandbox,
        )
        if not reply["ok"]:
            return result, None, None
        cubin = _decode_cubin(reply.get("cubin_b64"))
        kernels, sass = _analyse(cubin, log, tk.cuobjdump, tk.nvdisasm)
        result.kernels, result.sass = kernels, sass
        return result, cubin, reply["ptx"]


def _check_sizes(request: CompileRequest) -> None:
    if len(request.source.encode()) > MAX_SOURCE_BYTES:
        raise RefusedInput(f"source is larger than {MAX_SOURCE_BYTES} bytes")
    if not request.source.strip():
        raise RefusedInput("source is empty: submit CUDA C++ with at least one __global__ kernel")
    if "\x00" in request.source or any("\x00" in text for text in request.headers.values()):
        raise RefusedInput("source and headers must not contain NUL characters")
    if len(request.headers) > MAX_HEADERS:
        raise RefusedInput(f"at most {MAX_HEADERS} inline headers are accepted")
    if sum(len(text.encode()) for text in request.headers.values()) > MAX_SOURCE_BYTES:
        raise RefusedInput(f"inline headers are larger than {MAX_SOURCE_BYTES} bytes in total")
    includes.check_header_names(request.headers)
    if request.block_size is not None:
        check_block_size(request.block_size)
    if request.shared_mem is not None and not 0 <= request.shared_mem <= SMEM_PER_BLOCK_OPTIN:
        raise RefusedInput(
            f"shared_mem {request.shared_mem} is not accepted: use 0 to {SMEM_PER_BLOCK_OPTIN} bytes"
        )


def _analyse(
    cubin: bytes, log: str, cuobjdump: Path, nvdisasm: Path
) -> tuple[list[KernelReport], SassSummary]:
    """Resource report from the log; parameter sizes and SASS from the cubin (both tools run at once)."""
    try:
        with tempdirs.private_dir("cubin") as folder:
            path = Path(folder) / "kernel.cubin"
            path.write_bytes(cubin)
            with ThreadPoolExecutor(max_workers=2) as pool:
                elf_future = pool.submit(_run_tool, [str(cuobjdump), "-elf", str(path)])
                sass_future = pool.submit(_run_tool, [str(nvdisasm), "-c", "-ndf", str(path)])
                elf_dump, disassembly = elf_future.result(), sass_future.result()
    except OSError as exc:
        raise server_fault("could not write the cubin for analysis to the temp folder", exc) from exc
    resources = parse_ptxas(log)
    params = parse_param_sizes(elf_dump)
    kernels = [
        KernelReport(
            name=name,
            demangled=demangle(name),
            extern_c=not name.startswith("_Z"),
            registers=res.registers,
            spill_stores=res.spill_stores,
            spill_loads=res.spill_loads,
            stack_bytes=res.stack_bytes,
            shared_bytes=res.shared_bytes,
            constant_bytes=res.constant_bytes,
            barriers=res.barriers,
            param_sizes=params.get(name),
        )
        for name, res in resources.items()
    ]
    return kernels, summarise(disassembly, [kernel.name for kernel in kernels])


def _run_tool(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=_TOOL_TIMEOUT_S, check=False)
    except OSError as exc:  # the binary vanished, no processes or memory left
        raise server_fault(f"could not run {argv[0]} on the cubin", exc) from exc
    except subprocess.TimeoutExpired as exc:
        why = f"no answer within {_TOOL_TIMEOUT_S:g} s"
        raise CompileError(f"{Path(argv[0]).name} could not run on the cubin: {why}") from exc
    if done.returncode != 0:
        raise CompileError(
            f"{Path(argv[0]).name} failed on the cubin (exit {done.returncode}): "
            f"{done.stderr.decode(errors='replace')[:500]}"
        )
    return done.stdout.decode(errors="replace")


def finalize(base: CompileResult, request: CompileRequest, *, cached: bool, ptx: str | None) -> CompileResult:
    """Add what depends on the request but not the compile: occupancy, lint, PTX, the cached flag."""
    result = base.model_copy(deep=True)
    result.cached = cached
    result.ptx = ptx
    dynamic = request.shared_mem or 0
    for kernel in result.kernels:
        kernel.occupancy = (
            occupancy(kernel.registers, kernel.shared_bytes, request.block_size, dynamic)
            if request.block_size is not None
            else None
        )
    result.lint = lint(
        LintInput(
            source=request.source,
            code=code_view(request.source),
            arch=result.arch,
            kernels=result.kernels,
            sass=result.sass,
            block_size=request.block_size,
            shared_mem=request.shared_mem,
        )
    )
    return result


def compile_source(request: CompileRequest, *, toolchain: Toolchain) -> CompileResult:
    """Compile with ``toolchain`` (a runtime's: its compile worker, toolkit headers, paths.cache_dir())."""
    return toolchain.compile(request)


def load_cubin(compile_id: str) -> bytes:
    """The cubin of an earlier successful compile (RefusedInput if unknown/expired)."""
    return cache.load_cubin(compile_id)


def load_ptx(compile_id: str) -> str:
    """The PTX of an earlier successful compile (RefusedInput if unknown/expired)."""
    cache.load_cubin(compile_id)  # validates the id and that the compile produced code
    ptx = cache.load_ptx(compile_id)
    if ptx is None:
        raise RefusedInput(f"no PTX for compile id {compile_id}: expired (cache cleared); compile again")
    return ptx


def stored_report(compile_id: str) -> CompileResult | None:
    """The report kept for ``compile_id`` (a failed compile's too); None when the cache lacks it."""
    return cache.load(compile_id)


def load_report(compile_id: str) -> CompileResult:
    """The full report of an earlier successful compile (RefusedInput if malformed/unknown/expired)."""
    cache.load_cubin(compile_id)  # validates the id and that the compile produced a cubin
    report = cache.load(compile_id)
    if report is None:
        raise RefusedInput(f"no report for compile id {compile_id}: expired (cache cleared); compile again")
    return report


def _decode_cubin(text: object) -> bytes:
    """The cubin the worker sent (base64 in JSON); anything else means the worker misbehaved."""
    try:
        if not isinstance(text, str):
            raise ValueError("no cubin in the reply")
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise CompileError(f"the compile worker sent a malformed reply ({exc})") from exc
