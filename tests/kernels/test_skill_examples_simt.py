"""The bundled skill teaches with complete kernels; they must compute the right thing. Each worked
example in references/memory-bound-kernels.md runs on the CPU emulator (the PTX NVRTC
compiled, see simt_runner.py) through the benchmark's correctness harness, with the launch the
text tells the agent to use, on shapes that reach each path the text describes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from simt_runner import build_simt, check_on_emulator, failed_comparisons

from kernel_skills.bench.registry import load_registry
from kernel_skills.paths import bundled_skills_dir

REFERENCE = bundled_skills_dir() / "h100-cuda-kernels" / "references" / "memory-bound-kernels.md"
REGISTRY = load_registry(use_env=False)

# problem -> (the grid the text prescribes, shapes: the ragged set plus paths the text describes)
EXAMPLES: dict[str, tuple[str, list[dict[str, int]]]] = {
    "rmsnorm": (
        "ceil_div(rows, 8)",
        [
            {"rows": 129, "dim": 2048},  # a warp per row, the row in registers
            {"rows": 127, "dim": 128},  # 16-lane groups, two rows per warp
            {"rows": 37, "dim": 64},  # 8-lane groups
            {"rows": 19, "dim": 4096},  # long rows: the second pass re-reads the row
        ],
    ),
    # The ragged set's n = 1,000,003 takes a minute here; 100,003 has the same odd tail.
    "gelu_tanh": ("ceil_div(n, 2048)", [{"n": 100003}, {"n": 7}, {"n": 4099}]),
}


def _worked_example(markdown: str, kernel: str) -> str:
    blocks = re.findall(r"```cuda\n(.*?)```", markdown, flags=re.S)
    [source] = [
        b for b in blocks if 'extern "C"' in b and re.search(rf"\b{kernel}\s*\(const __nv_bfloat16", b)
    ]
    return source


@pytest.mark.parametrize("problem", sorted(EXAMPLES))
def test_the_skills_worked_example_is_correct_on_the_emulator(tmp_path: Path, problem: str) -> None:
    markdown = REFERENCE.read_text(encoding="utf-8")
    grid, shapes = EXAMPLES[problem]
    assert f'grid `["{grid}", 1' in " ".join(markdown.split()), (
        "the test's launch is not the one the text gives"
    )
    source = tmp_path / f"{problem}.cu"
    source.write_text(_worked_example(markdown, problem), encoding="utf-8")
    kernel = build_simt(source, problem, tmp_path / "build")
    for sizes in shapes:
        report = check_on_emulator(
            kernel, REGISTRY.get(problem), sizes, block=[256, 1, 1], grid=[grid, "1", "1"], seeds=[7, 8, 9]
        )
        failures = [c["report"] for c in failed_comparisons(report)]
        assert not failures, (sizes, failures)
        assert report["inputs_mutated"] == [] and report["determinism"]["bitwise_identical"], sizes
