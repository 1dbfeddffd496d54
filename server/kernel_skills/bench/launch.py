"""Launch configuration from a submission: block size, grid and dynamic shared memory.

The grid and shared memory are expressions over the problem's size variables (see ``expr``);
they are parsed once (unknown names refused) and evaluated per shape, then checked against the
H100's launch limits before anything reaches the GPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kernel_skills.bench.expr import Expr, parse_expr
from kernel_skills.errors import RefusedInput

MAX_THREADS_PER_BLOCK = 1024
MAX_BLOCK_DIMS = (1024, 1024, 64)
MAX_GRID_DIMS = (2**31 - 1, 65535, 65535)
MAX_SHARED_BYTES = 227 * 1024  # per block on sm_90 (dynamic + static), above 48 KB only by opt-in
OPT_IN_SHARED_BYTES = 48 * 1024
MAX_REGISTERS_PER_SM = 65536


@dataclass(frozen=True)
class Launch:
    grid: tuple[int, int, int]
    block: tuple[int, int, int]
    shared_mem: int

    @property
    def threads(self) -> int:
        return self.block[0] * self.block[1] * self.block[2]


@dataclass(frozen=True)
class LaunchSpec:
    block: tuple[int, int, int]
    grid: tuple[Expr, Expr, Expr]
    shared_mem: Expr

    def resolve(
        self, sizes: dict[str, int], *, static_shared: int = 0, registers: int | None = None
    ) -> Launch:
        """Evaluate for one shape and check the limits; RefusedInput says which and by how much."""
        where = ", ".join(f"{k}={v}" for k, v in sizes.items())
        grid = tuple(e.evaluate(sizes) for e in self.grid)
        for axis, (value, limit, expr) in enumerate(zip(grid, MAX_GRID_DIMS, self.grid, strict=True)):
            if not 1 <= value <= limit:
                raise RefusedInput(
                    f"grid[{axis}] = {expr.text!r} evaluates to {value} at {where}; it must be in 1..{limit}"
                )
        smem = self.shared_mem.evaluate(sizes)
        if smem < 0 or smem + static_shared > MAX_SHARED_BYTES:
            raise RefusedInput(
                f"shared_mem = {self.shared_mem.text!r} evaluates to {smem} bytes at {where}"
                + (f" (+{static_shared} static)" if static_shared else "")
                + f"; the limit per block is {MAX_SHARED_BYTES} bytes (227 KB) and it cannot be negative"
            )
        launch = Launch(grid=grid, block=self.block, shared_mem=smem)  # type: ignore[arg-type]
        if registers is not None and registers * launch.threads > MAX_REGISTERS_PER_SM:
            raise RefusedInput(
                f"{registers} registers/thread x {launch.threads} threads = {registers * launch.threads} "
                f"registers exceed the {MAX_REGISTERS_PER_SM} per SM: the launch would fail; "
                "use a smaller block "
                "or __launch_bounds__"
            )
        return launch


def parse_block(block: Sequence[int] | int) -> tuple[int, int, int]:
    values = [block] if isinstance(block, int) else list(block)
    if not 1 <= len(values) <= 3 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise RefusedInput(f"block {block!r}: expected 1 to 3 positive integers, e.g. [256] or [32, 8]")
    dims = [*values, 1, 1][:3]
    for axis, (value, limit) in enumerate(zip(dims, MAX_BLOCK_DIMS, strict=True)):
        if not 1 <= value <= limit:
            raise RefusedInput(f"block[{axis}] = {value}: must be in 1..{limit}")
    threads = dims[0] * dims[1] * dims[2]
    if threads > MAX_THREADS_PER_BLOCK:
        raise RefusedInput(f"block {dims} has {threads} threads; at most {MAX_THREADS_PER_BLOCK} per block")
    return dims[0], dims[1], dims[2]


def parse_launch(
    block: Sequence[int] | int, grid: Sequence[str | int], shared_mem: str | int, size_names: Sequence[str]
) -> LaunchSpec:
    names = set(size_names)
    if isinstance(grid, str | int) or not 1 <= len(grid) <= 3:
        raise RefusedInput(
            f'grid {grid!r}: expected a list of 1 to 3 expressions, e.g. ["ceil_div(rows, 4)"] or '
            '["ceil_div(seq_q, 128)", "batch * heads"]'
        )
    exprs = [parse_expr(g, names) for g in grid]
    while len(exprs) < 3:
        exprs.append(parse_expr("1"))
    return LaunchSpec(
        block=parse_block(block),
        grid=(exprs[0], exprs[1], exprs[2]),
        shared_mem=parse_expr(shared_mem, names),
    )


__all__ = [
    "MAX_BLOCK_DIMS",
    "MAX_GRID_DIMS",
    "MAX_SHARED_BYTES",
    "MAX_THREADS_PER_BLOCK",
    "OPT_IN_SHARED_BYTES",
    "Launch",
    "LaunchSpec",
    "parse_block",
    "parse_launch",
]
