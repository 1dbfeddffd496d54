"""The compile worker process: ``python -P -m kernel_skills.toolchain.worker_main MEMORY MODE READ_DIR...``.

It caps its own address space (RLIMIT_AS), loads NVRTC once, warms it up, and, in MODE ``confine``
(the default; ``unconfined`` only on the explicit opt-out, ``kernel_skills.confine``'s policy),
confines itself to READ_DIRs with ``confine.confine_reads``: a user and mount namespace whose root holds
only them, then Landlock: the include checks' third wall. If neither is available it refuses to serve
(fail closed) and says why. Then it serves compile requests read from
stdin and answers on the original stdout (fd 1 is pointed at stderr so nothing else can write into
the channel). Frames are a 4-byte big-endian length and JSON (``kernel_skills.workerproc``; the
cubin travels base64-encoded);
only ``worker.py`` talks to it.
NVRTC API failures are returned as ``{"api_error": (name, message)}``; the parent translates them.
"""

from __future__ import annotations

import base64
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from kernel_skills.confine import UNCONFINED_REPORT, confine_reads, enter_namespace
from kernel_skills.workerproc import claim_channel, serve, write_frame

CONFINE, UNCONFINED = "confine", "unconfined"  # the MODE argument


class _ApiError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(name, message)
        self.name = name
        self.message = message


def _compile(nvrtc: Any, request: dict) -> dict:
    def check(result: Any, what: str) -> Any:
        status, *rest = result if isinstance(result, tuple) else (result,)
        if status != nvrtc.nvrtcResult.NVRTC_SUCCESS:
            _, text = nvrtc.nvrtcGetErrorString(status)
            raise _ApiError(status.name, f"{what}: {text.decode(errors='replace')}")
        return rest[0] if len(rest) == 1 else rest

    headers: dict[str, str] = request["headers"]
    prog = check(
        nvrtc.nvrtcCreateProgram(
            request["source"].encode(),
            request["name"].encode(),
            len(headers),
            [text.encode() for text in headers.values()],
            [name.encode() for name in headers],
        ),
        "nvrtcCreateProgram",
    )
    try:
        options = [option.encode() for option in request["options"]]
        start = time.perf_counter()
        (status,) = nvrtc.nvrtcCompileProgram(prog, len(options), options)
        nvrtc_ms = (time.perf_counter() - start) * 1000
        size = check(nvrtc.nvrtcGetProgramLogSize(prog), "nvrtcGetProgramLogSize")
        log = b" " * size
        check(nvrtc.nvrtcGetProgramLog(prog, log), "nvrtcGetProgramLog")
        reply: dict[str, Any] = {"log": log.rstrip(b"\x00 ").decode(errors="replace"), "nvrtc_ms": nvrtc_ms}
        if status == nvrtc.nvrtcResult.NVRTC_ERROR_COMPILATION:
            return reply | {"ok": False}
        check((status,), "nvrtcCompileProgram")
        size = check(nvrtc.nvrtcGetCUBINSize(prog), "nvrtcGetCUBINSize")
        cubin = b" " * size
        check(nvrtc.nvrtcGetCUBIN(prog, cubin), "nvrtcGetCUBIN")
        size = check(nvrtc.nvrtcGetPTXSize(prog), "nvrtcGetPTXSize")
        ptx = b" " * size
        check(nvrtc.nvrtcGetPTX(prog, ptx), "nvrtcGetPTX")
        return reply | {
            "ok": True,
            "cubin_b64": base64.b64encode(bytes(cubin)).decode("ascii"),
            "ptx": ptx.rstrip(b"\x00").decode(errors="replace"),
        }
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


def main(argv: list[str]) -> int:
    channel = claim_channel()  # stray prints (ours or a library's) must not corrupt the channel
    memory_bytes, mode, read_dirs = int(argv[0]), argv[1], [Path(arg) for arg in argv[2:]]
    confine = mode == CONFINE
    # The user namespace must be made while this process is still single-threaded.
    namespace_error = enter_namespace() if confine else None
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        from kernel_skills.toolchain.locate import load_nvrtc

        nvrtc = load_nvrtc()
        # Warm up: NVRTC loads its builtins library and caches on the first compile; after the
        # confinement nothing outside the toolkit can be opened (nor imported).
        _compile(
            nvrtc, {"source": "__global__ void warm_up() {}", "name": "w.cu", "headers": {}, "options": []}
        )
    except Exception as exc:  # reported to the parent, which raises CompileError
        write_frame(channel, {"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    walls = confine_reads(read_dirs, namespace_error) if confine else UNCONFINED_REPORT
    if confine and not walls["confined"]:
        write_frame(channel, {"ready": False, "unconfinable": walls["detail"]})
        return 1
    write_frame(channel, {"ready": True, "pid": os.getpid(), "sandbox": walls})
    return serve(channel, lambda request: _answer(nvrtc, request))


def _answer(nvrtc: Any, request: dict) -> dict:
    try:
        return _compile(nvrtc, request)
    except _ApiError as exc:
        return {"api_error": (exc.name, exc.message)}
    except MemoryError:
        return {"api_error": ("MemoryError", "the compiler ran out of memory under the worker's cap")}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
