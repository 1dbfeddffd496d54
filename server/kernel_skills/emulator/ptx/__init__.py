"""NVRTC's PTX -> the engine's pre-decoded program: ``load_program(ptx, kernel)``.

``parse`` reads the PTX text, ``program`` resolves it for one kernel (registers, symbols, labels,
reconvergence points, source lines), ``tables`` is the vocabulary shared with the C++ engine.
Programs are cached in memory by the sha256 of the PTX and the kernel name.
"""

from __future__ import annotations

import functools
import hashlib

from kernel_skills.emulator.ptx.parse import PtxError, only_reachable, parse
from kernel_skills.emulator.ptx.program import Program, Unsupported, build_program, demangle_variable
from kernel_skills.emulator.ptx.tables import cpp_header, region_base


def load_program(ptx: str, kernel: str) -> Program:
    """The encoded program of ``kernel`` in ``ptx`` (PtxError: malformed; Unsupported: not run here)."""
    return _cached(hashlib.sha256(ptx.encode()).hexdigest(), kernel, ptx)


def clear_cache() -> None:
    """Forget every program read so far (the next ``load_program`` parses again)."""
    _cached.cache_clear()


@functools.lru_cache(maxsize=32)
def _cached(digest: str, kernel: str, ptx: str) -> Program:
    del digest  # the key; ptx itself is compared only when digests collide
    return build_program(parse(only_reachable(ptx, kernel)), kernel)


__all__ = [
    "Program",
    "PtxError",
    "Unsupported",
    "build_program",
    "clear_cache",
    "cpp_header",
    "demangle_variable",
    "load_program",
    "parse",
    "region_base",
]
