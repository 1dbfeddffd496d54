"""The host launchers (kernels/*/*_launch.cu) launch each kernel with the grid and block that
kernels/solutions.json registers for it.

The launch configuration is written twice on purpose: solutions.json is read by the benchmark
harness, the launchers are compiled by kernel-builder, and neither can read the other. So the
launchers keep to one shape that this test parses: in the function that launches a kernel,

    const dim3 grid(<expr>[, <expr>[, <expr>]]);
    const dim3 block(<expr>[, ...]);

where each <expr> uses only the problem's int size names, integer literals, the file's
`constexpr int` constants, ceil_div/min/max, + - * and static_cast<...>(...). Each expression is
turned into the solutions.json expression language and both are evaluated on every shape of the
problem plus a set of random sizes; they must agree exactly.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from abi_table import CONTRACT_ABIS, split_params

_CONSTEXPR_RE = re.compile(r"constexpr\s+int\s+(\w+)\s*=\s*(\d+)\s*;")
_CAST_RE = re.compile(r"static_cast<[\w:]+>")


def _size_names(problem: str) -> frozenset[str]:
    return frozenset(
        param.split()[-1] for param in split_params(CONTRACT_ABIS[problem]) if param.startswith("int ")
    )


def _functions(source: str) -> list[str]:
    """Bodies of the top-level functions (a line starting a definition at column 0 up to the
    next `}` at column 0) — the launchers are formatted that way."""
    bodies: list[str] = []
    lines = source.splitlines()
    start: int | None = None
    for i, line in enumerate(lines):
        if start is None and re.match(r"(void|int|static|inline)\b.*\(", line) and not line.endswith(";"):
            start = i
        elif start is not None and line == "}":
            bodies.append("\n".join(lines[start : i + 1]))
            start = None
    return bodies


def _call_args(text: str, opener: str) -> list[str]:
    """Top-level comma-separated arguments of the single `opener(...)` in text."""
    assert text.count(opener) == 1, f"expected exactly one {opener!r} in:\n{text}"
    i = text.index(opener) + len(opener)
    depth, args, current = 1, [], ""
    while depth:
        ch = text[i]
        i += 1
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
        if ch == "," and depth == 1:
            args.append(current)
            current = ""
        else:
            current += ch
    args.append(current)
    return [" ".join(arg.split()) for arg in args]


def _to_solution_expr(cxx: str, constants: dict[str, str]) -> str:
    text = _CAST_RE.sub("", cxx)
    assert "/" not in text, f"use ceil_div, not '/', in launch expressions: {cxx!r}"
    return re.sub(r"\b[A-Za-z_]\w*\b", lambda m: constants.get(m.group(0), m.group(0)), text)


def _launcher_config(kernels_dir: Path, solution: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(grid, block) of the launcher function that launches solution['kernel'], as solutions.json
    expressions padded to three dimensions."""
    kernel_file = kernels_dir / solution["file"]
    launcher = kernel_file.with_name(f"{kernel_file.stem}_launch.cu")
    assert launcher.is_file(), f"no launcher {launcher.name} next to {solution['file']}"
    source = launcher.read_text(encoding="utf-8")
    constants = dict(_CONSTEXPR_RE.findall(source))
    kernel = solution["kernel"]
    bodies = [body for body in _functions(source) if re.search(rf"&{kernel}\b", body)]
    assert len(bodies) == 1, f"{launcher.name}: {len(bodies)} functions launch {kernel}"
    body = bodies[0]
    grid = [_to_solution_expr(arg, constants) for arg in _call_args(body, "const dim3 grid(")]
    block = [_to_solution_expr(arg, constants) for arg in _call_args(body, "const dim3 block(")]
    assert "launch(" in body and re.search(r"\bgrid\s*,\s*block\b", body), (
        f"{launcher.name}: the launch of {kernel} does not pass (grid, block)"
    )
    return grid + ["1"] * (3 - len(grid)), block + ["1"] * (3 - len(block))


