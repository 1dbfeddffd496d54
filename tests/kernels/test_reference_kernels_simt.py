"""The reference kernels' values, without a GPU: each kernel's own .cu source runs on the CPU
under the SIMT emulator (tests/kernels/simt/, one thread per CUDA thread, AddressSanitizer on
every buffer) through the benchmark's own correctness harness (`check_shape`: three seeds,
NaN-poisoned outputs, determinism re-run, untouched inputs, the problem's tolerances), with the
launch configuration of solutions.json resolved by the benchmark's own launch parser.

This checks what the kernels compute, for shapes that reach every code path (each dispatch branch,
ragged tails, partial blocks, key masking). It says nothing about speed, and it does not model
memory-ordering races or the GPU's fast-math rounding: the GPU run (tests/bench/test_gpu.py) is
still the final word. Shapes are smaller than the harness's sets where those would take minutes
on two cores; kernel_emu.py checks the index math of the full-size shapes."""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from simt_runner import build_simt, check_on_emulator, failed_comparisons

from kernel_skills.bench.registry import load_registry
from kernel_skills.paths import bundled_kernels_dir

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="the SIMT emulator is built with g++")

KERNELS = bundled_kernels_dir()
SOLUTIONS: dict[str, dict[str, Any]] = json.loads((KERNELS / "solutions.json").read_text(encoding="utf-8"))
REGISTRY = load_registry(use_env=False)
SEEDS = [101, 202, 303]

# Per problem: shapes that together reach every path of the kernel (see the comments).
CASES: dict[str, list[dict[str, int]]] = {
    "rmsnorm": [
        {"rows": 127, "dim": 128},  # ragged set: 16 lanes per row, partial last block
        {"rows": 33, "dim": 136},  # one warp per row with idle lanes
        {"rows": 31, "dim": 512},  # one warp per row, two vectors per lane
        {"rows": 40, "dim": 1000},  # whole block per row, idle threads
        {"rows": 129, "dim": 2048},  # ragged set: whole block per row, one vector per thread
        {"rows": 9, "dim": 4096},  # whole block per row, two vectors per thread
        {"rows": 3, "dim": 8192},  # streaming (second pass re-reads the row)
    ],
    "rmsnorm_noweight": [{"rows": 127, "dim": 128}, {"rows": 33, "dim": 2048}, {"rows": 3, "dim": 5000}],
    "layernorm_modulate": [
        {"batch": 2, "tokens": 17, "dim": 2048},  # rows in registers, one vector per thread
        {"batch": 1, "tokens": 9, "dim": 3072},  # rows in registers, two vectors per thread
        {"batch": 3, "tokens": 9, "dim": 4104},  # streaming
    ],
    "gelu_tanh": [{"n": 1}, {"n": 4103}, {"n": 100003}],  # odd tails, partial vectors and blocks
    "geglu": [{"rows": 5, "dim": 8}, {"rows": 33, "dim": 2560}],
    "rope": [
        {"batch": 1, "heads": 3, "seq": 129, "head_dim": 128},  # ragged set
        {"batch": 2, "heads": 2, "seq": 33, "head_dim": 64},
        {"batch": 1, "heads": 2, "seq": 17, "head_dim": 12},  # not a multiple of 8: per-pair path
    ],
    "attention_hd64": [{"batch": 1, "heads": 2, "seq_q": 127, "seq_kv": 127}],  # ragged set
    "attention_hd128": [
        {"batch": 1, "heads": 2, "seq_q": 129, "seq_kv": 129},  # ragged set
        {"batch": 1, "heads": 1, "seq_q": 127, "seq_kv": 200},  # ragged set: masked last key tile
    ],
}


def test_every_solution_has_simt_cases() -> None:
    assert set(CASES) == set(SOLUTIONS)


@pytest.fixture(scope="session")
def simt_exes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """problem -> runner executable, one build per kernel."""
    workdir = tmp_path_factory.mktemp("simt")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        builds = {
            problem: pool.submit(build_simt, KERNELS / solution["file"], solution["kernel"], workdir)
            for problem, solution in SOLUTIONS.items()
        }
        return {problem: build.result() for problem, build in builds.items()}


@pytest.mark.parametrize(
    ("problem", "sizes"),
    [(p, s) for p, shapes in CASES.items() for s in shapes],
    ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}{n}" for k, n in v.items()),
)
def test_reference_kernel_computes_the_reference_on_the_emulator(
    simt_exes: dict[str, Path], problem: str, sizes: dict[str, int]
) -> None:
    solution = SOLUTIONS[problem]
    report = check_on_emulator(
        simt_exes[problem],
        REGISTRY.get(problem),
        sizes,
        block=solution["block"],
        grid=solution["grid"],
        shared_mem=solution["shared_mem"],
        seeds=SEEDS,
    )
    failures = [c["report"] for c in failed_comparisons(report)]
    assert not failures, failures
    assert len(report["runs"]) == len(SEEDS)
    assert report["inputs_mutated"] == []
    assert report["determinism"]["bitwise_identical"], report["determinism"]
