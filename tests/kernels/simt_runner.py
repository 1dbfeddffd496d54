"""Run a CUDA kernel's own source on the CPU through the SIMT emulator (tests/kernels/simt/).

`build_simt(source, kernel, workdir)` compiles the kernel file together with `simt/runner.cpp` into
one executable (with AddressSanitizer and UBSan when the compiler has them); `check_on_emulator(...)`
runs it through the benchmark's own correctness `Harness`, so the reference kernels go through the
same checks a GPU run applies (NaN poison, three seeds, determinism re-run, untouched inputs,
dtype-aware tolerances), with each launch run in a child process that ASan watches.

The one `asm` the reference kernels contain, mma.sync.m16n8k16 (bf16, f32 accumulate), is
rewritten into a call of the emulator's implementation of that instruction.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from kernel_skills.bench.checking import Harness, check_shape
from kernel_skills.bench.launch import Launch, parse_launch
from kernel_skills.bench.spec import Pointer, Problem, Scalar

SIMT_DIR = Path(__file__).resolve().parents[2] / "server" / "kernel_skills" / "emulator" / "cpp"
SANITIZERS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=undefined")
_MMA_ASM = re.compile(
    r'asm\s*(?:volatile\s*)?\(\s*"mma\.sync\.aligned\.m16n8k16\.row\.col\.f32\.bf16\.bf16\.f32\s*"\s*'
    r'"\{%0, %1, %2, %3\}, \{%4, %5, %6, %7\}, \{%8, %9\}, \{%0, %1, %2, %3\};\\n"\s*'
    r":(?P<outs>[^:]*):(?P<ins>[^;]*?)\)\s*;",
    re.S,
)
_OPERAND = re.compile(r'"[+=]?[rf]"\s*\(([^()]*(?:\([^()]*\))?[^()]*)\)')


class SimtFault(RuntimeError):
    """The emulated launch failed: a sanitizer report, an emulator check, or a hang."""


def rewrite_mma_asm(source: str) -> tuple[str, int]:
    """Replace each `mma.sync.m16n8k16 ... bf16 ... f32` asm with the emulator's call; (text, count)."""

    def call(match: re.Match[str]) -> str:
        outs = _OPERAND.findall(match["outs"])
        ins = _OPERAND.findall(match["ins"])
        if len(outs) != 4 or len(ins) != 6:
            raise ValueError(f"unexpected mma operands: outputs {outs}, inputs {ins}")
        return f"simt::mma_m16n8k16_bf16_operands({', '.join(outs + ins)});"

    return _MMA_ASM.subn(call, source)