def _sizes_to_check(problem: str) -> list[dict[str, int]]:
    names = sorted(_size_names(problem))
    sizes: list[dict[str, int]] = []
    try:
        import importlib

        module = importlib.import_module(f"kernel_skills.bench.problems.{problem}")
        sizes.extend(dict(s) for shapes in module.SHAPES.values() for s in shapes)
    except ModuleNotFoundError:
        pass
    rng = random.Random(problem)
    for _ in range(50):
        sizes.append(
            {name: rng.choice([1, 2, 3, 7, 63, 64, 65, 127, 129, rng.randint(1, 100_000)]) for name in names}
        )
    return sizes


@pytest.mark.parametrize("problem", sorted(CONTRACT_ABIS))
def test_launcher_grid_and_block_agree_with_solutions_json(
    problem: str, solutions: dict[str, Any], kernels_dir: Path
) -> None:
    from kernel_skills.bench.expr import parse_expr

    solution = solutions[problem]
    names = _size_names(problem)
    grid_text, block_text = _launcher_config(kernels_dir, solution)
    launcher_grid = [parse_expr(text, names) for text in grid_text]  # RefusedInput on a foreign name
    launcher_block = [parse_expr(text, names) for text in block_text]
    solution_grid = [parse_expr(text, names) for text in solution["grid"]]
    for sizes in _sizes_to_check(problem):
        assert [e.evaluate(sizes) for e in launcher_grid] == [e.evaluate(sizes) for e in solution_grid], (
            f"{problem}: launcher grid {grid_text} != solutions.json grid {solution['grid']} at {sizes}"
        )
        assert [e.evaluate(sizes) for e in launcher_block] == solution["block"], (
            f"{problem}: launcher block {block_text} != solutions.json block {solution['block']}"
        )


def test_launchers_use_no_dynamic_shared_memory_as_solutions_json_says(
    solutions: dict[str, Any], kernels_dir: Path
) -> None:
    assert {solution["shared_mem"] for solution in solutions.values()} == {"0"}
    launch_h = (kernels_dir / "common" / "launch.h").read_text(encoding="utf-8")
    assert re.search(r"cudaLaunchKernel\(kernel,\s*grid,\s*block,\s*args,\s*0,\s*stream\)", launch_h)


def _kernel_constants(source: str) -> dict[str, int]:
    """The file's `constexpr int NAME = <expr>;` values, each expr over literals and earlier names."""
    values: dict[str, int] = {}
    for name, expr in re.findall(r"constexpr\s+int\s+(\w+)\s*=\s*([^;]+);", source):
        text = re.sub(r"\b[A-Za-z_]\w*\b", lambda m: str(values.get(m.group(0), m.group(0))), expr)
        if re.fullmatch(r"[\d\s*+()-]+", text):
            values[name] = int(eval(text, {"__builtins__": {}}))  # digits and + - * ( ) only
    return values


@pytest.mark.parametrize("problem", sorted(CONTRACT_ABIS))
def test_kernel_is_written_for_the_block_size_solutions_json_launches(
    problem: str, solutions: dict[str, Any], kernels_dir: Path
) -> None:
    """The kernels index with compile-time kThreads and declare __launch_bounds__; a block of
    another size would silently skip or repeat work."""
    solution = solutions[problem]
    threads = solution["block"][0] * solution["block"][1] * solution["block"][2]
    source = (kernels_dir / solution["file"]).read_text(encoding="utf-8")
    bounds = re.search(
        rf"__launch_bounds__\((\d+)[^)]*\)\s+{solution['kernel']}\s*\(", source.replace("\n", " ")
    )
    assert bounds, f"{solution['kernel']} declares no __launch_bounds__"
    assert int(bounds.group(1)) == threads
    assert solution["block"][1:] == [1, 1]  # the kernels use threadIdx.x only
    assert _kernel_constants(source).get("kThreads") == threads
