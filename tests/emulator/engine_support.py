"""What the engine tests share: a gelu_tanh-shaped kernel maker and one runner invocation."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from kernel_skills.bench.launch import Launch
from kernel_skills.bench.spec import Problem
from kernel_skills.emulator.protocol import (
    EXIT_FAULT,
    EngineReport,
    decode_outputs,
    encode_job,
    read_report,
    resolve_report,
)

SIGNATURE = 'extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n)'


def gelu_kernel(body: str, prelude: str = "") -> str:
    """A kernel with gelu_tanh's ABI (const bf16* x, bf16* out, int n) around ``body``."""
    return f"#include <cuda_bf16.h>\n{prelude}\n{SIGNATURE} {{\n{body}\n}}\n"


def run_job(
    exe: Path,
    problem: Problem,
    sizes: dict[str, int],
    launch: Launch,
    tensors: dict[str, Any],
    tmp: Path,
    schedule: int = 0,
) -> tuple[EngineReport | None, subprocess.CompletedProcess[str]]:
    """One launch of a built runner: the engine's report on a detected fault (its lines resolved),
    else None with the outputs decoded back into ``tensors``."""
    job, out, report = tmp / "job", tmp / "out", tmp / "report.json"
    job.write_bytes(encode_job(problem, sizes, launch, tensors, schedule=schedule))
    done = subprocess.run(
        [str(exe), str(job), str(out), str(report)], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode == EXIT_FAULT:
        return resolve_report(read_report(report), exe), done
    assert done.returncode == 0, done.stderr
    decode_outputs(problem, tensors, out.read_bytes())
    return None, done