@functools.cache
def sanitizers_available() -> bool:
    """Whether g++ here can build and run an ASan+UBSan program (libasan/libubsan installed)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "probe.cpp"
        src.write_text("int main() { return 0; }\n")
        exe = Path(tmp) / "probe"
        built = subprocess.run(["g++", *SANITIZERS, str(src), "-o", str(exe)], capture_output=True)
        return built.returncode == 0 and subprocess.run([str(exe)], capture_output=True).returncode == 0


def build_simt(source: Path, kernel: str, workdir: Path) -> Path:
    """Compile `source` (a .cu file) with the emulator and return the runner executable."""
    if shutil.which("g++") is None:
        raise RuntimeError("g++ is needed to build the SIMT emulator")
    text, _ = rewrite_mma_asm(source.read_text(encoding="utf-8"))
    workdir.mkdir(parents=True, exist_ok=True)
    unit = workdir / f"{kernel}.simt.cu"
    unit.write_text(text, encoding="utf-8")
    exe = workdir / f"{kernel}.simt"
    flags = [*(SANITIZERS if sanitizers_available() else ()), "-O1", "-g", "-fno-strict-aliasing"]
    command = [
        "g++", "-std=c++20", *flags, "-Wall", "-Wno-unknown-pragmas", "-pthread",
        f"-I{SIMT_DIR / 'include'}", f"-I{SIMT_DIR}", f"-I{source.parent}",
        f'-DSIMT_SOURCE="{unit}"', f"-DSIMT_KERNEL={kernel}",
        str(SIMT_DIR / "runner.cpp"), "-o", str(exe),
    ]  # fmt: skip
    built = subprocess.run(command, capture_output=True, text=True)
    if built.returncode != 0:
        raise RuntimeError(f"building the SIMT runner for {kernel} failed:\n{built.stderr[-4000:]}")
    return exe


def _job_bytes(problem: Problem, sizes: dict[str, int], launch: Launch, tensors: dict[str, Any]) -> bytes:
    import torch

    parts = [b"SIMT1", struct.pack("<7I", *launch.grid, *launch.block, launch.shared_mem)]
    parts.append(struct.pack("<I", len(problem.abi)))
    values = problem.scalar_values(sizes)
    for p in problem.abi:
        if isinstance(p, Pointer):
            data = tensors[p.name].contiguous().view(-1).view(torch.uint8).numpy().tobytes()
            parts.append(struct.pack("<BQ", 0, len(data)) + data)
        elif isinstance(p, Scalar) and p.ctype == "int":
            parts.append(struct.pack("<Bi", 1, int(values[p.name])))
        else:
            parts.append(struct.pack("<Bf", 2, float(values[p.name])))
    return b"".join(parts)


def run_simt(
    exe: Path,
    problem: Problem,
    sizes: dict[str, int],
    launch: Launch,
    tensors: dict[str, Any],
    *,
    timeout: float,
) -> None:
    """One emulated launch: every pointer's bytes go in, and come back into the same tensors."""
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        job, result = Path(tmp) / "job", Path(tmp) / "out"
        job.write_bytes(_job_bytes(problem, sizes, launch, tensors))
        env = {
            **os.environ,
            "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0",
            "UBSAN_OPTIONS": "print_stacktrace=1",
        }
        try:
            done = subprocess.run(
                [str(exe), str(job), str(result)], capture_output=True, text=True, timeout=timeout, env=env
            )
        except subprocess.TimeoutExpired as exc:
            raise SimtFault(
                f"the emulated launch did not finish in {timeout:.0f} s (a hang or a deadlock)"
            ) from exc
        if done.returncode != 0:
            raise SimtFault(f"the emulated launch failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        data = result.read_bytes()
    offset = 0
    for p in problem.abi:
        if isinstance(p, Pointer):
            tensor = tensors[p.name]
            n = tensor.numel() * tensor.element_size()
            chunk = torch.frombuffer(bytearray(data[offset : offset + n]), dtype=torch.uint8)
            tensor.view(-1).view(torch.uint8).copy_(chunk)
            offset += n
    if offset != len(data):
        raise SimtFault(f"the runner returned {len(data)} bytes, expected {offset}")


def simt_harness(
    exe: Path, problem: Problem, sizes: dict[str, int], launch: Launch, *, timeout: float = 300
) -> Harness:
    """The benchmark's correctness harness, with launches run by the emulator on CPU tensors."""

    def do_launch(inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        run_simt(exe, problem, sizes, launch, {**inputs, **outputs}, timeout=timeout)

    return Harness(problem, dict(sizes), "cpu", do_launch, lambda: None)


def check_on_emulator(
    exe: Path,
    problem: Problem,
    sizes: dict[str, int],
    *,
    block: list[int],
    grid: list[str],
    shared_mem: str = "0",
    seeds: list[int],
    timeout: float = 300,
) -> dict[str, Any]:
    """`check_shape` for one shape, the launch parsed and resolved as a submission's would be."""
    launch = parse_launch(block, grid, shared_mem, problem.size_names).resolve(sizes)
    return check_shape(simt_harness(exe, problem, sizes, launch, timeout=timeout), seeds)


def failed_comparisons(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparisons of a `check_shape` report that did not pass, over every seed."""
    return [c for run in report["runs"] for c in run["comparisons"] if not c["passed"]]
