"""The CPU SIMT emulator: correctness verdicts for CUDA kernels without a GPU. No MCP imports.

``dispatch.benchmark(BenchRequest(..., device="emulator"))`` (and ``"auto"`` without a GPU) ends in
``verify`` (exported here, with ``LIMITS`` and ``TIMING_NOTE``). It imports ``bench``'s public names
only, never ``executors`` or ``dispatch`` above it. The parts, one job each:

- ``ptx/``: NVRTC's PTX (from the same compile as ``compile_kernel``, with line info) parsed and
  resolved for one kernel into a pre-decoded program (memory-safe Python; what cannot run is refused
  here, naming the instruction and the submission's line);
- ``engine/``: the C++ engine that executes that program (the project's own code, built once per
  install by ``engine_build``; never per kernel): warps of 32 in lockstep with SIMT stacks that
  reconverge at immediate post-dominators, every access bounds-checked against the emulated spaces,
  the race, initialisation, barrier and warp-collective checks, a thread-instruction budget;
- ``protocol``: the job the engine reads, the bytes it writes back, its reports;
- ``engine_build``: the engine built once per install with g++ (``kernel_skills.gxx``); every engine
  run goes through ``kernel_skills.confine.run_confined`` (Landlock, limits, process group, timeout);
- ``harness``: the benchmark's ``Harness`` with each launch one confined engine run;
- ``verdict``: the ``BenchResult`` with ``verified_on="cpu-emulator"``.

No submitted code is compiled by g++ or run natively: the engine reads the PTX as data, so what NVRTC
compiled (the code a GPU runs) is what is judged; a host-only branch, a constructor or any other host
code in a submission never runs.
"""

from __future__ import annotations

from kernel_skills import lazy

_EXPORTS = {
    "build_engine": "kernel_skills.emulator.engine_build",
    "cached_engine": "kernel_skills.emulator.engine_build",
    "LIMITS": "kernel_skills.emulator.verdict",
    "TIMING_NOTE": "kernel_skills.emulator.verdict",
    "verify": "kernel_skills.emulator.verdict",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy.exports(__name__, _EXPORTS)
