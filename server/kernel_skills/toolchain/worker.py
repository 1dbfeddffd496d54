"""The compile worker process: ``python -P -m kernel_skills.toolchain.worker MEMORY_BYTES [READ_DIR...]``.

It caps its own address space (RLIMIT_AS), loads NVRTC once, warms it up, and, when READ_DIRs are
given, confines its file reads to them with Landlock (``landlock.py``, the include sandbox's third
wall). Then it serves compile requests read from
stdin and answers on the original stdout (fd 1 is pointed at stderr so nothing else can write into
the channel). Frames are a 4-byte big-endian length and a pickle; only ``runner.py`` talks to it.
NVRTC API failures are returned as ``{"api_error": (name, message)}``; the parent translates them.
"""

from __future__ import annotations

import os
import pickle
import resource
import struct
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO


def read_frame(stream: BinaryIO) -> Any:
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    return pickle.loads(stream.read(size))


def write_frame(stream: BinaryIO, payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


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
            "cubin": bytes(cubin),
            "ptx": ptx.rstrip(b"\x00").decode(errors="replace"),
        }
    finally:
        nvrtc.nvrtcDestroyProgram(prog)


def main(argv: list[str]) -> int:
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints (ours or a library's) must not corrupt the channel
    channel_in = sys.stdin.buffer
    memory_bytes = int(argv[0]) if argv else 0
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        from kernel_skills.toolchain.locate import load_nvrtc

        nvrtc = load_nvrtc()
    except Exception as exc:  # reported to the parent, which raises CompileError
        write_frame(channel_out, {"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    read_dirs = [Path(arg) for arg in argv[1:]]
    confined = False
    if read_dirs:
        # Warm up first: NVRTC loads its builtins library and caches on the first compile.
        _compile(
            nvrtc, {"source": "__global__ void warm_up() {}", "name": "w.cu", "headers": {}, "options": []}
        )
        from kernel_skills.toolchain.landlock import restrict_reads

        confined = restrict_reads([*read_dirs, *_python_dirs()])
    write_frame(channel_out, {"ready": True, "pid": os.getpid(), "confined": confined})
    while True:
        request = read_frame(channel_in)
        if request is None:
            return 0
        try:
            reply = _compile(nvrtc, request)
        except _ApiError as exc:
            reply = {"api_error": (exc.name, exc.message)}
        except MemoryError:
            reply = {"api_error": ("MemoryError", "the compiler ran out of memory under the worker's cap")}
        write_frame(channel_out, reply)


def _python_dirs() -> list[Path]:
    """Python's own files stay readable (a late import must not fail); they hold nothing private."""
    dirs = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    dirs |= {Path(entry) for entry in sys.path if entry and Path(entry).is_dir()}
    return sorted(dirs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
